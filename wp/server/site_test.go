package server_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wpfix/wpfix/remote"
	"github.com/wpfix/wpfix/wp/server"
)

// TestSiteLogsWarnings: what SiteLogs could not read beside the site is a
// warning naming the file and why — a .user.ini that cannot be read, a
// debug.log that is a FIFO — while a log that is simply not there is none.
// Non-regular files stand in for unreadable ones, which root (as CI runs)
// could read anyway.
func TestSiteLogsWarnings(t *testing.T) {
	root := t.TempDir()
	content := filepath.Join(root, "wp-content")
	require.NoError(t, os.Mkdir(content, 0o755))
	require.NoError(t, os.Mkdir(filepath.Join(root, ".user.ini"), 0o755))
	fifo := filepath.Join(content, "debug.log")
	require.NoError(t, syscall.Mkfifo(fifo, 0o644))

	ctx := context.Background()
	h := remote.NewLocal()
	st, err := server.ReadStack(ctx, h)
	require.NoError(t, err)
	logs, warnings, err := st.SiteLogs(ctx, server.Site{Root: root, ContentDir: content,
		DebugLog: fifo, ConfigFile: filepath.Join(root, "wp-config.php")})
	require.NoError(t, err)
	for _, l := range logs {
		assert.NotEqual(t, fifo, l.Path, "a FIFO is no log to read")
	}

	byFile := map[string]string{}
	for _, w := range warnings {
		byFile[w.File] = w.Message
	}
	if assert.Contains(t, byFile, filepath.Join(root, ".user.ini")) {
		assert.Contains(t, byFile[filepath.Join(root, ".user.ini")], "could not be read")
	}
	if assert.Contains(t, byFile, fifo) {
		assert.Contains(t, byFile[fifo], "WP_DEBUG_LOG")
		assert.Contains(t, byFile[fifo], "not a regular file")
	}
	for file := range byFile {
		assert.False(t, strings.HasSuffix(file, "error_log"), "a cPanel error_log that is not there is no warning: %s", file)
	}
}
