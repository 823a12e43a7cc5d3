package wp_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wpfix/wpfix/remote"
	"github.com/wpfix/wpfix/remote/sshtest"
	"github.com/wpfix/wpfix/wp"
	"github.com/wpfix/wpfix/wp/php"
	"github.com/wpfix/wpfix/wp/wptest"
)

// reach is how a test reaches a stack, and what DB.Via must then contain.
type reach struct {
	wptest.Reach
	dbVia string
}

var reaches = []reach{
	{wptest.Reach{Name: "local"}, "tcp 127.0.0.1:"},
	{wptest.Reach{Name: "ssh", SSH: &sshtest.Options{}}, "tcp 127.0.0.1:"},
	{wptest.Reach{Name: "ssh-no-forwarding", SSH: &sshtest.Options{DisableForwarding: true}}, "(mysql client on the host)"},
}

// TestInventory reads a stack with one of everything and checks wpfix sees
// exactly what was installed, locally, over SSH, and over SSH to a server
// that refuses forwarding (the database through the host's mysql client).
func TestInventory(t *testing.T) {
	for _, r := range reaches {
		t.Run(r.Name, func(t *testing.T) {
			t.Parallel()
			st, h := r.Open(t, wptest.Options{})
			folder := st.AddPlugin(t, wptest.Plugin{Slug: "wptest-folder", Name: "Folder Plugin"})
			single := st.AddPlugin(t, wptest.Plugin{Slug: "wptest-single", Name: "Single Plugin", SingleFile: true})
			st.AddPlugin(t, wptest.Plugin{Slug: "wptest-inactive", Name: "Inactive Plugin"})
			st.ActivatePlugins(t, folder, single, "wptest-gone/wptest-gone.php")
			st.AddMUPlugin(t, "wptest-mu.php", "")
			st.AddDropin(t, "object-cache.php", "")
			var parent string
			st.OptionValue(t, "template", &parent)
			st.AddChildTheme(t, "wptest-child", parent, "")
			st.ActivateTheme(t, parent, "wptest-child")

			ctx := context.Background()
			site, err := wp.Find(ctx, h, filepath.Dir(st.Root), wp.Options{})
			require.NoError(t, err, "found from the folder above the docroot")
			assert.Equal(t, st.Root, site.Root)
			assert.Equal(t, filepath.Join(st.Root, "wp-config.php"), site.ConfigFile)
			assert.Equal(t, st.PluginDir, site.PluginDir)
			db, err := site.OpenDB(ctx)
			require.NoError(t, err)
			defer db.Close()
			assert.Contains(t, db.Via, r.dbVia)

			inv, err := site.Inventory(ctx, db)
			require.NoError(t, err)
			assert.Equal(t, st.Version, inv.Version)
			assert.Equal(t, st.URL, inv.SiteURL)
			assert.Equal(t, st.URL, inv.Home)
			assert.Equal(t, []string{"akismet/akismet.php", "wptest-folder/wptest-folder.php",
				"wptest-inactive/wptest-inactive.php", "wptest-single.php"}, pluginFiles(inv))
			assert.Equal(t, map[string]bool{"wptest-folder": true, "wptest-single.php": true},
				activeNames(inv))
			assert.Equal(t, "Folder Plugin", pluginByFile(inv, folder).Title)
			assert.Equal(t, "1.0.0", pluginByFile(inv, folder).Version)
			assert.Equal(t, []string{"wptest-gone/wptest-gone.php"}, inv.MissingPlugins)
			assert.Equal(t, []string{"wptest-mu.php"}, inv.MUPlugins)
			require.Len(t, inv.Dropins, 1)
			assert.Equal(t, "object-cache.php", inv.Dropins[0].File)
			assert.Equal(t, parent, inv.Template)
			assert.Equal(t, "wptest-child", inv.Stylesheet)
			child := themeBy(inv, "wptest-child")
			require.NotNil(t, child)
			assert.Equal(t, parent, child.Template, "the child names its parent")
			assert.Contains(t, inv.DefaultThemes, parent)
			assert.NotContains(t, inv.DefaultThemes, "wptest-child")
		})
	}
}

// TestOptionsRoundTrip writes an option with multibyte content and reads
// it back byte for byte, through both database paths.
func TestOptionsRoundTrip(t *testing.T) {
	for _, r := range []reach{reaches[0], reaches[2]} {
		t.Run(r.Name, func(t *testing.T) {
			t.Parallel()
			st, h := r.Open(t, wptest.Options{})
			ctx := context.Background()
			_, db := openSite(t, h, st.Root)

			before, ok := st.Option(t, "active_plugins")
			require.True(t, ok)
			got, ok, err := db.Option(ctx, "active_plugins")
			require.NoError(t, err)
			assert.True(t, ok)
			assert.Equal(t, before, got)

			value := string(php.Serialize(php.ListOf("größe/größe.php", "tab\there/x.php", `quote'"\back/y.php`,
				"new\nline/z.php")))
			require.NoError(t, db.SetOption(ctx, "wpfix_test", value))
			raw, ok := st.Option(t, "wpfix_test")
			require.True(t, ok)
			assert.Equal(t, value, raw, "stored byte for byte")
			got, ok, err = db.Option(ctx, "wpfix_test")
			require.NoError(t, err)
			assert.True(t, ok)
			assert.Equal(t, value, got, "read back byte for byte")
			_, ok, err = db.Option(ctx, "wpfix_missing")
			require.NoError(t, err)
			assert.False(t, ok)
			// the driver quotes arguments itself (InterpolateParams): a
			// name that tries to end the string matches nothing
			for _, name := range []string{`wpfix_test' OR '1'='1`, `wpfix_test\' OR 1=1 -- `} {
				_, ok, err = db.Option(ctx, name)
				require.NoError(t, err, "%q", name)
				assert.False(t, ok, "%q matches no option", name)
			}
		})
	}
}

// TestDBOverSocket reaches MariaDB by the unix socket wp-config.php names,
// locally and through SSH.
func TestDBOverSocket(t *testing.T) {
	for _, r := range reaches[:2] {
		t.Run(r.Name, func(t *testing.T) {
			t.Parallel()
			st, h := r.Open(t, wptest.Options{DBSocket: true})
			ctx := context.Background()
			_, db := openSite(t, h, st.Root)
			assert.Equal(t, "unix "+st.DBSocket, db.Via)
			url, _, err := db.Option(ctx, "siteurl")
			require.NoError(t, err)
			assert.Equal(t, st.URL, url)
		})
	}
}

// TestFindErrors: bad input gets a clear error.
func TestFindErrors(t *testing.T) {
	t.Parallel()
	st, h := reaches[1].Open(t, wptest.Options{})
	ctx := context.Background()
	rewrite := func(t *testing.T, from, to string) {
		t.Helper()
		p := filepath.Join(st.Root, "wp-config.php")
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		require.Contains(t, string(b), from)
		require.NoError(t, os.WriteFile(p, []byte(strings.Replace(string(b), from, to, 1)), 0o644))
		t.Cleanup(func() { os.WriteFile(p, b, 0o644) })
	}

	t.Run("not WordPress", func(t *testing.T) {
		_, err := wp.Find(ctx, h, st.PluginDir, wp.Options{})
		assert.ErrorIs(t, err, wp.ErrNotWordPress)
		assert.Contains(t, err.Error(), "no wp-load.php in "+st.PluginDir)
		_, err = wp.Find(ctx, h, "/no/such/dir", wp.Options{})
		assert.ErrorIs(t, err, os.ErrNotExist)
	})
	t.Run("unreadable wp-config.php", func(t *testing.T) {
		if os.Geteuid() != 0 {
			t.Skip("needs root to make wp-config.php unreadable to the SSH user")
		}
		p := filepath.Join(st.Root, "wp-config.php")
		require.NoError(t, os.Chown(p, 0, 0))
		require.NoError(t, os.Chmod(p, 0o600))
		t.Cleanup(func() { os.Chmod(p, 0o644) })
		_, err := wp.Find(ctx, h, st.Root, wp.Options{})
		assert.ErrorIs(t, err, os.ErrPermission)
		assert.Contains(t, err.Error(), p)
	})
	t.Run("unresolvable DB_HOST, then given", func(t *testing.T) {
		rewrite(t, "define( 'DB_HOST', '"+st.DBHost+"' );", "\ndefine( 'DB_HOST', getenv( 'WPTEST_DB_HOST' ) );")
		site, err := wp.Find(ctx, h, st.Root, wp.Options{})
		require.NoError(t, err, "finding the site does not need DB_HOST")
		_, err = site.OpenDB(ctx)
		require.ErrorIs(t, err, wp.ErrUnresolved)
		assert.Regexp(t, `wp-config.php line \d+ sets DB_HOST to getenv\( 'WPTEST_DB_HOST' \), which wpfix cannot evaluate; give it with --define DB_HOST=VALUE`, err.Error())
		site, err = wp.Find(ctx, h, st.Root, wp.Options{Define: map[string]string{"DB_HOST": st.DBHost}})
		require.NoError(t, err)
		db, err := site.OpenDB(ctx)
		require.NoError(t, err)
		db.Close()
	})
	t.Run("unresolvable table prefix, then given", func(t *testing.T) {
		rewrite(t, "$table_prefix = 'wp_';", "$table_prefix = getenv( 'PREFIX' );")
		site, err := wp.Find(ctx, h, st.Root, wp.Options{})
		require.NoError(t, err)
		_, err = site.OpenDB(ctx)
		require.ErrorIs(t, err, wp.ErrUnresolved)
		assert.Contains(t, err.Error(), "--define table_prefix=VALUE")
		site, err = wp.Find(ctx, h, st.Root, wp.Options{Define: map[string]string{"table_prefix": "wp_"}})
		require.NoError(t, err)
		db, err := site.OpenDB(ctx)
		require.NoError(t, err)
		db.Close()
	})
	t.Run("wrong DB password", func(t *testing.T) {
		rewrite(t, st.DBPassword, "wrong-password-xyz")
		site, err := wp.Find(ctx, h, st.Root, wp.Options{})
		require.NoError(t, err)
		_, err = site.OpenDB(ctx)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "connect to database wordpress as wordpress at tcp "+st.DBHost)
		assert.Contains(t, err.Error(), "Access denied for user 'wordpress'@")
		assert.NotContains(t, err.Error(), "wrong-password-xyz")
		assert.NotContains(t, err.Error(), st.DBPassword)
	})
	t.Run("DB down", func(t *testing.T) {
		st.StopDatabase()
		site, err := wp.Find(ctx, h, st.Root, wp.Options{})
		require.NoError(t, err)
		_, err = site.OpenDB(ctx)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "connect to database wordpress as wordpress at tcp "+st.DBHost)
		assert.True(t, errors.Is(err, os.ErrNotExist) || strings.Contains(err.Error(), "refused") ||
			strings.Contains(err.Error(), "connect failed"), "says the server is not there: %v", err)
	})
}

// openSite finds the install at root and opens its database, closed when
// the test ends.
func openSite(t *testing.T, h remote.Host, root string) (*wp.Site, *wp.DB) {
	t.Helper()
	site, err := wp.Find(context.Background(), h, root, wp.Options{})
	require.NoError(t, err)
	db, err := site.OpenDB(context.Background())
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	return site, db
}

func pluginFiles(inv *wp.Inventory) []string {
	var f []string
	for _, p := range inv.Plugins {
		f = append(f, p.File)
	}
	return f
}

func activeNames(inv *wp.Inventory) map[string]bool {
	m := map[string]bool{}
	for _, p := range inv.Plugins {
		if p.Active {
			m[p.Name] = true
		}
	}
	return m
}

func pluginByFile(inv *wp.Inventory, file string) wp.PluginState {
	for _, p := range inv.Plugins {
		if p.File == file {
			return p
		}
	}
	return wp.PluginState{}
}

func themeBy(inv *wp.Inventory, stylesheet string) *wp.Theme {
	for i := range inv.Themes {
		if inv.Themes[i].Stylesheet == stylesheet {
			return &inv.Themes[i]
		}
	}
	return nil
}

// TestConfigOneLevelUp moves wp-config.php to the folder above the root,
// which WordPress allows: the site still answers, and Find reads it there.
func TestConfigOneLevelUp(t *testing.T) {
	t.Parallel()
	st, h := reaches[1].Open(t, wptest.Options{})
	up := filepath.Join(filepath.Dir(st.Root), "wp-config.php")
	require.NoError(t, os.Rename(filepath.Join(st.Root, "wp-config.php"), up))
	require.Equal(t, 200, st.Get(t, "/").Status, "WordPress itself finds it there")

	ctx := context.Background()
	site, err := wp.Find(ctx, h, st.Root, wp.Options{})
	require.NoError(t, err)
	assert.Equal(t, up, site.ConfigFile)
	assert.Equal(t, st.PluginDir, site.PluginDir)
	db, err := site.OpenDB(ctx)
	require.NoError(t, err)
	db.Close()

	// A folder above that is itself an install does not lend its config.
	require.NoError(t, os.WriteFile(filepath.Join(filepath.Dir(st.Root), "wp-settings.php"), nil, 0o644))
	_, err = wp.Find(ctx, h, st.Root, wp.Options{})
	assert.ErrorContains(t, err, "no wp-config.php in "+st.Root+" or the folder above it")
}

// TestNetworkActivePlugins reads a multisite network's plugins from
// sitemeta.
func TestNetworkActivePlugins(t *testing.T) {
	t.Parallel()
	st, h := reaches[0].Open(t, wptest.Options{})
	net := st.AddPlugin(t, wptest.Plugin{Slug: "wptest-network", Name: "Network Plugin"})
	p := filepath.Join(st.Root, "wp-config.php")
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(p, []byte(strings.Replace(string(b), "/* That's all",
		"define( 'MULTISITE', true );\n/* That's all", 1)), 0o644))
	sitemeta := php.Serialize(php.Array(php.Entry{Key: php.StringKey(net), Value: php.Int(1700000000)}))
	for _, q := range []string{
		"CREATE TABLE wp_sitemeta (meta_id bigint AUTO_INCREMENT PRIMARY KEY, site_id bigint NOT NULL, meta_key varchar(255), meta_value longtext)",
		"INSERT INTO wp_sitemeta (site_id, meta_key, meta_value) VALUES (1, 'active_sitewide_plugins', '" + string(sitemeta) + "')",
	} {
		_, err := st.DB().Exec(q)
		require.NoError(t, err)
	}

	ctx := context.Background()
	site, db := openSite(t, h, st.Root)
	inv, err := site.Inventory(ctx, db)
	require.NoError(t, err)
	assert.True(t, inv.Multisite)
	assert.Equal(t, []string{net}, inv.NetworkActivePlugins)
	assert.True(t, pluginByFile(inv, net).NetworkActive)
}

// TestPausedExtensions reads what recovery mode paused, as WordPress
// stores it per recovery session.
func TestPausedExtensions(t *testing.T) {
	t.Parallel()
	st, h := reaches[0].Open(t, wptest.Options{})
	paused := php.Array(php.Entry{Key: php.StringKey("plugin"), Value: php.Array(php.Entry{Key: php.StringKey("wptest-fatal"),
		Value: php.Array(
			php.Entry{Key: php.StringKey("type"), Value: php.Int(1)},
			php.Entry{Key: php.StringKey("message"), Value: php.String("Uncaught Error: Call to undefined function x()")},
		)})})
	_, err := st.DB().Exec("INSERT INTO wp_options (option_name, option_value, autoload) VALUES (?, ?, 'no')",
		"4f9c2b_paused_extensions", string(php.Serialize(paused)))
	require.NoError(t, err)
	ctx := context.Background()
	_, db := openSite(t, h, st.Root)
	got, err := db.PausedExtensions(ctx)
	require.NoError(t, err)
	assert.Equal(t, map[string]map[string]string{"plugin": {"wptest-fatal": "Uncaught Error: Call to undefined function x()"}}, got)
}

// TestDefaultSocket: DB_HOST 'localhost' means the socket PHP would use,
// found from PHP's own mysqli.default_socket on the host.
func TestDefaultSocket(t *testing.T) {
	st, h := reaches[0].Open(t, wptest.Options{})
	p := filepath.Join(st.Root, "wp-config.php")
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(p, []byte(strings.Replace(string(b), "'"+st.DBHost+"'", "'localhost'", 1)), 0o644))
	ctx := context.Background()
	site, err := wp.Find(ctx, h, st.Root, wp.Options{})
	require.NoError(t, err)

	// The host's PHP reads this ini instead of its conf.d: mysqli loaded, as
	// on a WordPress host, with the stack's socket as its default.
	ini := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(ini, "wpfix-test.ini"),
		[]byte("extension=mysqlnd\nextension=mysqli\nmysqli.default_socket="+st.DBSocket+"\n"), 0o644))
	t.Setenv("PHP_INI_SCAN_DIR", ini)
	db, err := site.OpenDB(ctx)
	require.NoError(t, err)
	assert.Equal(t, "unix "+st.DBSocket, db.Via)
	db.Close()

	t.Setenv("PHP_INI_SCAN_DIR", t.TempDir())
	_, err = site.OpenDB(ctx)
	if err == nil {
		t.Skip("this machine has a MySQL socket in a default place; the not-found message cannot be shown")
	}
	assert.ErrorContains(t, err, "DB_HOST in "+p+" means the local MySQL socket, but none is on local (looked at /run/mysqld/mysqld.sock")
}

// TestFindInstalls: the path itself when it is an install, else the one
// install below it; several below it are for the user to choose among.
func TestFindInstalls(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		installs []string // folders given wp-load.php and wp-config.php, below dir
		from     string   // where Find starts, below dir
		want     string   // the root found, below dir
		wantErr  error
		listed   []string // the installs the error lists, below dir
	}{
		{name: "the path itself", installs: []string{".", "old"}, want: "."},
		{name: "one below", installs: []string{"www"}, want: "www"},
		{name: "three levels down", installs: []string{"a/b/c"}, want: "a/b/c"},
		{name: "one below the path given", installs: []string{"a/www", "b/www"}, from: "b", want: "b/www"},
		{name: "a WordPress inside an install belongs to it", installs: []string{"www", "www/blog"}, want: "www"},
		{name: "hidden and skipped folders are not searched",
			installs: []string{"www", ".trash/www", "node_modules/www", "vendor/www", "www2/wp-content/www"}, want: "www"},
		{name: "none", wantErr: wp.ErrNotWordPress},
		{name: "deeper than three levels", installs: []string{"a/b/c/d"}, wantErr: wp.ErrNotWordPress},
		{name: "two side by side", installs: []string{"shop", "blog"},
			wantErr: wp.ErrSeveralInstalls, listed: []string{"blog", "shop"}},
		{name: "two at different depths", installs: []string{"www", "a/b/c", "staging/www"},
			wantErr: wp.ErrSeveralInstalls, listed: []string{"a/b/c", "staging/www", "www"}},
	}
	h := remote.NewLocal()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			for _, in := range tt.installs {
				d := filepath.Join(dir, in)
				require.NoError(t, os.MkdirAll(d, 0o755))
				require.NoError(t, os.WriteFile(filepath.Join(d, "wp-load.php"), []byte("<?php\n"), 0o644))
				require.NoError(t, os.WriteFile(filepath.Join(d, "wp-config.php"), []byte("<?php\n$table_prefix = 'wp_';\n"), 0o644))
			}
			from := filepath.Join(dir, tt.from)
			site, err := wp.Find(context.Background(), h, from, wp.Options{})
			if tt.wantErr == nil {
				require.NoError(t, err)
				assert.Equal(t, filepath.Join(dir, tt.want), site.Root)
				return
			}
			require.ErrorIs(t, err, tt.wantErr)
			if tt.listed == nil {
				return
			}
			var listed []string
			for _, l := range tt.listed {
				listed = append(listed, filepath.Join(dir, l))
			}
			assert.Equal(t, "several WordPress installs below "+from+" on local: "+strings.Join(listed, ", ")+": name one",
				err.Error())
		})
	}
}
