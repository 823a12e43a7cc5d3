package wp

import (
	"path"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestParseHeaders(t *testing.T) {
	tests := []struct {
		name, src string
		want      map[string]string
	}{
		{"plugin docblock", "<?php\n/**\n * Plugin Name: Akismet Anti-Spam\n * Version: 5.0.1\n * Network: true\n */\n",
			map[string]string{"Plugin Name": "Akismet Anti-Spam", "Version": "5.0.1", "Network": "true"}},
		{"theme style.css", "/*\nTheme Name: Twenty Twenty-Three Child\nTemplate: twentytwentythree\n*/\n",
			map[string]string{"Theme Name": "Twenty Twenty-Three Child", "Template": "twentytwentythree"}},
		{"on the php line, closing comment", "<?php /* Plugin Name: One Liner */ ?>",
			map[string]string{"Plugin Name": "One Liner"}},
		{"case-insensitive, hash and at comments", "<?php\n# plugin name:   hashed  \n@Version: 2\n",
			map[string]string{"Plugin Name": "hashed", "Version": "2"}},
		{"CR line endings", "<?php\r/*\r Plugin Name: Old Mac\r Version: 1.0\r*/",
			map[string]string{"Plugin Name": "Old Mac", "Version": "1.0"}},
		{"first occurrence wins", "<?php\n/* Plugin Name: First\n Plugin Name: Second */",
			map[string]string{"Plugin Name": "First"}},
		{"missing", "<?php\n/* Version: 0 */", map[string]string{"Plugin Name": "", "Version": "0"}},
		{"a bare 0 is false to PHP", "<?php\n/* Version:0", map[string]string{"Version": ""}},
		{"not at a line start", "<?php\n$x = 'Plugin Name: in code';", map[string]string{"Plugin Name": ""}},
		{"multibyte value", "<?php\n/* Plugin Name: Größenänderung ✓ */", map[string]string{"Plugin Name": "Größenänderung ✓"}},
		{"past 8 KiB is not read", "<?php\n" + strings.Repeat("/* padding */\n", 700) + "/* Plugin Name: Late */",
			map[string]string{"Plugin Name": ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			names := make([]string, 0, len(tt.want))
			for n := range tt.want {
				names = append(names, n)
			}
			assert.Equal(t, tt.want, ParseHeaders([]byte(tt.src), names...))
		})
	}
}

func FuzzParseHeaders(f *testing.F) {
	f.Add([]byte("<?php\n/**\n * Plugin Name: X\n * Version: 1\n */"))
	f.Add([]byte("/*\nTheme Name: T\nTemplate: p */"))
	f.Fuzz(func(t *testing.T, data []byte) {
		h := ParseHeaders(data, "Plugin Name", "Version", "Template")
		for n, v := range h {
			if strings.ContainsAny(v, "\r\n") {
				t.Fatalf("%s spans lines: %q", n, v)
			}
			if v != strings.Trim(v, " \t\x00\x0b") {
				t.Fatalf("%s not trimmed: %q", n, v)
			}
			if strings.Contains(v, "*/") || strings.Contains(v, "?>") {
				t.Fatalf("%s holds a comment end: %q", n, v)
			}
		}
	})
}

func TestLocalPath(t *testing.T) {
	for _, p := range []string{"akismet/akismet.php", "hello.php", "twentytwentythree", "a b/c.php"} {
		assert.NoError(t, LocalPath(p), p)
	}
	for _, p := range []string{"", ".", "..", "../wp-config.php", "a/../../x.php", "/etc/passwd", "a//b.php",
		"a/./b.php", `..\x.php`, "a\x00.php", "a/"} {
		assert.Error(t, LocalPath(p), "%q", p)
	}
}

func FuzzLocalPath(f *testing.F) {
	f.Add("akismet/akismet.php")
	f.Add("../x")
	f.Fuzz(func(t *testing.T, p string) {
		if LocalPath(p) != nil {
			return
		}
		joined := path.Join("/srv/plugins", p)
		if !strings.HasPrefix(joined, "/srv/plugins/") {
			t.Fatalf("%q accepted but escapes: %s", p, joined)
		}
	})
}
