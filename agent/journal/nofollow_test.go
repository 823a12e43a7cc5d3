package journal_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wpfix/wpfix/agent/journal"
	"github.com/wpfix/wpfix/agent/journal/journaltest"
	"github.com/wpfix/wpfix/remote"
)

// TestQuarantineSymlink: a symlink planted in the state folder — the
// quarantine, or a kind's folder in it — is never followed: a plugin is
// not moved through it, and nothing is put back from it; the folder it
// points at is left as it was.
func TestQuarantineSymlink(t *testing.T) {
	for _, planted := range []string{"quarantine", "quarantine/plugin"} {
		t.Run(planted, func(t *testing.T) {
			ctx := t.Context()
			root := t.TempDir()
			content := filepath.Join(root, "wp-content")
			plugin := filepath.Join(content, "plugins", "slider")
			require.NoError(t, os.MkdirAll(plugin, 0o755))
			state := filepath.Join(content, journal.StateDir)
			require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(state, planted)), 0o700))
			elsewhere := t.TempDir() // stands for /etc/systemd/system
			require.NoError(t, os.Symlink(elsewhere, filepath.Join(state, planted)))

			s := journal.Site{Host: remote.NewLocal(), Root: root, ContentDir: content, Options: journaltest.NewMemOptions(nil)}
			j, err := journal.Open(ctx, s)
			require.NoError(t, err)
			quarantine := filepath.Join(state, "quarantine", "plugin")
			err = j.Mkdir(ctx, quarantine, "test")
			require.ErrorIs(t, err, journal.ErrUnsafe)
			assert.Contains(t, err.Error(), filepath.Join(state, planted)+" is a symlink")
			_, err = j.Rename(ctx, plugin, filepath.Join(quarantine, "slider"), "test")
			require.ErrorIs(t, err, journal.ErrUnsafe)

			assert.DirExists(t, plugin, "the plugin stays where it is")
			entries, err := os.ReadDir(elsewhere)
			require.NoError(t, err)
			assert.Empty(t, entries, "nothing moved through the symlink")
		})
	}
}

// TestRestoreThroughSymlink: after a real step, the site's user swaps the
// quarantine's kind folder for a symlink to a folder holding a file of
// the same name (root's); undoing the step refuses to take it into the
// site.
func TestRestoreThroughSymlink(t *testing.T) {
	ctx := t.Context()
	root := t.TempDir()
	content := filepath.Join(root, "wp-content")
	plugin := filepath.Join(content, "plugins", "slider")
	require.NoError(t, os.MkdirAll(plugin, 0o755))
	require.NoError(t, os.MkdirAll(filepath.Join(content, journal.StateDir), 0o700))
	s := journal.Site{Host: remote.NewLocal(), Root: root, ContentDir: content, Options: journaltest.NewMemOptions(nil)}
	j, err := journal.Open(ctx, s)
	require.NoError(t, err)
	quarantine := filepath.Join(content, journal.StateDir, "quarantine", "plugin")
	require.NoError(t, j.Mkdir(ctx, filepath.Dir(quarantine), "test"))
	require.NoError(t, j.Mkdir(ctx, quarantine, "test"))
	st, err := j.Rename(ctx, plugin, filepath.Join(quarantine, "slider"), "test")
	require.NoError(t, err)

	elsewhere := t.TempDir()
	secret := filepath.Join(elsewhere, "slider")
	require.NoError(t, os.WriteFile(secret, []byte("root's"), 0o600))
	require.NoError(t, os.Rename(quarantine, quarantine+".moved"))
	require.NoError(t, os.Symlink(elsewhere, quarantine))

	err = j.Undo(ctx, st)
	require.ErrorIs(t, err, journal.ErrUnsafe)
	assert.FileExists(t, secret, "root's file stays where it is")
	assert.NoFileExists(t, plugin)
	assert.NoDirExists(t, plugin)
}
