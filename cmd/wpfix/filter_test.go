package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wpfix/wpfix/agent"
)

// hostile is what a site's user can put into a string wpfix prints: a
// DB_USER, a folder name, a lock owner's command.
const hostile = "\x1b]0;pwned\x07\x1b[2J"

// assertTerminalSafe checks that s holds no control character but newline
// and tab, no C1, DEL, bidi control or line separator, and is valid UTF-8.
func assertTerminalSafe(t *testing.T, s string, msgAndArgs ...any) {
	t.Helper()
	assert.True(t, utf8.ValidString(s), msgAndArgs...)
	for _, r := range s {
		if r == '\n' || r == '\t' {
			continue
		}
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || unicode.Is(unicode.Bidi_Control, r) {
			assert.Failf(t, "control character in output", "%U in %q", r, s)
			return
		}
	}
}

// TestErrorText: main's one line per error goes through the filter, keeps
// the error's own line breaks and its words.
func TestErrorText(t *testing.T) {
	for _, c := range []struct {
		name string
		err  error
		want string
	}{
		{"plain", errors.New("connect to database wp as wp at tcp 127.0.0.1:3306 on local: refused"),
			"wpfix: connect to database wp as wp at tcp 127.0.0.1:3306 on local: refused\n"},
		{"DB_USER with escapes", fmt.Errorf("connect to database wp as %s at tcp 127.0.0.1:3306: %w", hostile, agent.ErrUnreachable),
			"wpfix: connect to database wp as \uFFFD]0;pwned\uFFFD\uFFFD[2J at tcp 127.0.0.1:3306: " + agent.ErrUnreachable.Error() + "\n"},
		{"lock owner's command", fmt.Errorf("%w (%s, pid 1 on web1)", agent.ErrLocked, "wpfix\x1b[1A\x1b[2Kbisect"),
			"wpfix: " + agent.ErrLocked.Error() + " (wpfix\uFFFD[1A\uFFFD[2Kbisect, pid 1 on web1)\n"},
		{"journal path, carriage return", errors.New("read /srv/a\rfake/.wpfix/journal: denied"),
			"wpfix: read /srv/a\uFFFDfake/.wpfix/journal: denied\n"},
		{"newlines and tabs kept", errors.New("two problems:\n\tone\n\ttwo"), "wpfix: two problems:\n\tone\n\ttwo\n"},
		{"C1 CSI, DEL", errors.New("x\u009b2Jy\x7fz"), "wpfix: x\uFFFD2Jy\uFFFDz\n"},
		{"bidi override, line separator", errors.New("a\u202eb\u2028c"), "wpfix: a\uFFFDb\uFFFDc\n"},
		{"invalid UTF-8", errors.New("bad \xff\xfe byte"), "wpfix: bad \uFFFD\uFFFD byte\n"},
		{"NUL", errors.New("a\x00b"), "wpfix: a\uFFFDb\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := errorText(c.err)
			assert.Equal(t, c.want, got)
			assertTerminalSafe(t, got)
		})
	}
}

// TestCleanLines: cleanLines is clean with newlines kept, nothing else.
func TestCleanLines(t *testing.T) {
	for _, c := range []struct{ in, lines, line string }{
		{"a\nb", "a\nb", "a\uFFFDb"},
		{"a\r\nb", "a\uFFFD\nb", "a\uFFFD\uFFFDb"},
		{hostile + "\n", "\uFFFD]0;pwned\uFFFD\uFFFD[2J\n", "\uFFFD]0;pwned\uFFFD\uFFFD[2J\uFFFD"},
		{"ok\tfine ✓", "ok\tfine ✓", "ok\tfine ✓"},
		{"a literal \uFFFD stays", "a literal \uFFFD stays", "a literal \uFFFD stays"},
	} {
		assert.Equal(t, c.lines, cleanLines(c.in), "cleanLines(%q)", c.in)
		assert.Equal(t, c.line, clean(c.in), "clean(%q)", c.in)
	}
}

func FuzzCleanLines(f *testing.F) {
	f.Add(hostile + "\nnext line")
	f.Add("ok")
	f.Fuzz(func(t *testing.T, s string) {
		c := cleanLines(s)
		if !utf8.ValidString(c) {
			t.Fatalf("invalid UTF-8 out of %q", s)
		}
		for _, r := range c {
			if r != '\t' && r != '\n' && (unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r)) {
				t.Fatalf("control %U left in %q", r, c)
			}
		}
		if strings.Count(c, "\n") != strings.Count(s, "\n") {
			t.Fatalf("line breaks changed: %q -> %q", s, c)
		}
		if clean(s) != strings.ReplaceAll(c, "\n", "\uFFFD") {
			t.Fatalf("clean and cleanLines differ beyond newlines on %q", s)
		}
	})
}

// TestConfirmPlanLines: the plan is shown one candidate a line, as agent
// writes it, and an escape in a name is still cleaned.
func TestConfirmPlanLines(t *testing.T) {
	term, _, errs := fakeTerminal("n\n", true)
	ok, err := term.confirm("wpfix will turn off these 2 extensions:\n  plugin a\n  plugin b" + hostile)
	require.NoError(t, err)
	assert.False(t, ok)
	assert.Equal(t, "wpfix will turn off these 2 extensions:\n  plugin a\n  plugin b\uFFFD]0;pwned\uFFFD\uFFFD[2J\nProceed? [y/N] ", errs.String())
}

// TestPasswordQuestionCleaned: a question can come from the SSH server
// (keyboard-interactive); it is shown cleaned.
func TestPasswordQuestionCleaned(t *testing.T) {
	term, _, errs := fakeTerminal("secret\n", true)
	got, err := term.password("Password for " + hostile + ": ")
	require.NoError(t, err)
	assert.Equal(t, "secret", string(got))
	assertTerminalSafe(t, errs.String())
	assert.Contains(t, errs.String(), "]0;pwned")
}

// TestWriteJSONControls: encoding/json escapes C0 controls (ESC, BEL) and
// writeJSON also escapes what it leaves raw (DEL, C1, bidi controls); the
// value read back is the same string.
func TestWriteJSONControls(t *testing.T) {
	v := map[string]string{"user": hostile + "\x7f\u009b2J\u202e\u2028ok ✓"}
	for _, style := range []jsonStyle{jsonLine, jsonIndented} {
		var b bytes.Buffer
		require.NoError(t, writeJSON(&b, v, style))
		assertTerminalSafe(t, b.String())
		assert.Contains(t, b.String(), `\u001b]0;pwned\u0007\u001b[2J\u007f\u009b2J\u202e\u2028ok ✓`)
		var back map[string]string
		require.NoError(t, json.Unmarshal(b.Bytes(), &back))
		assert.Equal(t, v, back, "the same value")
	}
}
