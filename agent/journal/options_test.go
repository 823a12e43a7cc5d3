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
	"github.com/wpfix/wpfix/wp/php"
)

// optionSite is a site in a temp dir with the plugins a, b and other, the
// theme mytheme, and its options in memory.
type optionSite struct {
	content string
	opts    *journaltest.MemOptions
	site    journal.Site
}

func newOptionSite(t *testing.T, network bool) *optionSite {
	t.Helper()
	content := filepath.Join(t.TempDir(), "wp-content")
	for _, p := range []string{"a", "b", "other"} {
		require.NoError(t, os.MkdirAll(filepath.Join(content, "plugins", p), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(content, "plugins", p, p+".php"), []byte("<?php\n"), 0o644))
	}
	require.NoError(t, os.MkdirAll(filepath.Join(content, journal.StateDir), 0o700))
	opts := journaltest.NewMemOptions(map[string]string{
		"active_plugins": string(php.Serialize(php.ListOf("a/a.php", "b/b.php", "other/other.php"))),
		"template":       "mytheme", "stylesheet": "mytheme", "current_theme": "My Theme",
	})
	if network {
		opts.Network["active_sitewide_plugins"] = `a:2:{s:7:"a/a.php";i:1700000000;s:15:"other/other.php";i:1700000001;}`
	}
	return &optionSite{content: content, opts: opts,
		site: journal.Site{Host: remote.NewLocal(), ContentDir: content, Options: opts}}
}

// quarantine turns the plugin off through the journal, as bisect does.
// leftDisabled is a run that ended with plugin name left disabled: the
// journal opened, the plugin quarantined, the options released.
func (s *optionSite) leftDisabled(t *testing.T, name string) {
	t.Helper()
	j, err := journal.Open(t.Context(), s.site)
	require.NoError(t, err)
	s.quarantine(t, j, name)
	require.NoError(t, j.Release(t.Context()))
}

func (s *optionSite) quarantine(t *testing.T, j *journal.Journal, name string) {
	t.Helper()
	ctx := t.Context()
	q := filepath.Join(s.content, journal.StateDir, "quarantine")
	require.NoError(t, j.Mkdir(ctx, q, "test"))
	require.NoError(t, j.Mkdir(ctx, filepath.Join(q, "plugin"), "test"))
	_, err := j.Rename(ctx, filepath.Join(s.content, "plugins", name), filepath.Join(q, "plugin", name), "test")
	require.NoError(t, err)
}

// restore does what `wpfix restore` does with the journal.
func restore(t *testing.T, s journal.Site) []string {
	t.Helper()
	ctx := t.Context()
	j, err := journal.Read(ctx, s)
	require.NoError(t, err)
	require.NotNil(t, j)
	notes, err := j.Merge(ctx)
	require.NoError(t, err)
	pending := j.Pending()
	for i := len(pending) - 1; i >= 0; i-- {
		if !pending[i].Housekeeping() {
			require.NoError(t, j.Undo(ctx, pending[i]))
		}
	}
	require.NoError(t, j.RestoreOptions(ctx))
	require.NoError(t, j.Finish(ctx))
	return notes
}

// TestStaleSnapshotMerged: a run leaves the plugin a disabled and releases
// the options; WordPress then drops a from active_plugins (as
// validate_active_plugins does, leaving a gap in the keys) and the admin
// deactivates other. A second run holds the options as the admin left
// them with a put back; after it, and after restore, other stays
// deactivated, and a (and b, the second run's culprit) are active again,
// stored as activate_plugin() stores them.
func TestStaleSnapshotMerged(t *testing.T) {
	ctx := t.Context()
	s := newOptionSite(t, false)
	j, err := journal.Open(ctx, s.site)
	require.NoError(t, err)
	s.quarantine(t, j, "a")
	require.NoError(t, j.RestoreOptions(ctx))
	require.NoError(t, j.Release(ctx))
	require.NoError(t, j.Finish(ctx))
	assert.True(t, j.Released())

	// What deactivate_plugins() leaves: unset, keys not renumbered.
	s.opts.Values["active_plugins"] = `a:1:{i:1;s:7:"b/b.php";}`

	// The second run.
	j, err = journal.Read(ctx, s.site)
	require.NoError(t, err)
	notes, err := j.Hold(ctx)
	require.NoError(t, err)
	assert.Empty(t, notes)
	assert.False(t, j.Released())
	assert.Equal(t, string(php.Serialize(php.ListOf("a/a.php", "b/b.php"))), s.opts.Values["active_plugins"],
		"a is put back as activate_plugin() stores it; other stays deactivated")
	s.quarantine(t, j, "b")
	// WordPress drops b while the run holds the options: put back.
	s.opts.Values["active_plugins"] = `a:1:{i:0;s:7:"a/a.php";}`
	intact, err := j.OptionsIntact(ctx)
	require.NoError(t, err)
	assert.False(t, intact)
	require.NoError(t, j.RestoreOptions(ctx))
	assert.Equal(t, string(php.Serialize(php.ListOf("a/a.php", "b/b.php"))), s.opts.Values["active_plugins"])
	require.NoError(t, j.Release(ctx))
	require.NoError(t, j.Finish(ctx))

	// The admin's page loads drop both again; then restore.
	s.opts.Values["active_plugins"] = `a:0:{}`
	assert.Empty(t, restore(t, s.site))
	assert.Equal(t, string(php.Serialize(php.ListOf("a/a.php", "b/b.php"))), s.opts.Values["active_plugins"])
	assert.DirExists(t, filepath.Join(s.content, "plugins", "a"))
	assert.DirExists(t, filepath.Join(s.content, "plugins", "b"))
	assert.NoFileExists(t, filepath.Join(s.content, journal.StateDir, "journal"))
}

// TestMergeLeavesUntouched: an option the culprits' entries are all in is
// left byte for byte, however the admin ordered it.
func TestMergeLeavesUntouched(t *testing.T) {
	s := newOptionSite(t, false)
	s.leftDisabled(t, "a")
	admin := `a:2:{i:3;s:15:"other/other.php";i:7;s:7:"a/a.php";}`
	s.opts.Values["active_plugins"] = admin
	restore(t, s.site)
	assert.Equal(t, admin, s.opts.Values["active_plugins"])
}

// TestMergeNetwork: a network-activated culprit goes back into
// active_sitewide_plugins with its activation time; the admin's network
// deactivation of other stays.
func TestMergeNetwork(t *testing.T) {
	s := newOptionSite(t, true)
	s.leftDisabled(t, "a")
	s.opts.Network["active_sitewide_plugins"] = `a:0:{}`
	restore(t, s.site)
	assert.Equal(t, `a:1:{s:7:"a/a.php";i:1700000000;}`, s.opts.Network["active_sitewide_plugins"])
}

// TestMergeTheme: a theme culprit left disabled comes back at restore only
// if the admin has not switched theme since; a switch the admin made
// stands, and the steps are not reversed.
func TestMergeTheme(t *testing.T) {
	tests := []struct {
		name     string
		switchTo string // "" for no switch
		want     string
	}{
		{name: "not switched", want: "mytheme"},
		{name: "switched", switchTo: "twentytwentytwo", want: "twentytwentytwo"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			s := newOptionSite(t, false)
			j, err := journal.Open(ctx, s.site)
			require.NoError(t, err)
			for _, o := range []string{"template", "stylesheet", "current_theme"} {
				_, err := j.SetOption(ctx, o, "twentytwentythree", "turn off the theme")
				require.NoError(t, err)
			}
			require.NoError(t, j.RestoreOptions(ctx))
			assert.Equal(t, "twentytwentythree", s.opts.Values["stylesheet"], "the run holds the theme switched away")
			require.NoError(t, j.Release(ctx))
			require.NoError(t, j.Finish(ctx))
			s.opts.Values["active_plugins"] = `a:1:{i:0;s:7:"a/a.php";}` // the admin's, no culprit's
			if tt.switchTo != "" {
				for _, o := range []string{"template", "stylesheet", "current_theme"} {
					s.opts.Values[o] = tt.switchTo
				}
			}
			restore(t, s.site)
			assert.Equal(t, tt.want, s.opts.Values["template"])
			assert.Equal(t, tt.want, s.opts.Values["stylesheet"])
			assert.Equal(t, `a:1:{i:0;s:7:"a/a.php";}`, s.opts.Values["active_plugins"], "the admin's plugins are kept")
		})
	}
}

// TestMergeNotAnArray: an active_plugins that is not a PHP array is left
// as it is, and the note says the culprit was not put back.
func TestMergeNotAnArray(t *testing.T) {
	s := newOptionSite(t, false)
	s.leftDisabled(t, "a")
	s.opts.Values["active_plugins"] = "garbage"
	notes := restore(t, s.site)
	assert.Equal(t, "garbage", s.opts.Values["active_plugins"])
	require.Len(t, notes, 1)
	assert.Contains(t, notes[0], "active_plugins was left as it is, without a put back")
	assert.DirExists(t, filepath.Join(s.content, "plugins", "a"), "the files came back all the same")
}

// TestHeldKilledRun: a run killed half way has not released the options:
// restore writes its snapshot back whole, as the run held it.
func TestHeldKilledRun(t *testing.T) {
	ctx := t.Context()
	s := newOptionSite(t, false)
	before := s.opts.Values["active_plugins"]
	j, err := journal.Open(ctx, s.site)
	require.NoError(t, err)
	s.quarantine(t, j, "a")
	s.opts.Values["active_plugins"] = `a:1:{i:1;s:7:"b/b.php";}` // WordPress, mid-run
	restore(t, s.site)
	assert.Equal(t, before, s.opts.Values["active_plugins"])
}

// TestHoldThenKilled: a second run, killed half way, held the options as
// the admin had left them when it started (with the first run's culprit
// put back): restore writes that back, not the first run's snapshot.
func TestHoldThenKilled(t *testing.T) {
	ctx := t.Context()
	s := newOptionSite(t, false)
	s.leftDisabled(t, "a")
	s.opts.Values["active_plugins"] = `a:1:{i:1;s:7:"b/b.php";}` // other deactivated, a dropped
	j, err := journal.Read(ctx, s.site)
	require.NoError(t, err)
	_, err = j.Hold(ctx)
	require.NoError(t, err)
	s.quarantine(t, j, "b")
	s.opts.Values["active_plugins"] = `a:0:{}` // WordPress, mid-run; then kill -9
	restore(t, s.site)
	assert.Equal(t, string(php.Serialize(php.ListOf("a/a.php", "b/b.php"))), s.opts.Values["active_plugins"])
}

// TestLeftUntrusted: a journal whose record of the options a run left
// names an option wpfix never writes is refused whole.
func TestLeftUntrusted(t *testing.T) {
	ctx := t.Context()
	s := newOptionSite(t, false)
	file := filepath.Join(s.content, journal.StateDir, "journal")
	require.NoError(t, os.WriteFile(file, []byte(`{"version":3,"snapshot":[],"ended":"2026-12-01T00:00:00Z","left":[{"name":"siteurl","value":"x","exists":true}],"steps":[]}`), 0o600))
	_, err := journal.Read(ctx, s.site)
	require.ErrorIs(t, err, journal.ErrUntrusted)
	assert.Contains(t, err.Error(), `its record of the options a run left holds the option "siteurl"`)
}
