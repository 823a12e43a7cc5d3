package logsig_test

import (
	"context"
	"database/sql"
	"errors"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wpfix/wpfix/wp"
	"github.com/wpfix/wpfix/wp/logsig"
	"github.com/wpfix/wpfix/wp/wptest"
)

// logMark is where each of a stack's logs ended before a step.
type logMark map[string]int64

func markLogs(t *testing.T, st *wptest.Stack) logMark {
	t.Helper()
	m := logMark{}
	for _, p := range []string{st.NginxErrorLog, st.FPMLog, st.PHPErrorLog, st.DebugLog} {
		fi, err := os.Stat(p)
		if err == nil {
			m[p] = fi.Size()
		}
	}
	return m
}

// newLines classifies the whole lines log has gained since the mark.
func newLines(t *testing.T, cl *logsig.Classifier, log string, m logMark) []logsig.Line {
	t.Helper()
	b, err := os.ReadFile(log)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	require.NoError(t, err)
	b = b[min(m[log], int64(len(b))):]
	if i := strings.LastIndexByte(string(b), '\n'); i >= 0 {
		b = b[:i]
	} else {
		return nil
	}
	var out []logsig.Line
	for _, l := range strings.Split(string(b), "\n") {
		out = append(out, cl.Classify(l))
	}
	return out
}

// waitSignature waits until log has a new line with signature sig and
// returns it; the workers' logs are written when they die, not when nginx
// answers.
func waitSignature(t *testing.T, cl *logsig.Classifier, log string, m logMark, sig ...string) logsig.Line {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		lines := newLines(t, cl, log, m)
		for _, l := range lines {
			if slices.Contains(sig, l.Signature) {
				return l
			}
		}
		if time.Now().After(deadline) {
			var texts []string
			for _, l := range lines {
				texts = append(texts, l.Signature+"\t"+l.Text)
			}
			t.Fatalf("no line with signature %v in %s; new lines:\n%s", sig, log, strings.Join(texts, "\n"))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestClassifyLiveStack breaks a real stack in each way and classifies the
// real new lines of its logs: the expected signature is there, blaming the
// culprit where the line names it.
func TestClassifyLiveStack(t *testing.T) {
	cl, err := logsig.NewClassifier()
	require.NoError(t, err)

	t.Run("kill worker", func(t *testing.T) {
		t.Parallel()
		st := wptest.NewStack(t, wptest.Options{})
		st.Break(t, wptest.BreakKillWorker)
		m := markLogs(t, st)
		require.Equal(t, 502, st.Get(t, "/").Status)
		l := waitSignature(t, cl, st.FPMLog, m, "fpm-child-killed")
		assert.Equal(t, "fatal", l.Severity)
		assert.Nil(t, l.Blames, "php-fpm does not say what the worker ran")
		assert.False(t, l.Time.IsZero())
		l = waitSignature(t, cl, st.NginxErrorLog, m, "nginx-upstream-reset", "nginx-upstream-closed")
		assert.Equal(t, "upstream", l.Category)
		assert.Nil(t, l.Blames)
	})

	t.Run("timeout", func(t *testing.T) {
		t.Parallel()
		st := wptest.NewStack(t, wptest.Options{RequestTerminateTimeout: 2 * time.Second})
		st.Break(t, wptest.BreakTimeout)
		m := markLogs(t, st)
		require.Equal(t, 502, st.Get(t, "/").Status)
		l := waitSignature(t, cl, st.FPMLog, m, "fpm-request-timeout")
		assert.Contains(t, l.Text, "script '"+filepath.Join(st.Root, "index.php")+"'")
		assert.Nil(t, l.Blames, "the script is index.php: nobody's")
		waitSignature(t, cl, st.FPMLog, m, "fpm-child-terminated")
		waitSignature(t, cl, st.NginxErrorLog, m, "nginx-upstream-reset", "nginx-upstream-closed")
	})

	t.Run("PHP fatals", func(t *testing.T) {
		t.Parallel()
		st := wptest.NewStack(t, wptest.Options{})
		step := func(name string, breakIt func() wp.Extension, undo func(), sig string) {
			t.Helper()
			m := markLogs(t, st)
			culprit := breakIt()
			assert.Equal(t, 500, st.Get(t, "/").Status, name)
			l := waitSignature(t, cl, st.DebugLog, m, sig)
			assert.Equal(t, &culprit, l.Blames, "%s: %s", name, l.Text)
			assert.Equal(t, time.UTC, l.Time.Location(), "debug.log's times name their zone")
			undo()
		}
		step("plugin", func() wp.Extension { return st.Break(t, wptest.BreakFatal)[0] },
			func() { st.SetOption(t, "active_plugins", []string{}) }, "php-uncaught")
		var template string
		st.OptionValue(t, "template", &template)
		step("child theme", func() wp.Extension { return st.Break(t, wptest.BreakChildTheme)[0] },
			func() { st.ActivateTheme(t, template, template) }, "php-uncaught")
		step("mu-plugin", func() wp.Extension {
			st.AddMUPlugin(t, "wptest-mu-fatal.php", wptest.Fatal)
			return wp.Extension{Kind: wp.KindMUPlugin, Name: "wptest-mu-fatal.php"}
		}, func() { require.NoError(t, os.Remove(filepath.Join(st.MUPluginDir, "wptest-mu-fatal.php"))) }, "php-uncaught")
		step("drop-in", func() wp.Extension {
			st.AddDropin(t, "object-cache.php", wptest.Fatal)
			return wp.Extension{Kind: wp.KindDropin, Name: "object-cache.php"}
		}, func() { require.NoError(t, os.Remove(filepath.Join(st.ContentDir, "object-cache.php"))) }, "php-uncaught")
		step("single-file plugin out of memory", func() wp.Extension {
			p := wptest.Plugin{Slug: "wptest-memory", SingleFile: true, Body: "$wptest_big = str_repeat( 'x', 200 * 1024 * 1024 );"}
			st.ActivatePlugins(t, st.AddPlugin(t, p))
			return wp.Extension{Kind: wp.KindPlugin, Name: p.File()}
		}, func() { st.SetOption(t, "active_plugins", []string{}) }, "php-memory-exhausted")
		assert.Equal(t, 200, st.Get(t, "/").Status, "healthy again")
	})

	t.Run("upstream unreachable", func(t *testing.T) {
		t.Parallel()
		st := wptest.NewStack(t, wptest.Options{})
		// nginx's fastcgi_pass names the pool's socket beside the docroot.
		sock := filepath.Join(filepath.Dir(st.Root), "php-fpm.sock")
		require.FileExists(t, sock, "wptest keeps php-fpm's socket beside the docroot")
		st.StopPHP()
		require.NoError(t, os.Remove(sock))

		m := markLogs(t, st)
		assert.Equal(t, 502, st.Get(t, "/").Status)
		waitSignature(t, cl, st.NginxErrorLog, m, "nginx-upstream-missing")

		// A listener that never accepts, with the smallest backlog: the
		// queue overflows as when every worker is busy.
		fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
		require.NoError(t, err)
		require.NoError(t, syscall.Bind(fd, &syscall.SockaddrUnix{Name: sock}))
		require.NoError(t, syscall.Listen(fd, 0))
		require.NoError(t, os.Chmod(sock, 0o666))
		m = markLogs(t, st)
		var wg sync.WaitGroup
		for range 4 {
			wg.Add(1)
			go func() { defer wg.Done(); st.Get(t, "/") }()
		}
		waitSignature(t, cl, st.NginxErrorLog, m, "nginx-upstream-busy")
		syscall.Close(fd) // the queued requests are reset
		wg.Wait()

		m = markLogs(t, st) // the socket file stays, nobody listens
		assert.Equal(t, 502, st.Get(t, "/").Status)
		waitSignature(t, cl, st.NginxErrorLog, m, "nginx-upstream-refused")

		// A backend that reads the request and hangs up.
		require.NoError(t, os.Remove(sock))
		ln, err := net.Listen("unix", sock)
		require.NoError(t, err)
		t.Cleanup(func() { ln.Close() })
		require.NoError(t, os.Chmod(sock, 0o666))
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				buf := make([]byte, 4096)
				c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
				for {
					if _, err := c.Read(buf); err != nil {
						break
					}
				}
				c.Close()
			}
		}()
		m = markLogs(t, st)
		assert.Equal(t, 502, st.Get(t, "/").Status)
		waitSignature(t, cl, st.NginxErrorLog, m, "nginx-upstream-closed")
	})

	t.Run("database", func(t *testing.T) {
		t.Parallel()
		st := wptest.NewStack(t, wptest.Options{})
		root, err := sql.Open("mysql", "root@unix("+st.DBSocket+")/")
		require.NoError(t, err)
		t.Cleanup(func() { root.Close() })
		ctx := context.Background()
		admin, err := root.Conn(ctx)
		require.NoError(t, err)
		defer admin.Close()
		// MariaDB's smallest max_connections is 10; take them all.
		_, err = admin.ExecContext(ctx, "SET GLOBAL max_connections = 10")
		require.NoError(t, err)
		var held []*sql.Conn
		for range 12 {
			if c, err := st.DB().Conn(ctx); err == nil {
				held = append(held, c)
			}
		}
		m := markLogs(t, st)
		assert.Equal(t, 500, st.Get(t, "/").Status)
		l := waitSignature(t, cl, st.DebugLog, m, "db-too-many-connections")
		assert.Nil(t, l.Blames, "core's wpdb is nobody's")
		for _, c := range held {
			c.Close()
		}

		st.StopDatabase()
		m = markLogs(t, st)
		assert.Equal(t, 500, st.Get(t, "/").Status)
		waitSignature(t, cl, st.DebugLog, m, "db-unreachable")
	})
}
