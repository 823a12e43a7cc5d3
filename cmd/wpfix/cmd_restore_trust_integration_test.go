package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wpfix/wpfix/wp/wptest"
)

// The attacks of issue 11 on the journal: the site's user (the stack's
// owner, the unprivileged wpfixtest account) plants a journal in
// wp-content/.wpfix, and root runs `wpfix restore DOCROOT` (or `wpfix
// limits DOCROOT`), as a VPS admin's cron job would. Nothing outside the
// site may be touched, nor anything of the site; the error says what was
// refused and why; the exit status is 2 (bad input: a person must look at
// the journal, which is left as it is).

// trustSite is a site owned by its own user, reached by root on this
// machine, with things of root's outside it that a planted journal names.
type trustSite struct {
	*bisectSite
	uid, gid int
	// outside is a root-only folder away from the site: a secret file, an
	// empty folder, a file named like a helper.
	outside, secret, emptyDir, foreignHelper string
	// profile is a file a planted rename would create in /etc/profile.d,
	// where root's next login would run it.
	profile string
	// evil is a script the site's user wrote in uploads.
	evil string
}

func newTrustSite(t *testing.T) *trustSite {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: the attack is a root run over a site owned by another user")
	}
	b := newBisectSite(t, wptest.Options{})
	u, err := user.Lookup(b.srv.User)
	require.NoError(t, err)
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	ts := &trustSite{bisectSite: b, uid: uid, gid: gid, outside: t.TempDir()}
	ts.secret = filepath.Join(ts.outside, "secret")
	ts.emptyDir = filepath.Join(ts.outside, "empty")
	ts.foreignHelper = filepath.Join(ts.outside, "wpfix-flush-0123456789abcdef.php")
	require.NoError(t, os.WriteFile(ts.secret, []byte("root's secret\n"), 0o600))
	require.NoError(t, os.Mkdir(ts.emptyDir, 0o700))
	require.NoError(t, os.WriteFile(ts.foreignHelper, []byte("<?php // root's\n"), 0o600))
	ts.profile = "/etc/profile.d/wpfix-trust-" + strconv.Itoa(os.Getpid()) + ".sh"
	t.Cleanup(func() { os.Remove(ts.profile) })
	uploads := filepath.Join(b.st.ContentDir, "uploads")
	require.NoError(t, os.MkdirAll(uploads, 0o755))
	require.NoError(t, os.Chown(uploads, uid, gid))
	ts.evil = filepath.Join(uploads, "evil.sh")
	require.NoError(t, os.WriteFile(ts.evil, []byte("echo pwned\n"), 0o755))
	require.NoError(t, os.Chown(ts.evil, uid, gid))
	return ts
}

// stateDir makes wp-content/.wpfix as the site's user would, empty.
func (ts *trustSite) stateDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(ts.st.ContentDir, ".wpfix")
	require.NoError(t, os.RemoveAll(dir))
	require.NoError(t, os.Mkdir(dir, 0o755))
	require.NoError(t, os.Chown(dir, ts.uid, ts.gid))
	return dir
}

// plant writes a journal of the given steps, as the site's user would.
func (ts *trustSite) plant(t *testing.T, snapshot []map[string]any, steps ...map[string]any) string {
	t.Helper()
	for i, st := range steps {
		st["seq"], st["state"] = i+1, "done"
	}
	if snapshot == nil {
		snapshot = []map[string]any{}
	}
	b, err := json.MarshalIndent(map[string]any{"version": 2, "started": time.Now().UTC(), "snapshot": snapshot, "steps": steps}, "", " ")
	require.NoError(t, err)
	file := filepath.Join(ts.stateDir(t), "journal")
	require.NoError(t, os.WriteFile(file, b, 0o644))
	require.NoError(t, os.Chown(file, ts.uid, ts.gid))
	return file
}

// runRoot runs wpfix as root on the docroot, a local target, and fails the
// test if it does not end within a minute (a FIFO would hang it).
func (ts *trustSite) runRoot(t *testing.T, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, wpfixBin, append(args, ts.st.Root)...)
	cmd.Env = append(os.Environ(), "HOME="+ts.home, "SSH_AUTH_SOCK=")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	require.NoError(t, ctx.Err(), "wpfix %v hung: %s", args, stderr.String())
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		require.NoError(t, err)
	}
	return result{code: cmd.ProcessState.ExitCode(), stdout: stdout.String(), stderr: stderr.String()}
}

// assertUntouched checks everything outside the site that a planted
// journal named, and the site itself, against before.
func (ts *trustSite) assertUntouched(t *testing.T, before siteState) {
	t.Helper()
	b, err := os.ReadFile(ts.secret)
	assert.NoError(t, err, "root's secret is where it was")
	assert.Equal(t, "root's secret\n", string(b))
	assert.DirExists(t, ts.emptyDir, "root's empty folder is still there")
	assert.FileExists(t, ts.foreignHelper, "root's file named like a helper is still there")
	assert.NoFileExists(t, ts.profile, "nothing was put in /etc/profile.d")
	assert.FileExists(t, ts.evil, "the site user's script stayed in uploads")
	ts.assertAsBefore(t, before, "the site's files and options are as before")
}

// TestRestorePlantedJournal: a journal whose steps name paths outside the
// site, or options wpfix never writes, is refused whole by a root restore:
// exit 2, the error names the step and why, nothing is touched anywhere,
// and the journal is left for a person to read.
func TestRestorePlantedJournal(t *testing.T) {
	ts := newTrustSite(t)
	st := ts.st
	q := filepath.Join(st.ContentDir, ".wpfix", "quarantine")
	siteurl, _ := st.Option(t, "siteurl")
	// A legitimate first step, so that the refusal is of the whole journal.
	mkq := func() map[string]any { return map[string]any{"op": "mkdir", "path": q} }
	tests := []struct {
		name     string
		snapshot []map[string]any
		steps    []map[string]any
		want     string
	}{
		{"rename root's secret into the site", nil, []map[string]any{mkq(),
			{"op": "rename", "from": filepath.Join(st.ContentDir, "uploads", "stolen"), "to": ts.secret}},
			`step 2 renames "` + filepath.Join(st.ContentDir, "uploads", "stolen") + `" to "` + ts.secret + `", which is not a quarantine path of this site`},
		{"rename from outside into a quarantine path", nil, []map[string]any{mkq(),
			{"op": "rename", "from": ts.secret, "to": filepath.Join(q, "plugin", "secret")}},
			`step 2 renames "` + ts.secret + `", which is not where this site keeps the plugin secret`},
		{"rename the user's script into /etc/profile.d", nil, []map[string]any{mkq(),
			{"op": "rename", "from": ts.profile, "to": ts.evil}},
			`step 2 renames "` + ts.profile + `" to "` + ts.evil + `", which is not a quarantine path of this site`},
		{"rename out of the quarantine with ..", nil, []map[string]any{mkq(),
			{"op": "rename", "from": ts.profile, "to": q + "/plugin/../../uploads/evil.sh"}},
			`step 2 renames "` + ts.profile + `" to "` + q + `/plugin/../../uploads/evil.sh", which is not a quarantine path of this site`},
		{"mkdir naming root's folder", nil, []map[string]any{mkq(),
			{"op": "mkdir", "path": ts.emptyDir}},
			`step 2 makes the folder "` + ts.emptyDir + `", which is not one of wpfix's own`},
		{"mkdir naming /root", nil, []map[string]any{mkq(),
			{"op": "mkdir", "path": "/root"}},
			`step 2 makes the folder "/root", which is not one of wpfix's own`},
		{"helper in another folder", nil, []map[string]any{mkq(),
			{"op": "helper", "path": ts.foreignHelper, "url": siteurl + "/x.php", "token": "t"}},
			`step 2 places "` + ts.foreignHelper + `", which is not a wpfix helper file of this site`},
		{"legacy create of wp-config.php", nil, []map[string]any{mkq(),
			{"op": "create", "path": filepath.Join(st.Root, "wp-config.php")}},
			`step 2 places "` + filepath.Join(st.Root, "wp-config.php") + `", which is not a wpfix helper file of this site`},
		{"theme naming a real theme", nil, []map[string]any{mkq(),
			{"op": "theme", "name": "twentytwentythree"}},
			`step 2 places the theme "twentytwentythree", which is not wpfix's minimal theme`},
		{"theme naming root's folder", nil, []map[string]any{mkq(),
			{"op": "theme", "name": ts.emptyDir}},
			`step 2 places the theme "` + ts.emptyDir + `", which is not wpfix's minimal theme`},
		{"option siteurl", nil, []map[string]any{mkq(),
			{"op": "option", "name": "siteurl", "old": "http://evil.invalid", "old_set": true, "new": siteurl}},
			`step 2 writes the option "siteurl", which is not one wpfix writes`},
		{"snapshot of default_role", []map[string]any{{"name": "default_role", "value": "administrator", "exists": true}},
			[]map[string]any{mkq()},
			`its snapshot holds the option "default_role", which is not one wpfix writes`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := ts.state(t)
			roleBefore, _ := st.Option(t, "default_role")
			file := ts.plant(t, tt.snapshot, tt.steps...)
			planted, err := os.ReadFile(file)
			require.NoError(t, err)

			r := ts.runRoot(t, "restore")
			assert.Equal(t, 2, r.code, "a journal that cannot be trusted is bad input: %s", r.stderr)
			assert.Contains(t, r.stderr, "the journal "+file+" cannot be trusted: "+tt.want)
			assert.Contains(t, r.stderr, "refused; nothing was changed")
			assert.Empty(t, r.stdout)

			ts.assertUntouched(t, before)
			surl, _ := st.Option(t, "siteurl")
			assert.Equal(t, siteurl, surl, "siteurl is as before")
			role, _ := st.Option(t, "default_role")
			assert.Equal(t, roleBefore, role, "default_role is as before")
			after, err := os.ReadFile(file)
			require.NoError(t, err, "the journal is left for a person to read")
			assert.Equal(t, planted, after)
			assert.NoDirExists(t, filepath.Join(st.ContentDir, ".wpfix", "lock"), "and the lock is released")
		})
	}

	// wpfix limits, which should change nothing, changes nothing either:
	// Finish never gets to remove root's folder, and no helper is placed.
	t.Run("limits with a planted mkdir", func(t *testing.T) {
		before := ts.state(t)
		ts.plant(t, nil, mkq(), map[string]any{"op": "mkdir", "path": ts.emptyDir})
		r := ts.runRoot(t, "limits")
		assert.Equal(t, 2, r.code, r.stderr)
		assert.Contains(t, r.stderr, `step 2 makes the folder "`+ts.emptyDir+`", which is not one of wpfix's own`)
		ts.assertUntouched(t, before)
		assert.Empty(t, helperFiles(t, st.Root), "no helper was placed")
	})
}

// TestRestoreJournalNotAFile: a journal that is a FIFO, a symlink to
// /dev/zero, or larger than a journal may be is refused at once, without
// reading it: no hang, no memory exhausted, exit 2, nothing touched.
func TestRestoreJournalNotAFile(t *testing.T) {
	ts := newTrustSite(t)
	tests := []struct {
		name string
		make func(t *testing.T, file string)
		want string
	}{
		{"FIFO", func(t *testing.T, file string) { require.NoError(t, syscall.Mkfifo(file, 0o644)) },
			"it is a named pipe (FIFO), not a regular file"},
		{"symlink to /dev/zero", func(t *testing.T, file string) { require.NoError(t, os.Symlink("/dev/zero", file)) },
			"it is a symbolic link, not a regular file"},
		{"symlink to root's secret", func(t *testing.T, file string) { require.NoError(t, os.Symlink(ts.secret, file)) },
			"it is a symbolic link, not a regular file"},
		{"huge", func(t *testing.T, file string) {
			f, err := os.Create(file)
			require.NoError(t, err)
			require.NoError(t, f.Truncate(1<<30)) // sparse: a gigabyte of nothing
			require.NoError(t, f.Close())
		}, "it holds 1073741824 bytes, more than the 16777216 a journal may"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := ts.state(t)
			file := filepath.Join(ts.stateDir(t), "journal")
			tt.make(t, file)
			require.NoError(t, os.Lchown(file, ts.uid, ts.gid))
			r := ts.runRoot(t, "restore")
			assert.Equal(t, 2, r.code, r.stderr)
			assert.Contains(t, r.stderr, "the journal "+file+" cannot be trusted: "+tt.want)
			assert.Contains(t, r.stderr, "nothing was changed")
			ts.assertUntouched(t, before)
			_, err := os.Lstat(file)
			assert.NoError(t, err, "the journal is left where it is")
		})
	}
}

// TestRestoreRebuildsFlushURL: a journal with a cache-flush helper whose URL
// points elsewhere (a loopback server, as an SSRF would aim at a metadata
// service) is restored, and the helper asked to flush at the URL rebuilt
// from the site's siteurl and the helper's file name: the site's own PHP
// receives the token, the server the journal names receives nothing.
func TestRestoreRebuildsFlushURL(t *testing.T) {
	ts := newTrustSite(t)
	st := ts.st
	var elsewhere atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Add(1)
		w.Write([]byte("wpfix: flushed"))
	}))
	defer srv.Close()

	// The helper, as the site has it: it answers the token and leaves a
	// mark the test reads.
	const token = "0123456789abcdef0123456789abcdef"
	name := "wpfix-flush-0123456789abcdef.php"
	helper := filepath.Join(st.Root, name)
	mark := filepath.Join(st.Root, "wpfix-trust-flushed")
	require.NoError(t, os.WriteFile(helper, []byte(`<?php
if ( ( $_GET['t'] ?? '' ) === '`+token+`' ) {
	file_put_contents( '`+mark+`', $_SERVER['REQUEST_URI'] );
	echo 'wpfix: flushed';
}
`), 0o644))
	require.NoError(t, os.Chown(helper, ts.uid, ts.gid))
	t.Cleanup(func() { os.Remove(mark) })
	before := ts.state(t)

	ts.plant(t, nil, map[string]any{"op": "helper", "path": helper, "url": srv.URL + "/latest/meta-data/" + name, "token": token})
	r := ts.runRoot(t, "restore")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "Restored: 1 changes undone")
	assert.NotContains(t, r.stdout, "Note:", "the flush was done")
	assert.Zero(t, elsewhere.Load(), "the URL the journal names received nothing")
	got, err := os.ReadFile(mark)
	require.NoError(t, err, "the site's own helper was asked to flush")
	assert.Contains(t, string(got), "/"+name+"?")
	assert.NoFileExists(t, helper, "and removed")
	ts.assertUntouched(t, before)
	ts.assertNoTrace(t)
}

// TestRestoreKilledBisectAsRoot: the legitimate case still works. A bisect
// run as the site's user over SSH is killed with SIGKILL half way; root's
// `wpfix restore DOCROOT` puts everything back from its journal.
func TestRestoreKilledBisectAsRoot(t *testing.T) {
	ts := newTrustSite(t)
	ts.st.Break(t, wptest.BreakKillWorker)
	before := ts.state(t)

	cmd, out := ts.start(t, "bisect", "--json")
	k := ts.waitSteps(t, 8, cmd, out)
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	cmd.Wait()
	t.Logf("killed at %d journal steps", k)

	r := ts.runRoot(t, "restore")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "Restored:")
	ts.assertUntouched(t, before)
	ts.assertNoTrace(t, "no lock, journal or quarantine left")
}
