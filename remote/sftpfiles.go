package remote

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"

	"github.com/pkg/sftp"
)

// sftpFiles is a host's files through one SFTP session: the session of an
// SSH connection, or one with an sftp-server started as a site's owner
// (AsUser). Its methods are Host's file methods.
type sftpFiles struct {
	name string // the host, for errors
	c    *sftp.Client

	// posixRename and fsync say whether the server has the OpenSSH
	// extensions: posix-rename@openssh.com replaces a target atomically
	// (plain SFTP rename refuses an existing one), fsync@openssh.com makes
	// a write durable.
	posixRename, fsync bool

	// ended is closed when the session's transport has ended.
	ended <-chan struct{}

	// as, for a session started as another user (AsUser), names that
	// user in the errors that user's permissions cause.
	as string
}

func newSFTPFiles(name string, c *sftp.Client, ended <-chan struct{}) *sftpFiles {
	s := &sftpFiles{name: name, c: c, ended: ended}
	_, s.posixRename = c.HasExtension("posix-rename@openssh.com")
	_, s.fsync = c.HasExtension("fsync@openssh.com")
	return s
}

func (s *sftpFiles) disconnected() bool {
	select {
	case <-s.ended:
		return true
	default:
		return false
	}
}

// do runs one operation, after checking the context and the connection,
// and makes its error an *OpError with the cause normalised.
func (s *sftpFiles) do(ctx context.Context, op, p string, f func() error) error {
	if err := ctx.Err(); err != nil {
		return &OpError{Op: op, Host: s.name, Path: p, Err: err}
	}
	if s.disconnected() {
		return &OpError{Op: op, Host: s.name, Path: p, Err: ErrDisconnected}
	}
	err := f()
	if err == nil {
		return nil
	}
	err = s.normalise(err)
	if s.as != "" && errors.Is(err, fs.ErrPermission) {
		err = &asError{err, s.as}
	}
	return &OpError{Op: op, Host: s.name, Path: p, Err: err}
}

// normalise turns SFTP status codes into the errors the standard library
// uses, so callers test errors.Is(err, fs.ErrNotExist) whatever the host,
// and any sign of a lost connection into ErrDisconnected.
func (s *sftpFiles) normalise(err error) error {
	var st *sftp.StatusError
	if errors.As(err, &st) {
		switch st.FxCode() {
		case sftp.ErrSSHFxNoSuchFile:
			return fs.ErrNotExist
		case sftp.ErrSSHFxPermissionDenied:
			return fs.ErrPermission
		case sftp.ErrSSHFxNoConnection, sftp.ErrSSHFxConnectionLost:
			return fmt.Errorf("%w: %v", ErrDisconnected, err)
		}
		return err
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
		return err
	}
	if s.disconnected() || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed) || errors.Is(err, sftp.ErrSSHFxConnectionLost) {
		return fmt.Errorf("%w: %v", ErrDisconnected, err)
	}
	return err
}

// Stat returns a file's information, following symlinks.
func (s *sftpFiles) Stat(ctx context.Context, p string) (fi fs.FileInfo, err error) {
	err = s.do(ctx, "stat", p, func() error { fi, err = s.c.Stat(p); return err })
	return fi, err
}

// Lstat returns a file's information without following a symlink.
func (s *sftpFiles) Lstat(ctx context.Context, p string) (fi fs.FileInfo, err error) {
	err = s.do(ctx, "lstat", p, func() error { fi, err = s.c.Lstat(p); return err })
	return fi, err
}

// ReadDir lists a directory, sorted by name.
func (s *sftpFiles) ReadDir(ctx context.Context, p string) (list []fs.FileInfo, err error) {
	err = s.do(ctx, "read directory", p, func() error {
		list, err = s.c.ReadDirContext(ctx, p)
		sortByName(list)
		return err
	})
	return list, err
}

// readOnlyFile is a file opened to be read, whose Close is not waited for:
// the request goes out at once, but its answer (for a file only read, an
// error says nothing) would cost a round trip on every read.
type readOnlyFile struct{ *sftp.File }

func (f readOnlyFile) Close() error {
	go f.File.Close()
	return nil
}

// open opens p for reading.
func (s *sftpFiles) open(p string) (readOnlyFile, error) {
	f, err := s.c.Open(p)
	return readOnlyFile{f}, err
}

// ReadFile returns a whole file.
func (s *sftpFiles) ReadFile(ctx context.Context, p string) (b []byte, err error) {
	err = s.do(ctx, "read", p, func() error {
		f, err := s.open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		var buf bytes.Buffer
		if _, err := f.WriteTo(&buf); err != nil {
			return err
		}
		b = buf.Bytes()
		return nil
	})
	return b, err
}

// ReadHead returns the first n bytes of a file; only those cross the
// connection.
func (s *sftpFiles) ReadHead(ctx context.Context, p string, n int64) (head []byte, err error) {
	err = s.do(ctx, "read", p, func() error { head, err = readHead(s.open, p, n); return err })
	return head, err
}

// ReadTail returns the last n bytes of a file and its size; only those
// bytes cross the connection.
func (s *sftpFiles) ReadTail(ctx context.Context, p string, n int64) (tail []byte, size int64, err error) {
	err = s.do(ctx, "read", p, func() error { tail, size, err = readTail(s.open, p, n); return err })
	return tail, size, err
}

// WriteFile replaces p atomically: a temporary file beside it, given the
// final mode before any data is written, synced where the server allows,
// then renamed over p.
func (s *sftpFiles) WriteFile(ctx context.Context, p string, data []byte, perm fs.FileMode) error {
	return s.do(ctx, "write", p, func() error {
		mode, uid, gid := perm, -1, -1
		if old, err := s.c.Stat(p); err == nil {
			mode = old.Mode().Perm()
			uid, gid, _ = Owner(old)
		} else if !errors.Is(s.normalise(err), fs.ErrNotExist) {
			return err
		}
		tmp := tempName(p)
		f, err := s.c.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL)
		if err != nil {
			return err
		}
		ok := false
		defer func() {
			if !ok {
				f.Close()
				s.c.Remove(tmp)
			}
		}()
		if err := f.Chmod(mode); err != nil {
			return err
		}
		if uid >= 0 {
			// Only root can give a file away; a site user keeps its own.
			if err := f.Chown(uid, gid); err != nil && !errors.Is(s.normalise(err), fs.ErrPermission) &&
				!isFailure(err) {
				return err
			}
		}
		if _, err := f.Write(data); err != nil {
			return err
		}
		if s.fsync {
			if err := f.Sync(); err != nil {
				return err
			}
		}
		if err := f.Close(); err != nil {
			return err
		}
		if err := s.rename(tmp, p); err != nil {
			return err
		}
		ok = true
		return nil
	})
}

// isFailure reports SFTP's generic SSH_FX_FAILURE, which OpenSSH answers
// to a chown the user may not make.
func isFailure(err error) bool {
	var st *sftp.StatusError
	return errors.As(err, &st) && st.FxCode() == sftp.ErrSSHFxFailure
}

// rename replaces newpath atomically with posix-rename@openssh.com. A
// server without it has only SFTP's rename, which refuses an existing
// target; wpfix never removes the target first, since a crash in between
// would lose it.
func (s *sftpFiles) rename(oldpath, newpath string) error {
	if s.posixRename {
		return s.c.PosixRename(oldpath, newpath)
	}
	return s.c.Rename(oldpath, newpath)
}

// Rename renames oldpath to newpath, replacing newpath atomically.
func (s *sftpFiles) Rename(ctx context.Context, oldpath, newpath string) error {
	return s.do(ctx, "rename", oldpath, func() error { return s.rename(oldpath, newpath) })
}

// Remove removes a file or an empty directory.
func (s *sftpFiles) Remove(ctx context.Context, p string) error {
	return s.do(ctx, "remove", p, func() error { return s.c.Remove(p) })
}

// Mkdir creates a directory with mode perm. Creating a directory is
// atomic, so it serves as a lock: an existing one is fs.ErrExist, which
// OpenSSH's server reports only as a generic failure.
func (s *sftpFiles) Mkdir(ctx context.Context, p string, perm fs.FileMode) error {
	return s.do(ctx, "mkdir", p, func() error {
		if err := s.c.Mkdir(p); err != nil {
			if isFailure(err) {
				if _, serr := s.c.Lstat(p); serr == nil {
					return fs.ErrExist
				}
			}
			return err
		}
		return s.c.Chmod(p, perm)
	})
}

// asError is a permission error of a session started as another user.
type asError struct {
	err error
	as  string
}

func (e *asError) Error() string {
	return e.err.Error() + " (wpfix acts as " + e.as + ", who owns the site; --as-root acts as root)"
}
func (e *asError) Unwrap() error { return e.err }
