package agent

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wpfix/wpfix/remote"
	"github.com/wpfix/wpfix/remote/proctest"
	"github.com/wpfix/wpfix/remote/sshtest"
)

// BenchmarkTail2GB reads the last 50 lines of a 2 GB log over SSH, as
// wpfix logs does: only the end of the file crosses the connection.
func BenchmarkTail2GB(b *testing.B) {
	srv := sshtest.NewServer(b, sshtest.Options{})
	w := proctest.NewWorkdir(b, "tailbench")
	p := filepath.Join(w.Dir, "error.log")
	f, err := os.Create(p)
	require.NoError(b, err)
	require.NoError(b, f.Truncate(2<<30)) // sparse: 2 GB on paper, cheap on disk
	_, err = f.Seek(0, 2)
	require.NoError(b, err)
	for i := range 200 {
		f.WriteString("2026/11/23 00:00:00 [error] 1#1: *" + strconv.Itoa(i) +
			" recv() failed (104: Connection reset by peer) while reading response header from upstream\n")
	}
	require.NoError(b, f.Close())
	require.NoError(b, os.Chmod(p, 0o644))

	h, err := remote.Open(context.Background(), remote.Target{User: srv.User, Host: srv.Host, Port: srv.Port, Path: "/"},
		remote.Options{Identity: srv.KeyFile, KnownHosts: srv.KnownHostsFile, ConfigFile: "none"})
	require.NoError(b, err)
	defer h.Close()
	s := &Site{Host: h}
	for b.Loop() {
		lines, err := tailLines(context.Background(), s, p, 50)
		require.NoError(b, err)
		require.Len(b, lines, 50)
		require.True(b, strings.Contains(lines[49], "*199 "))
	}
}
