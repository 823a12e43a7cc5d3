package main

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

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
