package agent

import (
	"context"

	"github.com/wpfix/wpfix/wp"
)

// Info is what wpfix knows of a site without changing anything.
type Info struct {
	Target string `json:"target"`
	Host   string `json:"host"`
	Root   string `json:"root"`
	// ConfigFile is the wp-config.php in use.
	ConfigFile  string   `json:"config_file"`
	ContentDir  string   `json:"content_dir"`
	PluginDir   string   `json:"plugin_dir"`
	MUPluginDir string   `json:"mu_plugin_dir"`
	ThemeDir    string   `json:"theme_dir"`
	DB          InfoDB   `json:"database"`
	Unresolved  []string `json:"unresolved,omitempty"`
	*wp.Inventory
	// Network lists the sites of a multisite network, each with its own
	// plugins and theme.
	Network []wp.NetworkSite `json:"network,omitempty"`
}

// InfoDB says which database the site uses; never its password.
type InfoDB struct {
	Name        string `json:"name"`
	User        string `json:"user"`
	Host        string `json:"host"`
	Via         string `json:"via"`
	TablePrefix string `json:"table_prefix"`
}

// GetInfo reads a site's install, configuration and database.
func GetInfo(ctx context.Context, s *Site) (*Info, error) {
	inv, err := s.WP.Inventory(ctx, s.DB)
	if err != nil {
		return nil, unreachable(err)
	}
	w := s.WP
	info := &Info{Target: s.Target.String(), Host: s.Host.Name(), Root: w.Root, ConfigFile: w.ConfigFile,
		ContentDir: w.ContentDir, PluginDir: w.PluginDir, MUPluginDir: w.MUPluginDir, ThemeDir: w.ThemeDir,
		Inventory: inv}
	info.DB.Name, _, _ = w.Constant("DB_NAME")
	info.DB.User, _, _ = w.Constant("DB_USER")
	info.DB.Host, _, _ = w.Constant("DB_HOST")
	info.DB.Via = s.DB.Via
	info.DB.TablePrefix = s.DB.Prefix()
	if inv.Multisite {
		if info.Network, err = w.NetworkSites(ctx, s.DB); err != nil {
			return nil, unreachable(err)
		}
	}
	for _, u := range w.Config.Unresolved {
		if _, ok, err := w.Constant(u.Name); !ok || err != nil {
			info.Unresolved = append(info.Unresolved, u.Name)
		}
	}
	return info, nil
}
