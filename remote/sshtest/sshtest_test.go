package sshtest_test

import (
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/wpfix/wpfix/remote/proctest"
	"github.com/wpfix/wpfix/remote/sshtest"
)

func TestExec(t *testing.T) {
	t.Parallel()
	s := sshtest.NewServer(t, sshtest.Options{})
	assert.Equal(t, s.User, run(t, s.Dial(t), "id -un"))
}

func TestFiles(t *testing.T) {
	t.Parallel()
	s := sshtest.NewServer(t, sshtest.Options{})

	fi, err := os.Stat(s.KeyFile)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "key file mode")
	b, err := os.ReadFile(s.KeyFile)
	require.NoError(t, err)
	key, err := ssh.ParsePrivateKey(b)
	require.NoError(t, err, "the key file has no passphrase")
	assert.Equal(t, s.Signer.PublicKey().Marshal(), key.PublicKey().Marshal())

	b, err = os.ReadFile(s.KnownHostsFile)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	require.Len(t, lines, 1)
	assert.True(t, strings.HasPrefix(lines[0], "[127.0.0.1]:"), lines[0])

	assert.FileExists(t, s.LogFile)
}

func TestSFTP(t *testing.T) {
	t.Parallel()
	s := sshtest.NewServer(t, sshtest.Options{})
	root := docroot(t, s)
	c := s.SFTP(t)

	_, ok := c.HasExtension("posix-rename@openssh.com")
	require.True(t, ok, "server advertises posix-rename@openssh.com")

	old := path.Join(root, "plugins", "broken")
	require.NoError(t, c.MkdirAll(old))
	f, err := c.Create(path.Join(old, "broken.php"))
	require.NoError(t, err)
	_, err = f.Write([]byte("<?php fatal();\n"))
	require.NoError(t, err)
	require.NoError(t, f.Close())

	entries, err := c.ReadDir(old)
	require.NoError(t, err)
	require.Len(t, entries, 1)
	assert.Equal(t, "broken.php", entries[0].Name())
	assert.EqualValues(t, len("<?php fatal();\n"), entries[0].Size())

	moved := path.Join(root, "quarantine")
	require.NoError(t, c.PosixRename(old, moved))
	_, err = c.Stat(old)
	assert.ErrorIs(t, err, fs.ErrNotExist)
	fi, err := c.Stat(path.Join(moved, "broken.php"))
	require.NoError(t, err)
	assert.False(t, fi.IsDir())
}

// TestForwarding checks that the server forwards to TCP and unix sockets
// unless told not to, and that exec and SFTP work either way.
func TestForwarding(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		opts    sshtest.Options
		forward bool
	}{
		{"on", sshtest.Options{}, true},
		{"off", sshtest.Options{DisableForwarding: true}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := sshtest.NewServer(t, tc.opts)
			client := s.Dial(t)

			assert.Equal(t, s.User, run(t, client, "id -un"), "exec")
			_, err := s.SFTP(t).ReadDir("/")
			assert.NoError(t, err, "sftp")

			tcp := proctest.ServeLoopback(t, proctest.Echo)

			// The socket is reached by sshd acting as the test user, so it
			// and its directory must be open to that user.
			sockDir := proctest.NewWorkdir(t, "sshtest-sock")
			sock := sockDir.Path("echo.sock")
			proctest.ServeUnix(t, sock, proctest.Echo)

			// OpenSSH 9.2 refuses a TCP forward as "administratively
			// prohibited" but a unix one as "connect failed", the same
			// reason a missing socket gets.
			for _, target := range []struct {
				network, addr string
				refused       ssh.RejectionReason
			}{
				{"tcp", tcp.String(), ssh.Prohibited},
				{"unix", sock, ssh.ConnectionFailed},
			} {
				conn, err := client.Dial(target.network, target.addr)
				if !tc.forward {
					var open *ssh.OpenChannelError
					require.ErrorAs(t, err, &open, "dial %s %s", target.network, target.addr)
					assert.Equal(t, target.refused, open.Reason, "%s: %v", target.network, open)
					continue
				}
				require.NoError(t, err, "dial %s %s", target.network, target.addr)
				_, err = conn.Write([]byte("ping"))
				require.NoError(t, err)
				got := make([]byte, 4)
				_, err = io.ReadFull(conn, got)
				require.NoError(t, err)
				assert.Equal(t, "ping", string(got), target.network)
				conn.Close()
			}
			if !tc.forward {
				// The log tells a refusal from a socket that is not there.
				log, err := os.ReadFile(s.LogFile)
				require.NoError(t, err)
				assert.Contains(t, string(log), "refused local port forward")
				assert.Contains(t, string(log), "refused streamlocal port forward")
			}
		})
	}
}

func TestHostKeyMismatch(t *testing.T) {
	t.Parallel()
	s := sshtest.NewServer(t, sshtest.Options{})
	other, _ := sshtest.NewKey(t)
	known := filepath.Join(t.TempDir(), "known_hosts")
	line := knownhosts.Line([]string{knownhosts.Normalize(s.Addr)}, other.PublicKey())
	require.NoError(t, os.WriteFile(known, []byte(line+"\n"), 0o600))
	cb, err := knownhosts.New(known)
	require.NoError(t, err)

	cfg := s.ClientConfig(t)
	cfg.HostKeyCallback = cb
	_, err = ssh.Dial("tcp", s.Addr, cfg)
	var keyErr *knownhosts.KeyError
	require.ErrorAs(t, err, &keyErr)
	assert.NotEmpty(t, keyErr.Want, "a mismatch, not an unknown host")
}

func TestWrongUserKey(t *testing.T) {
	t.Parallel()
	s := sshtest.NewServer(t, sshtest.Options{})
	wrong, _ := sshtest.NewKey(t)
	cfg := s.ClientConfig(t)
	cfg.Auth = []ssh.AuthMethod{ssh.PublicKeys(wrong)}
	_, err := ssh.Dial("tcp", s.Addr, cfg)
	assert.ErrorContains(t, err, "unable to authenticate")
}

func TestTwoServers(t *testing.T) {
	t.Parallel()
	a := sshtest.NewServer(t, sshtest.Options{})
	b := sshtest.NewServer(t, sshtest.Options{})
	assert.NotEqual(t, a.Port, b.Port)
	assert.NotEqual(t, a.Dir, b.Dir)
	assert.NotEqual(t, a.HostKey.Marshal(), b.HostKey.Marshal())

	assert.Equal(t, a.User, run(t, a.Dial(t), "id -un"))
	assert.Equal(t, b.User, run(t, b.Dial(t), "id -un"))

	// Each known_hosts file names its own port only.
	_, err := ssh.Dial("tcp", b.Addr, a.ClientConfig(t))
	var keyErr *knownhosts.KeyError
	require.ErrorAs(t, err, &keyErr)
	assert.Empty(t, keyErr.Want, "b is unknown to a's known_hosts")
}

func BenchmarkNewServer(b *testing.B) {
	for b.Loop() {
		sshtest.Stop(sshtest.NewServer(b, sshtest.Options{}))
	}
}

// run runs cmd in a new session and returns its trimmed stdout.
func run(t *testing.T, c *ssh.Client, cmd string) string {
	t.Helper()
	sess, err := c.NewSession()
	require.NoError(t, err)
	defer sess.Close()
	out, err := sess.Output(cmd)
	require.NoError(t, err, "run %q", cmd)
	return strings.TrimSpace(string(out))
}

// docroot returns an empty directory owned by the test user, as a site's
// files would be.
func docroot(t *testing.T, s *sshtest.Server) string {
	t.Helper()
	dir := proctest.NewWorkdir(t, "sshtest-site").Path("site")
	require.NoError(t, os.Mkdir(dir, 0o755))
	if os.Geteuid() == 0 {
		require.NoError(t, os.Chown(dir, s.UID, s.GID))
	}
	return dir
}
