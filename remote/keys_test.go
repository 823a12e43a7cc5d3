package remote

import (
	"bytes"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"github.com/wpfix/wpfix/remote/proctest"
	"github.com/wpfix/wpfix/remote/sshtest"
)

// The dial tests change HOME and SSH_AUTH_SOCK, so none runs in parallel.

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
