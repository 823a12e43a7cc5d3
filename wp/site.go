package wp

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strings"

	"github.com/wpfix/wpfix/remote"
	"github.com/wpfix/wpfix/wp/php"
)

// ErrNotWordPress reports a path that holds no WordPress install.
var ErrNotWordPress = errors.New("not a WordPress install")

// ErrSeveralInstalls reports a path with more than one WordPress install
// below it and none in it: which one is meant is for the user to say.
var ErrSeveralInstalls = errors.New("several WordPress installs")

// ErrUnresolved reports a wp-config.php value that wpfix cannot evaluate
// without running PHP (getenv(), an expression) and that was not given.
var ErrUnresolved = errors.New("value not resolvable")

// Options change how a site is read.
type Options struct {
	// Define gives values for wp-config.php constants, overriding what the
	// file says or supplying what wpfix cannot evaluate (getenv(), an
	// expression): "DB_HOST" → "127.0.0.1:3306". "table_prefix" sets
	// $table_prefix.
	Define map[string]string
}

// Site is a WordPress install seen through a Host.
type Site struct {
	Host remote.Host
	// Root is the folder with wp-load.php (ABSPATH).
	Root string
	// ConfigFile is the wp-config.php in use: in Root, or one level up.
	ConfigFile string
	// Config is what wp-config.php says.
	Config *Config
	// ContentDir, PluginDir, MUPluginDir and ThemeDir are WP_CONTENT_DIR,
	// WP_PLUGIN_DIR, WPMU_PLUGIN_DIR and the themes folder, resolved.
	ContentDir, PluginDir, MUPluginDir, ThemeDir string

	define map[string]string
}

// maxFindDepth bounds the search for wp-load.php below the given path.
const maxFindDepth = 3

// Find locates the install at or below dir and reads its wp-config.php,
// which WordPress also accepts one level above the root when that level is
// not an install itself. dir is the install when it holds wp-load.php;
// otherwise the one install up to three levels below it is, and an error
// wraps ErrSeveralInstalls, listing them, when there are more.
func Find(ctx context.Context, h remote.Host, dir string, o Options) (*Site, error) {
	fi, err := h.Stat(ctx, dir)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("%s on %s is not a folder: %w", dir, h.Name(), ErrNotWordPress)
	}
	root, err := findRoot(ctx, h, dir)
	if err != nil {
		return nil, err
	}
	s := &Site{Host: h, Root: root, define: o.Define}
	s.ConfigFile = path.Join(root, "wp-config.php")
	if !exists(ctx, h, s.ConfigFile) {
		up := path.Join(path.Dir(root), "wp-config.php")
		if exists(ctx, h, up) && !exists(ctx, h, path.Join(path.Dir(root), "wp-settings.php")) {
			s.ConfigFile = up
		} else {
			return nil, fmt.Errorf("no wp-config.php in %s or the folder above it on %s: WordPress is not set up there", root, h.Name())
		}
	}
	src, err := h.ReadFile(ctx, s.ConfigFile)
	if err != nil {
		return nil, err
	}
	if s.Config, err = ParseConfig(src); err != nil {
		return nil, fmt.Errorf("read %s on %s: %w", s.ConfigFile, h.Name(), err)
	}
	if err := s.resolveDirs(); err != nil {
		return nil, err
	}
	return s, nil
}

// findRoot returns dir when it holds wp-load.php, else the one install
// below it, searched breadth-first up to maxFindDepth levels down. An
// install is not searched inside: a WordPress in a subfolder of another
// belongs to the site around it.
func findRoot(ctx context.Context, h remote.Host, dir string) (string, error) {
	if exists(ctx, h, path.Join(dir, "wp-load.php")) {
		return dir, nil
	}
	var found []string
	level := []string{dir}
	for depth := 0; depth <= maxFindDepth && len(level) > 0; depth++ {
		var next []string
		for _, d := range level {
			if exists(ctx, h, path.Join(d, "wp-load.php")) {
				found = append(found, d)
				continue
			}
			if depth == maxFindDepth {
				continue
			}
			list, err := h.ReadDir(ctx, d)
			if err != nil {
				continue
			}
			for _, fi := range list {
				if fi.IsDir() && !skipWhenSearching[fi.Name()] && !strings.HasPrefix(fi.Name(), ".") {
					next = append(next, path.Join(d, fi.Name()))
				}
			}
		}
		if err := ctx.Err(); err != nil {
			return "", err
		}
		level = next
	}
	switch len(found) {
	case 0:
		return "", fmt.Errorf("no wp-load.php in %s on %s or below it: %w", dir, h.Name(), ErrNotWordPress)
	case 1:
		return found[0], nil
	default:
		sort.Strings(found)
		return "", fmt.Errorf("%w below %s on %s: %s: name one", ErrSeveralInstalls, dir, h.Name(),
			strings.Join(found, ", "))
	}
}

// skipWhenSearching are folders never worth descending into.
var skipWhenSearching = map[string]bool{
	"wp-content": true, "wp-includes": true, "wp-admin": true, "node_modules": true, "vendor": true,
	"cache": true, "logs": true, "tmp": true, "proc": true, "sys": true,
}

func exists(ctx context.Context, h remote.Host, p string) bool {
	_, err := h.Stat(ctx, p)
	return err == nil
}

// Constant returns a wp-config.php constant's value as PHP would make it a
// string, taking Options.Define first. ok is false when it is not set; an
// error wraps ErrUnresolved, naming the line and the expression, when it is
// set in a way wpfix cannot evaluate.
func (s *Site) Constant(name string) (value string, ok bool, err error) {
	if v, ok := s.define[name]; ok {
		return v, true, nil
	}
	for _, u := range s.Config.Unresolved {
		if u.Name != name {
			continue
		}
		if v, ok := s.resolveExpr(u.Expr); ok {
			return v, true, nil
		}
		return "", false, fmt.Errorf("%s line %d sets %s to %s, which wpfix cannot evaluate; give it with --define %s=VALUE: %w",
			s.ConfigFile, u.Line, name, u.Expr, name, ErrUnresolved)
	}
	c, ok := s.Config.Constants[name]
	if !ok {
		return "", false, nil
	}
	if c.Redacted {
		// The parser keeps secrets out of Constants; the one wpfix needs
		// is the database password.
		if name == "DB_PASSWORD" {
			return s.Config.DBPassword.Reveal(), true, nil
		}
		return "", true, nil
	}
	return php.Strval(c.Value), true, nil
}

// pathExpr matches the path expressions wp-config.php files commonly use:
// __DIR__ . '/wp-content', dirname( __FILE__ ) . '/x', ABSPATH . 'x'.
var pathExpr = regexp.MustCompile(`^\s*(__DIR__|dirname\s*\(\s*__FILE__\s*\)|dirname\s*\(\s*__DIR__\s*\)|ABSPATH)\s*\.\s*(?:'([^'\\]*)'|"([^"\\$]*)")\s*$`)

// resolveExpr evaluates the few expressions whose value is plain from the
// file's place.
func (s *Site) resolveExpr(expr string) (string, bool) {
	m := pathExpr.FindStringSubmatch(expr)
	if m == nil {
		return "", false
	}
	var base string
	switch {
	case m[1] == "ABSPATH":
		base = s.Root + "/"
	case strings.Contains(m[1], "__DIR__") && strings.HasPrefix(m[1], "dirname"):
		base = path.Dir(path.Dir(s.ConfigFile))
	default:
		base = path.Dir(s.ConfigFile)
	}
	return base + m[2] + m[3], true
}

// TablePrefix is $table_prefix, or a defined override. An error wraps
// ErrUnresolved when the file computes it in a way wpfix cannot evaluate.
func (s *Site) TablePrefix() (string, error) {
	if v, ok := s.define["table_prefix"]; ok {
		return v, nil
	}
	for _, u := range s.Config.Unresolved {
		if u.Name == "$table_prefix" && s.Config.TablePrefix == "" {
			return "", fmt.Errorf("%s line %d sets $table_prefix to %s, which wpfix cannot evaluate; give it with --define table_prefix=VALUE: %w",
				s.ConfigFile, u.Line, u.Expr, ErrUnresolved)
		}
	}
	return s.Config.TablePrefix, nil
}

func (s *Site) resolveDirs() error {
	dir := func(name, def string) (string, error) {
		v, ok, err := s.Constant(name)
		if err != nil {
			return "", err
		}
		if !ok || v == "" {
			return def, nil
		}
		v = strings.TrimRight(v, "/")
		if !path.IsAbs(v) {
			return "", fmt.Errorf("%s in %s is %q, not an absolute path", name, s.ConfigFile, v)
		}
		return path.Clean(v), nil
	}
	var err error
	if s.ContentDir, err = dir("WP_CONTENT_DIR", path.Join(s.Root, "wp-content")); err != nil {
		return err
	}
	if s.PluginDir, err = dir("WP_PLUGIN_DIR", path.Join(s.ContentDir, "plugins")); err != nil {
		return err
	}
	if s.MUPluginDir, err = dir("WPMU_PLUGIN_DIR", path.Join(s.ContentDir, "mu-plugins")); err != nil {
		return err
	}
	s.ThemeDir = path.Join(s.ContentDir, "themes")
	return nil
}

// LocalPath checks a path read from the database (an active_plugins entry,
// a theme's folder) before it is joined to a folder: it must name something
// inside that folder, with no "..", no absolute path, no backslash or NUL.
func LocalPath(p string) error {
	if !fs.ValidPath(p) || p == "." || strings.ContainsAny(p, "\\\x00") {
		return fmt.Errorf("%q is not a path inside the folder", p)
	}
	return nil
}
