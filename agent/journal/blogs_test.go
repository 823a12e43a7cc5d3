package journal_test

import (
	"os"
	"path/filepath"
	"strings"
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

// TestOtherBlogsUntrusted: a journal naming a blog on a single site, a
// negative blog, or a network option of a blog is refused whole.
func TestOtherBlogsUntrusted(t *testing.T) {
	for _, entry := range []string{
		`{"name":"active_plugins","blog":2,"value":"","exists":true}`,
		`{"name":"active_plugins","blog":-1,"value":"","exists":true}`,
		`{"name":"active_sitewide_plugins","network":true,"blog":2,"value":"","exists":true}`,
	} {
		t.Run(entry, func(t *testing.T) {
			s := newOptionSite(t, false)
			if !strings.Contains(entry, `"blog":2,"value"`) || strings.Contains(entry, "network") {
				s.site.Blogs = func(int) journal.Options { return journaltest.NewMemOptions(nil) }
			}
			b := `{"version":4,"started":"` + time.Now().UTC().Format(time.RFC3339) + `","snapshot":[` + entry + `],"steps":[]}`
			require.NoError(t, os.WriteFile(filepath.Join(s.content, journal.StateDir, "journal"), []byte(b), 0o600))
			_, err := journal.Read(t.Context(), s.site)
			assert.ErrorIs(t, err, journal.ErrUntrusted)
			assert.ErrorContains(t, err, "blog")
		})
	}
}
