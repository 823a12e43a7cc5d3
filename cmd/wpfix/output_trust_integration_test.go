package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wpfix/wpfix/agent"
	"github.com/wpfix/wpfix/remote/sshtest"
	"github.com/wpfix/wpfix/wp/wptest"
)

// hostileShown is hostile as the filter shows it: each control character
// a U+FFFD, the rest as written, so the error still names the user.
const hostileShown = "\uFFFD]0;pwned\uFFFD\uFFFD[2J"

// setDBCredentials rewrites the stack's wp-config.php with user and
// password as raw bytes in single-quoted PHP strings, as a site's user
// could, and gives the file back to the site's owner.
func setDBCredentials(t *testing.T, st *wptest.Stack, user, password string) {
	t.Helper()
	p := filepath.Join(st.Root, "wp-config.php")
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	s := strings.Replace(string(b), "define( 'DB_USER', '"+st.DBUser+"' );", "define( 'DB_USER', '"+user+"' );", 1)
	s = strings.Replace(s, "define( 'DB_PASSWORD', '"+st.DBPassword+"' );", "define( 'DB_PASSWORD', '"+password+"' );", 1)
	require.NotEqual(t, string(b), s, "the stack's wp-config.php defines DB_USER and DB_PASSWORD as wptest writes them")
	require.NoError(t, os.WriteFile(p, []byte(s), 0))
}

// TestHostileDBUserError: a wp-config.php whose DB_USER holds escape
// sequences (retitle the terminal, clear the screen) and a wrong password.
// wpfix info and wpfix bisect, run as the user would (the built binary, as
// root on a site owned by its own user, locally, over SSH, and over SSH to
// a server that refuses forwarding, where the host's mysql client echoes
// the user back), fail with exit 3 and an error that says which database
// and user failed, with no control character in it, and change nothing.
func TestHostileDBUserError(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("the site must belong to its own user, which needs root to set up")
	}
	for _, c := range []struct {
		name string
		ssh  *sshtest.Options // nil: wpfix runs on the site's machine, as root
	}{
		{"local as root", nil},
		{"ssh", &sshtest.Options{}},
		{"ssh refusing forwarding", &sshtest.Options{DisableForwarding: true}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			srv := sshtest.NewServer(t, ptrOr(c.ssh))
			st := wptest.NewStack(t, wptest.Options{Owner: srv.User})
			setDBCredentials(t, st, hostile, "wrong-"+st.DBPassword)
			target, flags := st.Root, []string(nil)
			if c.ssh != nil {
				target = srv.User + "@" + srv.Host + ":" + st.Root
				flags = []string{"-i", srv.KeyFile, "-p", strconv.Itoa(srv.Port), "--known-hosts", srv.KnownHostsFile}
			}
			home := t.TempDir()
			for _, args := range [][]string{
				{"info", target},
				{"info", "-v", target},
				{"bisect", "--yes", target},
				{"bisect", "--json", "--yes", target},
			} {
				r := runAs(t, home, append(args, flags...)...)
				assert.Equal(t, exitUnreachable, r.code, "%v: stderr %q", args, r.stderr)
				assertTerminalSafe(t, r.stderr, "%v", args)
				assertTerminalSafe(t, r.stdout, "%v", args)
				assert.Contains(t, r.stderr, "wpfix: connect to database "+st.DBName+" as "+hostileShown+" at ",
					"%v: says which database and user failed", args)
				assert.Contains(t, r.stderr, "Access denied", "%v: and why", args)
				assert.NotContains(t, r.stderr, st.DBPassword, "%v: never the password", args)
			}
			_, err := os.Stat(filepath.Join(st.ContentDir, ".wpfix"))
			assert.ErrorIs(t, err, os.ErrNotExist, "nothing changed on the site")
		})
	}
}

func ptrOr(o *sshtest.Options) sshtest.Options {
	if o == nil {
		return sshtest.Options{}
	}
	return *o
}

// TestHostileLockOwnerError: a lock planted by the site's user, whose
// owner's command holds escape sequences, makes bisect exit 4 with an
// error that says a run holds the lock and whose, cleaned.
func TestHostileLockOwnerError(t *testing.T) {
	t.Parallel()
	b := newBisectSite(t, wptest.Options{})
	dir := filepath.Join(b.st.ContentDir, ".wpfix", "lock")
	require.NoError(t, os.MkdirAll(dir, 0o700))
	owner := fmt.Sprintf(`{"command":%q,"machine":"elsewhere","pid":4242,"since":%q}`,
		"wpfix bisect"+hostile, time.Now().UTC().Format(time.RFC3339))
	owner = strings.ReplaceAll(owner, `\x1b`, `\u001b`)
	owner = strings.ReplaceAll(owner, `\a`, `\u0007`)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "owner"), []byte(owner), 0o600))
	for _, p := range []string{filepath.Join(b.st.ContentDir, ".wpfix"), dir, filepath.Join(dir, "owner")} {
		require.NoError(t, os.Lchown(p, b.srv.UID, b.srv.GID), "planted by the site's user")
	}
	before := b.state(t)

	r := b.run(t, "bisect", "--yes")
	assert.Equal(t, exitLocked, r.code, "stderr %q", r.stderr)
	assertTerminalSafe(t, r.stderr)
	assert.Contains(t, r.stderr, "another wpfix run holds the site's lock (wpfix bisect"+hostileShown+", pid 4242 on elsewhere")
	b.assertAsBefore(t, before, "a locked site is left alone")
}

// TestBisectPlanOneALine: the plan bisect asks about on a real broken
// site lists its candidates one a line, as agent writes them.
func TestBisectPlanOneALine(t *testing.T) {
	t.Parallel()
	st := wptest.NewStack(t, wptest.Options{})
	var files []string
	for _, slug := range []string{"wptest-fine-a", "wptest-fine-b"} {
		files = append(files, st.AddPlugin(t, wptest.Plugin{Slug: slug}))
	}
	st.ActivatePlugins(t, files...)
	st.Break(t, wptest.BreakKillWorker)
	term, _, errs := fakeTerminal("n\n", true)
	o := bisectOptions{Probe: probeOptions{Samples: 1, Timeout: 30 * time.Second}}
	err := runBisect(context.Background(), o, globalOptions{Config: "none"}, st.Root, term)
	require.ErrorIs(t, err, agent.ErrChangedNothing, "stderr: %s", errs)
	for _, name := range []string{"plugin wptest-fine-a", "plugin wptest-fine-b", "plugin wptest-kill-worker"} {
		assert.Contains(t, errs.String(), "\n  "+name+"\n", "one candidate a line")
	}
	assert.NotContains(t, errs.String(), "\uFFFD", "no line break was turned into a mark")
}
