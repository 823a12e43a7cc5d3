package remote

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The dial tests change HOME and SSH_AUTH_SOCK, so none runs in parallel.

// TestSSHConfigPrecedence checks the order target > option > config >
// default on every setting, without a server.
func TestSSHConfigPrecedence(t *testing.T) {
	home := dialHome(t)
	config := writeTestFile(t, filepath.Join(home, ".ssh", "config"), `
Host web1
    HostName 10.0.0.1
    Port 2200
    User cfguser
    IdentityFile ~/.ssh/cfg_key
    UserKnownHostsFile ~/.ssh/cfg_known_hosts
`, 0o600)
	local := newSSHDialer(Options{}).localUser
	ssh := func(name string) string { return filepath.Join(home, ".ssh", name) }
	defaultKeys := []identityFile{{path: ssh("id_ed25519")}, {path: ssh("id_ecdsa")}, {path: ssh("id_rsa")}}

	type want struct {
		hostName   string
		port       int
		user       string
		identities []identityFile
		knownHosts []string
	}
	for _, tc := range []struct {
		name string
		hop  sshHop
		opts Options
		want want
	}{
		{"defaults", sshHop{alias: "web2"}, Options{},
			want{"web2", 22, local, defaultKeys, []string{ssh("known_hosts")}}},
		{"default host name is the alias in lower case", sshHop{alias: "WEB2"}, Options{},
			want{"web2", 22, local, defaultKeys, []string{ssh("known_hosts")}}},
		{"config beats defaults", sshHop{alias: "web1"}, Options{},
			want{"10.0.0.1", 2200, "cfguser", []identityFile{{path: ssh("cfg_key")}}, []string{ssh("cfg_known_hosts")}}},
		{"options beat config", sshHop{alias: "web1"}, Options{Port: 2222, Identity: "/keys/flag", KnownHosts: "/flag_known"},
			want{"10.0.0.1", 2222, "cfguser", []identityFile{{"/keys/flag", true}, {path: ssh("cfg_key")}}, []string{"/flag_known"}}},
		{"target beats options", sshHop{alias: "web1", user: "tuser", port: 2300}, Options{Port: 2222},
			want{"10.0.0.1", 2300, "tuser", []identityFile{{path: ssh("cfg_key")}}, []string{ssh("cfg_known_hosts")}}},
		{"options beat defaults", sshHop{alias: "web2"}, Options{Port: 2222, Identity: "~/k"},
			want{"web2", 2222, local, []identityFile{{ssh("../k"), true}}, []string{ssh("known_hosts")}}},
		{"config none", sshHop{alias: "web1"}, Options{ConfigFile: "none"},
			want{"web1", 22, local, defaultKeys, []string{ssh("known_hosts")}}},
		{"config file named", sshHop{alias: "web1"}, Options{ConfigFile: config},
			want{"10.0.0.1", 2200, "cfguser", []identityFile{{path: ssh("cfg_key")}}, []string{ssh("cfg_known_hosts")}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, err := newSSHDialer(tc.opts).resolve(tc.hop, true, nil, false)
			require.NoError(t, err)
			for i := range tc.want.identities {
				tc.want.identities[i].path = filepath.Clean(tc.want.identities[i].path)
			}
			assert.Equal(t, tc.want, want{h.hostName, h.port, h.user, h.identities, h.knownHosts})
		})
	}

	_, err := newSSHDialer(Options{ConfigFile: filepath.Join(home, "missing")}).resolve(sshHop{alias: "web1"}, true, nil, false)
	assert.ErrorIs(t, err, os.ErrNotExist, "a config file named explicitly must exist")
}

func TestSSHConfigErrors(t *testing.T) {
	home := dialHome(t)
	for _, tc := range []struct {
		name, config, want string
	}{
		{"unterminated quote", "Host web1\n  User \"deploy\n", "config:2: unterminated quote"},
		{"no value", "Host web1\n  Port\n", "config:2: Port needs a value"},
		{"bad port", "Host web1\n  Port ssh\n", `ssh_config Port: bad port "ssh"`},
		{"proxy command", "Host web1\n  ProxyCommand nc %h %p\n", "ProxyCommand"},
		{"unknown match", "Match colour blue\n  Port 1\n", `unsupported Match criterion "colour"`},
		{"bad token", "Host web1\n  IdentityFile ~/.ssh/%C\n", "token %C"},
		{"bad jump", "Host web1\n  ProxyJump bastion:0\n", `ProxyJump entry "bastion:0": bad port "0"`},
		{"jump with a path", "Host web1\n  ProxyJump bastion/x\n", `ProxyJump entry "bastion/x": want [user@]host[:port]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			config := writeTestFile(t, filepath.Join(home, "config"), tc.config, 0o600)
			_, err := newSSHDialer(Options{ConfigFile: config}).resolve(sshHop{alias: "web1"}, true, nil, false)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}
