package server_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wpfix/wpfix/remote"
	"github.com/wpfix/wpfix/wp/server"
)

// TestSiteLogsSymlinks: the logs a site names are not followed out of it.
// A debug.log that is a symlink, an error_log under a folder that is one,
// and an absolute debug.log outside the site that the docroot's owner does
// not own are skipped with a warning saying why; the site's real logs are
// still found.
func TestSiteLogsSymlinks(t *testing.T) {
	outside := t.TempDir()
	secret := filepath.Join(outside, "secret")
	require.NoError(t, os.WriteFile(secret, []byte("PHP Fatal error:  SECRET\n"), 0o600))

	root := t.TempDir()
	content := filepath.Join(root, "wp-content")
	require.NoError(t, os.Mkdir(content, 0o755))
	require.NoError(t, os.Mkdir(filepath.Join(root, "wp-admin"), 0o755))
	debugLog := filepath.Join(content, "debug.log")
	require.NoError(t, os.Symlink(secret, debugLog))
	require.NoError(t, os.Symlink(outside, filepath.Join(root, "logs")))
	require.NoError(t, os.WriteFile(filepath.Join(outside, "php.log"), []byte("x\n"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(root, ".user.ini"), []byte("error_log = logs/php.log\n"), 0o644))
	cpanel := filepath.Join(root, "wp-admin", "error_log")
	require.NoError(t, os.WriteFile(cpanel, []byte("PHP Warning:  fine\n"), 0o644))

	ctx := context.Background()
	st, err := server.ReadStack(ctx, remote.NewLocal())
	require.NoError(t, err)
	site := server.Site{Root: root, ContentDir: content, DebugLog: debugLog, ConfigFile: filepath.Join(root, "wp-config.php")}
	paths, warnings := findSiteLogs(t, st, site)
	assert.Contains(t, paths, cpanel, "a real log of the site is still read")
	assert.NotContains(t, paths, debugLog)
	assert.NotContains(t, paths, filepath.Join(root, "logs", "php.log"))
	assert.Contains(t, warnings[debugLog], debugLog+" is a symlink inside the site's folders")
	assert.Contains(t, warnings[filepath.Join(root, "logs", "php.log")], filepath.Join(root, "logs")+" is a symlink")

	t.Run("absolute debug.log outside the site", func(t *testing.T) {
		site := site
		site.DebugLog = secret
		paths, warnings := findSiteLogs(t, st, site)
		if os.Geteuid() != 0 {
			assert.Contains(t, paths, secret, "owned by the docroot's owner, who could read it")
			t.Skip("the refusal of a file another user owns needs root to chown the docroot")
		}
		assert.Contains(t, paths, secret, "root's docroot, root's file")
		require.NoError(t, os.Chown(root, 65534, 65534))
		paths, warnings = findSiteLogs(t, st, site)
		assert.NotContains(t, paths, secret)
		assert.Contains(t, warnings[secret], "the docroot's owner (uid 65534) does not own (uid 0)")

		// WP_CONTENT_DIR pointing at a folder the site's owner does not
		// own does not make it the site's.
		require.NoError(t, os.WriteFile(filepath.Join(outside, "error_log"), []byte("PHP Warning:  SECRET\n"), 0o600))
		elsewhere := site
		elsewhere.ContentDir, elsewhere.DebugLog = outside, secret
		paths, warnings = findSiteLogs(t, st, elsewhere)
		assert.NotContains(t, paths, secret)
		assert.NotContains(t, paths, filepath.Join(outside, "error_log"))
		assert.Contains(t, warnings[filepath.Join(outside, "error_log")], "does not own (uid 0)")
		require.NoError(t, os.Chown(outside, 65534, 65534))
		paths, _ = findSiteLogs(t, st, elsewhere)
		assert.Contains(t, paths, filepath.Join(outside, "error_log"), "a wp-content the site's owner owns is the site's")
		require.NoError(t, os.Chown(outside, 0, 0))

		link := filepath.Join(outside, "link")
		require.NoError(t, os.Symlink(secret, link))
		site.DebugLog = link
		_, warnings = findSiteLogs(t, st, site)
		assert.Contains(t, warnings[link], "symlink outside its folders")
	})
}

// findSiteLogs returns the paths of the logs SiteLogs finds and its warnings
// by file.
func findSiteLogs(t *testing.T, st *server.Stack, site server.Site) ([]string, map[string]string) {
	t.Helper()
	logs, warnings, err := st.SiteLogs(context.Background(), site)
	require.NoError(t, err)
	var paths []string
	for _, l := range logs {
		paths = append(paths, l.Path)
	}
	byFile := map[string]string{}
	for _, w := range warnings {
		byFile[w.File] = w.Message
	}
	return paths, byFile
}
