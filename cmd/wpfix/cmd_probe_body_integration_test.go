package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wpfix/wpfix/wp/wptest"
)

// pageProbes are the pages bisect is told to probe besides the front page:
// wp-admin's login page, a feed and the REST API, none of which a page
// breakage touches, with the type each answers.
var pageProbes = []struct{ path, ctype string }{
	{"/wp-login.php", "text/html"},
	{"/feed/", "application/rss+xml"},
	{"/wp-json/", "application/json"},
}

func pageProbeArgs() []string {
	var args []string
	for _, p := range pageProbes {
		args = append(args, "--probe", p.path)
	}
	return args
}

// TestBisectPageBreakages runs the built binary over SSH on real sites
// whose front page answers 200 but is no page: empty (a white screen), or
// cut off by a fatal error after output started, display_errors off. A
// dry run says why the site is broken; bisect finds the plugin, leaves the
// front page, the login page, a feed and /wp-json/ healthy, and restore
// puts everything back.
func TestBisectPageBreakages(t *testing.T) {
	emptyPage := func(t *testing.T, body string) { require.Empty(t, body, "precondition: a white screen") }
	cutOff := func(t *testing.T, body string) {
		require.True(t, strings.HasSuffix(body, "<p>wptest: the page stops here</p>"), "precondition: the page stops in its footer")
		require.NotContains(t, strings.ToLower(body), "</html>", "precondition")
	}
	for _, tc := range []struct {
		name     string
		breakage wptest.Breakage
		reason   string
		page     func(t *testing.T, body string)
		// args are bisect's own: --no-logs makes it find the culprit by
		// probes alone, where PHP's log names the cut-off plugin's file.
		args []string
	}{
		{"empty-page", wptest.BreakEmptyPage, "empty page (white screen)", emptyPage, nil},
		{"cut-off", wptest.BreakCutOff, "page cut off: no </html>", cutOff, nil},
		{"cut-off-no-logs", wptest.BreakCutOff, "page cut off: no </html>", cutOff, []string{"--no-logs"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := newBisectSite(t, wptest.Options{})
			b.st.RunWordPress(t, `global $wp_rewrite; $wp_rewrite->set_permalink_structure( '/%postname%/' ); flush_rewrite_rules();`)
			pagesHealthy := func(t *testing.T, msg string) {
				t.Helper()
				home := b.st.Get(t, "/")
				assert.Equal(t, http.StatusOK, home.Status, msg)
				assert.Contains(t, strings.ToLower(home.Body), "</html>", msg)
				for _, p := range pageProbes {
					page := b.st.Get(t, p.path)
					assert.Equal(t, http.StatusOK, page.Status, "%s %s", msg, p.path)
					assert.True(t, strings.HasPrefix(page.Header.Get("Content-Type"), p.ctype), "%s %s is %s", msg, p.path, page.Header.Get("Content-Type"))
				}
			}
			pagesHealthy(t, "before")

			// Healthy: the probe counts every page as whole.
			r := b.run(t, append([]string{"bisect", "--json"}, pageProbeArgs()...)...)
			require.Equal(t, 0, r.code, r.stderr)
			rep := parseReport(t, r)
			require.Equal(t, "healthy", rep.Verdict, "the front page, wp-login.php, /feed/ and /wp-json/ are healthy: %v", rep.Notes)
			assert.Equal(t, 200, rep.FinalStatus)

			culprits := b.st.Break(t, tc.breakage)
			home := b.st.Get(t, "/")
			require.Equal(t, http.StatusOK, home.Status, "precondition: the status says nothing is wrong")
			tc.page(t, home.Body)
			before := b.state(t)

			r = b.run(t, append([]string{"bisect", "--json", "--dry-run"}, pageProbeArgs()...)...)
			assert.Equal(t, 1, r.code, r.stderr)
			rep = parseReport(t, r)
			assert.Equal(t, "inconclusive", rep.Verdict)
			assert.Contains(t, rep.Notes, "dry run: the site is broken ("+tc.reason+"); nothing was changed")
			b.assertAsBefore(t, before, "a dry run changes nothing")

			r = b.run(t, append(append([]string{"bisect", "--json"}, tc.args...), pageProbeArgs()...)...)
			require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
			rep = parseReport(t, r)
			assert.Equal(t, "culprit_found", rep.Verdict, rep.Notes)
			assert.Equal(t, culprits, rep.Culprits)
			assert.Equal(t, culprits, rep.LeftDisabled)
			assert.Equal(t, 200, rep.FinalStatus)
			t.Logf("%s: %d probes", tc.name, rep.Probes)
			pagesHealthy(t, "after bisect")

			r = b.run(t, "restore")
			require.Equal(t, 0, r.code, r.stderr)
			b.assertAsBefore(t, before, "restore leaves every file and option as before bisect")
			b.assertNoTrace(t)
			tc.page(t, b.st.Get(t, "/").Body)
		})
	}
}
