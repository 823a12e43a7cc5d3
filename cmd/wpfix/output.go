package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"unicode"
	"unicode/utf8"

	"github.com/wpfix/wpfix/wp/php"
)

// jsonStyle is how a command's JSON is laid out; each command keeps the
// one it has always printed, since scripts read it.
type jsonStyle int

const (
	// jsonLine is one value on one line: bisect, restore, version, and
	// logs, whose -f goes on with one line per log line (JSON Lines).
	jsonLine jsonStyle = iota
	// jsonIndented is indented by two spaces, for the reports a person
	// reads too: info, limits, diagnose.
	jsonIndented
)

// writeJSON is the one way wpfix writes JSON: v, then a newline.
// encoding/json already writes the C0 controls (ESC, BEL …) as \u00XX
// escapes; jsonSafe escapes what it leaves raw and a terminal may still
// obey, so JSON read on a terminal is as safe as text.
func writeJSON(w io.Writer, v any, style jsonStyle) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	if style == jsonIndented {
		enc.SetIndent("", "  ")
	}
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := w.Write(jsonSafe(buf.Bytes()))
	return err
}

// jsonSafe rewrites DEL, the C1 controls (U+0080 to U+009F, CSI among
// them) and the bidirectional controls in encoded JSON as \uXXXX escapes:
// the same JSON value, byte for byte otherwise. They can only stand inside
// strings, where an escape means the same character.
func jsonSafe(b []byte) []byte {
	if !bytes.ContainsFunc(b, jsonUnsafe) {
		return b
	}
	out := make([]byte, 0, len(b)+16)
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		if jsonUnsafe(r) {
			out = fmt.Appendf(out, `\u%04x`, r)
		} else {
			out = append(out, b[:size]...)
		}
		b = b[size:]
	}
	return out
}

func jsonUnsafe(r rune) bool {
	return r == 0x7f || (r >= 0x80 && r <= 0x9f) || unicode.Is(unicode.Bidi_Control, r)
}

// printResult writes a command's result to out: JSON with --json, else the
// text form.
func printResult(out io.Writer, g globalOptions, v any, style jsonStyle, text func(io.Writer) error) error {
	if g.JSON {
		return writeJSON(out, v, style)
	}
	return text(out)
}

// errStillBroken ends a run whose report has been printed and says the site
// is still broken: exit status 1 and no message, the report said it. It is
// the one way a report's verdict becomes an exit code (see verdict).
var errStillBroken = errors.New("the site is still broken")

// verdict is a command's error after its report: errStillBroken when the
// report's verdict (one of agent's Failed or StillBroken methods) is bad.
func verdict(failed bool) error {
	if failed {
		return errStillBroken
	}
	return nil
}

// size writes a byte count of disk or memory as PHP writes sizes, in whole
// MiB ("1536M", "20G"): the form of memory_limit and of the findings that
// agent writes, so one report says one size one way.
func size(n int64) string { return php.FormatSizeRounded(n) }
