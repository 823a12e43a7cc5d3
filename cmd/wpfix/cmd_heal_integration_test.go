package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wpfix/wpfix/agent/notify/notifytest"
	"github.com/wpfix/wpfix/wp/wptest"
)

// receiver is a webhook receiver on loopback that keeps every body.
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	bodies map[string][]map[string]any // by path
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{bodies: map[string][]map[string]any{}}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		var m map[string]any
		json.Unmarshal(b, &m)
		if m == nil {
			m = map[string]any{"raw": string(b)}
		}
		r.mu.Lock()
		r.bodies[req.URL.Path] = append(r.bodies[req.URL.Path], m)
		r.mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) got(path string) []map[string]any {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]map[string]any(nil), r.bodies[path]...)
}

// healChannels is one of each channel heal notifies: a JSON webhook, a
// Slack and a Discord webhook, SMTP with STARTTLS and AUTH, and sendmail
// (msmtp relaying to the same SMTP server), given as a command line
// runs them from cron: flags, a config file, and the password in the
// environment.
type healChannels struct {
	hooks    *receiver
	smtp     *notifytest.SMTPServer
	password string
	config   string
	args     []string
}

func newHealChannels(t *testing.T, dir string, uid, gid int) *healChannels {
	c := &healChannels{hooks: newReceiver(t), password: "s3cret-" + strconv.Itoa(os.Getpid())}
	c.smtp = notifytest.NewSMTPServer(t, "wpfix", c.password)
	msmtp := requireProgram(t, "msmtp")
	rc := c.smtp.Msmtprc(t, "wpfix", c.password, uid, gid)
	// copies in dir, for a site user who cannot enter the server's folder
	for _, f := range []*string{&rc, &c.smtp.CertFile} {
		b, err := os.ReadFile(*f)
		require.NoError(t, err)
		dst := filepath.Join(dir, filepath.Base(*f))
		require.NoError(t, os.WriteFile(dst, b, 0o600))
		require.NoError(t, os.Chown(dst, uid, gid))
		*f = dst
	}
	c.config = filepath.Join(dir, "wpfix.toml")
	require.NoError(t, os.WriteFile(c.config, []byte(`[heal]
confirm_interval = "50ms"

[[notify]]
email = ["smtp-admin@example.org"]
from = "wpfix@example.org"
smtp = "smtp://wpfix@127.0.0.1:`+strconv.Itoa(c.smtp.Port)+`"
ca_file = "`+c.smtp.CertFile+`"

[[notify]]
email = ["sendmail-admin@example.org"]
sendmail = "`+msmtp+`"
sendmail_args = ["-C", "`+rc+`"]
`), 0o644))
	require.NoError(t, os.Chown(c.config, uid, gid))
	c.args = []string{"--config", c.config,
		"--notify", c.hooks.URL + "/json",
		"--notify", "slack+" + c.hooks.URL + "/slack",
		"--notify", "discord+" + c.hooks.URL + "/discord"}
	return c
}

// requireProgram finds a program a package installs, or skips (fails under CI).
func requireProgram(t *testing.T, name string) string {
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not installed", name)
		}
		t.Skipf("%s is not installed", name)
	}
	return p
}

// assertFixedOnce checks one fixed notice on every channel, naming the
// culprit and the restore command.
func (c *healChannels) assertFixedOnce(t *testing.T, culprit, restore string) {
	t.Helper()
	j := c.hooks.got("/json")
	require.Len(t, j, 1, "one JSON notice")
	assert.Equal(t, "fixed", j[0]["event"])
	assert.EqualValues(t, 1, j[0]["version"])
	assert.Equal(t, restore, j[0]["restore"])
	assert.Contains(t, j[0]["culprits"], map[string]any{"kind": "plugin", "name": culprit})
	for _, p := range []struct{ path, key string }{{"/slack", "text"}, {"/discord", "content"}} {
		got := c.hooks.got(p.path)
		require.Len(t, got, 1, "one notice on %s", p.path)
		assert.Contains(t, got[0][p.key], culprit, p.path)
		assert.Contains(t, got[0][p.key], restore, p.path)
	}
	msgs := c.smtp.WaitMessages(t, 2)
	require.Len(t, msgs, 2, "one mail by SMTP, one by sendmail")
	to := map[string]bool{}
	for _, m := range msgs {
		assert.Contains(t, m, culprit)
		assert.Contains(t, m, restore)
		for _, a := range []string{"smtp-admin@example.org", "sendmail-admin@example.org"} {
			if strings.Contains(m, "To: <"+a+">") || strings.Contains(m, "To: "+a) {
				to[a] = true
			}
		}
	}
	assert.Len(t, to, 2, "both recipients")
	assert.Contains(t, c.smtp.AuthLog(), "tls=True ok=True", "AUTH over STARTTLS")
}

// runHealAs runs wpfix heal as uid (the site's user: the shared-host cron
// job) or, with uid -1, as the test itself.
func runHealAs(t *testing.T, uid, gid int, home string, env []string, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	bin := wpfixBin
	if uid >= 0 {
		bin = binFor(t)
	}
	cmd := exec.Command(bin, append([]string{"heal"}, args...)...)
	cmd.Env = append(append(os.Environ(), "HOME="+home, "SSH_AUTH_SOCK="), env...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if uid >= 0 {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
	}
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		require.NoError(t, err)
	}
	return result{code: cmd.ProcessState.ExitCode(), stdout: stdout.String(), stderr: stderr.String()}
}

var (
	userBinOnce sync.Once
	userBin     string
)

// binFor is a copy of the binary any user may run: the one the tests
// build sits in a folder only root may enter.
func binFor(t *testing.T) string {
	userBinOnce.Do(func() {
		dir, err := os.MkdirTemp("", "wpfix-bin-")
		if err != nil {
			return
		}
		os.Chmod(dir, 0o755)
		b, err := os.ReadFile(wpfixBin)
		if err != nil {
			return
		}
		if os.WriteFile(filepath.Join(dir, "wpfix"), b, 0o755) == nil {
			userBin = filepath.Join(dir, "wpfix")
		}
	})
	require.NotEmpty(t, userBin, "a copy of the binary for the site's user")
	return userBin
}

// TestHealCLI: the cron job of issue 13, through the built binary on the
// real stack: locally as the site's own user with the database by its
// socket (a shared host: no root, no SSH), and over SSH. A healthy site:
// 20 runs print nothing, notify nothing. A plugin that kills its worker:
// fixed, one fixed notice on each channel naming it and the restore
// command; later runs are silent. The SMTP password is in no output and
// no state.
func TestHealCLI(t *testing.T) {
	requireRoot(t)
	for _, transport := range []string{"local as the site's user", "ssh"} {
		t.Run(transport, func(t *testing.T) {
			t.Parallel()
			b := newBisectSite(t, wptest.Options{DBSocket: true})
			home := t.TempDir()
			require.NoError(t, os.Chown(home, b.srv.UID, b.srv.GID))
			uid, gid := b.srv.UID, b.srv.GID
			target, extra := b.st.Root, []string(nil)
			if transport == "ssh" {
				uid, gid, home = -1, -1, b.home
				target, extra = b.target(), b.flags
			}
			// the config, and msmtp's (run by the site's user: locally, or
			// over SSH), readable by that user
			dir, err := os.MkdirTemp("", "wpfix-heal-")
			require.NoError(t, err)
			t.Cleanup(func() { os.RemoveAll(dir) })
			require.NoError(t, os.Chmod(dir, 0o755))
			c := newHealChannels(t, dir, b.srv.UID, b.srv.GID)
			env := []string{"WPFIX_SMTP_PASSWORD=" + c.password}
			heal := func(args ...string) result {
				return runHealAs(t, uid, gid, home, env, append(append(append(args, c.args...), target), extra...)...)
			}
			var outputs []string
			for i := range 20 {
				r := heal()
				require.Equal(t, 0, r.code, "run %d: %s", i, r.stderr)
				assert.Empty(t, r.stdout+r.stderr, "run %d: a healthy site, nothing to say", i)
			}
			assert.Empty(t, c.hooks.got("/json"))
			assert.Empty(t, c.smtp.Messages(t))

			culprits := b.st.Break(t, wptest.BreakKillWorker)
			r := heal()
			require.Equal(t, 0, r.code, "stdout: %s\nstderr: %s", r.stdout, r.stderr)
			assert.Empty(t, r.stderr, "every notice went out")
			outputs = append(outputs, r.stdout, r.stderr)
			assert.Contains(t, r.stdout, "fixed")
			assert.Equal(t, 200, b.st.Get(t, "/").Status)
			c.assertFixedOnce(t, culprits[0].Name, "wpfix restore "+target)
			for range 3 {
				r := heal()
				assert.Equal(t, 0, r.code, r.stderr)
				assert.Empty(t, r.stdout+r.stderr)
			}
			assert.Len(t, c.hooks.got("/json"), 1, "later runs are silent")

			r = heal("--status")
			require.Equal(t, 0, r.code, r.stderr)
			assert.Contains(t, r.stdout, "disabled plugin "+culprits[0].Name)
			r = heal("--json")
			require.Equal(t, 0, r.code, r.stderr)
			var rep map[string]any
			require.NoError(t, json.Unmarshal([]byte(r.stdout), &rep), r.stdout)
			assert.Equal(t, "healthy", rep["state"])
			outputs = append(outputs, r.stdout)

			state, err := os.ReadFile(filepath.Join(b.st.ContentDir, ".wpfix", "heal.json"))
			require.NoError(t, err)
			for _, o := range append(outputs, string(state)) {
				assert.NotContains(t, o, c.password, "the SMTP password is never shown")
			}
			fi, err := os.Stat(filepath.Join(b.st.ContentDir, ".wpfix", "heal.json"))
			require.NoError(t, err)
			assert.Equal(t, uint32(b.srv.UID), fi.Sys().(*syscall.Stat_t).Uid, "the state is the site user's")
		})
	}
}

// TestHealKilled: heal killed with SIGKILL in the middle of its bisect;
// the next run restores first, then heals again.
func TestHealKilled(t *testing.T) {
	b := newBisectSite(t, wptest.Options{})
	culprits := b.st.Break(t, wptest.BreakKillWorker)
	cmd, out := b.start(t, "heal", "--confirm", "1")
	b.waitSteps(t, 3, cmd, out)
	require.NoError(t, cmd.Process.Kill())
	cmd.Wait()

	r := b.run(t, "heal", "--confirm", "1", "--json")
	require.Equal(t, 0, r.code, "stdout: %s\nstderr: %s", r.stdout, r.stderr)
	var rep struct {
		State  string   `json:"state"`
		Notes  []string `json:"notes"`
		Bisect *report  `json:"bisect"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &rep), r.stdout)
	assert.Equal(t, "fixed", rep.State)
	assert.Contains(t, rep.Notes, "an interrupted wpfix run had left changes on the site: they were undone first")
	require.NotNil(t, rep.Bisect)
	assert.Equal(t, culprits, rep.Bisect.LeftDisabled)
	assert.Equal(t, 200, b.st.Get(t, "/").Status)
}

// TestHealOutsideCLI: php-fpm stopped: heal does not bisect, changes
// nothing, sends one broken notice naming the cause and exits 1; the runs
// after it are quiet until the reminder; php-fpm started again: one
// recovered notice. A pause keeps heal from acting until --resume.
func TestHealOutsideCLI(t *testing.T) {
	b := newBisectSite(t, wptest.Options{})
	hooks := newReceiver(t)
	heal := func(args ...string) result {
		return b.run(t, append([]string{"heal", "--config", "none", "--confirm", "2", "--confirm-interval", "50ms",
			"--notify", hooks.URL + "/json"}, args...)...)
	}
	b.st.StopPHP()
	r := heal()
	assert.Equal(t, 1, r.code, "stdout: %s\nstderr: %s", r.stdout, r.stderr)
	assert.Contains(t, r.stdout, "broken")
	got := hooks.got("/json")
	require.Len(t, got, 1)
	assert.Equal(t, "broken", got[0]["event"])
	require.NotEmpty(t, got[0]["causes"])
	assert.Equal(t, "fpm-down", got[0]["causes"].([]any)[0].(map[string]any)["id"])
	assert.NoFileExists(t, filepath.Join(b.st.ContentDir, ".wpfix", "journal"), "nothing changed")
	for range 2 {
		r := heal()
		assert.Equal(t, 1, r.code)
		assert.Empty(t, r.stdout+r.stderr, "quiet until --remind")
	}
	assert.Len(t, hooks.got("/json"), 1)

	b.st.StartPHP(t)
	r = heal()
	assert.Equal(t, 0, r.code, r.stderr)
	require.Len(t, hooks.got("/json"), 2)
	assert.Equal(t, "recovered", hooks.got("/json")[1]["event"])

	r = b.run(t, "heal", "--pause", "1h")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "heal does nothing on")
	b.st.Break(t, wptest.BreakKillWorker)
	r = heal()
	assert.Equal(t, 0, r.code, r.stderr)
	assert.Empty(t, r.stdout, "paused: nothing done, nothing said")
	assert.Equal(t, 502, b.st.Get(t, "/").Status, "nothing done")
	r = b.run(t, "heal", "--resume")
	require.Equal(t, 0, r.code, r.stderr)
	r = heal()
	assert.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "fixed")
}

// TestHealEdgesCLI: one bad answer among good ones changes nothing and
// notifies no one; --dry-run says what heal would do and changes nothing;
// the ping URL hears /start and then the bare URL or /fail; a channel that
// fails is reported on stderr and the fix stands.
func TestHealEdgesCLI(t *testing.T) {
	b := newBisectSite(t, wptest.Options{})
	hooks := newReceiver(t)
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close() // a port nothing listens on
	heal := func(args ...string) result {
		return b.run(t, append([]string{"heal", "--config", "none", "--confirm-interval", "50ms",
			"--notify", hooks.URL + "/json", "--ping", hooks.URL + "/ping"}, args...)...)
	}
	pings := func() []string {
		var p []string
		for _, path := range []string{"/ping/start", "/ping", "/ping/fail"} {
			for range hooks.got(path) {
				p = append(p, path)
			}
		}
		return p
	}

	b.st.Break(t, wptest.BreakFlaky)
	for range 3 {
		r := heal("--confirm", "3")
		assert.Equal(t, 0, r.code, r.stderr)
		assert.Empty(t, r.stdout+r.stderr)
	}
	assert.Empty(t, hooks.got("/json"), "one bad answer is not a broken site")
	assert.NoDirExists(t, filepath.Join(b.st.ContentDir, ".wpfix"))
	assert.Len(t, hooks.got("/ping/start"), 3)
	assert.Len(t, hooks.got("/ping"), 3, "each healthy run pings the bare URL")

	// a site that fails every time
	require.NoError(t, os.RemoveAll(filepath.Join(b.st.PluginDir, "wptest-flaky")))
	b.st.Break(t, wptest.BreakKillWorker)
	r := heal("--dry-run")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stdout, "dry run")
	assert.Equal(t, 502, b.st.Get(t, "/").Status, "nothing changed")
	assert.Empty(t, hooks.got("/json"), "no one notified")

	r = heal("--notify", dead.URL+"/hook")
	assert.Equal(t, 0, r.code, "stdout: %s\nstderr: %s", r.stdout, r.stderr)
	assert.Contains(t, r.stdout, "fixed")
	assert.Contains(t, r.stderr, "notify", "the failed channel is reported")
	assert.Len(t, hooks.got("/json"), 1, "the other channel got its notice")
	assert.Equal(t, 200, b.st.Get(t, "/").Status, "the fix stands")
	assert.NotEmpty(t, pings())
}
