package server_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wpfix/wpfix/remote"
	"github.com/wpfix/wpfix/remote/sshtest"
	"github.com/wpfix/wpfix/wp/wptest"
)

// reach is how a test reaches a stack: a host to read it through (as in
// package wp's tests).
type reach struct {
	name    string
	sshOpts *sshtest.Options // nil: local
}

var reaches = []reach{
	{name: "local"},
	{name: "ssh", sshOpts: &sshtest.Options{}},
}

// open starts a stack reachable the given way and returns it with a Host.
func (r reach) open(t *testing.T, opts wptest.Options) (*wptest.Stack, remote.Host) {
	t.Helper()
	if r.sshOpts == nil {
		return wptest.NewStack(t, opts), remote.NewLocal()
	}
	srv := sshtest.NewServer(t, *r.sshOpts)
	opts.Owner = srv.User
	st := wptest.NewStack(t, opts)
	h, err := remote.Open(context.Background(),
		remote.Target{User: srv.User, Host: srv.Host, Port: srv.Port, Path: st.Root},
		remote.Options{Identity: srv.KeyFile, KnownHosts: srv.KnownHostsFile, ConfigFile: "none"})
	require.NoError(t, err)
	t.Cleanup(func() { h.Close() })
	return st, h
}
