package remote_test

import (
	"context"
	"encoding/binary"
	"net"
	"path/filepath"
	"testing"

	"github.com/pkg/sftp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ssh"

	"github.com/wpfix/wpfix/remote"
	"github.com/wpfix/wpfix/remote/proctest"
	"github.com/wpfix/wpfix/remote/sshtest"
)

// TestSSHNotDurable reaches an SFTP server without fsync@openssh.com and
// checks that the SSH host says its writes are not durable, and still
// writes. OpenSSH's servers always have the extension, so the server here
// is pkg/sftp's own, which lacks it, behind an in-process SSH server.
func TestSSHNotDurable(t *testing.T) {
	h, err := remote.NewSSH(dialGoSFTP(t), "gosftp")
	require.NoError(t, err)
	t.Cleanup(func() { h.Close() })

	var d remote.Durabler = h
	assert.False(t, d.Durable())
	p := filepath.Join(t.TempDir(), "f.txt")
	require.NoError(t, h.WriteFile(context.Background(), p, []byte("hello\n"), 0o644))
	b, err := h.ReadFile(context.Background(), p)
	require.NoError(t, err)
	assert.Equal(t, "hello\n", string(b))
}

// dialGoSFTP starts an SSH server on loopback that lets anyone in and
// serves the sftp subsystem with pkg/sftp's server, and connects to it.
func dialGoSFTP(t *testing.T) *ssh.Client {
	t.Helper()
	signer, _ := sshtest.NewKey(t)
	cfg := &ssh.ServerConfig{NoClientAuth: true}
	cfg.AddHostKey(signer)

	addr := proctest.ServeLoopback(t, func(c net.Conn) { serveGoSFTP(c, cfg) })

	c, err := ssh.Dial("tcp", addr.String(), &ssh.ClientConfig{
		User: "test", HostKeyCallback: ssh.FixedHostKey(signer.PublicKey())})
	require.NoError(t, err)
	return c
}

func serveGoSFTP(c net.Conn, cfg *ssh.ServerConfig) {
	_, chans, reqs, err := ssh.NewServerConn(c, cfg)
	if err != nil {
		return
	}
	go ssh.DiscardRequests(reqs)
	for nc := range chans {
		if nc.ChannelType() != "session" {
			nc.Reject(ssh.UnknownChannelType, "sessions only")
			continue
		}
		ch, reqs, err := nc.Accept()
		if err != nil {
			continue
		}
		go func() {
			for req := range reqs {
				ok := req.Type == "subsystem" && len(req.Payload) >= 4 &&
					string(req.Payload[4:]) == "sftp" && binary.BigEndian.Uint32(req.Payload) == 4
				req.Reply(ok, nil)
				if ok {
					go func() {
						defer ch.Close()
						if s, err := sftp.NewServer(ch); err == nil {
							s.Serve()
						}
					}()
				}
			}
		}()
	}
}
