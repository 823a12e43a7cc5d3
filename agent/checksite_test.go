package agent

import (
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wpfix/wpfix/agent/journal"
	"github.com/wpfix/wpfix/remote"
	"github.com/wpfix/wpfix/remote/sshtest"
	"github.com/wpfix/wpfix/remote/sysinfo"
	"github.com/wpfix/wpfix/wp"
	"github.com/wpfix/wpfix/wp/wptest"
)

// checkIDs are DESIGN.md's check ids, in the order CheckSite reports them.
var checkIDs = []string{"probe", "database", "versions", "journal", "recovery-mode", "logs", "limits",
	"disk", "tls", "debug", "autoload", "uploads-php", "cron", "plugins"}

// treeState is every file and folder under root: mode, size, mtime, and
// the content of small files. PHP's own log (debug.log), which the probed
// site writes, and the inside of a lock a test holds (its heartbeat
// rewrites it), are left out.
func treeState(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	require.NoError(t, filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Name() == "debug.log" || filepath.Base(filepath.Dir(p)) == "lock" {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		v := fmt.Sprintf("%v %d %d", fi.Mode(), fi.Size(), fi.ModTime().UnixNano())
		if fi.Mode().IsRegular() && fi.Size() < 4096 {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			v += " " + string(b)
		}
		out[p] = v
		return nil
	}))
	return out
}

// checkSite opens the site as the engine would, runs CheckSite and
// asserts that it changed no file and made no .wpfix.
func checkSite(t *testing.T, st *wptest.Stack, mod ...func(*CheckOptions)) *SiteCheck {
	t.Helper()
	s := mustOpen(t, st.Root)
	hadState := dirExists(filepath.Join(st.ContentDir, journal.StateDir))
	before := treeState(t, st.Root)
	o := CheckOptions{}
	for _, m := range mod {
		m(&o)
	}
	sc := CheckSite(t.Context(), s, o)
	assert.Equal(t, before, treeState(t, st.Root), "CheckSite changed the site's files")
	if !hadState {
		assert.NoDirExists(t, filepath.Join(st.ContentDir, journal.StateDir), "CheckSite made wpfix's folder")
	}
	var ids []string
	for _, c := range sc.Checks {
		ids = append(ids, c.ID)
		assert.NotEmpty(t, c.Message, c.ID)
		assert.NotContains(t, c.Message, "\n", c.ID)
		assert.Contains(t, []string{CheckOK, CheckWarning, CheckError}, c.Status, c.ID)
	}
	require.Equal(t, checkIDs, ids)
	return sc
}

func dirExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// check returns the site's check id.
func check(t *testing.T, sc *SiteCheck, id string) Check {
	t.Helper()
	for _, c := range sc.Checks {
		if c.ID == id {
			return c
		}
	}
	t.Fatalf("no check %s", id)
	return Check{}
}

// statuses maps each check to its status, for messages and comparisons.
func statuses(sc *SiteCheck) map[string]string {
	m := map[string]string{}
	for _, c := range sc.Checks {
		m[c.ID] = c.Status
	}
	return m
}

// setConfig replaces old with new in the stack's wp-config.php.
func setConfig(t *testing.T, st *wptest.Stack, old, new string) {
	t.Helper()
	p := filepath.Join(st.Root, "wp-config.php")
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	require.Contains(t, string(b), old)
	require.NoError(t, os.WriteFile(p, []byte(strings.Replace(string(b), old, new, 1)), 0))
}

// TestCheckSiteWarnings: a healthy site is all ok; then each thing that
// WP-CLI doctor would warn of, added one after another on the same site,
// turns its own check to a warning, and the site stays healthy (warnings
// allowed). Every run changes nothing on the site.
func TestCheckSiteWarnings(t *testing.T) {
	t.Parallel()
	st := wptest.NewStack(t, wptest.Options{})
	setConfig(t, st, "define( 'WP_DEBUG', true );", "define( 'WP_DEBUG', false );")
	st.SetOption(t, "blog_public", "1") // the stack's site discourages search engines

	sc := checkSite(t, st)
	for _, c := range sc.Checks {
		assert.Equal(t, CheckOK, c.Status, "%s: %s", c.ID, c.Message)
		assert.GreaterOrEqual(t, c.DurationMS, int64(0))
	}
	assert.Equal(t, SiteHealthy, sc.State)
	assert.Equal(t, 200, sc.Status)
	assert.Equal(t, st.URL, sc.URL)
	assert.Equal(t, st.Root, sc.Target)
	assert.Greater(t, sc.ProbeSeconds, 0.0)
	assert.True(t, sc.TLSExpiry.IsZero())
	assert.False(t, sc.Checked.IsZero())
	assert.Regexp(t, `^WordPress \d+\.\d+(\.\d+)?, PHP \d+\.\d+, MariaDB \d+\.\d+$`, check(t, sc, "versions").Message)
	assert.Equal(t, "no TLS (http URL)", check(t, sc, "tls").Message)
	assert.Equal(t, "no wpfix journal", check(t, sc, "journal").Message)
	t.Logf("healthy: %v", sc.Checks)

	steps := []struct {
		id, want string
		do       func(t *testing.T)
	}{
		{"debug", "WP_DEBUG on; search engines discouraged (blog_public = 0)", func(t *testing.T) {
			setConfig(t, st, "define( 'WP_DEBUG', false );", "define( 'WP_DEBUG', true );")
			st.SetOption(t, "blog_public", "0")
		}},
		{"autoload", "over 900K", func(t *testing.T) {
			st.RunWordPress(t, `update_option( 'wptest_big', str_repeat( 'x', 1200000 ), true );`)
		}},
		{"uploads-php", "1 PHP file in " + filepath.Join(st.ContentDir, "uploads") + ": 2024/05/shell.php", func(t *testing.T) {
			dir := filepath.Join(st.ContentDir, "uploads", "2024", "05")
			require.NoError(t, os.MkdirAll(dir, 0o755))
			require.NoError(t, os.WriteFile(filepath.Join(dir, "shell.php"), []byte("<?php system($_GET['c']);"), 0o644))
			require.NoError(t, os.WriteFile(filepath.Join(dir, "photo.jpg"), []byte("jpeg"), 0o644))
			// a link to a folder of PHP files is not followed
			require.NoError(t, os.Symlink(st.PluginDir, filepath.Join(st.ContentDir, "uploads", "linked")))
		}},
		{"cron", "61+ events", func(t *testing.T) {
			st.RunWordPress(t, `for ( $i = 0; $i < 60; $i++ ) { wp_schedule_single_event( time() + 3600 + $i, 'wptest_event_' . $i ); }
wp_schedule_single_event( time() + 3600, 'wptest_dup', array( 7 ) );
wp_schedule_single_event( time() + 7200, 'wptest_dup', array( 7 ) );`)
		}},
		{"recovery-mode", "paused by WordPress's recovery mode: plugin wptest-paused", func(t *testing.T) {
			st.SetOption(t, "0123abcd_paused_extensions", map[string]any{"plugin": map[string]any{
				"wptest-paused": map[string]any{"type": 1, "message": "Call to undefined function", "file": "x.php", "line": 3}}})
		}},
	}
	for _, step := range steps {
		t.Run(step.id, func(t *testing.T) {
			step.do(t)
			sc := checkSite(t, st)
			c := check(t, sc, step.id)
			assert.Equal(t, CheckWarning, c.Status, c.Message)
			switch step.id {
			case "cron":
				assert.Regexp(t, `^\d+ cron events scheduled, over 50; the same event scheduled more than once: wptest_dup ×2$`, c.Message)
			case "autoload":
				assert.Regexp(t, `^\d+ autoloaded options, 1\d\d\d kB, over 900 kB: loaded on every request$`, c.Message)
			default:
				assert.Equal(t, step.want, c.Message)
			}
			assert.Equal(t, SiteHealthy, sc.State, "warnings only: %v", statuses(sc))
		})
	}
}

// TestCheckSiteBroken: a plugin with a PHP fatal makes the probe and the
// logs errors, blaming it; after a bisect left it disabled, the site is
// healthy and the journal check warns with the restore command; an
// interrupted run's journal is an error; so is the database stopped.
func TestCheckSiteBroken(t *testing.T) {
	t.Parallel()
	st := wptest.NewStack(t, wptest.Options{})
	culprit := st.Break(t, wptest.BreakFatal)

	sc := checkSite(t, st)
	assert.Equal(t, SiteUnhealthy, sc.State)
	assert.Equal(t, 500, sc.Status)
	p := check(t, sc, "probe")
	assert.Equal(t, CheckError, p.Status)
	assert.Equal(t, "status 500, critical error page", p.Message)
	l := check(t, sc, "logs")
	assert.Equal(t, CheckError, l.Status, l.Message)
	assert.Contains(t, l.Message, "blaming "+culprit[0].String())
	t.Logf("broken: %v", sc.Checks)

	s := mustOpen(t, st.Root)
	rep, err := Bisect(t.Context(), s, BisectOptions{})
	require.NoError(t, err)
	require.Equal(t, culprit, rep.LeftDisabled)

	sc = checkSite(t, st, func(o *CheckOptions) { o.Since = time.Nanosecond }) // the fatal's lines are past
	assert.Equal(t, SiteHealthy, sc.State, "%v", sc.Checks)
	j := check(t, sc, "journal")
	assert.Equal(t, CheckWarning, j.Status)
	assert.Regexp(t, `^plugin wptest-fatal disabled by wpfix since \d{4}-\d\d-\d\d \d\d:\d\d UTC \(wpfix restore `+st.Root+`\)$`, j.Message)

	t.Run("interrupted", func(t *testing.T) {
		_, err := Restore(t.Context(), mustOpen(t, st.Root), false)
		require.NoError(t, err)
		fine := st.AddPlugin(t, wptest.Plugin{Slug: "wptest-fine"})
		st.ActivatePlugins(t, fine)
		s := mustOpen(t, st.Root)
		lock, err := journal.Acquire(t.Context(), s.journalSite(), "wpfix test", false)
		require.NoError(t, err)
		jr, err := journal.Open(t.Context(), s.journalSite())
		require.NoError(t, err)
		q := filepath.Join(st.ContentDir, journal.StateDir, "quarantine")
		require.NoError(t, jr.Mkdir(t.Context(), q, "test"))
		require.NoError(t, jr.Mkdir(t.Context(), filepath.Join(q, wp.KindPlugin), "test"))
		_, err = jr.Rename(t.Context(), filepath.Join(st.PluginDir, "wptest-fine"), filepath.Join(q, wp.KindPlugin, "wptest-fine"), "test")
		require.NoError(t, err)
		sc := checkSite(t, st)
		j := check(t, sc, "journal")
		assert.Equal(t, CheckError, j.Status)
		assert.Equal(t, "a wpfix run in progress, or an interrupted one, left changes (plugin wptest-fine disabled); if no run is going: wpfix restore "+st.Root, j.Message)

		// the run dies here, without Release; its lock is gone with it
		require.NoError(t, lock.Release(t.Context()))

		sc = checkSite(t, st)
		j = check(t, sc, "journal")
		assert.Equal(t, CheckError, j.Status)
		assert.Equal(t, "an interrupted wpfix run left changes (plugin wptest-fine disabled): wpfix restore "+st.Root, j.Message)
		assert.Equal(t, SiteUnhealthy, sc.State)
	})

	t.Run("untrusted", func(t *testing.T) {
		p := filepath.Join(st.ContentDir, journal.StateDir, "journal")
		require.NoError(t, os.WriteFile(p, []byte(`{"version": 4, "steps": [{"seq": 1, "state": "done", "op": "rename", "from": "/etc/passwd", "to": "/tmp/x"}]}`), 0o600))
		sc := checkSite(t, st)
		j := check(t, sc, "journal")
		assert.Equal(t, CheckError, j.Status)
		assert.Contains(t, j.Message, "a wpfix journal that cannot be trusted: ")
	})

	t.Run("database stopped", func(t *testing.T) {
		st.StopDatabase()
		sc := checkSite(t, st, func(o *CheckOptions) { o.Probe.URL = st.URL })
		assert.Equal(t, SiteUnhealthy, sc.State)
		d := check(t, sc, "database")
		assert.Equal(t, CheckError, d.Status)
		assert.Contains(t, d.Message, "the database does not answer")
		for _, id := range []string{"recovery-mode", "autoload", "cron", "plugins"} {
			c := check(t, sc, id)
			assert.Equal(t, CheckWarning, c.Status, id)
			assert.Equal(t, "not checked: the database does not answer", c.Message, id)
		}
		assert.Equal(t, CheckWarning, check(t, sc, "versions").Status)
	})
}

// TestCheckSiteTLS reads real certificates served on loopback for an
// https URL: valid, expiring within 14 days, expired, and untrusted.
func TestCheckSiteTLS(t *testing.T) {
	t.Parallel()
	pki := newTestPKI(t)
	st := wptest.NewStack(t, wptest.Options{})
	for _, tc := range []struct {
		name   string
		cert   func() string
		trust  bool
		status string
		msg    string
	}{
		{"valid", func() string { return serveTLS(t, pki.valid) }, true, CheckOK, "certificate valid, 89 days left"},
		{"expiring", func() string { return serveTLS(t, pki.expires) }, true, CheckWarning, "certificate expires in 4 days"},
		{"expired", func() string { return serveTLS(t, pki.expired) }, true, CheckError, "certificate expired on " + pki.now.Add(-24*time.Hour).UTC().Format("2006-01-02")},
		{"untrusted", func() string { return serveTLS(t, pki.valid) }, false, CheckError, "certificate not trusted: "},
		{"refused", func() string {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			require.NoError(t, err)
			ln.Close()
			return ln.Addr().String()
		}, true, CheckError, "refused"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := tc.cert()
			sc := checkSite(t, st, func(o *CheckOptions) {
				o.Probe.URL = "https://" + addr + "/"
				o.Probe.Timeout = 2 * time.Second
				if tc.trust {
					o.TLSRoots = pki.roots
				}
			})
			c := check(t, sc, "tls")
			assert.Equal(t, tc.status, c.Status, c.Message)
			assert.Contains(t, c.Message, tc.msg)
			if tc.name != "refused" {
				assert.False(t, sc.TLSExpiry.IsZero())
			}
			assert.Equal(t, SiteUnhealthy, sc.State, "the probe cannot pass on a port with no site")
		})
	}
}

func TestTLSStatus(t *testing.T) {
	now := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		tc     TLSCheck
		status string
		msg    string
	}{
		{TLSCheck{DaysLeft: 60, NotAfter: now.AddDate(0, 0, 60)}, CheckOK, "certificate valid, 60 days left"},
		{TLSCheck{DaysLeft: 14}, CheckOK, "certificate valid, 14 days left"},
		{TLSCheck{DaysLeft: 13}, CheckWarning, "certificate expires in 13 days"},
		{TLSCheck{DaysLeft: -1, Expired: true, NotAfter: now}, CheckError, "certificate expired on 2026-12-02"},
		{TLSCheck{DaysLeft: 50, VerifyError: "x509: certificate signed by unknown authority"}, CheckError, "certificate not trusted: x509: certificate signed by unknown authority"},
		{TLSCheck{Error: "connection refused"}, CheckError, "connection refused"},
	} {
		status, msg := tlsStatus(tc.tc)
		assert.Equal(t, tc.status, status, msg)
		assert.Equal(t, tc.msg, msg)
	}
}

func TestDiskStatus(t *testing.T) {
	const g = int64(1) << 30
	for _, tc := range []struct {
		d      sysinfo.Disk
		status string
	}{
		{sysinfo.Disk{Total: 100 * g, Avail: 50 * g, Inodes: 100, InodesFree: 50}, CheckOK},
		{sysinfo.Disk{Total: 100 * g, Avail: 9 * g, Inodes: 100, InodesFree: 50}, CheckWarning},
		{sysinfo.Disk{Total: 100 * g, Avail: 4 * g}, CheckError},
		{sysinfo.Disk{Total: 1 * g, Avail: 90 << 20}, CheckError}, // 100 MiB
		{sysinfo.Disk{Total: 100 * g, Avail: 50 * g, Inodes: 1000, InodesFree: 50}, CheckWarning},
		{sysinfo.Disk{Total: 100 * g, Avail: 50 * g, Inodes: 1000, InodesFree: 10}, CheckError},
		{sysinfo.Disk{}, CheckWarning},
	} {
		status, msg := diskStatus(tc.d)
		assert.Equal(t, tc.status, status, "%+v: %s", tc.d, msg)
	}
}

func TestLogsStatus(t *testing.T) {
	blamed := wp.Extension{Kind: wp.KindPlugin, Name: "shop"}
	status, msg := logsStatus([]LogSignature{
		{Signature: "w", Severity: "warning", Summary: "a deprecation", Count: 9},
		{Signature: "f", Severity: "fatal", Summary: "PHP fatal error", Count: 3, Blames: []wp.Extension{blamed}},
	}, 24*time.Hour)
	assert.Equal(t, CheckError, status)
	assert.Equal(t, "3× f in the last 24h, blaming plugin shop (+1 more signatures): PHP fatal error", msg)
	status, msg = logsStatus([]LogSignature{{Signature: "w", Severity: "warning", Summary: "a deprecation", Count: 9}}, 90*time.Minute)
	assert.Equal(t, CheckWarning, status)
	assert.Equal(t, "9× w in the last 1h30m: a deprecation", msg)
	status, msg = logsStatus(nil, time.Hour)
	assert.Equal(t, CheckOK, status)
	assert.Equal(t, "no known error signature in the last 1h", msg)
}

func TestCronStatus(t *testing.T) {
	var evs []wp.CronEvent
	for i := range 50 {
		evs = append(evs, wp.CronEvent{Time: int64(i), Hook: fmt.Sprint("h", i), Key: "k"})
	}
	status, msg := cronStatus(evs)
	assert.Equal(t, CheckOK, status)
	assert.Equal(t, "50 cron events scheduled", msg)
	evs = append(evs, wp.CronEvent{Time: 99, Hook: "h1", Key: "other args"})
	status, _ = cronStatus(evs)
	assert.Equal(t, CheckWarning, status, "51 events")
	status, msg = cronStatus([]wp.CronEvent{{Time: 1, Hook: "a", Key: "k"}, {Time: 2, Hook: "a", Key: "k"}, {Time: 3, Hook: "a", Key: "j"}})
	assert.Equal(t, CheckWarning, status)
	assert.Equal(t, "the same event scheduled more than once: a ×2", msg)
}

func TestIsPHPFile(t *testing.T) {
	for name, want := range map[string]bool{"a.php": true, "A.PHP": true, "x.phtml": true, "x.php7": true, "x.phar": true,
		"x.jpg": false, "php": false, "x.php.jpg": false, "x.php9": false, "x.phpx": false} {
		assert.Equal(t, want, isPHPFile(name), name)
	}
}

// TestCheckSiteOverSSH: the checks over SSH, as the site's owner, an
// unprivileged user, on a healthy site: the same checks, and nothing
// changed.
func TestCheckSiteOverSSH(t *testing.T) {
	t.Parallel()
	srv := sshtest.NewServer(t, sshtest.Options{})
	st := wptest.NewStack(t, wptest.Options{Owner: srv.User})
	setConfig(t, st, "define( 'WP_DEBUG', true );", "define( 'WP_DEBUG', false );")
	st.SetOption(t, "blog_public", "1")
	target := remote.Target{User: srv.User, Host: srv.Host, Port: srv.Port, Path: st.Root}
	s, err := Open(t.Context(), target.String(), Options{DBOptional: true,
		Remote: remote.Options{Identity: srv.KeyFile, KnownHosts: srv.KnownHostsFile, ConfigFile: "none"}})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })

	before := treeState(t, st.Root)
	stack, err := ReadStack(t.Context(), s)
	require.NoError(t, err)
	sc := CheckSite(t.Context(), s, CheckOptions{Stack: stack})
	assert.Equal(t, before, treeState(t, st.Root))
	assert.NoDirExists(t, filepath.Join(st.ContentDir, journal.StateDir))
	assert.Equal(t, target.String(), sc.Target)
	assert.Equal(t, SiteHealthy, sc.State, "%v", sc.Checks)
	want := map[string]string{}
	for _, id := range checkIDs {
		want[id] = CheckOK
	}
	assert.Equal(t, want, statuses(sc), "%v", sc.Checks)
}

// TestCheckSiteHostile: what a hostile site's user can plant does not
// mislead or stall the checks: a journal that is a link to a file outside
// the site is refused unread; an uploads folder nested past the walk's
// depth, or linked to other folders, is walked within bounds and only
// what is in it is named.
func TestCheckSiteHostile(t *testing.T) {
	t.Parallel()
	st := wptest.NewStack(t, wptest.Options{})
	stateDir := filepath.Join(st.ContentDir, journal.StateDir)
	require.NoError(t, os.Mkdir(stateDir, 0o700))
	require.NoError(t, os.Symlink("/etc/passwd", filepath.Join(stateDir, "journal")))

	uploads := filepath.Join(st.ContentDir, "uploads")
	deep := uploads
	for i := range 12 {
		deep = filepath.Join(deep, fmt.Sprint("d", i))
	}
	require.NoError(t, os.MkdirAll(deep, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(deep, "deep.php"), []byte("<?php"), 0o644))
	require.NoError(t, os.Symlink(uploads, filepath.Join(uploads, "loop")))
	require.NoError(t, os.Symlink("/etc/passwd", filepath.Join(uploads, "passwd.php")))
	for i := range 300 {
		require.NoError(t, os.WriteFile(filepath.Join(uploads, "d0", fmt.Sprintf("f%03d.jpg", i)), nil, 0o644))
	}

	start := time.Now()
	sc := checkSite(t, st)
	assert.Less(t, time.Since(start), 30*time.Second)
	j := check(t, sc, "journal")
	assert.Equal(t, CheckError, j.Status)
	assert.Contains(t, j.Message, "a wpfix journal that cannot be trusted: ")
	assert.Contains(t, j.Message, "a symbolic link")
	u := check(t, sc, "uploads-php")
	assert.Equal(t, CheckWarning, u.Status)
	assert.Equal(t, "1 PHP file in "+uploads+": passwd.php (not below 8 levels)", u.Message,
		"the link is named, not followed; the file past the depth bound is not reached")
	assert.Equal(t, SiteUnhealthy, sc.State)
}

// TestCheckSiteMultisite: on a network's main site, the plugins active for
// the whole network count with the site's own, once each.
func TestCheckSiteMultisite(t *testing.T) {
	t.Parallel()
	st := wptest.NewStack(t, wptest.Options{Multisite: true})
	own := st.AddPlugin(t, wptest.Plugin{Slug: "wptest-own"})
	network := st.AddPlugin(t, wptest.Plugin{Slug: "wptest-network"})
	st.ActivatePlugins(t, own)
	st.NetworkActivatePlugins(t, network, own)
	sc := checkSite(t, st)
	p := check(t, sc, "plugins")
	assert.Equal(t, CheckOK, p.Status)
	assert.Equal(t, "2 active plugins", p.Message)
	assert.Equal(t, CheckOK, check(t, sc, "probe").Status, check(t, sc, "probe").Message)
}
