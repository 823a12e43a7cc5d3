package fleet

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestQuoteAliases: WP-CLI's bare @names are quoted where a token starts,
// and nothing else is touched.
func TestQuoteAliases(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"key", "@prod:\n  ssh: a@b/x\n", "\"@prod\":\n  ssh: a@b/x\n"},
		{"flow group", "@g: [@a, @b.c-d_e]\n", "\"@g\": [\"@a\", \"@b.c-d_e\"]\n"},
		{"block group", "@g:\n  - @a\n  -   @b\n", "\"@g\":\n  - \"@a\"\n  -   \"@b\"\n"},
		{"value", "x: @a\n", "x: \"@a\"\n"},
		{"in a value", "ssh: deploy@web1:2222/p\n", "ssh: deploy@web1:2222/p\n"},
		{"quoted", "\"@a\": ['@b', \"x @c\"]\n", "\"@a\": ['@b', \"x @c\"]\n"},
		{"comment", "@a: # see @b, @c\n  ssh: h/p # [@d]\n", "\"@a\": # see @b, @c\n  ssh: h/p # [@d]\n"},
		{"block scalar", "note: |\n  @kept\n  - @kept\n@a:\n  ssh: h/p\n", "note: |\n  @kept\n  - @kept\n\"@a\":\n  ssh: h/p\n"},
		{"folded scalar", "- >-\n  @kept\n- @b\n", "- >-\n  @kept\n- \"@b\"\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assert.Equal(t, c.want, string(quoteAliases([]byte(c.in))))
		})
	}
}

// TestAliasesAsWPCLIWritesThem: the examples of WP-CLI's handbook, bare @
// and all, are read; a file YAML takes as it is is not requoted.
func TestAliasesAsWPCLIWritesThem(t *testing.T) {
	t.Setenv("HOME", testHome)
	inv, err := ParseAliases("/srv/project/wp-cli.yml", []byte(`@staging:
  ssh: wpcli@staging.wp-cli.org/var/www/html
  user: wpcli
@production:
  ssh: wpcli@wp-cli.org:2222/var/www/html
  user: wpcli
@dev:
  ssh: vagrant@192.168.50.10/srv/www/wp-cli.dev
@both:
  - @staging
  - @production
`))
	require.NoError(t, err)
	require.Len(t, inv.Sites, 3)
	assert.Equal(t, []string{"staging", "production", "dev"}, names(inv.Sites))
	assert.Equal(t, "wpcli@staging.wp-cli.org:/var/www/html", inv.Sites[0].Target)
	assert.Equal(t, "ssh://wpcli@wp-cli.org:2222/var/www/html", inv.Sites[1].Target)
	assert.Equal(t, "vagrant@192.168.50.10:/srv/www/wp-cli.dev", inv.Sites[2].Target, "a vagrant user is no vagrant: scheme")
	assert.Equal(t, []string{"both"}, inv.Sites[0].Tags)
	assert.Empty(t, inv.Sites[2].Tags)
	require.Len(t, inv.Warnings, 2, "the two WordPress users")
	assert.Equal(t, "/srv/project/wp-cli.yml:3: user: ignored: it is a WordPress user, and wpfix loads no WordPress (an SSH user goes in ssh, user@host)", inv.Warnings[0].String())

	// Quoted, as YAML wants it: the same.
	inv, err = ParseAliases("/srv/project/wp-cli.yml", []byte("\"@local\":\n  path: /var/www/local\n\"@all-local\": [\"@local\"]\n"))
	require.NoError(t, err)
	require.Len(t, inv.Sites, 1)
	assert.Equal(t, Site{Name: "local", Target: "/var/www/local", Tags: []string{"all-local"},
		File: "/srv/project/wp-cli.yml", Line: 1}, inv.Sites[0])
}
