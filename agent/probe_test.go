package agent

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wpfix/wpfix/remote/proctest"
	"github.com/wpfix/wpfix/wp/wptest"
)

// probeSite probes with o, which must be valid.
func probeSite(t *testing.T, o ProbeOptions) ProbeResult {
	t.Helper()
	p, err := NewProber(o)
	require.NoError(t, err)
	r := p.Probe(t.Context())
	t.Logf("probe %s %v: %+v", o.URL, o.Paths, r)
	return r
}

// Plugins for TestProbeSite, each failing only on the requests it names, so
// one stack serves every case.
const (
	// loginKillerBody kills the worker of any request for wp-login.php.
	loginKillerBody = `if ( strpos( $_SERVER['REQUEST_URI'], 'wp-login.php' ) !== false ) { posix_kill( getmypid(), 9 ); }`
	// flakyBody kills the worker of every second request with flaky=1 in
	// its query, counted in a file beside the plugin (not in
	// sys_get_temp_dir(), shared by every stack: this one goes with its
	// stack), so the alternation is deterministic.
	flakyBody = `if ( strpos( $_SERVER['REQUEST_URI'], 'flaky=1' ) !== false ) {
	$f = fopen( __DIR__ . '/counter', 'c+' );
	flock( $f, LOCK_EX );
	$n = (int) stream_get_contents( $f ) + 1;
	ftruncate( $f, 0 );
	rewind( $f );
	fwrite( $f, (string) $n );
	fflush( $f );
	flock( $f, LOCK_UN );
	fclose( $f );
	if ( 0 === $n % 2 ) { posix_kill( getmypid(), 9 ); }
}`
	// displayFatalBody, for fatal=html or fatal=text in the query, turns
	// PHP's display_errors on (html_errors on or off) and calls a function
	// that does not exist in the footer: a real fatal error, printed after
	// the page has started, so the status stays 200 and WordPress's
	// handler, which only shows its page while no output has been sent,
	// stays silent.
	displayFatalBody = `if ( preg_match( '/[?&]fatal=(html|text)(&|$)/', $_SERVER['REQUEST_URI'], $m ) ) {
	ini_set( 'display_errors', '1' );
	ini_set( 'html_errors', 'html' === $m[1] ? '1' : '0' );
	add_action( 'wp_footer', function () { wpfix_probe_no_such_function(); } );
}`
)

// TestProbeSite probes one real site whose plugins fail only on some
// requests.
func TestProbeSite(t *testing.T) {
	t.Parallel()
	st := wptest.NewStack(t, wptest.Options{})
	st.ActivatePlugins(t,
		st.AddPlugin(t, wptest.Plugin{Slug: "probe-login-killer", Body: loginKillerBody}),
		st.AddPlugin(t, wptest.Plugin{Slug: "probe-flaky", Body: flakyBody}),
		st.AddPlugin(t, wptest.Plugin{Slug: "probe-display-fatal", Body: displayFatalBody}),
	)

	t.Run("healthy", func(t *testing.T) {
		r := probeSite(t, ProbeOptions{URL: st.URL})
		assert.False(t, r.Bad)
		assert.Equal(t, http.StatusOK, r.Status)
		assert.Empty(t, r.Reason)
		assert.Equal(t, st.URL, r.URL, "the URL is reported without the cache-busting value")
		assert.Equal(t, 1, r.Requests)
		assert.Positive(t, r.Duration)
	})

	t.Run("only wp-login.php broken", func(t *testing.T) {
		require.Equal(t, http.StatusBadGateway, st.Get(t, "/wp-login.php").Status, "precondition")
		assert.False(t, probeSite(t, ProbeOptions{URL: st.URL}).Bad, "the home page alone")

		r := probeSite(t, ProbeOptions{URL: st.URL, Paths: []string{"/wp-login.php"}})
		assert.True(t, r.Bad)
		assert.Equal(t, http.StatusBadGateway, r.Status)
		assert.Equal(t, "status 502", r.Reason)
		assert.Equal(t, st.URL+"/wp-login.php", r.URL)
		assert.Equal(t, 2, r.Requests, "home, then wp-login.php")
	})

	t.Run("fails every second request", func(t *testing.T) {
		r := probeSite(t, ProbeOptions{URL: st.URL + "/?flaky=1", Samples: 8})
		assert.True(t, r.Bad)
		assert.Equal(t, http.StatusBadGateway, r.Status)
		assert.Equal(t, 2, r.Requests, "the first sample is good, the second bad, and the probe stops there")
		// The same site passes a single sample: samples are what catch it.
		assert.False(t, probeSite(t, ProbeOptions{URL: st.URL + "/?flaky=1"}).Bad, "the third request")
	})

	for _, mode := range []struct{ query, printed string }{
		{"fatal=html", "<b>Fatal error</b>:  Uncaught Error: Call to undefined function wpfix_probe_no_such_function()"},
		{"fatal=text", "\nFatal error: Uncaught Error: Call to undefined function wpfix_probe_no_such_function()"},
	} {
		t.Run("PHP fatal printed with status 200, "+mode.query, func(t *testing.T) {
			page := st.Get(t, "/?"+mode.query)
			require.Equal(t, http.StatusOK, page.Status, "precondition")
			require.Contains(t, page.Body, mode.printed, "precondition: PHP printed its fatal error")

			r := probeSite(t, ProbeOptions{URL: st.URL + "/?" + mode.query})
			assert.True(t, r.Bad)
			assert.Equal(t, http.StatusOK, r.Status)
			assert.Equal(t, "PHP fatal error in body, page cut off: no </html>", r.Reason, "the fatal stopped the page")
			assert.Equal(t, st.URL+"/?"+mode.query, r.URL)
		})
	}
}

// TestProbeBrokenSite probes sites broken in wptest's real ways.
func TestProbeBrokenSite(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		opts   wptest.Options
		brk    func(t *testing.T, st *wptest.Stack)
		status int
		reason string
	}{
		{"worker killed", wptest.Options{}, func(t *testing.T, st *wptest.Stack) { st.Break(t, wptest.BreakKillWorker) },
			http.StatusBadGateway, "status 502"},
		{"PHP fatal", wptest.Options{}, func(t *testing.T, st *wptest.Stack) { st.Break(t, wptest.BreakFatal) },
			http.StatusInternalServerError, "status 500, critical error page"},
		{"worker past request_terminate_timeout", wptest.Options{RequestTerminateTimeout: 2 * time.Second},
			func(t *testing.T, st *wptest.Stack) { st.Break(t, wptest.BreakTimeout) },
			http.StatusBadGateway, "status 502"},
		{"php-fpm stopped", wptest.Options{}, func(t *testing.T, st *wptest.Stack) { st.StopPHP() },
			http.StatusBadGateway, "status 502"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			st := wptest.NewStack(t, tc.opts)
			require.False(t, probeSite(t, ProbeOptions{URL: st.URL}).Bad, "healthy before")
			tc.brk(t, st)

			r := probeSite(t, ProbeOptions{URL: st.URL})
			assert.True(t, r.Bad)
			assert.Equal(t, tc.status, r.Status)
			assert.Equal(t, tc.reason, r.Reason)
			assert.Equal(t, st.URL, r.URL)
			assert.Equal(t, 1, r.Requests)
		})
	}
}

// TestProbeConnection probes what does not answer as it should.
func TestProbeConnection(t *testing.T) {
	t.Parallel()

	t.Run("closed port", func(t *testing.T) {
		t.Parallel()
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addr := l.Addr().String()
		require.NoError(t, l.Close())

		r := probeSite(t, ProbeOptions{URL: "http://" + addr + "/"})
		assert.True(t, r.Bad)
		assert.Zero(t, r.Status)
		assert.Equal(t, "connection refused", r.Reason)
		assert.Equal(t, "http://"+addr+"/", r.URL)
	})

	t.Run("timeout", func(t *testing.T) {
		t.Parallel()
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(10 * time.Second):
			}
		}))
		t.Cleanup(srv.Close)

		start := time.Now()
		r := probeSite(t, ProbeOptions{URL: srv.URL, Timeout: 300 * time.Millisecond, Samples: 3})
		assert.True(t, r.Bad)
		assert.Zero(t, r.Status)
		assert.Equal(t, "timeout after 300ms", r.Reason)
		assert.Equal(t, 1, r.Requests, "the first timeout decides")
		assert.Less(t, time.Since(start), 5*time.Second)
	})

	t.Run("timeout while reading the body", func(t *testing.T) {
		t.Parallel()
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte("<html>"))
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		}))
		t.Cleanup(srv.Close)

		r := probeSite(t, ProbeOptions{URL: srv.URL, Timeout: 300 * time.Millisecond})
		assert.True(t, r.Bad)
		assert.Equal(t, http.StatusOK, r.Status)
		assert.Equal(t, "status 200, timeout after 300ms", r.Reason)
	})

	t.Run("cancelled", func(t *testing.T) {
		t.Parallel()
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			<-r.Context().Done()
		}))
		t.Cleanup(srv.Close)
		p, err := NewProber(ProbeOptions{URL: srv.URL})
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(200*time.Millisecond, cancel)

		start := time.Now()
		r := p.Probe(ctx)
		assert.True(t, r.Bad)
		assert.Equal(t, "probe cancelled", r.Reason)
		assert.Less(t, time.Since(start), 5*time.Second, "well before the 30s timeout")

		r = p.Probe(ctx)
		assert.True(t, r.Bad)
		assert.Equal(t, "probe cancelled", r.Reason)
		assert.Zero(t, r.Requests, "nothing is requested once ctx is done")
	})

	t.Run("closed without a response", func(t *testing.T) {
		t.Parallel()
		addr := proctest.ServeLoopback(t, func(c net.Conn) {
			buf := make([]byte, 4096)
			c.Read(buf)
			c.Close()
		})

		r := probeSite(t, ProbeOptions{URL: "http://" + addr.String() + "/"})
		assert.True(t, r.Bad)
		assert.Zero(t, r.Status)
		assert.Equal(t, "connection closed before a full response", r.Reason)
	})

	t.Run("large body", func(t *testing.T) {
		t.Parallel()
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(strings.Repeat("<p>fine</p>\n", 1<<20) + "</html>\n"))
		}))
		t.Cleanup(srv.Close)
		r := probeSite(t, ProbeOptions{URL: srv.URL})
		assert.False(t, r.Bad, "a body past the limit is searched in part, not failed")
	})
}

// probeRecorder is what a test server that keeps what it was asked.
type probeRecorder struct {
	mu   sync.Mutex
	reqs []*http.Request
}

func (rec *probeRecorder) record(r *http.Request) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	rec.reqs = append(rec.reqs, r.Clone(r.Context()))
}

func (rec *probeRecorder) requests() []*http.Request {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return rec.reqs
}

// TestProbeRequests checks what every request carries: a fresh
// cache-busting value added to its own query, no-cache headers, wpfix's
// User-Agent, no cookies and no keep-alive.
func TestProbeRequests(t *testing.T) {
	t.Parallel()
	var rec probeRecorder
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.record(r)
		http.SetCookie(w, &http.Cookie{Name: "session", Value: "x"})
		fmt.Fprintln(w, "<html>ok</html>")
	}))
	t.Cleanup(srv.Close)

	r := probeSite(t, ProbeOptions{URL: srv.URL + "/?lang=de", Paths: []string{"/wp-login.php", "/shop/?a=1&b=2"}, Samples: 3})
	assert.False(t, r.Bad)
	assert.Equal(t, 9, r.Requests)
	assert.Equal(t, srv.URL+"/shop/?a=1&b=2", r.URL, "the last request, without the cache-busting value")

	reqs := rec.requests()
	require.Len(t, reqs, 9)
	seen := map[string]bool{}
	token := regexp.MustCompile(`(?:^|&)wpfix=([0-9a-f]{16})$`)
	for i, req := range reqs {
		want := []string{"/", "/wp-login.php", "/shop/"}[i%3]
		assert.Equal(t, want, req.URL.Path)
		m := token.FindStringSubmatch(req.URL.RawQuery)
		require.NotNil(t, m, "request %d %s has a cache-busting value", i, req.URL)
		assert.False(t, seen[m[1]], "request %d %s has a fresh value", i, req.URL)
		seen[m[1]] = true
		assert.Equal(t, []string{"", "", "a=1&b=2&"}[i%3]+"wpfix="+m[1],
			strings.Replace(req.URL.RawQuery, "lang=de&", "", 1), "the page's own query is kept")
		if i%3 == 0 {
			assert.Equal(t, "de", req.URL.Query().Get("lang"))
		}
		assert.Equal(t, "no-cache", req.Header.Get("Cache-Control"))
		assert.Equal(t, "no-cache", req.Header.Get("Pragma"))
		assert.True(t, strings.HasPrefix(req.Header.Get("User-Agent"), "wpfix/"), req.Header.Get("User-Agent"))
		assert.Empty(t, req.Header.Get("Cookie"), "no cookie is sent back")
		assert.True(t, req.Close, "no keep-alive: Connection: close")
		assert.Equal(t, http.MethodGet, req.Method)
	}
}

// TestProbeResolve connects to the Resolve address while keeping the URL's
// host for Host and TLS's server name.
func TestProbeResolve(t *testing.T) {
	t.Parallel()
	for _, tls := range []bool{false, true} {
		t.Run(fmt.Sprintf("tls=%v", tls), func(t *testing.T) {
			t.Parallel()
			var rec probeRecorder
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { rec.record(r) })
			srv := httptest.NewUnstartedServer(h)
			scheme := "http"
			if tls {
				srv.StartTLS()
				scheme = "https"
			} else {
				srv.Start()
			}
			t.Cleanup(srv.Close)
			_, port, err := net.SplitHostPort(srv.Listener.Addr().String())
			require.NoError(t, err)
			host := "example.invalid:" + port
			u := scheme + "://" + host + "/"

			r := probeSite(t, ProbeOptions{URL: u, Resolve: "127.0.0.1"})
			assert.False(t, r.Bad)
			assert.Equal(t, http.StatusOK, r.Status)
			assert.Equal(t, u, r.URL)
			reqs := rec.requests()
			require.Len(t, reqs, 1)
			assert.Equal(t, host, reqs[0].Host)
			if tls {
				require.NotNil(t, reqs[0].TLS)
				assert.Equal(t, "example.invalid", reqs[0].TLS.ServerName)
			}

			r = probeSite(t, ProbeOptions{URL: u})
			assert.True(t, r.Bad, "without Resolve, the name does not resolve")
			assert.Zero(t, r.Status)
			assert.NotContains(t, r.Reason, "wpfix=")
		})
	}
}

// TestProbeRedirects follows redirects on the site's host only, and fails
// loops.
func TestProbeRedirects(t *testing.T) {
	t.Parallel()
	var rec probeRecorder
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.record(r)
		switch p := r.URL.Path; {
		case p == "/moved":
			http.Redirect(w, r, "/home", http.StatusMovedPermanently)
		case p == "/slash":
			// As WordPress's redirect_canonical does: the query, cache-busting
			// value included, goes along.
			http.Redirect(w, r, "/slash/?"+r.URL.RawQuery, http.StatusMovedPermanently)
		case p == "/loop-a":
			http.Redirect(w, r, "/loop-b", http.StatusFound)
		case p == "/loop-b":
			http.Redirect(w, r, "/loop-a", http.StatusFound)
		case strings.HasPrefix(p, "/chain/"):
			var n int
			fmt.Sscanf(p, "/chain/%d", &n)
			http.Redirect(w, r, fmt.Sprintf("/chain/%d", n+1), http.StatusTemporaryRedirect)
		case strings.HasPrefix(p, "/chain5/"):
			var n int
			fmt.Sscanf(p, "/chain5/%d", &n)
			if n < 5 {
				http.Redirect(w, r, fmt.Sprintf("/chain5/%d", n+1), http.StatusFound)
			}
		case p == "/offsite":
			http.Redirect(w, r, "https://www.example.invalid/?"+r.URL.RawQuery, http.StatusMovedPermanently)
		case p == "/to-broken":
			http.Redirect(w, r, "/broken", http.StatusFound)
		case p == "/broken":
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	t.Cleanup(srv.Close)

	for _, tc := range []struct {
		path     string
		bad      bool
		status   int
		reason   string
		url      string // path of the deciding request
		redirect string
		requests int
	}{
		{"/moved", false, 200, "", "/home", "", 2},
		{"/slash", false, 200, "", "/slash/", "", 2},
		{"/loop-a", true, 302, "redirect loop to " + srv.URL + "/loop-a", "/loop-b", "", 2},
		{"/chain/0", true, 307, "more than 5 redirects", "/chain/5", "", 6},
		{"/chain5/0", false, 200, "", "/chain5/5", "", 6},
		{"/offsite", false, 301, "", "/offsite", "https://www.example.invalid/", 1},
		{"/to-broken", true, 503, "status 503", "/broken", "", 2},
	} {
		t.Run(tc.path, func(t *testing.T) {
			before := len(rec.requests())
			r := probeSite(t, ProbeOptions{URL: srv.URL + tc.path})
			assert.Equal(t, tc.bad, r.Bad)
			assert.Equal(t, tc.status, r.Status)
			assert.Equal(t, tc.reason, r.Reason)
			assert.Equal(t, srv.URL+tc.url, r.URL)
			assert.Equal(t, tc.redirect, r.Redirect)
			assert.Equal(t, tc.requests, r.Requests)
			reqs := rec.requests()[before:]
			require.Len(t, reqs, tc.requests)
			seen := map[string]bool{}
			for _, req := range reqs {
				values := req.URL.Query()[cacheBustParam]
				require.Len(t, values, 1, "one cache-busting value in %s", req.URL)
				assert.False(t, seen[values[0]], "a fresh value on every hop: %s", req.URL)
				seen[values[0]] = true
				assert.Equal(t, "no-cache", req.Header.Get("Cache-Control"))
			}
		})
	}
}

// TestProbeBodySignatures checks what in a body makes a page bad, on what
// PHP 8.2 and WordPress print (the stack shows them for real in
// TestProbeSite and TestProbeBrokenSite) and on near misses.
func TestProbeBodySignatures(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, body string
		want       []string
	}{
		{"empty", "", nil},
		{"a page", "<html><body><p>Hello world!</p></body></html>", nil},
		{"critical error", `<div class="wp-die-message"><p>There has been a critical error on this website.</p><p><a href="https://wordpress.org/support/article/faq-troubleshooting/">Learn more about troubleshooting WordPress.</a></p></div>`,
			[]string{"critical error page"}},
		{"critical error, recovery mode", `<p>There has been a critical error on this website, putting it in recovery mode. Please check the Themes and Plugins screens for more details.</p>`,
			[]string{"critical error page"}},
		{"critical error, admin email", `<p>There has been a critical error on this website. Please check your site admin email inbox for instructions.</p>`,
			[]string{"critical error page"}},
		{"critical error, WordPress 5.3", `<p>There has been a critical error on your website.</p>`, []string{"critical error page"}},
		{"technical difficulties, WordPress 5.2", `<p>The site is experiencing technical difficulties.</p>`, []string{"critical error page"}},
		{"html_errors on", "<html>before\n<br />\n<b>Fatal error</b>:  Uncaught Error: Call to undefined function nope() in /tmp/f.php:3\nStack trace:\n#0 {main}\n  thrown in <b>/tmp/f.php</b> on line <b>3</b><br />\n",
			[]string{"PHP fatal error in body"}},
		{"html_errors off", "<html>before\n\nFatal error: Uncaught Error: Call to undefined function nope() in /tmp/f.php:3\nStack trace:\n#0 {main}\n  thrown in /tmp/f.php on line 3\n",
			[]string{"PHP fatal error in body"}},
		{"memory exhausted", "<br />\n<b>Fatal error</b>:  Allowed memory size of 2097152 bytes exhausted (tried to allocate 4198400 bytes) in <b>/tmp/f.php</b> on line <b>5</b><br />\n",
			[]string{"PHP fatal error in body"}},
		{"parse error", "<br />\n<b>Parse error</b>:  syntax error, unexpected identifier &quot;is&quot; in <b>/tmp/f.php(6) : eval()'d code</b> on line <b>1</b><br />\n",
			[]string{"PHP fatal error in body"}},
		{"log line", "PHP Fatal error:  Uncaught Error: x in /a.php:3\n", []string{"PHP fatal error in body"}},
		{"critical error after a fatal", "<b>Fatal error</b>:  x in <b>/a.php</b> on line <b>3</b><br />\n<p>There has been a critical error on this website.</p>",
			[]string{"critical error page", "PHP fatal error in body"}},
		{"a warning", "<br />\n<b>Warning</b>:  Undefined variable $x in <b>/a.php</b> on line <b>3</b><br />\n", nil},
		{"a post about fatal errors", "<p>When PHP says Fatal error: Uncaught Error, check the plugin.</p>", nil},
		{"escaped in a post", "<pre>&lt;b&gt;Fatal error&lt;/b&gt;:  Uncaught Error</pre>", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, bodyFailures([]byte(tc.body)))
		})
	}
}

// TestNewProberBadInput rejects what cannot be probed as bad input.
func TestNewProberBadInput(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		o    ProbeOptions
		msg  string
	}{
		{"no URL", ProbeOptions{}, `probe URL ""`},
		{"no scheme", ProbeOptions{URL: "example.com"}, `probe URL "example.com"`},
		{"relative", ProbeOptions{URL: "/wp-login.php"}, "not an absolute http or https URL"},
		{"ftp", ProbeOptions{URL: "ftp://example.com/"}, "not an absolute http or https URL"},
		{"no host", ProbeOptions{URL: "http:///x"}, "not an absolute http or https URL"},
		{"does not parse", ProbeOptions{URL: "http://exa mple.com/"}, "not an absolute http or https URL"},
		{"password hidden", ProbeOptions{URL: "ftp://user:secret@example.com/"}, `"ftp://user:xxxxx@example.com/"`},
		{"password hidden in what does not parse", ProbeOptions{URL: "http://user:secret@exa mple.com/x"}, `"http://user:xxxxx@exa mple.com/x"`},
		{"path without slash", ProbeOptions{URL: "https://example.com/", Paths: []string{"wp-login.php"}}, `probe path "wp-login.php"`},
		{"path to another host", ProbeOptions{URL: "https://example.com/", Paths: []string{"//evil.example/x"}}, `probe path "//evil.example/x"`},
		{"absolute path URL", ProbeOptions{URL: "https://example.com/", Paths: []string{"https://evil.example/"}}, "probe path"},
		{"negative samples", ProbeOptions{URL: "https://example.com/", Samples: -1}, "probe samples -1"},
		{"negative timeout", ProbeOptions{URL: "https://example.com/", Timeout: -time.Second}, "probe timeout -1s"},
		{"resolve a name", ProbeOptions{URL: "https://example.com/", Resolve: "origin.example.com"}, `resolve address "origin.example.com"`},
		{"resolve a bad IP", ProbeOptions{URL: "https://example.com/", Resolve: "300.1.2.3"}, "not an IP address"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := NewProber(tc.o)
			require.Error(t, err)
			assert.Nil(t, p)
			assert.True(t, errors.Is(err, ErrBadInput), "%v is bad input", err)
			assert.Contains(t, err.Error(), tc.msg)
			assert.NotContains(t, err.Error(), "secret")
		})
	}

	for _, o := range []ProbeOptions{
		{URL: "https://example.com"},
		{URL: "http://127.0.0.1:8080/blog/?lang=de#top", Paths: []string{"/blog/wp-login.php", "/?p=1"}, Samples: 3,
			Resolve: "::1", Timeout: time.Second, BadStatus: func(s int) bool { return s >= 400 }},
		{URL: "https://user:pw@example.com/", Resolve: "203.0.113.7"},
	} {
		_, err := NewProber(o)
		assert.NoError(t, err, "%+v", o)
	}
}

// TestProbeBadStatus lets the caller say which statuses are bad.
func TestProbeBadStatus(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(srv.Close)
	assert.False(t, probeSite(t, ProbeOptions{URL: srv.URL}).Bad, "404 is not bad by default")
	r := probeSite(t, ProbeOptions{URL: srv.URL, BadStatus: func(s int) bool { return s >= 400 }})
	assert.True(t, r.Bad)
	assert.Equal(t, "status 404", r.Reason)
}

// TestProbeURLWithoutToken keeps the cache-busting value out of everything
// a probe reports.
func TestProbeURLWithoutToken(t *testing.T) {
	t.Parallel()
	u, err := url.Parse("http://example.com/a?wpfix=1&x=2&wpfix=3")
	require.NoError(t, err)
	c := withCacheBust(u)
	assert.Regexp(t, `^x=2&wpfix=[0-9a-f]{16}$`, c.RawQuery)
	assert.Equal(t, "x=2", stripCacheBust(c.RawQuery))
	assert.Equal(t, "wpfixx=1", stripCacheBust("wpfixx=1&wpfix=2"))
}
