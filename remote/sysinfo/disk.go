package sysinfo

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/wpfix/wpfix/remote"
)

// Disk is the space of the filesystem that holds a path, as POSIX df
// reports it.
type Disk struct {
	// Path is the path asked about; MountedOn the filesystem's mount point.
	Path       string `json:"path"`
	Filesystem string `json:"filesystem"`
	MountedOn  string `json:"mounted_on"`
	// Total, Used and Avail are bytes; Avail is what an unprivileged user
	// may still write (root's reserve excluded).
	Total int64 `json:"total"`
	Used  int64 `json:"used"`
	Avail int64 `json:"avail"`
	// Inodes and InodesFree count files; both are 0 where the filesystem
	// has no fixed number of them (btrfs, some network filesystems).
	Inodes     int64 `json:"inodes"`
	InodesFree int64 `json:"inodes_free"`
}

// DiskSpace asks the host's df (POSIX output, -P) about the filesystem
// holding p: its blocks, then its inodes. A df without -i still gives the
// blocks.
func DiskSpace(ctx context.Context, h remote.Host, p string) (Disk, error) {
	out, err := h.Exec(ctx, []string{"df", "-P", "-k", "--", p}, nil)
	if err != nil {
		return Disk{}, fmt.Errorf("df %s: %w", p, err)
	}
	d, err := ParseDF(out, 1024)
	if err != nil {
		return Disk{}, fmt.Errorf("df %s: %w", p, err)
	}
	d.Path = p
	if out, err := h.Exec(ctx, []string{"df", "-P", "-i", "--", p}, nil); err == nil {
		if in, err := ParseDF(out, 1); err == nil {
			d.Inodes, d.InodesFree = in.Total, in.Avail
		}
	}
	return d, nil
}

// ParseDF reads the output of df -P for one path: a header line, then one
// line "FILESYSTEM TOTAL USED AVAIL CAPACITY% MOUNTPOINT", where the
// filesystem's name and the mount point may hold spaces. The counts are
// multiplied by unit (1024 for -k, 1 for -i). A "-" count, which df
// prints for inodes a filesystem does not have, reads as 0.
func ParseDF(out []byte, unit int64) (Disk, error) {
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	if len(lines) < 2 {
		return Disk{}, errors.New("df printed no filesystem")
	}
	// Some df put a long filesystem name on a line of its own, even with
	// -P: then the next line goes with it.
	line := lines[1]
	if len(strings.Fields(line)) == 1 && len(lines) > 2 {
		line += " " + lines[2]
	}
	f := strings.Fields(line)
	// The capacity, "NN%" or "-", is the fifth field from a point the
	// filesystem's own spaces may move: find it from the left, after four.
	for i := 4; i < len(f); i++ {
		if !isCapacity(f[i]) {
			continue
		}
		var n [3]int64
		ok := true
		for k := range 3 {
			v, err := parseCount(f[i-3+k])
			if err != nil || v > (1<<62)/unit {
				ok = false
				break
			}
			n[k] = v * unit
		}
		if !ok {
			continue
		}
		// The mount point is what follows the capacity, spaces and all: cut
		// it out of the line itself so runs of spaces in it survive.
		rest := line
		for k := 0; k <= i; k++ {
			rest = strings.TrimLeft(rest, " \t")
			rest = rest[len(f[k]):]
		}
		return Disk{
			Filesystem: strings.Join(f[:i-3], " "),
			MountedOn:  strings.TrimSpace(rest),
			Total:      n[0], Used: n[1], Avail: n[2],
		}, nil
	}
	return Disk{}, fmt.Errorf("df: no counts in %q", line)
}

func isCapacity(s string) bool {
	if s == "-" {
		return true
	}
	v, ok := strings.CutSuffix(s, "%")
	if !ok || v == "" {
		return false
	}
	_, err := strconv.ParseUint(v, 10, 32)
	return err == nil
}

func parseCount(s string) (int64, error) {
	if s == "-" {
		return 0, nil
	}
	return strconv.ParseInt(s, 10, 64)
}
