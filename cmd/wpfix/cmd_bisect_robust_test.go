package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wpfix/wpfix/wp"
	"github.com/wpfix/wpfix/wp/php"
	"github.com/wpfix/wpfix/wp/wptest"
)

// start runs wpfix in the background as runAs would.
func (b *bisectSite) start(t *testing.T, args ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	var out bytes.Buffer
	cmd := exec.Command(wpfixBin, append(append(args, b.target()), b.flags...)...)
	cmd.Env = append(os.Environ(), "HOME="+b.home, "SSH_AUTH_SOCK=")
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd, &out
}

// journalSteps counts the steps in the site's journal, 0 when there is none.
func (b *bisectSite) journalSteps() int {
	raw, err := os.ReadFile(filepath.Join(b.st.ContentDir, ".wpfix", "journal"))
	if err != nil {
		return 0
	}
	var j struct{ Steps []json.RawMessage }
	if json.Unmarshal(raw, &j) != nil {
		return 0
	}
	return len(j.Steps)
}

// waitSteps waits until the journal holds at least n steps.
func (b *bisectSite) waitSteps(t *testing.T, n int, cmd *exec.Cmd, out *bytes.Buffer) int {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if k := b.journalSteps(); k >= n {
			return k
		}
		if cmd.ProcessState != nil {
			break
		}
		time.Sleep(2 * time.Millisecond)
	}
	t.Fatalf("the journal never reached %d steps; wpfix said:\n%s", n, out)
	return 0
}

// TestBisectKilled kills wpfix with SIGKILL at several points of its
// journal, the last near the end (a whole run journals 19 steps); wpfix
// restore then leaves the site exactly as before.
func TestBisectKilled(t *testing.T) {
	for _, at := range []int{1, 2, 5, 12, 18} {
		t.Run("step-"+strconv.Itoa(at), func(t *testing.T) {
			t.Parallel()
			b := newBisectSite(t, wptest.Options{})
			b.st.Break(t, wptest.BreakKillWorker)
			before := b.state(t)

			cmd, out := b.start(t, "bisect", "--json")
			k := b.waitSteps(t, at, cmd, out)
			require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
			cmd.Wait()
			t.Logf("killed at %d journal steps", k)

			r := b.run(t, "restore")
			require.Equal(t, 0, r.code, r.stderr)
			b.assertAsBefore(t, before, "files and options as before")
			b.assertNoTrace(t, "no lock, journal or quarantine left")

			r = b.run(t, "restore")
			assert.Equal(t, 0, r.code, "restore twice is harmless: %s", r.stderr)
			assert.Contains(t, r.stdout, "Nothing to restore")
		})
	}
}

// TestBisectInterrupted sends SIGINT mid-run: wpfix restores by itself and
// exits 130.
func TestBisectInterrupted(t *testing.T) {
	t.Parallel()
	b := newBisectSite(t, wptest.Options{})
	b.st.Break(t, wptest.BreakKillWorker)
	before := b.state(t)
	cmd, out := b.start(t, "bisect")
	b.waitSteps(t, 6, cmd, out)
	require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
	err := cmd.Wait()
	require.Error(t, err)
	assert.Equal(t, 130, cmd.ProcessState.ExitCode(), out.String())
	assert.Contains(t, out.String(), "interrupted")
	b.assertAsBefore(t, before)
}

// TestBisectLocked: a second run on the same site exits 4 at once and
// changes nothing.
func TestBisectLocked(t *testing.T) {
	t.Parallel()
	b := newBisectSite(t, wptest.Options{RequestTerminateTimeout: 2 * time.Second})
	b.st.Break(t, wptest.BreakTimeout) // every failing probe takes 2 s: a long run
	cmd, out := b.start(t, "bisect")
	b.waitSteps(t, 1, cmd, out)

	start := time.Now()
	r := b.run(t, "bisect", "--json")
	assert.Equal(t, 4, r.code, r.stderr)
	assert.Contains(t, r.stderr, "another wpfix run holds the site's lock (wpfix bisect, pid")
	assert.Less(t, time.Since(start), 20*time.Second)
	r = b.run(t, "restore")
	assert.Equal(t, 4, r.code, "restore waits its turn too: %s", r.stderr)

	require.NoError(t, cmd.Wait(), out.String())
	assert.Equal(t, 200, b.st.Get(t, "/").Status, "the first run finished its job")
}

// TestBisectReadOnly: wpfix cannot write its journal, so it changes nothing
// and says why.
func TestBisectReadOnly(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to make wp-content read-only to the SSH user")
	}
	t.Parallel()
	b := newBisectSite(t, wptest.Options{})
	b.st.Break(t, wptest.BreakKillWorker)
	require.NoError(t, os.Chmod(b.st.ContentDir, 0o555))
	t.Cleanup(func() { os.Chmod(b.st.ContentDir, 0o755) })
	before := b.state(t)
	r := b.run(t, "bisect", "--json")
	assert.Equal(t, 3, r.code, r.stderr)
	assert.Contains(t, r.stderr, "for the journal (wpfix changes nothing without one)")
	assert.Contains(t, r.stderr, "permission denied")
	b.assertAsBefore(t, before)
}

// TestBisectWithAdminVisiting has a logged-in admin load the plugins screen
// all through the bisection, which makes WordPress deactivate every plugin
// whose file is missing: afterwards active_plugins is still as before.
func TestBisectWithAdminVisiting(t *testing.T) {
	t.Parallel()
	b := newBisectSite(t, wptest.Options{})
	admin := login(t, b.st)
	b.st.Break(t, wptest.BreakKillWorker)
	before := b.state(t)

	done := make(chan struct{})
	var wg sync.WaitGroup
	var visits, deactivations int
	wg.Go(func() {
		for {
			select {
			case <-done:
				return
			default:
			}
			resp, err := admin.Get(b.st.URL + "/wp-admin/plugins.php")
			if err == nil {
				body, _ := readAll(resp)
				visits++
				if strings.Contains(body, "has been deactivated due to an error") {
					deactivations++
				}
			}
		}
	})
	r := b.run(t, "bisect", "--json")
	close(done)
	wg.Wait()
	require.Equal(t, 0, r.code, r.stderr)
	t.Logf("the admin loaded plugins.php %d times, %d of them deactivating plugins", visits, deactivations)
	assert.Greater(t, visits, 0)
	rep := parseReport(t, r)
	assert.Equal(t, "culprit_found", rep.Verdict)
	assert.Equal(t, []wp.Extension{{Kind: wp.KindPlugin, Name: "wptest-kill-worker"}}, rep.Culprits)
	// Every innocent plugin is still active. The culprit may not be: a visit
	// that ends after bisect finds its file gone and deactivates it, as
	// WordPress does for any missing plugin; restore brings it back.
	activeBefore := activePlugins(t, before.Options["active_plugins"])
	activeAfter := activePlugins(t, b.state(t).Options["active_plugins"])
	assert.Subset(t, activeAfter, slices.DeleteFunc(activeBefore, func(f string) bool {
		return strings.HasPrefix(f, "wptest-kill-worker/")
	}), "no innocent plugin was deactivated")
	r = b.run(t, "restore")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, before.Options["active_plugins"], b.state(t).Options["active_plugins"],
		"after restore, active_plugins is exactly as before")
}

func activePlugins(t *testing.T, raw string) []string {
	t.Helper()
	v, err := php.Unserialize([]byte(raw))
	require.NoError(t, err)
	list, err := php.StringList(v)
	require.NoError(t, err)
	return list
}

// login signs in to wp-admin as the stack's admin.
func login(t *testing.T, st *wptest.Stack) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	u, _ := url.Parse(st.URL)
	jar.SetCookies(u, []*http.Cookie{{Name: "wordpress_test_cookie", Value: "WP Cookie check"}})
	resp, err := c.PostForm(st.URL+"/wp-login.php", url.Values{"log": {st.AdminUser}, "pwd": {st.AdminPassword},
		"testcookie": {"1"}, "redirect_to": {st.URL + "/wp-admin/"}})
	require.NoError(t, err)
	body, _ := readAll(resp)
	require.Equal(t, 200, resp.StatusCode, "logged in and shown the dashboard: %.300s", body)
	require.Contains(t, body, "Dashboard")
	return c
}

func readAll(resp *http.Response) (string, error) {
	defer resp.Body.Close()
	var b bytes.Buffer
	_, err := b.ReadFrom(resp.Body)
	return b.String(), err
}

// TestBisectRelocatedPlugins: WP_PLUGIN_DIR points outside wp-content, as
// some hosts set it.
func TestBisectRelocatedPlugins(t *testing.T) {
	t.Parallel()
	b := newBisectSite(t, wptest.Options{})
	b.st.Break(t, wptest.BreakKillWorker)
	moved := filepath.Join(filepath.Dir(b.st.Root), "shared-plugins")
	require.NoError(t, os.Rename(b.st.PluginDir, moved))
	cfg := filepath.Join(b.st.Root, "wp-config.php")
	raw, err := os.ReadFile(cfg)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(cfg, []byte(strings.Replace(string(raw), "/* That's all",
		"define( 'WP_PLUGIN_DIR', '"+moved+"' );\n/* That's all", 1)), 0o644))
	require.Equal(t, 502, b.st.Get(t, "/").Status, "still broken, from the new place")

	r := b.run(t, "bisect", "--json")
	require.Equal(t, 0, r.code, r.stderr)
	rep := parseReport(t, r)
	assert.Equal(t, []wp.Extension{{Kind: wp.KindPlugin, Name: "wptest-kill-worker"}}, rep.Culprits)
	assert.Equal(t, 200, b.st.Get(t, "/").Status)
	r = b.run(t, "restore")
	require.Equal(t, 0, r.code, r.stderr)
	assert.DirExists(t, filepath.Join(moved, "wptest-kill-worker"), "put back where it was")
}

// TestBisectCannotMove: the SSH user may write wp-content but not move a
// plugin folder another user owns; wpfix says so and puts everything back.
func TestBisectCannotMove(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give a plugin folder to another user")
	}
	t.Parallel()
	b := newBisectSite(t, wptest.Options{})
	b.st.Break(t, wptest.BreakKillWorker)
	locked := filepath.Join(b.st.PluginDir, "wptest-fine-2")
	require.NoError(t, os.Chown(locked, 0, 0))
	require.NoError(t, os.Chmod(locked, 0o755))
	before := b.state(t)

	r := b.run(t, "bisect", "--json")
	assert.Equal(t, 1, r.code, "the site is still broken")
	assert.Contains(t, r.stderr, "rename "+locked+" on "+b.srv.Host+": permission denied")
	assert.Contains(t, r.stderr, "every change was put back")
	b.assertAsBefore(t, before, "nothing changed")
}

// TestBisectLogHint: a PHP fatal names its plugin in debug.log, so bisect
// tries that plugin first and needs three probes in all; a wrong or absent
// hint costs the usual search.
func TestBisectLogHint(t *testing.T) {
	t.Parallel()
	b := newBisectSite(t, wptest.Options{})
	var files []string
	for i := range 20 {
		files = append(files, b.st.AddPlugin(t, wptest.Plugin{Slug: "wptest-more-" + strconv.Itoa(i)}))
	}
	b.st.ActivatePlugins(t, files...)
	culprits := b.st.Break(t, wptest.BreakFatal)

	r := b.run(t, "bisect", "--json")
	require.Equal(t, 0, r.code, r.stderr)
	rep := parseReport(t, r)
	assert.Equal(t, culprits, rep.Culprits)
	assert.Equal(t, 3, rep.Probes, "baseline, all on but the blamed plugin, the blamed plugin alone")
	assert.Contains(t, rep.Notes, "found where the logs pointed: plugin wptest-fatal")

	require.Equal(t, 0, b.run(t, "restore").code)
	r = b.run(t, "bisect", "--json", "--no-logs")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Greater(t, parseReport(t, r).Probes, 3, "without the logs, the search")
}
