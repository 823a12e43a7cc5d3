package remote

import (
	"time"

	"golang.org/x/crypto/ssh"
)

// NewSSHKeepAlive is NewSSH with another keep-alive interval, so a test
// sees a silent drop noticed in a fraction of a second.
func NewSSHKeepAlive(client *ssh.Client, name string, every time.Duration) (*SSH, error) {
	return newSSH(client, name, every)
}

// SetSFTPServers replaces where AsUser looks for sftp-server, for the
// test's duration.
func SetSFTPServers(t interface{ Cleanup(func()) }, paths []string) {
	was := sftpServers
	sftpServers = paths
	t.Cleanup(func() { sftpServers = was })
}
