package wptest_test

import (
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pkg/sftp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wpfix/wpfix/remote/sshtest"
	"github.com/wpfix/wpfix/wp"
	"github.com/wpfix/wpfix/wp/wptest"
)

// siteFiles is how a test reaches the site's files: directly, or through
// SFTP as the site's SSH user would.
type siteFiles interface {
	ReadDir(dir string) ([]string, error)
	Rename(oldpath, newpath string) error
	String() string // how the files are reached, for the test's log
}

type localFiles struct{}

func (localFiles) ReadDir(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names, err
}

func (localFiles) Rename(oldpath, newpath string) error { return os.Rename(oldpath, newpath) }

func (localFiles) String() string { return "locally" }

type sftpFiles struct {
	c   *sftp.Client
	srv *sshtest.Server
}

func (f sftpFiles) String() string { return "over SFTP as " + f.srv.User + "@" + f.srv.Addr }

func (f sftpFiles) ReadDir(dir string) ([]string, error) {
	fis, err := f.c.ReadDir(dir)
	var names []string
	for _, fi := range fis {
		names = append(names, fi.Name())
	}
	return names, err
}

func (f sftpFiles) Rename(oldpath, newpath string) error { return f.c.PosixRename(oldpath, newpath) }

// upstreamFailure matches the lines nginx logs when the PHP worker dies
// under a request.
var upstreamFailure = regexp.MustCompile(`recv\(\) failed \(104: Connection reset by peer\) while reading response header from upstream|upstream prematurely closed connection while reading response header from upstream`)

const terminateTimeout = 2 * time.Second

type scenario struct {
	breakage wptest.Breakage
	status   int
	// bodyHas, nginxLog, fpmLog and debugLog (WordPress's debug.log) must be
	// found after the failing request.
	bodyHas  string
	nginxLog *regexp.Regexp
	fpmLog   *regexp.Regexp
	debugLog *regexp.Regexp
	// minDuration is how long the failing request must at least take.
	minDuration time.Duration
	// flaky: only every other request fails, so two are sent.
	flaky bool
}

var criticalError = "There has been a critical error on this website."

var scenarios = []scenario{
	{breakage: wptest.BreakKillWorker, status: 502, bodyHas: "502 Bad Gateway",
		nginxLog: upstreamFailure, fpmLog: regexp.MustCompile(`child \d+ exited on signal 9 \(SIGKILL\)`)},
	{breakage: wptest.BreakTimeout, status: 502, bodyHas: "502 Bad Gateway", minDuration: terminateTimeout,
		nginxLog: upstreamFailure, fpmLog: regexp.MustCompile(`execution timed out \([\d.]+ sec\), terminating`)},
	{breakage: wptest.BreakFatal, status: 500, bodyHas: criticalError,
		debugLog: regexp.MustCompile(`PHP Fatal error:  Uncaught Error: Call to undefined function wptest_this_function_does_not_exist\(\) in .*/wp-content/plugins/wptest-fatal/wptest-fatal.php`)},
	{breakage: wptest.BreakPair, status: 502, bodyHas: "502 Bad Gateway", nginxLog: upstreamFailure},
	{breakage: wptest.BreakChildTheme, status: 500, bodyHas: criticalError,
		debugLog: regexp.MustCompile(`PHP Fatal error: .* in .*/wp-content/themes/wptest-broken-child/functions.php`)},
	{breakage: wptest.BreakMUPlugin, status: 502, bodyHas: "502 Bad Gateway", nginxLog: upstreamFailure},
	{breakage: wptest.BreakDropin, status: 502, bodyHas: "502 Bad Gateway", nginxLog: upstreamFailure},
	{breakage: wptest.BreakSingleFile, status: 502, bodyHas: "502 Bad Gateway", nginxLog: upstreamFailure},
	{breakage: wptest.BreakFlaky, flaky: true, status: 502, bodyHas: "502 Bad Gateway", nginxLog: upstreamFailure},
}

// TestStack breaks a real site in every named way and mends it by moving
// the culprit's files away, as an admin would: once with direct file access
// and once as the site's SSH user over SFTP. The two stacks run side by side.
func TestStack(t *testing.T) {
	transports := []struct {
		name  string
		setup func(t *testing.T) (*wptest.Stack, siteFiles)
	}{
		{"local", func(t *testing.T) (*wptest.Stack, siteFiles) {
			return wptest.NewStack(t, wptest.Options{RequestTerminateTimeout: terminateTimeout}), localFiles{}
		}},
		{"ssh", func(t *testing.T) (*wptest.Stack, siteFiles) {
			srv := sshtest.NewServer(t, sshtest.Options{})
			st := wptest.NewStack(t, wptest.Options{RequestTerminateTimeout: terminateTimeout, Owner: srv.User})
			return st, sftpFiles{srv.SFTP(t), srv}
		}},
	}
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			t.Parallel()
			st, files := tr.setup(t)

			r := st.Get(t, "/")
			require.Equal(t, 200, r.Status, "fresh front page")
			assert.Contains(t, r.Body, "wptest", "the front page shows the site's title")
			t.Logf("GET / -> %d in %s (WordPress %s)", r.Status, r.Duration.Round(time.Millisecond), st.Version)

			for _, sc := range scenarios {
				t.Run(string(sc.breakage), func(t *testing.T) {
					runScenario(t, st, files, sc)
				})
			}
		})
	}
}

func runScenario(t *testing.T, st *wptest.Stack, files siteFiles, sc scenario) {
	nginxMark, fpmMark, debugMark := size(st.NginxErrorLog), size(st.FPMLog), size(st.DebugLog)
	culprits := st.Break(t, sc.breakage)

	r := st.Get(t, "/")
	if sc.flaky {
		first := r.Status
		r = st.Get(t, "/")
		require.ElementsMatch(t, []int{200, sc.status}, []int{first, r.Status}, "one of two requests fails")
		if r.Status == 200 {
			r = st.Get(t, "/")
		}
	}
	t.Logf("broken by %v: GET / -> %d in %s", culprits, r.Status, r.Duration.Round(time.Millisecond))
	require.Equal(t, sc.status, r.Status)
	assert.Contains(t, r.Body, sc.bodyHas)
	assert.GreaterOrEqual(t, r.Duration, sc.minDuration)
	if sc.status == 502 {
		assert.True(t, strings.HasPrefix(r.Header.Get("Server"), "nginx/"), "the 502 comes from nginx, Server: %q", r.Header.Get("Server"))
	}
	if sc.nginxLog != nil {
		line := waitForLine(t, st.NginxErrorLog, nginxMark, sc.nginxLog)
		t.Logf("nginx error.log: %s", line)
	}
	if sc.fpmLog != nil {
		line := waitForLine(t, st.FPMLog, fpmMark, sc.fpmLog)
		t.Logf("php-fpm log: %s", line)
	}

	if sc.debugLog != nil {
		line := waitForLine(t, st.DebugLog, debugMark, sc.debugLog)
		t.Logf("debug.log: %s", line)
	}

	if sc.breakage == wptest.BreakPair {
		// Either plugin alone is healthy; only the two together fail.
		for _, c := range culprits {
			moveAway(t, st, files, c)
			assert.Equal(t, 200, st.Get(t, "/").Status, "pair without %s", c.Name)
			moveBack(t, st, files, c)
		}
		assert.Equal(t, sc.status, st.Get(t, "/").Status, "pair together again")
	}

	for _, c := range culprits {
		moveAway(t, st, files, c)
	}
	r = st.Get(t, "/")
	t.Logf("moved %v away %s: GET / -> %d", culprits, files, r.Status)
	assert.Equal(t, 200, r.Status, "healthy once the culprits are moved away")
	assert.NotContains(t, r.Body, criticalError)
}

// extensionPath is where an extension's files are.
func extensionPath(st *wptest.Stack, e wp.Extension) string {
	switch e.Kind {
	case wp.KindPlugin:
		return filepath.Join(st.PluginDir, e.Name)
	case wp.KindMUPlugin:
		return filepath.Join(st.MUPluginDir, e.Name)
	case wp.KindDropin:
		return filepath.Join(st.ContentDir, e.Name)
	case wp.KindTheme:
		return filepath.Join(st.ThemeDir, e.Name)
	}
	panic("unknown kind " + e.Kind)
}

// moveAway renames an extension to <name>-back, the admin's classic fix,
// and checks the listing shows the change.
func moveAway(t *testing.T, st *wptest.Stack, files siteFiles, e wp.Extension) {
	t.Helper()
	p := extensionPath(st, e)
	names, err := files.ReadDir(filepath.Dir(p))
	require.NoError(t, err)
	require.Contains(t, names, e.Name)
	require.NoError(t, files.Rename(p, p+"-back"))
	names, err = files.ReadDir(filepath.Dir(p))
	require.NoError(t, err)
	assert.NotContains(t, names, e.Name)
	assert.Contains(t, names, e.Name+"-back")
}

func moveBack(t *testing.T, st *wptest.Stack, files siteFiles, e wp.Extension) {
	t.Helper()
	p := extensionPath(st, e)
	require.NoError(t, files.Rename(p+"-back", p))
}

func size(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// waitForLine waits (the daemons write asynchronously) for a line matching
// re after byte offset from in a log, and returns it.
func waitForLine(t *testing.T, path string, from int64, re *regexp.Regexp) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, err := os.ReadFile(path)
		require.NoError(t, err)
		if int64(len(b)) > from {
			for _, line := range strings.Split(string(b[from:]), "\n") {
				if re.MatchString(line) {
					return strings.TrimSpace(line)
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no line matching %q in %s after offset %d; new lines:\n%s", re, path, from, b[min(from, int64(len(b))):])
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestPoolExhausted shows pm.max_children taking effect: more slow requests
// at once than the pool has workers make php-fpm say so in its log.
func TestPoolExhausted(t *testing.T) {
	t.Parallel()
	st := wptest.NewStack(t, wptest.Options{MaxChildren: 2})
	st.ActivatePlugins(t, st.AddPlugin(t, wptest.Plugin{Slug: "wptest-slow",
		Body: "if ( isset( $_GET['wptest_slow'] ) ) { " + wptest.Sleep(time.Second) + " }"}))
	mark := size(st.FPMLog)

	var wg sync.WaitGroup
	statuses := make([]int, 5)
	for i := range statuses {
		wg.Go(func() {
			resp, err := http.Get(st.URL + "/?wptest_slow=1")
			if err != nil {
				return
			}
			resp.Body.Close()
			statuses[i] = resp.StatusCode
		})
	}
	wg.Wait()

	line := waitForLine(t, st.FPMLog, mark, regexp.MustCompile(`server reached pm.max_children setting \(2\), consider raising it`))
	t.Logf("php-fpm log: %s", line)
	assert.Equal(t, []int{200, 200, 200, 200, 200}, statuses, "queued requests are served in the end")
}

// TestOpcache shows Options.Opcache in force: php-fpm never rereads a
// compiled script, so an edit in place stays invisible, while a file that
// is renamed away is gone at once (WordPress stats before it includes).
func TestOpcache(t *testing.T) {
	t.Parallel()
	st := wptest.NewStack(t, wptest.Options{Opcache: true})
	p := filepath.Join(st.Root, "wptest-opcache.php")
	require.NoError(t, os.WriteFile(p, []byte(`<?php echo ini_get('opcache.enable'), ini_get('opcache.validate_timestamps'), ' old';`), 0o644))
	// opcache does not cache a file younger than file_update_protection (2 s).
	old := time.Now().Add(-time.Minute)
	require.NoError(t, os.Chtimes(p, old, old))
	assert.Equal(t, "10 old", st.Get(t, "/wptest-opcache.php").Body, "opcache on, timestamps not checked")
	require.NoError(t, os.WriteFile(p, []byte(`<?php echo 'new';`), 0o644))
	require.NoError(t, os.Chtimes(p, old, old.Add(time.Second)))
	assert.Equal(t, "10 old", st.Get(t, "/wptest-opcache.php").Body, "the edit is not seen")

	culprits := st.Break(t, wptest.BreakKillWorker)
	main := filepath.Join(st.PluginDir, culprits[0].Name, culprits[0].Name+".php")
	require.NoError(t, os.Chtimes(main, old, old)) // old enough to be cached
	require.Equal(t, 502, st.Get(t, "/").Status, "compiled into the cache, then run")
	require.NoError(t, os.Rename(filepath.Join(st.PluginDir, culprits[0].Name), filepath.Join(st.PluginDir, culprits[0].Name+"-back")))
	assert.Equal(t, 200, st.Get(t, "/").Status, "a renamed plugin is not loaded, opcache or not")
}

// TestPersistentObjectCache shows the cache hiding a database write, as a
// Redis object cache does: the broken theme stays active for WordPress
// after the options say otherwise, until the cached copy goes.
func TestPersistentObjectCache(t *testing.T) {
	t.Parallel()
	st := wptest.NewStack(t, wptest.Options{})
	cache := st.AddPersistentObjectCache(t)
	require.Equal(t, 200, st.Get(t, "/").Status)
	var parent string
	st.OptionValue(t, "template", &parent)
	st.Break(t, wptest.BreakChildTheme)
	// The cache still holds the old theme: delete it once so WordPress
	// sees the broken child, then it caches that.
	require.NoError(t, os.WriteFile(cache, nil, 0o644))
	require.Equal(t, 500, st.Get(t, "/").Status)
	require.Equal(t, 500, st.Get(t, "/").Status)

	st.ActivateTheme(t, parent, parent) // straight to the database
	assert.Equal(t, 500, st.Get(t, "/").Status, "the cache hides the database write")
	require.NoError(t, os.WriteFile(cache, nil, 0o644))
	assert.Equal(t, 200, st.Get(t, "/").Status, "seen once the cached copy is gone")
}

// TestSlowPHPTimesOut shows Options.FastCGIReadTimeout and
// Options.PoolSettings in force: nginx gives up on a worker slower than
// fastcgi_read_timeout with a real 504, and a php_admin_value of the pool
// is what the workers run with.
func TestSlowPHPTimesOut(t *testing.T) {
	t.Parallel()
	st := wptest.NewStack(t, wptest.Options{FastCGIReadTimeout: time.Second,
		PoolSettings: []string{"php_admin_value[memory_limit] = 96M"}})
	st.AddMUPlugin(t, "wptest-ini.php", "if ( isset( $_GET['wptest_ini'] ) ) { echo 'memory_limit=' . ini_get( 'memory_limit' ); exit; }"+
		" if ( isset( $_GET['wptest_slow'] ) ) { "+wptest.Sleep(3*time.Second)+" }")
	mark := size(st.NginxErrorLog)

	r := st.Get(t, "/?wptest_ini=1")
	assert.Equal(t, 200, r.Status)
	assert.Contains(t, r.Body, "memory_limit=96M")

	r = st.Get(t, "/?wptest_slow=1")
	assert.Equal(t, 504, r.Status)
	line := waitForLine(t, st.NginxErrorLog, mark, regexp.MustCompile(`upstream timed out \(110`))
	t.Logf("nginx: %s", line)
}
