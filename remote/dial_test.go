package remote

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/wpfix/wpfix/remote/proctest"
	"github.com/wpfix/wpfix/remote/sshtest"
)

// The dial tests change HOME and SSH_AUTH_SOCK, so none runs in parallel.

func TestDialUnknownHostKey(t *testing.T) {
	home := dialHome(t)
	s := sshtest.NewServer(t, sshtest.Options{})
	known := filepath.Join(home, ".ssh", "known_hosts")

	_, err := dialSSH(dialContext(t), serverTarget(s), Options{Identity: s.KeyFile, ConfigFile: "none"})
	require.ErrorIs(t, err, ErrUnknownHostKey)
	assert.NotErrorIs(t, err, ErrHostKeyChanged)
	msg := err.Error()
	assert.Contains(t, msg, fmt.Sprintf("connect 127.0.0.1 (%s): ", s.Addr))
	assert.Contains(t, msg, "ED25519 key "+ssh.FingerprintSHA256(s.HostKey))
	assert.Contains(t, msg, fmt.Sprintf("ssh-keyscan -p %d 127.0.0.1 >> %s", s.Port, known))
	assert.Contains(t, msg, "--accept-new-host-key")
	assert.NoFileExists(t, known, "nothing recorded without AcceptNewHostKey")
}

func TestDialAcceptNewHostKey(t *testing.T) {
	for _, tc := range []struct {
		name   string
		before string // known_hosts before the dial; "-" for no file
	}{
		{"no file", "-"},
		{"no final newline", "# kept"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			home := dialHome(t)
			s := sshtest.NewServer(t, sshtest.Options{})
			known := filepath.Join(home, ".ssh", "known_hosts")
			if tc.before != "-" {
				writeTestFile(t, known, tc.before, 0o600)
			}
			var logs bytes.Buffer
			o := Options{Identity: s.KeyFile, ConfigFile: "none", AcceptNewHostKey: true,
				Logger: slog.New(slog.NewTextHandler(&logs, nil))}

			c, err := dialSSH(dialContext(t), serverTarget(s), o)
			require.NoError(t, err)
			assert.Equal(t, s.User, whoami(t, c))
			c.Close()

			line := knownhosts.Line([]string{knownhosts.Normalize(s.Addr)}, s.HostKey) + "\n"
			want := line
			if tc.before != "-" {
				want = tc.before + "\n" + line
			}
			b, err := os.ReadFile(known)
			require.NoError(t, err)
			assert.Equal(t, want, string(b))
			assert.Contains(t, logs.String(), "level=INFO")
			assert.Contains(t, logs.String(), "permanently added")
			assert.Contains(t, logs.String(), ssh.FingerprintSHA256(s.HostKey))
			if tc.before == "-" {
				assertMode(t, known, 0o600)
				assertMode(t, filepath.Dir(known), 0o700)
			}

			o.AcceptNewHostKey = false
			c, err = dialSSH(dialContext(t), serverTarget(s), o)
			require.NoError(t, err, "the recorded key is trusted without the option")
			c.Close()
		})
	}
}

func TestDialHostKeyChanged(t *testing.T) {
	home := dialHome(t)
	s := sshtest.NewServer(t, sshtest.Options{})
	known := filepath.Join(home, ".ssh", "known_hosts")
	old := knownhosts.Line([]string{knownhosts.Normalize(s.Addr)}, newTestSigner(t).PublicKey()) + "\n"
	writeTestFile(t, known, old, 0o600)

	_, err := dialSSH(dialContext(t), serverTarget(s),
		Options{Identity: s.KeyFile, ConfigFile: "none", AcceptNewHostKey: true})
	require.ErrorIs(t, err, ErrHostKeyChanged)
	assert.NotErrorIs(t, err, ErrUnknownHostKey)
	assert.Contains(t, err.Error(), known+":1")
	assert.Contains(t, err.Error(), "man-in-the-middle")
	assert.Contains(t, err.Error(), fmt.Sprintf("ssh-keygen -f %s -R '[127.0.0.1]:%d'", known, s.Port))
	b, err := os.ReadFile(known)
	require.NoError(t, err)
	assert.Equal(t, old, string(b), "known_hosts untouched")
}

func TestDialWrongUserKey(t *testing.T) {
	home := dialHome(t)
	s := sshtest.NewServer(t, sshtest.Options{})
	wrong, _ := newTestKeyFile(t, filepath.Join(home, "wrong_key"))

	_, err := dialSSH(dialContext(t), serverTarget(s),
		Options{Identity: wrong, KnownHosts: s.KnownHostsFile, ConfigFile: "none"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), fmt.Sprintf("connect 127.0.0.1 (%s): the server refused user %s with the keys %s", s.Addr, s.User, wrong))
	assert.NotErrorIs(t, err, ErrUnknownHostKey)

	_, err = dialSSH(dialContext(t), serverTarget(s),
		Options{Identity: filepath.Join(home, "missing"), KnownHosts: s.KnownHostsFile, ConfigFile: "none"})
	require.ErrorIs(t, err, os.ErrNotExist, "an identity file given with -i must exist")
	assert.Contains(t, err.Error(), filepath.Join(home, "missing"))
}

func TestDialUnreachable(t *testing.T) {
	dialHome(t)
	port := proctest.FreePort(t) // reserved, and nobody listens on it
	tgt := Target{User: "nobody", Host: "127.0.0.1", Port: port, Path: "/"}
	_, err := dialSSH(dialContext(t), tgt, Options{ConfigFile: "none"})
	require.ErrorIs(t, err, syscall.ECONNREFUSED, "refused at once, not after a timeout")
	assert.Contains(t, err.Error(), fmt.Sprintf("connect 127.0.0.1 (127.0.0.1:%d): ", port))
}

// TestDialContext checks that the context bounds the handshake, against a
// server that accepts TCP and never speaks.
func TestDialContext(t *testing.T) {
	dialHome(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
		}
	}()
	port := l.Addr().(*net.TCPAddr).Port
	tgt := Target{User: "nobody", Host: "127.0.0.1", Port: port, Path: "/"}

	for _, tc := range []struct {
		name string
		ctx  func() (context.Context, context.CancelFunc)
		want error
	}{
		{"deadline", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 200*time.Millisecond)
		}, context.DeadlineExceeded},
		{"cancel", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(200*time.Millisecond, cancel)
			return ctx, cancel
		}, context.Canceled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := tc.ctx()
			defer cancel()
			_, err := dialSSH(ctx, tgt, Options{ConfigFile: "none"})
			require.ErrorIs(t, err, tc.want)
			assert.Contains(t, err.Error(), fmt.Sprintf("connect 127.0.0.1 (127.0.0.1:%d): ", port))
		})
	}
}

func TestDialSSHConfigAlias(t *testing.T) {
	home := dialHome(t)
	s := sshtest.NewServer(t, sshtest.Options{})
	copyTestFile(t, s.KeyFile, filepath.Join(home, ".ssh", "web1_key"))
	copyTestFile(t, s.KnownHostsFile, filepath.Join(home, ".ssh", "web1_known_hosts"))
	writeTestFile(t, filepath.Join(home, ".ssh", "config"), fmt.Sprintf(`
Host web1
    HostName 127.0.0.1
    Port %d
    User %s
    IdentityFile ~/.ssh/web1_key
    UserKnownHostsFile ~/.ssh/none_such ~/.ssh/web1_known_hosts
`, s.Port, s.User), 0o600)

	tgt, err := ParseTarget("web1:/srv/site")
	require.NoError(t, err)
	c, err := dialSSH(dialContext(t), tgt, Options{})
	require.NoError(t, err)
	defer c.Close()
	assert.Equal(t, s.User, whoami(t, c))
}

// TestDialSSHConfigPrecedence dials with a config that gets each setting
// wrong, and a target or flag that gets it right: the right one must win.
func TestDialSSHConfigPrecedence(t *testing.T) {
	home := dialHome(t)
	s := sshtest.NewServer(t, sshtest.Options{})
	closed := proctest.FreePort(t)
	wrongKey, _ := newTestKeyFile(t, filepath.Join(home, ".ssh", "wrong_key"))
	copyTestFile(t, s.KnownHostsFile, filepath.Join(home, ".ssh", "known_hosts"))
	config := filepath.Join(home, ".ssh", "config")

	for _, tc := range []struct {
		name   string
		config string // the wrong setting
		target Target
		opts   Options
	}{
		{"option port beats config", fmt.Sprintf("Port %d\nUser %s\nIdentityFile %s", closed, s.User, s.KeyFile),
			Target{Host: "web1"}, Options{Port: s.Port}},
		{"target port beats option", fmt.Sprintf("User %s\nIdentityFile %s", s.User, s.KeyFile),
			Target{Host: "web1", Port: s.Port}, Options{Port: closed}},
		{"target user beats config", fmt.Sprintf("Port %d\nUser nobody\nIdentityFile %s", s.Port, s.KeyFile),
			Target{Host: "web1", User: s.User}, Options{}},
		{"option identity goes first", fmt.Sprintf("Port %d\nUser %s\nIdentityFile %s", s.Port, s.User, wrongKey),
			Target{Host: "web1"}, Options{Identity: s.KeyFile}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			writeTestFile(t, config, "Host web1\n  HostName 127.0.0.1\n  "+strings.ReplaceAll(tc.config, "\n", "\n  ")+"\n", 0o600)
			c, err := dialSSH(dialContext(t), tc.target, tc.opts)
			require.NoError(t, err)
			defer c.Close()
			assert.Equal(t, s.User, whoami(t, c))
		})
	}
}

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

// TestSSHConfigMatchesOpenSSH resolves hosts through configs that use
// patterns, Match, Include and first-value-wins, and checks the result
// against what OpenSSH's own `ssh -G` makes of the same config.
func TestSSHConfigMatchesOpenSSH(t *testing.T) {
	sshBin := proctest.Require(t, "openssh-client", "ssh")
	dialHome(t)
	dir := t.TempDir()
	writeTestFile(t, filepath.Join(dir, "inc.conf"), "Host web1\n  Port 1111\n", 0o600)
	writeTestFile(t, filepath.Join(dir, "inc2.conf"), "Host *\n  Port 3333\n", 0o600)

	for _, tc := range []struct {
		name   string
		config string
		hosts  []string // [user@]alias
		port   int      // the -p flag
	}{
		{"first value wins", "Host web*\n  Port 2201\n  User first\nHost web1\n  Port 2202\n  User second\n  HostName web1.example.com\n",
			[]string{"web1", "web2", "db1"}, 0},
		{"question mark is one character", "Host web?\n  Port 1111\nHost *\n  Port 2222\n",
			[]string{"web", "web1", "web12"}, 0},
		{"negation", "Host *.example.com !db.example.com\n  User app\n",
			[]string{"www.example.com", "db.example.com"}, 0},
		{"case", "Host WEB1\n  Port 1111\n", []string{"WEB1", "web1"}, 0},
		{"hostname token", "Host *.prod\n  HostName %h.example.com\n", []string{"a.prod", "b"}, 0},
		{"match", "Host web\n  HostName real.example.com\nMatch host real.example.com\n  Port 2300\n" +
			"Match originalhost web user deploy\n  User ignored\nMatch user root,deploy !localuser nobody\n  ProxyJump bastion\n",
			[]string{"web", "deploy@web", "other@web"}, 0},
		{"match final", "Host web\n  HostName real.example\nHost real.example\n  Port 1111\nMatch final\n  User x\n",
			[]string{"web"}, 0},
		{"include", "Include " + dir + "/inc.conf\nHost *\n  Port 2222\n", []string{"web1", "web2"}, 0},
		{"include in a block that does not apply", "Host other\n  Include " + dir + "/inc2.conf\nHost *\n  User u\n",
			[]string{"web1", "other"}, 0},
		{"flag beats config", "Host web1\n  Port 1111\n", []string{"web1", "u@web1"}, 2000},
		{"proxy jump", "Host a\n  ProxyJump j1,u@j2:2222\nHost b\n  ProxyJump none\nHost *\n  ProxyJump j3\n",
			[]string{"a", "b", "c"}, 0},
		{"equals quotes comments", "Host = web1 # the web server\n  Port=1111\n  User \"deploy\" # who\n  HostName 'w1'\n",
			[]string{"web1"}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			config := writeTestFile(t, filepath.Join(t.TempDir(), "config"), tc.config, 0o600)
			for _, host := range tc.hosts {
				args := []string{"-G", "-F", config}
				if tc.port != 0 {
					args = append(args, "-p", strconv.Itoa(tc.port))
				}
				out, err := exec.Command(sshBin, append(args, host)...).Output()
				require.NoError(t, err, "ssh -G %s", host)
				want := sshG(string(out))

				hop := sshHop{alias: host}
				if u, a, ok := strings.Cut(host, "@"); ok {
					hop = sshHop{alias: a, user: u}
				}
				h, err := newSSHDialer(Options{ConfigFile: config, Port: tc.port}).resolve(hop, true, nil, false)
				require.NoError(t, err, host)
				got := map[string]string{"hostname": h.hostName, "user": h.user, "port": strconv.Itoa(h.port),
					"proxyjump": strings.Join(h.proxyJump, ",")}
				assert.Equal(t, want, got, "%s in\n%s", host, tc.config)
			}
		})
	}
}

// sshG picks the settings compared from `ssh -G` output.
func sshG(out string) map[string]string {
	m := map[string]string{"proxyjump": ""}
	for _, line := range strings.Split(out, "\n") {
		k, v, _ := strings.Cut(line, " ")
		switch k {
		case "hostname", "user", "port":
			m[k] = v
		case "proxyjump":
			if v != "none" {
				m[k] = v
			}
		}
	}
	return m
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

// TestDialProxyJump reaches a server through one and two jump hosts, each
// named by an alias the config resolves, and through one that refuses
// forwarding.
func TestDialProxyJump(t *testing.T) {
	home := dialHome(t)
	target := sshtest.NewServer(t, sshtest.Options{})
	jump1 := sshtest.NewServer(t, sshtest.Options{})
	jump2 := sshtest.NewServer(t, sshtest.Options{})
	nofwd := sshtest.NewServer(t, sshtest.Options{DisableForwarding: true})

	var known, hosts strings.Builder
	for name, s := range map[string]*sshtest.Server{"web1": target, "jump1": jump1, "jump2": jump2, "nofwd": nofwd} {
		b, err := os.ReadFile(s.KnownHostsFile)
		require.NoError(t, err)
		known.Write(b)
		fmt.Fprintf(&hosts, "Host %s\n  HostName 127.0.0.1\n  Port %d\n  User %s\n  IdentityFile %s\n", name, s.Port, s.User, s.KeyFile)
	}
	writeTestFile(t, filepath.Join(home, ".ssh", "known_hosts"), known.String(), 0o600)

	for _, tc := range []struct {
		name      string
		proxyJump string
		through   []*sshtest.Server
	}{
		{"one hop", "jump1", []*sshtest.Server{jump1}},
		{"two hops", "jump1,jump2", []*sshtest.Server{jump1, jump2}},
		{"url hop", fmt.Sprintf("ssh://%s@jump1:%d", jump1.User, jump1.Port), []*sshtest.Server{jump1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			writeTestFile(t, filepath.Join(home, ".ssh", "config"),
				"Host web1\n  ProxyJump "+tc.proxyJump+"\n"+hosts.String(), 0o600)
			before := make([]int, len(tc.through))
			for i, s := range tc.through {
				before[i] = logins(t, s)
			}
			c, err := dialSSH(dialContext(t), Target{Host: "web1", Path: "/"}, Options{})
			require.NoError(t, err)
			defer c.Close()
			assert.Equal(t, target.User, whoami(t, c))
			for i, s := range tc.through {
				assert.Equal(t, before[i]+1, logins(t, s), "logged in to the jump host on port %d", s.Port)
			}
		})
	}

	t.Run("forwarding refused", func(t *testing.T) {
		writeTestFile(t, filepath.Join(home, ".ssh", "config"), "Host web1\n  ProxyJump nofwd\n"+hosts.String(), 0o600)
		_, err := dialSSH(dialContext(t), Target{Host: "web1", Path: "/"}, Options{})
		require.ErrorIs(t, err, ErrForwardingRefused)
		assert.Contains(t, err.Error(), "the jump host nofwd must allow TCP forwarding")
		assert.Contains(t, err.Error(), fmt.Sprintf("connect web1 (127.0.0.1:%d): ", target.Port))
	})
	t.Run("jump host down", func(t *testing.T) {
		down := proctest.FreePort(t)
		writeTestFile(t, filepath.Join(home, ".ssh", "config"),
			fmt.Sprintf("Host web1\n  ProxyJump gone\nHost gone\n  HostName 127.0.0.1\n  Port %d\n%s", down, hosts.String()), 0o600)
		_, err := dialSSH(dialContext(t), Target{Host: "web1", Path: "/"}, Options{})
		require.ErrorIs(t, err, syscall.ECONNREFUSED)
		assert.Contains(t, err.Error(), fmt.Sprintf("connect web1 through gone: connect gone (127.0.0.1:%d): ", down))
	})
}

func TestDialProxyJumpLoop(t *testing.T) {
	home := dialHome(t)
	writeTestFile(t, filepath.Join(home, ".ssh", "config"), "Host a\n  ProxyJump b\nHost b\n  ProxyJump a\n", 0o600)
	_, err := dialSSH(dialContext(t), Target{Host: "a", Path: "/"}, Options{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "is there a loop in ssh_config?")
}

// logins counts the logins sshd has accepted so far.
func logins(t *testing.T, s *sshtest.Server) int {
	t.Helper()
	b, err := os.ReadFile(s.LogFile)
	require.NoError(t, err)
	return bytes.Count(b, []byte("Accepted publickey for "))
}

func TestDialAgent(t *testing.T) {
	home := dialHome(t)
	s := sshtest.NewServer(t, sshtest.Options{})
	bin := proctest.Require(t, "openssh-client", "ssh-agent")
	w := proctest.NewWorkdir(t, "dialagent")
	sock := w.Path("agent.sock")
	p := w.Start("ssh-agent", exec.Command(bin, "-D", "-a", sock))
	proctest.WaitReady(t, p, 10*time.Second, proctest.DialReady("unix", sock))
	t.Setenv("SSH_AUTH_SOCK", sock)

	conn, err := net.Dial("unix", sock)
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, agent.NewClient(conn).Add(agent.AddedKey{PrivateKey: rawKey(t, s.KeyFile)}))

	o := Options{KnownHosts: s.KnownHostsFile, ConfigFile: "none"}
	c, err := dialSSH(dialContext(t), serverTarget(s), o)
	require.NoError(t, err, "logged in with the agent's key alone")
	assert.Equal(t, s.User, whoami(t, c))
	c.Close()

	// Without the agent, the same dial has no key to offer.
	o.ConfigFile = writeTestFile(t, filepath.Join(home, "config"), "IdentityAgent none\n", 0o600)
	_, err = dialSSH(dialContext(t), serverTarget(s), o)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no key to log in as "+s.User)
}

func TestDialPassphrase(t *testing.T) {
	home := dialHome(t)
	s := sshtest.NewServer(t, sshtest.Options{})
	// The default identity file, locked.
	keyFile := filepath.Join(home, ".ssh", "id_ed25519")
	block, err := ssh.MarshalPrivateKeyWithPassphrase(rawKey(t, s.KeyFile), "", []byte("correct horse"))
	require.NoError(t, err)
	writeTestFile(t, keyFile, string(pem.EncodeToMemory(block)), 0o600)

	for _, tc := range []struct {
		name    string
		answers []string // what the prompt returns, in turn; nil for no prompt
		asked   int
		err     string
	}{
		{"no prompt", nil, 0, fmt.Sprintf("key %s needs a passphrase: load it with ssh-add or run wpfix on a terminal", keyFile)},
		{"right passphrase", []string{"correct horse"}, 1, ""},
		{"right at the second try", []string{"wrong", "correct horse"}, 2, ""},
		{"wrong passphrase", []string{"a", "b", "c"}, 3, "wrong passphrase"},
		{"no terminal", []string{}, 1, "no terminal"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			o := Options{KnownHosts: s.KnownHostsFile, ConfigFile: "none",
				Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
			asked := 0
			if tc.answers != nil {
				o.Prompt = func(question string) ([]byte, error) {
					assert.Equal(t, fmt.Sprintf("Enter passphrase for key '%s': ", keyFile), question)
					asked++
					if asked > len(tc.answers) {
						return nil, errors.New("no terminal")
					}
					return []byte(tc.answers[asked-1]), nil
				}
			}
			c, err := dialSSH(dialContext(t), serverTarget(s), o)
			assert.Equal(t, tc.asked, asked, "prompts")
			assert.NotContains(t, logs.String(), "correct horse")
			if tc.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.err)
				assert.NotContains(t, err.Error(), "correct horse")
				return
			}
			require.NoError(t, err)
			defer c.Close()
			assert.Equal(t, s.User, whoami(t, c))
		})
	}
}

// TestDialHostKeyAlgorithms runs an sshd with an RSA and an ed25519 host
// key and a known_hosts that holds only one of them: the handshake must
// ask for that one. x/crypto prefers RSA, so unrestricted it would meet
// the RSA key and report the ed25519 host as changed.
func TestDialHostKeyAlgorithms(t *testing.T) {
	home := dialHome(t)
	s := sshtest.NewServer(t, sshtest.Options{})
	sshd := proctest.Require(t, "openssh-server", "sshd")
	w := proctest.NewWorkdir(t, "dialhostkeys")

	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	block, err := ssh.MarshalPrivateKey(rsaKey, "")
	require.NoError(t, err)
	rsaFile := w.WriteFile("host_rsa", string(pem.EncodeToMemory(block)), 0o600)
	rsaPub, err := ssh.NewPublicKey(&rsaKey.PublicKey)
	require.NoError(t, err)

	// sshtest's config, on another port, with the RSA key first.
	port := proctest.FreePort(t)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	b, err := os.ReadFile(filepath.Join(s.Dir, "sshd_config"))
	require.NoError(t, err)
	var config []string
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		switch {
		case strings.HasPrefix(line, "ListenAddress "):
			line = "ListenAddress " + addr
		case strings.HasPrefix(line, "PidFile "):
			line = "PidFile " + w.Path("sshd.pid")
		case strings.HasPrefix(line, "HostKey "):
			line = "HostKey " + rsaFile + "\n" + line
		}
		config = append(config, line)
	}
	configFile := w.WriteFile("sshd_config", strings.Join(config, "\n")+"\n", 0o644)
	p := w.Start("sshd", exec.Command(sshd, "-D", "-e", "-f", configFile))
	proctest.WaitReady(t, p, 10*time.Second, proctest.DialReady("tcp", addr))

	tgt := Target{User: s.User, Host: "127.0.0.1", Port: port, Path: "/"}
	for _, tc := range []struct {
		name  string
		known ssh.PublicKey
		algos []string
	}{
		{"ed25519 known", s.HostKey, []string{ssh.KeyAlgoED25519}},
		{"rsa known", rsaPub, []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			known := writeTestFile(t, filepath.Join(home, tc.name),
				knownhosts.Line([]string{knownhosts.Normalize(addr)}, tc.known)+"\n", 0o600)
			db, err := knownhosts.New(known)
			require.NoError(t, err)
			assert.Equal(t, tc.algos, knownAlgorithms(db, addr))

			c, err := dialSSH(dialContext(t), tgt, Options{Identity: s.KeyFile, KnownHosts: known, ConfigFile: "none"})
			require.NoError(t, err, "sshd's log:\n%s", proctest.Tail(p.Log, 2000))
			defer c.Close()
			assert.Equal(t, s.User, whoami(t, c))

			// What the restriction avoids, for the record.
			cfg := &ssh.ClientConfig{User: s.User, Auth: []ssh.AuthMethod{ssh.PublicKeys(s.Signer)}, HostKeyCallback: db}
			if c, err := ssh.Dial("tcp", addr, cfg); err == nil {
				c.Close()
				t.Logf("unrestricted, x/crypto also logs in")
			} else {
				t.Logf("unrestricted, x/crypto fails: %v", err)
			}
		})
	}
}

// dialHome gives the test a home directory of its own, so ~/.ssh is the
// test's, and no ssh-agent.
func dialHome(t *testing.T) string {
	t.Helper()
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("SSH_AUTH_SOCK", "")
	os.Unsetenv("SSH_AUTH_SOCK")
	return home
}

// dialContext bounds a dial, so that a hang fails the test instead of
// stalling it.
func dialContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// serverTarget names s by address, user and port.
func serverTarget(s *sshtest.Server) Target {
	return Target{User: s.User, Host: s.Host, Port: s.Port, Path: "/"}
}

// whoami returns the remote user name.
func whoami(t *testing.T, c *ssh.Client) string {
	t.Helper()
	sess, err := c.NewSession()
	require.NoError(t, err)
	defer sess.Close()
	out, err := sess.Output("id -un")
	require.NoError(t, err)
	return strings.TrimSpace(string(out))
}

// writeTestFile writes a file, creating its directory (0700), and returns
// its path.
func writeTestFile(t *testing.T, path, content string, perm os.FileMode) string {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o700))
	require.NoError(t, os.WriteFile(path, []byte(content), perm))
	return path
}

func copyTestFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	require.NoError(t, err)
	writeTestFile(t, dst, string(b), 0o600)
}

func assertMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, want, fi.Mode().Perm(), path)
}

// rawKey reads an unencrypted private key file.
func rawKey(t *testing.T, path string) crypto.PrivateKey {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	k, err := ssh.ParseRawPrivateKey(b)
	require.NoError(t, err)
	if p, ok := k.(*ed25519.PrivateKey); ok {
		return *p
	}
	return k
}

func newTestSigner(t *testing.T) ssh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	s, err := ssh.NewSignerFromKey(priv)
	require.NoError(t, err)
	return s
}

// newTestKeyFile writes a fresh ed25519 key no server knows.
func newTestKeyFile(t *testing.T, path string) (string, ssh.Signer) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	block, err := ssh.MarshalPrivateKey(priv, "")
	require.NoError(t, err)
	s, err := ssh.NewSignerFromKey(priv)
	require.NoError(t, err)
	return writeTestFile(t, path, string(pem.EncodeToMemory(block)), 0o600), s
}
