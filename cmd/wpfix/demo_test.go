package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wpfix/wpfix/remote/sshtest"
	"github.com/wpfix/wpfix/wp/wptest"
)

// TestDemo is what `make demo` shows: a throwaway WordPress site with
// twelve plugins, one of which kills its PHP worker, so nginx answers 502;
// wpfix check sees it broken, wpfix bisect finds the plugin over SSH and
// leaves the site healthy, wpfix check sees it answer 200 again. wpfix runs
// on a terminal, as a person runs it: it shows its progress and asks
// before it changes the site, and the demo answers y. The transcript goes
// to the test's log; under WPFIX_DEMO=1 (make demo) to standard output,
// with nothing of the test harness (runTests).
func TestDemo(t *testing.T) {
	tr := newTranscript(t)
	srv := sshtest.NewServer(t, sshtest.Options{})
	st := wptest.NewStack(t, wptest.Options{Owner: srv.User})
	var files []string
	for _, slug := range []string{"contact-form", "seo-tools", "gallery", "cache-helper", "social-share",
		"backup-pro", "slider", "analytics", "forms-extra", "shop-addons", "newsletter"} {
		files = append(files, st.AddPlugin(t, wptest.Plugin{Slug: slug}))
	}
	st.ActivatePlugins(t, files...)
	st.Break(t, wptest.BreakKillWorker)
	r := st.Get(t, "/")
	require.Equal(t, 502, r.Status, "the broken site, before wpfix")

	// The host demo is an ssh_config entry, as a person's ~/.ssh/config
	// would name a server; HOME is a directory of the demo's own, so
	// nothing of the real ~/.ssh or ~/.config/wpfix is read.
	home, err := os.MkdirTemp("", "wpfix-demo-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(home) })
	sshConfig := filepath.Join(home, "ssh_config")
	require.NoError(t, os.WriteFile(sshConfig, fmt.Appendf(nil,
		"Host demo\n    HostName %s\n    Port %d\n    User %s\n    IdentityFile %s\n    UserKnownHostsFile %s\n",
		srv.Host, srv.Port, srv.User, srv.KeyFile, srv.KnownHostsFile), 0o644))
	tr.run(t, exec.Command("cat", sshConfig))

	target := "demo:" + st.Root
	before := tr.wpfix(t, home, "check", target, "--ssh-config", sshConfig)
	assert.Equal(t, 1, before.code, "check of the broken site")
	assert.Regexp(t, `(?m)^demo:\S+\s+unhealthy\s+502\s`, before.shown)

	bisect := tr.wpfix(t, home, "bisect", target, "--ssh-config", sshConfig)
	require.Equal(t, 0, bisect.code, "bisect")
	assert.Regexp(t, `(?m)^wpfix: baseline\s+13/13\s+on\s+502 in \S+\s+FAIL status 502$`, bisect.shown, "its progress")
	assert.Contains(t, bisect.shown, "\n  plugin wptest-kill-worker\n", "its plan")
	assert.Contains(t, bisect.shown, "\nProceed? [y/N] y\n", "its question, answered")
	assert.Contains(t, bisect.shown, "\nCulprit: plugin wptest-kill-worker\n")

	after := tr.wpfix(t, home, "check", target, "--ssh-config", sshConfig)
	assert.Equal(t, 0, after.code, "check of the healed site")
	assert.Regexp(t, `(?m)^demo:\S+\s+healthy\s+200\s`, after.shown)
	assert.NotContains(t, after.shown, "checking [", "the progress bar erased itself")

	r = st.Get(t, "/")
	assert.Equal(t, 200, r.Status, "the site, after wpfix")
	demoShown = !t.Failed()
}

// transcript is the demo written as a terminal session: each command after
// "$ ", then what it showed.
type transcript struct {
	w io.Writer
	// live says w is a terminal, which draws wpfix's output itself;
	// otherwise it is rendered as the terminal would show it (screen).
	live bool
}

// newTranscript writes to the demo's standard output under WPFIX_DEMO=1,
// else to t's log when the test ends.
func newTranscript(t *testing.T) *transcript {
	if demoStdout != nil {
		return &transcript{w: demoStdout, live: demoLive()}
	}
	b := new(strings.Builder)
	t.Cleanup(func() { t.Logf("what make demo shows:\n%s", b) })
	return &transcript{w: b}
}

// terminalRun is what a command showed on its terminal, and its exit code.
type terminalRun struct {
	shown string
	code  int
}

// run shows cmd's command line and its output.
func (tr *transcript) run(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	fmt.Fprintf(tr.w, "$ %s\n", strings.Join(cmd.Args, " "))
	out, err := cmd.Output()
	require.NoError(t, err, "%s", cmd)
	tr.w.Write(out)
}

// wpfix runs the built wpfix on a terminal with HOME set to home, shows it
// as `wpfix ARGS` and what it showed, and answers y when it asks whether
// to proceed.
func (tr *transcript) wpfix(t *testing.T, home string, args ...string) terminalRun {
	t.Helper()
	fmt.Fprintf(tr.w, "$ wpfix %s\n", strings.Join(args, " "))
	cmd := exec.Command(wpfixBin, args...)
	cmd.Env = append(os.Environ(), "HOME="+home, "SSH_AUTH_SOCK=")
	w := tr.w
	var sc *screen
	if !tr.live {
		sc = &screen{w: tr.w}
		w = sc
	}
	raw, code, err := runOnTerminal(cmd, w, map[string]string{"Proceed? [y/N] ": "y"})
	if sc != nil {
		require.NoError(t, sc.Close())
	}
	require.NoError(t, err, "wpfix %s", strings.Join(args, " "))
	var b strings.Builder
	sc = &screen{w: &b}
	sc.Write([]byte(raw))
	sc.Close()
	return terminalRun{shown: b.String(), code: code}
}
