package wptest

import (
	"context"
	"testing"

	"github.com/wpfix/wpfix/remote"
	"github.com/wpfix/wpfix/remote/sshtest"
)

// A Reach is a way a test reaches a stack: through the local host, or over
// SSH to a server of remote/sshtest's, as wpfix reaches a user's host.
type Reach struct {
	Name string
	SSH  *sshtest.Options // nil: the local host
}

// Open starts a stack reachable r's way and returns it with a Host to read
// it through, closed in t.Cleanup. Over SSH the stack is owned by the SSH
// server's user, as a site is owned by the user wpfix logs in as.
func (r Reach) Open(t testing.TB, opts Options) (*Stack, remote.Host) {
	t.Helper()
	if r.SSH == nil {
		return NewStack(t, opts), remote.NewLocal()
	}
	srv := sshtest.NewServer(t, *r.SSH)
	opts.Owner = srv.User
	st := NewStack(t, opts)
	h, err := remote.Open(context.Background(),
		remote.Target{User: srv.User, Host: srv.Host, Port: srv.Port, Path: st.Root},
		remote.Options{Identity: srv.KeyFile, KnownHosts: srv.KnownHostsFile, ConfigFile: "none"})
	if err != nil {
		t.Fatalf("wptest: open %s over SSH: %v", st.Root, err)
	}
	t.Cleanup(func() { h.Close() })
	return st, h
}
