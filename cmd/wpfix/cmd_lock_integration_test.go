package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wpfix/wpfix/agent/journal"
	"github.com/wpfix/wpfix/remote"
	"github.com/wpfix/wpfix/wp/wptest"
)

// requireRoot skips t unless it runs as root, which the attacks below
// are about: wpfix run by root on a site another user owns.
func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: the test runs wpfix as root on a site owned by another user")
	}
}

// startWpfix starts the wpfix binary with args, HOME set to home.
func startWpfix(t *testing.T, home string, args ...string) (*exec.Cmd, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(wpfixBin, args...)
	cmd.Env = append(os.Environ(), "HOME="+home, "SSH_AUTH_SOCK=")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Start())
	return cmd, &stdout, &stderr
}

// deadPID is the id of a process that has ended.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	require.NoError(t, cmd.Run())
	return cmd.Process.Pid
}

// plantDeadLock leaves in content the lock of a wpfix bisect on this
// machine, run as the site's user, that was killed: its process is gone.
func plantDeadLock(t *testing.T, content string, pid int) {
	t.Helper()
	lock := filepath.Join(content, journal.StateDir, "lock")
	require.NoError(t, os.MkdirAll(filepath.Join(lock, "taken"), 0o700))
	machine, err := os.Hostname()
	require.NoError(t, err)
	b, err := json.Marshal(map[string]any{"command": "wpfix bisect", "machine": machine, "pid": pid,
		"since": time.Now().UTC(), "token": "0123456789abcdef", "beat": 3})
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(lock, "owner"), b, 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(lock, "id.0123456789abcdef"), nil, 0o600))
	// Left by a run as the site's user, who owns wp-content.
	fi, err := os.Lstat(content)
	require.NoError(t, err)
	st := fi.Sys().(*syscall.Stat_t)
	for _, p := range []string{"", "taken", "owner", "id.0123456789abcdef"} {
		require.NoError(t, os.Lchown(filepath.Join(lock, p), int(st.Uid), int(st.Gid)))
	}
}

// TestRestoreRaceStaleLock: two wpfix restore, run at once over the lock
// a killed run left, twenty times over, as root on the site's folder and
// ten times over SSH as the site's user: exactly one restores the site;
// the other is told the site is locked (exit 4), or, when it came after
// the first had finished, finds nothing to restore. The site is as before
// the bisect every time, with no copy of the dead lock left.
func TestRestoreRaceStaleLock(t *testing.T) {
	requireRoot(t)
	for _, transport := range []string{"local", "ssh"} {
		t.Run(transport, func(t *testing.T) {
			t.Parallel()
			raceStaleLock(t, transport)
		})
	}
}

func raceStaleLock(t *testing.T, transport string) {
	b := newBisectSite(t, wptest.Options{})
	rounds, args := 20, []string{"restore", b.st.Root}
	if transport == "ssh" {
		rounds, args = 10, append([]string{"restore", b.target()}, b.flags...)
	}
	b.st.Break(t, wptest.BreakFatal)
	before := b.state(t)
	r := b.run(t, "bisect", "--json")
	require.Equal(t, 0, r.code, r.stderr)
	require.NotEmpty(t, parseReport(t, r).LeftDisabled, "a culprit is left disabled: a journal to restore")

	// What bisect left, to lay out again before each round.
	backup := filepath.Join(t.TempDir(), "wp-content")
	out, err := exec.Command("cp", "-a", b.st.ContentDir, backup).CombinedOutput()
	require.NoError(t, err, "%s", out)
	options := map[string]string{}
	for _, o := range journal.ProtectedOptions {
		options[o], _ = b.st.Option(t, o)
	}

	raced := 0
	for round := range rounds {
		if round > 0 {
			require.NoError(t, os.RemoveAll(b.st.ContentDir))
			out, err := exec.Command("cp", "-a", backup, b.st.ContentDir).CombinedOutput()
			require.NoError(t, err, "%s", out)
			for o, v := range options {
				_, err := b.st.DB().Exec("UPDATE `"+b.st.TablePrefix+"options` SET option_value = ? WHERE option_name = ?", v, o)
				require.NoError(t, err)
			}
		}
		plantDeadLock(t, b.st.ContentDir, deadPID(t))

		var wg sync.WaitGroup
		results := make([]result, 2)
		for i := range results {
			wg.Go(func() {
				cmd, stdout, stderr := startWpfix(t, b.home, args...)
				cmd.Wait()
				results[i] = result{code: cmd.ProcessState.ExitCode(), stdout: stdout.String(), stderr: stderr.String()}
			})
		}
		wg.Wait()
		restored, locked, after := 0, 0, 0
		for _, r := range results {
			switch {
			case r.code == 0 && strings.Contains(r.stdout, "Restored:"):
				restored++
			case r.code == exitLocked && strings.Contains(r.stderr, "another wpfix run holds the site's lock"):
				locked++
			case r.code == 0 && strings.Contains(r.stdout, "Nothing to restore"):
				after++
			default:
				t.Errorf("round %d: unexpected end: exit %d\n%s%s", round, r.code, r.stdout, r.stderr)
			}
		}
		assert.Equal(t, 1, restored, "round %d: exactly one restores: %+v", round, results)
		raced += locked
		b.assertAsBefore(t, before, "round %d: the site as before the bisect", round)
		b.assertNoTrace(t, "round %d: no lock, no copy of the dead lock, no journal left", round)
	}
	t.Logf("%s: %d of %d rounds raced over the lock (the others ran one after the other)", transport, raced, rounds)
	assert.Positive(t, raced, "the two restores met at the lock at least once")
}

// TestLiveLockClockBehind: a live run whose host clock is 100 s behind
// wpfix's (its lock and heartbeat look 100 s old: what a taker whose clock
// is 100 s ahead sees) keeps its lock: wpfix restore watches the heartbeat
// change and exits 4, leaving the lock to its holder.
func TestLiveLockClockBehind(t *testing.T) {
	requireRoot(t)
	b := newBisectSite(t, wptest.Options{})
	ctx := context.Background()
	// the live run acts as the site's owner, as wpfix run by root does
	h, err := remote.AsUser(ctx, remote.NewLocal(), remote.User{UID: b.srv.UID, GID: b.srv.GID}, []string{b.st.Root})
	require.NoError(t, err)
	defer h.Close()
	s := journal.Site{Host: h, ContentDir: b.st.ContentDir}
	holder, err := journal.Acquire(ctx, s, "wpfix bisect", false)
	require.NoError(t, err)
	defer holder.Release(ctx)
	lock := filepath.Join(b.st.ContentDir, journal.StateDir, "lock")
	owner := filepath.Join(lock, "owner")
	first, err := os.ReadFile(owner)
	require.NoError(t, err)

	for try := range 2 {
		// Right after a heartbeat, so restore's first look sees an old lock
		// and it has to watch the next one.
		last, _ := os.ReadFile(owner)
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			if now, _ := os.ReadFile(owner); !bytes.Equal(now, last) {
				break
			}
		}
		when := time.Now().Add(-100 * time.Second)
		list, err := os.ReadDir(lock)
		require.NoError(t, err)
		for _, e := range list {
			// the holder's heartbeat may be mid-write: its temporary
			// file can be gone (renamed over the owner file) by now
			if err := os.Chtimes(filepath.Join(lock, e.Name()), when, when); err != nil && !errors.Is(err, fs.ErrNotExist) {
				require.NoError(t, err)
			}
		}
		require.NoError(t, os.Chtimes(lock, when, when))

		r := runAs(t, b.home, "restore", b.st.Root)
		assert.Equal(t, exitLocked, r.code, "try %d: %s", try, r.stderr)
		assert.Contains(t, r.stderr, fmt.Sprintf("another wpfix run holds the site's lock (wpfix bisect, pid %d", os.Getpid()))
	}
	now, err := os.ReadFile(owner)
	require.NoError(t, err)
	var o1, o2 struct{ Token string }
	require.NoError(t, json.Unmarshal(first, &o1))
	require.NoError(t, json.Unmarshal(now, &o2))
	assert.Equal(t, o1.Token, o2.Token, "the live run keeps its lock")
	require.NoError(t, holder.Release(ctx), "and releases it at its end")
	b.assertNoTrace(t)
}

// TestStateDirRefusedCLI: run as root on a site owned by its own user,
// wpfix restore and wpfix bisect refuse a .wpfix that is a symlink to a
// root-owned folder, or one owned by another user, saying what and why,
// and touch nothing: not the folder, not the site.
func TestStateDirRefusedCLI(t *testing.T) {
	requireRoot(t)
	b := newBisectSite(t, wptest.Options{})
	b.st.Break(t, wptest.BreakFatal)
	before := b.state(t)
	dir := filepath.Join(b.st.ContentDir, journal.StateDir)

	for _, tc := range []struct {
		name string
		make func(t *testing.T) (look string)
		want string
	}{
		{"symlink", func(t *testing.T) string {
			target := filepath.Join(t.TempDir(), "root-only")
			require.NoError(t, os.Mkdir(target, 0o700))
			require.NoError(t, os.WriteFile(filepath.Join(target, "journal"), []byte(`{"version":2}`), 0o600))
			require.NoError(t, os.Symlink(target, dir))
			return target
		}, " is a symlink"},
		{"other-user", func(t *testing.T) string {
			require.NoError(t, os.Mkdir(dir, 0o700))
			require.NoError(t, os.WriteFile(filepath.Join(dir, "journal"), []byte(`{"version":2}`), 0o600))
			require.NoError(t, os.Lchown(filepath.Join(dir, "journal"), 65534, 65534))
			require.NoError(t, os.Lchown(dir, 65534, 65534))
			return dir
		}, fmt.Sprintf(" is owned by uid 65534, neither the user wpfix runs as (uid %d) nor the owner of", b.srv.UID)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			look := tc.make(t)
			defer os.RemoveAll(dir)
			list := func() []string {
				var n []string
				entries, err := os.ReadDir(look)
				require.NoError(t, err)
				for _, e := range entries {
					fi, err := e.Info()
					require.NoError(t, err)
					n = append(n, fmt.Sprintf("%s %v %d", e.Name(), fi.Mode(), fi.Size()))
				}
				return n
			}
			was := list()
			for _, args := range [][]string{{"restore"}, {"bisect", "--yes"}} {
				r := runAs(t, b.home, append(args, b.st.Root)...)
				assert.NotEqual(t, 0, r.code, "%v: %s", args, r.stdout)
				assert.Contains(t, r.stderr, dir+tc.want, "%v", args)
				assert.Contains(t, r.stderr, "nothing was changed", "%v", args)
				assert.Equal(t, was, list(), "%v: the folder is untouched", args)
				fi, err := os.Lstat(dir)
				require.NoError(t, err, "%v: left where it was", args)
				if tc.name == "symlink" {
					assert.NotZero(t, fi.Mode()&os.ModeSymlink, "%v: still the symlink", args)
				}
			}
			for _, f := range []string{"journal", "lock", ".htaccess"} {
				_, err := os.Lstat(filepath.Join(look, f))
				if f == "journal" {
					assert.NoError(t, err)
				} else {
					assert.ErrorIs(t, err, os.ErrNotExist, "no %s written", f)
				}
			}
			b.assertAsBefore(t, before, "the site is untouched")
		})
	}
}
