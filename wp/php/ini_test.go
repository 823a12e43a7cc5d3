package php_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/wpfix/wpfix/wp/php"
)

func TestParseINI(t *testing.T) {
	got := php.ParseINI([]byte("; comment\n# hash comment\nerror_log = /a.log ; trailing\n[www]\n" +
		"php_admin_value[ error_log ] = \"/b ;c.log\"\nslowlog='/d.log'\r\nbroken line\nempty =\n" +
		"q = \"esc\\\"aped\"\n"))
	assert.Equal(t, []php.INIEntry{
		{Section: "", Key: "error_log", Value: "/a.log", Line: 3},
		{Section: "www", Key: "php_admin_value[error_log]", Value: "/b ;c.log", Line: 5},
		{Section: "www", Key: "slowlog", Value: "/d.log", Line: 6},
		{Section: "www", Key: "empty", Value: "", Line: 8},
		{Section: "www", Key: "q", Value: `esc"aped`, Line: 9},
	}, got)
}

// FuzzParseINI checks the INI reader on any input: no panic, line numbers
// within the input, keys trimmed.
func FuzzParseINI(f *testing.F) {
	f.Add([]byte("[www]\nlisten = /s.sock\nphp_admin_value[ memory_limit ] = \"1G\" ; x\n"))
	f.Add([]byte("a='unterminated\nb=\"esc\\\\\n[bad\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		lines := strings.Count(string(src), "\n") + 1
		last := 0
		for _, e := range php.ParseINI(src) {
			if e.Line <= last || e.Line > lines {
				t.Fatalf("line %d after %d of %d", e.Line, last, lines)
			}
			last = e.Line
			if e.Key != strings.TrimSpace(e.Key) {
				t.Fatalf("key %q not trimmed", e.Key)
			}
		}
	})
}

func TestParseINISize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"128M", 128 << 20, true},
		{"128m", 128 << 20, true},
		{" 1G ", 1 << 30, true},
		{"512K", 512 << 10, true},
		{"8388608", 8 << 20, true},
		{"-1", -1, true},
		{"0", 0, true},
		{"0x10M", 16 << 20, true},
		{"0b101", 5, true},
		{"0o17", 15, true},
		{"+64M", 64 << 20, true},
		{"", 0, false},
		{"M", 0, false},
		{"lots", 0, false},
		{"1.5G", 0, false},
		{"9999999999999G", 0, false},
	}
	for _, tt := range tests {
		got, ok := php.ParseINISize(tt.in)
		assert.Equal(t, tt.ok, ok, "%q", tt.in)
		assert.Equal(t, tt.want, got, "%q", tt.in)
	}
	assert.Equal(t, "128M", php.FormatSize(128<<20))
	assert.Equal(t, "2G", php.FormatSize(2<<30))
	assert.Equal(t, "1000", php.FormatSize(1000))
	assert.Equal(t, "-1", php.FormatSize(-1))
}

// TestFormatSizeRounded: disk and memory in whole MiB, a little never as none.
func TestFormatSizeRounded(t *testing.T) {
	for n, want := range map[int64]string{
		0: "0", 1000: "1K", 100 << 10: "100K", 600 << 10: "1M", 1536 << 20: "1536M",
		20<<30 + 100<<10: "20G", 4<<30 + 300<<20: "4396M",
	} {
		assert.Equal(t, want, php.FormatSizeRounded(n), "FormatSizeRounded(%d)", n)
	}
}

func FuzzParseINISize(f *testing.F) {
	for _, s := range []string{"128M", "-1", "0x1fK", " 7 ", "1g"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, ok := php.ParseINISize(s)
		if !ok {
			return
		}
		if n >= 0 {
			// What FormatSize writes reads back the same.
			if back, ok := php.ParseINISize(php.FormatSize(n)); !ok || back != n {
				t.Fatalf("%q → %d → %q → %d", s, n, php.FormatSize(n), back)
			}
		}
	})
}
