package remote_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/wpfix/wpfix/remote"
)

func TestShellQuote(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"/var/www/site/wp-content", "/var/www/site/wp-content"},
		{"user@host:2222", "user@host:2222"},
		{"", "''"},
		{"a b", "'a b'"},
		{"it's", `'it'\''s'`},
		{"$(rm -rf /)", "'$(rm -rf /)'"},
		{"~", "'~'"},
		{"*", "'*'"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, remote.ShellQuote(tt.in), "ShellQuote(%q)", tt.in)
	}
}

// FuzzShellQuote asks a real POSIX shell: whatever the argument holds, the
// shell hands it on byte for byte.
func FuzzShellQuote(f *testing.F) {
	for _, s := range []string{"a b", "it's", "$(id)", "`id`", "\\", "\n", "'\"'", "${IFS}", "-n", "!", "#x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if strings.ContainsRune(s, 0) {
			t.Skip("a NUL byte cannot be in an argument at all")
		}
		out, err := exec.Command("/bin/sh", "-c", "printf %s "+remote.ShellQuote(s)).Output()
		if err != nil {
			t.Fatalf("sh failed on %q: %v", s, err)
		}
		if string(out) != s {
			t.Fatalf("ShellQuote(%q) came out of the shell as %q", s, out)
		}
	})
}
