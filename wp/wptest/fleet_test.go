package wptest_test

import (
	"context"
	"crypto/tls"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wpfix/wpfix/remote"
	"github.com/wpfix/wpfix/wp/wptest"
)

// fleetGet is a GET of a fleet site's path that a goroutine may make: no
// testing.TB inside.
func fleetGet(ctx context.Context, url string) (status int, body string, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, "", err
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// TestFleet starts 100 sites on 4 SSH servers and checks that every one
// answers with its own title, and that each server reaches its sites'
// files.
func TestFleet(t *testing.T) {
	const sites, servers = 100, 4
	f := wptest.NewFleet(t, wptest.FleetOptions{Sites: sites, Servers: servers})
	t.Logf("%d sites on %d servers started in %v", sites, servers, f.StartTime.Round(time.Millisecond))
	assert.Less(t, f.StartTime, 120*time.Second, "the issue's target is under a minute")
	require.Len(t, f.Sites, sites)
	require.Len(t, f.Servers, servers)

	type answer struct {
		status int
		body   string
		err    error
	}
	answers := make([]answer, sites)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	start := time.Now()
	for i, s := range f.Sites {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			a := &answers[i]
			a.status, a.body, a.err = fleetGet(ctx, s.URL+"/")
		}()
	}
	wg.Wait()
	t.Logf("GET / of %d sites took %v", sites, time.Since(start).Round(time.Millisecond))
	urls := map[string]bool{}
	for i, s := range f.Sites {
		a := answers[i]
		require.NoError(t, a.err, s.String())
		assert.Equal(t, http.StatusOK, a.status, s.String())
		assert.Contains(t, a.body, "<title>"+s.Blogname, s.String())
		assert.Equal(t, wptest.SiteName(i), s.Name)
		assert.Equal(t, i%servers, s.Server)
		assert.False(t, urls[s.URL], "%s: URL taken by another site", s)
		urls[s.URL] = true
	}
	// Each site's own database, installed.
	var home string
	require.NoError(t, f.Sites[57].DB().QueryRow("SELECT option_value FROM wp_options WHERE option_name = 'home'").Scan(&home))
	assert.Equal(t, f.Sites[57].URL, home)

	// Each server lets its user in, and the user owns (and reads) its
	// sites' files, as wpfix check would.
	for n, srv := range f.Servers {
		h, err := remote.Open(context.Background(),
			remote.Target{User: srv.User, Host: srv.Host, Port: srv.Port, Path: f.Sites[n].Root},
			remote.Options{Identity: srv.KeyFile, KnownHosts: srv.KnownHostsFile, ConfigFile: "none"})
		require.NoError(t, err, "server %d", n)
		for i := n; i < sites; i += servers * 10 {
			s := f.Sites[i]
			require.Same(t, srv, f.ServerOf(s))
			b, err := h.ReadFile(context.Background(), filepath.Join(s.Root, "wp-config.php"))
			require.NoError(t, err, s.String())
			assert.Contains(t, string(b), "define( 'DB_NAME', '"+s.DBName+"' );", s.String())
			assert.Contains(t, string(b), "define( 'WP_DEBUG', false );", s.String())
		}
		h.Close()
	}
}

// TestFleetBreaks breaks sites of one fleet in each named way and checks
// that each is broken as said while the others stay healthy.
func TestFleetBreaks(t *testing.T) {
	f := wptest.NewFleet(t, wptest.FleetOptions{Sites: 7, Servers: 1, TLS: true,
		CertDaysLeft: map[int]int{1: 5, 2: -1}})
	t.Logf("7 sites started in %v", f.StartTime.Round(time.Millisecond))
	kill, fatal, debug, autoload, uploads, database, healthy :=
		f.Sites[0], f.Sites[1], f.Sites[2], f.Sites[3], f.Sites[4], f.Sites[5], f.Sites[6]

	// Every site has the files the installed first one has, and its own
	// wp-config.php.
	first, err := treeOf(f.Sites[0].Root)
	require.NoError(t, err)
	for _, s := range f.Sites[1:] {
		files, err := treeOf(s.Root)
		require.NoError(t, err)
		require.Equal(t, first, files, s.String())
		a, err := os.Stat(filepath.Join(f.Sites[0].Root, "wp-config.php"))
		require.NoError(t, err)
		b, err := os.Stat(filepath.Join(s.Root, "wp-config.php"))
		require.NoError(t, err)
		require.False(t, os.SameFile(a, b), "%s: wp-config.php is its own", s)
	}
	if os.Geteuid() == 0 {
		// The server's user owns every site, its own directories and files
		// and the shared ones alike.
		for _, rel := range []string{".", "wp-config.php", "wp-content/plugins", "wp-includes/version.php"} {
			fi, err := os.Stat(filepath.Join(f.Sites[3].Root, rel))
			require.NoError(t, err)
			assert.Equal(t, uint32(f.Servers[0].UID), fi.Sys().(*syscall.Stat_t).Uid, rel)
		}
	}

	culprits := kill.Break(t, wptest.BreakKillWorker)
	require.Len(t, culprits, 1)
	assert.Equal(t, http.StatusBadGateway, kill.Get(t, "/").Status)

	fatal.Break(t, wptest.BreakFatal)
	r := fatal.Get(t, "/")
	assert.Equal(t, http.StatusInternalServerError, r.Status)
	assert.Contains(t, r.Body, "critical error")
	logged, err := os.ReadFile(fatal.PHPErrorLog)
	require.NoError(t, err)
	assert.Contains(t, string(logged), "wptest_this_function_does_not_exist", "the fatal goes to the site's own PHP error log")

	assert.Nil(t, debug.Break(t, wptest.BreakWPDebug))
	cfg, err := os.ReadFile(filepath.Join(debug.Root, "wp-config.php"))
	require.NoError(t, err)
	assert.Contains(t, string(cfg), "define( 'WP_DEBUG', true );")
	assert.Equal(t, http.StatusOK, debug.Get(t, "/").Status)

	autoload.Break(t, wptest.BreakHugeAutoload)
	var size int
	require.NoError(t, f.DB().QueryRow("SELECT SUM(LENGTH(option_value)) FROM `"+autoload.DBName+
		"`.wp_options WHERE autoload = 'yes'").Scan(&size))
	assert.Greater(t, size, wptest.HugeOptionSize)
	assert.Equal(t, http.StatusOK, autoload.Get(t, "/").Status)

	uploads.Break(t, wptest.BreakUploadsPHP)
	r = uploads.Get(t, "/wp-content/"+wptest.UploadsPHPFile)
	assert.Equal(t, http.StatusOK, r.Status)
	assert.Equal(t, "wptest", r.Body, "the PHP file in uploads runs")

	database.Break(t, wptest.BreakDatabase)
	r = database.Get(t, "/")
	assert.Equal(t, http.StatusInternalServerError, r.Status)
	assert.Contains(t, r.Body, "Error establishing a database connection")
	_, err = database.DB().Exec("SELECT 1")
	assert.Error(t, err, "the site's user is locked out of MariaDB")

	// Nothing of it reached the healthy site: not the hard-linked files,
	// not the shared MariaDB.
	r = healthy.Get(t, "/")
	assert.Equal(t, http.StatusOK, r.Status)
	assert.Contains(t, r.Body, "<title>"+healthy.Blogname)
	assert.NotContains(t, r.Body, "wptest-kill-worker")
	cfg, err = os.ReadFile(filepath.Join(healthy.Root, "wp-config.php"))
	require.NoError(t, err)
	assert.Contains(t, string(cfg), "define( 'WP_DEBUG', false );")
	assert.NoFileExists(t, filepath.Join(healthy.ContentDir, wptest.UploadsPHPFile))
	assert.NoFileExists(t, filepath.Join(healthy.PluginDir, "wptest-kill-worker/wptest-kill-worker.php"))
	assert.Empty(t, healthy.ActivePlugins(t))
	_, found := healthy.Option(t, wptest.HugeOptionName)
	assert.False(t, found)

	// Certificates: trusted through the fleet's CA, one expiring, one expired.
	for i, want := range map[int]string{0: "", 1: "", 2: "expired"} {
		s := f.Sites[i]
		addr := strings.TrimPrefix(s.HTTPSURL, "https://")
		conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: f.Roots, ServerName: "127.0.0.1"})
		if want != "" {
			require.Error(t, err, s.String())
			assert.Contains(t, err.Error(), want, s.String())
			conn, err = tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true})
		}
		require.NoError(t, err, s.String())
		notAfter := conn.ConnectionState().PeerCertificates[0].NotAfter
		conn.Close()
		assert.True(t, notAfter.Equal(s.CertNotAfter), "%s: %v, want %v", s, notAfter, s.CertNotAfter)
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: f.Roots}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(healthy.HTTPSURL + "/")
	require.NoError(t, err)
	resp.Body.Close()
	t.Logf("GET %s/: %s %s", healthy.HTTPSURL, resp.Status, resp.Header.Get("Location"))
	assert.Equal(t, healthy.URL+"/", resp.Header.Get("Location"), "WordPress sends HTTPS to its home")
	assert.InDelta(t, 5*24, time.Until(f.Sites[1].CertNotAfter).Hours(), 1)
	assert.InDelta(t, 90*24, time.Until(f.Sites[0].CertNotAfter).Hours(), 1)

	database.StartDatabase(t)
	assert.Equal(t, http.StatusOK, database.Get(t, "/").Status)

	// A shared core file, unshared, is the site's own to write.
	const rel = "wp-includes/version.php"
	fatal.Unshare(t, rel)
	a, err := os.Stat(filepath.Join(fatal.Root, rel))
	require.NoError(t, err)
	b, err := os.Stat(filepath.Join(healthy.Root, rel))
	require.NoError(t, err)
	assert.False(t, os.SameFile(a, b), "unshared")
	c, err := os.Stat(filepath.Join(kill.Root, rel))
	require.NoError(t, err)
	assert.True(t, os.SameFile(b, c), "other sites still share it")
	assert.True(t, strings.HasPrefix(healthy.Version, "6."), healthy.Version)
}

// treeOf lists the paths below root.
func treeOf(root string) ([]string, error) {
	var paths []string
	err := filepath.WalkDir(root, func(p string, _ fs.DirEntry, err error) error {
		rel, _ := filepath.Rel(root, p)
		paths = append(paths, rel)
		return err
	})
	return paths, err
}
