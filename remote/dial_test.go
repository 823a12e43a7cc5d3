package remote

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ssh"

	"github.com/wpfix/wpfix/remote/proctest"
	"github.com/wpfix/wpfix/remote/sshtest"
)

// The dial tests change HOME and SSH_AUTH_SOCK, so none runs in parallel.

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
	port := proctest.ServeLoopback(t, nil).Port
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

// newTestKeyFile writes a fresh ed25519 key no server knows.
func newTestKeyFile(t *testing.T, path string) (string, ssh.Signer) {
	t.Helper()
	s, key := sshtest.NewKey(t)
	return writeTestFile(t, path, string(key), 0o600), s
}
