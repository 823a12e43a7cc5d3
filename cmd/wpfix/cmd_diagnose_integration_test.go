package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wpfix/wpfix/agent"
	"github.com/wpfix/wpfix/wp/wptest"
)

func diagnose(t *testing.T, b *bisectSite, args ...string) (result, agent.DiagnoseReport) {
	t.Helper()
	r := b.run(t, append([]string{"diagnose", "--json"}, args...)...)
	var rep agent.DiagnoseReport
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &rep), "stdout: %s\nstderr: %s", r.stdout, r.stderr)
	return r, rep
}

func causeIDs(rep agent.DiagnoseReport) []string {
	ids := []string{}
	for _, c := range rep.Causes {
		ids = append(ids, c.ID)
	}
	return ids
}

// TestDiagnoseKilledWorker: a plugin kills its PHP worker; diagnose sees
// nginx's real 502, the log lines of the death, and sends the user to
// bisect, changing nothing.
func TestDiagnoseKilledWorker(t *testing.T) {
	t.Parallel()
	b := newBisectSite(t, wptest.Options{})
	b.st.Break(t, wptest.BreakKillWorker)
	require.Equal(t, 502, b.st.Get(t, "/").Status)
	before := b.state(t)

	r, rep := diagnose(t, b)
	assert.Equal(t, 1, r.code, r.stderr)
	assert.False(t, rep.Healthy)
	assert.True(t, rep.Probe.Bad)
	assert.Equal(t, 502, rep.Probe.Status)
	assert.Contains(t, rep.Probe.Server, "nginx")
	assert.Nil(t, rep.Probe.CDN)
	assert.True(t, rep.DB.Reachable, rep.DB.Error)
	assert.Equal(t, b.st.Version, rep.Versions.WordPress)
	assert.NotEmpty(t, rep.Versions.PHP)
	require.NotNil(t, rep.DNS)
	assert.True(t, rep.DNS.IsIP)
	assert.Nil(t, rep.TLS, "http: no certificate to check")
	require.NotNil(t, rep.Disk)
	sigs := map[string]bool{}
	for _, l := range rep.Logs {
		sigs[l.Signature] = true
	}
	assert.True(t, sigs["fpm-child-killed"] && sigs["nginx-upstream-reset"], "the death in the logs: %v", sigs)
	require.NotEmpty(t, rep.Causes)
	assert.Equal(t, "worker-died", rep.Causes[0].ID, "%+v", rep.Causes)
	assert.Contains(t, rep.Causes[0].Next, "wpfix bisect "+b.target())

	b.assertAsBefore(t, before, "diagnose changes nothing")
	b.assertNoTrace(t)
	assert.Empty(t, helperFiles(t, b.st.Root))

	r = b.run(t, "diagnose")
	assert.Equal(t, 1, r.code, r.stderr)
	assert.Contains(t, r.stdout, "Likely causes, most likely first:\n1. PHP workers die while making the page")
	assert.Contains(t, r.stdout, "next: wpfix bisect ")
	t.Logf("wpfix diagnose:\n%s", r.stdout)
}

// TestDiagnoseDatabaseDown: with MariaDB stopped, diagnose still runs
// (given the URL, which only the database knew) and names the database.
func TestDiagnoseDatabaseDown(t *testing.T) {
	t.Parallel()
	b := newBisectSite(t, wptest.Options{})
	b.st.StopDatabase()

	r := b.run(t, "info")
	require.Equal(t, 3, r.code, "info needs the database: %s", r.stderr)

	r = b.run(t, "diagnose")
	assert.Equal(t, 2, r.code, "no URL without the database")
	assert.Contains(t, r.stderr, "--url")

	r, rep := diagnose(t, b, "--url", b.st.URL)
	assert.Equal(t, 1, r.code, r.stderr)
	assert.False(t, rep.DB.Reachable)
	assert.NotEmpty(t, rep.DB.Error)
	assert.True(t, rep.Probe.Bad, "WordPress cannot make a page")
	require.NotEmpty(t, rep.Causes)
	assert.Equal(t, "database-down", rep.Causes[0].ID, "%+v", rep.Causes)

	// limits goes on from the configs: no journal without the database,
	// so no helper.
	r = b.run(t, "limits", "--json")
	require.Equal(t, 0, r.code, r.stderr)
	var lim agent.LimitsReport
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &lim), r.stdout)
	assert.Nil(t, lim.PHP)
	assert.NotEmpty(t, lim.Pools)
	require.NotEmpty(t, lim.Notes)
	assert.Contains(t, lim.Notes[len(lim.Notes)-1], "the database cannot be reached")
	assert.Empty(t, helperFiles(t, b.st.Root))
}

// TestDiagnoseDNS probes the origin past a host name that resolves
// nowhere (--resolve), and a name that resolves elsewhere than expected.
func TestDiagnoseDNS(t *testing.T) {
	t.Parallel()
	b := newBisectSite(t, wptest.Options{})
	u, err := url.Parse(b.st.URL)
	require.NoError(t, err)

	r, rep := diagnose(t, b, "--url", "http://wpfix-no-such-host.invalid:"+u.Port()+"/", "--resolve", "127.0.0.1")
	assert.Equal(t, 1, r.code, r.stderr)
	assert.True(t, rep.Probe.Bad)
	require.NotNil(t, rep.Origin)
	assert.False(t, rep.Origin.Bad, "the origin answers: %s", rep.Origin.Reason)
	assert.Equal(t, "127.0.0.1", rep.Origin.Via)
	require.NotNil(t, rep.DNS)
	assert.NotEmpty(t, rep.DNS.Error)
	require.NotEmpty(t, rep.Causes)
	assert.Equal(t, "dns", rep.Causes[0].ID, "%+v", rep.Causes)
	assert.Contains(t, causeIDs(rep), "cdn", "public fails, origin answers")

	r, rep = diagnose(t, b, "--url", "http://localhost:"+u.Port()+"/", "--expect-ip", "192.0.2.10")
	assert.Equal(t, 1, r.code, r.stderr)
	assert.False(t, rep.Probe.Bad, rep.Probe.Reason)
	assert.Equal(t, "dns-unexpected", rep.Causes[0].ID, "%+v", rep.Causes)

	r = b.run(t, "diagnose", "--expect-ip", "not-an-ip")
	assert.Equal(t, 2, r.code)
	r = b.run(t, "diagnose", "--url", "ftp://example.com/")
	assert.Equal(t, 2, r.code, r.stderr)
	assert.Contains(t, r.stderr, "not an absolute http or https URL")
	r = b.run(t, "limits", "--url", "ftp://example.com/")
	assert.Equal(t, 2, r.code, r.stderr)
	assert.Contains(t, r.stderr, "not an absolute http or https URL")
	assert.Empty(t, helperFiles(t, b.st.Root))
	b.assertNoTrace(t, "a bad URL changes nothing")
}

// TestDiagnoseHealthy: a working site exits 0 with no likely cause of
// weight.
func TestDiagnoseHealthy(t *testing.T) {
	t.Parallel()
	b := newBisectSite(t, wptest.Options{})
	r, rep := diagnose(t, b)
	assert.Equal(t, 0, r.code, "%s\n%+v", r.stderr, rep.Causes)
	assert.True(t, rep.Healthy)
	assert.Equal(t, 200, rep.Probe.Status)
	for _, c := range rep.Causes {
		assert.Less(t, c.Score, 50, "%+v", c)
	}
}

// TestPoolExhausted fills a two-worker pool with slow requests: php-fpm
// queues the surplus and logs that it reached pm.max_children, and its
// slowlog has the backtrace of the slow plugin. wpfix logs classifies the
// real lines and blames the plugin; diagnose names the exhausted pool.
func TestPoolExhausted(t *testing.T) {
	t.Parallel()
	b := newBisectSite(t, wptest.Options{MaxChildren: 2, SlowlogTimeout: time.Second})
	b.st.ActivatePlugins(t, b.st.AddPlugin(t, wptest.Plugin{Slug: "wptest-slow",
		Body: "if ( isset( $_GET['wptest_slow'] ) ) { " + wptest.Sleep(2*time.Second) + " }"}))
	var wg sync.WaitGroup
	for range 6 {
		wg.Go(func() {
			if resp, err := http.Get(b.st.URL + "/?wptest_slow=1"); err == nil {
				resp.Body.Close()
			}
		})
	}
	wg.Wait()

	r := b.run(t, "logs", "--json", "-n", "200")
	require.Equal(t, 0, r.code, r.stderr)
	var logs logsReport
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &logs))
	var line string
	for _, sec := range logs.Logs {
		for _, l := range sec.Lines {
			if l.Signature == "fpm-max-children" {
				line = l.Text
				assert.Equal(t, b.st.FPMLog, sec.File.Path)
			}
		}
	}
	assert.Contains(t, line, "server reached pm.max_children setting (2)", "the real line, classified")
	require.NotEmpty(t, logs.Blames, "the slowlog's frames blame the slow plugin")
	assert.Equal(t, "wptest-slow", logs.Blames[0].Name)

	_, rep := diagnose(t, b)
	assert.Contains(t, causeIDs(rep), "pool-exhausted", "%+v", rep.Causes)
}

// TestDiagnoseBehindCDN puts a TLS proxy that answers like Cloudflare in
// front of the real site: diagnose names the CDN from its headers and
// reads its certificate, which no public authority signed.
func TestDiagnoseBehindCDN(t *testing.T) {
	t.Parallel()
	b := newBisectSite(t, wptest.Options{})
	origin, err := url.Parse(b.st.URL)
	require.NoError(t, err)
	proxy := httptest.NewTLSServer(&httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) { r.SetURL(origin) },
		ModifyResponse: func(resp *http.Response) error {
			resp.Header.Set("Server", "cloudflare")
			resp.Header.Set("CF-Ray", "8f1c2a3b4c5d6e7f-FRA")
			return nil
		},
	})
	t.Cleanup(proxy.Close)

	r, rep := diagnose(t, b, "--url", proxy.URL+"/")
	assert.False(t, rep.Probe.Bad, "%s\n%s", rep.Probe.Reason, r.stderr)
	require.NotNil(t, rep.Probe.CDN)
	assert.Equal(t, "Cloudflare", rep.Probe.CDN.Name)
	require.NotNil(t, rep.TLS)
	assert.Empty(t, rep.TLS.Error)
	assert.Positive(t, rep.TLS.DaysLeft)
	assert.Contains(t, rep.TLS.VerifyError, "unknown authority")
	assert.Contains(t, causeIDs(rep), "tls-untrusted")
	assert.Equal(t, 1, r.code, "an untrusted certificate weighs")
}

// TestDiagnosePHPDown stops php-fpm: nginx answers a real 502 and logs
// that it cannot connect; diagnose says php-fpm is not running, and
// limits goes on without PHP's answer.
func TestDiagnosePHPDown(t *testing.T) {
	t.Parallel()
	b := newBisectSite(t, wptest.Options{})
	b.st.StopPHP()
	require.Equal(t, 502, b.st.Get(t, "/").Status)

	r, rep := diagnose(t, b)
	assert.Equal(t, 1, r.code, r.stderr)
	assert.Equal(t, 502, rep.Probe.Status)
	require.NotEmpty(t, rep.Causes)
	assert.Equal(t, "fpm-down", rep.Causes[0].ID, "%+v", rep.Causes)

	r = b.run(t, "limits", "--json")
	require.Equal(t, 0, r.code, "%s\n%s", r.stderr, r.stdout)
	var lim agent.LimitsReport
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &lim), r.stdout)
	assert.Nil(t, lim.PHP)
	for _, p := range lim.Pools {
		assert.False(t, p.ServesSite, "no php-fpm master serves the site (other tests' pools may run): %+v", p)
	}
	assert.NotEmpty(t, lim.Notes)
	assert.Empty(t, helperFiles(t, b.st.Root), "the helper is removed although PHP never answered")
}

// TestDiagnoseTimeout: a plugin sleeps past request_terminate_timeout;
// php-fpm kills the worker (nginx's real 502). diagnose puts the timeout
// first, names the plugin from the slowlog, and sends the user to bisect.
func TestDiagnoseTimeout(t *testing.T) {
	t.Parallel()
	b := newBisectSite(t, wptest.Options{RequestTerminateTimeout: 3 * time.Second, SlowlogTimeout: time.Second})
	b.st.Break(t, wptest.BreakTimeout)
	require.Equal(t, 502, b.st.Get(t, "/").Status)

	r, rep := diagnose(t, b, "--timeout", "10s")
	assert.Equal(t, 1, r.code, r.stderr)
	require.NotEmpty(t, rep.Causes)
	assert.Equal(t, "slow-php", rep.Causes[0].ID, "%+v", rep.Causes)
	assert.Contains(t, rep.Causes[0].Title, "plugin wptest-timeout")
	assert.Contains(t, rep.Causes[0].Next, "wpfix bisect "+b.target())
}
