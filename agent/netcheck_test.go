package agent

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"math/big"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wpfix/wpfix/remote/proctest"
)

// TestDetectCDN names the CDN from header sets as real CDNs send them.
func TestDetectCDN(t *testing.T) {
	for _, tc := range []struct {
		name     string
		h        http.Header
		want     string // "" for none
		evidence string
	}{
		{"Cloudflare", http.Header{
			"Server": {"cloudflare"}, "Cf-Ray": {"8a1b2c3d4e5f6a7b-FRA"}, "Cf-Cache-Status": {"DYNAMIC"},
		}, "Cloudflare", "cf-ray: 8a1b2c3d4e5f6a7b-FRA"},
		{"Cloudflare server only", http.Header{"Server": {"cloudflare"}}, "Cloudflare", "server: cloudflare"},
		{"Fastly", http.Header{
			"Via": {"1.1 varnish"}, "X-Served-By": {"cache-fra-eddf8230100-FRA"},
			"X-Cache": {"MISS"}, "X-Timer": {"S1700000000.123456,VS0,VE12"},
		}, "Fastly", "x-served-by: cache-fra-eddf8230100-FRA"},
		{"Fastly request ID", http.Header{
			"X-Fastly-Request-Id": {"f1e2d3c4b5a6"}, "Via": {"1.1 varnish, 1.1 varnish"},
		}, "Fastly", "x-fastly-request-id: f1e2d3c4b5a6"},
		{"Fastly shield and edge", http.Header{
			"X-Served-By": {"cache-bfi-kbfi7400096-BFI, cache-fra-etou8220132-FRA"},
		}, "Fastly", "x-served-by: cache-bfi-kbfi7400096-BFI, cache-fra-etou8220132-FRA"},
		{"CloudFront", http.Header{
			"Via":          {"1.1 0123456789abcdef0123456789abcdef.cloudfront.net (CloudFront)"},
			"X-Amz-Cf-Id":  {"vQ9e7x8y2Z_abcDEF=="},
			"X-Amz-Cf-Pop": {"FRA56-P1"},
			"X-Cache":      {"Miss from cloudfront"},
		}, "Amazon CloudFront", "x-amz-cf-id: vQ9e7x8y2Z_abcDEF=="},
		{"CloudFront via only", http.Header{
			"Via": {"1.1 abc.cloudfront.net (CloudFront)"},
		}, "Amazon CloudFront", "via: 1.1 abc.cloudfront.net (CloudFront)"},
		{"CloudFront before Varnish in Via", http.Header{
			"Via": {"1.1 varnish (Varnish/7.4), 1.1 abc.cloudfront.net (CloudFront)"},
		}, "Amazon CloudFront", "via: 1.1 varnish (Varnish/7.4), 1.1 abc.cloudfront.net (CloudFront)"},
		{"Akamai server", http.Header{"Server": {"AkamaiGHost"}}, "Akamai", "server: AkamaiGHost"},
		{"Akamai header", http.Header{
			"Server": {"Apache"}, "X-Akamai-Transformed": {"9 - 0 pmb=mRUM,1"},
		}, "Akamai", "x-akamai-transformed: 9 - 0 pmb=mRUM,1"},
		{"Akamai GRN", http.Header{"Akamai-Grn": {"0.1234abcd.1700000000.5678ef"}}, "Akamai", "akamai-grn: 0.1234abcd.1700000000.5678ef"},
		{"Sucuri", http.Header{
			"Server": {"Sucuri/Cloudproxy"}, "X-Sucuri-Id": {"17012"}, "X-Sucuri-Cache": {"HIT"},
		}, "Sucuri", "x-sucuri-id: 17012"},
		{"Sucuri server only", http.Header{"Server": {"Sucuri/Cloudproxy"}}, "Sucuri", "server: Sucuri/Cloudproxy"},
		{"BunnyCDN", http.Header{
			"Server": {"BunnyCDN-DE1-1052"}, "Cdn-Pullzone": {"123456"}, "Cdn-Cache": {"MISS"},
		}, "BunnyCDN", "server: BunnyCDN-DE1-1052"},
		{"KeyCDN", http.Header{"Server": {"keycdn-engine"}, "X-Edge-Location": {"defr"}}, "KeyCDN", "server: keycdn-engine"},
		{"Azure Front Door", http.Header{
			"X-Azure-Ref": {"20240101T000000Z-abcdef0123456789"}, "X-Cache": {"TCP_MISS"},
		}, "Azure Front Door", "x-azure-ref: 20240101T000000Z-abcdef0123456789"},
		{"Google Cloud CDN", http.Header{
			"Via": {"1.1 google"}, "Server": {"nginx"}, "Age": {"12"},
		}, "Google Cloud CDN", "via: 1.1 google"},
		{"StackPath", http.Header{"X-Hw": {"1700000000.dop017.fr8.t,1700000000.cds061.fr8.c"}}, "StackPath", "x-hw: 1700000000.dop017.fr8.t,1700000000.cds061.fr8.c"},
		{"Imperva", http.Header{"X-Iinfo": {"10-12345678-0 0NNN RT(1700000000 0)"}, "X-Cdn": {"Imperva"}}, "Imperva", "x-iinfo: 10-12345678-0 0NNN RT(1700000000 0)"},
		{"Varnish", http.Header{
			"Server": {"Apache"}, "X-Varnish": {"32770 3"}, "Age": {"0"}, "Via": {"1.1 varnish (Varnish/6.0)"},
		}, "Varnish", "x-varnish: 32770 3"},
		{"Varnish via only", http.Header{"Via": {"1.1 varnish (Varnish/7.4)"}}, "Varnish", "via: 1.1 varnish (Varnish/7.4)"},
		{"QUIC.cloud", http.Header{
			"Server": {"LiteSpeed"}, "X-Qc-Pop": {"EU-DE-FRA-CACHE1"}, "X-Qc-Cache": {"miss"},
		}, "QUIC.cloud", "x-qc-pop: EU-DE-FRA-CACHE1"},
		{"nginx", http.Header{
			"Server": {"nginx/1.24.0"}, "Content-Type": {"text/html; charset=UTF-8"}, "X-Powered-By": {"PHP/8.2.12"},
		}, "", ""},
		{"Apache", http.Header{
			"Server": {"Apache/2.4.58 (Ubuntu)"}, "Link": {`<https://example.com/wp-json/>; rel="https://api.w.org/"`},
			"Via": {"1.1 proxy.example.com"},
		}, "", ""},
		{"LiteSpeed without QUIC.cloud", http.Header{
			"Server": {"LiteSpeed"}, "X-Litespeed-Cache": {"hit"},
		}, "", ""},
		{"Via naming another google proxy", http.Header{"Via": {"1.1 googlebot-proxy"}}, "", ""},
		{"X-Served-By of a site", http.Header{"X-Served-By": {"web-1"}}, "", ""},
		{"empty", http.Header{}, "", ""},
		{"nil", nil, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			check := func(t *testing.T, h http.Header) {
				got := DetectCDN(h)
				if tc.want == "" {
					assert.Nil(t, got)
					return
				}
				require.NotNil(t, got)
				assert.Equal(t, tc.want, got.Name)
				assert.Equal(t, tc.evidence, got.Evidence)
			}
			t.Run("canonical", func(t *testing.T) { check(t, tc.h) })
			t.Run("lower", func(t *testing.T) { check(t, recase(tc.h, strings.ToLower)) })
			t.Run("upper", func(t *testing.T) { check(t, recase(tc.h, strings.ToUpper)) })
		})
	}
}

// recase returns h with its keys rewritten by f, as a map literal or an
// HTTP/2 header block may hold them; h.Get would no longer find them.
func recase(h http.Header, f func(string) string) http.Header {
	if h == nil {
		return nil
	}
	out := make(http.Header, len(h))
	for k, v := range h {
		out[f(k)] = v
	}
	return out
}

// TestDetectCDNMixedCaseKeys reads values from keys that differ only in
// case, in a fixed order.
func TestDetectCDNMixedCaseKeys(t *testing.T) {
	h := http.Header{"cf-ray": {"bbbb-AMS"}, "CF-RAY": {"aaaa-FRA"}}
	for range 20 {
		got := DetectCDN(h)
		require.NotNil(t, got)
		assert.Equal(t, "cf-ray: aaaa-FRA", got.Evidence, "values of sorted keys, CF-RAY first")
	}
}

// TestDetectCDNEvidenceClean keeps control characters, bidirectional
// controls and invalid UTF-8 in a header value out of Evidence, and cuts a
// long value.
func TestDetectCDNEvidenceClean(t *testing.T) {
	for _, tc := range []struct {
		name, value, want string
	}{
		{"escape sequence", "8a1b\x1b[31m-FRA\x1b]0;pwned\x07", "8a1b\uFFFD[31m-FRA\uFFFD]0;pwned\uFFFD"},
		{"CR LF", "8a1b-FRA\r\nX-Evil: 1", "8a1b-FRA\uFFFD\uFFFDX-Evil: 1"},
		{"NUL and DEL", "8a\x00\x7f1b", "8a\uFFFD\uFFFD1b"},
		{"C1 control", "8a\u009b31m", "8a\uFFFD31m"},
		{"bidi override", "8a\u202eARF-b1", "8a\uFFFDARF-b1"},
		{"line separator", "8a\u20281b", "8a\uFFFD1b"},
		{"invalid UTF-8", "8a\xff\xfe1b", "8a\uFFFD\uFFFD1b"},
		{"spaces trimmed", "  8a1b-FRA  ", "8a1b-FRA"},
		{"long", strings.Repeat("é", 200), strings.Repeat("é", maxEvidenceValue) + "…"},
		{"exactly the limit", strings.Repeat("x", maxEvidenceValue), strings.Repeat("x", maxEvidenceValue)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := DetectCDN(http.Header{"Cf-Ray": {tc.value}})
			require.NotNil(t, got)
			assert.Equal(t, "cf-ray: "+tc.want, got.Evidence)
			assertPrintable(t, got.Evidence)
		})
	}
}

// FuzzDetectCDNEvidence: whatever a header holds, Evidence is printable
// and short.
func FuzzDetectCDNEvidence(f *testing.F) {
	f.Add("Server", "cloudflare\x1b[2J")
	f.Add("x-akamai-\x00", "v")
	f.Add("Via", "1.1 varnish\u202e\r\n")
	f.Add("X-Served-By", "cache-fra-\xff")
	f.Fuzz(func(t *testing.T, name, value string) {
		for _, h := range []http.Header{{name: {value}}, {"Cf-Ray": {value}}} {
			got := DetectCDN(h)
			if got == nil {
				continue
			}
			_, v, _ := strings.Cut(got.Evidence, ": ")
			assert.LessOrEqual(t, utf8.RuneCountInString(v), maxEvidenceValue+1)
			assertPrintable(t, v)
		}
	})
}

// assertPrintable fails if s could move a terminal's cursor or hide text.
func assertPrintable(t *testing.T, s string) {
	t.Helper()
	assert.True(t, utf8.ValidString(s), "%q is valid UTF-8", s)
	for _, r := range s {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || unicode.Is(unicode.Bidi_Control, r) {
			t.Errorf("%q holds control character %U", s, r)
		}
	}
}

// fakeResolver answers lookups from maps; it stands for the system
// resolver, whose answers a test cannot choose.
type fakeResolver struct {
	addrs  map[string][]string
	cnames map[string]string
	err    map[string]error
	calls  []string
}

func (r *fakeResolver) LookupIPAddr(_ context.Context, host string) ([]net.IPAddr, error) {
	r.calls = append(r.calls, "ip "+host)
	if err := r.err[host]; err != nil {
		return nil, err
	}
	var out []net.IPAddr
	for _, a := range r.addrs[host] {
		out = append(out, net.IPAddr{IP: net.ParseIP(a)})
	}
	return out, nil
}

func (r *fakeResolver) LookupCNAME(_ context.Context, host string) (string, error) {
	r.calls = append(r.calls, "cname "+host)
	if c, ok := r.cnames[host]; ok {
		return c, nil
	}
	if err := r.err[host]; err != nil {
		return "", err
	}
	// Like net.Resolver: a name with no CNAME is its own canonical name.
	return host + ".", nil
}

// TestCheckDNS compares what a resolver answers with what was expected.
func TestCheckDNS(t *testing.T) {
	nxdomain := &net.DNSError{Err: "no such host", Name: "gone.example", IsNotFound: true}
	r := &fakeResolver{
		addrs: map[string][]string{
			"example.com":     {"203.0.113.7", "2001:db8::7", "203.0.113.7", "198.51.100.2"},
			"www.example.com": {"104.16.1.1", "104.16.2.2"},
			"mapped.example":  {"::ffff:203.0.113.7"},
			"empty.example":   {},
		},
		cnames: map[string]string{
			"www.example.com":  "www.example.com.cdn.cloudflare.net.",
			"dangling.example": "old-site.herokuapp.com.",
			"Case.Example":     "case.example.",
		},
		err: map[string]error{
			"gone.example":     nxdomain,
			"dangling.example": &net.DNSError{Err: "no such host", Name: "dangling.example", IsNotFound: true},
			"slow.example":     &net.DNSError{Err: "i/o timeout", Name: "slow.example", IsTimeout: true},
			"broken.example":   &net.DNSError{Err: "server misbehaving", Name: "broken.example"},
		},
	}
	r.addrs["Case.Example"] = []string{"192.0.2.1"}
	for _, tc := range []struct {
		name   string
		host   string
		expect []string
		want   DNSCheck
		calls  bool // whether the resolver is asked
	}{
		{"match", "example.com", []string{"198.51.100.2", "2001:db8::7", "203.0.113.7"}, DNSCheck{
			Host:     "example.com",
			Addrs:    []string{"198.51.100.2", "203.0.113.7", "2001:db8::7"},
			Expected: []string{"198.51.100.2", "2001:db8::7", "203.0.113.7"},
		}, true},
		{"no expectation", "example.com", nil, DNSCheck{
			Host:  "example.com",
			Addrs: []string{"198.51.100.2", "203.0.113.7", "2001:db8::7"},
		}, true},
		{"unexpected", "example.com", []string{"203.0.113.7"}, DNSCheck{
			Host:       "example.com",
			Addrs:      []string{"198.51.100.2", "203.0.113.7", "2001:db8::7"},
			Expected:   []string{"203.0.113.7"},
			Unexpected: []string{"198.51.100.2", "2001:db8::7"},
		}, true},
		{"missing", "example.com", []string{"203.0.113.7", "192.0.2.9", "2001:DB8:0::7"}, DNSCheck{
			Host:       "example.com",
			Addrs:      []string{"198.51.100.2", "203.0.113.7", "2001:db8::7"},
			Expected:   []string{"203.0.113.7", "192.0.2.9", "2001:db8::7"},
			Unexpected: []string{"198.51.100.2"},
			Missing:    []string{"192.0.2.9"},
		}, true},
		{"IPv4-mapped answer", "mapped.example", []string{"203.0.113.7"}, DNSCheck{
			Host:     "mapped.example",
			Addrs:    []string{"203.0.113.7"},
			Expected: []string{"203.0.113.7"},
		}, true},
		{"CNAME", "www.example.com", []string{"203.0.113.7"}, DNSCheck{
			Host:       "www.example.com",
			Addrs:      []string{"104.16.1.1", "104.16.2.2"},
			CNAME:      "www.example.com.cdn.cloudflare.net",
			Expected:   []string{"203.0.113.7"},
			Unexpected: []string{"104.16.1.1", "104.16.2.2"},
			Missing:    []string{"203.0.113.7"},
		}, true},
		{"CNAME same as host but for case and dot", "Case.Example", nil, DNSCheck{
			Host:  "Case.Example",
			Addrs: []string{"192.0.2.1"},
		}, true},
		{"NXDOMAIN", "gone.example", []string{"203.0.113.7"}, DNSCheck{
			Host:     "gone.example",
			Error:    "no such host",
			Expected: []string{"203.0.113.7"},
		}, true},
		{"dangling CNAME", "dangling.example", nil, DNSCheck{
			Host:  "dangling.example",
			CNAME: "old-site.herokuapp.com",
			Error: "no such host",
		}, true},
		{"timeout", "slow.example", nil, DNSCheck{Host: "slow.example", Error: "timeout"}, true},
		{"server failure", "broken.example", nil, DNSCheck{Host: "broken.example", Error: "server misbehaving"}, true},
		{"no addresses", "empty.example", nil, DNSCheck{Host: "empty.example", Error: "no addresses"}, true},
		{"IPv4 literal", "203.0.113.7", []string{"203.0.113.7", "203.0.113.8"}, DNSCheck{
			Host:     "203.0.113.7",
			Addrs:    []string{"203.0.113.7"},
			Expected: []string{"203.0.113.7", "203.0.113.8"},
			Missing:  []string{"203.0.113.8"},
			IsIP:     true,
		}, false},
		{"IPv6 literal in brackets", "[2001:db8::7]", nil, DNSCheck{
			Host:  "[2001:db8::7]",
			Addrs: []string{"2001:db8::7"},
			IsIP:  true,
		}, false},
		{"empty host", "", nil, DNSCheck{Error: "no host name"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r.calls = nil
			got := CheckDNS(t.Context(), r, tc.host, tc.expect)
			assert.Equal(t, tc.want, got)
			if tc.calls {
				assert.NotEmpty(t, r.calls)
			} else {
				assert.Empty(t, r.calls, "nothing to resolve")
			}
		})
	}
}

// TestCheckDNSJSON writes the keys the diagnose report documents.
func TestCheckDNSJSON(t *testing.T) {
	b, err := json.Marshal(DNSCheck{Host: "203.0.113.7", Addrs: []string{"203.0.113.7"}, IsIP: true})
	require.NoError(t, err)
	assert.JSONEq(t, `{"host":"203.0.113.7","addrs":["203.0.113.7"],"is_ip":true}`, string(b))
}

// TestCheckDNSLocalhost asks the system's resolver for localhost.
func TestCheckDNSLocalhost(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	got := CheckDNS(ctx, nil, "localhost", []string{"127.0.0.1"})
	if got.Error != "" {
		t.Skipf("localhost does not resolve on this machine: %s", got.Error)
	}
	t.Logf("%+v", got)
	require.NotEmpty(t, got.Addrs)
	for _, a := range got.Addrs {
		ip := net.ParseIP(a)
		require.NotNil(t, ip, "%q is an IP", a)
		assert.True(t, ip.IsLoopback(), "%s is a loopback address", a)
	}
	assert.False(t, got.IsIP)
	for _, a := range got.Unexpected {
		assert.True(t, net.ParseIP(a).IsLoopback(), "only other loopback addresses are unexpected")
	}
}

// testPKI is a CA and the leaf certificates TestCheckTLS serves.
type testPKI struct {
	now                     time.Time
	roots                   *x509.CertPool
	valid, expired, expires tls.Certificate
}

// newTestPKI makes a CA and three leaves signed by it, for "example.test"
// and 127.0.0.1: one valid for 90 days, one expired a day ago, one
// expiring in exactly 5 days (times are whole seconds, as certificates
// hold them).
func newTestPKI(t *testing.T) *testPKI {
	t.Helper()
	now := time.Now().Truncate(time.Second)
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "wpfix test CA", Organization: []string{"wpfix"}},
		NotBefore:             now.Add(-48 * time.Hour),
		NotAfter:              now.Add(365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	require.NoError(t, err)
	ca, err := x509.ParseCertificate(caDER)
	require.NoError(t, err)

	leaf := func(serial int64, notBefore, notAfter time.Time) tls.Certificate {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		require.NoError(t, err)
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial),
			Subject:      pkix.Name{CommonName: "example.test"},
			DNSNames:     []string{"example.test", "www.example.test"},
			IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
			NotBefore:    notBefore,
			NotAfter:     notAfter,
			KeyUsage:     x509.KeyUsageDigitalSignature,
			ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		require.NoError(t, err)
		return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	return &testPKI{
		now:     now,
		roots:   roots,
		valid:   leaf(2, now.Add(-time.Hour), now.Add(90*24*time.Hour)),
		expired: leaf(3, now.Add(-48*time.Hour), now.Add(-24*time.Hour)),
		expires: leaf(4, now.Add(-time.Hour), now.Add(5*24*time.Hour)),
	}
}

// serveTLS serves cert on a loopback port until the test ends and returns
// the port's address.
func serveTLS(t *testing.T, cert tls.Certificate) string {
	t.Helper()
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}}
	return proctest.ServeLoopback(t, func(c net.Conn) {
		conn := tls.Server(c, cfg)
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		conn.Handshake()
	}).String()
}

// serveSilent accepts connections on a loopback port and never answers.
func serveSilent(t *testing.T) string {
	t.Helper()
	return proctest.ServeLoopback(t, nil).String()
}

// TestCheckTLS reads real certificates served on loopback.
func TestCheckTLS(t *testing.T) {
	pki := newTestPKI(t)
	valid := serveTLS(t, pki.valid)
	expired := serveTLS(t, pki.expired)
	expires := serveTLS(t, pki.expires)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closed := ln.Addr().String()
	ln.Close()
	plain := serveHTTP(t)
	silent := serveSilent(t)

	const (
		unknownAuthority = "x509: certificate signed by unknown authority"
		expiredCert      = "x509: certificate has expired or is not yet valid"
		wrongName        = "x509: certificate is valid for example.test, www.example.test, not wrong.test"
	)
	for _, tc := range []struct {
		name       string
		addr       string
		serverName string
		roots      bool
		timeout    time.Duration
		// want* are checked when set.
		wantDays     int
		wantExpired  bool
		wantVerify   []string // substrings of VerifyError, which is empty when none is given
		wantError    string   // prefix of Error, which is empty when this is
		wantNotAfter time.Time
	}{
		{name: "trusted", addr: valid, serverName: "example.test", roots: true,
			wantDays: 90, wantNotAfter: pki.now.Add(90 * 24 * time.Hour)},
		{name: "trusted by IP", addr: valid, serverName: "127.0.0.1", roots: true, wantDays: 90},
		{name: "server name from addr", addr: valid, roots: true, wantDays: 90},
		{name: "second DNS name", addr: valid, serverName: "www.example.test", roots: true, wantDays: 90},
		{name: "system roots", addr: valid, serverName: "example.test",
			wantDays: 90, wantVerify: []string{unknownAuthority}},
		{name: "wrong name", addr: valid, serverName: "wrong.test", roots: true,
			wantDays: 90, wantVerify: []string{wrongName}},
		{name: "wrong name, system roots", addr: valid, serverName: "wrong.test",
			wantDays: 90, wantVerify: []string{unknownAuthority + "; " + wrongName}},
		{name: "expired", addr: expired, serverName: "example.test", roots: true,
			wantDays: -1, wantExpired: true, wantVerify: []string{expiredCert}},
		{name: "expiring in 5 days", addr: expires, serverName: "example.test", roots: true,
			wantDays: 5, wantNotAfter: pki.now.Add(5 * 24 * time.Hour)},
		{name: "closed port", addr: closed, serverName: "example.test", wantError: "connection refused"},
		{name: "not TLS", addr: plain, serverName: "example.test", wantError: "tls handshake: "},
		{name: "no answer", addr: silent, serverName: "example.test", timeout: 200 * time.Millisecond,
			wantError: "timeout after 200ms"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := TLSOptions{Now: pki.now, Timeout: tc.timeout}
			if tc.roots {
				o.Roots = pki.roots
			}
			got := CheckTLS(t.Context(), tc.addr, tc.serverName, o)
			t.Logf("%+v", got)
			assert.Equal(t, tc.addr, got.Addr)
			wantName := tc.serverName
			if wantName == "" {
				wantName = "127.0.0.1"
			}
			assert.Equal(t, wantName, got.ServerName)
			if tc.wantError != "" {
				assert.True(t, strings.HasPrefix(got.Error, tc.wantError), "error %q starts with %q", got.Error, tc.wantError)
				assert.Empty(t, got.Subject)
				assert.True(t, got.NotAfter.IsZero())
				return
			}
			require.Empty(t, got.Error)
			assert.Equal(t, "CN=example.test", got.Subject)
			assert.Equal(t, "CN=wpfix test CA,O=wpfix", got.Issuer)
			assert.Equal(t, []string{"example.test", "www.example.test"}, got.DNSNames)
			assert.Equal(t, tc.wantDays, got.DaysLeft)
			assert.Equal(t, tc.wantExpired, got.Expired)
			if !tc.wantNotAfter.IsZero() {
				assert.True(t, tc.wantNotAfter.Equal(got.NotAfter), "not after %s, want %s", got.NotAfter, tc.wantNotAfter)
			}
			if len(tc.wantVerify) == 0 {
				assert.Empty(t, got.VerifyError)
			}
			for _, w := range tc.wantVerify {
				assert.Contains(t, got.VerifyError, w)
			}
		})
	}
}

// serveHTTP serves plain HTTP on a loopback port, to be dialled with TLS.
func serveHTTP(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &http.Server{Handler: http.NotFoundHandler(), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// TestCheckTLSCancelled reports a check stopped by its caller as such, not
// as a fault of the site.
func TestCheckTLSCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	addr := serveSilent(t)
	go func() {
		time.Sleep(50 * time.Millisecond)
		cancel()
	}()
	got := CheckTLS(ctx, addr, "example.test", TLSOptions{})
	assert.Equal(t, "check cancelled", got.Error)
}

// TestCheckTLSDefaultPort dials port 443 when addr has none, and takes the
// server name from addr.
func TestCheckTLSDefaultPort(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel() // nothing is dialled; only the address is shown
	for _, tc := range []struct{ addr, want, name string }{
		{"203.0.113.7", "203.0.113.7:443", "203.0.113.7"},
		{"example.test", "example.test:443", "example.test"},
		{"2001:db8::7", "[2001:db8::7]:443", "2001:db8::7"},
		{"[2001:db8::7]", "[2001:db8::7]:443", "2001:db8::7"},
		{"example.test:8443", "example.test:8443", "example.test"},
	} {
		got := CheckTLS(ctx, tc.addr, "", TLSOptions{})
		assert.Equal(t, tc.want, got.Addr)
		assert.Equal(t, tc.name, got.ServerName)
		assert.NotEmpty(t, got.Error)
	}
}
