package agent

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ProbeOptions say how to probe a site.
type ProbeOptions struct {
	// URL is the site's home URL (from the home option, or --url): an
	// absolute http or https URL. It may carry a query; a fragment is
	// ignored, and user:password@ is sent as HTTP basic auth.
	URL string
	// Paths are extra paths to probe besides the home URL (--probe PATH),
	// e.g. "/wp-login.php". A path is taken from the root of the home URL's
	// host, as in a browser's address bar, not from the home URL's own
	// path: for a site at https://example.com/blog/ give "/blog/wp-login.php".
	// A path may carry a query.
	Paths []string
	// Samples is how many times each URL is requested (--samples K, default
	// 1); any bad sample makes the probe bad.
	Samples int
	// Resolve is an IP to connect to instead of the URL's host (--resolve
	// IP), to reach the origin past a CDN; the URL's host is still sent as
	// Host and as the TLS server name.
	Resolve string
	// Timeout bounds each request, body included (default 30s).
	Timeout time.Duration
	// BadStatus says which statuses make a request bad (default 500–599).
	BadStatus func(status int) bool
}

// Probe limits.
const (
	// DefaultProbeTimeout bounds a request when ProbeOptions.Timeout is zero.
	DefaultProbeTimeout = 30 * time.Second
	// MaxProbeRedirects is how many same-host redirects a request follows.
	MaxProbeRedirects = 5
	// maxProbeBody is how much of a body is read and searched.
	maxProbeBody = 2 << 20
	// cacheBustParam is the query parameter that carries a fresh random
	// value on every request, so no page cache or CDN answers for the site.
	cacheBustParam = "wpfix"
)

// Prober probes a site over HTTP, the way a first-time visitor reaches it:
// a fresh connection per request (no keep-alive, so a connection to a
// worker that was just killed is never reused), no cookies, no proxy from
// the environment, and a cache-busting query parameter on every request.
//
// Redirects to the same host name (any scheme or port) are followed, at
// most MaxProbeRedirects of them; more, or a URL visited twice, is a
// redirect loop and bad. A redirect to another host is not followed: its
// own response is judged (a 301 is not bad by default) and its target
// reported in ProbeResult.Redirect, since the probe was pointed at the
// wrong URL and, with Resolve, the other host would be dialled at the
// wrong IP.
//
// TLS certificates are not verified: a probe sends nothing secret and
// judges the site's health, and an origin behind a CDN (the point of
// Resolve) often has a certificate only the CDN trusts.
//
// A Prober is reusable, but safe for one goroutine at a time.
type Prober struct {
	urls      []*url.URL
	samples   int
	timeout   time.Duration
	badStatus func(int) bool
	client    *http.Client
}

// NewProber checks o and returns a Prober for it. Errors in o are
// ErrBadInput.
func NewProber(o ProbeOptions) (*Prober, error) {
	home, err := url.Parse(o.URL)
	if err != nil || (home.Scheme != "http" && home.Scheme != "https") || home.Host == "" || home.Opaque != "" {
		return nil, badInput(fmt.Errorf("probe URL %q is not an absolute http or https URL; give the site's address, like https://example.com/", redactURL(o.URL)))
	}
	home.Fragment, home.RawFragment = "", ""
	p := &Prober{
		urls:      []*url.URL{home},
		samples:   o.Samples,
		timeout:   o.Timeout,
		badStatus: o.BadStatus,
	}
	for _, path := range o.Paths {
		ref, err := url.Parse(path)
		if err != nil || !strings.HasPrefix(path, "/") || ref.Scheme != "" || ref.Host != "" || strings.HasPrefix(path, "//") {
			return nil, badInput(fmt.Errorf("probe path %q is not a path on the site; give one starting with a single /, like /wp-login.php", path))
		}
		u := *home
		u.Path, u.RawPath, u.RawQuery, u.ForceQuery = ref.Path, ref.RawPath, ref.RawQuery, false
		p.urls = append(p.urls, &u)
	}
	switch {
	case p.samples == 0:
		p.samples = 1
	case p.samples < 0:
		return nil, badInput(fmt.Errorf("probe samples %d is not a count; give 1 or more", o.Samples))
	}
	switch {
	case p.timeout == 0:
		p.timeout = DefaultProbeTimeout
	case p.timeout < 0:
		return nil, badInput(fmt.Errorf("probe timeout %s is negative; give a positive duration, like 30s", o.Timeout))
	}
	if p.badStatus == nil {
		p.badStatus = func(status int) bool { return status >= 500 && status <= 599 }
	}
	var resolve netip.Addr
	if o.Resolve != "" {
		if resolve, err = netip.ParseAddr(o.Resolve); err != nil {
			return nil, badInput(fmt.Errorf("resolve address %q is not an IP address; give the origin's IP, like 203.0.113.7", o.Resolve))
		}
	}
	dialer := &net.Dialer{}
	p.client = &http.Client{
		Transport: &http.Transport{
			Proxy: nil,
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				if resolve.IsValid() {
					_, port, err := net.SplitHostPort(addr)
					if err != nil {
						return nil, err
					}
					addr = net.JoinHostPort(resolve.String(), port)
				}
				return dialer.DialContext(ctx, network, addr)
			},
			DisableKeepAlives: true,
			TLSClientConfig:   &tls.Config{InsecureSkipVerify: true}, // see Prober's doc
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return p, nil
}

// ProbeResult is one probe: every URL × every sample, until the first bad
// request.
type ProbeResult struct {
	// Bad says the site failed the probe.
	Bad bool `json:"bad"`
	// Status is the status of the request that decided the probe (the first
	// bad one, or the last one); 0 when there was no response.
	Status int `json:"status"`
	// Reason says why the probe is bad: "status 502", "critical error
	// page", "PHP fatal error in body", "timeout after 30s", "connection
	// refused", "redirect loop", …; several are joined with ", ".
	Reason string `json:"reason,omitempty"`
	// URL is the request that decided the probe, after any redirects it
	// followed, without the cache-busting parameter or a password.
	URL string `json:"url"`
	// Redirect is where a redirect to another host pointed, when the
	// deciding request ended on one: not followed, so the probe did not see
	// the site; probing that URL instead may be what was meant.
	Redirect string `json:"redirect,omitempty"`
	// Duration is the probe's wall time.
	Duration time.Duration `json:"duration_ns"`
	// Requests counts the HTTP requests made, redirects included.
	Requests int `json:"requests"`
	// Header is the deciding response's header; nil when there was none.
	Header http.Header `json:"-"`
}

// Probe requests every URL Samples times, samples outermost, and stops at
// the first bad request. If ctx ends first the result is bad with reason
// "probe cancelled": it says nothing of the site, and the caller should
// check ctx.Err().
func (p *Prober) Probe(ctx context.Context) ProbeResult {
	start := time.Now()
	var r ProbeResult
	requests := 0
	for range p.samples {
		for _, u := range p.urls {
			r = p.fetch(ctx, u)
			requests += r.Requests
			if r.Bad {
				r.Requests, r.Duration = requests, time.Since(start)
				return r
			}
		}
	}
	r.Requests, r.Duration = requests, time.Since(start)
	return r
}

// fetch requests u, following same-host redirects, and judges the last
// response.
func (p *Prober) fetch(ctx context.Context, u *url.URL) ProbeResult {
	r := ProbeResult{URL: u.Redacted()}
	seen := map[string]bool{}
	for hop := 0; ; hop++ {
		r.URL = u.Redacted()
		if ctx.Err() != nil {
			r.Bad, r.Status, r.Reason = true, 0, "probe cancelled"
			return r
		}
		seen[u.String()] = true
		r.Requests++
		resp, body, err := p.get(ctx, u)
		r.Status, r.Header = 0, nil
		if resp != nil {
			r.Status, r.Header = resp.StatusCode, resp.Header
		}
		switch {
		case err != nil && resp != nil:
			r.Bad, r.Reason = true, fmt.Sprintf("status %d, %s", resp.StatusCode, p.failure(ctx, err))
			return r
		case err != nil:
			r.Bad, r.Reason = true, p.failure(ctx, err)
			return r
		}
		if r.Reason = p.judge(resp.StatusCode, body); r.Reason != "" {
			r.Bad = true
			return r
		}
		next := redirectTarget(resp)
		switch {
		case next == nil:
			return r
		case !strings.EqualFold(next.Hostname(), u.Hostname()) || (next.Scheme != "http" && next.Scheme != "https"):
			r.Redirect = next.Redacted()
			return r
		}
		if next.User == nil && next.Host == u.Host {
			next.User = u.User
		}
		switch {
		case seen[next.String()]:
			r.Bad, r.Reason = true, "redirect loop to "+next.Redacted()
			return r
		case hop == MaxProbeRedirects:
			r.Bad, r.Reason = true, fmt.Sprintf("more than %d redirects", MaxProbeRedirects)
			return r
		}
		u = next
	}
}

// get makes one request of u, with a fresh cache-busting value, and reads
// at most maxProbeBody of the body. A response with a body cut short comes
// back with the error.
func (p *Prober) get(ctx context.Context, u *url.URL) (*http.Response, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, withCacheBust(u).String(), nil)
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("User-Agent", userAgent())
	req.Header.Set("Accept", "text/html,application/xhtml+xml,*/*;q=0.8")
	req.Header.Set("Cache-Control", "no-cache")
	req.Header.Set("Pragma", "no-cache")
	resp, err := p.client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxProbeBody))
	return resp, body, err
}

// judge says why a response is bad, or "" when it is good.
func (p *Prober) judge(status int, body []byte) string {
	var reasons []string
	if p.badStatus(status) {
		reasons = append(reasons, fmt.Sprintf("status %d", status))
	}
	return strings.Join(append(reasons, bodyFailures(body)...), ", ")
}

// bodySignature is a sign, in a page's body, that PHP or WordPress failed
// while making it.
type bodySignature struct {
	reason string
	re     *regexp.Regexp
}

// bodySignatures are what a failed page prints. Only English is known:
// WordPress translates its critical-error message, and a translated page
// is caught by its status 500 alone. WordPress shows its page only while
// no output has been sent; after that, and with display_errors off, a
// fatal truncates the page with status 200 and nothing to see.
var bodySignatures = []bodySignature{
	// WordPress's fatal error handler (class-wp-fatal-error-handler.php):
	// 5.5 and later, with or without the recovery-mode sentences after it;
	// 5.3 and 5.4; 5.2.
	{"critical error page", regexp.MustCompile(`There has been a critical error on (this|your) website`)},
	{"critical error page", regexp.MustCompile(`The site is experiencing technical difficulties\.`)},
	// PHP's display_errors with html_errors on (the default but for the
	// CLI): "<br />\n<b>Fatal error</b>:  Uncaught Error: …".
	{"PHP fatal error in body", regexp.MustCompile(`<b>(Fatal error|Parse error|Recoverable fatal error)</b>: `)},
	// With html_errors off PHP starts the line with the error type:
	// "\nFatal error: Uncaught Error: …"; its log lines, sometimes shown,
	// start with "PHP ".
	{"PHP fatal error in body", regexp.MustCompile(`(?m)^(PHP )?(Fatal error|Parse error|Recoverable fatal error): `)},
}

// bodyFailures lists the reasons, once each, of the signatures body shows.
func bodyFailures(body []byte) []string {
	var reasons []string
	for _, s := range bodySignatures {
		if s.re.Match(body) && (len(reasons) == 0 || reasons[len(reasons)-1] != s.reason) {
			reasons = append(reasons, s.reason)
		}
	}
	return reasons
}

// connectionFailures name the network errors a probe meets most.
var connectionFailures = []struct {
	err    error
	reason string
}{
	{syscall.ECONNREFUSED, "connection refused"},
	{syscall.ECONNRESET, "connection reset"},
	{syscall.EHOSTUNREACH, "host unreachable"},
	{syscall.ENETUNREACH, "network unreachable"},
	{io.ErrUnexpectedEOF, "connection closed before a full response"},
	{io.EOF, "connection closed before a full response"},
}

// failure says why a request got no (full) response. The request's URL,
// which holds the cache-busting value, is left out.
func (p *Prober) failure(ctx context.Context, err error) string {
	if ctx.Err() != nil {
		return "probe cancelled"
	}
	var nerr net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &nerr) && nerr.Timeout()) {
		return fmt.Sprintf("timeout after %s", p.timeout)
	}
	if reason, ok := knownNetFailure(err); ok {
		return reason
	}
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = uerr.Err
	}
	return err.Error()
}

// knownNetFailure names the network errors met most: a name that does
// not resolve, and those of connectionFailures.
func knownNetFailure(err error) (string, bool) {
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return fmt.Sprintf("cannot resolve host %s: %s", dnsErr.Name, dnsErr.Err), true
	}
	for _, f := range connectionFailures {
		if errors.Is(err, f.err) {
			return f.reason, true
		}
	}
	return "", false
}

// redirectTarget returns where a redirect response points, or nil.
func redirectTarget(resp *http.Response) *url.URL {
	switch resp.StatusCode {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
	default:
		return nil
	}
	next, err := resp.Location()
	if err != nil {
		return nil
	}
	next.Fragment, next.RawFragment = "", ""
	next.RawQuery = stripCacheBust(next.RawQuery)
	return next
}

// withCacheBust returns u with a fresh random cache-busting parameter added
// to its query, replacing any it had.
func withCacheBust(u *url.URL) *url.URL {
	c := *u
	q := stripCacheBust(u.RawQuery)
	if q != "" {
		q += "&"
	}
	c.RawQuery = q + cacheBustParam + "=" + hex.EncodeToString(randomBytes(8))
	c.ForceQuery = false
	return &c
}

// stripCacheBust removes the cache-busting parameter from a raw query,
// leaving the rest as it was written.
func stripCacheBust(rawQuery string) string {
	if rawQuery == "" {
		return ""
	}
	var keep []string
	for part := range strings.SplitSeq(rawQuery, "&") {
		key, _, _ := strings.Cut(part, "=")
		if key != cacheBustParam {
			keep = append(keep, part)
		}
	}
	return strings.Join(keep, "&")
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b) // never fails, per crypto/rand
	return b
}

// redactURL hides a password in a URL, even one that does not parse.
func redactURL(s string) string {
	if u, err := url.Parse(s); err == nil {
		return u.Redacted()
	}
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return s
	}
	authority, path, _ := strings.Cut(rest, "/")
	if i := strings.LastIndex(authority, "@"); i >= 0 {
		user, _, hasPassword := strings.Cut(authority[:i], ":")
		if hasPassword {
			s = scheme + "://" + user + ":xxxxx" + authority[i:]
			if strings.Contains(rest, "/") {
				s += "/" + path
			}
		}
	}
	return s
}

// userAgent names wpfix and its module version to the site, so its logs
// show what is probing it.
var userAgent = sync.OnceValue(func() string {
	v := "devel"
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		v = bi.Main.Version
	}
	return "wpfix/" + v + " (+https://github.com/wpfix/wpfix)"
})
