package agent

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
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
	"unicode"
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
	// maxProbeBody is how much of a body is read and searched for the
	// signs of a failure (bodySignatures).
	maxProbeBody = 2 << 20
	// maxProbePage is how much of an HTML page is read to see its end: past
	// maxProbeBody the rest is read but only its last probeTail bytes are
	// kept. A page longer than this is not judged on its end, which wpfix
	// did not see.
	maxProbePage = 64 << 20
	// probeTail is how much of a page's end is kept to find its </html>.
	probeTail = 64 << 10
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
	// page", "PHP fatal error in body", "empty page (white screen)", "page
	// cut off: no </html>", "timeout after 30s", "connection refused",
	// "redirect loop", …; several are joined with ", ".
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
		resp, page, err := p.getPage(ctx, u, true)
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
		if r.Reason = p.judge(resp, page); r.Reason != "" {
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
	resp, page, err := p.getPage(ctx, u, false)
	return resp, page.head, err
}

// getPage makes one request of u, as get does. With toEnd, an HTML page
// (by its Content-Type) is read on to its end, up to maxProbePage, so
// that whether it ends as a page does is known.
func (p *Prober) getPage(ctx context.Context, u *url.URL, toEnd bool) (*http.Response, probePage, error) {
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, withCacheBust(u).String(), nil)
	if err != nil {
		return nil, probePage{}, err
	}
	req.Header.Set("User-Agent", userAgent())
	req.Header.Set("Accept", "text/html,application/xhtml+xml,*/*;q=0.8")
	req.Header.Set("Cache-Control", "no-cache")
	req.Header.Set("Pragma", "no-cache")
	resp, err := p.client.Do(req)
	if err != nil {
		return nil, probePage{}, err
	}
	defer resp.Body.Close()
	page, err := readPage(resp.Body, toEnd && isHTML(resp.Header))
	return resp, page, err
}

// probePage is what a probe keeps of a body.
type probePage struct {
	// head is the body's first maxProbeBody bytes.
	head []byte
	// end is the body's last probeTail bytes (or all of it, when it fits in
	// head); nil when the body was not read on to its end.
	end []byte
	// blank says the body, as far as it was read, holds nothing but white
	// space and byte order marks: nothing a browser would show.
	blank bool
	// whole says the body was read to its end.
	whole bool
}

// readPage reads a body's head and, with toEnd, the rest of it up to
// maxProbePage, keeping only its end.
func readPage(r io.Reader, toEnd bool) (probePage, error) {
	head, err := io.ReadAll(io.LimitReader(r, maxProbeBody))
	page := probePage{head: head, blank: isBlank(head)}
	if err != nil || !toEnd {
		return page, err
	}
	if len(head) < maxProbeBody {
		page.end, page.whole = head, true
		return page, nil
	}
	// Past the head: read on, keeping the last probeTail bytes (those of
	// the head first, so a </html> across the boundary is seen).
	end := make([]byte, 0, 2*probeTail)
	end = append(end, head[len(head)-probeTail:]...)
	rest := io.LimitReader(r, maxProbePage-maxProbeBody+1)
	buf := make([]byte, 32<<10)
	read := 0
	for {
		n, rerr := rest.Read(buf)
		read += n
		if n > 0 && page.blank {
			page.blank = isBlank(buf[:n])
		}
		if len(end)+n > cap(end) {
			keep := end[len(end)-max(0, probeTail-n):]
			end = append(end[:0], keep...)
		}
		end = append(end, buf[:n]...)
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return page, rerr
		}
	}
	if read > maxProbePage-maxProbeBody {
		return page, nil // longer than maxProbePage: its end was not seen
	}
	if len(end) > probeTail {
		end = end[len(end)-probeTail:]
	}
	page.end, page.whole = end, true
	return page, nil
}

// isBlank says b shows nothing: it holds only white space and byte order
// marks (a white screen is often a stray BOM before an exit).
func isBlank(b []byte) bool {
	return len(bytes.TrimFunc(b, func(r rune) bool { return unicode.IsSpace(r) || r == '\ufeff' })) == 0
}

// isHTML says the header announces an HTML page.
func isHTML(h http.Header) bool {
	mt, _, err := mime.ParseMediaType(h.Get("Content-Type"))
	return err == nil && mt == "text/html"
}

// judge says why a response is bad, or "" when it is good.
func (p *Prober) judge(resp *http.Response, page probePage) string {
	var reasons []string
	bad := p.badStatus(resp.StatusCode)
	if bad {
		reasons = append(reasons, fmt.Sprintf("status %d", resp.StatusCode))
	}
	reasons = append(reasons, bodyFailures(page.head)...)
	if reason := pageFailure(resp, page, bad); reason != "" {
		reasons = append(reasons, reason)
	}
	return strings.Join(reasons, ", ")
}

// pageFailure says why an HTML page is not a whole page: empty (the white
// screen of death: PHP stopped, or a plugin threw the page away, before
// anything was sent), or cut off before its </html> (a fatal error after
// the output had started, with display_errors off: WordPress's handler
// stays silent then, and the status stays 200). Only a page is judged so:
// an answer to a HEAD, a 1xx, 204, 205, 206 or 3xx has no page to judge,
// and a 4xx or 5xx is judged by its status alone unless that status is
// already bad, when an empty body is a white screen worth naming. JSON,
// feeds and any other type are not pages. A page longer than maxProbePage
// is not judged on its end.
func pageFailure(resp *http.Response, page probePage, badStatus bool) string {
	s := resp.StatusCode
	switch {
	case resp.Request != nil && resp.Request.Method == http.MethodHead,
		s == http.StatusNoContent, s == http.StatusResetContent, s == http.StatusPartialContent,
		s < 200, s >= 300 && s < 400, s >= 400 && !badStatus,
		!isHTML(resp.Header):
		return ""
	case page.blank && page.whole:
		return "empty page (white screen)"
	case page.whole && !htmlClosed(page.end):
		return "page cut off: no </html>"
	}
	return ""
}

// htmlClosed says an HTML page's end closes it: a </html> (in any case,
// with white space before its >) followed by nothing but white space and
// comments (a cache plugin's "<!-- generated in 0.2s -->", nginx's
// padding), the last of which may be left open. It reads the page from its
// end, so what the page holds before (a "</html>" or a "<!--" in a script)
// does not matter.
func htmlClosed(b []byte) bool {
	for {
		b = bytes.TrimRight(b, htmlSpace)
		if bytes.HasSuffix(b, []byte("-->")) {
			start := bytes.LastIndex(b[:len(b)-3], []byte("<!--"))
			if start < 0 {
				return false
			}
			b = b[:start]
			continue
		}
		if start := bytes.LastIndex(b, []byte("<!--")); start >= 0 && !bytes.Contains(b[start+4:], []byte("-->")) {
			b = b[:start] // a comment open at the end
			continue
		}
		break
	}
	b, ok := bytes.CutSuffix(b, []byte(">"))
	b = bytes.TrimRight(b, htmlSpace)
	return ok && len(b) >= len("</html") && bytes.EqualFold(b[len(b)-len("</html"):], []byte("</html"))
}

// htmlSpace is HTML's ASCII white space.
const htmlSpace = " \t\n\f\r"

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
// fatal truncates the page with status 200 and nothing to see: pageFailure
// catches that page by its missing </html>.
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
