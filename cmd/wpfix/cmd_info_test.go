package main

import (
	"io"
	"testing"

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
