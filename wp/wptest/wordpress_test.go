package wptest_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/wpfix/wpfix/wp/wptest"
)

// TestRunWordPress: WordPress's own functions run against the stack as
// its admin's page loads would: validate_active_plugins() drops a plugin
// whose files are gone, leaving a gap in the keys as deactivate_plugins()
// does, and deactivate_plugins() drops another.
func TestRunWordPress(t *testing.T) {
	t.Parallel()
	st := wptest.NewStack(t, wptest.Options{})
	gone := st.AddPlugin(t, wptest.Plugin{Slug: "gone"})
	other := st.AddPlugin(t, wptest.Plugin{Slug: "other"})
	kept := st.AddPlugin(t, wptest.Plugin{Slug: "kept"})
	st.ActivatePlugins(t, gone, other, kept)
	assert.NoError(t, os.RemoveAll(filepath.Join(st.PluginDir, "gone")))

	out := st.RunWordPress(t, `echo implode(',', array_keys(validate_active_plugins()));`)
	assert.Equal(t, gone, out, "WordPress reports the missing plugin deactivated")
	st.RunWordPress(t, `deactivate_plugins('other/other.php');`)
	assert.Equal(t, []string{kept}, st.ActivePlugins(t))
	raw, _ := st.Option(t, "active_plugins")
	assert.Equal(t, `a:1:{i:1;s:13:"kept/kept.php";}`, raw, "as WordPress stores it: unset, keys not renumbered")
	assert.Equal(t, "1", st.RunWordPress(t, `echo (int) is_plugin_active('kept/kept.php');`))
}
