package remote

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var targetCases = []struct {
	name string
	in   string
	want Target
	err  string // a part of the error; "" when the target parses
}{
	{name: "local", in: "/var/www/site", want: Target{Path: "/var/www/site"}},
	{name: "local trailing slash", in: "/var/www/site/", want: Target{Path: "/var/www/site"}},
	{name: "local colon after slash", in: "/srv/a:b", want: Target{Path: "/srv/a:b"}},
	{name: "scp", in: "deploy@web1.example.com:/var/www/site", want: Target{User: "deploy", Host: "web1.example.com", Path: "/var/www/site"}},
	{name: "scp alias no user", in: "web1:/var/www/site", want: Target{Host: "web1", Path: "/var/www/site"}},
	{name: "scp user with at", in: "jo@corp@web1:/srv", want: Target{User: "jo@corp", Host: "web1", Path: "/srv"}},
	{name: "scp path with at and colon", in: "web1:/srv/a@b:c", want: Target{Host: "web1", Path: "/srv/a@b:c"}},
	{name: "scp ipv6", in: "[::1]:/srv", want: Target{Host: "::1", Path: "/srv"}},
	{name: "scp ipv6 user", in: "root@[2001:db8::7]:/srv/site", want: Target{User: "root", Host: "2001:db8::7", Path: "/srv/site"}},
	{name: "scp root path", in: "web1:/", want: Target{Host: "web1", Path: "/"}},
	{name: "url", in: "ssh://deploy@web1:2222/var/www/site", want: Target{User: "deploy", Host: "web1", Port: 2222, Path: "/var/www/site"}},
	{name: "url no user no port", in: "ssh://web1/var/www", want: Target{Host: "web1", Path: "/var/www"}},
	{name: "url ipv6", in: "ssh://[::1]:22/srv", want: Target{Host: "::1", Port: 22, Path: "/srv"}},
	{name: "url upper scheme", in: "SSH://web1/srv", want: Target{Host: "web1", Path: "/srv"}},
	{name: "url escaped path", in: "ssh://web1/srv/my%20site", want: Target{Host: "web1", Path: "/srv/my site"}},

	{name: "empty", in: "", err: "empty target"},
	{name: "user host no path", in: "deploy@web1", err: "missing path"},
	{name: "scp empty path", in: "web1:", err: "missing path"},
	{name: "scp relative path", in: "web1:var/www", err: "not absolute"},
	{name: "scp port", in: "web1:2222:/srv", err: "ssh://user@host:port/path"},
	{name: "scp empty host", in: ":/srv", err: "empty host"},
	{name: "scp empty host with user", in: "deploy@:/srv", err: "empty host"},
	{name: "scp empty user", in: "@web1:/srv", err: "empty user"},
	{name: "scp bad host", in: "-oProxyCommand=x:/srv", err: "bad host"},
	{name: "scp unbracketed brackets", in: "a[b]c:/srv", err: "IPv6"},
	{name: "url no path", in: "ssh://web1", err: "missing path"},
	{name: "url unbracketed ipv6", in: "ssh://::1/srv", err: "bad IPv6"},
	{name: "scp not an address", in: "[web1]x:/srv", err: "IPv6"},
	{name: "scp bad ipv6", in: "[1:x]:/srv", err: "bad IPv6"},
	{name: "url nul in path", in: "ssh://web1/%00", err: "NUL"},
	{name: "url empty host", in: "ssh://deploy@:22/srv", err: "empty host"},
	{name: "url port zero", in: "ssh://web1:0/srv", err: "bad port"},
	{name: "url port too big", in: "ssh://web1:65536/srv", err: "bad port"},
	{name: "url port not a number", in: "ssh://web1:ssh/srv", err: "port"},
	{name: "url empty port", in: "ssh://web1:/srv", err: "empty port"},
	{name: "url password", in: "ssh://deploy:secret@web1/srv", err: "passwords"},
	{name: "url query", in: "ssh://web1/srv?x=1", err: "no query"},
	{name: "other scheme", in: "sftp://web1/srv", err: "unsupported scheme"},
	{name: "nul", in: "/srv/\x00", err: "NUL"},
}

func TestParseTarget(t *testing.T) {
	for _, tc := range targetCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseTarget(tc.in)
			if tc.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
			again, err := ParseTarget(got.String())
			require.NoError(t, err, "re-parse %q", got.String())
			assert.Equal(t, got, again, "re-parse %q", got.String())
		})
	}
}

func TestParseTargetRelative(t *testing.T) {
	wd, err := os.Getwd()
	require.NoError(t, err)
	for _, in := range []string{"site", "./site", "sites/a:b", "./backup@2024"} {
		got, err := ParseTarget(in)
		require.NoError(t, err, in)
		assert.Equal(t, Target{Path: filepath.Join(wd, in)}, got, in)
		assert.True(t, got.Local(), in)
	}
}

func TestTargetString(t *testing.T) {
	for _, tc := range []struct {
		t    Target
		want string
	}{
		{Target{Path: "/srv"}, "/srv"},
		{Target{Host: "web1", Path: "/srv"}, "web1:/srv"},
		{Target{User: "deploy", Host: "::1", Path: "/srv"}, "deploy@[::1]:/srv"},
		{Target{User: "deploy", Host: "web1", Port: 2222, Path: "/srv/my site"}, "ssh://deploy@web1:2222/srv/my%20site"},
		{Target{Host: "::1", Port: 22, Path: "/srv"}, "ssh://[::1]:22/srv"},
	} {
		assert.Equal(t, tc.want, tc.t.String())
	}
}

// FuzzParseTarget checks that no input panics and that every target that
// parses is written back by String in a form that parses to the same value.
func FuzzParseTarget(f *testing.F) {
	for _, tc := range targetCases {
		f.Add(tc.in)
	}
	f.Add("ssh://[fe80::1%25eth0]:22/srv")
	f.Add("[fe80::1%eth0]:/srv")
	f.Add("u$@h:/%")
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseTarget(s)
		if err != nil {
			return
		}
		if !strings.HasPrefix(got.Path, "/") {
			t.Fatalf("ParseTarget(%q).Path = %q, not absolute", s, got.Path)
		}
		if got.Local() && (got.User != "" || got.Port != 0) {
			t.Fatalf("ParseTarget(%q) = %#v: a local target with a user or port", s, got)
		}
		again, err := ParseTarget(got.String())
		if err != nil {
			t.Fatalf("ParseTarget(%q) = %#v, written %q, which fails: %v", s, got, got.String(), err)
		}
		if again != got {
			t.Fatalf("ParseTarget(%q) = %#v, written %q, read back as %#v", s, got, got.String(), again)
		}
	})
}
