package journal_test

import (
	"maps"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wpfix/wpfix/agent/journal"
	"github.com/wpfix/wpfix/agent/journal/journaltest"
	"github.com/wpfix/wpfix/wp/php"
)

// networkSite is an optionSite on a multisite network with two more
// sites: blog 2 runs the plugin a, blog 3 does not.
func networkSite(t *testing.T) (*optionSite, map[int]*journaltest.MemOptions) {
	s := newOptionSite(t, true)
	blogs := map[int]*journaltest.MemOptions{
		2: journaltest.NewMemOptions(map[string]string{
			"active_plugins": string(php.Serialize(php.ListOf("a/a.php", "other/other.php"))),
			"template":       "mytheme", "stylesheet": "mytheme", "current_theme": "My Theme"}),
		3: journaltest.NewMemOptions(map[string]string{
			"active_plugins": string(php.Serialize(php.ListOf("b/b.php")))}),
	}
	s.site.Blogs = func(id int) journal.Options { return blogs[id] }
	s.site.OtherBlogs = []int{2}
	return s, blogs
}

// TestOtherBlogsHeld: while a plugin is in quarantine, a super admin
// loading another site's plugins.php makes WordPress drop it from that
// site's active_plugins; the run puts it back before every probe and at
// its end, and restore after a run that left it disabled puts it back
// there too, keeping what that site's admin changed since.
func TestOtherBlogsHeld(t *testing.T) {
	ctx := t.Context()
	s, blogs := networkSite(t)
	j, err := journal.Open(ctx, s.site)
	require.NoError(t, err)
	s.quarantine(t, j, "a")
	two := blogs[2].Values["active_plugins"]
	blogs[2].Values["active_plugins"] = `a:1:{i:1;s:15:"other/other.php";}` // validate_active_plugins()
	intact, err := j.OptionsIntact(ctx)
	require.NoError(t, err)
	assert.False(t, intact, "another site's options are held too")
	require.NoError(t, j.RestoreOptions(ctx))
	assert.Equal(t, two, blogs[2].Values["active_plugins"])

	// The run ends with a left disabled; WordPress drops it on blog 2
	// again, and that site's admin deactivates other.
	require.NoError(t, j.Release(ctx))
	require.NoError(t, j.Finish(ctx))
	blogs[2].Values["active_plugins"] = `a:0:{}`
	assert.Empty(t, restore(t, s.site))
	assert.Equal(t, string(php.Serialize(php.ListOf("a/a.php"))), blogs[2].Values["active_plugins"],
		"a is back on blog 2; other stays deactivated")
	assert.Equal(t, string(php.Serialize(php.ListOf("b/b.php"))), blogs[3].Values["active_plugins"], "blog 3 untouched")
}

// TestSubsiteRun: a run on a subsite (blog 2) switches that site's theme
// and holds its options; restore puts them back there, and the main
// site's options, which the run also held, are as they were.
func TestSubsiteRun(t *testing.T) {
	ctx := t.Context()
	s, blogs := networkSite(t)
	s.site.Blog, s.site.OtherBlogs = 2, []int{0}
	main := maps.Clone(s.opts.Values)
	j, err := journal.Open(ctx, s.site)
	require.NoError(t, err)
	s.quarantine(t, j, "a")
	for _, o := range []string{"template", "stylesheet"} {
		_, err := j.SetOption(ctx, o, "twentytwentythree", "test")
		require.NoError(t, err)
	}
	assert.Equal(t, "twentytwentythree", blogs[2].Values["stylesheet"], "the subsite's theme is switched")
	assert.Equal(t, main, s.opts.Values, "not the main site's")
	s.opts.Values["active_plugins"] = `a:0:{}` // WordPress on the main site's plugins.php
	require.NoError(t, j.RestoreOptions(ctx))
	assert.Equal(t, main, s.opts.Values, "held")

	// a killed run: restore undoes the switch on blog 2
	j, err = journal.Read(ctx, s.site)
	require.NoError(t, err)
	pending := j.Pending()
	for i := len(pending) - 1; i >= 0; i-- {
		if !pending[i].Housekeeping() {
			require.NoError(t, j.Undo(ctx, pending[i]))
		}
	}
	require.NoError(t, j.RestoreOptions(ctx))
	require.NoError(t, j.Finish(ctx))
	assert.Equal(t, "mytheme", blogs[2].Values["stylesheet"])
	assert.Equal(t, main, s.opts.Values)
}

// TestOtherBlogsUntrusted: a journal naming a blog on a single site, a
// negative blog, or a network option of a blog is refused whole.
func TestOtherBlogsUntrusted(t *testing.T) {
	for _, tt := range []struct {
		entry   string
		network bool
	}{
		{`{"name":"active_plugins","blog":2,"value":"","exists":true}`, false},
		{`{"name":"active_plugins","blog":-1,"value":"","exists":true}`, true},
		{`{"name":"active_sitewide_plugins","network":true,"blog":2,"value":"","exists":true}`, true},
	} {
		t.Run(tt.entry, func(t *testing.T) {
			s := newOptionSite(t, false)
			if tt.network {
				s.site.Blogs = func(int) journal.Options { return journaltest.NewMemOptions(map[string]string{}) }
			}
			b := `{"version":4,"started":"` + time.Now().UTC().Format(time.RFC3339) + `","snapshot":[` + tt.entry + `],"steps":[]}`
			require.NoError(t, os.WriteFile(filepath.Join(s.content, journal.StateDir, "journal"), []byte(b), 0o600))
			_, err := journal.Read(t.Context(), s.site)
			assert.ErrorIs(t, err, journal.ErrUntrusted)
			assert.ErrorContains(t, err, "blog")
		})
	}
}
