package journal_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wpfix/wpfix/agent/journal"
	"github.com/wpfix/wpfix/agent/journal/journaltest"
	"github.com/wpfix/wpfix/remote"
	"github.com/wpfix/wpfix/remote/sshtest"
	"github.com/wpfix/wpfix/wp/wptest"
)

// fullSite is a site whose wp-content is a small tmpfs of its own, with
// four plugins, on the host given (local, or over SFTP as the site's own
// user), owned by uid:gid.
func fullSite(t *testing.T, h remote.Host, uid, gid int) journal.Site {
	t.Helper()
	base, err := os.MkdirTemp("", "wpfix-diskfull-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(base) })
	require.NoError(t, os.Chmod(base, 0o755))
	root := filepath.Join(base, "site")
	content := filepath.Join(root, "wp-content")
	wptest.MountTmpfs(t, content, 1<<20)
	for _, p := range []string{"a", "b", "c", "d"} {
		dir := filepath.Join(content, "plugins", p)
		require.NoError(t, os.MkdirAll(dir, 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, p+".php"), []byte("<?php // "+p+"\n"), 0o644))
	}
	require.NoError(t, filepath.Walk(root, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, gid)
	}))
	return journal.Site{Host: h, Root: root, ContentDir: content,
		Options: journaltest.NewMemOptions(map[string]string{"template": "mine", "stylesheet": "mine"})}
}

// TestUndoDiskFull fills wp-content's disk after three plugins were moved
// into the quarantine and the theme switched: no new change is made (none
// without its journal), but every one made is undone all the same, since
// renames need no space and reversal is idempotent; the marks that could
// not be saved are counted. A later restore with space, reading the
// journal as the disk kept it, finds those steps done and ends cleanly.
// Locally the write fails with ENOSPC; over SFTP, which has no code for
// it, with SSH_FX_FAILURE, and df confirms the disk is full.
func TestUndoDiskFull(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a tmpfs for wp-content (a disk the test can fill)")
	}
	hosts := []struct {
		name string
		open func(t *testing.T) (remote.Host, int, int)
	}{
		{"local", func(t *testing.T) (remote.Host, int, int) { return remote.NewLocal(), os.Getuid(), os.Getgid() }},
		{"ssh", func(t *testing.T) (remote.Host, int, int) {
			srv := sshtest.NewServer(t, sshtest.Options{})
			h, err := remote.NewSSH(srv.Dial(t), "sshtest")
			require.NoError(t, err)
			t.Cleanup(func() { h.Close() })
			return h, srv.UID, srv.GID
		}},
	}
	for _, tt := range hosts {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			h, uid, gid := tt.open(t)
			s := fullSite(t, h, uid, gid)
			plugin := func(name string) string { return filepath.Join(s.ContentDir, "plugins", name) }
			quarantined := func(name string) string { return filepath.Join(s.Dir(), "quarantine", "plugin", name) }

			require.NoError(t, os.Mkdir(s.Dir(), 0o700))
			require.NoError(t, os.Chown(s.Dir(), uid, gid))
			j, err := journal.Open(ctx, s)
			require.NoError(t, err)
			for _, d := range []string{filepath.Join(s.Dir(), "quarantine"), filepath.Join(s.Dir(), "quarantine", "plugin")} {
				require.NoError(t, j.Mkdir(ctx, d, "quarantine"))
			}
			var steps []*journal.Step
			for _, p := range []string{"a", "b", "c"} {
				st, err := j.Rename(ctx, plugin(p), quarantined(p), "turn off "+p)
				require.NoError(t, err)
				steps = append(steps, st)
			}
			st, err := j.SetOption(ctx, "template", "twentytwentythree", "turn off the theme")
			require.NoError(t, err)
			steps = append(steps, st)

			fill := wptest.FillDisk(t, s.ContentDir, "fill")

			_, err = j.Rename(ctx, plugin("d"), quarantined("d"), "turn off d")
			require.ErrorIs(t, err, journal.ErrNoSpace, "no change without its journal")
			t.Logf("with the disk full: %v", err)
			assert.Contains(t, err.Error(), "the disk that holds the journal is full")
			assert.DirExists(t, plugin("d"), "d was not moved")

			// The theme and b, c are put back with the disk full; a stays off.
			for _, st := range []*journal.Step{steps[3], steps[2], steps[1]} {
				require.NoError(t, j.Undo(ctx, st), "undone with the disk full")
			}
			assert.DirExists(t, plugin("b"))
			assert.DirExists(t, plugin("c"))
			assert.NoDirExists(t, plugin("a"))
			v, _, _ := s.Options.Option(ctx, "template")
			assert.Equal(t, "mine", v)
			assert.Equal(t, 3, j.Unsaved(), "three steps undone, not marked on disk")
			require.ErrorIs(t, j.Full(), journal.ErrNoSpace)
			require.ErrorIs(t, j.Save(ctx), journal.ErrNoSpace, "still no space")
			require.NoError(t, j.Undo(ctx, steps[1]), "undoing twice is harmless")

			// The journal on disk is as it was before the disk filled.
			onDisk, err := journal.Read(ctx, s)
			require.NoError(t, err)
			require.Len(t, onDisk.Pending(), 6, "the marks of the steps undone are not on disk")
			for _, st := range onDisk.Pending() {
				assert.Equal(t, journal.Done, st.State, "step %d", st.Seq)
			}

			// Space again: a restore reading that journal finds b, c and the
			// theme done, puts a back and ends cleanly.
			require.NoError(t, os.Remove(fill))
			later, err := journal.Read(ctx, s)
			require.NoError(t, err)
			pending := later.Pending()
			for i := len(pending) - 1; i >= 0; i-- {
				if !pending[i].Housekeeping() {
					require.NoError(t, later.Undo(ctx, pending[i]), "step %d", pending[i].Seq)
				}
			}
			require.NoError(t, later.RestoreOptions(ctx))
			require.NoError(t, later.Finish(ctx))
			assert.Zero(t, later.Unsaved())
			assert.Nil(t, later.Full(), "there was space")
			for _, p := range []string{"a", "b", "c", "d"} {
				assert.FileExists(t, filepath.Join(plugin(p), p+".php"))
			}
			_, err = os.Stat(filepath.Join(s.Dir(), "journal"))
			assert.True(t, errors.Is(err, os.ErrNotExist), "journal gone: %v", err)
			assert.NoDirExists(t, filepath.Join(s.Dir(), "quarantine"))
		})
	}
}

// TestFinishDiskFull: with the disk full, a journal whose changes are all
// undone is still removed (a removal needs no space), and so are the
// quarantine folders; nothing is left unmarked.
func TestFinishDiskFull(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a tmpfs for wp-content (a disk the test can fill)")
	}
	ctx := t.Context()
	s := fullSite(t, remote.NewLocal(), os.Getuid(), os.Getgid())
	require.NoError(t, os.Mkdir(s.Dir(), 0o700))
	j, err := journal.Open(ctx, s)
	require.NoError(t, err)
	q := filepath.Join(s.Dir(), "quarantine")
	require.NoError(t, j.Mkdir(ctx, q, "quarantine"))
	require.NoError(t, j.Mkdir(ctx, filepath.Join(q, "plugin"), "quarantine"))
	st, err := j.Rename(ctx, filepath.Join(s.ContentDir, "plugins", "a"), filepath.Join(q, "plugin", "a"), "turn off a")
	require.NoError(t, err)

	wptest.FillDisk(t, s.ContentDir, "fill")
	require.NoError(t, j.Undo(ctx, st))
	assert.Equal(t, 1, j.Unsaved())
	require.NoError(t, j.Finish(ctx))
	assert.True(t, j.Removed())
	assert.Zero(t, j.Unsaved(), "no journal, nothing unmarked")
	require.ErrorIs(t, j.Full(), journal.ErrNoSpace, "the disk was full")
	assert.NoFileExists(t, filepath.Join(s.Dir(), "journal"))
	assert.NoDirExists(t, q)
	assert.FileExists(t, filepath.Join(s.ContentDir, "plugins", "a", "a.php"))
}
