package remote

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"syscall"

	"github.com/pkg/sftp"
)

// Local is the machine wpfix runs on.
type Local struct{}

var _ Host = (*Local)(nil)

// NewLocal returns the local host.
func NewLocal() *Local { return &Local{} }

// Name returns "local".
func (*Local) Name() string { return "local" }

// Durable reports true: WriteFile syncs the file and its directory
// (fsync), so a written file survives a crash of this machine.
func (*Local) Durable() bool { return true }

// opError wraps err for op on path, unwrapping the standard library's own
// *fs.PathError so the path is not said twice.
func opError(host, op, path string, err error) error {
	if err == nil {
		return nil
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		err = le.Err
	}
	return &OpError{Op: op, Host: host, Path: path, Err: err}
}

func (l *Local) do(ctx context.Context, op, path string, f func() error) error {
	if err := ctx.Err(); err != nil {
		return &OpError{Op: op, Host: l.Name(), Path: path, Err: err}
	}
	return opError(l.Name(), op, path, f())
}

// Stat returns a file's information, following symlinks.
func (l *Local) Stat(ctx context.Context, path string) (fi fs.FileInfo, err error) {
	err = l.do(ctx, "stat", path, func() error { fi, err = os.Stat(path); return err })
	return fi, err
}

// Lstat returns a file's information without following a symlink.
func (l *Local) Lstat(ctx context.Context, path string) (fi fs.FileInfo, err error) {
	err = l.do(ctx, "lstat", path, func() error { fi, err = os.Lstat(path); return err })
	return fi, err
}

// ReadDir lists a directory, sorted by name.
func (l *Local) ReadDir(ctx context.Context, path string) (list []fs.FileInfo, err error) {
	err = l.do(ctx, "read directory", path, func() error {
		ents, err := os.ReadDir(path)
		if err != nil {
			return err
		}
		for _, e := range ents {
			fi, err := e.Info()
			if errors.Is(err, fs.ErrNotExist) {
				continue // removed since the listing
			}
			if err != nil {
				return err
			}
			list = append(list, fi)
		}
		return nil
	})
	return list, err
}

// ReadFile returns a whole file.
func (l *Local) ReadFile(ctx context.Context, path string) (b []byte, err error) {
	err = l.do(ctx, "read", path, func() error {
		f, err := openRead(path)
		if err != nil {
			return err
		}
		defer f.Close()
		b, err = io.ReadAll(f)
		return err
	})
	return b, err
}

// ReadHead returns the first n bytes of a file.
func (l *Local) ReadHead(ctx context.Context, path string, n int64) (head []byte, err error) {
	err = l.do(ctx, "read", path, func() error { head, err = readHead(openRead, path, n); return err })
	return head, err
}

// ReadTail returns the last n bytes of a file and its size.
func (l *Local) ReadTail(ctx context.Context, path string, n int64) (tail []byte, size int64, err error) {
	err = l.do(ctx, "read", path, func() error { tail, size, err = readTail(openRead, path, n); return err })
	return tail, size, err
}

// openRead opens path for reading without blocking on a FIFO: one a site's
// user swapped in for a file wpfix checked reads as empty instead of
// hanging the run (O_NONBLOCK changes nothing for a regular file).
func openRead(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
}

// WriteFile replaces path atomically through a synced temporary file.
func (l *Local) WriteFile(ctx context.Context, path string, data []byte, perm fs.FileMode) error {
	return l.do(ctx, "write", path, func() error {
		mode, uid, gid := perm, -1, -1
		if old, err := os.Stat(path); err == nil {
			mode = old.Mode().Perm()
			uid, gid, _ = Owner(old)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		tmp := tempName(path)
		f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return err
		}
		ok := false
		defer func() {
			if !ok {
				f.Close()
				os.Remove(tmp)
			}
		}()
		if _, err := f.Write(data); err != nil {
			return err
		}
		if err := f.Chmod(mode); err != nil {
			return err
		}
		if uid >= 0 {
			if err := f.Chown(uid, gid); err != nil && !errors.Is(err, fs.ErrPermission) {
				return err
			}
		}
		if err := f.Sync(); err != nil {
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
		if err := os.Rename(tmp, path); err != nil {
			return err
		}
		ok = true
		return syncDir(filepath.Dir(path))
	})
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) {
		return err
	}
	return nil
}

// tempName is a fresh name beside path for an atomic replacement. Its
// prefix lets restore find one a crash left behind.
func tempName(path string) string {
	var b [6]byte
	rand.Read(b[:])
	return filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".wpfix-tmp-"+hex.EncodeToString(b[:]))
}

// Rename renames oldpath to newpath, replacing newpath atomically.
func (l *Local) Rename(ctx context.Context, oldpath, newpath string) error {
	return l.do(ctx, "rename", oldpath, func() error { return os.Rename(oldpath, newpath) })
}

// Remove removes a file or an empty directory.
func (l *Local) Remove(ctx context.Context, path string) error {
	return l.do(ctx, "remove", path, func() error { return os.Remove(path) })
}

// Mkdir creates a directory with mode perm (not cut by the umask).
func (l *Local) Mkdir(ctx context.Context, path string, perm fs.FileMode) error {
	return l.do(ctx, "mkdir", path, func() error {
		if err := os.Mkdir(path, perm); err != nil {
			return err
		}
		// the mode through the new folder itself, never through a name
		// someone may have swapped for a symlink meanwhile
		f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_DIRECTORY|syscall.O_NOFOLLOW, 0)
		if err != nil {
			return err
		}
		defer f.Close()
		return f.Chmod(perm)
	})
}

// maxStderr is how much of a program's standard error an ExitError keeps.
const maxStderr = 64 << 10

// Exec runs args[0] with the rest as its arguments, no shell involved.
func (l *Local) Exec(ctx context.Context, args []string, stdin io.Reader) (out []byte, err error) {
	if len(args) == 0 {
		return nil, &OpError{Op: "exec", Host: l.Name(), Err: errors.New("no program")}
	}
	err = l.do(ctx, "exec", args[0], func() error {
		cmd := exec.CommandContext(ctx, args[0], args[1:]...)
		cmd.Stdin = stdin
		var stdout bytes.Buffer
		stderr := &limitedBuffer{max: maxStderr}
		cmd.Stdout, cmd.Stderr = &stdout, stderr
		err := cmd.Run()
		out = stdout.Bytes()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return &ExitError{Code: ee.ExitCode(), Stderr: stderr.Bytes()}
		}
		return err
	})
	return out, err
}

// Dial connects to a TCP address or a unix socket on this machine.
func (l *Local) Dial(ctx context.Context, network, addr string) (net.Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, &OpError{Op: "dial " + network, Host: l.Name(), Path: addr, Err: err}
	}
	var d net.Dialer
	c, err := d.DialContext(ctx, network, addr)
	if err != nil {
		var oe *net.OpError
		if errors.As(err, &oe) {
			err = oe.Err
		}
		return nil, &OpError{Op: "dial " + network, Host: l.Name(), Path: addr, Err: err}
	}
	return c, nil
}

// Close does nothing: the local host holds no connection.
func (*Local) Close() error { return nil }

// Owner returns the numeric owner of a file from its information, as
// returned by either implementation of Host.
func Owner(fi fs.FileInfo) (uid, gid int, ok bool) {
	switch st := fi.Sys().(type) {
	case *syscall.Stat_t:
		return int(st.Uid), int(st.Gid), true
	case *sftp.FileStat:
		return int(st.UID), int(st.GID), true
	}
	return -1, -1, false
}

// limitedBuffer keeps the first max bytes written to it.
type limitedBuffer struct {
	buf bytes.Buffer
	max int
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := b.max - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (b *limitedBuffer) Bytes() []byte { return b.buf.Bytes() }

// sortByName sorts a listing by name, the order ReadDir promises.
func sortByName(list []fs.FileInfo) {
	sort.Slice(list, func(i, j int) bool { return list[i].Name() < list[j].Name() })
}
