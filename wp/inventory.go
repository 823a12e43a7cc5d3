package wp

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/wpfix/wpfix/remote"
	"github.com/wpfix/wpfix/wp/php"
)

// Plugin is an installed plugin, as get_plugins finds it.
type Plugin struct {
	// File is the plugin's main file relative to the plugins folder, the
	// form active_plugins stores: "akismet/akismet.php" or "hello.php".
	File string `json:"file"`
	// Name is the folder, or the file for a single-file plugin: what
	// wpfix disables and reports.
	Name string `json:"name"`
	// Title and Version are the "Plugin Name" and "Version" headers.
	Title   string `json:"title"`
	Version string `json:"version,omitempty"`
	// Network is the "Network: true" header: the plugin can only be
	// network-activated.
	Network bool `json:"network,omitempty"`
}

// ListPlugins lists the plugins in dir the way WordPress's get_plugins
// does: *.php files at the top, and *.php files one level down in each
// folder, that carry a "Plugin Name" header; names starting with "." are
// skipped. A missing dir is no plugins.
func ListPlugins(ctx context.Context, h remote.Host, dir string) ([]Plugin, error) {
	top, err := h.ReadDir(ctx, dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var files []string
	for _, fi := range top {
		n := fi.Name()
		switch {
		case strings.HasPrefix(n, "."):
		case isDir(ctx, h, dir, fi):
			sub, err := h.ReadDir(ctx, path.Join(dir, n))
			if err != nil {
				continue // an unreadable folder holds no plugin WordPress could load
			}
			for _, s := range sub {
				if !strings.HasPrefix(s.Name(), ".") && strings.HasSuffix(s.Name(), ".php") {
					files = append(files, n+"/"+s.Name())
				}
			}
		case strings.HasSuffix(n, ".php"):
			files = append(files, n)
		}
	}
	heads, err := readHeads(ctx, h, dir, files, "Plugin Name", "Version", "Network")
	if err != nil {
		return nil, err
	}
	var plugins []Plugin
	for i, f := range files {
		hd := heads[i]
		if hd["Plugin Name"] == "" {
			continue
		}
		name, _, _ := strings.Cut(f, "/")
		plugins = append(plugins, Plugin{File: f, Name: name, Title: hd["Plugin Name"],
			Version: hd["Version"], Network: strings.EqualFold(hd["Network"], "true")})
	}
	sort.Slice(plugins, func(i, j int) bool { return plugins[i].File < plugins[j].File })
	return plugins, nil
}

// isDir reports whether a listed entry is a folder, following a symlink
// (plugins are often symlinked in from a shared place).
func isDir(ctx context.Context, h remote.Host, dir string, fi fs.FileInfo) bool {
	if fi.IsDir() {
		return true
	}
	if fi.Mode()&fs.ModeSymlink == 0 {
		return false
	}
	st, err := h.Stat(ctx, path.Join(dir, fi.Name()))
	return err == nil && st.IsDir()
}

// readHeads reads the headers of many files at once: over SSH each read is
// a round trip, and SFTP serves several in parallel.
func readHeads(ctx context.Context, h remote.Host, dir string, files []string, names ...string) ([]map[string]string, error) {
	out := make([]map[string]string, len(files))
	errs := make([]error, len(files))
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for i, f := range files {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			b, err := h.ReadHead(ctx, path.Join(dir, f), headerBytes)
			if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
				err = nil // gone or unreadable: WordPress would see no headers either
			}
			errs[i] = err
			out[i] = ParseHeaders(b, names...)
		}()
	}
	wg.Wait()
	return out, errors.Join(errs...)
}

// ListMUPlugins lists the must-use plugins WordPress loads: the *.php files
// directly in dir, sorted (wp_get_mu_plugins).
func ListMUPlugins(ctx context.Context, h remote.Host, dir string) ([]string, error) {
	list, err := h.ReadDir(ctx, dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var mu []string
	for _, fi := range list {
		if strings.HasSuffix(fi.Name(), ".php") && !fi.IsDir() {
			mu = append(mu, fi.Name())
		}
	}
	sort.Strings(mu)
	return mu, nil
}

// dropinKinds are the drop-ins WordPress knows (_get_dropins), with what
// makes it load each one.
var dropinKinds = []struct {
	File, Description, LoadedWhen string
}{
	{"advanced-cache.php", "Advanced caching plugin", "WP_CACHE"},
	{"db.php", "Custom database class", "always"},
	{"db-error.php", "Custom database error message", "on a database error"},
	{"install.php", "Custom installation script", "on installation"},
	{"maintenance.php", "Custom maintenance message", "in maintenance"},
	{"object-cache.php", "External object cache", "always"},
	{"php-error.php", "Custom PHP error message", "on a PHP error"},
	{"fatal-error-handler.php", "Custom PHP fatal error handler", "always"},
	{"sunrise.php", "Executed before Multisite is loaded", "SUNRISE"},
	{"blog-deleted.php", "Custom site deleted message", "multisite"},
	{"blog-inactive.php", "Custom site inactive message", "multisite"},
	{"blog-suspended.php", "Custom site suspended message", "multisite"},
}

// IsDropin reports whether file, a name in wp-content such as
// "object-cache.php", is one of the drop-ins WordPress knows.
func IsDropin(file string) bool {
	return slices.ContainsFunc(dropinKinds, func(d struct{ File, Description, LoadedWhen string }) bool {
		return d.File == file
	})
}

// Dropin is a drop-in file present in wp-content.
type Dropin struct {
	File        string `json:"file"`
	Description string `json:"description"`
	// LoadedWhen says when WordPress loads it: "always", a constant that
	// must be true ("WP_CACHE", "SUNRISE"), "multisite", or an event.
	LoadedWhen string `json:"loaded_when"`
}

// ListDropins lists the drop-ins present in the content dir.
func ListDropins(ctx context.Context, h remote.Host, contentDir string) ([]Dropin, error) {
	list, err := h.ReadDir(ctx, contentDir)
	if err != nil {
		return nil, err
	}
	present := map[string]bool{}
	for _, fi := range list {
		if !fi.IsDir() {
			present[fi.Name()] = true
		}
	}
	var out []Dropin
	for _, d := range dropinKinds {
		if present[d.File] {
			out = append(out, Dropin{File: d.File, Description: d.Description, LoadedWhen: d.LoadedWhen})
		}
	}
	return out, nil
}

// Theme is an installed theme: a folder with a style.css that names it.
type Theme struct {
	// Stylesheet is the theme's folder name, what the stylesheet option
	// holds.
	Stylesheet string `json:"stylesheet"`
	Title      string `json:"title"`
	Version    string `json:"version,omitempty"`
	// Template is the parent theme's folder for a child theme, else "".
	Template string `json:"template,omitempty"`
}

// ListThemes lists the themes in dir.
func ListThemes(ctx context.Context, h remote.Host, dir string) ([]Theme, error) {
	list, err := h.ReadDir(ctx, dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var names, files []string
	for _, fi := range list {
		if !strings.HasPrefix(fi.Name(), ".") && isDir(ctx, h, dir, fi) {
			names = append(names, fi.Name())
			files = append(files, fi.Name()+"/style.css")
		}
	}
	heads, err := readHeads(ctx, h, dir, files, "Theme Name", "Version", "Template")
	if err != nil {
		return nil, err
	}
	var themes []Theme
	for i, n := range names {
		if heads[i]["Theme Name"] == "" {
			continue
		}
		themes = append(themes, Theme{Stylesheet: n, Title: heads[i]["Theme Name"],
			Version: heads[i]["Version"], Template: heads[i]["Template"]})
	}
	return themes, nil
}

var versionRE = regexp.MustCompile(`(?m)^\s*\$wp_version\s*=\s*'([^']+)'\s*;`)

// ReadVersion reads the WordPress version from wp-includes/version.php.
func ReadVersion(ctx context.Context, h remote.Host, root string) (string, error) {
	b, err := h.ReadFile(ctx, path.Join(root, "wp-includes", "version.php"))
	if err != nil {
		return "", err
	}
	m := versionRE.FindSubmatch(b)
	if m == nil {
		return "", fmt.Errorf("no $wp_version in %s", path.Join(root, "wp-includes", "version.php"))
	}
	return string(m[1]), nil
}

// Inventory is a site as WordPress sees it: what is installed, what is
// active, and where.
type Inventory struct {
	Version   string `json:"wordpress_version"`
	SiteURL   string `json:"siteurl"`
	Home      string `json:"home"`
	Multisite bool   `json:"multisite"`
	// Plugins are the installed plugins with their state.
	Plugins []PluginState `json:"plugins"`
	// ActivePlugins is the active_plugins option as stored, including
	// entries whose files are gone; MissingPlugins lists those.
	ActivePlugins  []string `json:"active_plugins"`
	MissingPlugins []string `json:"missing_plugins,omitempty"`
	// NetworkActivePlugins are the plugin files active for the whole
	// network of a multisite install.
	NetworkActivePlugins []string `json:"network_active_plugins,omitempty"`
	MUPlugins            []string `json:"mu_plugins"`
	Dropins              []Dropin `json:"dropins"`
	Themes               []Theme  `json:"themes"`
	// Template and Stylesheet are the active theme's parent (or itself)
	// and the theme itself.
	Template   string `json:"template"`
	Stylesheet string `json:"stylesheet"`
	// DefaultThemes are the installed twenty* themes, where a broken theme
	// can be switched to.
	DefaultThemes []string `json:"default_themes"`
}

// PluginState is an installed plugin and whether it is active.
type PluginState struct {
	Plugin
	Active        bool `json:"active"`
	NetworkActive bool `json:"network_active,omitempty"`
}

// Inventory reads the site's files and options.
func (s *Site) Inventory(ctx context.Context, db *DB) (*Inventory, error) {
	inv := &Inventory{}
	var err error
	if inv.Version, err = ReadVersion(ctx, s.Host, s.Root); err != nil {
		return nil, err
	}
	if v, ok, err := s.Constant("MULTISITE"); err == nil && ok {
		inv.Multisite = v != "" && v != "0" // PHP's truth of the value as a string
	}
	opt := func(name string) (string, error) {
		v, _, err := db.Option(ctx, name)
		return v, err
	}
	for _, o := range []struct {
		name string
		dst  *string
	}{{"siteurl", &inv.SiteURL}, {"home", &inv.Home}, {"template", &inv.Template}, {"stylesheet", &inv.Stylesheet}} {
		if *o.dst, err = opt(o.name); err != nil {
			return nil, err
		}
	}
	raw, err := opt("active_plugins")
	if err != nil {
		return nil, err
	}
	if inv.ActivePlugins, err = stringListOption("active_plugins", raw); err != nil {
		return nil, err
	}
	if inv.Multisite {
		raw, ok, err := db.SiteOption(ctx, "active_sitewide_plugins")
		if err != nil {
			return nil, err
		}
		if ok {
			v, err := php.Unserialize([]byte(raw))
			if err != nil {
				return nil, fmt.Errorf("active_sitewide_plugins: %w", err)
			}
			m, err := php.IntMap(v)
			if err != nil {
				return nil, fmt.Errorf("active_sitewide_plugins: %w", err)
			}
			for f := range m {
				inv.NetworkActivePlugins = append(inv.NetworkActivePlugins, f)
			}
			sort.Strings(inv.NetworkActivePlugins)
		}
	}
	installed, err := ListPlugins(ctx, s.Host, s.PluginDir)
	if err != nil {
		return nil, err
	}
	have := map[string]bool{}
	for _, p := range installed {
		have[p.File] = true
		inv.Plugins = append(inv.Plugins, PluginState{Plugin: p,
			Active:        slices.Contains(inv.ActivePlugins, p.File),
			NetworkActive: slices.Contains(inv.NetworkActivePlugins, p.File)})
	}
	for _, f := range append(slices.Clone(inv.ActivePlugins), inv.NetworkActivePlugins...) {
		if !have[f] {
			inv.MissingPlugins = append(inv.MissingPlugins, f)
		}
	}
	if inv.MUPlugins, err = ListMUPlugins(ctx, s.Host, s.MUPluginDir); err != nil {
		return nil, err
	}
	if inv.Dropins, err = ListDropins(ctx, s.Host, s.ContentDir); err != nil {
		return nil, err
	}
	if inv.Themes, err = ListThemes(ctx, s.Host, s.ThemeDir); err != nil {
		return nil, err
	}
	for _, t := range inv.Themes {
		if strings.HasPrefix(t.Stylesheet, "twenty") && t.Template == "" {
			inv.DefaultThemes = append(inv.DefaultThemes, t.Stylesheet)
		}
	}
	return inv, nil
}

// stringListOption reads an option that holds a serialized list of
// strings, such as active_plugins. Entries are paths that came from the
// database: any that is not a plain path inside its folder is refused.
func stringListOption(name, raw string) ([]string, error) {
	if raw == "" {
		return nil, nil
	}
	v, err := php.Unserialize([]byte(raw))
	if err != nil {
		return nil, fmt.Errorf("option %s: %w", name, err)
	}
	list, err := php.StringList(v)
	if err != nil {
		return nil, fmt.Errorf("option %s: %w", name, err)
	}
	for _, p := range list {
		if err := LocalPath(p); err != nil {
			return nil, fmt.Errorf("option %s holds %w", name, err)
		}
	}
	return list, nil
}
