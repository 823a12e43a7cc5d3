package sysinfo_test

import (
	"context"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wpfix/wpfix/remote"
	"github.com/wpfix/wpfix/remote/sysinfo"
)

func TestParseDF(t *testing.T) {
	tests := []struct {
		name string
		out  string
		unit int64
		want sysinfo.Disk
		err  bool
	}{
		{name: "coreutils", unit: 1024,
			out:  "Filesystem     1024-blocks     Used Available Capacity Mounted on\n/dev/sda1         41152736 30472364   8544712      79% /\n",
			want: sysinfo.Disk{Filesystem: "/dev/sda1", MountedOn: "/", Total: 41152736 * 1024, Used: 30472364 * 1024, Avail: 8544712 * 1024}},
		{name: "spaces in names", unit: 1024,
			out:  "Filesystem 1024-blocks Used Available Capacity Mounted on\nmy nas:/vol 1 100 40 60 40% /mnt/my  share\n",
			want: sysinfo.Disk{Filesystem: "my nas:/vol 1", MountedOn: "/mnt/my  share", Total: 102400, Used: 40960, Avail: 61440}},
		{name: "full", unit: 1024,
			out:  "Filesystem 1024-blocks Used Available Capacity Mounted on\ntmpfs 1024 1024 0 100% /var/www\n",
			want: sysinfo.Disk{Filesystem: "tmpfs", MountedOn: "/var/www", Total: 1 << 20, Used: 1 << 20}},
		{name: "long name wrapped", unit: 1024,
			out:  "Filesystem 1024-blocks Used Available Capacity Mounted on\n/dev/mapper/vg0-a-very-long-logical-volume-name\n 2048 1024 1024 50% /srv\n",
			want: sysinfo.Disk{Filesystem: "/dev/mapper/vg0-a-very-long-logical-volume-name", MountedOn: "/srv", Total: 2 << 20, Used: 1 << 20, Avail: 1 << 20}},
		{name: "inodes", unit: 1,
			out:  "Filesystem      Inodes  IUsed   IFree IUse% Mounted on\n/dev/sda1      2621440 412345 2209095   16% /\n",
			want: sysinfo.Disk{Filesystem: "/dev/sda1", MountedOn: "/", Total: 2621440, Used: 412345, Avail: 2209095}},
		{name: "no inodes", unit: 1,
			out:  "Filesystem Inodes IUsed IFree IUse% Mounted on\nbtrfs0 - - - - /\n",
			want: sysinfo.Disk{Filesystem: "btrfs0", MountedOn: "/"}},
		{name: "header only", out: "Filesystem 1024-blocks Used Available Capacity Mounted on\n", unit: 1024, err: true},
		{name: "garbage", out: "df: /nope: No such file or directory\nno numbers here at all\n", unit: 1024, err: true},
		{name: "overflow", unit: 1024, err: true,
			out: "Filesystem 1024-blocks Used Available Capacity Mounted on\nx 9223372036854775807 1 1 1% /\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := sysinfo.ParseDF([]byte(tt.out), tt.unit)
			if tt.err {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func FuzzParseDF(f *testing.F) {
	f.Add("Filesystem 1024-blocks Used Available Capacity Mounted on\n/dev/sda1 100 50 50 50% /\n", int64(1024))
	f.Add("h\na b c d e - f g\n", int64(1))
	f.Add("h\n\t x  1 2 3 4% \t/a b \n", int64(1024))
	f.Fuzz(func(t *testing.T, out string, unit int64) {
		if unit <= 0 {
			unit = 1
		}
		d, err := sysinfo.ParseDF([]byte(out), unit)
		if err != nil {
			return
		}
		if d.Total < 0 || d.Used < 0 || d.Avail < 0 {
			t.Fatalf("negative count from %q: %+v", out, d)
		}
		if !strings.Contains(out, strings.TrimSpace(d.MountedOn)) {
			t.Fatalf("mount point %q is not in %q", d.MountedOn, out)
		}
	})
}

func TestParseMeminfo(t *testing.T) {
	m, err := sysinfo.ParseMeminfo([]byte("MemTotal:        8048576 kB\nMemFree:          123456 kB\nMemAvailable:    4024288 kB\nBuffers:           10000 kB\nSwapTotal:       1048572 kB\nSwapFree:         524286 kB\nHugePages_Total:       0\n"))
	require.NoError(t, err)
	assert.Equal(t, sysinfo.Memory{Total: 8048576 << 10, Available: 4024288 << 10, SwapTotal: 1048572 << 10, SwapFree: 524286 << 10}, m)

	old, err := sysinfo.ParseMeminfo([]byte("MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 20 kB\nCached: 300 kB\n"))
	require.NoError(t, err)
	assert.Equal(t, int64(420<<10), old.Available, "before MemAvailable: free, buffers and cache")

	_, err = sysinfo.ParseMeminfo([]byte("not meminfo\n"))
	assert.Error(t, err)
}

func FuzzParseMeminfo(f *testing.F) {
	f.Add("MemTotal: 1000 kB\nMemAvailable: 10 kB\n")
	f.Add("MemTotal: -5 kB\n")
	f.Fuzz(func(t *testing.T, in string) {
		m, err := sysinfo.ParseMeminfo([]byte(in))
		if err != nil {
			return
		}
		if m.Total < 0 || m.Available < 0 || m.SwapTotal < 0 || m.SwapFree < 0 {
			t.Fatalf("negative from %q: %+v", in, m)
		}
	})
}

// TestHostResources reads this machine's disk and memory the way wpfix
// reads a site's host, and checks them against df and the kernel.
func TestHostResources(t *testing.T) {
	if _, err := exec.LookPath("df"); err != nil {
		t.Skip("no df on this machine: DiskSpace runs the host's df")
	}
	ctx := context.Background()
	h := remote.NewLocal()
	dir := t.TempDir()
	d, err := sysinfo.DiskSpace(ctx, h, dir)
	require.NoError(t, err)
	assert.Equal(t, dir, d.Path)
	assert.Positive(t, d.Total)
	assert.LessOrEqual(t, d.Avail, d.Total)
	assert.NotEmpty(t, d.MountedOn)
	assert.True(t, strings.HasPrefix(dir, d.MountedOn), "%s is on %s", dir, d.MountedOn)

	_, err = sysinfo.DiskSpace(ctx, h, "/no/such/folder")
	assert.ErrorContains(t, err, "df /no/such/folder")

	m, err := sysinfo.HostMemory(ctx, h)
	require.NoError(t, err)
	assert.Positive(t, m.Total)
	assert.LessOrEqual(t, m.Available, m.Total)
}
