package remote_test

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wpfix/wpfix/remote"
	"github.com/wpfix/wpfix/remote/sshtest"
)

// asUserFixture is h acting, through AsUser, as the site user (wpfixtest)
// on a folder that user owns. It needs root, as AsUser does.
func asUserFixture(t *testing.T, h remote.Host) fixture {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: only root can start sftp-server as another user")
	}
	_, uid, gid := sshtest.SiteUser(t)
	dir := newDir(t, uid, gid)
	a, err := remote.AsUser(context.Background(), h, remote.User{UID: uid, GID: gid}, []string{dir})
	require.NoError(t, err)
	t.Cleanup(func() { a.Close() })
	return fixture{a, dir}
}

// TestAsUser checks what acting as the site's owner means, locally and over
// SSH logged in as root: what wpfix creates belongs to the owner, it cannot
// change what the owner could not, a symlink the owner planted under the
// site's folders leads nowhere the owner could not read, and reads outside
// them (the web server's configs and logs) are still root's.
func TestAsUser(t *testing.T) {
	hosts := []struct {
		name string
		new  func(t *testing.T) remote.Host
	}{
		{"local", func(t *testing.T) remote.Host { return remote.NewLocal() }},
		{"ssh", func(t *testing.T) remote.Host {
			f, _ := sshFixture(t, sshtest.Options{Root: true})
			return f.host
		}},
	}
	for _, tt := range hosts {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := asUserFixture(t, tt.new(t))
			ctx := context.Background()
			_, uid, gid := sshtest.SiteUser(t)

			// root's things, away from the site
			secretDir := t.TempDir()
			require.NoError(t, os.Chmod(secretDir, 0o700))
			secret := filepath.Join(secretDir, "secret")
			require.NoError(t, os.WriteFile(secret, []byte("root's\n"), 0o600))

			got, err := remote.UID(ctx, f.host)
			require.NoError(t, err)
			assert.Equal(t, uid, got, "UID says who the changes are made as")

			p := filepath.Join(f.dir, "journal")
			require.NoError(t, f.host.WriteFile(ctx, p, []byte("{}"), 0o600))
			d := filepath.Join(f.dir, ".wpfix")
			require.NoError(t, f.host.Mkdir(ctx, d, 0o700))
			for _, name := range []string{p, d} {
				fi, err := os.Lstat(name)
				require.NoError(t, err)
				u, g, _ := remote.Owner(fi)
				assert.Equal(t, [2]int{uid, gid}, [2]int{u, g}, "%s belongs to the site's owner", name)
			}
			fi, err := os.Stat(d)
			require.NoError(t, err)
			assert.Equal(t, fs.FileMode(0o700), fi.Mode().Perm())

			err = f.host.Rename(ctx, secret, filepath.Join(f.dir, "stolen"))
			assert.ErrorIs(t, err, fs.ErrPermission, "root's file cannot be moved into the site")
			assert.ErrorContains(t, err, "wpfix acts as uid", "the error says whom wpfix acted as")
			assert.FileExists(t, secret)
			assert.ErrorIs(t, f.host.Remove(ctx, secret), fs.ErrPermission)
			assert.ErrorIs(t, f.host.WriteFile(ctx, filepath.Join(secretDir, "planted"), nil, 0o644), fs.ErrPermission)

			link := filepath.Join(f.dir, "debug.log")
			require.NoError(t, os.Symlink(secret, link))
			_, err = f.host.ReadFile(ctx, link)
			assert.ErrorIs(t, err, fs.ErrPermission, "a symlink under the site reads as its owner")

			b, err := f.host.ReadFile(ctx, secret)
			require.NoError(t, err, "outside the site's folders reads are root's")
			assert.Equal(t, "root's\n", string(b))
			assert.Equal(t, tt.new(t).Name(), f.host.Name())
		})
	}
}

// TestAsUserRefused: AsUser needs root.
func TestAsUserRefused(t *testing.T) {
	f, srv := sshFixture(t, sshtest.Options{})
	if srv.UID == 0 {
		t.Skip("the test user is root here")
	}
	_, err := remote.AsUser(context.Background(), f.host, remote.User{UID: 4242, GID: 4242}, []string{f.dir})
	assert.ErrorIs(t, err, remote.ErrCannotSwitch)
	assert.ErrorContains(t, err, "not root")
}

// TestAsUserNoServer: a host without sftp-server cannot act as the owner,
// and the error says what to install.
func TestAsUserNoServer(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: as another user AsUser stops at that")
	}
	remote.SetSFTPServers(t, []string{filepath.Join(t.TempDir(), "sftp-server")})
	_, uid, gid := sshtest.SiteUser(t)
	_, err := remote.AsUser(context.Background(), remote.NewLocal(), remote.User{UID: uid, GID: gid}, []string{t.TempDir()})
	assert.ErrorIs(t, err, remote.ErrCannotSwitch)
	assert.ErrorContains(t, err, "has no sftp-server")
	assert.ErrorContains(t, err, "openssh-sftp-server")
}

// TestLocalReadFIFO: a FIFO where a file was (a swap after a check) reads
// as empty at once, with no writer, instead of blocking the run.
func TestLocalReadFIFO(t *testing.T) {
	p := filepath.Join(t.TempDir(), "journal")
	require.NoError(t, syscall.Mkfifo(p, 0o600))
	h := remote.NewLocal()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		b, err := h.ReadHead(ctx, p, 1<<20)
		assert.NoError(t, err)
		assert.Empty(t, b)
		b, err = h.ReadFile(ctx, p)
		assert.NoError(t, err)
		assert.Empty(t, b)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		t.Fatal("reading a FIFO blocked")
	}
}
