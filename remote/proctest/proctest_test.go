package proctest

import (
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// leftover makes a work directory as a killed test run leaves it: owned by
// a process that is gone, with a daemon still running that names the
// directory on its command line.
func leftover(t *testing.T, prefix string, owner int) (dir string, daemon *exec.Cmd) {
	t.Helper()
	dir, err := os.MkdirTemp("", prefix+"-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	require.NoError(t, os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(owner)), 0o644))
	daemon = exec.Command("sh", "-c", "sleep 60; : \"$0\"", dir)
	daemon.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	require.NoError(t, daemon.Start())
	t.Cleanup(func() { syscall.Kill(-daemon.Process.Pid, syscall.SIGKILL); daemon.Wait() })
	require.NoError(t, os.WriteFile(filepath.Join(dir, pgidsFile), []byte(strconv.Itoa(daemon.Process.Pid)+"\n"), 0o644))
	return dir, daemon
}

func deadPid(t *testing.T) int {
	t.Helper()
	c := exec.Command("true")
	require.NoError(t, c.Run())
	return c.Process.Pid
}

func exited(c *exec.Cmd) bool {
	done := make(chan struct{})
	go func() { c.Wait(); close(done) }()
	select {
	case <-done:
		return true
	case <-time.After(5 * time.Second):
		return false
	}
}

func TestNewWorkdirSweepsLeftovers(t *testing.T) {
	prefix := "proctest-sweep-" + strconv.Itoa(os.Getpid())
	staleDir, staleDaemon := leftover(t, prefix, deadPid(t))
	liveDir, liveDaemon := leftover(t, prefix, os.Getpid())

	w := NewWorkdir(t, prefix)

	assert.True(t, exited(staleDaemon), "the daemon of a dead run is killed")
	assert.NoDirExists(t, staleDir, "the dead run's directory is removed")
	assert.DirExists(t, liveDir, "a live run's directory is left alone")
	assert.NoError(t, syscall.Kill(liveDaemon.Process.Pid, 0), "a live run's daemon is left alone")
	assert.DirExists(t, w.Dir)
}

func TestSweepSparesRecycledPids(t *testing.T) {
	prefix := "proctest-recycled-" + strconv.Itoa(os.Getpid())
	dir, _ := leftover(t, prefix, deadPid(t))
	// A process that does not name the directory stands where the recorded
	// pid was: it must survive the sweep.
	other := exec.Command("sleep", "60")
	other.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	require.NoError(t, other.Start())
	t.Cleanup(func() { other.Process.Kill(); other.Wait() })
	require.NoError(t, os.WriteFile(filepath.Join(dir, pgidsFile), []byte(strconv.Itoa(other.Process.Pid)+"\n"), 0o644))

	sweep(prefix)

	assert.NoError(t, syscall.Kill(other.Process.Pid, 0), "an unrelated process is not killed")
	assert.NoDirExists(t, dir)
}

func TestWorkdirStopsItsProcesses(t *testing.T) {
	var p *Process
	var dir string
	t.Run("inner", func(t *testing.T) {
		w := NewWorkdir(t, "proctest-stop")
		dir = w.Dir
		p = w.Start("sleeper", exec.Command("sh", "-c", "sleep 60 & sleep 60"))
		ok, _ := p.Exited()
		require.False(t, ok)
	})
	ok, _ := p.Exited()
	assert.True(t, ok, "stopped when the test ended")
	// The background sleep is killed too, but lingers as a zombie until
	// pid 1 reaps it; kill(-pgid, 0) counts zombies.
	deadline := time.Now().Add(20 * time.Second)
	for syscall.Kill(-p.Cmd.Process.Pid, 0) == nil && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	assert.Error(t, syscall.Kill(-p.Cmd.Process.Pid, 0), "the whole process group is gone")
	assert.NoDirExists(t, dir)
}

func TestFreePort(t *testing.T) {
	lo, hi := daemonPortRange()
	seen := map[int]bool{}
	for range 50 {
		p := FreePort(t)
		require.False(t, seen[p], "port %d handed out twice", p)
		seen[p] = true
		assert.True(t, p >= lo && p < hi, "port %d outside [%d, %d)", p, lo, hi)
		// Another process's lock attempt on the same port fails while we live.
		f, err := os.Open(filepath.Join(portLockDir, strconv.Itoa(p)))
		require.NoError(t, err)
		assert.Error(t, syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB), "port %d is reserved", p)
		f.Close()
	}
}

// recorder stands in for a test to see how Require ends it; unlike the
// real Skip and Fatal, its methods return.
type recorder struct {
	testing.TB
	skipped, failed string
}

func (r *recorder) Helper()              {}
func (r *recorder) Skip(args ...any)     { r.skipped = fmt.Sprint(args...) }
func (r *recorder) Fatal(args ...any)    { r.failed = fmt.Sprint(args...) }
func (r *recorder) Skipf(string, ...any) { panic("not used") }

func TestRequire(t *testing.T) {
	tests := []struct {
		name, ci     string
		names        []string
		wantPath     string
		skips, fails bool
	}{
		{name: "found in PATH", names: []string{"sh"}, wantPath: "sh"},
		{name: "found in sbin", names: []string{"no-such-wpfix-binary", "sh"}, wantPath: "sh"},
		{name: "missing skips", names: []string{"no-such-wpfix-binary"}, skips: true},
		{name: "missing fails under CI", ci: "true", names: []string{"no-such-wpfix-binary"}, fails: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("CI", tt.ci)
			r := &recorder{TB: t}
			got := Require(r, "wpfix-test-pkg", tt.names...)
			if tt.wantPath != "" {
				assert.Equal(t, tt.wantPath, filepath.Base(got))
				assert.True(t, filepath.IsAbs(got), "absolute path, got %q", got)
			}
			line := "run: sudo apt-get install -y wpfix-test-pkg"
			if tt.skips {
				assert.Contains(t, r.skipped, line)
			} else {
				assert.Empty(t, r.skipped)
			}
			if tt.fails {
				assert.Contains(t, r.failed, line)
			} else {
				assert.Empty(t, r.failed)
			}
		})
	}
}

// TestDelayProxy: a round trip through the proxy takes twice its delay,
// and what is sent comes back whole.
func TestDelayProxy(t *testing.T) {
	echo := ServeLoopback(t, Echo)
	listen := "127.0.0.2:" + strconv.Itoa(echo.Port)
	DelayProxy(t, listen, echo.String(), 50*time.Millisecond)
	c, err := net.Dial("tcp", listen)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	if _, err := c.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4)
	if _, err := io.ReadFull(c, buf); err != nil {
		t.Fatal(err)
	}
	if rtt := time.Since(start); rtt < 100*time.Millisecond || string(buf) != "ping" {
		t.Fatalf("round trip %s, %q; want at least 100ms and \"ping\"", rtt, buf)
	}
}
