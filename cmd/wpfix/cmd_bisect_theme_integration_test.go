package main

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wpfix/wpfix/wp"
	"github.com/wpfix/wpfix/wp/wptest"
)

// minimalThemeName is the shape of wpfix's minimal theme's folder.
var minimalThemeName = regexp.MustCompile(`^wpfix-minimal-[0-9a-f]{16}$`)

// minimalThemes lists wpfix's minimal themes in the site's themes folder.
func (b *bisectSite) minimalThemes(t *testing.T) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(b.st.ThemeDir, "wpfix-minimal-*"))
	require.NoError(t, err)
	return m
}

// assertRealPage checks that visitors get a whole page of the site, three
// times over, not a white screen or an error; want is a piece of it (the
// theme's stylesheet).
func (b *bisectSite) assertRealPage(t *testing.T, want, msg string) {
	t.Helper()
	for range 3 {
		home := b.st.Get(t, "/")
		body := strings.TrimSpace(home.Body)
		assert.Equal(t, http.StatusOK, home.Status, msg)
		assert.True(t, strings.HasPrefix(home.Header.Get("Content-Type"), "text/html"), msg)
		assert.True(t, strings.HasPrefix(body, "<!DOCTYPE html>"), "%s: a whole page: %.200q", msg, body)
		assert.True(t, strings.HasSuffix(body, "</html>"), "%s: a whole page: …%q", msg, body[max(0, len(body)-200):])
		assert.True(t, strings.Contains(body, "<h1>wptest</h1>") || strings.Contains(body, ">wptest</a></h1>"), "%s: the site's name", msg)
		assert.True(t, strings.Contains(body, want), "%s: the page holds %q", msg, want)
	}
}

// TestBisectThemeNoDefault runs the built binary over SSH on sites shaped
// as production ones: no default theme to switch to, or only the parent of
// the broken child theme. The theme is found all the same, switched to a
// minimal theme wpfix places, which visitors then get as a real page;
// restore puts the theme and the site back byte for byte and removes the
// minimal theme. A plugin culprit on such a site leaves no minimal theme
// behind at the end of the run.
func TestBisectThemeNoDefault(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, st *wptest.Stack) []wp.Extension
		// themeCulprit: the theme is the culprit, the minimal theme stays.
		themeCulprit bool
		// args are bisect's own: --no-logs makes it search by probes alone.
		args []string
	}{
		{"standalone theme, no default theme", func(t *testing.T, st *wptest.Stack) []wp.Extension {
			st.AddTheme(t, "wptest-broken-theme", wptest.Fatal)
			st.ActivateTheme(t, "wptest-broken-theme", "wptest-broken-theme")
			st.RemoveDefaultThemes(t)
			return []wp.Extension{{Kind: wp.KindTheme, Name: "wptest-broken-theme"}}
		}, true, nil},
		{"standalone theme, no default theme, no logs", func(t *testing.T, st *wptest.Stack) []wp.Extension {
			st.AddTheme(t, "wptest-broken-theme", wptest.Fatal)
			st.ActivateTheme(t, "wptest-broken-theme", "wptest-broken-theme")
			st.RemoveDefaultThemes(t)
			return []wp.Extension{{Kind: wp.KindTheme, Name: "wptest-broken-theme"}}
		}, true, []string{"--no-logs"}},
		{"child theme, only its parent installed", func(t *testing.T, st *wptest.Stack) []wp.Extension {
			culprits := st.Break(t, wptest.BreakChildTheme)
			var parent string
			st.OptionValue(t, "template", &parent)
			st.RemoveDefaultThemes(t, parent)
			themes, err := filepath.Glob(filepath.Join(st.ThemeDir, "twenty*"))
			require.NoError(t, err)
			require.Equal(t, []string{filepath.Join(st.ThemeDir, parent)}, themes, "precondition: the parent is the only default theme")
			return culprits
		}, true, nil},
		{"plugin, no default theme", func(t *testing.T, st *wptest.Stack) []wp.Extension {
			st.AddTheme(t, "wptest-fine-theme", "")
			st.ActivateTheme(t, "wptest-fine-theme", "wptest-fine-theme")
			st.RemoveDefaultThemes(t)
			require.Equal(t, http.StatusOK, st.Get(t, "/").Status, "precondition: the theme is fine")
			return st.Break(t, wptest.BreakKillWorker)
		}, false, []string{"--no-logs"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := newBisectSite(t, wptest.Options{})
			culprits := tc.setup(t, b.st)
			require.NotEqual(t, http.StatusOK, b.st.Get(t, "/").Status, "precondition: broken")
			before := b.state(t)

			r := b.run(t, append([]string{"bisect", "--json"}, tc.args...)...)
			require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
			rep := parseReport(t, r)
			require.Equal(t, "culprit_found", rep.Verdict, "notes: %v", rep.Notes)
			assert.Equal(t, culprits, rep.Culprits)
			assert.Equal(t, culprits, rep.LeftDisabled)
			assert.Equal(t, 200, rep.FinalStatus)
			t.Logf("%d probes, notes %v", rep.Probes, rep.Notes)

			after := b.state(t)
			diff := diffFiles(before.Files, after.Files)
			want := "/themes/" + before.Options["stylesheet"] + "/"
			if !tc.themeCulprit {
				assert.Empty(t, b.minimalThemes(t), "the theme was put back: no minimal theme is left")
				for _, f := range extensionFiles(before, culprits[0]) {
					assert.Contains(t, diff, "missing "+f)
				}
				assert.Len(t, diff, len(extensionFiles(before, culprits[0])), "only the culprit's files moved: %v", diff)
				assert.Equal(t, before.Options["stylesheet"], after.Options["stylesheet"])
			} else {
				themes := b.minimalThemes(t)
				require.Len(t, themes, 1, "the minimal theme is the site's theme now")
				name := filepath.Base(themes[0])
				assert.Regexp(t, minimalThemeName, name)
				want = "/themes/" + name + "/style.css"
				for _, o := range []string{"template", "stylesheet"} {
					assert.Equal(t, name, after.Options[o], "the site runs the minimal theme (%s)", o)
				}
				assert.Equal(t, before.Options["active_plugins"], after.Options["active_plugins"], "active_plugins byte for byte")
				// Only the minimal theme is new; the culprit's files stay,
				// as the site's user owns them.
				rel := "themes/" + name
				assert.ElementsMatch(t, []string{"new " + rel, "new " + rel + "/style.css", "new " + rel + "/index.php"}, diff)
				owner := func(p string) uint32 {
					fi, err := os.Lstat(p)
					require.NoError(t, err)
					return fi.Sys().(*syscall.Stat_t).Uid
				}
				for _, f := range []string{"", "style.css", "index.php"} {
					assert.Equal(t, owner(b.st.ThemeDir), owner(filepath.Join(themes[0], f)), "the minimal theme's %q is the site's user's", f)
				}
			}
			b.assertRealPage(t, want, "after bisect")

			r = b.run(t, "restore")
			require.Equal(t, 0, r.code, r.stderr)
			b.assertAsBefore(t, before, "restore puts every file and option back")
			b.assertNoTrace(t, "no trace of wpfix is left")
			assert.Empty(t, b.minimalThemes(t), "restore removes the minimal theme")
		})
	}
}

// TestBisectThemeUntried: when the theme cannot be tried (no default
// theme, and a themes folder wpfix cannot write to place its minimal
// theme), bisect says so and concludes inconclusive, never that the cause
// lies outside the extensions; everything is as before. With --scope
// theme nothing is left to try at all.
func TestBisectThemeUntried(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		// others: candidates besides the theme were turned on and off.
		others bool
	}{
		{"with the plugins", nil, true},
		{"the theme alone", []string{"--scope", "theme"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := newBisectSite(t, wptest.Options{})
			b.st.AddTheme(t, "wptest-broken-theme", wptest.Fatal)
			b.st.ActivateTheme(t, "wptest-broken-theme", "wptest-broken-theme")
			b.st.RemoveDefaultThemes(t)
			require.NoError(t, os.Chmod(b.st.ThemeDir, 0o555))
			t.Cleanup(func() { os.Chmod(b.st.ThemeDir, 0o755) })
			require.NotEqual(t, http.StatusOK, b.st.Get(t, "/").Status, "precondition: broken")
			before := b.state(t)

			r := b.run(t, append([]string{"bisect", "--json"}, tc.args...)...)
			assert.Equal(t, 1, r.code, "still broken: %s", r.stderr)
			rep := parseReport(t, r)
			assert.Equal(t, "inconclusive", rep.Verdict, "notes: %v", rep.Notes)
			assert.Empty(t, rep.Culprits)
			var cands struct {
				Candidates []wp.Extension `json:"candidates"`
			}
			require.NoError(t, json.Unmarshal([]byte(r.stdout), &cands))
			assert.NotContains(t, cands.Candidates, wp.Extension{Kind: wp.KindTheme, Name: "wptest-broken-theme"}, "the theme was not turned on and off")
			assert.Equal(t, tc.others, len(cands.Candidates) > 0, "candidates %v", cands.Candidates)
			notes := strings.Join(rep.Notes, "\n")
			t.Logf("%d probes, notes:\n%s", rep.Probes, notes)
			assert.Contains(t, notes, "the theme wptest-broken-theme could not be tried: no other default (twenty*) theme is installed, and wpfix's minimal theme could not be placed")
			assert.Contains(t, notes, "permission denied", "the note says why")
			if tc.others {
				assert.Contains(t, notes, "not every one could be tried (theme wptest-broken-theme)")
			}
			assert.NotContains(t, notes, "outside its plugins and theme")
			b.assertAsBefore(t, before, "nothing changed")
			b.assertNoTrace(t)
			assert.Empty(t, b.minimalThemes(t))
		})
	}
}
