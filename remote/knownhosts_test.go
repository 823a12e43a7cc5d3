package remote

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"encoding/pem"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ssh"
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
	other, _ := sshtest.NewKey(t)
	old := knownhosts.Line([]string{knownhosts.Normalize(s.Addr)}, other.PublicKey()) + "\n"
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
		types []string
		algo  string // the host key algorithm negotiated
	}{
		{"ed25519 known", s.HostKey, []string{ssh.KeyAlgoED25519}, ssh.KeyAlgoED25519},
		// Never ssh-rsa (SHA-1), which OpenSSH 9 does not offer either.
		{"rsa known", rsaPub, []string{ssh.KeyAlgoRSA}, ssh.KeyAlgoRSASHA512},
	} {
		t.Run(tc.name, func(t *testing.T) {
			known := writeTestFile(t, filepath.Join(home, tc.name),
				knownhosts.Line([]string{knownhosts.Normalize(addr)}, tc.known)+"\n", 0o600)
			db, err := knownhosts.New(known)
			require.NoError(t, err)
			assert.Equal(t, tc.types, knownKeyTypes(db, addr))

			c, err := dialSSH(dialContext(t), tgt, Options{Identity: s.KeyFile, KnownHosts: known, ConfigFile: "none"})
			require.NoError(t, err, "sshd's log:\n%s", proctest.Tail(p.Log, 2000))
			defer c.Close()
			assert.Equal(t, s.User, whoami(t, c))
			assert.Equal(t, tc.algo, c.Conn.(ssh.AlgorithmsConnMetadata).Algorithms().HostKey)

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
