package sysinfo

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/wpfix/wpfix/remote"
)

// Process is a running process: its id and command line.
type Process struct {
	PID  int
	Args []string
}

// maxCmdline bounds what is read of a process's command line or
// environment.
const maxCmdline = 64 << 10

// Processes lists the processes of a Linux host from /proc, in pid order,
// reading their command lines in parallel (over SSH each read is a round
// trip). Kernel threads (empty command line) and processes that end or may
// not be read meanwhile are left out. The error says /proc could not be
// listed: not Linux, or hidden.
func Processes(ctx context.Context, h remote.Host) ([]Process, error) {
	list, err := h.ReadDir(ctx, "/proc")
	if err != nil {
		return nil, fmt.Errorf("list the processes: %w", err)
	}
	var pids []int
	for _, fi := range list {
		if pid, err := strconv.Atoi(fi.Name()); err == nil && pid > 0 {
			pids = append(pids, pid)
		}
	}
	slices.Sort(pids)
	args := make([][]string, len(pids))
	// Over SSH each read is three round trips; 64 at once keep a listing
	// of a few hundred processes to a few batches of them.
	sem := make(chan struct{}, 64)
	var wg sync.WaitGroup
	for i, pid := range pids {
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			b, err := h.ReadHead(ctx, "/proc/"+strconv.Itoa(pid)+"/cmdline", maxCmdline)
			if err == nil {
				args[i] = SplitCmdline(b)
			}
		}()
	}
	wg.Wait()
	var procs []Process
	for i, pid := range pids {
		if len(args[i]) > 0 {
			procs = append(procs, Process{PID: pid, Args: args[i]})
		}
	}
	return procs, nil
}

// SplitCmdline splits /proc/PID/cmdline (or environ) at its NULs. A
// process that set its title leaves it in the first argument, padded with
// NULs.
func SplitCmdline(b []byte) []string {
	b = bytes.TrimRight(b, "\x00")
	if len(b) == 0 {
		return nil
	}
	return strings.Split(string(b), "\x00")
}

// Environ reads a process's environment when the host lets us: only root
// and the process's owner may. nil otherwise.
func Environ(ctx context.Context, h remote.Host, pid int) map[string]string {
	b, err := h.ReadHead(ctx, "/proc/"+strconv.Itoa(pid)+"/environ", maxCmdline)
	if err != nil || len(b) == 0 {
		return nil
	}
	env := map[string]string{}
	for _, kv := range SplitCmdline(b) {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	return env
}
