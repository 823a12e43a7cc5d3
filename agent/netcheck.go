package agent

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// This file holds the network checks of wpfix diagnose: which CDN answers
// for a site, what DNS says of its host name, and what its TLS certificate
// says. Each check reports what went wrong in its Error field rather than
// returning an error, so a report can show every check side by side.

// CDN is a CDN or reverse proxy seen in front of a site: the site's own
// server is not what answered, so a cached page, a CDN's own error page or
// a firewall rule may be what a visitor sees, and --resolve reaches the
// origin past it.
type CDN struct {
	// Name is the CDN's or proxy's name: "Cloudflare", "Fastly",
	// "Amazon CloudFront", "Akamai", "Sucuri", "BunnyCDN", "KeyCDN",
	// "Azure Front Door", "Google Cloud CDN", "StackPath", "Imperva",
	// "QUIC.cloud" or "Varnish".
	Name string `json:"name"`
	// Evidence is the header that said so, as "name: value", the name in
	// lower case, the value cleaned of control characters and cut to
	// maxEvidenceValue characters: "cf-ray: 8a1b2c3d4e5f6a7b-FRA".
	Evidence string `json:"evidence"`
}

// cdnRule recognises a CDN by one response header.
type cdnRule struct {
	// header is the header's name in lower case; a trailing "*" matches
	// every name with that prefix.
	header string
	// value must match one of the header's values; nil matches any value,
	// the header's presence being enough.
	value *regexp.Regexp
	// name is the CDN's name.
	name string
}

// valueRE compiles a case-insensitive value pattern for cdnRules.
func valueRE(pattern string) *regexp.Regexp { return regexp.MustCompile("(?i)" + pattern) }

// cdnRules are the headers CDNs and caching proxies add to responses, in the
// order they are tried: headers only one CDN sends first, then headers
// several send in part (Via, X-Varnish: Fastly, and some Varnish set-ups
// behind other CDNs, run Varnish). The first match wins.
var cdnRules = []cdnRule{
	// Cloudflare: a Ray ID on every response it passes, its own Server.
	{"cf-ray", nil, "Cloudflare"},
	{"cf-cache-status", nil, "Cloudflare"},
	{"server", valueRE(`^cloudflare`), "Cloudflare"},
	// Sucuri's firewall: X-Sucuri-ID names the node.
	{"x-sucuri-id", nil, "Sucuri"},
	{"x-sucuri-cache", nil, "Sucuri"},
	{"server", valueRE(`^sucuri`), "Sucuri"},
	// Imperva (Incapsula).
	{"x-iinfo", nil, "Imperva"},
	{"x-cdn", valueRE(`incapsula|imperva`), "Imperva"},
	// QUIC.cloud, LiteSpeed's CDN.
	{"x-qc-pop", nil, "QUIC.cloud"},
	{"x-qc-cache", nil, "QUIC.cloud"},
	// Amazon CloudFront: a request ID, its POP, "(CloudFront)" in Via.
	{"x-amz-cf-id", nil, "Amazon CloudFront"},
	{"x-amz-cf-pop", nil, "Amazon CloudFront"},
	{"via", valueRE(`cloudfront`), "Amazon CloudFront"},
	{"x-cache", valueRE(`from cloudfront`), "Amazon CloudFront"},
	// Fastly: a request ID, and its cache nodes in X-Served-By
	// ("cache-fra-eddf8230100-FRA"); it also sends "Via: 1.1 varnish".
	{"x-fastly-request-id", nil, "Fastly"},
	{"fastly-debug-digest", nil, "Fastly"},
	{"x-served-by", valueRE(`(^|[\s,])cache-[a-z]{3}`), "Fastly"},
	// Akamai: its Server on its own responses, its Akamai-* and
	// X-Akamai-* headers on others.
	{"server", valueRE(`^akamai`), "Akamai"},
	{"x-akamai-*", nil, "Akamai"},
	{"akamai-*", nil, "Akamai"},
	// BunnyCDN: "BunnyCDN-DE1-1052" names the edge.
	{"server", valueRE(`^bunnycdn`), "BunnyCDN"},
	{"cdn-pullzone", nil, "BunnyCDN"},
	{"cdn-requestid", nil, "BunnyCDN"},
	// KeyCDN.
	{"server", valueRE(`^keycdn`), "KeyCDN"},
	// Azure Front Door and Azure CDN from Microsoft.
	{"x-azure-ref", nil, "Azure Front Door"},
	{"x-msedge-ref", nil, "Azure Front Door"},
	// StackPath (formerly Highwinds): X-HW lists the edges.
	{"x-hw", nil, "StackPath"},
	// Google Cloud CDN and its load balancer: "Via: 1.1 google".
	{"via", valueRE(`(^|[\s,])1\.[01] google\b`), "Google Cloud CDN"},
	// Varnish, on its own or in front of the site: generic, so last.
	{"x-varnish", nil, "Varnish"},
	{"via", valueRE(`\bvarnish\b`), "Varnish"},
}

// maxEvidenceValue is how many characters of a header's value CDN.Evidence
// keeps.
const maxEvidenceValue = 80

// DetectCDN names the CDN or caching proxy whose headers a response
// carries, or returns nil when it recognises none: a response from the
// site's own server, or from a CDN it does not know. The rules are a table
// (cdnRules) tried in order, the first match winning. Header names are
// matched in any case, so a header built by hand or copied from HTTP/2
// (lower-case keys, not canonical) is read as well as one from net/http.
func DetectCDN(h http.Header) *CDN {
	// Index the values by lower-case name; keys that differ only in case
	// are merged in sorted order, so the result does not depend on the
	// map's order.
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	values := make(map[string][]string, len(h))
	var names []string
	for _, k := range keys {
		name := strings.ToLower(strings.TrimSpace(k))
		if _, ok := values[name]; !ok {
			names = append(names, name)
		}
		values[name] = append(values[name], h[k]...)
	}
	slices.Sort(names)

	for _, r := range cdnRules {
		if prefix, ok := strings.CutSuffix(r.header, "*"); ok {
			for _, name := range names {
				if strings.HasPrefix(name, prefix) {
					if v, ok := matchValue(values[name], r.value); ok {
						return &CDN{Name: r.name, Evidence: evidence(name, v)}
					}
				}
			}
			continue
		}
		if v, ok := matchValue(values[r.header], r.value); ok {
			return &CDN{Name: r.name, Evidence: evidence(r.header, v)}
		}
	}
	return nil
}

// matchValue returns the first of vs that re matches; a nil re matches the
// first value. It reports false when there is no value or none matches.
func matchValue(vs []string, re *regexp.Regexp) (string, bool) {
	for _, v := range vs {
		if re == nil || re.MatchString(v) {
			return v, true
		}
	}
	return "", false
}

// evidence formats a header as CDN.Evidence shows it.
func evidence(name, value string) string {
	return name + ": " + cleanHeaderValue(value, maxEvidenceValue)
}

// cleanHeaderValue makes a header value, written by whoever runs the server
// or sits between it and us, safe to print on a terminal and short:
// control characters (escape sequences among them), line and paragraph
// separators, bidirectional controls and invalid UTF-8 become U+FFFD, and
// a value longer than limit characters is cut, with "…" after it.
func cleanHeaderValue(s string, limit int) string {
	s = strings.TrimSpace(s)
	var b strings.Builder
	n := 0
	for i := 0; i < len(s); {
		if n == limit {
			b.WriteString("…")
			break
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == utf8.RuneError && size <= 1,
			unicode.IsControl(r), r == '\u2028', r == '\u2029', unicode.Is(unicode.Bidi_Control, r):
			b.WriteRune(utf8.RuneError)
		default:
			b.WriteRune(r)
		}
		n++
	}
	return b.String()
}

// DNSCheck is what the resolver says of a site's host name, compared with
// the addresses the site is expected at (the origin's, or the CDN's).
type DNSCheck struct {
	// Host is the host name looked up, as given.
	Host string `json:"host"`
	// Addrs are the addresses the name resolves to, sorted (IPv4 first),
	// each once. For an IP literal Host it is that address.
	Addrs []string `json:"addrs,omitempty"`
	// CNAME is the canonical name the resolver reports, without the final
	// dot, when it differs from Host: the CDN or host the name points at.
	CNAME string `json:"cname,omitempty"`
	// Error says why the name did not resolve, shortly: "no such host",
	// "timeout", "lookup cancelled", "no addresses", or the resolver's own
	// words ("server misbehaving").
	Error string `json:"error,omitempty"`
	// Expected are the addresses the site should resolve to, as given,
	// IP addresses written in their canonical form.
	Expected []string `json:"expected,omitempty"`
	// Unexpected lists the resolved addresses not in Expected, and Missing
	// those of Expected not resolved; both are empty when Expected is, or
	// when the name did not resolve (Error says why).
	Unexpected []string `json:"unexpected,omitempty"`
	Missing    []string `json:"missing,omitempty"`
	// IsIP says the URL's host is an IP literal: nothing was resolved.
	IsIP bool `json:"is_ip,omitempty"`
}

// Resolver is what CheckDNS needs of a *net.Resolver, so a test can supply
// its answers.
type Resolver interface {
	LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error)
	LookupCNAME(ctx context.Context, host string) (string, error)
}

var _ Resolver = (*net.Resolver)(nil)

// CheckDNS looks host up with r (net.DefaultResolver when nil): its
// addresses and its canonical name. When expect is given (IP addresses, as
// from --resolve or the host's own addresses) it also says which resolved
// addresses were not expected and which expected ones were missing, the
// signs of a DNS change not yet made, not yet propagated, or pointing at
// the wrong server. A host that is an IP literal is not looked up.
//
// The canonical name is asked for even when the addresses could not be
// found: a CNAME left pointing at a deleted CDN or host is a common cause
// of "no such host". Its own failure is not reported.
//
// Bound the lookups with ctx; CheckDNS sets no timeout of its own.
func CheckDNS(ctx context.Context, r Resolver, host string, expect []string) DNSCheck {
	if r == nil {
		r = net.DefaultResolver
	}
	c := DNSCheck{Host: host}
	for _, e := range expect {
		c.Expected = append(c.Expected, canonicalIP(e))
	}
	name := strings.TrimSuffix(strings.TrimSuffix(strings.TrimPrefix(host, "["), "]"), ".")
	if name == "" {
		c.Error = "no host name"
		return c
	}
	if ip, err := netip.ParseAddr(name); err == nil {
		c.IsIP = true
		c.Addrs = []string{ip.Unmap().String()}
		c.compare()
		return c
	}

	ipAddrs, err := r.LookupIPAddr(ctx, name)
	if cname, cerr := r.LookupCNAME(ctx, name); cerr == nil {
		cname = strings.TrimSuffix(cname, ".")
		if cname != "" && !strings.EqualFold(cname, name) {
			c.CNAME = cname
		}
	}
	switch {
	case err != nil:
		c.Error = dnsFailure(ctx, err)
		return c
	case len(ipAddrs) == 0:
		c.Error = "no addresses"
		return c
	}
	addrs := make([]netip.Addr, 0, len(ipAddrs))
	for _, a := range ipAddrs {
		ip, ok := netip.AddrFromSlice(a.IP)
		if !ok {
			continue
		}
		addrs = append(addrs, ip.Unmap().WithZone(a.Zone))
	}
	slices.SortFunc(addrs, netip.Addr.Compare)
	addrs = slices.Compact(addrs)
	for _, a := range addrs {
		c.Addrs = append(c.Addrs, a.String())
	}
	c.compare()
	return c
}

// compare fills Unexpected and Missing from Addrs and Expected.
func (c *DNSCheck) compare() {
	if len(c.Expected) == 0 {
		return
	}
	for _, a := range c.Addrs {
		if !slices.Contains(c.Expected, a) {
			c.Unexpected = append(c.Unexpected, a)
		}
	}
	for _, e := range c.Expected {
		if !slices.Contains(c.Addrs, e) && !slices.Contains(c.Missing, e) {
			c.Missing = append(c.Missing, e)
		}
	}
}

// canonicalIP writes an IP address as CheckDNS writes resolved ones (an
// IPv4-mapped IPv6 address as IPv4); anything else is returned trimmed.
func canonicalIP(s string) string {
	s = strings.TrimSpace(s)
	if ip, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")); err == nil {
		return ip.Unmap().String()
	}
	return s
}

// dnsFailure says shortly why a lookup failed.
func dnsFailure(ctx context.Context, err error) string {
	var dnsErr *net.DNSError
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return "timeout"
	case ctx.Err() != nil:
		return "lookup cancelled"
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		return "no such host"
	case errors.As(err, &dnsErr) && dnsErr.IsTimeout:
		return "timeout"
	case errors.As(err, &dnsErr):
		return dnsErr.Err
	}
	return err.Error()
}

// TLSCheck is what a site's TLS certificate says: whom it is for, who
// issued it, when it expires, and whether a browser would trust it.
type TLSCheck struct {
	// Addr is what was dialled, host:port.
	Addr string `json:"addr"`
	// ServerName is the name sent as SNI and verified against the
	// certificate.
	ServerName string `json:"server_name"`
	// Subject and Issuer are the leaf certificate's, in RFC 2253 form:
	// "CN=example.com", "CN=R11,O=Let's Encrypt,C=US".
	Subject string `json:"subject,omitempty"`
	Issuer  string `json:"issuer,omitempty"`
	// DNSNames are the names the leaf certificate is for.
	DNSNames []string `json:"dns_names,omitempty"`
	// NotAfter is when the leaf certificate expires.
	NotAfter time.Time `json:"not_after,omitzero"`
	// DaysLeft is how many whole days are left until NotAfter: 0 in its
	// last day, negative once expired.
	DaysLeft int `json:"days_left"`
	// Expired says NotAfter has passed.
	Expired bool `json:"expired,omitempty"`
	// VerifyError says why the certificate would not be trusted: its chain
	// does not lead to a root in Roots (the system's by default), it has
	// expired, or it is not for ServerName; a chain error and a name error
	// are joined with "; ". The other fields still describe the
	// certificate.
	VerifyError string `json:"verify_error,omitempty"`
	// Error says why no certificate was seen: the connection or the
	// handshake failed ("connection refused", "timeout after 10s",
	// "tls handshake: …"). The certificate fields are then empty.
	Error string `json:"error,omitempty"`
}

// TLSOptions say how to check a TLS certificate.
type TLSOptions struct {
	// Timeout bounds the connection and the handshake (default
	// DefaultTLSTimeout).
	Timeout time.Duration
	// Now is the time the certificate is judged at; zero means time.Now.
	Now time.Time
	// Roots are the trusted root certificates; nil means the system's.
	Roots *x509.CertPool
}

// DefaultTLSTimeout bounds CheckTLS when TLSOptions.Timeout is zero.
const DefaultTLSTimeout = 10 * time.Second

// CheckTLS connects to addr (host:port; a missing port is 443), which may
// be an origin's IP given with --resolve, and reads the certificate it
// presents for serverName (addr's host when empty). The handshake itself
// does not verify the certificate, so that one a browser would reject (an
// origin's self-signed certificate, an expired one) is still reported;
// CheckTLS then verifies it against o.Roots and serverName and says why it
// fails in VerifyError.
func CheckTLS(ctx context.Context, addr, serverName string, o TLSOptions) TLSCheck {
	addr = withDefaultPort(addr, "443")
	if serverName == "" {
		serverName, _, _ = net.SplitHostPort(addr)
	}
	c := TLSCheck{Addr: addr, ServerName: serverName}
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = DefaultTLSTimeout
	}
	now := o.Now
	if now.IsZero() {
		now = time.Now()
	}

	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var dialer net.Dialer
	conn, err := dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		if reason, ok := interrupted(parent, err, timeout); ok {
			c.Error = reason
		} else {
			c.Error = connFailure(err)
		}
		return c
	}
	defer conn.Close()
	tc := tls.Client(conn, &tls.Config{
		ServerName:         serverName,
		InsecureSkipVerify: true, // verified below, so the certificate is reported either way
	})
	if err := tc.HandshakeContext(ctx); err != nil {
		if reason, ok := interrupted(parent, err, timeout); ok {
			c.Error = reason
		} else {
			c.Error = "tls handshake: " + connFailure(err)
		}
		return c
	}
	peers := tc.ConnectionState().PeerCertificates
	if len(peers) == 0 {
		c.Error = "tls handshake: the server sent no certificate"
		return c
	}
	leaf := peers[0]
	c.Subject = leaf.Subject.String()
	c.Issuer = leaf.Issuer.String()
	c.DNSNames = leaf.DNSNames
	c.NotAfter = leaf.NotAfter
	c.DaysLeft = int(math.Floor(leaf.NotAfter.Sub(now).Hours() / 24))
	c.Expired = now.After(leaf.NotAfter)

	intermediates := x509.NewCertPool()
	for _, cert := range peers[1:] {
		intermediates.AddCert(cert)
	}
	var problems []string
	if _, err := leaf.Verify(x509.VerifyOptions{
		Roots:         o.Roots,
		Intermediates: intermediates,
		CurrentTime:   now,
	}); err != nil {
		problems = append(problems, err.Error())
	}
	if err := leaf.VerifyHostname(serverName); err != nil {
		problems = append(problems, err.Error())
	}
	c.VerifyError = strings.Join(problems, "; ")
	return c
}

// withDefaultPort adds port to addr when it has none.
func withDefaultPort(addr, port string) string {
	if _, _, err := net.SplitHostPort(addr); err == nil {
		return addr
	}
	host := strings.TrimSuffix(strings.TrimPrefix(addr, "["), "]")
	return net.JoinHostPort(host, port)
}

// interrupted says whether err is a timeout or a cancellation, rather
// than the server's answer: "timeout after 10s" when CheckTLS's own
// timeout ran out, "timeout" or "check cancelled" when parent ended.
func interrupted(parent context.Context, err error, timeout time.Duration) (string, bool) {
	var nerr net.Error
	switch {
	case errors.Is(parent.Err(), context.DeadlineExceeded):
		return "timeout", true
	case parent.Err() != nil:
		return "check cancelled", true
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &nerr) && nerr.Timeout():
		return fmt.Sprintf("timeout after %s", timeout), true
	}
	return "", false
}

// connFailure says shortly why a connection or handshake failed, naming
// the network errors met most as Prober does.
func connFailure(err error) string {
	if reason, ok := knownNetFailure(err); ok {
		return reason
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Err != nil {
		return opErr.Err.Error()
	}
	return err.Error()
}
