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

// confirm shows the plan (cleaned, as it names plugins, with its own line
// breaks kept: one candidate a line) and asks whether to go on; anything
// but y or yes, or no answer at all, is no.
func (t *terminal) confirm(plan string) (bool, error) {
	fmt.Fprintf(t.Err, "%s\nProceed? [y/N] ", cleanLines(plan))
	line, err := t.line()
	if err != nil && line == "" {
		return false, nil
	}
	a := strings.ToLower(strings.TrimSpace(line))
	return a == "y" || a == "yes", nil
}

// password asks question on Err and reads the answer from In without echo,
// for remote.Options.Prompt (an SSH key's passphrase, a password). The
// question names a key file, or may come from the server: it is cleaned.
func (t *terminal) password(question string) ([]byte, error) {
	fmt.Fprint(t.Err, cleanLines(question))
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
// to print on a terminal as one line: control characters, escape sequences
// and line breaks among them, become the replacement mark, and so does
// invalid UTF-8. A plugin header or a log line is written by whoever wrote
// the plugin or the request, and must not be able to move the cursor,
// retitle the window, hide lines or forge one.
func clean(s string) string { return filter(s, false) }

// cleanLines is clean for text whose line breaks are its own, such as an
// error or bisect's plan: the same filter, but newlines stay.
func cleanLines(s string) string { return filter(s, true) }

// filter is the one control-character filter behind clean and cleanLines:
// tab stays, newline stays when keepNewlines, every other control
// character (C0, DEL, C1), the Unicode line and paragraph separators, the
// bidirectional controls and invalid UTF-8 become U+FFFD.
func filter(s string, keepNewlines bool) string {
	if isClean(s, keepNewlines) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == utf8.RuneError && size <= 1:
			b.WriteRune(utf8.RuneError)
		case unsafeRune(r, keepNewlines):
			b.WriteRune('\uFFFD')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// unsafeRune says whether filter replaces r.
func unsafeRune(r rune, keepNewlines bool) bool {
	switch {
	case r == '\t', r == '\n' && keepNewlines:
		return false
	case unicode.IsControl(r), r == '\u2028', r == '\u2029', unicode.Is(unicode.Bidi_Control, r):
		return true
	}
	return false
}

func isClean(s string, keepNewlines bool) bool {
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size <= 1 {
				return false
			}
		}
		if unsafeRune(r, keepNewlines) {
			return false
		}
	}
	return true
}
