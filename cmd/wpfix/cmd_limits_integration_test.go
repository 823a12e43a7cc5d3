package main

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wpfix/wpfix/agent"
	"github.com/wpfix/wpfix/wp/wptest"
)

// helperFiles lists the limits helpers in the docroot.
func helperFiles(t *testing.T, root string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(root, "wpfix-limits-*.php"))
	require.NoError(t, err)
	return m
}

// defineInConfig adds a define to the stack's wp-config.php.
func defineInConfig(t *testing.T, st *wptest.Stack, name, value string) {
	t.Helper()
	p := filepath.Join(st.Root, "wp-config.php")
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	s := strings.Replace(string(b), "<?php\n", "<?php\ndefine( '"+name+"', '"+value+"' );\n", 1)
	require.NoError(t, os.WriteFile(p, []byte(s), 0))
}

func findingIDs(rep agent.LimitsReport) []string {
	var ids []string
	for _, f := range rep.Findings {
		ids = append(ids, f.ID)
	}
	return ids
}

// TestLimits runs wpfix limits over SSH against a stack configured to
// conflict three ways: php-fpm kills workers (request_terminate_timeout
// 10s) before PHP's max_execution_time (30s) would stop them, nginx gives
// up (fastcgi_read_timeout 5s) before either, and the pool pins
// memory_limit at 64M below wp-config.php's WP_MEMORY_LIMIT.
func TestLimits(t *testing.T) {
	t.Parallel()
	b := newBisectSite(t, wptest.Options{RequestTerminateTimeout: 10 * time.Second, FastCGIReadTimeout: 5 * time.Second,
		PoolSettings: []string{"php_admin_value[memory_limit] = 64M"}})
	defineInConfig(t, b.st, "WP_MEMORY_LIMIT", "256M")
	before := b.state(t)

	r := b.run(t, "limits", "--json")
	require.Equal(t, 1, r.code, "errors found: exit 1\n%s", r.stderr)
	var rep agent.LimitsReport
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &rep), r.stdout)

	require.NotNil(t, rep.PHP, "PHP's own answer over HTTP; notes: %v", rep.Notes)
	assert.Equal(t, "fpm-fcgi", rep.PHP.SAPI)
	assert.Equal(t, "64M", rep.PHP.INI["memory_limit"])
	assert.Equal(t, "30", rep.PHP.INI["max_execution_time"])
	assert.False(t, rep.PHP.MemoryLimitChangeable, "php_admin_value pins it")
	assert.Equal(t, b.srv.User, rep.PHP.User, "the pool runs as the site's owner")
	assert.NotContains(t, rep.PHP.Source, "t=", "the token is not in the report")
	require.NotNil(t, rep.CLI)
	assert.Equal(t, "cli", rep.CLI.SAPI)
	assert.Equal(t, "256M", rep.WordPress.MemoryLimit.Value)

	var serving []string
	for _, p := range rep.Pools {
		if p.ServesSite {
			serving = append(serving, p.Name)
			assert.Equal(t, 10*time.Second, p.RequestTerminateTimeout)
			assert.Equal(t, 4, p.MaxChildren)
		}
	}
	assert.Equal(t, []string{"wptest"}, serving)
	web := false
	for _, w := range rep.Web {
		if w.ServesSite && w.Server == "nginx" {
			web = true
			assert.Equal(t, 5*time.Second, w.Value)
		}
	}
	assert.True(t, web, "nginx's fastcgi_read_timeout: %+v", rep.Web)
	require.NotNil(t, rep.Disk)
	assert.Positive(t, rep.Disk.Total)
	require.NotNil(t, rep.Memory)

	ids := findingIDs(rep)
	assert.Subset(t, ids, []string{"fpm-terminate-below-execution", "web-timeout-below-php", "wp-memory-above-php-limit"})

	// The helper is gone, and with it every trace of the run.
	assert.Empty(t, helperFiles(t, b.st.Root))
	b.assertAsBefore(t, before, "files and options as before")
	b.assertNoTrace(t, "no lock or journal left")

	// The text form says the same, and --no-http finds the same conflicts
	// from the configs alone.
	r = b.run(t, "limits")
	require.Equal(t, 1, r.code, r.stderr)
	assert.Contains(t, r.stdout, "ERROR fpm-terminate-below-execution: php-fpm pool wptest: request_terminate_timeout 10s is below max_execution_time 30s")
	assert.Contains(t, r.stdout, "502 Bad Gateway")
	t.Logf("wpfix limits:\n%s", r.stdout)

	r = b.run(t, "limits", "-q")
	assert.Equal(t, 1, r.code, "-q: the exit status says it: %s", r.stderr)
	assert.Empty(t, r.stdout)

	r = b.run(t, "limits", "--json", "--no-http")
	require.Equal(t, 1, r.code, r.stderr)
	var static agent.LimitsReport
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &static), r.stdout)
	assert.Nil(t, static.PHP)
	assert.Subset(t, findingIDs(static), []string{"fpm-terminate-below-execution", "web-timeout-below-php", "wp-memory-above-php-limit"})
}

// TestLimitsHealthy: a stack whose limits agree raises no error and exits 0.
func TestLimitsHealthy(t *testing.T) {
	t.Parallel()
	b := newBisectSite(t, wptest.Options{RequestTerminateTimeout: 60 * time.Second})
	r := b.run(t, "limits", "--json")
	require.Equal(t, 0, r.code, r.stderr)
	var rep agent.LimitsReport
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &rep), r.stdout)
	require.NotNil(t, rep.PHP)
	assert.True(t, rep.PHP.MemoryLimitChangeable)
	for _, f := range rep.Findings {
		assert.NotEqual(t, agent.SeverityError, f.Severity, "%+v", f)
	}
	assert.Empty(t, helperFiles(t, b.st.Root))
}

// TestLimitsKilled kills wpfix while its helper is in the docroot (the
// pool's only worker is busy, so the helper's request waits): the file
// stays, and wpfix restore removes it.
func TestLimitsKilled(t *testing.T) {
	t.Parallel()
	b := newBisectSite(t, wptest.Options{MaxChildren: 1})
	b.st.AddMUPlugin(t, "wptest-busy.php", "if ( isset( $_GET['wptest_busy'] ) ) { "+wptest.Sleep(20*time.Second)+" }")
	busy := make(chan struct{})
	go func() {
		defer close(busy)
		if resp, err := http.Get(b.st.URL + "/?wptest_busy=1"); err == nil {
			resp.Body.Close()
		}
	}()
	t.Cleanup(func() { <-busy })
	time.Sleep(500 * time.Millisecond) // the worker is taken

	cmd, out := b.start(t, "limits", "--json")
	b.waitSteps(t, 1, cmd, out)
	deadline := time.Now().Add(10 * time.Second)
	for len(helperFiles(t, b.st.Root)) == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	require.Len(t, helperFiles(t, b.st.Root), 1, "the helper is in place; wpfix said:\n%s", out)
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	cmd.Wait()
	require.Len(t, helperFiles(t, b.st.Root), 1, "killed: the helper was left")

	r := b.run(t, "restore")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Empty(t, helperFiles(t, b.st.Root), "restore removed the helper")
	b.assertNoTrace(t, "no lock or journal left")
}

// TestLimitsReadOnly: with wp-content read-only to the SSH user, wpfix
// cannot journal its helper, so it places none, changes nothing and says
// why; --no-http still reports from the configs.
func TestLimitsReadOnly(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to make wp-content read-only to the SSH user")
	}
	t.Parallel()
	b := newBisectSite(t, wptest.Options{RequestTerminateTimeout: 10 * time.Second})
	require.NoError(t, os.Chmod(b.st.ContentDir, 0o555))
	t.Cleanup(func() { os.Chmod(b.st.ContentDir, 0o755) })
	before := b.state(t)

	r := b.run(t, "limits")
	assert.Equal(t, 3, r.code, r.stderr)
	assert.Contains(t, r.stderr, "permission denied")
	assert.Contains(t, r.stderr, "--no-http")
	t.Logf("wpfix limits said: %s", r.stderr)
	assert.Empty(t, helperFiles(t, b.st.Root))
	assert.Empty(t, diffFiles(before.Files, b.state(t).Files))

	r = b.run(t, "limits", "--no-http")
	assert.Equal(t, 1, r.code, r.stderr)
	assert.Contains(t, r.stdout, "ERROR fpm-terminate-below-execution")
}
