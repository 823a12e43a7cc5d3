package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
)

// User is an account on a host, by its numeric ids, as a file's owner
// names it.
type User struct {
	UID, GID int
}

func (u User) String() string { return "uid " + strconv.Itoa(u.UID) }

// ErrCannotSwitch reports that wpfix cannot act as another user on a
// host: it is not root there, the host has no sftp-server, or the server
// would not start as that user.
var ErrCannotSwitch = errors.New("cannot act as the site's owner")

// sftpServers are where OpenSSH's sftp-server is installed on the systems
// wpfix runs on: Debian and Ubuntu, Red Hat and Fedora, Arch and Alpine,
// FreeBSD, Gentoo.
var sftpServers = []string{
	"/usr/lib/openssh/sftp-server",
	"/usr/libexec/openssh/sftp-server",
	"/usr/lib/ssh/sftp-server",
	"/usr/libexec/sftp-server",
	"/usr/lib64/misc/sftp-server",
	"/usr/lib/misc/sftp-server",
}

// UID returns the user id programs and file operations run as on h: this
// process's effective user locally, else what `id -u` says there.
func UID(ctx context.Context, h Host) (int, error) {
	switch h := h.(type) {
	case *Local:
		return os.Geteuid(), nil
	case *asUser:
		return h.user.UID, nil
	}
	out, err := h.Exec(ctx, []string{"id", "-u"}, nil)
	if err != nil {
		return -1, fmt.Errorf("ask %s which user wpfix runs as: %w", h.Name(), err)
	}
	uid, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		return -1, fmt.Errorf("ask %s which user wpfix runs as: id -u said %q", h.Name(), out)
	}
	return uid, nil
}

// AsUser returns a Host that makes every change to files (WriteFile,
// Rename, Remove, Mkdir), and reads every file under dirs, as u: through
// an SFTP session with OpenSSH's sftp-server started on h as u. Locally
// the server gets u's credentials (its groups from the host's group
// database, none when it has no entry); over SSH, as root, it is started
// through setpriv. So a root run on a site owned by another user can do
// nothing to the site that its user could not do, and leaves no file that
// user cannot manage. Reads elsewhere (the web server's configs and logs,
// /proc), programs and connections stay h's. Close ends the session and
// closes h.
//
// The error is ErrCannotSwitch when h runs as neither root nor u, has no
// sftp-server, or the server does not start as u.
func AsUser(ctx context.Context, h Host, u User, dirs []string) (Host, error) {
	self, err := UID(ctx, h)
	if err != nil {
		return nil, err
	}
	if self != 0 {
		return nil, fmt.Errorf("%w: wpfix runs as uid %d on %s, not root, so it cannot act as %s", ErrCannotSwitch, self, h.Name(), u)
	}
	server, err := findSFTPServer(ctx, h)
	if err != nil {
		return nil, err
	}
	var tries [][]string
	switch h.(type) {
	case *Local:
		tries = [][]string{{server}}
	case *SSH:
		ids := []string{"--reuid=" + strconv.Itoa(u.UID), "--regid=" + strconv.Itoa(u.GID)}
		// --init-groups needs an entry in the passwd database; a
		// site's uid may have none, and then it gets no groups
		tries = [][]string{
			append(append([]string{"setpriv"}, ids...), "--init-groups", "--", server),
			append(append([]string{"setpriv"}, ids...), "--clear-groups", "--", server),
		}
	default:
		return nil, fmt.Errorf("%w: %s cannot start a program as another user", ErrCannotSwitch, h.Name())
	}
	var errs []error
	for _, args := range tries {
		a, err := startAsUser(ctx, h, u, args)
		if err == nil {
			a.dirs = dirs
			return a, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		errs = append(errs, err)
	}
	return nil, fmt.Errorf("%w: %s would not start as %s on %s: %w", ErrCannotSwitch, server, u, h.Name(), errors.Join(errs...))
}

// findSFTPServer returns the first of sftpServers installed on h.
func findSFTPServer(ctx context.Context, h Host) (string, error) {
	for _, p := range sftpServers {
		if fi, err := h.Stat(ctx, p); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%w: %s has no sftp-server (looked at %s); install OpenSSH's (Debian: openssh-sftp-server)",
		ErrCannotSwitch, h.Name(), strings.Join(sftpServers, ", "))
}

// asUser is the Host AsUser returns.
type asUser struct {
	*sftpFiles // changes, and reads under dirs
	base       Host
	user       User
	dirs       []string
	proc       process
	closeOnce  sync.Once
}

var (
	_ Host     = (*asUser)(nil)
	_ Durabler = (*asUser)(nil)
)

// process is the sftp-server AsUser started: how to end it.
type process interface {
	// stop ends the program, killing it if it has not exited by itself
	// once its input is closed.
	stop() error
}

// startAsUser starts args on h as u, with its standard input and output
// connected to an SFTP client.
func startAsUser(ctx context.Context, h Host, u User, args []string) (*asUser, error) {
	var (
		in   io.WriteCloser
		out  io.Reader
		proc process
		err  error
		// stderr of the server, for the error when it does not start
		stderr = &syncBuffer{limitedBuffer: limitedBuffer{max: 4 << 10}}
		ended  = make(chan struct{})
	)
	switch h := h.(type) {
	case *Local:
		in, out, proc, err = startLocal(u, args, stderr, ended)
	case *SSH:
		in, out, proc, err = h.start(args, stderr, ended)
	}
	if err != nil {
		return nil, err
	}
	type result struct {
		c   *sftp.Client
		err error
	}
	done := make(chan result, 1)
	go func() {
		c, err := sftp.NewClientPipe(out, in)
		done <- result{c, err}
	}()
	var r result
	select {
	case r = <-done:
	case <-ctx.Done():
		proc.stop()
		<-done
		return nil, ctx.Err()
	case <-time.After(30 * time.Second):
		proc.stop()
		<-done
		return nil, errors.New("the server did not answer within 30 s")
	}
	if r.err != nil {
		proc.stop()
		if msg := strings.TrimSpace(string(stderr.Bytes())); msg != "" {
			return nil, fmt.Errorf("%s: %s", strings.Join(args, " "), msg)
		}
		return nil, fmt.Errorf("%s: %w", strings.Join(args, " "), r.err)
	}
	files := newSFTPFiles(h.Name(), r.c, ended)
	files.as = u.String()
	return &asUser{sftpFiles: files, base: h, user: u, proc: proc}, nil
}

// localProcess is an sftp-server started on this machine.
type localProcess struct {
	cmd   *exec.Cmd
	ended <-chan struct{}
}

func startLocal(u User, args []string, stderr io.Writer, ended chan struct{}) (io.WriteCloser, io.Reader, process, error) {
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Dir = "/"
	cmd.Env = []string{"PATH=/usr/bin:/bin", "LANG=C"}
	cmd.Stderr = stderr
	cred := &syscall.Credential{Uid: uint32(u.UID), Gid: uint32(u.GID), Groups: []uint32{}}
	if acc, err := user.LookupId(strconv.Itoa(u.UID)); err == nil {
		if gids, err := acc.GroupIds(); err == nil {
			for _, g := range gids {
				if n, err := strconv.ParseUint(g, 10, 32); err == nil {
					cred.Groups = append(cred.Groups, uint32(n))
				}
			}
		}
	}
	// Pdeathsig: a wpfix killed with -9 takes its server with it
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGKILL}
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, nil, nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, nil, nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, nil, nil, fmt.Errorf("start %s as %s: %w", args[0], u, err)
	}
	go func() {
		cmd.Wait()
		close(ended)
	}()
	return in, out, &localProcess{cmd: cmd, ended: ended}, nil
}

func (p *localProcess) stop() error {
	select {
	case <-p.ended:
	case <-time.After(5 * time.Second):
		p.cmd.Process.Kill()
		<-p.ended
	}
	return nil
}

// sshProcess is an sftp-server started in a session of an SSH connection.
type sshProcess struct {
	s     *ssh.Session
	ended <-chan struct{}
}

// start runs args in a new session, its input and output the caller's.
func (h *SSH) start(args []string, stderr io.Writer, ended chan struct{}) (io.WriteCloser, io.Reader, process, error) {
	s, err := h.newSession(context.Background())
	if err != nil {
		return nil, nil, nil, h.normalise(err)
	}
	in, err := s.StdinPipe()
	if err != nil {
		s.Close()
		return nil, nil, nil, err
	}
	out, err := s.StdoutPipe()
	if err != nil {
		s.Close()
		return nil, nil, nil, err
	}
	s.Stderr = stderr
	if err := s.Start(shellCommand(args)); err != nil {
		s.Close()
		return nil, nil, nil, h.normalise(err)
	}
	go func() {
		s.Wait()
		close(ended)
	}()
	return in, out, &sshProcess{s: s, ended: ended}, nil
}

func (p *sshProcess) stop() error {
	select {
	case <-p.ended:
	case <-time.After(5 * time.Second):
		p.s.Signal(ssh.SIGKILL)
		p.s.Close()
	}
	return nil
}

// under reports whether p is one of a.dirs or inside one.
func (a *asUser) under(p string) bool {
	p = path.Clean(p)
	for _, d := range a.dirs {
		if d = path.Clean(d); p == d || strings.HasPrefix(p, strings.TrimSuffix(d, "/")+"/") {
			return true
		}
	}
	return false
}

// Name returns the host's name.
func (a *asUser) Name() string { return a.base.Name() }

// Durable reports whether the server syncs what it writes.
func (a *asUser) Durable() bool { return a.fsync }

// Stat is the owner's under the site's folders, the host's elsewhere.
func (a *asUser) Stat(ctx context.Context, p string) (fs.FileInfo, error) {
	if a.under(p) {
		return a.sftpFiles.Stat(ctx, p)
	}
	return a.base.Stat(ctx, p)
}

// Lstat is the owner's under the site's folders, the host's elsewhere.
func (a *asUser) Lstat(ctx context.Context, p string) (fs.FileInfo, error) {
	if a.under(p) {
		return a.sftpFiles.Lstat(ctx, p)
	}
	return a.base.Lstat(ctx, p)
}

// ReadDir is the owner's under the site's folders, the host's elsewhere.
func (a *asUser) ReadDir(ctx context.Context, p string) ([]fs.FileInfo, error) {
	if a.under(p) {
		return a.sftpFiles.ReadDir(ctx, p)
	}
	return a.base.ReadDir(ctx, p)
}

// ReadFile is the owner's under the site's folders, the host's elsewhere.
func (a *asUser) ReadFile(ctx context.Context, p string) ([]byte, error) {
	if a.under(p) {
		return a.sftpFiles.ReadFile(ctx, p)
	}
	return a.base.ReadFile(ctx, p)
}

// ReadHead is the owner's under the site's folders, the host's elsewhere.
func (a *asUser) ReadHead(ctx context.Context, p string, n int64) ([]byte, error) {
	if a.under(p) {
		return a.sftpFiles.ReadHead(ctx, p, n)
	}
	return a.base.ReadHead(ctx, p, n)
}

// ReadTail is the owner's under the site's folders, the host's elsewhere.
func (a *asUser) ReadTail(ctx context.Context, p string, n int64) ([]byte, int64, error) {
	if a.under(p) {
		return a.sftpFiles.ReadTail(ctx, p, n)
	}
	return a.base.ReadTail(ctx, p, n)
}

// Exec runs a program as the host's user.
func (a *asUser) Exec(ctx context.Context, args []string, stdin io.Reader) ([]byte, error) {
	return a.base.Exec(ctx, args, stdin)
}

// Dial connects from the host.
func (a *asUser) Dial(ctx context.Context, network, addr string) (net.Conn, error) {
	return a.base.Dial(ctx, network, addr)
}

// Close ends the owner's session, then the host's connection.
func (a *asUser) Close() error {
	var err error
	a.closeOnce.Do(func() {
		a.c.Close()
		a.proc.stop()
		err = a.base.Close()
	})
	return err
}

// syncBuffer is a limitedBuffer a program's output goroutine writes while
// the caller may read it.
type syncBuffer struct {
	mu sync.Mutex
	limitedBuffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.limitedBuffer.Write(p)
}

func (b *syncBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]byte(nil), b.limitedBuffer.Bytes()...)
}
