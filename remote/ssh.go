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
	"sync"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
)

// SSH is a host reached over one SSH connection: file operations go through
// one SFTP session, programs and dials through channels of the same
// connection.
type SSH struct {
	name   string
	client *ssh.Client
	sftp   *sftp.Client

	// posixRename and fsync say whether the server has the OpenSSH
	// extensions: posix-rename@openssh.com replaces a target atomically
	// (plain SFTP rename refuses an existing one), fsync@openssh.com makes
	// a write durable.
	posixRename, fsync bool

	gone      chan struct{} // closed when the connection has ended
	closeOnce sync.Once
	keepAlive time.Duration
}

var _ Host = (*SSH)(nil)

// keepAliveInterval is how often the connection is checked; three
// unanswered checks in a row close it, so a silently dropped connection
// (a NAT timeout, a rebooted host) surfaces as ErrDisconnected instead of
// a hang.
const keepAliveInterval = 15 * time.Second

// NewSSH makes a Host of an established SSH connection, which it takes
// over: Close closes it. name is the host as the user named it, for
// messages.
func NewSSH(client *ssh.Client, name string) (*SSH, error) {
	return newSSH(client, name, keepAliveInterval)
}

func newSSH(client *ssh.Client, name string, keepAlive time.Duration) (*SSH, error) {
	sc, err := sftp.NewClient(client)
	if err != nil {
		client.Close()
		return nil, fmt.Errorf("start SFTP on %s: %w", name, err)
	}
	h := &SSH{name: name, client: client, sftp: sc, gone: make(chan struct{}), keepAlive: keepAlive}
	_, h.posixRename = sc.HasExtension("posix-rename@openssh.com")
	_, h.fsync = sc.HasExtension("fsync@openssh.com")
	go func() {
		client.Wait()
		close(h.gone)
	}()
	go h.checkAlive()
	return h, nil
}

// Name returns the host as the user named it.
func (h *SSH) Name() string { return h.name }

// Durable reports whether the server can sync a written file to disk
// (fsync@openssh.com), as Durabler asks. Without it, WriteFile is atomic
// but a crash of the host right after it may lose the new content.
func (h *SSH) Durable() bool { return h.fsync }

func (h *SSH) checkAlive() {
	t := time.NewTicker(h.keepAlive)
	defer t.Stop()
	missed := 0
	for {
		select {
		case <-h.gone:
			return
		case <-t.C:
		}
		reply := make(chan error, 1)
		go func() {
			_, _, err := h.client.SendRequest("keepalive@openssh.com", true, nil)
			reply <- err
		}()
		select {
		case err := <-reply:
			if err != nil {
				h.client.Close()
				return
			}
			missed = 0
		case <-time.After(h.keepAlive):
			if missed++; missed >= 3 {
				h.client.Close()
				return
			}
		case <-h.gone:
			return
		}
	}
}

func (h *SSH) disconnected() bool {
	select {
	case <-h.gone:
		return true
	default:
		return false
	}
}

// do runs one operation, after checking the context and the connection,
// and makes its error an *OpError with the cause normalised.
func (h *SSH) do(ctx context.Context, op, p string, f func() error) error {
	if err := ctx.Err(); err != nil {
		return &OpError{Op: op, Host: h.name, Path: p, Err: err}
	}
	if h.disconnected() {
		return &OpError{Op: op, Host: h.name, Path: p, Err: ErrDisconnected}
	}
	err := f()
	if err == nil {
		return nil
	}
	return &OpError{Op: op, Host: h.name, Path: p, Err: h.normalise(err)}
}

// normalise turns SFTP status codes into the errors the standard library
// uses, so callers test errors.Is(err, fs.ErrNotExist) whatever the host,
// and any sign of a lost connection into ErrDisconnected.
func (h *SSH) normalise(err error) error {
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
	if h.disconnected() || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed) || errors.Is(err, sftp.ErrSSHFxConnectionLost) {
		return fmt.Errorf("%w: %v", ErrDisconnected, err)
	}
	return err
}

// Stat returns a file's information, following symlinks.
func (h *SSH) Stat(ctx context.Context, p string) (fi fs.FileInfo, err error) {
	err = h.do(ctx, "stat", p, func() error { fi, err = h.sftp.Stat(p); return err })
	return fi, err
}

// Lstat returns a file's information without following a symlink.
func (h *SSH) Lstat(ctx context.Context, p string) (fi fs.FileInfo, err error) {
	err = h.do(ctx, "lstat", p, func() error { fi, err = h.sftp.Lstat(p); return err })
	return fi, err
}

// ReadDir lists a directory, sorted by name.
func (h *SSH) ReadDir(ctx context.Context, p string) (list []fs.FileInfo, err error) {
	err = h.do(ctx, "read directory", p, func() error {
		list, err = h.sftp.ReadDirContext(ctx, p)
		sortByName(list)
		return err
	})
	return list, err
}

// ReadFile returns a whole file.
func (h *SSH) ReadFile(ctx context.Context, p string) (b []byte, err error) {
	err = h.do(ctx, "read", p, func() error {
		f, err := h.sftp.Open(p)
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
func (h *SSH) ReadHead(ctx context.Context, p string, n int64) (head []byte, err error) {
	err = h.do(ctx, "read", p, func() error { head, err = readHead(h.sftp.Open, p, n); return err })
	return head, err
}

// ReadTail returns the last n bytes of a file and its size; only those
// bytes cross the connection.
func (h *SSH) ReadTail(ctx context.Context, p string, n int64) (tail []byte, size int64, err error) {
	err = h.do(ctx, "read", p, func() error { tail, size, err = readTail(h.sftp.Open, p, n); return err })
	return tail, size, err
}

// WriteFile replaces p atomically: a temporary file beside it, given the
// final mode before any data is written, synced where the server allows,
// then renamed over p.
func (h *SSH) WriteFile(ctx context.Context, p string, data []byte, perm fs.FileMode) error {
	return h.do(ctx, "write", p, func() error {
		mode, uid, gid := perm, -1, -1
		if old, err := h.sftp.Stat(p); err == nil {
			mode = old.Mode().Perm()
			uid, gid, _ = Owner(old)
		} else if !errors.Is(h.normalise(err), fs.ErrNotExist) {
			return err
		}
		tmp := tempName(p)
		f, err := h.sftp.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL)
		if err != nil {
			return err
		}
		ok := false
		defer func() {
			if !ok {
				f.Close()
				h.sftp.Remove(tmp)
			}
		}()
		if err := f.Chmod(mode); err != nil {
			return err
		}
		if uid >= 0 {
			// Only root can give a file away; a site user keeps its own.
			if err := f.Chown(uid, gid); err != nil && !errors.Is(h.normalise(err), fs.ErrPermission) &&
				!isFailure(err) {
				return err
			}
		}
		if _, err := f.Write(data); err != nil {
			return err
		}
		if h.fsync {
			if err := f.Sync(); err != nil {
				return err
			}
		}
		if err := f.Close(); err != nil {
			return err
		}
		if err := h.rename(tmp, p); err != nil {
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
func (h *SSH) rename(oldpath, newpath string) error {
	if h.posixRename {
		return h.sftp.PosixRename(oldpath, newpath)
	}
	return h.sftp.Rename(oldpath, newpath)
}

// Rename renames oldpath to newpath, replacing newpath atomically.
func (h *SSH) Rename(ctx context.Context, oldpath, newpath string) error {
	return h.do(ctx, "rename", oldpath, func() error { return h.rename(oldpath, newpath) })
}

// Remove removes a file or an empty directory.
func (h *SSH) Remove(ctx context.Context, p string) error {
	return h.do(ctx, "remove", p, func() error { return h.sftp.Remove(p) })
}

// Mkdir creates a directory with mode perm. Creating a directory is
// atomic, so it serves as a lock: an existing one is fs.ErrExist, which
// OpenSSH's server reports only as a generic failure.
func (h *SSH) Mkdir(ctx context.Context, p string, perm fs.FileMode) error {
	return h.do(ctx, "mkdir", p, func() error {
		if err := h.sftp.Mkdir(p); err != nil {
			if isFailure(err) {
				if _, serr := h.sftp.Lstat(p); serr == nil {
					return fs.ErrExist
				}
			}
			return err
		}
		return h.sftp.Chmod(p, perm)
	})
}

// Exec runs a program from an argument list. SSH carries only a command
// string, which the user's login shell interprets, so every argument is
// quoted by ShellQuote: nothing in it is expanded or run.
func (h *SSH) Exec(ctx context.Context, args []string, stdin io.Reader) (out []byte, err error) {
	if len(args) == 0 {
		return nil, &OpError{Op: "exec", Host: h.name, Err: errors.New("no program")}
	}
	err = h.do(ctx, "exec", args[0], func() error {
		s, err := h.client.NewSession()
		if err != nil {
			return err
		}
		defer s.Close()
		var stdout bytes.Buffer
		stderr := &limitedBuffer{max: maxStderr}
		s.Stdin, s.Stdout, s.Stderr = stdin, &stdout, stderr
		if err := s.Start(shellCommand(args)); err != nil {
			return err
		}
		done := make(chan error, 1)
		go func() { done <- s.Wait() }()
		select {
		case err = <-done:
		case <-ctx.Done():
			s.Signal(ssh.SIGKILL)
			s.Close()
			return ctx.Err()
		}
		out = stdout.Bytes()
		var ee *ssh.ExitError
		if errors.As(err, &ee) {
			code := ee.ExitStatus()
			if ee.Signal() != "" {
				code = -1
			}
			return &ExitError{Code: code, Stderr: stderr.Bytes()}
		}
		return err
	})
	return out, err
}

// Dial connects to an address from the host, through the SSH connection.
func (h *SSH) Dial(ctx context.Context, network, addr string) (net.Conn, error) {
	op := "dial " + network
	if err := ctx.Err(); err != nil {
		return nil, &OpError{Op: op, Host: h.name, Path: addr, Err: err}
	}
	c, err := h.client.DialContext(ctx, network, addr)
	if err == nil {
		return c, nil
	}
	var oce *ssh.OpenChannelError
	if errors.As(err, &oce) {
		switch {
		case oce.Reason == ssh.Prohibited:
			err = fmt.Errorf("%w (AllowTcpForwarding): %v", ErrForwardingRefused, err)
		case network == "unix" && h.isSocket(addr):
			// OpenSSH refuses a unix-socket forward with the same reason as
			// a missing socket; the socket is there, so it is the policy
			// (or nothing listens on it).
			err = fmt.Errorf("%w (AllowStreamLocalForwarding), or nothing listens on the socket: %v",
				ErrForwardingRefused, err)
		}
	} else {
		err = h.normalise(err)
	}
	return nil, &OpError{Op: op, Host: h.name, Path: addr, Err: err}
}

func (h *SSH) isSocket(p string) bool {
	fi, err := h.sftp.Stat(p)
	return err == nil && fi.Mode()&fs.ModeSocket != 0
}

// Close ends the SFTP session and the connection.
func (h *SSH) Close() error {
	var err error
	h.closeOnce.Do(func() {
		h.sftp.Close()
		err = h.client.Close()
		<-h.gone
	})
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}
