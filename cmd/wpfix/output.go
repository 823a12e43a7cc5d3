package main

import (
	"encoding/json"
	"errors"
	"io"

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
func writeJSON(w io.Writer, v any, style jsonStyle) error {
	enc := json.NewEncoder(w)
	if style == jsonIndented {
		enc.SetIndent("", "  ")
	}
	return enc.Encode(v)
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
