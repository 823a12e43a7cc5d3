package server_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wpfix/wpfix/remote"
	"github.com/wpfix/wpfix/remote/proctest"
	"github.com/wpfix/wpfix/wp"
	"github.com/wpfix/wpfix/wp/server"
	"github.com/wpfix/wpfix/wp/wptest"
)

// findLogs finds the site at root and its logs, and checks what holds for
// any answer: each path once, those serving the site first, sizes set.
func findLogs(t *testing.T, h remote.Host, root string) map[string]server.LogFile {
	t.Helper()
	ctx := context.Background()
	site, err := wp.Find(ctx, h, root, wp.Options{})
	require.NoError(t, err)
	start := time.Now()
	logs, err := siteLogs(ctx, site)
	require.NoError(t, err)
	t.Logf("SiteLogs on %s: %d logs in %v", h.Name(), len(logs), time.Since(start).Round(time.Millisecond))
	byPath := map[string]server.LogFile{}
	serving := true
	for _, l := range logs {
		t.Logf("  %v %-9s %s (%s)", l.ServesSite, l.Kind, l.Path, l.Source)
		assert.NotContains(t, byPath, l.Path, "listed once")
		byPath[l.Path] = l
		if !l.ServesSite {
			serving = false
		}
		assert.True(t, serving || !l.ServesSite, "%s serves the site but comes after one that does not", l.Path)
		assert.True(t, filepath.IsAbs(l.Path), l.Path)
		assert.NotEmpty(t, l.Source)
	}
	return byPath
}

// siteOf is what the stack's site view takes of a WordPress install.
func siteOf(s *wp.Site) server.Site {
	return server.Site{Root: s.Root, ContentDir: s.ContentDir, ConfigFile: s.ConfigFile,
		DebugLog: s.Config.DebugLogFile(s.ContentDir)}
}

// siteLogs reads the site's host's stack and lists the site's logs, as
// FindLogs did.
func siteLogs(ctx context.Context, s *wp.Site) ([]server.LogFile, error) {
	st, err := server.ReadStack(ctx, s.Host)
	if err != nil {
		return nil, err
	}
	logs, _, err := st.SiteLogs(ctx, siteOf(s))
	return logs, err
}

// stackDir is the folder that holds a stack's configs and logs.
func stackDir(st *wptest.Stack) string { return filepath.Dir(st.NginxErrorLog) }

// TestFindLogs finds every log of a running stack from its running servers,
// locally and over SSH: nginx's from its master's command line and config,
// php-fpm's and PHP's from the php-fpm master's config and the php.ini
// beside it, WordPress's debug.log once a fatal error was logged, and
// cPanel-style error_log files in the docroot.
func TestFindLogs(t *testing.T) {
	for _, r := range reaches[:2] {
		t.Run(r.Name, func(t *testing.T) {
			t.Parallel()
			st, h := r.Open(t, wptest.Options{})
			st.Break(t, wptest.BreakFatal)
			require.Equal(t, 500, st.Get(t, "/").Status)
			debug, err := os.ReadFile(st.DebugLog)
			require.NoError(t, err)
			require.Contains(t, string(debug), "wptest_this_function_does_not_exist", "WordPress logged the fatal error")

			cpanel := filepath.Join(st.Root, "error_log")
			require.NoError(t, os.WriteFile(cpanel, []byte("[23-Nov-2026 01:02:03 UTC] PHP Warning:  x in y on line 1\n"), 0o644))
			adminLog := filepath.Join(st.Root, "wp-admin", "error_log")
			require.NoError(t, os.WriteFile(adminLog, nil, 0o644))
			userINILog := filepath.Join(st.Root, "user-ini-errors.log")
			require.NoError(t, os.WriteFile(filepath.Join(st.Root, ".user.ini"), []byte("; per-folder PHP settings\nerror_log = user-ini-errors.log\n"), 0o644))
			require.NoError(t, os.WriteFile(userINILog, nil, 0o644))
			private := filepath.Join(st.ContentDir, "error_log")
			if os.Geteuid() == 0 {
				require.NoError(t, os.WriteFile(private, nil, 0o600)) // root's, unreadable to the SSH user
			}

			logs := findLogs(t, h, st.Root)
			dir := stackDir(st)
			want := []struct {
				path, kind string
				source     []string
			}{
				{st.NginxErrorLog, server.LogNginx, []string{"nginx master, pid", filepath.Join(dir, "nginx.conf")}},
				{st.FPMLog, server.LogFPM, []string{"php-fpm master, pid", filepath.Join(dir, "php-fpm.conf")}},
				{st.PHPErrorLog, server.LogPHP, []string{"php-fpm master, pid", filepath.Join(dir, "php.ini")}},
				{st.DebugLog, server.LogWordPress, []string{"WP_DEBUG_LOG", filepath.Join(st.Root, "wp-config.php")}},
				{cpanel, server.LogCPanel, []string{"docroot"}},
				{adminLog, server.LogCPanel, []string{"wp-admin"}},
				{userINILog, server.LogPHP, []string{filepath.Join(st.Root, ".user.ini"), "line 2"}},
			}
			for _, w := range want {
				l, ok := logs[w.path]
				if !assert.True(t, ok, "%s is found", w.path) {
					continue
				}
				assert.Equal(t, w.kind, l.Kind, w.path)
				assert.True(t, l.ServesSite, w.path)
				for _, s := range w.source {
					assert.Contains(t, l.Source, s, w.path)
				}
			}
			assert.Greater(t, logs[st.DebugLog].Size, int64(0))
			fi, err := os.Stat(cpanel)
			require.NoError(t, err)
			assert.Equal(t, fi.Size(), logs[cpanel].Size)
			if os.Geteuid() == 0 {
				_, listed := logs[private]
				assert.Equal(t, r.SSH == nil, listed, "an unreadable file is left out")
			}
			for p, l := range logs {
				if l.ServesSite {
					assert.True(t, strings.HasPrefix(p, dir+"/"), "%s serves the site: it is this stack's", p)
				}
			}
		})
	}
}

// TestFindLogsTwoStacks runs two stacks side by side: each one's logs serve
// it, and the other's are listed as not serving it. The nginx master is
// told by the root of its server block, the php-fpm master by the socket
// that block's fastcgi_pass names.
func TestFindLogsTwoStacks(t *testing.T) {
	t.Parallel()
	a, h := reaches[0].Open(t, wptest.Options{})
	b, _ := reaches[0].Open(t, wptest.Options{})
	for _, c := range []struct {
		name      string
		own, peer *wptest.Stack
	}{{"a", a, b}, {"b", b, a}} {
		t.Run(c.name, func(t *testing.T) {
			logs := findLogs(t, h, c.own.Root)
			for _, p := range []string{c.own.NginxErrorLog, c.own.FPMLog, c.own.PHPErrorLog} {
				assert.True(t, logs[p].ServesSite, "%s serves its own stack", p)
			}
			for _, p := range []string{c.peer.NginxErrorLog, c.peer.FPMLog, c.peer.PHPErrorLog} {
				l, ok := logs[p]
				if assert.True(t, ok, "%s of the other stack is listed", p) {
					assert.False(t, l.ServesSite, "%s does not serve this stack", p)
					assert.Contains(t, l.Source, stackDir(c.peer), "found from the other stack's config")
				}
			}
		})
	}
}

// TestFindLogsApache runs a real Apache whose one virtual host has the
// stack's docroot, with ${APACHE_LOG_DIR} set as Debian's apache2ctl sets
// it from envvars: locally the master's environment is read, over SSH
// (where another user's environment is private) the envvars file.
func TestFindLogsApache(t *testing.T) {
	for _, r := range reaches[:2] {
		t.Run(r.Name, func(t *testing.T) {
			t.Parallel()
			bin := proctest.Require(t, "apache2-bin", "apache2")
			st, h := r.Open(t, wptest.Options{})
			w := proctest.NewWorkdir(t, "wpfix-apache")
			logDir := w.Path("logs")
			require.NoError(t, os.MkdirAll(logDir, 0o755))
			require.NoError(t, os.MkdirAll(w.Path("other"), 0o755))
			port := proctest.FreePort(t)
			w.WriteFile("envvars", "unset HOME\nSUFFIX=\nexport APACHE_LOG_DIR="+logDir+"$SUFFIX\nexport LANG=C\n", 0o644)
			user := ""
			if os.Geteuid() == 0 {
				user = "User nobody\nGroup nogroup\n"
			}
			w.WriteFile("apache2.conf", fmt.Sprintf(`# wpfix test Apache
LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so
ServerName localhost
Listen 127.0.0.1:%d
PidFile %s
Mutex file:%s default
DefaultRuntimeDir %s
%sErrorLog ${APACHE_LOG_DIR}/error.log
IncludeOptional sites-enabled/*.conf
`, port, w.Path("apache2.pid"), w.Dir, w.Dir, user), 0o644)
			w.WriteFile("sites-enabled/site.conf", fmt.Sprintf(`<VirtualHost *:%d>
	ServerName site.test
	DocumentRoot %s
	ErrorLog ${APACHE_LOG_DIR}/site-error.log
</VirtualHost>
<VirtualHost *:%d>
	ServerName other.test
	DocumentRoot %s
	ErrorLog ${APACHE_LOG_DIR}/other-error.log
</VirtualHost>
`, port, st.Root, port, w.Path("other")), 0o644)
			cmd := exec.Command(bin, "-d", w.Dir, "-f", "apache2.conf", "-DFOREGROUND")
			cmd.Env = append(os.Environ(), "APACHE_LOG_DIR="+logDir)
			p := w.Start("apache2", cmd)
			proctest.WaitReady(t, p, 20*time.Second, proctest.DialReady("tcp", fmt.Sprintf("127.0.0.1:%d", port)))

			logs := findLogs(t, h, st.Root)
			site := logs[filepath.Join(logDir, "site-error.log")]
			assert.Equal(t, server.LogApache, site.Kind)
			assert.True(t, site.ServesSite, "the virtual host with the docroot")
			assert.Contains(t, site.Source, "ErrorLog in "+w.Path("sites-enabled", "site.conf")+" line 4 (apache2 master, pid")
			assert.True(t, logs[filepath.Join(logDir, "error.log")].ServesSite, "the main server's, where child crashes go")
			other, ok := logs[filepath.Join(logDir, "other-error.log")]
			assert.True(t, ok, "the other virtual host's log is listed")
			assert.False(t, other.ServesSite)
			assert.True(t, logs[st.NginxErrorLog].ServesSite, "nginx serves the same docroot")
		})
	}
}

// newSite writes the least that wp.Find takes for an install, with the
// given wp-config.php lines.
func newSite(t *testing.T, config string) string {
	t.Helper()
	root := t.TempDir()
	for _, d := range []string{"wp-admin", "wp-content"} {
		require.NoError(t, os.Mkdir(filepath.Join(root, d), 0o755))
	}
	require.NoError(t, os.WriteFile(filepath.Join(root, "wp-load.php"), []byte("<?php\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(root, "wp-config.php"), []byte("<?php\n"+config), 0o644))
	return root
}

// TestFindLogsDocroot finds what sits in the docroot, with no server
// needed: a relative WP_DEBUG_LOG, a cPanel error_log, and only files that
// exist.
func TestFindLogsDocroot(t *testing.T) {
	t.Parallel()
	root := newSite(t, "define( 'WP_DEBUG', true );\ndefine( 'WP_DEBUG_LOG', 'logs/wp.log' );\n")
	require.NoError(t, os.Mkdir(filepath.Join(root, "logs"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(root, "logs", "wp.log"), []byte("x"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(root, "error_log"), []byte("PHP Fatal error: y\n"), 0o644))
	require.NoError(t, os.Mkdir(filepath.Join(root, "wp-content", "error_log"), 0o755)) // a folder, not a log

	logs := findLogs(t, remote.NewLocal(), root)
	assert.Equal(t, server.LogFile{Path: filepath.Join(root, "logs", "wp.log"), Kind: server.LogWordPress, Size: 1, ServesSite: true,
		Source: "WP_DEBUG_LOG in " + filepath.Join(root, "wp-config.php")}, logs[filepath.Join(root, "logs", "wp.log")],
		"relative to the docroot")
	cp := logs[filepath.Join(root, "error_log")]
	assert.Equal(t, server.LogCPanel, cp.Kind)
	assert.Equal(t, int64(len("PHP Fatal error: y\n")), cp.Size)
	assert.NotContains(t, logs, filepath.Join(root, "wp-admin", "error_log"), "not there")
	assert.NotContains(t, logs, filepath.Join(root, "wp-content", "error_log"), "a folder")
}

// TestFindLogsCancelled: a cancelled search says so, and nothing else.
func TestFindLogsCancelled(t *testing.T) {
	t.Parallel()
	root := newSite(t, "define( 'WP_DEBUG', true );\ndefine( 'WP_DEBUG_LOG', true );\n")
	site, err := wp.Find(context.Background(), remote.NewLocal(), root, wp.Options{})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	logs, err := siteLogs(ctx, site)
	assert.True(t, errors.Is(err, context.Canceled), "%v", err)
	assert.Nil(t, logs)
	st, err := server.ReadStack(context.Background(), site.Host)
	require.NoError(t, err)
	logs, _, err = st.SiteLogs(ctx, siteOf(site))
	assert.True(t, errors.Is(err, context.Canceled), "%v", err)
	assert.Nil(t, logs)
}
