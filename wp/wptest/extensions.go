package wptest

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wpfix/wpfix/wp"
	"github.com/wpfix/wpfix/wp/php"
)

// PHP bodies for extensions that break the site in real ways.
const (
	// KillWorker kills the PHP worker running the request with SIGKILL, as
	// the kernel's OOM killer or a crashing extension would: nginx answers
	// 502 and php-fpm logs "exited on signal 9".
	KillWorker = `if ( function_exists( 'posix_kill' ) ) { posix_kill( getmypid(), 9 ); } else { exec( 'kill -9 ' . getmypid() ); }
sleep( 5 );`
	// Fatal calls a function that does not exist: PHP's fatal error, and
	// WordPress answers 500 with its critical-error page.
	Fatal = `wptest_this_function_does_not_exist();`
)

// Sleep returns a PHP body that sleeps for d, wall time. Past the pool's
// request_terminate_timeout php-fpm kills the worker and nginx answers 502.
func Sleep(d time.Duration) string {
	return fmt.Sprintf("sleep( %d );", int(d.Round(time.Second)/time.Second))
}

// Plugin is a plugin to install.
type Plugin struct {
	// Slug is the folder name, or the file name without .php for a
	// single-file plugin.
	Slug string
	// Name is the "Plugin Name" header (default: Slug).
	Name string
	// Body is PHP code run when WordPress loads the plugin.
	Body string
	// SingleFile installs wp-content/plugins/<slug>.php instead of a folder.
	SingleFile bool
}

// File returns the plugin's path relative to the plugins folder, the form
// WordPress stores in active_plugins.
func (p Plugin) File() string {
	if p.SingleFile {
		return p.Slug + ".php"
	}
	return p.Slug + "/" + p.Slug + ".php"
}

func pluginSource(name, body string) string {
	return "<?php\n/**\n * Plugin Name: " + name + "\n * Description: Installed by wptest.\n * Version: 1.0.0\n */\n\n" + body + "\n"
}

// AddPlugin installs a plugin (not activated) and returns its file as
// active_plugins names it.
func (s *Stack) AddPlugin(t testing.TB, p Plugin) string {
	t.Helper()
	if p.Name == "" {
		p.Name = p.Slug
	}
	s.writeFile(t, filepath.Join(s.PluginDir, p.File()), pluginSource(p.Name, p.Body))
	return p.File()
}

// ActivatePlugins adds plugin files to active_plugins, sorted as WordPress
// keeps them.
func (s *Stack) ActivatePlugins(t testing.TB, files ...string) {
	t.Helper()
	active := s.ActivePlugins(t)
	for _, f := range files {
		if !slices.Contains(active, f) {
			active = append(active, f)
		}
	}
	slices.Sort(active)
	s.SetOption(t, "active_plugins", active)
}

// ActivePlugins returns active_plugins in order, as WordPress reads it
// with foreach: also when deactivate_plugins() has left gaps in its keys.
func (s *Stack) ActivePlugins(t testing.TB) []string {
	t.Helper()
	raw, ok := s.Option(t, "active_plugins")
	if !ok || raw == "" {
		return nil
	}
	v, err := php.Unserialize([]byte(raw))
	if err != nil {
		t.Fatalf("wptest: active_plugins %q: %v", raw, err)
	}
	active, err := php.StringList(v)
	if err != nil {
		t.Fatalf("wptest: active_plugins %q: %v", raw, err)
	}
	return active
}

// AddMUPlugin installs a must-use plugin file (name ends in .php).
func (s *Stack) AddMUPlugin(t testing.TB, name, body string) {
	t.Helper()
	s.writeFile(t, filepath.Join(s.MUPluginDir, name), pluginSource(strings.TrimSuffix(name, ".php"), body))
}

// AddDropin installs a drop-in such as object-cache.php into wp-content.
func (s *Stack) AddDropin(t testing.TB, name, body string) {
	t.Helper()
	s.writeFile(t, filepath.Join(s.ContentDir, name), "<?php\n// Drop-in installed by wptest.\n"+body+"\n")
}

// AddPersistentObjectCache installs an object-cache.php drop-in that keeps
// the "options" cache group in a file across requests, as a Redis or
// Memcached object cache keeps it: WordPress then reads options from the
// cache, and a change written straight to the database goes unseen until
// the cached copy is deleted. It returns the cache file.
func (s *Stack) AddPersistentObjectCache(t testing.TB) string {
	t.Helper()
	file := s.dir.Path("object-cache.ser")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatalf("wptest: %v", err)
	}
	s.chown(t, file)
	s.AddDropin(t, "object-cache.php", strings.ReplaceAll(persistentCache, "CACHE_FILE", file))
	return file
}

// persistentCache is core's object cache, with the options group saved to
// a file at the end of each request and loaded at the start of the next.
const persistentCache = `require_once ABSPATH . WPINC . '/class-wp-object-cache.php';
// Every function of core's cache.php but wp_cache_init, which is ours.
eval( '?>' . str_replace( 'function wp_cache_init()', 'function wptest_core_cache_init()',
	file_get_contents( ABSPATH . WPINC . '/cache.php' ) ) );

class WPTest_Persistent_Cache extends WP_Object_Cache {
	private $wptest_store = array();
	public function __construct() {
		$stored = @unserialize( (string) @file_get_contents( 'CACHE_FILE' ) );
		if ( is_array( $stored ) ) {
			foreach ( $stored as $key => $value ) {
				$this->set( $key, $value, 'options' );
			}
		}
		register_shutdown_function( array( $this, 'wptest_save' ) );
	}
	public function set( $key, $data, $group = 'default', $expire = 0 ) {
		if ( 'options' === $group ) {
			$this->wptest_store[ $key ] = $data;
		}
		return parent::set( $key, $data, $group, $expire );
	}
	public function delete( $key, $group = 'default', $deprecated = false ) {
		if ( 'options' === $group ) {
			unset( $this->wptest_store[ $key ] );
		}
		return parent::delete( $key, $group, $deprecated );
	}
	public function flush() {
		$this->wptest_store = array();
		return parent::flush();
	}
	public function wptest_save() {
		file_put_contents( 'CACHE_FILE', serialize( $this->wptest_store ), LOCK_EX );
	}
}

function wp_cache_init() {
	$GLOBALS['wp_object_cache'] = new WPTest_Persistent_Cache();
}`

// AddChildTheme installs a child theme of parent whose functions.php runs
// body.
func (s *Stack) AddChildTheme(t testing.TB, slug, parent, body string) {
	t.Helper()
	dir := filepath.Join(s.ThemeDir, slug)
	s.writeFile(t, filepath.Join(dir, "style.css"), "/*\nTheme Name: "+slug+"\nTemplate: "+parent+
		"\nDescription: Installed by wptest.\nVersion: 1.0.0\n*/\n")
	s.writeFile(t, filepath.Join(dir, "functions.php"), "<?php\n"+body+"\n")
}

// AddTheme installs a standalone (classic) theme whose functions.php runs
// body and whose index.php renders a whole, plain page.
func (s *Stack) AddTheme(t testing.TB, slug, body string) {
	t.Helper()
	dir := filepath.Join(s.ThemeDir, slug)
	s.writeFile(t, filepath.Join(dir, "style.css"), "/*\nTheme Name: "+slug+
		"\nDescription: Installed by wptest.\nVersion: 1.0.0\n*/\n")
	s.writeFile(t, filepath.Join(dir, "functions.php"), "<?php\n"+body+"\n")
	s.writeFile(t, filepath.Join(dir, "index.php"), "<!DOCTYPE html>\n<html><head><title><?php bloginfo( 'name' ); ?></title>"+
		"<link rel=\"stylesheet\" href=\"<?php echo esc_url( get_stylesheet_uri() ); ?>\"><?php wp_head(); ?></head>\n"+
		"<body><h1><?php bloginfo( 'name' ); ?></h1><?php wp_footer(); ?></body></html>\n")
}

// RemoveDefaultThemes deletes the installed twenty* themes but those kept,
// as hardening guides have production sites do.
func (s *Stack) RemoveDefaultThemes(t testing.TB, keep ...string) {
	t.Helper()
	themes, err := filepath.Glob(filepath.Join(s.ThemeDir, "twenty*"))
	if err != nil {
		t.Fatalf("wptest: %v", err)
	}
	for _, dir := range themes {
		if slices.Contains(keep, filepath.Base(dir)) {
			continue
		}
		if err := os.RemoveAll(dir); err != nil {
			t.Fatalf("wptest: remove theme: %v", err)
		}
	}
}

// ActivateTheme points template and stylesheet at a theme, as switch_theme
// does.
func (s *Stack) ActivateTheme(t testing.TB, template, stylesheet string) {
	t.Helper()
	s.SetOption(t, "template", template)
	s.SetOption(t, "stylesheet", stylesheet)
	s.SetOption(t, "current_theme", stylesheet)
}

func (s *Stack) writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatalf("wptest: %v", err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatalf("wptest: %v", err)
	}
	s.chown(t, filepath.Dir(path))
}

// Breakage is a named, real way to break the site.
type Breakage string

// The breakages Break knows.
const (
	// BreakKillWorker: an active plugin kills its worker (502).
	BreakKillWorker Breakage = "kill-worker"
	// BreakTimeout: an active plugin sleeps past request_terminate_timeout
	// (502 once php-fpm kills the worker).
	BreakTimeout Breakage = "timeout"
	// BreakFatal: an active plugin has a PHP fatal (500, critical-error page).
	BreakFatal Breakage = "fatal"
	// BreakPair: two active plugins that fail only together (502).
	BreakPair Breakage = "pair"
	// BreakChildTheme: the active theme is a child theme with a PHP fatal in
	// functions.php (500).
	BreakChildTheme Breakage = "child-theme"
	// BreakMUPlugin: a must-use plugin kills its worker (502).
	BreakMUPlugin Breakage = "mu-plugin"
	// BreakDropin: an object-cache.php drop-in kills its worker (502).
	BreakDropin Breakage = "dropin"
	// BreakSingleFile: an active single-file plugin kills its worker (502).
	BreakSingleFile Breakage = "single-file"
	// BreakFlaky: an active plugin kills its worker on every other front-end
	// request (502 half the time), counting in a file beside itself.
	BreakFlaky Breakage = "flaky"
)

// Breakages lists every Breakage.
var Breakages = []Breakage{BreakKillWorker, BreakTimeout, BreakFatal, BreakPair, BreakChildTheme,
	BreakMUPlugin, BreakDropin, BreakSingleFile, BreakFlaky, BreakEmptyPage, BreakCutOff}

// Break installs and enables what makes the site fail in the named way and
// returns the culprits: the extensions that must all be disabled to make
// the site healthy again (both, for BreakPair).
func (s *Stack) Break(t testing.TB, b Breakage) []wp.Extension {
	t.Helper()
	plugin := func(p Plugin) wp.Extension {
		s.ActivatePlugins(t, s.AddPlugin(t, p))
		if p.SingleFile {
			return wp.Extension{Kind: wp.KindPlugin, Name: p.File()}
		}
		return wp.Extension{Kind: wp.KindPlugin, Name: p.Slug}
	}
	switch b {
	case BreakKillWorker:
		return []wp.Extension{plugin(Plugin{Slug: "wptest-kill-worker", Body: KillWorker})}
	case BreakTimeout:
		return []wp.Extension{plugin(Plugin{Slug: "wptest-timeout", Body: Sleep(s.Options.RequestTerminateTimeout + 3*time.Second)})}
	case BreakFatal:
		return []wp.Extension{plugin(Plugin{Slug: "wptest-fatal", Body: Fatal})}
	case BreakPair:
		return []wp.Extension{
			plugin(Plugin{Slug: "wptest-pair-a", Body: "function wptest_pair_a_loaded() {}"}),
			plugin(Plugin{Slug: "wptest-pair-b", Body: "add_action( 'plugins_loaded', function () {\n" +
				"\tif ( function_exists( 'wptest_pair_a_loaded' ) ) {\n" + KillWorker + "\n\t}\n} );"}),
		}
	case BreakChildTheme:
		var parent string
		s.OptionValue(t, "template", &parent)
		s.AddChildTheme(t, "wptest-broken-child", parent, Fatal)
		s.ActivateTheme(t, parent, "wptest-broken-child")
		return []wp.Extension{{Kind: wp.KindTheme, Name: "wptest-broken-child"}}
	case BreakMUPlugin:
		s.AddMUPlugin(t, "wptest-kill-worker.php", KillWorker)
		return []wp.Extension{{Kind: wp.KindMUPlugin, Name: "wptest-kill-worker.php"}}
	case BreakDropin:
		s.AddDropin(t, "object-cache.php", KillWorker)
		return []wp.Extension{{Kind: wp.KindDropin, Name: "object-cache.php"}}
	case BreakFlaky:
		return []wp.Extension{plugin(Plugin{Slug: "wptest-flaky", Body: "$wptest_n = __DIR__ . '/count';\n" +
			"$wptest_c = (int) @file_get_contents( $wptest_n ) + 1;\n" +
			"file_put_contents( $wptest_n, $wptest_c, LOCK_EX );\n" +
			"if ( 0 === $wptest_c % 2 ) {\n" + KillWorker + "\n}"})}
	case BreakSingleFile:
		return []wp.Extension{plugin(Plugin{Slug: "wptest-single-kill", Body: KillWorker, SingleFile: true})}
	case BreakEmptyPage, BreakCutOff:
		return []wp.Extension{plugin(pagePlugins[b])}
	}
	t.Fatalf("wptest: unknown breakage %q", b)
	return nil
}
