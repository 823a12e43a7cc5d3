package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wpfix/wpfix/wp"
	"github.com/wpfix/wpfix/wp/wptest"
)

// TestInfoMultisite: wpfix info lists a network's sites, each with its own
// active plugins and theme.
func TestInfoMultisite(t *testing.T) {
	t.Parallel()
	st := wptest.NewStack(t, wptest.Options{Multisite: true})
	shop := st.AddSite(t, "shop")
	own := st.AddPlugin(t, wptest.Plugin{Slug: "wptest-shop-only"})
	everywhere := st.AddPlugin(t, wptest.Plugin{Slug: "wptest-everywhere"})
	st.ActivatePluginsOn(t, shop, own)
	st.NetworkActivatePlugins(t, everywhere)
	var theme string
	st.OptionValue(t, "stylesheet", &theme)

	r := runAs(t, t.TempDir(), "info", "--json", st.Root)
	require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
	var in struct {
		Multisite bool             `json:"multisite"`
		Network   []wp.NetworkSite `json:"network"`
		NetActive []string         `json:"network_active_plugins"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &in), r.stdout)
	assert.True(t, in.Multisite)
	assert.Equal(t, []string{everywhere}, in.NetActive)
	require.Len(t, in.Network, 2)
	assert.Equal(t, 1, in.Network[0].ID)
	assert.Equal(t, st.URL, in.Network[0].SiteURL)
	assert.Empty(t, in.Network[0].ActivePlugins)
	assert.Equal(t, 2, in.Network[1].ID)
	assert.Equal(t, "/shop/", in.Network[1].Path)
	assert.Equal(t, strings.TrimSuffix(shop.URL, "/"), in.Network[1].SiteURL)
	assert.Equal(t, []string{own}, in.Network[1].ActivePlugins)
	assert.Equal(t, theme, in.Network[1].Stylesheet)

	r = runAs(t, t.TempDir(), "info", st.Root)
	require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
	assert.Contains(t, r.stdout, "Network: 2 sites")
	assert.Regexp(t, `(?m)^  2\s+`+strings.TrimSuffix(shop.URL, "/")+`\s+theme `+theme+`\s+plugins `+own+`$`, r.stdout)
}
