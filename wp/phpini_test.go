package wp_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/wpfix/wpfix/wp"
)

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
		got, ok := wp.ParseINISize(tt.in)
		assert.Equal(t, tt.ok, ok, "%q", tt.in)
		assert.Equal(t, tt.want, got, "%q", tt.in)
	}
	assert.Equal(t, "128M", wp.FormatSize(128<<20))
	assert.Equal(t, "2G", wp.FormatSize(2<<30))
	assert.Equal(t, "1000", wp.FormatSize(1000))
	assert.Equal(t, "-1", wp.FormatSize(-1))
}

func FuzzParseINISize(f *testing.F) {
	for _, s := range []string{"128M", "-1", "0x1fK", " 7 ", "1g"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, ok := wp.ParseINISize(s)
		if !ok {
			return
		}
		if n >= 0 {
			// What FormatSize writes reads back the same.
			if back, ok := wp.ParseINISize(wp.FormatSize(n)); !ok || back != n {
				t.Fatalf("%q → %d → %q → %d", s, n, wp.FormatSize(n), back)
			}
		}
	})
}
