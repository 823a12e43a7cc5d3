package wp_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wpfix/wpfix/remote"
	"github.com/wpfix/wpfix/remote/sshtest"
	"github.com/wpfix/wpfix/wp"
)

// The site's user and another: numeric ids need no account to own a file.
const (
	siteUID  = 4201
	otherUID = 4202
)

// layoutSite is a WordPress install in outline (wp-load.php, wp-config.php,
// wp-content with plugins, themes and mu-plugins), every file the site
// user's, next to another site's folders.
type layoutSite struct {
	base, root, content, config string
	defines                     []string
}

func newLayoutSite(t *testing.T) *layoutSite {
	t.Helper()
	base := t.TempDir()
	// The SSH user must reach it: t.TempDir's folders are 0700.
	for d := base; d != "/" && d != os.TempDir(); d = filepath.Dir(d) {
		require.NoError(t, os.Chmod(d, 0o755))
	}
	l := &layoutSite{base: base, root: filepath.Join(base, "site")}
	l.content = filepath.Join(l.root, "wp-content")
	l.config = filepath.Join(l.root, "wp-config.php")
	for _, d := range []string{"plugins", "themes", "mu-plugins"} {
		require.NoError(t, os.MkdirAll(filepath.Join(l.content, d), 0o755))
	}
	require.NoError(t, os.WriteFile(filepath.Join(l.root, "wp-load.php"), []byte("<?php\n"), 0o644))
	require.NoError(t, os.Chown(base, 0, 0))
	chownTree(t, l.root, siteUID)
	return l
}

// dir makes a folder below base owned by uid, with a plugin in it.
func (l *layoutSite) dir(t *testing.T, rel string, uid int) string {
	t.Helper()
	d := filepath.Join(l.base, rel)
	require.NoError(t, os.MkdirAll(d, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(d, "hello.php"), []byte("<?php\n"), 0o644))
	chownTree(t, d, uid)
	return d
}

// define sets a constant in wp-config.php.
func (l *layoutSite) define(name, value string) {
	l.defines = append(l.defines, "define( '"+name+"', '"+value+"' );")
}

func (l *layoutSite) writeConfig(t *testing.T) {
	t.Helper()
	cfg := "<?php\ndefine( 'DB_NAME', 'wordpress' );\ndefine( 'DB_USER', 'wordpress' );\n" +
		"define( 'DB_PASSWORD', 'secret' );\ndefine( 'DB_HOST', 'localhost' );\n$table_prefix = 'wp_';\n" +
		strings.Join(l.defines, "\n") + "\n/* That's all, stop editing! Happy publishing. */\n" +
		"if ( ! defined( 'ABSPATH' ) ) {\n\tdefine( 'ABSPATH', __DIR__ . '/' );\n}\nrequire_once ABSPATH . 'wp-settings.php';\n"
	require.NoError(t, os.WriteFile(l.config, []byte(cfg), 0o644))
	require.NoError(t, os.Chown(l.config, siteUID, siteUID))
}

func chownTree(t *testing.T, dir string, uid int) {
	t.Helper()
	require.NoError(t, filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, uid)
	}))
}

// TestCheckLayout: a content, plugin, must-use plugin or themes folder
// another user owns, or that is a symlink, is refused, whether
// wp-config.php relocates it or not; the site's own folders, wherever they
// lie, pass; a root-owned docroot has nothing foreign. Locally and over
// SFTP, whose file information carries the owner differently.
func TestCheckLayout(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give folders to the site's user and to another")
	}
	t.Parallel()
	tests := []struct {
		name  string
		setup func(t *testing.T, l *layoutSite)
		// want are in the lines of the error, nil for none; {config},
		// {content} and {base} stand for the site's paths.
		want []string
	}{
		{"default layout, all the site's", func(*testing.T, *layoutSite) {}, nil},
		{"no mu-plugins folder", func(t *testing.T, l *layoutSite) {
			require.NoError(t, os.Remove(filepath.Join(l.content, "mu-plugins")))
		}, nil},
		{"WP_PLUGIN_DIR relocated to a folder of the site's owner", func(t *testing.T, l *layoutSite) {
			l.define("WP_PLUGIN_DIR", l.dir(t, "shared-plugins", siteUID))
		}, nil},
		{"WP_PLUGIN_DIR naming a folder that does not exist", func(t *testing.T, l *layoutSite) {
			l.define("WP_PLUGIN_DIR", filepath.Join(l.base, "nowhere"))
		}, nil},
		{"WP_PLUGIN_DIR at another site's plugins", func(t *testing.T, l *layoutSite) {
			l.define("WP_PLUGIN_DIR", l.dir(t, "other/wp-content/plugins", otherUID))
		}, []string{"WP_PLUGIN_DIR (set in {config}) is {base}/other/wp-content/plugins, owned by uid 4202, not by the docroot's owner (uid 4201): " +
			"wpfix acts only on folders the site's owner owns, lest wp-config.php point it at another user's files (--allow-foreign-dirs to act on it anyway)"}},
		{"WP_PLUGIN_DIR at a folder of root's", func(t *testing.T, l *layoutSite) {
			l.define("WP_PLUGIN_DIR", l.dir(t, "roots", 0))
		}, []string{"WP_PLUGIN_DIR (set in {config}) is {base}/roots, owned by uid 0, not by the docroot's owner (uid 4201)"}},
		{"WP_CONTENT_DIR at another site's wp-content", func(t *testing.T, l *layoutSite) {
			other := l.dir(t, "other/wp-content", otherUID)
			for _, d := range []string{"plugins", "themes"} {
				l.dir(t, "other/wp-content/"+d, otherUID)
			}
			l.define("WP_CONTENT_DIR", other)
		}, []string{
			"WP_CONTENT_DIR (set in {config}) is {base}/other/wp-content, owned by uid 4202, not",
			"WP_PLUGIN_DIR is {base}/other/wp-content/plugins, owned by uid 4202, not",
			"the themes folder is {base}/other/wp-content/themes, owned by uid 4202, not"}},
		{"WPMU_PLUGIN_DIR at another site's", func(t *testing.T, l *layoutSite) {
			l.define("WPMU_PLUGIN_DIR", l.dir(t, "other/mu", otherUID))
		}, []string{"WPMU_PLUGIN_DIR (set in {config}) is {base}/other/mu, owned by uid 4202, not"}},
		{"plugins inside the docroot owned by another user", func(t *testing.T, l *layoutSite) {
			require.NoError(t, os.Chown(filepath.Join(l.content, "plugins"), otherUID, otherUID))
		}, []string{"WP_PLUGIN_DIR is {content}/plugins, owned by uid 4202, not by the docroot's owner (uid 4201)"}},
		{"themes owned by another user", func(t *testing.T, l *layoutSite) {
			require.NoError(t, os.Chown(filepath.Join(l.content, "themes"), otherUID, otherUID))
		}, []string{"the themes folder is {content}/themes, owned by uid 4202, not"}},
		{"plugins a symlink to another site's", func(t *testing.T, l *layoutSite) {
			p := filepath.Join(l.content, "plugins")
			require.NoError(t, os.Remove(p))
			require.NoError(t, os.Symlink(l.dir(t, "other/plugins", otherUID), p))
			require.NoError(t, os.Lchown(p, siteUID, siteUID))
		}, []string{"WP_PLUGIN_DIR is {content}/plugins, a symlink, which the site's user may point at any folder; wpfix follows none (--allow-foreign-dirs to act on it anyway)"}},
		{"WP_PLUGIN_DIR a symlink to the site's own folder", func(t *testing.T, l *layoutSite) {
			link := filepath.Join(l.base, "link")
			require.NoError(t, os.Symlink(l.dir(t, "own", siteUID), link))
			require.NoError(t, os.Lchown(link, siteUID, siteUID))
			l.define("WP_PLUGIN_DIR", link)
		}, []string{"WP_PLUGIN_DIR (set in {config}) is {base}/link, a symlink"}},
		{"WPMU_PLUGIN_DIR a file", func(t *testing.T, l *layoutSite) {
			f := filepath.Join(l.base, "file")
			require.NoError(t, os.WriteFile(f, nil, 0o644))
			require.NoError(t, os.Chown(f, siteUID, siteUID))
			l.define("WPMU_PLUGIN_DIR", f)
		}, []string{"WPMU_PLUGIN_DIR (set in {config}) is {base}/file, not a folder"}},
		{"docroot of root's, plugins of another", func(t *testing.T, l *layoutSite) {
			require.NoError(t, os.Chown(l.root, 0, 0))
			l.define("WP_PLUGIN_DIR", l.dir(t, "other/plugins", otherUID))
		}, nil},
	}
	ctx := context.Background()
	reaches := []struct {
		name string
		host func(t *testing.T, root string) remote.Host
	}{
		{"local", func(*testing.T, string) remote.Host { return remote.NewLocal() }},
		{"ssh", func(t *testing.T, root string) remote.Host {
			srv := sshtest.NewServer(t, sshtest.Options{})
			h, err := remote.Open(ctx, remote.Target{User: srv.User, Host: srv.Host, Port: srv.Port, Path: root},
				remote.Options{Identity: srv.KeyFile, KnownHosts: srv.KnownHostsFile, ConfigFile: "none"})
			require.NoError(t, err)
			t.Cleanup(func() { h.Close() })
			return h
		}},
	}
	for _, r := range reaches {
		t.Run(r.name, func(t *testing.T) {
			t.Parallel()
			h := r.host(t, "/")
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					l := newLayoutSite(t)
					tt.setup(t, l)
					l.writeConfig(t)
					site, err := wp.Find(ctx, h, l.root, wp.Options{})
					require.NoError(t, err)
					err = site.CheckLayout(ctx)
					if tt.want == nil {
						assert.NoError(t, err)
						return
					}
					require.ErrorIs(t, err, wp.ErrForeignDir)
					lines := strings.Split(err.Error(), "\n")
					require.Len(t, lines, len(tt.want), err.Error())
					rep := strings.NewReplacer("{config}", l.config, "{content}", l.content, "{base}", l.base)
					for i, w := range tt.want {
						assert.Contains(t, lines[i], rep.Replace(w))
					}
				})
			}
		})
	}
}
