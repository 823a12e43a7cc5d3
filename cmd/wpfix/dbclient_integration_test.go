package main

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wpfix/wpfix/remote/sshtest"
	"github.com/wpfix/wpfix/wp/wptest"
)

// TestRestoreSweepsClientOptionFile: an option file of the mysql client
// fallback left on the host by a run killed with kill -9 (a 0600 file of
// the SSH user's, holding the password, two minutes old) is removed by
// `wpfix restore` on a host that refuses forwarding, which also says there
// is nothing to restore; a file of another user with the same name pattern
// is left alone. wp's TestClientOptionFileSwept makes the leftover the real
// way, killing the shell that held it.
func TestRestoreSweepsClientOptionFile(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("planting a file as the SSH user and another as root needs root")
	}
	srv := sshtest.NewServer(t, sshtest.Options{DisableForwarding: true})
	st := wptest.NewStack(t, wptest.Options{Owner: srv.User})
	old := time.Now().Add(-2 * time.Minute)
	plant := func(name string, uid int) string {
		p := filepath.Join("/tmp", "wpfix-db."+name+strconv.Itoa(os.Getpid()))
		require.NoError(t, os.WriteFile(p, []byte("[client]\npassword=\""+st.DBPassword+"\"\n"), 0o600))
		require.NoError(t, os.Lchown(p, uid, uid))
		require.NoError(t, os.Chtimes(p, old, old))
		t.Cleanup(func() { os.Remove(p) })
		return p
	}
	left := plant("killed-", srv.UID)
	others := plant("root-", 0)

	r := runAs(t, t.TempDir(), "restore", srv.User+"@"+srv.Host+":"+st.Root,
		"-i", srv.KeyFile, "-p", strconv.Itoa(srv.Port), "--known-hosts", srv.KnownHostsFile)
	require.Equal(t, exitOK, r.code, "stderr %q", r.stderr)
	assert.Contains(t, r.stdout, "Nothing to restore")
	assert.NoFileExists(t, left, "swept by restore")
	assert.FileExists(t, others, "another user's file is left")
}
