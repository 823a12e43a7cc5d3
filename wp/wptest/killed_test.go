package wptest_test

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wpfix/wpfix/remote/proctest"
	"github.com/wpfix/wpfix/wp/wptest"
)

// TestHoldStack is the helper process of TestKilledRunLeavesNothing: it
// starts a stack, says where, and waits to be killed.
func TestHoldStack(t *testing.T) {
	if os.Getenv("WPTEST_HOLD_STACK") != "1" {
		t.Skip("helper process: runs only when TestKilledRunLeavesNothing starts it")
	}
	st := wptest.NewStack(t, wptest.Options{})
	fmt.Printf("ROOT=%s\n", st.Root)
	time.Sleep(2 * time.Minute)
}

// TestKilledRunLeavesNothing kills a test process holding a stack with
// SIGKILL, so no cleanup runs, and checks that its daemons die with it or
// are swept by the next stack, with their directory.
func TestKilledRunLeavesNothing(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestHoldStack$", "-test.v")
	cmd.Env = append(os.Environ(), "WPTEST_HOLD_STACK=1")
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })

	var root string
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if r, ok := strings.CutPrefix(sc.Text(), "ROOT="); ok {
			root = r
			break
		}
	}
	require.NotEmpty(t, root, "the helper reported its stack")
	dir := filepath.Dir(root)
	// The daemons' masters name dir on their command line; their workers
	// retitle themselves ("php-fpm: pool wptest"), but share the group.
	groups := map[int]bool{}
	for _, p := range processes() {
		if strings.Contains(p.cmdline, dir) {
			groups[p.pgrp] = true
		}
	}
	require.GreaterOrEqual(t, len(groups), 3, "mariadbd, php-fpm and nginx run")
	require.Greater(t, len(inGroups(groups)), len(groups), "with workers")

	require.NoError(t, cmd.Process.Kill())
	cmd.Wait()
	proctest.NewWorkdir(t, "wptest") // what the next stack does first

	deadline := time.Now().Add(10 * time.Second)
	for len(inGroups(groups)) > 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	assert.Empty(t, inGroups(groups), "no daemon or worker of the killed run is left")
	assert.NoDirExists(t, dir, "the killed run's directory is removed")
}

type process struct {
	pid, pgrp int
	cmdline   string
}

// processes lists the live (not zombie) processes.
func processes() []process {
	var ps []process
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		stat, err := os.ReadFile(filepath.Join(d, "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp ...; comm may hold spaces and parens.
		rest := string(stat[bytes.LastIndexByte(stat, ')')+1:])
		f := strings.Fields(rest)
		if len(f) < 3 || f[0] == "Z" {
			continue
		}
		var p process
		fmt.Sscan(filepath.Base(d), &p.pid)
		fmt.Sscan(f[2], &p.pgrp)
		cmd, _ := os.ReadFile(filepath.Join(d, "cmdline"))
		p.cmdline = strings.ReplaceAll(string(cmd), "\x00", " ")
		ps = append(ps, p)
	}
	return ps
}

// inGroups lists the live processes in the given process groups.
func inGroups(groups map[int]bool) []string {
	var found []string
	for _, p := range processes() {
		if groups[p.pgrp] {
			found = append(found, fmt.Sprintf("%d %s", p.pid, p.cmdline))
		}
	}
	return found
}
