package remote

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"sync"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
)

// SSH is a host reached over one SSH connection: file operations go through
// one SFTP session, programs and dials through channels of the same
// connection.
type SSH struct {
	*sftpFiles
	name   string
	client *ssh.Client

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
	gone := make(chan struct{})
	h := &SSH{sftpFiles: newSFTPFiles(name, sc, gone), name: name, client: client, gone: gone, keepAlive: keepAlive}
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

// Exec runs a program from an argument list. SSH carries only a command
// string, which the user's login shell interprets, so every argument is
// quoted by ShellQuote: nothing in it is expanded or run.
func (h *SSH) Exec(ctx context.Context, args []string, stdin io.Reader) (out []byte, err error) {
	if len(args) == 0 {
		return nil, &OpError{Op: "exec", Host: h.name, Err: errors.New("no program")}
	}
	err = h.do(ctx, "exec", args[0], func() error {
		s, err := h.newSession(ctx)
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

// newSession opens a session channel. A channel opened just as the
// connection ends can wait forever for its answer (the connection's read
// loop has already let go of its channels), so the wait ends with the
// connection, or ctx.
func (h *SSH) newSession(ctx context.Context) (*ssh.Session, error) {
	type result struct {
		s   *ssh.Session
		err error
	}
	done := make(chan result, 1)
	go func() {
		s, err := h.client.NewSession()
		done <- result{s, err}
	}()
	select {
	case r := <-done:
		return r.s, r.err
	case <-h.gone:
		go func() {
			if r := <-done; r.s != nil {
				r.s.Close()
			}
		}()
		return nil, ErrDisconnected
	case <-ctx.Done():
		go func() {
			if r := <-done; r.s != nil {
				r.s.Close()
			}
		}()
		return nil, ctx.Err()
	}
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
	fi, err := h.c.Stat(p)
	return err == nil && fi.Mode()&fs.ModeSocket != 0
}

// Close ends the SFTP session and the connection.
func (h *SSH) Close() error {
	var err error
	h.closeOnce.Do(func() {
		h.c.Close()
		err = h.client.Close()
		<-h.gone
	})
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}
