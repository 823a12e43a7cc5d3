package remote_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ssh"

	"github.com/wpfix/wpfix/remote"
	"github.com/wpfix/wpfix/remote/proctest"
	"github.com/wpfix/wpfix/remote/sshtest"
)

// fixture is a host under test and a directory on it that its user owns.
type fixture struct {
	host remote.Host
	dir  string
}

// newDir makes a fresh directory that uid (or the current user, -1) owns
// and can reach.
func newDir(t *testing.T, uid, gid int) string {
	t.Helper()
	w := proctest.NewWorkdir(t, "remotetest")
	dir := w.Path("site")
	require.NoError(t, os.Mkdir(dir, 0o755))
	if uid >= 0 && os.Geteuid() == 0 {
		require.NoError(t, os.Chown(dir, uid, gid))
	}
	return dir
}

func localFixture(t *testing.T) fixture {
	return fixture{remote.NewLocal(), newDir(t, -1, -1)}
}

// sshFixture reaches a real sshd the way wpfix does: Open with a target and
// the options the flags give, the host key checked against known_hosts.
func sshFixture(t *testing.T, opts sshtest.Options) (fixture, *sshtest.Server) {
	srv := sshtest.NewServer(t, opts)
	h, err := remote.Open(context.Background(),
		remote.Target{User: srv.User, Host: "sshtest", Port: srv.Port, Path: "/"},
		remote.Options{Identity: srv.KeyFile, KnownHosts: srv.KnownHostsFile, ConfigFile: writeSSHConfig(t, srv)})
	require.NoError(t, err)
	t.Cleanup(func() { h.Close() })
	return fixture{h, newDir(t, srv.UID, srv.GID)}, srv
}

// writeSSHConfig gives the name "sshtest" to the server's address, as a
// user's ~/.ssh/config would.
func writeSSHConfig(t *testing.T, srv *sshtest.Server) string {
	p := filepath.Join(t.TempDir(), "ssh_config")
	require.NoError(t, os.WriteFile(p, []byte("Host sshtest\n  HostName "+srv.Host+"\n"), 0o600))
	return p
}

// TestHostContract runs the same table of behaviours against every Host.
func TestHostContract(t *testing.T) {
	hosts := []struct {
		name string
		new  func(t *testing.T) fixture
	}{
		{"local", localFixture},
		{"ssh", func(t *testing.T) fixture { f, _ := sshFixture(t, sshtest.Options{}); return f }},
		{"local as the site's owner", func(t *testing.T) fixture { return asUserFixture(t, localFixture(t).host) }},
		{"ssh as root as the site's owner", func(t *testing.T) fixture {
			f, _ := sshFixture(t, sshtest.Options{Root: true})
			return asUserFixture(t, f.host)
		}},
	}
	for _, h := range hosts {
		t.Run(h.name, func(t *testing.T) {
			t.Parallel()
			f := h.new(t)
			for _, c := range contract {
				t.Run(c.name, func(t *testing.T) {
					dir := filepath.Join(f.dir, strings.ReplaceAll(c.name, " ", "_"))
					require.NoError(t, f.host.Mkdir(context.Background(), dir, 0o755))
					c.test(t, context.Background(), f.host, dir)
				})
			}
		})
	}
}

var contract = []struct {
	name string
	test func(t *testing.T, ctx context.Context, h remote.Host, dir string)
}{
	{"write read stat", func(t *testing.T, ctx context.Context, h remote.Host, dir string) {
		p := filepath.Join(dir, "f.txt")
		require.NoError(t, h.WriteFile(ctx, p, []byte("hello\n"), 0o640))
		b, err := h.ReadFile(ctx, p)
		require.NoError(t, err)
		assert.Equal(t, "hello\n", string(b))
		fi, err := h.Stat(ctx, p)
		require.NoError(t, err)
		assert.Equal(t, int64(6), fi.Size())
		assert.Equal(t, fs.FileMode(0o640), fi.Mode().Perm())
		assert.True(t, fi.Mode().IsRegular())
	}},
	{"atomic replace keeps mode and leaves no temp file", func(t *testing.T, ctx context.Context, h remote.Host, dir string) {
		p := filepath.Join(dir, "wp-config.php")
		require.NoError(t, h.WriteFile(ctx, p, []byte("old"), 0o400))
		before, err := h.Stat(ctx, p)
		require.NoError(t, err)
		require.NoError(t, h.WriteFile(ctx, p, []byte("new content"), 0o644))
		b, err := h.ReadFile(ctx, p)
		require.NoError(t, err)
		assert.Equal(t, "new content", string(b))
		fi, err := h.Stat(ctx, p)
		require.NoError(t, err)
		assert.Equal(t, fs.FileMode(0o400), fi.Mode().Perm(), "the existing mode is kept")
		u1, g1, ok1 := remote.Owner(before)
		u2, g2, ok2 := remote.Owner(fi)
		assert.True(t, ok1 && ok2, "owner known")
		assert.Equal(t, [2]int{u1, g1}, [2]int{u2, g2}, "the owner is kept")
		assert.Equal(t, []string{"wp-config.php"}, names(t, h, dir), "no temporary file left")
	}},
	{"head and tail of a large file", func(t *testing.T, ctx context.Context, h remote.Host, dir string) {
		p := filepath.Join(dir, "error.log")
		data := make([]byte, 3<<20)
		rand.Read(data)
		require.NoError(t, h.WriteFile(ctx, p, data, 0o644))
		tail, size, err := h.ReadTail(ctx, p, 4096)
		require.NoError(t, err)
		assert.Equal(t, int64(len(data)), size)
		assert.True(t, bytes.Equal(data[len(data)-4096:], tail), "the last 4096 bytes")
		head, err := h.ReadHead(ctx, p, 8192)
		require.NoError(t, err)
		assert.True(t, bytes.Equal(data[:8192], head), "the first 8192 bytes")
		head, err = h.ReadHead(ctx, p, 200<<10)
		require.NoError(t, err)
		assert.True(t, bytes.Equal(data[:200<<10], head), "the first 200 kB, many SFTP requests side by side")
		head, err = h.ReadHead(ctx, p, 10<<20)
		require.NoError(t, err)
		assert.True(t, bytes.Equal(data, head), "a head longer than the file is the file")
		all, _, err := h.ReadTail(ctx, p, 10<<20)
		require.NoError(t, err)
		assert.Equal(t, len(data), len(all), "a tail longer than the file is the file")
		empty := filepath.Join(dir, "empty.log")
		require.NoError(t, h.WriteFile(ctx, empty, nil, 0o644))
		tail, size, err = h.ReadTail(ctx, empty, 100)
		require.NoError(t, err)
		assert.Empty(t, tail)
		assert.Zero(t, size)
		head, err = h.ReadHead(ctx, empty, 100)
		require.NoError(t, err)
		assert.Empty(t, head)
	}},
	{"read dir sorted and mkdir mode", func(t *testing.T, ctx context.Context, h remote.Host, dir string) {
		for _, n := range []string{"b.php", "a.php", "c"} {
			if n == "c" {
				require.NoError(t, h.Mkdir(ctx, filepath.Join(dir, n), 0o750))
				continue
			}
			require.NoError(t, h.WriteFile(ctx, filepath.Join(dir, n), []byte(n), 0o644))
		}
		list, err := h.ReadDir(ctx, dir)
		require.NoError(t, err)
		require.Len(t, list, 3)
		assert.Equal(t, []string{"a.php", "b.php", "c"}, names(t, h, dir))
		assert.True(t, list[2].IsDir())
		assert.Equal(t, fs.FileMode(0o750), list[2].Mode().Perm())
		err = h.Mkdir(ctx, filepath.Join(dir, "c"), 0o750)
		assert.ErrorIs(t, err, fs.ErrExist, "a second mkdir says the folder exists: it is a lock")
		assert.ErrorIs(t, h.Mkdir(ctx, filepath.Join(dir, "a.php"), 0o750), fs.ErrExist)
	}},
	{"rename over an existing target", func(t *testing.T, ctx context.Context, h remote.Host, dir string) {
		a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
		require.NoError(t, h.WriteFile(ctx, a, []byte("A"), 0o644))
		require.NoError(t, h.WriteFile(ctx, b, []byte("B"), 0o644))
		require.NoError(t, h.Rename(ctx, a, b))
		got, err := h.ReadFile(ctx, b)
		require.NoError(t, err)
		assert.Equal(t, "A", string(got))
		_, err = h.Stat(ctx, a)
		assert.ErrorIs(t, err, fs.ErrNotExist)
	}},
	{"rename a plugin folder", func(t *testing.T, ctx context.Context, h remote.Host, dir string) {
		plugin := filepath.Join(dir, "akismet")
		require.NoError(t, h.Mkdir(ctx, plugin, 0o755))
		require.NoError(t, h.WriteFile(ctx, filepath.Join(plugin, "akismet.php"), []byte("<?php"), 0o644))
		require.NoError(t, h.Rename(ctx, plugin, plugin+"-back"))
		assert.Equal(t, []string{"akismet-back"}, names(t, h, dir))
		b, err := h.ReadFile(ctx, filepath.Join(plugin+"-back", "akismet.php"))
		require.NoError(t, err)
		assert.Equal(t, "<?php", string(b))
	}},
	{"errors name op host and path", func(t *testing.T, ctx context.Context, h remote.Host, dir string) {
		missing := filepath.Join(dir, "missing")
		for _, call := range []func() error{
			func() error { _, err := h.Stat(ctx, missing); return err },
			func() error { _, err := h.ReadFile(ctx, missing); return err },
			func() error { _, _, err := h.ReadTail(ctx, missing, 10); return err },
			func() error { _, err := h.ReadHead(ctx, missing, 10); return err },
			func() error { _, err := h.ReadDir(ctx, missing); return err },
			func() error { return h.Remove(ctx, missing) },
			func() error { return h.Rename(ctx, missing, missing+"2") },
		} {
			err := call()
			require.Error(t, err)
			assert.ErrorIs(t, err, fs.ErrNotExist)
			var oe *remote.OpError
			require.ErrorAs(t, err, &oe)
			assert.Equal(t, h.Name(), oe.Host)
			assert.Contains(t, err.Error(), missing+" on "+h.Name()+": ")
			assert.Equal(t, 1, strings.Count(err.Error(), missing), "the path is said once: %v", err)
		}
	}},
	{"remove and symlinks", func(t *testing.T, ctx context.Context, h remote.Host, dir string) {
		p := filepath.Join(dir, "target.php")
		link := filepath.Join(dir, "link.php")
		require.NoError(t, h.WriteFile(ctx, p, []byte("x"), 0o644))
		_, err := h.Exec(ctx, []string{"ln", "-s", p, link}, nil)
		require.NoError(t, err)
		fi, err := h.Lstat(ctx, link)
		require.NoError(t, err)
		assert.Equal(t, fs.ModeSymlink, fi.Mode()&fs.ModeSymlink)
		fi, err = h.Stat(ctx, link)
		require.NoError(t, err)
		assert.True(t, fi.Mode().IsRegular())
		require.NoError(t, h.Remove(ctx, link))
		require.NoError(t, h.Remove(ctx, p))
		assert.Empty(t, names(t, h, dir))
	}},
	{"exec passes hostile arguments through untouched", func(t *testing.T, ctx context.Context, h remote.Host, dir string) {
		pwned := filepath.Join(dir, "PWNED")
		hostile := []string{"a b", "it's", `"double"`, "$(touch " + pwned + ")", "`touch " + pwned + "`",
			"semi;colon && touch " + pwned, "new\nline", "", "*", "~", `back\slash`, "$HOME", "-n", "tab\there",
			"ünïcödé", "|", "> " + pwned}
		out, err := h.Exec(ctx, append([]string{"printf", `%s\0`}, hostile...), nil)
		require.NoError(t, err)
		got := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
		assert.Equal(t, hostile, got)
		_, err = h.Stat(ctx, pwned)
		assert.ErrorIs(t, err, fs.ErrNotExist, "nothing was interpreted")
	}},
	{"exec exit status stderr and stdin", func(t *testing.T, ctx context.Context, h remote.Host, dir string) {
		_, err := h.Exec(ctx, []string{"sh", "-c", "echo boom >&2; exit 3"}, nil)
		var ee *remote.ExitError
		require.ErrorAs(t, err, &ee)
		assert.Equal(t, 3, ee.Code)
		assert.True(t, strings.HasSuffix(string(ee.Stderr), "boom\n"), "stderr %q", ee.Stderr)
		assert.Contains(t, err.Error(), "exec sh on "+h.Name()+": exit status 3: boom")
		out, err := h.Exec(ctx, []string{"cat"}, strings.NewReader("through stdin"))
		require.NoError(t, err)
		assert.Equal(t, "through stdin", string(out))
		_, err = h.Exec(ctx, []string{"/no/such/program"}, nil)
		assert.Error(t, err)
	}},
	{"exec stops when the context ends", func(t *testing.T, _ context.Context, h remote.Host, dir string) {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := h.Exec(ctx, []string{"sleep", "30"}, nil)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Less(t, time.Since(start), 10*time.Second)
	}},
	{"a cancelled context changes nothing", func(t *testing.T, _ context.Context, h remote.Host, dir string) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		p := filepath.Join(dir, "f")
		assert.ErrorIs(t, h.WriteFile(ctx, p, []byte("x"), 0o644), context.Canceled)
		assert.ErrorIs(t, h.Mkdir(ctx, p, 0o755), context.Canceled)
		_, err := h.Dial(ctx, "tcp", "127.0.0.1:1")
		assert.ErrorIs(t, err, context.Canceled)
		assert.Empty(t, names(t, h, dir))
	}},
	{"dial tcp and unix from the host", func(t *testing.T, ctx context.Context, h remote.Host, dir string) {
		tcp := proctest.ServeLoopback(t, proctest.Echo)
		sock := filepath.Join(dir, "db.sock")
		proctest.ServeUnix(t, sock, proctest.Echo)
		for _, c := range []struct{ network, addr string }{{"tcp", tcp.String()}, {"unix", sock}} {
			conn, err := h.Dial(ctx, c.network, c.addr)
			require.NoError(t, err, c.network)
			_, err = conn.Write([]byte("ping"))
			require.NoError(t, err)
			buf := make([]byte, 4)
			_, err = io.ReadFull(conn, buf)
			require.NoError(t, err)
			assert.Equal(t, "ping", string(buf), c.network)
			conn.Close()
		}
		_, err := h.Dial(ctx, "unix", filepath.Join(dir, "missing.sock"))
		assert.Error(t, err)
	}},
	{"a synced write is on disk", func(t *testing.T, ctx context.Context, h remote.Host, dir string) {
		// Local syncs; OpenSSH's sftp-server has fsync@openssh.com.
		d, ok := h.(remote.Durabler)
		require.True(t, ok, "%T says whether its writes are durable", h)
		assert.True(t, d.Durable())
	}},
}

func names(t *testing.T, h remote.Host, dir string) []string {
	t.Helper()
	list, err := h.ReadDir(context.Background(), dir)
	require.NoError(t, err)
	n := []string{}
	for _, fi := range list {
		n = append(n, fi.Name())
	}
	return n
}

// TestSSHForwardingRefused: a server that refuses forwarding still serves
// files and programs; a dial says clearly why it fails.
func TestSSHForwardingRefused(t *testing.T) {
	t.Parallel()
	f, _ := sshFixture(t, sshtest.Options{DisableForwarding: true})
	ctx := context.Background()
	sock := filepath.Join(f.dir, "mysqld.sock")
	l, err := net.Listen("unix", sock)
	require.NoError(t, err)
	defer l.Close()
	require.NoError(t, os.Chmod(sock, 0o777))

	for _, c := range []struct{ network, addr string }{{"tcp", "127.0.0.1:3306"}, {"unix", sock}} {
		_, err := f.host.Dial(ctx, c.network, c.addr)
		require.Error(t, err)
		assert.ErrorIs(t, err, remote.ErrForwardingRefused, c.network)
		assert.Contains(t, err.Error(), "dial "+c.network+" "+c.addr+" on sshtest: ")
	}
	require.NoError(t, f.host.WriteFile(ctx, filepath.Join(f.dir, "x"), []byte("ok"), 0o644))
	out, err := f.host.Exec(ctx, []string{"echo", "still works"}, nil)
	require.NoError(t, err)
	assert.Equal(t, "still works\n", string(out))
}

// TestSSHConnectionKilled cuts the TCP connection under a live Host: the
// next operation fails with an error callers recognise, and a new Host
// works.
func TestSSHConnectionKilled(t *testing.T) {
	t.Parallel()
	srv := sshtest.NewServer(t, sshtest.Options{})
	p := newCutProxy(t, srv.Addr)
	cfg := srv.ClientConfig(t)
	cfg.HostKeyCallback = ssh.FixedHostKey(srv.HostKey) // the proxy's address is not in known_hosts
	dialHost := func() remote.Host {
		c, err := ssh.Dial("tcp", p.addr, cfg)
		require.NoError(t, err)
		h, err := remote.NewSSH(c, "web1")
		require.NoError(t, err)
		t.Cleanup(func() { h.Close() })
		return h
	}
	ctx := context.Background()
	h := dialHost()
	_, err := h.Stat(ctx, "/")
	require.NoError(t, err)

	p.cut()
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err = h.Stat(ctx, "/")
		if err != nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	require.Error(t, err)
	assert.ErrorIs(t, err, remote.ErrDisconnected)
	assert.Contains(t, err.Error(), "stat / on web1: connection lost")
	_, err = h.Exec(ctx, []string{"true"}, nil)
	assert.ErrorIs(t, err, remote.ErrDisconnected, "every later call says so too")

	h2 := dialHost()
	_, err = h2.Stat(ctx, "/")
	assert.NoError(t, err, "a new Host works")
}

// cutProxy forwards TCP to a server until cut, then drops every
// connection, as a failing network would.
type cutProxy struct {
	addr   string
	conns  chan net.Conn
	frozen chan struct{} // closed by freeze: stop forwarding, close nothing
	done   chan struct{} // closed when the test ends
}

func newCutProxy(t *testing.T, target string) *cutProxy {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &cutProxy{addr: l.Addr().String(), conns: make(chan net.Conn, 64), frozen: make(chan struct{}),
		done: make(chan struct{})}
	t.Cleanup(func() { l.Close(); close(p.done) })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			p.conns <- c
			p.conns <- s
			go func() { p.copy(s, c); s.Close() }()
			go func() { p.copy(c, s); c.Close() }()
		}
	}()
	return p
}

// copy forwards until either side closes or the proxy is frozen; frozen,
// it holds what it read and both connections open.
func (p *cutProxy) copy(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		select {
		case <-p.frozen:
			<-p.done // never forward again
			return
		default:
		}
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *cutProxy) freeze() { close(p.frozen) }

func (p *cutProxy) cut() {
	for {
		select {
		case c := <-p.conns:
			c.Close()
		default:
			return
		}
	}
}

// TestSSHSilentDrop freezes the network without closing anything, as a
// NAT timeout does: keep-alives notice, and a call in flight returns
// ErrDisconnected instead of hanging.
func TestSSHSilentDrop(t *testing.T) {
	t.Parallel()
	srv := sshtest.NewServer(t, sshtest.Options{})
	p := newCutProxy(t, srv.Addr)
	cfg := srv.ClientConfig(t)
	cfg.HostKeyCallback = ssh.FixedHostKey(srv.HostKey)
	c, err := ssh.Dial("tcp", p.addr, cfg)
	require.NoError(t, err)
	h, err := remote.NewSSHKeepAlive(c, "web1", 100*time.Millisecond)
	require.NoError(t, err)
	defer h.Close()
	ctx := context.Background()
	_, err = h.Stat(ctx, "/")
	require.NoError(t, err)

	p.freeze()
	start := time.Now()
	_, err = h.Stat(ctx, "/")
	assert.ErrorIs(t, err, remote.ErrDisconnected)
	assert.Less(t, time.Since(start), 5*time.Second, "noticed by keep-alives, not a TCP timeout")
}
