// Package proctest runs real daemons (nginx, php-fpm, MariaDB, sshd) for
// tests: each in its own process group, in a private work directory under
// the system temp dir, stopped by pid when the test ends and killed with the
// test process if it dies first; and servers of a few lines on a loopback
// port or a unix socket (ServeLoopback, ServeUnix, Echo) for tests of what
// dials them. It is the common ground of
// wp/wptest and remote/sshtest and must not be used outside tests.
package proctest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	mathrand "math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Require returns the absolute path of the first of names found in PATH or
// in the sbin directories (daemons live there and root's PATH may lack
// them). When none is found the test is skipped with the apt-get line that
// installs pkg, or, under CI=true, fails: CI must never silently skip the
// stack tests.
func Require(t testing.TB, pkg string, names ...string) string {
	t.Helper()
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
		for _, d := range []string{"/usr/sbin", "/usr/bin", "/usr/local/sbin", "/sbin"} {
			p := filepath.Join(d, n)
			if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
				return p
			}
		}
	}
	msg := fmt.Sprintf("%s not installed (need one of %s); run: sudo apt-get install -y %s",
		pkg, strings.Join(names, ", "), pkg)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	} else {
		t.Skip(msg)
	}
	return ""
}

var (
	portsMu   sync.Mutex
	ports     = map[int]bool{}
	portLocks []*os.File // held open until the process exits
)

// FreePort returns a TCP port on 127.0.0.1 for a daemon to listen on. The
// port lies below the kernel's ephemeral range, so no outgoing connection
// takes it between now and the daemon's bind; it was free when checked; and
// it is reserved against every other test process (go test runs package
// binaries in parallel) by a lock held until this process exits.
func FreePort(t testing.TB) int {
	t.Helper()
	portsMu.Lock()
	defer portsMu.Unlock()
	lo, hi := daemonPortRange()
	// Shared by every user's test runs, like /tmp itself.
	if err := os.MkdirAll(portLockDir, 0o1777); err != nil {
		t.Fatalf("proctest: %v", err)
	}
	os.Chmod(portLockDir, 0o1777) // MkdirAll's mode went through the umask; fails harmlessly if not ours
	for range 1000 {
		p := lo + mathrand.IntN(hi-lo)
		if ports[p] {
			continue
		}
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err != nil {
			continue
		}
		l.Close()
		// flock needs no write access: another user's lock file will do.
		f, err := os.OpenFile(filepath.Join(portLockDir, strconv.Itoa(p)), os.O_CREATE|os.O_RDONLY, 0o644)
		if err != nil {
			continue
		}
		if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
			f.Close()
			continue
		}
		portLocks = append(portLocks, f)
		ports[p] = true
		return p
	}
	t.Fatalf("proctest: no free port in [%d, %d) after 1000 tries", lo, hi)
	return 0
}

var portLockDir = filepath.Join(os.TempDir(), "proctest-ports")

// daemonPortRange is [10000, start of the ephemeral range), or the ports
// above the ephemeral range when that leaves too few, or any port.
func daemonPortRange() (lo, hi int) {
	lo, hi = 10000, 32768
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			eLo, err1 := strconv.Atoi(f[0])
			eHi, err2 := strconv.Atoi(f[1])
			if err1 == nil && err2 == nil {
				switch {
				case eLo-lo >= 2000:
					return lo, eLo
				case 65535-eHi >= 2000:
					return eHi + 1, 65536
				default:
					return 1024, 65536 // best effort: the bind check still applies
				}
			}
		}
	}
	return lo, hi
}

// Workdir is a private directory for one test's daemons. Its path is short
// (unix socket paths are limited to 107 bytes), readable by other users (a
// test user over SSH, a PHP pool user) and removed at cleanup. It records the
// process groups it starts, so a later Workdir can kill what a killed test
// run left behind.
type Workdir struct {
	// Dir is the directory's absolute path.
	Dir string

	t     testing.TB
	mu    sync.Mutex
	procs []*Process
}

const ownerFile = "owner.pid"
const pgidsFile = "pgids"

// NewWorkdir creates a fresh directory /tmp/<prefix>-XXXX and registers its
// removal (after every process started in it has stopped) with t.Cleanup.
// It first sweeps leftovers of earlier runs with the same prefix whose test
// process is gone.
func NewWorkdir(t testing.TB, prefix string) *Workdir {
	t.Helper()
	sweep(prefix)
	dir, err := os.MkdirTemp("", prefix+"-")
	if err != nil {
		t.Fatalf("proctest: %v", err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatalf("proctest: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		t.Fatalf("proctest: %v", err)
	}
	w := &Workdir{Dir: dir, t: t}
	t.Cleanup(func() {
		w.StopAll()
		if os.Getenv("WPFIX_KEEP_TESTDIR") != "" {
			t.Logf("proctest: kept %s (WPFIX_KEEP_TESTDIR is set)", dir)
			return
		}
		os.RemoveAll(dir)
	})
	return w
}

// Path joins elem to the work directory.
func (w *Workdir) Path(elem ...string) string {
	return filepath.Join(append([]string{w.Dir}, elem...)...)
}

// WriteFile writes a file below the work directory, creating parents.
func (w *Workdir) WriteFile(name, content string, perm os.FileMode) string {
	w.t.Helper()
	p := w.Path(name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		w.t.Fatalf("proctest: %v", err)
	}
	if err := os.WriteFile(p, []byte(content), perm); err != nil {
		w.t.Fatalf("proctest: %v", err)
	}
	return p
}

// Process is a daemon started by Workdir.Start.
type Process struct {
	// Name says what the process is, for messages ("nginx").
	Name string
	// Log is the file that collects its stdout and stderr.
	Log string
	// Cmd is the running command.
	Cmd *exec.Cmd

	done chan struct{}
	err  error
}

// Start runs cmd in the foreground of its own process group, with stdout and
// stderr appended to <dir>/<name>.out. The group is killed when the test
// ends (StopAll) and, through the parent-death signal, when the test process
// dies without cleaning up.
func (w *Workdir) Start(name string, cmd *exec.Cmd) *Process {
	w.t.Helper()
	logPath := w.Path(name + ".out")
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		w.t.Fatalf("proctest: %v", err)
	}
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		f.Close()
		w.t.Fatalf("proctest: start %s: %v", name, err)
	}
	p := &Process{Name: name, Log: logPath, Cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		f.Close()
		close(p.done)
	}()
	w.mu.Lock()
	w.procs = append(w.procs, p)
	w.mu.Unlock()
	pg, _ := os.OpenFile(w.Path(pgidsFile), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if pg != nil {
		fmt.Fprintln(pg, cmd.Process.Pid)
		pg.Close()
	}
	return p
}

// Exited reports whether the process has ended, and how.
func (p *Process) Exited() (bool, error) {
	select {
	case <-p.done:
		return true, p.err
	default:
		return false, nil
	}
}

// Stop kills the process group and waits for the leader to be reaped.
// Killing is the right way to end a throwaway daemon: the test needs none of
// its data afterwards and a graceful shutdown only costs time.
func (p *Process) Stop() {
	if ok, _ := p.Exited(); ok {
		return
	}
	syscall.Kill(-p.Cmd.Process.Pid, syscall.SIGKILL)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
	}
}

// StopAll stops every process started in w, newest first.
func (w *Workdir) StopAll() {
	w.mu.Lock()
	procs := w.procs
	w.procs = nil
	w.mu.Unlock()
	for i := len(procs) - 1; i >= 0; i-- {
		procs[i].Stop()
	}
}

// Tail returns the last n bytes of a file, for failure messages.
func Tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(%v)", err)
	}
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// WaitReady polls ready every 20ms until it returns nil. It fails the test
// with the daemon's output when the process exits first or timeout passes.
func WaitReady(t testing.TB, p *Process, timeout time.Duration, ready func(ctx context.Context) error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var last error
	for {
		if ok, err := p.Exited(); ok {
			t.Fatalf("proctest: %s exited before it was ready (%v); its output:\n%s", p.Name, err, Tail(p.Log, 4000))
		}
		if last = ready(ctx); last == nil {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("proctest: %s not ready after %s: %v; its output:\n%s", p.Name, timeout, last, Tail(p.Log, 4000))
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// DialReady is a ready func for WaitReady: the address accepts connections.
func DialReady(network, addr string) func(context.Context) error {
	return func(ctx context.Context) error {
		var d net.Dialer
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return err
		}
		return c.Close()
	}
}

// sweep kills the process groups recorded in leftover work directories of
// earlier runs whose test process is gone, and removes the directories. The
// parent-death signal has usually killed the daemons' masters already, but
// their workers (nginx's, php-fpm's) live on in the group. A group is killed
// only if it still belongs to the directory, so a recycled pid is never hit.
func sweep(prefix string) {
	matches, _ := filepath.Glob(filepath.Join(os.TempDir(), prefix+"-*"))
	for _, dir := range matches {
		b, err := os.ReadFile(filepath.Join(dir, ownerFile))
		if err != nil {
			continue
		}
		owner, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || alive(owner) {
			continue
		}
		pg, _ := os.ReadFile(filepath.Join(dir, pgidsFile))
		for _, f := range strings.Fields(string(pg)) {
			pgid, err := strconv.Atoi(f)
			if err == nil && belongs(pgid, dir) {
				syscall.Kill(-pgid, syscall.SIGKILL)
			}
		}
		os.RemoveAll(dir)
	}
}

// belongs reports whether a member of process group pgid names dir on its
// command line (the daemons' masters do) or holds a file below dir open
// (their workers, which retitle themselves, hold the logs).
func belongs(pgid int, dir string) bool {
	procs, _ := filepath.Glob("/proc/[0-9]*")
	for _, p := range procs {
		stat, err := os.ReadFile(filepath.Join(p, "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp ...: comm may hold spaces and parens.
		f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		if len(f) < 3 || f[2] != strconv.Itoa(pgid) {
			continue
		}
		if cmdline, err := os.ReadFile(filepath.Join(p, "cmdline")); err == nil && bytes.Contains(cmdline, []byte(dir)) {
			return true
		}
		fds, _ := filepath.Glob(filepath.Join(p, "fd", "*"))
		for _, fd := range fds {
			if target, err := os.Readlink(fd); err == nil && strings.HasPrefix(target, dir+"/") {
				return true
			}
		}
	}
	return false
}

func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// ServeLoopback accepts TCP connections on a loopback port until the test
// ends and hands each to serve, in a goroutine of its own; with serve nil
// it holds each one open and says nothing, as a hung server does. Every
// connection still open is closed when the test ends.
func ServeLoopback(t testing.TB, serve func(c net.Conn)) *net.TCPAddr {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("proctest: %v", err)
	}
	accept(t, l, serve)
	return l.Addr().(*net.TCPAddr)
}

// ServeUnix is ServeLoopback on a unix socket at path, which any user may
// connect to: sshd reaches it as the test's SSH user.
func ServeUnix(t testing.TB, path string, serve func(c net.Conn)) {
	t.Helper()
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatalf("proctest: %v", err)
	}
	if err := os.Chmod(path, 0o777); err != nil {
		l.Close()
		t.Fatalf("proctest: %v", err)
	}
	accept(t, l, serve)
}

// Echo serves a connection by sending back what it reads, until it ends.
func Echo(c net.Conn) {
	defer c.Close()
	io.Copy(c, c)
}

// accept hands l's connections to serve until the test ends, then closes
// l and every connection still open.
func accept(t testing.TB, l net.Listener, serve func(c net.Conn)) {
	var (
		mu     sync.Mutex
		conns  []net.Conn
		closed bool
	)
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		closed = true
		for _, c := range conns {
			c.Close()
		}
	})
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			if closed {
				mu.Unlock()
				c.Close()
				return
			}
			conns = append(conns, c)
			mu.Unlock()
			if serve != nil {
				go serve(c)
			}
		}
	}()
}

// DelayProxy forwards TCP from listen (an address such as
// "127.0.0.2:8080", on another loopback address so that the port can be
// the target's own) to target, holding every chunk d in each direction,
// as a network d away does (toxiproxy's latency, in a test's own code).
// It runs until the test ends.
func DelayProxy(t testing.TB, listen, target string, d time.Duration) {
	t.Helper()
	l, err := net.Listen("tcp", listen)
	if err != nil {
		t.Fatalf("proctest: %v", err)
	}
	accept(t, l, func(c net.Conn) {
		defer c.Close()
		s, err := net.Dial("tcp", target)
		if err != nil {
			return
		}
		defer s.Close()
		done := make(chan struct{}, 2)
		go func() { delayCopy(s, c, d); done <- struct{}{} }()
		go func() { delayCopy(c, s, d); done <- struct{}{} }()
		<-done
	})
}

// delayCopy copies src to dst, each chunk d after it was read; chunks
// keep their order, and a slow reader does not add to the delay of the
// next chunk.
func delayCopy(dst, src net.Conn, d time.Duration) {
	type chunk struct {
		at time.Time
		b  []byte
	}
	q := make(chan chunk, 1024)
	go func() {
		defer close(q)
		for {
			buf := make([]byte, 32<<10)
			n, err := src.Read(buf)
			if n > 0 {
				q <- chunk{time.Now().Add(d), buf[:n]}
			}
			if err != nil {
				return
			}
		}
	}()
	for c := range q {
		time.Sleep(time.Until(c.at))
		if _, err := dst.Write(c.b); err != nil {
			return
		}
	}
	if tc, ok := dst.(*net.TCPConn); ok {
		tc.CloseWrite()
	}
}
