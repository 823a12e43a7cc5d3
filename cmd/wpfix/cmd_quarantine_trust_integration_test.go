package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wpfix/wpfix/agent/journal"
	"github.com/wpfix/wpfix/wp/wptest"
)

// TestQuarantineSymlinkCLI: the site's user plants
// .wpfix/quarantine/plugin → a root-only folder (standing for
// /etc/systemd/system); a root bisect refuses to move anything through it,
// says so, and the folder and the site stay as they were.
func TestQuarantineSymlinkCLI(t *testing.T) {
	requireRoot(t)
	b := newBisectSite(t, wptest.Options{})
	b.st.Break(t, wptest.BreakFatal)
	before := b.state(t)

	target := filepath.Join(t.TempDir(), "root-only")
	require.NoError(t, os.Mkdir(target, 0o700))
	quarantine := filepath.Join(b.st.ContentDir, journal.StateDir, "quarantine")
	// as the site's user would
	require.NoError(t, os.MkdirAll(quarantine, 0o700))
	link := filepath.Join(quarantine, "plugin")
	require.NoError(t, os.Symlink(target, link))
	for _, p := range []string{filepath.Dir(quarantine), quarantine, link} {
		require.NoError(t, os.Lchown(p, b.srv.UID, b.srv.GID))
	}

	r := runAs(t, b.home, "bisect", "--yes", b.st.Root)
	assert.NotEqual(t, 0, r.code, "stdout: %s", r.stdout)
	assert.Contains(t, r.stderr, link+" is a symlink", "stderr: %s", r.stderr)
	entries, err := os.ReadDir(target)
	require.NoError(t, err)
	assert.Empty(t, entries, "nothing was moved through the symlink")
	fi, err := os.Lstat(link)
	require.NoError(t, err)
	assert.NotZero(t, fi.Mode()&os.ModeSymlink, "the symlink is left for a person to see")
	b.assertAsBefore(t, before, "the site is as it was")
}
