package main

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wpfix/wpfix/wp"
	"github.com/wpfix/wpfix/wp/php"
	"github.com/wpfix/wpfix/wp/wptest"
)

// The stale snapshot of issue 11: a culprit left disabled keeps its
// journal, and its snapshot of the options, for days; meanwhile the admin
// changes plugins. After a run the options are the admin's: a second
// bisect and restore put the culprits back into them, as WordPress stores
// them, and keep everything else the admin did.

// TestBisectStaleSnapshot: two culprits in turn. The first bisect leaves
// a disabled; the admin then loads plugins.php (WordPress's own
// validate_active_plugins() drops a, whose files are gone) and
// deactivates other (deactivate_plugins()); b breaks the site; a second
// bisect leaves b disabled; plugins.php is loaded again; restore. After
// the second bisect and after restore, other is still deactivated; after
// restore a and b are active again, and active_plugins is what
// activate_plugin() would have stored.
func TestBisectStaleSnapshot(t *testing.T) {
	t.Parallel()
	b := newBisectSite(t, wptest.Options{})
	st := b.st
	fileA := st.AddPlugin(t, wptest.Plugin{Slug: "wptest-culprit-a", Body: wptest.Fatal})
	fileB := st.AddPlugin(t, wptest.Plugin{Slug: "wptest-culprit-b"})
	other := st.AddPlugin(t, wptest.Plugin{Slug: "other"})
	require.Equal(t, "other/other.php", other)
	st.ActivatePlugins(t, fileA, fileB, other)
	initial := st.ActivePlugins(t)
	require.Equal(t, 500, st.Get(t, "/").Status, "a breaks the site")

	r := b.run(t, "bisect", "--json")
	require.Equal(t, 0, r.code, r.stderr)
	rep := parseReport(t, r)
	culpritA := wp.Extension{Kind: wp.KindPlugin, Name: "wptest-culprit-a"}
	require.Equal(t, []wp.Extension{culpritA}, rep.LeftDisabled)
	require.Equal(t, 200, st.Get(t, "/").Status)

	// Days later, the admin.
	st.RunWordPress(t, `validate_active_plugins(); deactivate_plugins('other/other.php');`)
	active := st.ActivePlugins(t)
	require.NotContains(t, active, fileA, "WordPress dropped the missing culprit")
	require.NotContains(t, active, other, "the admin deactivated other")

	// b breaks the site in turn.
	st.AddPlugin(t, wptest.Plugin{Slug: "wptest-culprit-b", Body: wptest.Fatal})
	require.Equal(t, 500, st.Get(t, "/").Status, "b breaks the site")
	r = b.run(t, "bisect", "--json")
	require.Equal(t, 0, r.code, r.stderr)
	rep = parseReport(t, r)
	culpritB := wp.Extension{Kind: wp.KindPlugin, Name: "wptest-culprit-b"}
	assert.Equal(t, []wp.Extension{culpritB}, rep.LeftDisabled)
	assert.Equal(t, 200, st.Get(t, "/").Status)
	active = st.ActivePlugins(t)
	assert.NotContains(t, active, other, "after the second bisect, the admin's deactivation is still in effect")
	assert.Contains(t, active, fileA, "a is put back into active_plugins, where the first run left it")
	assert.Contains(t, active, fileB)
	assert.NoDirExists(t, filepath.Join(st.PluginDir, "wptest-culprit-a"), "a is still disabled")
	assert.NoDirExists(t, filepath.Join(st.PluginDir, "wptest-culprit-b"), "b is disabled")

	// plugins.php again: WordPress drops both culprits; then restore.
	st.RunWordPress(t, `validate_active_plugins();`)
	require.NotContains(t, st.ActivePlugins(t), fileA)
	require.NotContains(t, st.ActivePlugins(t), fileB)
	r = b.run(t, "restore")
	require.Equal(t, 0, r.code, r.stderr)
	want := slices.DeleteFunc(slices.Clone(initial), func(f string) bool { return f == other })
	raw, _ := st.Option(t, "active_plugins")
	assert.Equal(t, string(php.Serialize(php.ListOf(want...))), raw,
		"after restore: a and b active again, stored as activate_plugin() stores them; other still deactivated")
	assert.DirExists(t, filepath.Join(st.PluginDir, "wptest-culprit-a"))
	assert.DirExists(t, filepath.Join(st.PluginDir, "wptest-culprit-b"))
	assert.FileExists(t, filepath.Join(st.PluginDir, other), "other is installed, not active")
	b.assertNoTrace(t, "no trace of wpfix is left")
}

// TestBisectThemeSwitchedSince: a theme culprit left disabled, and the
// admin switches theme since (WordPress's own switch_theme()): restore
// keeps the admin's theme; the culprit theme is not switched back.
func TestBisectThemeSwitchedSince(t *testing.T) {
	t.Parallel()
	b := newBisectSite(t, wptest.Options{})
	st := b.st
	culprits := st.Break(t, wptest.BreakChildTheme)
	r := b.run(t, "bisect", "--json")
	require.Equal(t, 0, r.code, r.stderr)
	require.Equal(t, culprits, parseReport(t, r).LeftDisabled)
	var parent string
	st.OptionValue(t, "template", &parent)
	var themes []string
	for _, d := range []string{"twentytwentythree", "twentytwentytwo"} {
		if d != parent {
			themes = append(themes, d)
		}
	}
	require.NotEmpty(t, themes)
	admin := themes[0]
	st.RunWordPress(t, `switch_theme('`+admin+`');`)
	r = b.run(t, "restore")
	require.Equal(t, 0, r.code, r.stderr)
	for _, o := range []string{"template", "stylesheet"} {
		v, _ := st.Option(t, o)
		assert.Equal(t, admin, v, "the admin's theme stands (%s)", o)
	}
	b.assertNoTrace(t, "no trace of wpfix is left")
}
