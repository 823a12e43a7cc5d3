package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"strings"
)

// Host is a machine that holds a WordPress site: this one, or one reached
// over SSH. Paths are absolute paths on that machine. Every method that does
// I/O takes a context and stops early when it is cancelled.
type Host interface {
	// Name says which machine this is, for messages: "local" or the SSH
	// host as the user named it.
	Name() string

	// Stat returns a file's information, following symlinks.
	Stat(ctx context.Context, path string) (fs.FileInfo, error)
	// Lstat returns a file's information without following a symlink.
	Lstat(ctx context.Context, path string) (fs.FileInfo, error)
	// ReadDir lists a directory, sorted by name.
	ReadDir(ctx context.Context, path string) ([]fs.FileInfo, error)
	// ReadFile returns a whole file.
	ReadFile(ctx context.Context, path string) ([]byte, error)
	// ReadHead returns the first n bytes of a file (all of it when it is
	// shorter), without reading the rest.
	ReadHead(ctx context.Context, path string, n int64) ([]byte, error)
	// ReadTail returns the last n bytes of a file (all of it when it is
	// shorter) and the file's size, without reading the rest.
	ReadTail(ctx context.Context, path string, n int64) (tail []byte, size int64, err error)
	// WriteFile replaces path atomically: the data goes to a temporary file
	// in the same directory, which is synced and renamed over path. An
	// existing file's mode and, where allowed, owner are kept; a new file
	// gets perm.
	WriteFile(ctx context.Context, path string, data []byte, perm fs.FileMode) error
	// Rename renames oldpath to newpath, atomically replacing newpath if it
	// exists (a directory only if it is empty).
	Rename(ctx context.Context, oldpath, newpath string) error
	// Remove removes a file or an empty directory.
	Remove(ctx context.Context, path string) error
	// Mkdir creates a directory with mode perm.
	Mkdir(ctx context.Context, path string, perm fs.FileMode) error

	// Exec runs a program on the host from an argument list, never a shell
	// string built by the caller, and returns its standard output. A
	// program that exits non-zero returns an *ExitError holding its status
	// and standard error.
	Exec(ctx context.Context, args []string, stdin io.Reader) (stdout []byte, err error)

	// Dial connects to an address from the host: "tcp" host:port, or
	// "unix" socket path, as a program running there would.
	Dial(ctx context.Context, network, addr string) (net.Conn, error)

	// Close releases the connection. The Host is unusable afterwards.
	Close() error
}

// Durabler is a Host that can say whether a synced write is really on
// disk. The journal asks it before it trusts a step it wrote to survive a
// crash of the host: Local syncs the file and its directory, but an SSH
// host can sync only when its SFTP server has fsync@openssh.com, and
// without it WriteFile is atomic yet may lose the new content in a crash.
// It is not a method of Host so that a Host wrapping another need not have
// it; a Host without it says nothing either way.
type Durabler interface {
	// Durable reports whether WriteFile syncs what it wrote to disk before
	// it returns.
	Durable() bool
}

var (
	_ Durabler = (*Local)(nil)
	_ Durabler = (*SSH)(nil)
)

// ErrDisconnected reports that the connection to a host was lost. Callers
// test for it with errors.Is, open a new Host and resume.
var ErrDisconnected = errors.New("connection lost")

// ErrForwardingRefused reports that an SSH server refuses to open
// connections from the host for us (AllowTcpForwarding no), as many shared
// hosts do.
var ErrForwardingRefused = errors.New("the SSH server refuses forwarding")

// OpError is the error of an operation on a host's file or program.
type OpError struct {
	Op   string // "rename", "read", "exec" …
	Host string // Host.Name()
	Path string // the file, or the program
	Err  error
}

// Error says the operation, the path and the host, then why.
func (e *OpError) Error() string {
	return fmt.Sprintf("%s %s on %s: %v", e.Op, e.Path, e.Host, e.Err)
}

// Unwrap returns why, for errors.Is and errors.As.
func (e *OpError) Unwrap() error { return e.Err }

// ExitError is a program that ran and exited non-zero.
type ExitError struct {
	Code   int    // exit status; -1 when killed by a signal
	Stderr []byte // what it wrote to standard error, at most 64 KiB
}

// Error says the status and the last line of standard error: programs put
// their error last, and logins may put noise first (a banner, "Could not
// chdir to home directory").
func (e *ExitError) Error() string {
	msg := fmt.Sprintf("exit status %d", e.Code)
	if s := strings.TrimSpace(string(e.Stderr)); s != "" {
		if i := strings.LastIndexByte(s, '\n'); i >= 0 {
			s = s[i+1:]
		}
		msg += ": " + s
	}
	return msg
}

// ShellQuote quotes one argument for a POSIX shell, so that the shell passes
// it on unchanged whatever it holds: spaces, quotes, $(...), newlines. SSH
// has no argument list, only a command string that the remote user's shell
// interprets; every argument Exec sends over SSH goes through here.
func ShellQuote(arg string) string {
	if arg != "" && strings.IndexFunc(arg, needsQuote) < 0 {
		return arg
	}
	return "'" + strings.ReplaceAll(arg, "'", `'\''`) + "'"
}

func needsQuote(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return false
	}
	return !strings.ContainsRune("@%+=:,./-_", r)
}

// shellCommand joins args, each quoted, into the command line SSH sends.
func shellCommand(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = ShellQuote(a)
	}
	return strings.Join(q, " ")
}
