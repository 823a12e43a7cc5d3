package main

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wpfix/wpfix/agent"
	"github.com/wpfix/wpfix/wp"
)

// TestInfoReportGolden renders info's report of a single site with a child
// theme and a missing plugin, and of a bare multisite network.
func TestInfoReportGolden(t *testing.T) {
	plugin := func(name, title, version string, active, network bool) wp.PluginState {
		return wp.PluginState{Plugin: wp.Plugin{File: name + "/" + name + ".php", Name: name, Title: title, Version: version},
			Active: active, NetworkActive: network}
	}
	shop := &agent.Info{Host: "web1", Root: "/var/www/shop", ConfigFile: "/var/www/wp-config.php",
		DB:         agent.InfoDB{Name: "shop", User: "shop", Host: "localhost", Via: "unix /run/mysqld/mysqld.sock", TablePrefix: "wp_"},
		Unresolved: []string{"DB_PASSWORD"},
		Inventory: &wp.Inventory{Version: "6.8.3", SiteURL: "https://shop.example", Home: "https://shop.example/shop",
			Plugins: []wp.PluginState{
				plugin("akismet", "Akismet Anti-Spam", "5.3", true, false),
				plugin("slider", "Slider \x1b[31mPro", "2.0.1", false, false),
			},
			MissingPlugins: []string{"gone/gone.php"},
			MUPlugins:      []string{"wptest-fine-mu.php"},
			Dropins:        []wp.Dropin{{File: "object-cache.php", Description: "External object cache", LoadedWhen: "always"}},
			DefaultThemes:  []string{"twentytwentyfive"},
			Template:       "storefront", Stylesheet: "storefront-child"},
	}
	network := &agent.Info{Host: "local", Root: "/srv/www", ConfigFile: "/srv/www/wp-config.php",
		DB: agent.InfoDB{Name: "wp", User: "wp", Host: "db:3306", Via: "tcp db:3306", TablePrefix: "wp_"},
		Inventory: &wp.Inventory{Version: "6.7", SiteURL: "http://net.example", Home: "http://net.example", Multisite: true,
			Plugins:  []wp.PluginState{plugin("network-tool", "Network Tool", "", false, true)},
			Template: "twentytwentyfour", Stylesheet: "twentytwentyfour"},
	}
	assertGoldens(t, "info", map[string]func(io.Writer) error{
		"site":      func(w io.Writer) error { return printInfo(w, shop) },
		"multisite": func(w io.Writer) error { return printInfo(w, network) },
	})
}

// TestInfoSeveralInstalls: a folder with two WordPress installs below it and
// none in it is bad input (exit 2); the error lists both, and the hint is to
// name one, not to read the usage.
func TestInfoSeveralInstalls(t *testing.T) {
	dir := t.TempDir()
	for _, in := range []string{"shop", "blog/www"} {
		d := filepath.Join(dir, in)
		require.NoError(t, os.MkdirAll(d, 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(d, "wp-load.php"), []byte("<?php\n"), 0o644))
		require.NoError(t, os.WriteFile(filepath.Join(d, "wp-config.php"), []byte("<?php\n$table_prefix = 'wp_';\n"), 0o644))
	}
	r := runWpfix(t, wpfixBin, "info", dir)
	assert.Equal(t, exitUsage, r.code, "stderr: %q", r.stderr)
	assert.Empty(t, r.stdout)
	assert.Equal(t, "wpfix: several WordPress installs below "+dir+" on local: "+
		filepath.Join(dir, "blog/www")+", "+filepath.Join(dir, "shop")+": name one\n", r.stderr)
}
