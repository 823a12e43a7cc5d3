package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// terminal is where a command meets the person (or the cron job) running
// it: the report goes to Out, progress, prompts and logs to Err, answers
// come from In. Commands take it as a parameter, so a test can pass a fake
// one and read what was shown and asked.
type terminal struct {
	In       io.Reader
	Out, Err io.Writer
	// InIsTerminal says a person can answer on In: only then is anything
	// asked (bisect's plan, an SSH key's passphrase).
	InIsTerminal bool
	// ErrIsTerminal says a person watches Err: only then is progress shown
	// unasked.
	ErrIsTerminal bool
	// readPassword reads a secret without echo; nil reads a line of In, as
	// a fake terminal wants.
	readPassword func() ([]byte, error)

	lines *bufio.Reader // In, read line by line
}

// newTerminal is the terminal of cmd: its standard streams, which are the
// process's unless a test set them.
func newTerminal(cmd *cobra.Command) *terminal {
	t := &terminal{In: cmd.InOrStdin(), Out: cmd.OutOrStdout(), Err: cmd.ErrOrStderr()}
	in, inOK := t.In.(*os.File)
	t.InIsTerminal = inOK && term.IsTerminal(int(in.Fd()))
	if t.InIsTerminal {
		t.readPassword = func() ([]byte, error) { return term.ReadPassword(int(in.Fd())) }
	}
	errf, errOK := t.Err.(*os.File)
	t.ErrIsTerminal = errOK && term.IsTerminal(int(errf.Fd()))
	return t
}

// line reads one line of In.
func (t *terminal) line() (string, error) {
	if t.lines == nil {
		t.lines = bufio.NewReader(t.In)
	}
	return t.lines.ReadString('\n')
}

// confirm shows the plan (cleaned: it names plugins) and asks whether to
// go on; anything but y or yes, or no answer at all, is no.
func (t *terminal) confirm(plan string) (bool, error) {
	fmt.Fprintf(t.Err, "%s\nProceed? [y/N] ", clean(plan))
	line, err := t.line()
	if err != nil && line == "" {
		return false, nil
	}
	a := strings.ToLower(strings.TrimSpace(line))
	return a == "y" || a == "yes", nil
}

// password asks question on Err and reads the answer from In without echo,
// for remote.Options.Prompt (an SSH key's passphrase, a password).
func (t *terminal) password(question string) ([]byte, error) {
	fmt.Fprint(t.Err, question)
	defer fmt.Fprintln(t.Err)
	if t.readPassword != nil {
		return t.readPassword()
	}
	line, err := t.line()
	if err != nil && line == "" {
		return nil, err
	}
	return []byte(strings.TrimRight(line, "\r\n")), nil
}

// prompt is remote.Options.Prompt: nil, so nothing is asked, when no one
// can answer.
func (t *terminal) prompt() func(string) ([]byte, error) {
	if !t.InIsTerminal {
		return nil
	}
	return t.password
}

// showProgress says whether to report each step on Err: when a person
// watches it and did not ask for quiet, or with --verbose.
func (t *terminal) showProgress(g globalOptions) bool {
	return (t.ErrIsTerminal && !g.Quiet) || g.Verbose
}

// clean makes text that came from a site (a plugin's name, a log line) safe
// to print on a terminal: control characters, escape sequences among them,
// become the replacement mark, and so does invalid UTF-8. A plugin header
// or a log line is written by whoever wrote the plugin or the request, and
// must not be able to move the cursor, retitle the window or hide lines.
func clean(s string) string {
	if isClean(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == utf8.RuneError && size <= 1:
			b.WriteRune(utf8.RuneError)
		case r == '\t':
			b.WriteRune(r)
		case unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || unicode.Is(unicode.Bidi_Control, r):
			b.WriteRune('\uFFFD')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func isClean(s string) bool {
	for _, r := range s {
		if r == utf8.RuneError || (r != '\t' && unicode.IsControl(r)) || r == '\u2028' || r == '\u2029' ||
			unicode.Is(unicode.Bidi_Control, r) {
			return false
		}
	}
	return true
}
