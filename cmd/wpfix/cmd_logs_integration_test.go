package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wpfix/wpfix/wp"
	"github.com/wpfix/wpfix/wp/logsig"
	"github.com/wpfix/wpfix/wp/server"
	"github.com/wpfix/wpfix/wp/wptest"
)

// logsReport is the part of `wpfix logs --json` the tests read.
type logsReport struct {
	Logs []struct {
		File  server.LogFile `json:"file"`
		Lines []logsig.Line  `json:"lines"`
	} `json:"logs"`
	Blames []struct {
		Kind, Name string
		Lines      int
	} `json:"blames"`
}

// TestLogs breaks a site for real, over SSH, and reads what its logs say
// about it.
func TestLogs(t *testing.T) {
	t.Parallel()
	b := newBisectSite(t, wptest.Options{})
	b.st.Break(t, wptest.BreakFatal)
	require.Equal(t, 500, b.st.Get(t, "/").Status)
	b.st.Break(t, wptest.BreakMUPlugin) // then a must-use plugin kills the worker
	require.Equal(t, 502, b.st.Get(t, "/").Status)
	// A log line carrying escape sequences, as a request can plant one.
	f, err := os.OpenFile(b.st.DebugLog, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	f.WriteString("[23-Nov-2026 00:00:00 UTC] PHP Warning:  evil \x1b]0;pwned\x07\x1b[2J in /x.php on line 1\n")
	f.Close()

	r := b.run(t, "logs", "--json", "-n", "100")
	require.Equal(t, 0, r.code, r.stderr)
	var rep logsReport
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &rep), r.stdout)
	found := map[string]*logsig.Line{}
	paths := map[string]bool{}
	for _, sec := range rep.Logs {
		paths[sec.File.Path] = true
		for i, l := range sec.Lines {
			if l.Signature != "" {
				found[l.Signature] = &sec.Lines[i]
			}
		}
	}
	assert.True(t, paths[b.st.DebugLog] && paths[b.st.NginxErrorLog] && paths[b.st.FPMLog], "found the logs: %v", paths)
	require.Contains(t, found, "php-uncaught", "the fatal: Uncaught Error")
	require.NotNil(t, found["php-uncaught"].Blames)
	assert.Equal(t, wp.Extension{Kind: wp.KindPlugin, Name: "wptest-fatal"}, *found["php-uncaught"].Blames)
	assert.Contains(t, found, "nginx-upstream-reset", "nginx lost the killed worker")
	assert.Contains(t, found, "fpm-child-killed", "php-fpm saw it die")
	require.NotEmpty(t, rep.Blames)
	assert.Equal(t, "wptest-fatal", rep.Blames[0].Name)

	r = b.run(t, "logs", "-n", "100")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "[php-uncaught → plugin wptest-fatal] ")
	assert.Contains(t, r.stdout, "evil ")
	assert.NotContains(t, r.stdout, "\x1b", "no escape sequence from a log reaches the terminal")
	assert.NotContains(t, r.stdout, "\x07")
	for _, l := range strings.Split(r.stdout, "\n") {
		assert.NotContains(t, l, "\r")
	}

	// The config file adds signatures; a broken one stops wpfix before it
	// connects, naming the file and the line.
	conf := filepath.Join(b.home, "custom.toml")
	require.NoError(t, os.WriteFile(conf, []byte("[[signature]]\nid = \"site-evil\"\ncategory = \"php\"\n"+
		"severity = \"warning\"\nsummary = \"Someone planted escape sequences.\"\nmatch = [\"evil\"]\n"), 0o644))
	r = b.run(t, "logs", "--json", "-n", "100", "--config", conf)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, `"signature":"site-evil"`)
	r = b.run(t, "logs", "--json", "-n", "100")
	assert.NotContains(t, r.stdout, `"signature":"site-evil"`, "no config, no custom signature")
	if os.Getenv("XDG_CONFIG_HOME") == "" {
		dir := filepath.Join(b.home, ".config", "wpfix")
		require.NoError(t, os.MkdirAll(dir, 0o755))
		require.NoError(t, os.Rename(conf, filepath.Join(dir, "wpfix.toml")))
		r = b.run(t, "logs", "--json", "-n", "100")
		assert.Contains(t, r.stdout, `"signature":"site-evil"`, "~/.config/wpfix/wpfix.toml is read by default")
		r = b.run(t, "logs", "--json", "-n", "100", "--config", "none")
		assert.NotContains(t, r.stdout, `"signature":"site-evil"`)
	} else {
		t.Log("XDG_CONFIG_HOME is set: the default config location is not tested")
	}

	bad := filepath.Join(b.home, "bad.toml")
	require.NoError(t, os.WriteFile(bad, []byte("[[signature]]\nid = \"x\"\ncategory = \"nonsense\"\n"), 0o644))
	r = b.run(t, "logs", "--config", bad)
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, "config "+bad+", signature \"x\"")
	r = b.run(t, "logs", "--config", filepath.Join(b.home, "missing.toml"))
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, "missing.toml")
}

// TestLogsTimeout: a plugin sleeps past request_terminate_timeout. php-fpm
// kills the worker (a real 502 from nginx) and says so; its slowlog holds
// the backtrace that names the plugin.
func TestLogsTimeout(t *testing.T) {
	t.Parallel()
	b := newBisectSite(t, wptest.Options{RequestTerminateTimeout: 3 * time.Second, SlowlogTimeout: time.Second})
	b.st.Break(t, wptest.BreakTimeout)
	require.Equal(t, 502, b.st.Get(t, "/").Status)

	r := b.run(t, "logs", "--json", "-n", "100")
	require.Equal(t, 0, r.code, r.stderr)
	var rep logsReport
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &rep), r.stdout)
	found := map[string]logsig.Line{}
	for _, sec := range rep.Logs {
		for _, l := range sec.Lines {
			if l.Signature != "" {
				found[l.Signature] = l
			}
		}
	}
	assert.Contains(t, found["fpm-request-timeout"].Text, "execution timed out", "php-fpm's own line")
	require.Contains(t, found, "fpm-slowlog-frame")
	assert.Equal(t, &wp.Extension{Kind: wp.KindPlugin, Name: "wptest-timeout"}, found["fpm-slowlog-frame"].Blames)
	require.NotEmpty(t, rep.Blames)
	assert.Equal(t, "wptest-timeout", rep.Blames[0].Name)
}
