package journal_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wpfix/wpfix/agent/journal"
)

const themeName = "wpfix-minimal-0123456789abcdef"

func minimalTheme() journal.MinimalTheme {
	return journal.MinimalTheme{Name: themeName, Why: "test",
		Files: map[string][]byte{"style.css": []byte("/*\nTheme Name: t\n*/\n"), "index.php": []byte("<html></html>\n")}}
}

// TestPlaceTheme: the minimal theme is placed journaled, stays while a
// step in effect switches the site to it (a theme culprit left disabled),
// and goes once none does; the journal goes with it.
func TestPlaceTheme(t *testing.T) {
	ctx := t.Context()
	s := trustSite(t)
	require.NoError(t, os.MkdirAll(s.ThemeDir, 0o755))
	j, err := journal.Open(ctx, s)
	require.NoError(t, err)
	st, err := j.PlaceTheme(ctx, minimalTheme())
	require.NoError(t, err)
	dir := filepath.Join(s.ThemeDir, themeName)
	assert.Equal(t, dir, s.ThemePath(themeName))
	for name, want := range minimalTheme().Files {
		b, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		assert.Equal(t, want, b)
	}
	assert.True(t, st.Housekeeping())
	assert.Equal(t, journal.Done, st.State)
	b, err := os.ReadFile(filepath.Join(s.Dir(), "journal"))
	require.NoError(t, err)
	assert.Contains(t, string(b), `"op": "theme"`)
	assert.Contains(t, string(b), `"name": "`+themeName+`"`)

	for _, o := range []string{"template", "stylesheet", "current_theme"} {
		_, err := j.SetOption(ctx, o, themeName, "test")
		require.NoError(t, err)
	}
	// A culprit theme left disabled: the minimal theme stays, and so does
	// the journal, for restore; read again, it holds the step.
	require.NoError(t, j.Finish(ctx))
	assert.DirExists(t, dir)
	j, err = journal.Read(ctx, s)
	require.NoError(t, err)
	require.NotNil(t, j)
	pending := j.Pending()
	require.Len(t, pending, 4)
	assert.Equal(t, journal.OpTheme, pending[0].Op)
	for i := len(pending) - 1; i >= 1; i-- {
		require.NoError(t, j.Undo(ctx, pending[i]))
	}
	require.NoError(t, j.Finish(ctx))
	assert.NoDirExists(t, dir)
	assert.NoFileExists(t, filepath.Join(s.Dir(), "journal"))
}

// TestPlaceThemeUnused: a run that puts the theme back but leaves a plugin
// disabled removes its minimal theme at its end; the journal stays.
func TestPlaceThemeUnused(t *testing.T) {
	ctx := t.Context()
	s := trustSite(t)
	require.NoError(t, os.MkdirAll(filepath.Join(s.PluginDir, "slider"), 0o755))
	require.NoError(t, os.MkdirAll(s.ThemeDir, 0o755))
	j, err := journal.Open(ctx, s)
	require.NoError(t, err)
	_, err = j.PlaceTheme(ctx, minimalTheme())
	require.NoError(t, err)
	opt, err := j.SetOption(ctx, "stylesheet", themeName, "test")
	require.NoError(t, err)
	require.NoError(t, j.Undo(ctx, opt))
	q := filepath.Join(s.Dir(), "quarantine")
	require.NoError(t, j.Mkdir(ctx, q, "test"))
	require.NoError(t, j.Mkdir(ctx, filepath.Join(q, "plugin"), "test"))
	_, err = j.Rename(ctx, filepath.Join(s.PluginDir, "slider"), filepath.Join(q, "plugin", "slider"), "test")
	require.NoError(t, err)
	require.NoError(t, j.Finish(ctx))
	assert.NoDirExists(t, filepath.Join(s.ThemeDir, themeName))
	assert.FileExists(t, filepath.Join(s.Dir(), "journal"))
	assert.DirExists(t, filepath.Join(q, "plugin", "slider"))
}

// TestPlaceThemeRefuses: a name that is not a minimal theme's is never
// recorded nor made, an existing folder is never overwritten, and a file
// other than the theme's own is never written.
func TestPlaceThemeRefuses(t *testing.T) {
	ctx := t.Context()
	s := trustSite(t)
	require.NoError(t, os.MkdirAll(s.ThemeDir, 0o755))
	j, err := journal.Open(ctx, s)
	require.NoError(t, err)

	for _, name := range []string{"twentytwentythree", "../../etc", "wpfix-minimal", "wpfix-minimal-0123456789ABCDEF"} {
		m := minimalTheme()
		m.Name = name
		_, err := j.PlaceTheme(ctx, m)
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), "which is not wpfix's minimal theme", name)
		assert.Contains(t, err.Error(), "refused; nothing was changed", name)
	}
	entries, err := os.ReadDir(s.ThemeDir)
	require.NoError(t, err)
	assert.Empty(t, entries, "nothing was made")

	taken := filepath.Join(s.ThemeDir, themeName)
	require.NoError(t, os.Mkdir(taken, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(taken, "style.css"), []byte("mine"), 0o644))
	_, err = j.PlaceTheme(ctx, minimalTheme())
	require.ErrorIs(t, err, os.ErrExist)
	b, err := os.ReadFile(filepath.Join(taken, "style.css"))
	require.NoError(t, err)
	assert.Equal(t, "mine", string(b), "never overwritten")

	m := minimalTheme()
	m.Name = "wpfix-minimal-fedcba9876543210"
	m.Files["functions.php"] = []byte("<?php")
	_, err = j.PlaceTheme(ctx, m)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"functions.php" is not one of a minimal theme's files`)
	assert.NoDirExists(t, filepath.Join(s.ThemeDir, m.Name))
	assert.Empty(t, j.Pending())
}

// TestPlaceThemeUnwritable: a themes folder wpfix cannot write leaves no
// step in effect and nothing made.
func TestPlaceThemeUnwritable(t *testing.T) {
	ctx := t.Context()
	s := trustSite(t)
	require.NoError(t, os.MkdirAll(s.ThemeDir, 0o755))
	j, err := journal.Open(ctx, s)
	require.NoError(t, err)
	// A file where the themes folder should be fails the same way for
	// root, whom permissions do not stop.
	require.NoError(t, os.Remove(s.ThemeDir))
	require.NoError(t, os.WriteFile(s.ThemeDir, nil, 0o644))
	_, err = j.PlaceTheme(ctx, minimalTheme())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "place the theme")
	assert.Empty(t, j.Pending())
	require.NoError(t, j.Finish(ctx))
}

// TestThemeJournalTrust: a planted theme step acts only on the folder its
// name makes in the site's themes folder, never on a path it names; one
// whose name is not a minimal theme's is refused whole; a folder of that
// name holding anything else, or a symlink in its place, is left for a
// person, and so is a minimal theme the site's options name.
func TestThemeJournalTrust(t *testing.T) {
	ctx := t.Context()
	write := func(t *testing.T, s journal.Site, version int, steps ...map[string]any) {
		t.Helper()
		for i, st := range steps {
			st["seq"] = i + 1
			st["state"] = "done"
		}
		b, err := json.Marshal(map[string]any{"version": version, "snapshot": []map[string]any{{"name": "template", "value": "x", "exists": true}}, "steps": steps})
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(s.Dir(), "journal"), b, 0o600))
	}
	place := func(t *testing.T, s journal.Site, extra ...string) string {
		t.Helper()
		dir := filepath.Join(s.ThemeDir, themeName)
		require.NoError(t, os.MkdirAll(dir, 0o755))
		for _, f := range append([]string{"style.css", "index.php"}, extra...) {
			require.NoError(t, os.WriteFile(filepath.Join(dir, f), []byte("x"), 0o644))
		}
		return dir
	}

	t.Run("path ignored", func(t *testing.T) {
		s := trustSite(t)
		elsewhere := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(elsewhere, "index.php"), []byte("precious"), 0o644))
		dir := place(t, s)
		write(t, s, journal.Version, map[string]any{"op": "theme", "name": themeName, "path": elsewhere, "from": elsewhere, "to": elsewhere})
		j, err := journal.Read(ctx, s)
		require.NoError(t, err)
		require.NoError(t, j.Finish(ctx))
		assert.NoDirExists(t, dir)
		assert.FileExists(t, filepath.Join(elsewhere, "index.php"), "a path the step names is never touched")
	})
	for _, tc := range []struct{ name, theme string }{
		{"a real theme's name", "twentytwentythree"},
		{"a path", "../../../etc"},
		{"an absolute path", "/etc"},
		{"empty", ""},
		{"a prefix only", "wpfix-minimal-"},
		{"a longer suffix", themeName + "0"},
	} {
		t.Run("refused "+tc.name, func(t *testing.T) {
			s := trustSite(t)
			require.NoError(t, os.MkdirAll(filepath.Join(s.ThemeDir, "twentytwentythree"), 0o755))
			write(t, s, journal.Version, map[string]any{"op": "theme", "name": tc.theme})
			before, err := os.ReadFile(filepath.Join(s.Dir(), "journal"))
			require.NoError(t, err)
			_, err = journal.Read(ctx, s)
			require.ErrorIs(t, err, journal.ErrUntrusted)
			assert.Contains(t, err.Error(), "step 1 places the theme")
			assert.Contains(t, err.Error(), "which is not wpfix's minimal theme")
			assert.Contains(t, err.Error(), "refused; nothing was changed")
			after, err := os.ReadFile(filepath.Join(s.Dir(), "journal"))
			require.NoError(t, err)
			assert.Equal(t, before, after)
			assert.DirExists(t, filepath.Join(s.ThemeDir, "twentytwentythree"))
		})
	}
	t.Run("killed half way", func(t *testing.T) {
		// Planned: the folder made, style.css written, index.php's atomic
		// write killed before its rename.
		s := trustSite(t)
		dir := filepath.Join(s.ThemeDir, themeName)
		require.NoError(t, os.MkdirAll(dir, 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "style.css"), []byte("x"), 0o644))
		require.NoError(t, os.WriteFile(filepath.Join(dir, ".index.php.wpfix-tmp-0a1b2c3d4e5f"), []byte("x"), 0o600))
		write(t, s, journal.Version, map[string]any{"op": "theme", "name": themeName})
		b, err := os.ReadFile(filepath.Join(s.Dir(), "journal"))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(s.Dir(), "journal"), []byte(strings.Replace(string(b), `"done"`, `"planned"`, 1)), 0o600))
		j, err := journal.Read(ctx, s)
		require.NoError(t, err)
		require.Len(t, j.Pending(), 1)
		assert.Equal(t, journal.Planned, j.Pending()[0].State)
		require.NoError(t, j.Finish(ctx))
		assert.NoDirExists(t, dir)
		assert.NoFileExists(t, filepath.Join(s.Dir(), "journal"))
	})
	t.Run("foreign file left", func(t *testing.T) {
		s := trustSite(t)
		dir := place(t, s, "functions.php")
		write(t, s, journal.Version, map[string]any{"op": "theme", "name": themeName})
		j, err := journal.Read(ctx, s)
		require.NoError(t, err)
		err = j.Finish(ctx)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "wpfix removes only its own style.css and index.php from it")
		assert.FileExists(t, filepath.Join(dir, "functions.php"))
		assert.FileExists(t, filepath.Join(s.Dir(), "journal"), "the journal stays for another try")
	})
	t.Run("symlink left", func(t *testing.T) {
		s := trustSite(t)
		elsewhere := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(elsewhere, "index.php"), []byte("precious"), 0o644))
		require.NoError(t, os.MkdirAll(s.ThemeDir, 0o755))
		require.NoError(t, os.Symlink(elsewhere, filepath.Join(s.ThemeDir, themeName)))
		write(t, s, journal.Version, map[string]any{"op": "theme", "name": themeName})
		j, err := journal.Read(ctx, s)
		require.NoError(t, err)
		err = j.Finish(ctx)
		require.ErrorIs(t, err, journal.ErrUnsafe)
		assert.Contains(t, err.Error(), "is a symbolic link, not the folder wpfix made")
		assert.FileExists(t, filepath.Join(elsewhere, "index.php"))
	})
	t.Run("in use left", func(t *testing.T) {
		s := trustSite(t)
		dir := place(t, s)
		require.NoError(t, s.Options.SetOption(ctx, "stylesheet", themeName))
		write(t, s, journal.Version, map[string]any{"op": "theme", "name": themeName})
		j, err := journal.Read(ctx, s)
		require.NoError(t, err)
		err = j.Finish(ctx)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "the site's stylesheet option names it")
		assert.DirExists(t, dir)
	})
}
