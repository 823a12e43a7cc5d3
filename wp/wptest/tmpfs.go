package wptest

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
)

// MountTmpfs mounts a tmpfs of size bytes on dir (made if missing), for
// a filesystem a test can fill: a disk that fills mid-run. It is unmounted
// when the test ends, after the cleanups registered later (the processes
// using it) have run. It needs root: without, the test is skipped, saying
// so.
func MountTmpfs(t testing.TB, dir string, size int64) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("wptest: mounting a tmpfs (a disk the test can fill) needs root")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("wptest: %v", err)
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV,
		"size="+strconv.FormatInt(size, 10)+",mode=0755"); err != nil {
		t.Fatalf("wptest: mount a tmpfs of %d bytes on %s: %v", size, dir, err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			// Something still has a file open there: detach it, so the
			// work directory can go, and the kernel frees it once closed.
			if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
				t.Errorf("wptest: unmount the tmpfs on %s: %v", dir, err)
			}
		}
	})
}

// FillDisk fills the filesystem holding dir until a write fails for lack
// of space (ENOSPC), with the file dir/name, and returns the file's path:
// removing it frees the space again. Every block is taken, the last ones
// a page at a time, so no later write of any size fits; on a filesystem
// with a root reserve, run as root, root's share is taken too.
func FillDisk(t testing.TB, dir, name string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		t.Fatalf("wptest: fill the disk: %v", err)
	}
	defer f.Close()
	for _, chunk := range []int{1 << 20, 4096, 512} {
		buf := make([]byte, chunk)
		for {
			if _, err := f.Write(buf); err != nil {
				if !errors.Is(err, syscall.ENOSPC) {
					t.Fatalf("wptest: fill the disk: %v", err)
				}
				break
			}
		}
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatalf("wptest: fill the disk: %v", err)
	}
	if st.Bfree != 0 {
		t.Fatalf("wptest: fill the disk: %d blocks of %s still free", st.Bfree, dir)
	}
	return p
}
