package journal_test

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wpfix/wpfix/agent/journal"
	"github.com/wpfix/wpfix/remote"
)

// lockSite is a wp-content folder on this machine, for the lock alone.
func lockSite(t *testing.T) (journal.Site, string) {
	t.Helper()
	content := filepath.Join(t.TempDir(), "wp-content")
	require.NoError(t, os.Mkdir(content, 0o755))
	return journal.Site{Host: remote.NewLocal(), ContentDir: content}, content
}

// ageLock sets the modification time of the lock and of everything in it d
// in the past: what a taker whose clock is d ahead of the host's sees.
func ageLock(t *testing.T, content string, d time.Duration) {
	t.Helper()
	lock := filepath.Join(content, journal.StateDir, "lock")
	when := time.Now().Add(-d)
	list, err := os.ReadDir(lock)
	require.NoError(t, err)
	for _, e := range list {
		// a live holder's heartbeat may be mid-write: its temporary file
		// can be gone (renamed over the owner file) by now
		if err := os.Chtimes(filepath.Join(lock, e.Name()), when, when); err != nil && !errors.Is(err, fs.ErrNotExist) {
			require.NoError(t, err)
		}
	}
	require.NoError(t, os.Chtimes(lock, when, when))
}

// names lists dir, sorted.
func names(t *testing.T, dir string) []string {
	t.Helper()
	list, err := os.ReadDir(dir)
	require.NoError(t, err)
	var n []string
	for _, e := range list {
		n = append(n, e.Name())
	}
	sort.Strings(n)
	return n
}

// TestLockTakeoverRace: four runs take over one dead lock at once, twenty
// times over, for a lock of this wpfix and one of the release before (no
// id file): each time exactly one gets it, the others are told the site is
// locked, and no copy of the dead lock is left.
func TestLockTakeoverRace(t *testing.T) {
	journal.SetLockTiming(t, 50*time.Millisecond, 90*time.Second, 300*time.Millisecond)
	ctx := context.Background()
	for _, kind := range []string{"current", "legacy"} {
		t.Run(kind, func(t *testing.T) {
			for i := range 20 {
				s, content := lockSite(t)
				if kind == "current" {
					journal.SetMachine(t, "dead-host")
					dead, err := journal.Acquire(ctx, s, "wpfix bisect", false)
					require.NoError(t, err)
					dead.Abandon()
				} else {
					lock := filepath.Join(content, journal.StateDir, "lock")
					require.NoError(t, os.MkdirAll(lock, 0o700))
					require.NoError(t, os.WriteFile(filepath.Join(lock, "owner"),
						[]byte(`{"command":"wpfix bisect","machine":"dead-host","pid":1,"since":"2026-01-01T00:00:00Z"}`), 0o600))
				}
				ageLock(t, content, 200*time.Second)
				journal.SetMachine(t, "taker")

				var wg sync.WaitGroup
				locks := make([]*journal.Lock, 4)
				errs := make([]error, 4)
				for r := range 4 {
					wg.Go(func() { locks[r], errs[r] = journal.Acquire(ctx, s, "wpfix restore", false) })
				}
				wg.Wait()
				var won []*journal.Lock
				for r := range 4 {
					if errs[r] == nil {
						won = append(won, locks[r])
					} else {
						assert.ErrorIs(t, errs[r], journal.ErrLocked, "round %d", i)
					}
				}
				require.Len(t, won, 1, "round %d: exactly one run takes the dead lock over: %v", i, errs)
				for _, n := range names(t, filepath.Join(content, journal.StateDir)) {
					assert.False(t, strings.HasPrefix(n, "lock."), "round %d: %s left", i, n)
				}
				require.NoError(t, won[0].Release(ctx))
				_, err := os.Lstat(filepath.Join(content, journal.StateDir))
				assert.ErrorIs(t, err, os.ErrNotExist, "round %d: the state folder goes with the lock", i)
			}
		})
	}
}

// TestLockLiveClockBehind: a live run on a host whose clock is 100 s
// behind the taker's (its lock looks 100 s old) keeps its lock, however
// often the taker tries; the same lock once its heartbeat has stopped is
// taken over. A dead lock that the host's clock says is fresh is not.
func TestLockLiveClockBehind(t *testing.T) {
	journal.SetLockTiming(t, 100*time.Millisecond, 90*time.Second, 500*time.Millisecond)
	ctx := context.Background()
	s, content := lockSite(t)
	journal.SetMachine(t, "holder")
	holder, err := journal.Acquire(ctx, s, "wpfix bisect", false)
	require.NoError(t, err)
	owner := filepath.Join(content, journal.StateDir, "lock", "owner")
	b, err := os.ReadFile(owner)
	require.NoError(t, err)
	var o struct{ Token string }
	require.NoError(t, json.Unmarshal(b, &o))

	journal.SetMachine(t, "taker")
	for i := range 5 {
		ageLock(t, content, 100*time.Second)
		_, err := journal.Acquire(ctx, s, "wpfix restore", false)
		require.ErrorIs(t, err, journal.ErrLocked, "try %d", i)
		assert.Contains(t, err.Error(), "wpfix bisect, pid")
		ageLock(t, content, 100*time.Second)
		assert.ErrorIs(t, journal.Check(ctx, s), nil, "Check leaves a lock that looks old to Acquire, which watches it")
	}
	b, err = os.ReadFile(owner)
	require.NoError(t, err)
	assert.Contains(t, string(b), o.Token, "the holder still holds its lock")

	holder.Abandon() // its heartbeat stops, as with kill -9
	ageLock(t, content, 0)
	_, err = journal.Acquire(ctx, s, "wpfix restore", false)
	require.ErrorIs(t, err, journal.ErrLocked, "a stopped heartbeat the host's clock says is fresh is not taken over")
	require.ErrorIs(t, journal.Check(ctx, s), journal.ErrLocked)

	ageLock(t, content, 100*time.Second)
	taker, err := journal.Acquire(ctx, s, "wpfix restore", false)
	require.NoError(t, err, "a lock whose heartbeat stopped 100 s ago is taken over")
	require.NoError(t, taker.Release(ctx))
	_, err = os.Lstat(filepath.Join(content, journal.StateDir))
	assert.ErrorIs(t, err, os.ErrNotExist)
}

// TestLockForce: --force takes over a lock that looks alive; the run that
// held it is told so when it releases, and removes nothing of the new
// holder's lock.
func TestLockForce(t *testing.T) {
	journal.SetLockTiming(t, 100*time.Millisecond, 90*time.Second, 500*time.Millisecond)
	ctx := context.Background()
	s, content := lockSite(t)
	journal.SetMachine(t, "holder")
	holder, err := journal.Acquire(ctx, s, "wpfix bisect", false)
	require.NoError(t, err)
	journal.SetMachine(t, "taker")
	taker, err := journal.Acquire(ctx, s, "wpfix restore", true)
	require.NoError(t, err)
	err = holder.Release(ctx)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "another run took it over")
	assert.Contains(t, names(t, filepath.Join(content, journal.StateDir, "lock")), "owner", "the new holder's lock is left")
	require.NoError(t, taker.Release(ctx))
}

// TestStateDirFresh: a new state folder is 0700 and carries the deny
// files; they go with it when nothing else is left, and stay with a
// journal.
func TestStateDirFresh(t *testing.T) {
	ctx := context.Background()
	s, content := lockSite(t)
	dir := filepath.Join(content, journal.StateDir)
	l, err := journal.Acquire(ctx, s, "wpfix bisect", false)
	require.NoError(t, err)
	fi, err := os.Lstat(dir)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), fi.Mode().Perm())
	assert.Equal(t, []string{".htaccess", "index.php", "lock"}, names(t, dir))
	ht, err := os.ReadFile(filepath.Join(dir, ".htaccess"))
	require.NoError(t, err)
	assert.Contains(t, string(ht), "Require all denied")
	assert.Contains(t, string(ht), "Deny from all")
	require.NoError(t, l.Release(ctx))
	_, err = os.Lstat(dir)
	assert.ErrorIs(t, err, os.ErrNotExist, "the deny files go with the folder")

	l, err = journal.Acquire(ctx, s, "wpfix bisect", false)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "journal"), []byte("{}"), 0o600))
	require.NoError(t, l.Release(ctx))
	assert.Equal(t, []string{".htaccess", "index.php", "journal"}, names(t, dir), "a journal left keeps the folder and its deny files")
}

// TestStateDirRefused: a state folder that is a symlink (to a root-owned
// folder), a file, writable by others, or owned by a user who is neither
// the one wpfix runs as nor the docroot's owner, is refused by Acquire and
// Check, saying what and why, and nothing is changed: not the folder, not
// what a symlink points to.
func TestStateDirRefused(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give a folder to another user")
	}
	const nobody = 65534
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		make func(t *testing.T, dir string) (look string)
		want string
	}{
		{"symlink", func(t *testing.T, dir string) string {
			target := filepath.Join(t.TempDir(), "root-only")
			require.NoError(t, os.Mkdir(target, 0o700))
			require.NoError(t, os.WriteFile(filepath.Join(target, "secret"), []byte("x"), 0o600))
			require.NoError(t, os.Symlink(target, dir))
			return target
		}, "is a symlink"},
		{"file", func(t *testing.T, dir string) string {
			require.NoError(t, os.WriteFile(dir, []byte("x"), 0o600))
			return filepath.Dir(dir)
		}, "is not a folder"},
		{"other-owner", func(t *testing.T, dir string) string {
			require.NoError(t, os.Mkdir(dir, 0o700))
			require.NoError(t, os.WriteFile(filepath.Join(dir, "journal"), []byte("{}"), 0o600))
			require.NoError(t, os.Lchown(dir, nobody, nobody))
			return dir
		}, "is owned by uid 65534, neither the user wpfix runs as (uid 0) nor the owner of"},
		{"writable", func(t *testing.T, dir string) string {
			require.NoError(t, os.Mkdir(dir, 0o700))
			require.NoError(t, os.Chmod(dir, 0o777))
			return dir
		}, "is writable by others (mode 0777)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, content := lockSite(t)
			dir := filepath.Join(content, journal.StateDir)
			look := tc.make(t, dir)
			before := names(t, look)
			_, err := journal.Acquire(ctx, s, "wpfix restore", false)
			require.ErrorIs(t, err, journal.ErrUnsafe)
			assert.Contains(t, err.Error(), dir+" "+tc.want)
			assert.Contains(t, err.Error(), "nothing was changed")
			assert.Equal(t, before, names(t, look), "nothing changed")
			assert.ErrorIs(t, journal.Check(ctx, s), journal.ErrUnsafe)
			assert.Equal(t, before, names(t, look), "nothing changed")
			_, err = os.Lstat(dir)
			assert.NoError(t, err, "left where it was")
		})
	}

	t.Run("docroot-owner", func(t *testing.T) {
		s, content := lockSite(t)
		dir := filepath.Join(content, journal.StateDir)
		require.NoError(t, os.Mkdir(dir, 0o700))
		require.NoError(t, os.Lchown(dir, nobody, nobody))
		require.NoError(t, os.Lchown(filepath.Dir(content), nobody, nobody))
		l, err := journal.Acquire(ctx, s, "wpfix restore", false)
		require.NoError(t, err, "a state folder of the docroot's owner is used")
		require.NoError(t, l.Release(ctx))
	})

	t.Run("content-owner-only", func(t *testing.T) {
		// wp-content is the site's to relocate: owning it is not enough
		s, content := lockSite(t)
		dir := filepath.Join(content, journal.StateDir)
		require.NoError(t, os.Mkdir(dir, 0o700))
		require.NoError(t, os.Lchown(dir, nobody, nobody))
		require.NoError(t, os.Lchown(content, nobody, nobody))
		_, err := journal.Acquire(ctx, s, "wpfix restore", false)
		require.ErrorIs(t, err, journal.ErrUnsafe)
		assert.Contains(t, err.Error(), "nor the owner of the docroot")
	})

	t.Run("owner-fifo", func(t *testing.T) {
		s, content := lockSite(t)
		lock := filepath.Join(content, journal.StateDir, "lock")
		require.NoError(t, os.MkdirAll(lock, 0o700))
		require.NoError(t, syscall.Mkfifo(filepath.Join(lock, "owner"), 0o600))
		_, err := journal.Acquire(ctx, s, "wpfix restore", false)
		require.ErrorIs(t, err, journal.ErrUnsafe, "refused, not read (a FIFO would block)")
		assert.Contains(t, err.Error(), "is not a file wpfix wrote")
		assert.ErrorIs(t, journal.Check(ctx, s), journal.ErrUnsafe)
	})

	t.Run("lock-symlink", func(t *testing.T) {
		s, content := lockSite(t)
		dir := filepath.Join(content, journal.StateDir)
		require.NoError(t, os.Mkdir(dir, 0o700))
		target := t.TempDir()
		require.NoError(t, os.Symlink(target, filepath.Join(dir, "lock")))
		_, err := journal.Acquire(ctx, s, "wpfix restore", false)
		require.ErrorIs(t, err, journal.ErrUnsafe)
		assert.Contains(t, err.Error(), "is not a folder wpfix made")
		assert.Empty(t, names(t, target))
	})
}
