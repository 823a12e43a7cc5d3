package main

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
)

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
		if isClean(s) && c != s {
			t.Fatalf("clean text changed: %q -> %q", s, c)
		}
		if strings.Contains(c, "\x1b") {
			t.Fatal("escape left")
		}
	})
}
