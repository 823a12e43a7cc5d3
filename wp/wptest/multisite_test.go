package wptest_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wpfix/wpfix/wp/wptest"
)

// TestMultisite: a subdirectory network whose sites answer at their paths
// and load their own plugins, and the network's.
func TestMultisite(t *testing.T) {
	st := wptest.NewStack(t, wptest.Options{Multisite: true})
	shop := st.AddSite(t, "shop")
	assert.Equal(t, 2, shop.ID)
	assert.Equal(t, "/shop/", shop.Path)
	assert.Equal(t, "wp_2_", shop.TablePrefix)

	local := st.AddPlugin(t, wptest.Plugin{Slug: "wptest-shop-only",
		Body: "add_action( 'wp_head', function () { echo '<!-- shop only -->'; } );"})
	network := st.AddPlugin(t, wptest.Plugin{Slug: "wptest-everywhere",
		Body: "add_action( 'wp_head', function () { echo '<!-- network -->'; } );"})
	st.ActivatePluginsOn(t, shop, local)
	st.NetworkActivatePlugins(t, network)

	main, sub := st.Get(t, "/"), st.Get(t, "/shop/")
	require.Equal(t, 200, main.Status, main.Body)
	require.Equal(t, 200, sub.Status, sub.Body)
	assert.Contains(t, sub.Body, "wptest shop", "the subsite's own page")
	assert.Contains(t, sub.Body, "<!-- shop only -->")
	assert.NotContains(t, main.Body, "<!-- shop only -->")
	for _, r := range []wptest.Response{main, sub} {
		assert.Contains(t, r.Body, "<!-- network -->")
	}
	assert.Equal(t, 200, st.Get(t, "/shop/wp-login.php").Status, "the subsite's wp-admin paths reach WordPress")
}
