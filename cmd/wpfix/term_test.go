package main

import (
	"bytes"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wpfix/wpfix/agent"
)

// fakeTerminal is a terminal for tests: typed is what the person types,
// tty whether In and Err count as a terminal; out and errs are what it
// was shown on Out and Err.
func fakeTerminal(typed string, tty bool) (term *terminal, out, errs *bytes.Buffer) {
	out, errs = &bytes.Buffer{}, &bytes.Buffer{}
	return &terminal{In: strings.NewReader(typed), Out: out, Err: errs, InIsTerminal: tty, ErrIsTerminal: tty}, out, errs
}

func TestClean(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Akismet Anti-Spam", "Akismet Anti-Spam"},
		{"Größe ✓\tok", "Größe ✓\tok"},
		{"evil\x1b[2J\x1b]0;pwned\x07", "evil\uFFFD[2J\uFFFD]0;pwned\uFFFD"},
		{"line\nbreak\rreturn", "line\uFFFDbreak\uFFFDreturn"},
		{"c1 \u009b31m", "c1 \uFFFD31m"},
		{"bidi \u202egnp.exe", "bidi \uFFFDgnp.exe"},
		{"bad \xff utf8", "bad \uFFFD utf8"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, clean(tt.in), "clean(%q)", tt.in)
	}
}

func FuzzClean(f *testing.F) {
	f.Add("\x1b[31mred\x1b[0m")
	f.Add("ok")
	f.Fuzz(func(t *testing.T, s string) {
		c := clean(s)
		if !utf8.ValidString(c) {
			t.Fatalf("invalid UTF-8 out of %q", s)
		}
		for _, r := range c {
			if r != '\t' && (unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r)) {
				t.Fatalf("control %U left in %q", r, c)
			}
		}
		if isClean(s, false) && c != s {
			t.Fatalf("clean text changed: %q -> %q", s, c)
		}
		if strings.Contains(c, "\x1b") {
			t.Fatal("escape left")
		}
	})
}

func TestConfirm(t *testing.T) {
	for _, c := range []struct {
		in   string
		want bool
	}{
		{"y\n", true}, {"yes\n", true}, {" Y \n", true}, {"n\n", false}, {"\n", false}, {"", false}, {"sure\n", false},
	} {
		term, out, errs := fakeTerminal(c.in, true)
		got, err := term.confirm("plan with \x1b[31mcolour")
		assert.NoError(t, err)
		assert.Equal(t, c.want, got, "answer %q", c.in)
		assert.Contains(t, errs.String(), "Proceed? [y/N]")
		assert.NotContains(t, errs.String(), "\x1b", "the plan is cleaned before it is shown")
		assert.Empty(t, out.String(), "the question is not part of the report")
	}
}

// TestPrompt: a passphrase is asked on Err and read from In when a person
// can answer, and never asked otherwise.
func TestPrompt(t *testing.T) {
	term, out, errs := fakeTerminal("s3cret\nignored\n", true)
	ao, err := (&globalOptions{}).agentOptions(term)
	require.NoError(t, err)
	require.NotNil(t, ao.Remote.Prompt)
	got, err := ao.Remote.Prompt("Enter passphrase for key 'id_ed25519': ")
	require.NoError(t, err)
	assert.Equal(t, "s3cret", string(got))
	assert.Equal(t, "Enter passphrase for key 'id_ed25519': \n", errs.String())
	assert.Empty(t, out.String())

	_, err = ao.Remote.Prompt("again: ")
	require.NoError(t, err)
	_, err = ao.Remote.Prompt("no more answers: ")
	assert.Error(t, err, "In ran dry")

	term, _, _ = fakeTerminal("s3cret\n", false)
	ao, err = (&globalOptions{}).agentOptions(term)
	require.NoError(t, err)
	assert.Nil(t, ao.Remote.Prompt, "not a terminal: nothing is asked")
}

func TestShowProgress(t *testing.T) {
	tests := []struct {
		name string
		tty  bool
		g    globalOptions
		want bool
	}{
		{"terminal", true, globalOptions{}, true},
		{"terminal, quiet", true, globalOptions{Quiet: true}, false},
		{"not a terminal", false, globalOptions{}, false},
		{"not a terminal, verbose", false, globalOptions{Verbose: true}, true},
		{"quiet and verbose", true, globalOptions{Quiet: true, Verbose: true}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			term, _, _ := fakeTerminal("", tt.tty)
			assert.Equal(t, tt.want, term.showProgress(tt.g))
		})
	}
}

// TestBisectConfirmation: bisect asks before changing the site, on the
// terminal, and takes the answer typed there; with --yes, or when no one
// can answer, it asks nothing.
func TestBisectConfirmation(t *testing.T) {
	g := globalOptions{Config: "none"}
	for _, c := range []struct {
		name  string
		typed string
		tty   bool
		yes   bool
		ask   bool
		want  bool
	}{
		{name: "y at a terminal", typed: "y\n", tty: true, ask: true, want: true},
		{name: "n at a terminal", typed: "n\n", tty: true, ask: true, want: false},
		{name: "--yes", typed: "n\n", tty: true, yes: true},
		{name: "not a terminal", typed: "y\n", tty: false},
	} {
		t.Run(c.name, func(t *testing.T) {
			term, out, errs := fakeTerminal(c.typed, c.tty)
			bo, err := bisectOptions{Yes: c.yes}.agentOptions(g, term)
			require.NoError(t, err)
			if !c.ask {
				assert.Nil(t, bo.Confirm, "nothing is asked")
				return
			}
			require.NotNil(t, bo.Confirm)
			ok, err := bo.Confirm("Turn off 3 plugins one half at a time.")
			require.NoError(t, err)
			assert.Equal(t, c.want, ok)
			assert.Equal(t, "Turn off 3 plugins one half at a time.\nProceed? [y/N] ", errs.String())
			assert.Empty(t, out.String())
		})
	}
}

// TestBisectProgress: with someone watching, each probe is a line on Err.
func TestBisectProgress(t *testing.T) {
	term, out, errs := fakeTerminal("", true)
	bo, err := bisectOptions{}.agentOptions(globalOptions{Config: "none"}, term)
	require.NoError(t, err)
	require.NotNil(t, bo.Progress)
	bo.Progress(agent.Progress{Step: "baseline", Enabled: 7, Total: 7,
		Probe: agent.ProbeResult{Status: 502, Bad: true, Reason: "502 Bad Gateway", Duration: 41_300_000}})
	assert.Equal(t, "wpfix: baseline   7/7   on  502 in 41ms  FAIL 502 Bad Gateway\n", errs.String())
	assert.Empty(t, out.String())

	term, _, _ = fakeTerminal("", false)
	bo, err = bisectOptions{}.agentOptions(globalOptions{Config: "none"}, term)
	require.NoError(t, err)
	assert.Nil(t, bo.Progress, "no one watches")
}
