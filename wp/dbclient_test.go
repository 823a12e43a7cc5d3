package wp_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wpfix/wpfix/remote"
	"github.com/wpfix/wpfix/remote/sshtest"
	"github.com/wpfix/wpfix/wp"
	"github.com/wpfix/wpfix/wp/wptest"
)

// clientSite is a stack on a host whose SSH server refuses forwarding, so
// that its database is reached through the host's mysql client, and a way
// to open a new connection to it, as a new run of wpfix would.
type clientSite struct {
	st  *wptest.Stack
	srv *sshtest.Server
}

func newClientSite(t *testing.T) *clientSite {
	t.Helper()
	srv := sshtest.NewServer(t, sshtest.Options{DisableForwarding: true})
	return &clientSite{st: wptest.NewStack(t, wptest.Options{Owner: srv.User}), srv: srv}
}

// connect makes a new connection to the site's host and finds the site.
func (c *clientSite) connect(t *testing.T) (remote.Host, *wp.Site) {
	t.Helper()
	ctx := context.Background()
	h, err := remote.Open(ctx, remote.Target{User: c.srv.User, Host: c.srv.Host, Port: c.srv.Port, Path: c.st.Root},
		remote.Options{Identity: c.srv.KeyFile, KnownHosts: c.srv.KnownHostsFile, ConfigFile: "none"})
	require.NoError(t, err)
	t.Cleanup(func() { h.Close() })
	site, err := wp.Find(ctx, h, c.st.Root, wp.Options{})
	require.NoError(t, err)
	return h, site
}

// open connects anew and opens the site's database, as every run does.
func (c *clientSite) open(t *testing.T) (remote.Host, *wp.DB) {
	t.Helper()
	h, site := c.connect(t)
	db, err := site.OpenDB(context.Background())
	require.NoError(t, err)
	require.NotEmpty(t, wp.ClientOptionDir(db), "the database is reached through the host's mysql client")
	return h, db
}

// optionFiles lists the client's option files in dir that hold this
// stack's password (its DB password is random: no other stack's file
// holds it).
func (c *clientSite) optionFiles(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	require.NoError(t, err)
	var files []string
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), wp.ClientOptionPrefix) || !e.Type().IsRegular() {
			continue
		}
		p := filepath.Join(dir, e.Name())
		if b, err := os.ReadFile(p); err == nil && strings.Contains(string(b), c.st.DBPassword) {
			files = append(files, p)
		}
	}
	return files
}

// waitFile waits for the one option file a running query makes.
func (c *clientSite) waitFile(t *testing.T, dir string) string {
	t.Helper()
	var files []string
	require.Eventually(t, func() bool { files = c.optionFiles(t, dir); return len(files) == 1 },
		15*time.Second, 20*time.Millisecond, "a running query's option file")
	return files[0]
}

// sleep runs SELECT SLEEP(seconds) through the client in the background;
// the channel receives its error.
func sleep(ctx context.Context, db *wp.DB, seconds int) <-chan error {
	done := make(chan error, 1)
	go func() {
		_, _, err := wp.ClientQuery(ctx, db, "SELECT SLEEP("+strconv.Itoa(seconds)+")")
		done <- err
	}()
	return done
}

// TestClientOptionFileLifetime: the password the mysql client needs sits
// in a file only the SSH user can read, only while a query runs; none is
// there while the database is open and idle.
func TestClientOptionFileLifetime(t *testing.T) {
	t.Parallel()
	c := newClientSite(t)
	_, db := c.open(t)
	dir := wp.ClientOptionDir(db)
	assert.Empty(t, c.optionFiles(t, dir), "no option file while no query runs")

	done := sleep(context.Background(), db, 2)
	f := c.waitFile(t, dir)
	fi, err := os.Lstat(f)
	require.NoError(t, err)
	assert.True(t, fi.Mode().IsRegular())
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	assert.Equal(t, uint32(c.srv.UID), fi.Sys().(*syscall.Stat_t).Uid, "owned by the user wpfix logs in as")
	require.NoError(t, <-done)
	assert.NoFileExists(t, f, "removed when its query ends")
	require.NoError(t, db.Close())

	// DB_CHARSET is written unquoted: a line break in it would add options
	// of the site's choosing (plugin-dir, default-auth: code the client
	// loads, as root when root runs wpfix). It is refused.
	p := filepath.Join(c.st.Root, "wp-config.php")
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	evil := strings.Replace(string(b), "define( 'DB_CHARSET', 'utf8mb4' );",
		"define( 'DB_CHARSET', \"utf8mb4\\nplugin-dir=/tmp\\ndefault-auth=evil\" );", 1)
	require.NotEqual(t, string(b), evil)
	require.NoError(t, os.WriteFile(p, []byte(evil), 0))
	_, site := c.connect(t)
	_, err = site.OpenDB(context.Background())
	assert.ErrorContains(t, err, `DB_CHARSET is "utf8mb4\nplugin-dir=/tmp\ndefault-auth=evil": only letters, digits and _ are allowed`)
	assert.Empty(t, c.optionFiles(t, dir), "no option file was written")
}

// TestClientOptionFileCancelled: a query cancelled midway (Ctrl-C) has its
// shell killed, and the option file is removed at once, not when the query
// would have ended.
func TestClientOptionFileCancelled(t *testing.T) {
	t.Parallel()
	c := newClientSite(t)
	_, db := c.open(t)
	dir := wp.ClientOptionDir(db)
	ctx, cancel := context.WithCancel(context.Background())
	done := sleep(ctx, db, 60)
	f := c.waitFile(t, dir)
	cancel()
	select {
	case err := <-done:
		assert.ErrorIs(t, err, context.Canceled)
	case <-time.After(20 * time.Second):
		t.Fatal("the cancelled query did not return")
	}
	assert.NoFileExists(t, f, "removed as the query is cancelled")
}

// TestClientOptionFileDroppedConnection: with the connection gone midway
// (wpfix killed, the network dropped), the host's own shell removes the
// option file when the client ends.
func TestClientOptionFileDroppedConnection(t *testing.T) {
	t.Parallel()
	c := newClientSite(t)
	h, db := c.open(t)
	dir := wp.ClientOptionDir(db)
	done := sleep(context.Background(), db, 2)
	f := c.waitFile(t, dir)
	require.NoError(t, h.Close())
	assert.Error(t, <-done, "the query fails with its connection")
	assert.Eventually(t, func() bool { _, err := os.Lstat(f); return os.IsNotExist(err) },
		20*time.Second, 100*time.Millisecond, "removed on the host when the client ends")
}

// holders are the processes with f as their option file (the client) and
// their parents (the shell that made it).
func holders(t *testing.T, f string) []int {
	t.Helper()
	procs, err := os.ReadDir("/proc")
	require.NoError(t, err)
	var pids []int
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", p.Name(), "cmdline"))
		if err != nil || !strings.Contains(string(b), "\x00--defaults-extra-file="+f+"\x00") {
			continue
		}
		pids = append(pids, pid)
		stat, err := os.ReadFile(filepath.Join("/proc", p.Name(), "stat"))
		require.NoError(t, err)
		// pid (comm) state ppid …; comm may hold spaces, so after the last ')'.
		fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
		ppid, err := strconv.Atoi(fields[1])
		require.NoError(t, err)
		pids = append(pids, ppid)
	}
	return pids
}

// TestClientOptionFileSwept: the connection drops and the shell holding an
// option file and its client are killed with kill -9, so nothing removed
// it. The next run's opening of the database through the client sweeps it;
// a younger file (a concurrent run's query, in flight), another user's
// file and a symlink are left alone, and so is what the symlink points to.
func TestClientOptionFileSwept(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("killing the SSH user's processes and planting other users' files needs root")
	}
	c := newClientSite(t)
	h, db := c.open(t)
	dir := wp.ClientOptionDir(db)
	done := sleep(context.Background(), db, 60)
	f := c.waitFile(t, dir)
	var pids []int
	require.Eventually(t, func() bool { pids = holders(t, f); return len(pids) == 2 }, 10*time.Second, 20*time.Millisecond,
		"the client holding %s and its shell", f)
	// Stopped first, so that the hang-up the dropped connection sends
	// stays pending (the shell would remove the file on it) until kill -9.
	for _, pid := range pids {
		require.NoError(t, syscall.Kill(pid, syscall.SIGSTOP), "kill -STOP %d", pid)
	}
	require.NoError(t, h.Close(), "the connection drops: wpfix cannot remove the file")
	<-done
	for _, pid := range pids {
		require.NoError(t, syscall.Kill(pid, syscall.SIGKILL), "kill -9 %d", pid)
	}
	time.Sleep(500 * time.Millisecond)
	require.FileExists(t, f, "left behind by kill -9")
	// Only a file older than a minute is swept: a younger one may be a
	// concurrent run's query whose client has yet to read it.
	old := time.Now().Add(-2 * time.Minute)
	require.NoError(t, os.Chtimes(f, old, old))

	plant := func(name string, uid int, mtime time.Time) string {
		p := filepath.Join(dir, wp.ClientOptionPrefix+name+strconv.Itoa(os.Getpid()))
		require.NoError(t, os.WriteFile(p, []byte("[client]\n"), 0o600))
		require.NoError(t, os.Lchown(p, uid, uid))
		require.NoError(t, os.Chtimes(p, mtime, mtime))
		t.Cleanup(func() { os.Remove(p) })
		return p
	}
	young := plant("young-", c.srv.UID, time.Now())
	others := plant("others-", 0, old)
	target := filepath.Join(t.TempDir(), "root-file")
	require.NoError(t, os.WriteFile(target, []byte("root's"), 0o600))
	link := filepath.Join(dir, wp.ClientOptionPrefix+"link-"+strconv.Itoa(os.Getpid()))
	require.NoError(t, os.Symlink(target, link))
	require.NoError(t, os.Lchown(link, c.srv.UID, c.srv.GID))
	t.Cleanup(func() { os.Remove(link) })

	_, db2 := c.open(t)
	assert.NoFileExists(t, f, "swept by the next run")
	assert.FileExists(t, young, "a concurrent run's file in flight is left")
	assert.FileExists(t, others, "another user's file is left")
	_, err := os.Lstat(link)
	assert.NoError(t, err, "a symlink is not a file of ours")
	b, err := os.ReadFile(target)
	require.NoError(t, err)
	assert.Equal(t, "root's", string(b), "nothing outside is touched")
	_, ok, err := wp.ClientQuery(context.Background(), db2, "SELECT 1")
	assert.True(t, ok)
	assert.NoError(t, err, "the new run works")
}
