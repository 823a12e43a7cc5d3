package fleet

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wpfix/wpfix/remote"
)

func names(sites []Site) []string {
	var out []string
	for _, s := range sites {
		out = append(out, s.Name)
	}
	return out
}

// TestSelect: names, @names, @groups, targets and --tag, each site once.
func TestSelect(t *testing.T) {
	inv := &Inventory{File: "sites.toml", Sites: []Site{
		{Name: "acme", Target: "web1:/var/www/acme", Tags: []string{"shop", "eu"}},
		{Name: "bistro", Target: "web2:/var/www/bistro", Tags: []string{"eu"}},
		{Name: "ceramics", Target: "web3:/var/www/c", Tags: []string{"us", "shop"}},
		{Name: "intranet", Target: "/var/www/intranet"},
	}}
	cases := []struct {
		name       string
		args, tags []string
		want       []string
		err        string
	}{
		{name: "everything", want: []string{"acme", "bistro", "ceramics", "intranet"}},
		{name: "by name", args: []string{"bistro", "acme"}, want: []string{"bistro", "acme"}},
		{name: "by @name", args: []string{"@ceramics"}, want: []string{"ceramics"}},
		{name: "by @group", args: []string{"@shop"}, want: []string{"acme", "ceramics"}},
		{name: "each once", args: []string{"acme", "@shop", "@eu", "acme"}, want: []string{"acme", "ceramics", "bistro"}},
		{name: "a target", args: []string{"deploy@web9:/srv/x", "acme"}, want: []string{"deploy@web9:/srv/x", "acme"}},
		{name: "one tag", tags: []string{"eu"}, want: []string{"acme", "bistro"}},
		{name: "tags are a union", tags: []string{"us", "eu"}, want: []string{"acme", "bistro", "ceramics"}},
		{name: "tags filter the names", args: []string{"bistro", "ceramics", "intranet"}, tags: []string{"shop"}, want: []string{"ceramics"}},
		{name: "unknown tag", tags: []string{"asia"},
			err: "--tag asia: no site of the inventory has this tag (tags: eu, shop, us)"},
		{name: "unknown @", args: []string{"@asia"},
			err: "@asia: no site of the inventory has this name or tag (tags: eu, shop, us)"},
		{name: "a misspelt name", args: []string{"acne"},
			err: "acne: not a site of sites.toml (for a folder here, write ./acne)"},
		{name: "neither name nor target", args: []string{"deploy@acne"},
			err: "deploy@acne: not a site of sites.toml, and not a target: target \"deploy@acne\": missing path: write deploy@acne:/path/to/site (or ./deploy@acne for a local folder)"},
		{name: "tags leave nothing", args: []string{"intranet"}, tags: []string{"eu"},
			err: "--tag eu: none of the sites named has the tag"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Select(inv, c.args, c.tags)
			if c.err != "" {
				require.ErrorIs(t, err, ErrSelection)
				assert.EqualError(t, err, c.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, c.want, names(got))
		})
	}
}

// TestSelectNoInventory: targets only; nothing at all is an error.
func TestSelectNoInventory(t *testing.T) {
	got, err := Select(nil, []string{"web1:/var/www/a", "ssh://web2:2222/srv/b"}, nil)
	require.NoError(t, err)
	assert.Equal(t, []Site{{Name: "web1:/var/www/a", Target: "web1:/var/www/a"},
		{Name: "ssh://web2:2222/srv/b", Target: "ssh://web2:2222/srv/b"}}, got)

	_, err = Select(nil, nil, nil)
	assert.ErrorIs(t, err, ErrSelection)
	_, err = Select(nil, []string{"deploy@web1"}, nil)
	assert.EqualError(t, err, `deploy@web1: target "deploy@web1": missing path: write deploy@web1:/path/to/site (or ./deploy@web1 for a local folder)`)
	_, err = Select(&Inventory{File: "empty.toml"}, nil, nil)
	assert.ErrorIs(t, err, ErrSelection, "an inventory without sites selects nothing")
}

// TestSelectAliases: a WP-CLI user's @group works as an argument and as a
// tag.
func TestSelectAliases(t *testing.T) {
	inv, err := ParseAliases("wp-cli.yml", []byte("@a:\n  ssh: web1/var/www/a\n@b:\n  ssh: web2/var/www/b\n@c:\n  ssh: web3/var/www/c\n@both: [@a, @b]\n"))
	require.NoError(t, err)
	got, err := Select(inv, []string{"@both"}, nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "b"}, names(got))
	got, err = Select(inv, nil, []string{"both"})
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "b"}, names(got))
	got, err = Select(inv, []string{"@c"}, nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"c"}, names(got), fmt.Sprint(got))
}

// TestSiteOptions: a flag given wins over the site's setting; the site's
// fills what the flags leave unset.
func TestSiteOptions(t *testing.T) {
	s := Site{SSH: SSH{Port: 2200, Identity: "/keys/site", KnownHosts: "/kh/site", AcceptNewHostKey: true}}
	assert.Equal(t, remote.Options{Port: 2200, Identity: "/keys/site", KnownHosts: "/kh/site", AcceptNewHostKey: true, ConfigFile: "none"},
		s.Options(remote.Options{ConfigFile: "none"}))
	assert.Equal(t, remote.Options{Port: 22, Identity: "/keys/flag", KnownHosts: "/kh/flag", AcceptNewHostKey: true},
		s.Options(remote.Options{Port: 22, Identity: "/keys/flag", KnownHosts: "/kh/flag"}))
	assert.Equal(t, remote.Options{Identity: "/keys/flag", AcceptNewHostKey: true},
		Site{}.Options(remote.Options{Identity: "/keys/flag", AcceptNewHostKey: true}))
}
