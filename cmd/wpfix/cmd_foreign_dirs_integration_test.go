package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wpfix/wpfix/wp"
	"github.com/wpfix/wpfix/wp/wptest"
)

// TestForeignPluginDir: issue 11's attack through wp-config.php. The site's
// user (wpfixtest) points WP_PLUGIN_DIR at another site's plugins folder,
// root's, and breaks the site from there; root's `wpfix bisect` would move
// the other site's plugins into this site's quarantine. Every command
// refuses the site instead (exit 2), naming WP_PLUGIN_DIR, the folder and
// why; the other site's folder is untouched and no .wpfix is made
// anywhere. --allow-foreign-dirs lets `wpfix info` read it, and once the
// relocated folder is the site user's own, info and a root bisect and
// restore work as they should.
func TestForeignPluginDir(t *testing.T) {
	ts := newTrustSite(t)
	st := ts.st
	st.Break(t, wptest.BreakKillWorker)
	otherSite := filepath.Join(filepath.Dir(st.Root), "other-site")
	other := filepath.Join(otherSite, "wp-content", "plugins")
	require.NoError(t, os.MkdirAll(filepath.Dir(other), 0o755))
	require.NoError(t, os.Rename(st.PluginDir, other))
	chownAll(t, otherSite, 0, 0)
	defineInConfig(t, st, "WP_PLUGIN_DIR", other)
	require.Equal(t, 502, st.Get(t, "/").Status, "broken by a plugin of the other site's folder, which bisect would move")
	otherBefore := fileTree(t, otherSite)
	before := ts.state(t)

	want := "WP_PLUGIN_DIR (set in " + filepath.Join(st.Root, "wp-config.php") + ") is " + other +
		", owned by uid 0, not by the docroot's owner (uid " + strconv.Itoa(ts.uid) + "): " +
		"wpfix acts only on folders the site's owner owns, lest wp-config.php point it at another user's files " +
		"(--allow-foreign-dirs to act on it anyway)"
	for _, args := range [][]string{{"bisect", "--yes"}, {"restore"}, {"info"}} {
		t.Run(args[0], func(t *testing.T) {
			r := ts.runRoot(t, args...)
			assert.Equal(t, 2, r.code, "a folder that is not the site's is bad input: %s", r.stderr)
			assert.Contains(t, r.stderr, want)
			assert.Empty(t, r.stdout)

			assert.Empty(t, diffFiles(otherBefore, fileTree(t, otherSite)), "the other site's folder is as it was")
			ts.assertUntouched(t, before)
			for _, d := range []string{st.ContentDir, otherSite, filepath.Dir(other), other} {
				assert.NoFileExists(t, filepath.Join(d, ".wpfix"), "no state folder in %s", d)
				assert.NoDirExists(t, filepath.Join(d, ".wpfix"), "no state folder in %s", d)
			}
			helpers, err := filepath.Glob(filepath.Join(st.Root, "wpfix-*.php"))
			require.NoError(t, err)
			assert.Empty(t, helpers, "no helper was placed")
		})
	}

	t.Run("info with --allow-foreign-dirs", func(t *testing.T) {
		r := ts.runRoot(t, "info", "--json", "--allow-foreign-dirs")
		require.Equal(t, 0, r.code, r.stderr)
		assert.Contains(t, infoPlugins(t, r), "wptest-kill-worker/wptest-kill-worker.php", "read from the folder wp-config.php names")
		assert.Empty(t, diffFiles(otherBefore, fileTree(t, otherSite)), "info changed nothing there")
	})

	// The same relocation to a folder the site's user owns is the site's own.
	t.Run("relocated to the site user's folder", func(t *testing.T) {
		chownAll(t, otherSite, ts.uid, ts.gid)
		r := ts.runRoot(t, "info", "--json")
		require.Equal(t, 0, r.code, r.stderr)
		assert.Contains(t, infoPlugins(t, r), "wptest-kill-worker/wptest-kill-worker.php")

		r = ts.runRoot(t, "bisect", "--yes", "--json")
		require.Equal(t, 0, r.code, r.stderr)
		assert.Equal(t, []wp.Extension{{Kind: wp.KindPlugin, Name: "wptest-kill-worker"}}, parseReport(t, r).Culprits)
		r = ts.runRoot(t, "restore")
		require.Equal(t, 0, r.code, r.stderr)
		assert.DirExists(t, filepath.Join(other, "wptest-kill-worker"), "put back where it was")
	})
}

// infoPlugins lists the plugin files of `wpfix info --json`.
func infoPlugins(t *testing.T, r result) []string {
	t.Helper()
	var info infoJSON
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &info), r.stdout)
	var files []string
	for _, p := range info.Plugins {
		files = append(files, p.File)
	}
	return files
}

// chownAll gives dir and everything in it to uid:gid.
func chownAll(t *testing.T, dir string, uid, gid int) {
	t.Helper()
	require.NoError(t, filepath.WalkDir(dir, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, gid)
	}))
}

// fileTree describes every file and folder below dir (dir itself
// included): mode, owner, and a regular file's content hash.
func fileTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	require.NoError(t, filepath.WalkDir(dir, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		st := fi.Sys().(*syscall.Stat_t)
		desc := fmt.Sprintf("%v %d:%d", fi.Mode(), st.Uid, st.Gid)
		if fi.Mode().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(b)
			desc += " " + hex.EncodeToString(sum[:])
		}
		files[p] = desc
		return nil
	}))
	return files
}
