package wp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wpfix/wpfix/wp/php"
	"github.com/wpfix/wpfix/wp/php/phptest"
	"github.com/wpfix/wpfix/wp/wptest/golden"
)

// configFiles returns the config test inputs.
func configFiles(t *testing.T) []string {
	files, err := filepath.Glob(filepath.Join("testdata", "config", "*.php"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	return files
}

// TestConfigGolden parses each testdata/config/*.php and compares the
// Config, as JSON, with its .golden.json.
func TestConfigGolden(t *testing.T) {
	for _, file := range configFiles(t) {
		name := strings.TrimSuffix(filepath.Base(file), ".php")
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(file)
			require.NoError(t, err)
			c, err := ParseConfig(src)
			require.NoError(t, err)
			got := golden.AssertJSON(t, strings.TrimSuffix(file, ".php")+".golden.json", c)
			if c.DBPassword != "" {
				assert.Contains(t, string(got), `"db_password": "[REDACTED]"`)
				assert.NotContains(t, string(got), c.DBPassword.Reveal())
			}
		})
	}
}

// TestConfigSecretsNeverShown checks that no secret of the test inputs
// appears in the Config printed or marshalled.
func TestConfigSecretsNeverShown(t *testing.T) {
	secrets := []string{"c0rrect horse", "v]8H!x|Ha{w,u6", "fallback-secret", "network-pw", "_Ux5A|<%1Kj"}
	for _, file := range configFiles(t) {
		src, err := os.ReadFile(file)
		require.NoError(t, err)
		c, err := ParseConfig(src)
		require.NoError(t, err)
		j, err := json.Marshal(c)
		require.NoError(t, err)
		for _, shown := range []string{string(j), fmt.Sprintf("%v", c), fmt.Sprintf("%+v", *c), fmt.Sprintf("%#v", *c)} {
			for _, s := range secrets {
				assert.NotContains(t, shown, s, file)
			}
		}
	}
}

func TestConfigFields(t *testing.T) {
	read := func(t *testing.T, name string) *Config {
		src, err := os.ReadFile(filepath.Join("testdata", "config", name))
		require.NoError(t, err)
		c, err := ParseConfig(src)
		require.NoError(t, err)
		return c
	}
	t.Run("sample", func(t *testing.T) {
		c := read(t, "sample.php")
		assert.Equal(t, "shop_wp", c.DBName)
		assert.Equal(t, "c0rrect horse", c.DBPassword.Reveal())
		assert.Equal(t, "wp_", c.TablePrefix)
		require.NotNil(t, c.Debug)
		assert.False(t, *c.Debug)
		assert.Nil(t, c.Multisite, "not defined")
		assert.True(t, c.Constants["AUTH_KEY"].Redacted)
		assert.Equal(t, php.Null(), c.Constants["AUTH_KEY"].Value)
		assert.Equal(t, 13, c.Constants["DB_NAME"].Line)
		assert.Equal(t, []Unresolved{{Name: "ABSPATH", Line: 69, Expr: "__DIR__ . '/'"}}, c.Unresolved)
	})
	t.Run("getenv", func(t *testing.T) {
		c := read(t, "getenv.php")
		assert.Equal(t, "", c.DBName)
		assert.Equal(t, Secret(""), c.DBPassword)
		byName := map[string]Unresolved{}
		for _, u := range c.Unresolved {
			byName[u.Name] = u
		}
		assert.Equal(t, Unresolved{Name: "DB_NAME", Line: 3, Expr: "getenv( 'WORDPRESS_DB_NAME' )"}, byName["DB_NAME"])
		assert.Equal(t, "getenv( 'WORDPRESS_DB_PASSWORD' ) ?: '[REDACTED]'", byName["DB_PASSWORD"].Expr)
		assert.Equal(t, "getenv( 'NONCE_KEY' )", byName["NONCE_KEY"].Expr)
		assert.Equal(t, Unresolved{Name: "$table_prefix", Line: 11, Expr: "getenv( 'TABLE_PREFIX' ) ?: 'wp_'"}, byName["$table_prefix"])
	})
	t.Run("debug log", func(t *testing.T) {
		assert.Equal(t, "/var/log/wordpress/site-debug.log", read(t, "debug-log-path.php").DebugLogFile("/srv/wp-content"))
		assert.Equal(t, "/srv/wp-content/debug.log", read(t, "debug-log-bool.php").DebugLogFile("/srv/wp-content/"))
		assert.Equal(t, "/srv/wp-content/debug.log", read(t, "debug-log-string-true.php").DebugLogFile("/srv/wp-content"))
		assert.Equal(t, "", read(t, "sample.php").DebugLogFile("/srv/wp-content"))
	})
	t.Run("debug display null", func(t *testing.T) {
		c := read(t, "debug-log-path.php")
		assert.Nil(t, c.DebugDisplay)
		k, ok := c.Constants["WP_DEBUG_DISPLAY"]
		require.True(t, ok, "null is defined, unlike not defined")
		assert.Equal(t, php.KindNull, k.Value.Kind())
	})
}

func TestParseConfigSmall(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want func(t *testing.T, c *Config)
	}{
		{"define at the very end", "<?php define('DB_NAME','x')", func(t *testing.T, c *Config) {
			assert.Equal(t, "x", c.DBName)
		}},
		{"unclosed call", "<?php define('DB_NAME','x'", func(t *testing.T, c *Config) {
			assert.Empty(t, c.Constants)
			assert.Empty(t, c.Unresolved)
		}},
		{"unterminated string", "<?php define('DB_NAME','x);", func(t *testing.T, c *Config) {
			assert.Empty(t, c.Constants)
		}},
		{"name not a literal", "<?php define($name, 'x'); define('A' . 'B', 1);", func(t *testing.T, c *Config) {
			assert.Empty(t, c.Constants)
			assert.Empty(t, c.Unresolved)
		}},
		{"short echo tag", "<html><?= define('DB_NAME', 'x') ?></html>", func(t *testing.T, c *Config) {
			assert.Equal(t, "x", c.DBName)
		}},
		{"open tag in upper case", "<?PHP\ndefine('DB_NAME', 'x');", func(t *testing.T, c *Config) {
			assert.Equal(t, "x", c.DBName)
			assert.Equal(t, 2, c.Constants["DB_NAME"].Line)
		}},
		{"CRLF lines", "<?php\r\n\r\ndefine('DB_NAME', 'x');\r\n", func(t *testing.T, c *Config) {
			assert.Equal(t, 3, c.Constants["DB_NAME"].Line)
		}},
		{"function named define", "<?php function define($a, $b) {} class A { function define() {} }", func(t *testing.T, c *Config) {
			assert.Empty(t, c.Constants)
		}},
		{"prefix by compound assignment", "<?php $table_prefix = 'wp_'; $table_prefix .= 'x';", func(t *testing.T, c *Config) {
			assert.Equal(t, "", c.TablePrefix)
			assert.Equal(t, []Unresolved{{Name: "$table_prefix", Line: 1, Expr: "$table_prefix .= 'x'"}}, c.Unresolved)
		}},
		{"prefix literal after an expression", "<?php $table_prefix = f();\n$table_prefix = 'b_';", func(t *testing.T, c *Config) {
			assert.Equal(t, "b_", c.TablePrefix)
			assert.Empty(t, c.Unresolved)
		}},
		{"prefix compared, not assigned", "<?php if ($table_prefix == 'x') {} $this->table_prefix = 'y';", func(t *testing.T, c *Config) {
			assert.Equal(t, "", c.TablePrefix)
			assert.Empty(t, c.Unresolved)
		}},
		{"first define wins even when unresolved", "<?php define('DB_HOST', getenv('H'));\ndefine('DB_HOST', 'x');", func(t *testing.T, c *Config) {
			assert.Equal(t, "", c.DBHost)
			assert.Equal(t, []Unresolved{{Name: "DB_HOST", Line: 1, Expr: "getenv('H')"}}, c.Unresolved)
		}},
		{"password interpolated", `<?php define('DB_PASSWORD', "pa$$word");`, func(t *testing.T, c *Config) {
			assert.Equal(t, Secret(""), c.DBPassword)
			assert.Equal(t, []Unresolved{{Name: "DB_PASSWORD", Line: 1, Expr: "'[REDACTED]'"}}, c.Unresolved)
		}},
		{"password as a number", `<?php define('DB_PASSWORD', 1234);`, func(t *testing.T, c *Config) {
			assert.Equal(t, "1234", c.DBPassword.Reveal())
		}},
		{"attribute is not a comment", "<?php #[Attr] define('A', 1);", func(t *testing.T, c *Config) {
			assert.Contains(t, c.Constants, "A")
		}},
		{"closing tag ends a line comment", "<?php // x ?> define('A', 1); <?php define('B', 2);", func(t *testing.T, c *Config) {
			assert.NotContains(t, c.Constants, "A", "inline HTML")
			assert.Contains(t, c.Constants, "B")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseConfig([]byte(tt.src))
			require.NoError(t, err)
			tt.want(t, c)
		})
	}
}

func TestParseConfigNotPHP(t *testing.T) {
	for _, src := range []string{"", "define('DB_NAME', 'x');", "<html>no php</html>", "<?xml version='1.0'?>", "<?phpx define('A',1);"} {
		_, err := ParseConfig([]byte(src))
		assert.ErrorIs(t, err, ErrNotPHP, "%q", src)
	}
}

// phpConstants runs PHP on file, catching what it throws (an undefined
// function in an env-driven config), and returns the constants it
// defined, its $table_prefix and whether the include ran to its end.
func phpConstants(t *testing.T, file string) (map[string]php.Value, php.Value, bool) {
	t.Helper()
	phpCLI := phptest.CLI(t)
	// The file runs as wp-config.php beside an empty wp-settings.php, so its
	// require_once ABSPATH . 'wp-settings.php' works.
	dir := t.TempDir()
	src, err := os.ReadFile(file)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "wp-config.php"), src, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "wp-settings.php"), []byte("<?php\n"), 0o644))
	code := `
$done = false;
ob_start();
try { include $argv[1]; $done = true; } catch (Throwable $e) { }
ob_end_clean();
echo serialize([get_defined_constants(true)['user'] ?? [], $table_prefix ?? null, $done]);
`
	cmd := exec.Command(phpCLI, "-n", "-d", "error_reporting=0", "-d", "display_errors=0", "-r", code, filepath.Join(dir, "wp-config.php"))
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")} // no WORDPRESS_DB_* from the test's environment
	out, err := cmd.Output()
	require.NoError(t, err)
	v, err := php.Unserialize(out)
	require.NoError(t, err, "PHP's output: %q", out)
	parts := v.Entries()
	require.Len(t, parts, 3)
	consts := map[string]php.Value{}
	for _, e := range parts[0].Value.Entries() {
		consts[e.Key.String()] = e.Value
	}
	done, _ := parts[2].Value.AsBool()
	return consts, parts[1].Value, done
}

// TestConfigMatchesPHP runs each test config with PHP and checks that
// every constant ParseConfig resolved has the value PHP gives it, and that
// every constant PHP defined was found, resolved or not.
func TestConfigMatchesPHP(t *testing.T) {
	for _, file := range configFiles(t) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			src, err := os.ReadFile(file)
			require.NoError(t, err)
			got, err := parseConfigSource(src)
			require.NoError(t, err)
			php, prefix, done := phpConstants(t, file)
			unresolved := map[string]bool{}
			for _, u := range got.unresolved {
				unresolved[u.Name] = true
			}
			for name, k := range got.constants {
				want, ok := php[name]
				if !ok {
					assert.False(t, done, "PHP did not define %s", name)
					continue
				}
				phptest.AssertSameValue(t, want, k.Value, name)
			}
			for name := range php {
				_, resolved := got.constants[name]
				assert.True(t, resolved || unresolved[name], "missed %s", name)
			}
			if p, ok := prefix.AsString(); ok && !unresolved["$table_prefix"] {
				assert.Equal(t, p, got.tablePrefix)
			}
		})
	}
}

// TestConfigStringsMatchPHP renders random byte strings as PHP string
// literals, single- and double-quoted with every kind of escape, and random
// numbers as PHP number literals, and checks that ParseConfig reads each
// as PHP does.
func TestConfigStringsMatchPHP(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var src strings.Builder
	src.WriteString("<?php\n")
	for i := range 400 {
		s := phptest.RandomBytes(rng, 12)
		fmt.Fprintf(&src, "define( 'S%d', %s );\n", i, phpLiteral(rng, s))
	}
	for i := range 200 {
		fmt.Fprintf(&src, "define( 'N%d', %s );\n", i, phpNumber(rng))
	}
	file := filepath.Join(t.TempDir(), "strings.php")
	require.NoError(t, os.WriteFile(file, []byte(src.String()), 0o644))
	php, _, done := phpConstants(t, file)
	require.True(t, done, "PHP failed on:\n%s", src.String())
	got, err := parseConfigSource([]byte(src.String()))
	require.NoError(t, err)
	require.Empty(t, got.unresolved)
	require.Len(t, got.constants, len(php))
	lines := strings.Split(src.String(), "\n")
	for name, want := range php {
		k := got.constants[name]
		phptest.AssertSameValue(t, want, k.Value, "%s: %s", name, lines[k.Line-1])
	}
}

// phpLiteral writes s as a PHP string literal that is not interpolated,
// choosing the quotes and escapes at random.
func phpLiteral(rng *rand.Rand, s string) string {
	var b strings.Builder
	if rng.IntN(2) == 0 {
		b.WriteByte('\'')
		for i := 0; i < len(s); i++ {
			c := s[i]
			switch {
			case c == '\'':
				b.WriteString(`\'`)
			case c == '\\' && (i+1 == len(s) || s[i+1] == '\'' || s[i+1] == '\\' || rng.IntN(2) == 0):
				b.WriteString(`\\`)
			default:
				b.WriteByte(c) // a lone \ before another byte stays a \
			}
		}
		b.WriteByte('\'')
		return b.String()
	}
	b.WriteByte('"')
	raw := false // write the next byte as is: it follows a lone backslash
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		c := s[i]
		choice := rng.IntN(4)
		if raw {
			choice = -1
		}
		switch {
		case raw && (c == '"' || c == '$'):
			b.WriteByte('\\')
			b.WriteByte(c)
		case raw:
			b.WriteByte(c)
		case c == '\\' && i+1 < len(s) && strings.IndexByte("Za '#{}", s[i+1]) >= 0 && choice == 3:
			// An escape PHP does not know keeps its backslash.
			b.WriteByte('\\')
			raw = true
			i++
			continue
		case size > 1 && choice == 0:
			fmt.Fprintf(&b, `\u{%x}`, r)
			i += size
			continue
		case choice == 1:
			fmt.Fprintf(&b, `\x%02x`, c)
		case choice == 2:
			fmt.Fprintf(&b, `\%03o`, c)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\t':
			b.WriteString(`\t`)
		case c == '"' || c == '\\' || c == '$':
			b.WriteByte('\\')
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
		raw = false
		i++
	}
	b.WriteByte('"')
	return b.String()
}

func phpNumber(rng *rand.Rand) string {
	n := rng.Int64()
	if rng.IntN(2) == 0 {
		n = rng.Int64N(1000)
	}
	sign := []string{"", "-", "+", "- "}[rng.IntN(4)]
	switch rng.IntN(8) {
	case 0:
		return sign + "0x" + strconv.FormatInt(n, 16)
	case 1:
		return sign + "0b" + strconv.FormatInt(n, 2)
	case 2:
		return sign + "0" + strconv.FormatInt(n, 8)
	case 3:
		return sign + "0o" + strconv.FormatInt(n, 8)
	case 4:
		s := strconv.FormatInt(n, 10)
		var b strings.Builder
		for i := range len(s) {
			if i > 0 && (len(s)-i)%3 == 0 {
				b.WriteByte('_')
			}
			b.WriteByte(s[i])
		}
		return sign + b.String()
	case 5:
		return sign + strconv.FormatFloat(math.Abs(rng.NormFloat64())*math.Pow(10, float64(rng.IntN(40)-20)), 'g', -1, 64)
	case 6:
		return sign + strconv.FormatUint(rng.Uint64()|1<<63, 10) // too big for an int: a float
	}
	return sign + strconv.FormatFloat(rng.Float64()*1000, 'f', rng.IntN(5), 64)
}

// renderConfig writes the literal constants of c as a wp-config.php of
// single-quoted defines.
func renderConfig(constants map[string]Constant) []byte {
	names := make([]string, 0, len(constants))
	for n := range constants {
		names = append(names, n)
	}
	sort.Strings(names)
	quote := strings.NewReplacer(`\`, `\\`, `'`, `\'`)
	var b bytes.Buffer
	b.WriteString("<?php\n")
	for _, n := range names {
		if s, ok := constants[n].Value.AsString(); ok {
			fmt.Fprintf(&b, "define( '%s', '%s' );\n", quote.Replace(n), quote.Replace(s))
		}
	}
	return b.Bytes()
}

func FuzzParseConfig(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "config", "*.php"))
	if err != nil {
		f.Fatal(err)
	}
	for _, file := range files {
		src, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src)
	}
	f.Add([]byte(`<?php define("a\u{1F600}\x41\101", "\u{D800}\400$"); $table_prefix = <<<X` + "\nx\nX;"))
	f.Fuzz(func(t *testing.T, src []byte) {
		got, err := parseConfigSource(src)
		if err != nil {
			if !errors.Is(err, ErrNotPHP) {
				t.Fatalf("error that is not ErrNotPHP: %v", err)
			}
			return
		}
		if _, err := ParseConfig(src); err != nil {
			t.Fatalf("ParseConfig fails where the parse did not: %v", err)
		}
		for _, u := range got.unresolved {
			if u.Line < 1 || u.Expr == "" {
				t.Fatalf("unresolved %+v", u)
			}
		}
		// Every string constant is found again, with its value, in a config
		// that defines just those.
		again, err := parseConfigSource(renderConfig(got.constants))
		if err != nil {
			t.Fatal(err)
		}
		for name, k := range got.constants {
			if _, ok := k.Value.AsString(); !ok {
				continue
			}
			if !reflect.DeepEqual(again.constants[name].Value, k.Value) {
				t.Fatalf("%q: %q read back as %q", name, k.Value, again.constants[name].Value)
			}
		}
	})
}
