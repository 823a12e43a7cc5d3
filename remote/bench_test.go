package remote_test

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wpfix/wpfix/remote"
	"github.com/wpfix/wpfix/remote/proctest"
	"github.com/wpfix/wpfix/remote/sshtest"
)

// BenchmarkStatRename measures one stat+rename pair, the step of renaming
// plugin folders, against the real sshd: over one SSH connection (wpfix),
// and the way a shell script does it, one ssh process per operation
// (ssh host stat …; ssh host mv …). Run with -benchtime 1000x for the
// figures in the README.
func BenchmarkStatRename(b *testing.B) {
	srv := sshtest.NewServer(b, sshtest.Options{})
	ctx := context.Background()

	b.Run("one-connection", func(b *testing.B) {
		h, err := remote.NewSSH(srv.Dial(b), "bench")
		require.NoError(b, err)
		defer h.Close()
		dir := benchDir(b, srv)
		p := filepath.Join(dir, "plugin")
		require.NoError(b, h.Mkdir(ctx, p+"0", 0o755))
		i := 0
		for b.Loop() {
			from, to := p+strconv.Itoa(i), p+strconv.Itoa(i+1)
			if _, err := h.Stat(ctx, from); err != nil {
				b.Fatal(err)
			}
			if err := h.Rename(ctx, from, to); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})

	b.Run("ssh-process-per-op", func(b *testing.B) {
		sshBin := proctest.Require(b, "openssh-client", "ssh")
		dir := benchDir(b, srv)
		p := filepath.Join(dir, "plugin")
		run := func(args ...string) {
			cmd := exec.Command(sshBin, append([]string{"-F", "none", "-i", srv.KeyFile, "-p", strconv.Itoa(srv.Port),
				"-o", "UserKnownHostsFile=" + srv.KnownHostsFile, "-o", "BatchMode=yes",
				srv.User + "@" + srv.Host}, args...)...)
			if out, err := cmd.CombinedOutput(); err != nil {
				b.Fatalf("%v: %v\n%s", args, err, out)
			}
		}
		run("mkdir", p+"0")
		i := 0
		for b.Loop() {
			from, to := p+strconv.Itoa(i), p+strconv.Itoa(i+1)
			run("stat", from)
			run("mv", from, to)
			i++
		}
	})
}

// benchDir is a fresh directory the server's user owns.
func benchDir(b *testing.B, srv *sshtest.Server) string {
	w := proctest.NewWorkdir(b, "remotebench")
	dir := w.Path("site")
	out, err := exec.Command("install", "-d", "-o", strconv.Itoa(srv.UID), "-g", strconv.Itoa(srv.GID), dir).CombinedOutput()
	require.NoError(b, err, fmt.Sprintf("%s", out))
	return dir
}
