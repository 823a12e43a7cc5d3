package main

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wpfix/wpfix/wp"
	"github.com/wpfix/wpfix/wp/wptest"
)

// Issue 12's multisite cases, on a subdirectory network over SSH with the
// built binary.

// blogPlugins reads a site's active_plugins, as stored.
func blogPlugins(t *testing.T, st *wptest.Stack, blog int) string {
	t.Helper()
	return strings.TrimSpace(st.RunWordPress(t, `switch_to_blog(`+strconv.Itoa(blog)+`); echo serialize(get_option('active_plugins'));`))
}

// TestBisectNetworkPlugin: a network-active plugin that kills its worker
// is found, and restore puts the network back as it was.
func TestBisectNetworkPlugin(t *testing.T) {
	t.Parallel()
	b := newBisectSite(t, wptest.Options{Multisite: true})
	st := b.st
	killer := st.AddPlugin(t, wptest.Plugin{Slug: "wptest-network-killer", Body: wptest.KillWorker})
	network, _ := st.Option(t, "active_plugins")
	st.NetworkActivatePlugins(t, killer)
	require.Equal(t, 502, st.Get(t, "/").Status)
	before := b.state(t)

	r := b.run(t, "bisect", "--json")
	require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
	rep := parseReport(t, r)
	assert.Equal(t, "culprit_found", rep.Verdict)
	assert.Equal(t, []wp.Extension{{Kind: wp.KindPlugin, Name: "wptest-network-killer"}}, rep.LeftDisabled)
	assert.Equal(t, 200, st.Get(t, "/").Status)
	r = b.run(t, "restore")
	require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
	b.assertAsBefore(t, before)
	b.assertNoTrace(t)
	after, _ := st.Option(t, "active_plugins")
	assert.Equal(t, network, after)
}

// TestBisectSubsite: a plugin active only on the subsite /shop/ breaks
// only it; bisect with --url of the subsite finds it, while a super admin
// loads the main site's and the subsite's plugins.php throughout the run
// (WordPress's validate_active_plugins() drops what is in quarantine).
// No site of the network loses a plugin: after the run the main site's
// plugins are as they were, and after restore every site's are.
func TestBisectSubsite(t *testing.T) {
	t.Parallel()
	b := newBisectSite(t, wptest.Options{Multisite: true})
	st := b.st
	shop := st.AddSite(t, "shop")
	culprit := st.AddPlugin(t, wptest.Plugin{Slug: "wptest-shop-killer",
		Body: "add_action( 'template_redirect', function () {\n" + wptest.KillWorker + "\n} );"})
	// a plugin of the main site also active on the subsite: a candidate
	// whose quarantine WordPress notices on both
	shared := "wptest-fine-0/wptest-fine-0.php"
	st.ActivatePluginsOn(t, shop, shared, culprit)
	require.Equal(t, 200, st.Get(t, "/").Status)
	require.Equal(t, 502, st.Get(t, shop.Path).Status)
	main, sub := blogPlugins(t, st, 1), blogPlugins(t, st, shop.ID)

	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	dropped := 0
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ctx.Err() == nil {
			out := st.RunWordPress(t, `$n = 0;
foreach ([1, `+strconv.Itoa(shop.ID)+`] as $id) {
	switch_to_blog($id);
	$n += count(validate_active_plugins());
	restore_current_blog();
}
echo $n;`)
			n, _ := strconv.Atoi(strings.TrimSpace(out))
			dropped += n
		}
	}()
	r := b.run(t, "bisect", "--json", "--url", shop.URL)
	stop()
	wg.Wait()
	require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
	rep := parseReport(t, r)
	assert.Equal(t, "culprit_found", rep.Verdict)
	assert.Equal(t, []wp.Extension{{Kind: wp.KindPlugin, Name: "wptest-shop-killer"}}, rep.LeftDisabled)
	assert.Contains(t, rep.Candidates, wp.Extension{Kind: wp.KindPlugin, Name: "wptest-fine-0"})
	assert.NotContains(t, rep.Candidates, wp.Extension{Kind: wp.KindPlugin, Name: "wptest-fine-1"}, "only the subsite's own plugins")
	assert.Positive(t, dropped, "WordPress dropped plugins in quarantine during the run")
	t.Logf("%d probes; WordPress dropped %d plugins during the run; notes %q; candidates %v", rep.Probes, dropped, rep.Notes, rep.Candidates)
	assert.Equal(t, 200, st.Get(t, shop.Path).Status)
	assert.Equal(t, 200, st.Get(t, "/").Status)
	assert.Equal(t, main, blogPlugins(t, st, 1), "the main site lost nothing")

	st.RunWordPress(t, `switch_to_blog(`+strconv.Itoa(shop.ID)+`); validate_active_plugins();`)
	r = b.run(t, "restore")
	require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
	assert.Equal(t, main, blogPlugins(t, st, 1))
	assert.Equal(t, sub, blogPlugins(t, st, shop.ID), "the subsite has its plugins back, culprit and all")
	b.assertNoTrace(t)
}
