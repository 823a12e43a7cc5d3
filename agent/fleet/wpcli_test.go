package fleet

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func write(t *testing.T, path, text string) string {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, []byte(text), 0o644))
	return path
}

// TestWPCLIConfigFiles: the files WP-CLI reads, in its order: the global
// config ($WP_CLI_CONFIG_PATH or ~/.wp-cli/config.yml), then the first
// wp-cli.local.yml or wp-cli.yml from the folder upward; later aliases
// replace earlier ones, a group may name an alias of another file.
func TestWPCLIConfigFiles(t *testing.T) {
	root := t.TempDir()
	home := filepath.Join(root, "home")
	global := write(t, filepath.Join(home, ".wp-cli", "config.yml"),
		"@prod:\n  ssh: old@web0/var/www/old\n@global:\n  ssh: web9/var/www/g\n")
	project := write(t, filepath.Join(root, "project", "wp-cli.yml"),
		"@prod:\n  ssh: deploy@web1/var/www/acme\n@mine: [@global, @prod]\n")
	deep := filepath.Join(root, "project", "wp-content", "themes")
	require.NoError(t, os.MkdirAll(deep, 0o755))
	noEnv := func(string) string { return "" }

	files := WPCLIConfigFiles(deep, home, noEnv)
	assert.Equal(t, []string{global, project}, files)
	inv, err := LoadAliases(files...)
	require.NoError(t, err)
	require.Len(t, inv.Sites, 2)
	assert.Equal(t, []string{"prod", "global"}, names(inv.Sites))
	assert.Equal(t, "deploy@web1:/var/www/acme", inv.Sites[0].Target, "the project's alias replaces the global one")
	assert.Equal(t, project, inv.Sites[0].File)
	assert.Equal(t, []string{"mine"}, inv.Sites[1].Tags, "a group names an alias of the global file")

	local := write(t, filepath.Join(root, "project", "wp-cli.local.yml"),
		"_:\n  inherit: wp-cli.yml\n@prod:\n  ssh: me@localhost/srv/acme\n")
	files = WPCLIConfigFiles(deep, home, noEnv)
	assert.Equal(t, []string{global, local}, files, "wp-cli.local.yml first, as WP-CLI")
	inv, err = LoadAliases(files...)
	require.NoError(t, err)
	assert.Equal(t, "me@localhost:/srv/acme", inv.Sites[0].Target, "local over the inherited wp-cli.yml over global")
	assert.Equal(t, []string{"mine"}, inv.Sites[1].Tags)

	env := write(t, filepath.Join(root, "elsewhere.yml"), "@e:\n  ssh: web7/var/www/e\n")
	assert.Equal(t, []string{env, local}, WPCLIConfigFiles(deep, home, func(k string) string {
		if k == "WP_CLI_CONFIG_PATH" {
			return env
		}
		return ""
	}))
	assert.Empty(t, WPCLIConfigFiles(root, filepath.Join(root, "nohome"), noEnv))
}

// TestInheritLoop: files that inherit one another are each read once.
func TestInheritLoop(t *testing.T) {
	dir := t.TempDir()
	a := write(t, filepath.Join(dir, "a.yml"), "_:\n  inherit: b.yml\n@a:\n  ssh: web1/var/www/a\n")
	write(t, filepath.Join(dir, "b.yml"), "_:\n  inherit: a.yml\n@b:\n  ssh: web2/var/www/b\n")
	inv, err := Load(a)
	require.NoError(t, err)
	assert.Equal(t, []string{"b", "a"}, names(inv.Sites))
}
