package sysinfo

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/wpfix/wpfix/remote"
)

// Memory is the host's memory as /proc/meminfo reports it, in bytes.
type Memory struct {
	Total     int64 `json:"total"`
	Available int64 `json:"available"`
	SwapTotal int64 `json:"swap_total"`
	SwapFree  int64 `json:"swap_free"`
}

// HostMemory reads the host's /proc/meminfo (Linux).
func HostMemory(ctx context.Context, h remote.Host) (Memory, error) {
	b, err := h.ReadFile(ctx, "/proc/meminfo")
	if err != nil {
		return Memory{}, fmt.Errorf("read the host's memory: %w", err)
	}
	m, err := ParseMeminfo(b)
	if err != nil {
		return Memory{}, fmt.Errorf("read the host's memory: %w", err)
	}
	return m, nil
}

// ParseMeminfo reads /proc/meminfo: "Name:   1234 kB" lines. A kernel
// older than 3.14 has no MemAvailable; then free, buffers and page cache
// stand in for it.
func ParseMeminfo(b []byte) (Memory, error) {
	v := map[string]int64{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			continue
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil || n < 0 || n > 1<<52 {
			continue
		}
		if len(f) > 1 && strings.EqualFold(f[1], "kB") {
			n *= 1024
		}
		v[name] = n
	}
	if _, ok := v["MemTotal"]; !ok {
		return Memory{}, errors.New("no MemTotal in meminfo")
	}
	m := Memory{Total: v["MemTotal"], Available: v["MemAvailable"], SwapTotal: v["SwapTotal"], SwapFree: v["SwapFree"]}
	if _, ok := v["MemAvailable"]; !ok {
		m.Available = v["MemFree"] + v["Buffers"] + v["Cached"]
	}
	return m, nil
}
