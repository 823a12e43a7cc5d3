package logsig_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wpfix/wpfix/wp"
	"github.com/wpfix/wpfix/wp/logsig"
	"github.com/wpfix/wpfix/wp/wptest/golden"
)

// goldenClassifier classifies the test logs: the built-in signatures, and a
// plugin folder relocated to /srv/shared-plugins, as some lines have it.
func goldenClassifier(t testing.TB) *logsig.Classifier {
	cl, err := logsig.NewClassifier()
	require.NoError(t, err)
	return cl.WithDirs("/srv/shared-plugins", "", "", "")
}

// logFiles returns testdata/logs/*.log.
func logFiles(t testing.TB) []string {
	files, err := filepath.Glob(filepath.Join("testdata", "logs", "*.log"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	return files
}

// logLines returns a test log's lines, less its "## " comments.
func logLines(t testing.TB, file string) []string {
	b, err := os.ReadFile(file)
	require.NoError(t, err)
	var lines []string
	for _, l := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		if l != "##" && !strings.HasPrefix(l, "## ") {
			lines = append(lines, l)
		}
	}
	return lines
}

// goldenLine is a Line as the golden files hold it: a time without a
// zone is written as its wall clock and "local", so the files do not depend
// on the machine's zone; the summary is left out (the TOML has it).
type goldenLine struct {
	Time      string        `json:"time,omitempty"`
	Text      string        `json:"text"`
	Signature string        `json:"signature,omitempty"`
	Category  string        `json:"category,omitempty"`
	Severity  string        `json:"severity,omitempty"`
	Blames    *wp.Extension `json:"blames,omitempty"`
	Count     int           `json:"count"`
}

// goldenLines is lines as the golden files hold them.
func goldenLines(lines []logsig.Line) []goldenLine {
	out := make([]goldenLine, len(lines))
	for i, l := range lines {
		g := goldenLine{Text: l.Text, Signature: l.Signature, Category: l.Category, Severity: l.Severity,
			Blames: l.Blames, Count: l.Count}
		switch {
		case l.Time.IsZero():
		case l.Time.Location() == time.Local:
			g.Time = l.Time.Format("2006-01-02T15:04:05.999999999") + " local"
		default:
			g.Time = l.Time.Format(time.RFC3339Nano)
		}
		out[i] = g
	}
	return out
}

// TestLogClassifyGolden classifies each testdata/logs/*.log and compares
// the lines, and the lines folded, with its .golden.json.
func TestLogClassifyGolden(t *testing.T) {
	cl := goldenClassifier(t)
	for _, file := range logFiles(t) {
		name := strings.TrimSuffix(filepath.Base(file), ".log")
		t.Run(name, func(t *testing.T) {
			var lines []logsig.Line
			for _, l := range logLines(t, file) {
				c := cl.Classify(l)
				if c.Signature != "" {
					assert.NotEmpty(t, c.Summary, c.Signature)
				}
				lines = append(lines, c)
			}
			golden.AssertJSON(t, strings.TrimSuffix(file, ".log")+".golden.json", struct {
				Lines  []goldenLine `json:"lines"`
				Folded []goldenLine `json:"folded"`
			}{goldenLines(lines), goldenLines(logsig.Fold(lines))})
		})
	}
}

// TestLogSignaturesCovered checks every built-in signature matches some line
// of the test logs, and that the logs show what the brief of the classifier
// names.
func TestLogSignaturesCovered(t *testing.T) {
	var table struct {
		Signature []struct{ ID string } `toml:"signature"`
	}
	_, err := toml.DecodeFile("signatures.toml", &table)
	require.NoError(t, err)
	require.NotEmpty(t, table.Signature)
	cl := goldenClassifier(t)
	seen := map[string]bool{}
	for _, file := range logFiles(t) {
		for _, l := range logLines(t, file) {
			seen[cl.Classify(l).Signature] = true
		}
	}
	for _, s := range table.Signature {
		assert.True(t, seen[s.ID], "no test log line has signature %s", s.ID)
	}
}

// TestLogBlame checks which extension a line's paths blame.
func TestLogBlame(t *testing.T) {
	plugin := func(n string) *wp.Extension { return &wp.Extension{Kind: wp.KindPlugin, Name: n} }
	cases := []struct {
		name string
		line string
		dirs []string // plugin, mu-plugin, theme, content
		want *wp.Extension
	}{
		{"plugin folder", "PHP Fatal error:  Uncaught Error: x in /var/www/html/wp-content/plugins/akismet/class.akismet.php:12", nil, plugin("akismet")},
		{"single-file plugin", "PHP Fatal error:  Allowed memory size of 1 bytes exhausted in /var/www/wp-content/plugins/hello.php on line 8", nil, plugin("hello.php")},
		{"single-file plugin, line number", "#0 /var/www/wp-content/plugins/hello.php(14): foo()", nil, plugin("hello.php")},
		{"mu-plugin file", "PHP Parse error:  syntax error in /srv/www/wp-content/mu-plugins/loader.php on line 3", nil,
			&wp.Extension{Kind: wp.KindMUPlugin, Name: "loader.php"}},
		{"mu-plugin folder", "in /srv/www/wp-content/mu-plugins/vendor-kit/src/boot.php:4", nil,
			&wp.Extension{Kind: wp.KindMUPlugin, Name: "vendor-kit"}},
		{"theme", "PHP Fatal error:  Uncaught Error: y in /var/www/wp-content/themes/astra-child/functions.php:2", nil,
			&wp.Extension{Kind: wp.KindTheme, Name: "astra-child"}},
		{"drop-in", "PHP Fatal error:  Uncaught RedisException: Connection refused in /var/www/wp-content/object-cache.php:731", nil,
			&wp.Extension{Kind: wp.KindDropin, Name: "object-cache.php"}},
		{"drop-in advanced-cache", "in /var/www/wp-content/advanced-cache.php on line 3", nil,
			&wp.Extension{Kind: wp.KindDropin, Name: "advanced-cache.php"}},
		{"not a drop-in", "PHP Warning:  include(/var/www/wp-content/my-config.php): Failed to open stream", nil, nil},
		{"uploads are nobody's", "open() \"/var/www/wp-content/uploads/2026/11/a.php\" failed (2: No such file or directory)", nil, nil},
		{"core", "PHP Warning:  mysqli_real_connect(): (HY000/2002): Connection refused in /var/www/wp-includes/class-wpdb.php on line 1775", nil, nil},
		{"php-fpm script index.php", "[23-Nov-2026 01:36:14] WARNING: [pool wptest] child 9133, script '/tmp/www/index.php' (request: \"GET /index.php\") execution timed out (2.510369 sec), terminating", nil, nil},
		{"php-fpm script in a plugin", "[23-Nov-2026 01:36:14] WARNING: [pool www] child 9133, script '/var/www/wp-content/plugins/feeds/feed.php' (request: \"GET /wp-content/plugins/feeds/feed.php\") execution timed out (30.1 sec), terminating", nil, plugin("feeds")},
		{"nginx request path", "2026/11/23 01:36:14 [error] 1#1: *4 upstream timed out (110: Connection timed out) while reading response header from upstream, client: 127.0.0.1, server: _, request: \"GET /wp-content/plugins/slow/ajax.php HTTP/1.1\"", nil, plugin("slow")},
		{"first of several", "Stack trace: #0 /w/wp-content/plugins/a/a.php(3): b() #1 /w/wp-content/plugins/b/b.php(9): c()", nil, plugin("a")},
		{"fatal in a, called from b", "PHP Fatal error:  Uncaught Error: boom in /w/wp-content/plugins/a/a.php:3 Stack trace: #0 /w/wp-content/plugins/b/b.php(9)", nil, plugin("a")},
		{"theme before plugin", "in /w/wp-content/themes/t/functions.php:3 via /w/wp-content/plugins/p/p.php", nil, &wp.Extension{Kind: wp.KindTheme, Name: "t"}},
		{"WordPress's backtrace summary", "WordPress database error Table 'x' doesn't exist for query SELECT 1 made by require('wp-blog-header.php'), include_once('/plugins/wptest-gone/wptest-gone.php')", nil, plugin("wptest-gone")},
		{"backtrace summary, theme", "made by require_once('wp-settings.php'), include('/themes/twentytwentyfour/functions.php'), get_option", nil, &wp.Extension{Kind: wp.KindTheme, Name: "twentytwentyfour"}},
		{"relocated plugin dir", "PHP Fatal error:  Uncaught Error: z in /srv/shared-plugins/forms/forms.php:4",
			[]string{"/srv/shared-plugins", "", "", ""}, plugin("forms")},
		{"relocated plugin dir, trailing slash", "in /srv/shared-plugins/forms/forms.php:4",
			[]string{"/srv/shared-plugins/", "", "", ""}, plugin("forms")},
		{"relocated dirs unknown", "PHP Fatal error:  Uncaught Error: z in /srv/shared-plugins/forms/forms.php:4", nil, nil},
		{"relocated mu-plugin dir", "in /srv/mu/guard.php on line 1", []string{"", "/srv/mu", "", ""},
			&wp.Extension{Kind: wp.KindMUPlugin, Name: "guard.php"}},
		{"relocated theme dir", "in /srv/themes/corp/header.php on line 1", []string{"", "", "/srv/themes", ""},
			&wp.Extension{Kind: wp.KindTheme, Name: "corp"}},
		{"relocated content dir", "in /srv/content/plugins/shop/shop.php:1 and /srv/content/db.php", []string{"", "", "", "/srv/content"}, plugin("shop")},
		{"relocated content dir, drop-in", "in /srv/content/db.php on line 9", []string{"", "", "", "/srv/content"},
			&wp.Extension{Kind: wp.KindDropin, Name: "db.php"}},
		{"relocated before wp-content", "/srv/shared-plugins/x/x.php then /w/wp-content/plugins/y/y.php",
			[]string{"/srv/shared-plugins", "", "", ""}, plugin("x")},
		{"nginx referrer is the client's word", "2026/11/23 01:36:14 [error] 1#1: *4 recv() failed (104: Connection reset by peer) while reading response header from upstream, client: 127.0.0.1, server: _, request: \"GET / HTTP/1.1\", upstream: \"fastcgi://unix:/run/php.sock:\", host: \"example.org\", referrer: \"https://example.org/wp-content/themes/t/x.css\"", nil, nil},
		{"Apache referer is the client's word", "[Mon Nov 23 02:14:00.358836 2026] [proxy_fcgi:error] [pid 1] [client 203.0.113.7:32094] AH01067: Failed to read FastCGI header, referer: https://example.org/wp-content/plugins/p/x.php", nil, nil},
		{"a path before the referrer", "request: \"GET /wp-content/plugins/p/ajax.php HTTP/1.1\", referrer: \"https://example.org/wp-content/themes/t/\"", nil, plugin("p")},
		{"dot dot", "/w/wp-content/plugins/../wp-config.php", nil, nil},
		{"plugins folder itself", "opendir(/w/wp-content/plugins/): failed", nil, nil},
		{"nothing", "2026/11/23 01:36:13 [notice] 9157#9157: start worker processes", nil, nil},
	}
	base, err := logsig.NewClassifier()
	require.NoError(t, err)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cl := base
			if c.dirs != nil {
				cl = base.WithDirs(c.dirs[0], c.dirs[1], c.dirs[2], c.dirs[3])
			}
			assert.Equal(t, c.want, cl.Classify(c.line).Blames)
		})
	}
	t.Run("WithDirs leaves the original alone", func(t *testing.T) {
		base.WithDirs("/srv/shared-plugins", "", "", "")
		assert.Nil(t, base.Classify("in /srv/shared-plugins/forms/forms.php:4").Blames)
	})
	t.Run("a root dir is ignored", func(t *testing.T) {
		assert.Nil(t, base.WithDirs("/", "", "", "").Classify("in /etc/passwd/x").Blames)
	})
}

// TestNewClassifierFragments adds signatures from a user's TOML, and
// checks a broken fragment's error says where and what.
func TestNewClassifierFragments(t *testing.T) {
	extra := []byte(`
[[signature]]
id = "redis-down"
category = "database"
severity = "fatal"
summary = "Redis, the object cache, is down."
match = ["RedisException: Connection refused"]

[[signature]]
id = "php-memory-exhausted"
category = "php"
severity = "error"
summary = "Overridden."
logs = ["php"]
regexp = 'Allowed memory size of (\d+) bytes'
`)
	cl, err := logsig.NewClassifier(extra)
	require.NoError(t, err)
	redis := "[23-Nov-2026 01:36:14 UTC] PHP Fatal error:  Uncaught RedisException: Connection refused in /w/wp-content/object-cache.php:731"
	l := cl.Classify(redis)
	assert.Equal(t, "redis-down", l.Signature, "a fragment's signature comes before the built-in php-uncaught")
	assert.Equal(t, "database", l.Category)
	assert.Equal(t, "fatal", l.Severity)
	assert.Equal(t, "Redis, the object cache, is down.", l.Summary)
	assert.Equal(t, &wp.Extension{Kind: wp.KindDropin, Name: "object-cache.php"}, l.Blames)

	mem := "[23-Nov-2026 01:36:14 UTC] PHP Fatal error:  Allowed memory size of 134217728 bytes exhausted"
	assert.Equal(t, "Overridden.", cl.Classify(mem).Summary, "same id replaces the built-in one")
	assert.Equal(t, "", cl.Classify("2026/11/23 01:36:14 [error] 1#1: Allowed memory size of 1 bytes").Signature,
		"logs = [\"php\"] keeps it off nginx lines")
	assert.Equal(t, "php-memory-exhausted", cl.Classify("Allowed memory size of 1 bytes").Signature,
		"a line of no known format is checked against every signature")

	builtin, err := logsig.NewClassifier()
	require.NoError(t, err)
	assert.Equal(t, "php-uncaught", builtin.Classify(redis).Signature)
	assert.Equal(t, "fatal", builtin.Classify(mem).Severity)

	second := []byte("[[signature]]\nid = \"redis-down\"\ncategory = \"disk\"\nseverity = \"warning\"\nsummary = \"Later wins.\"\nmatch = [\"RedisException\"]\n")
	cl2, err := logsig.NewClassifier(extra, second)
	require.NoError(t, err)
	assert.Equal(t, "Later wins.", cl2.Classify(redis).Summary, "a later fragment wins over an earlier one")

	t.Run("a regexp without a literal", func(t *testing.T) {
		cl, err := logsig.NewClassifier([]byte("[[signature]]\nid = \"any-case\"\ncategory = \"php\"\nseverity = \"warning\"\nsummary = \"s\"\nregexp = '(?i)kaboom'\n"))
		require.NoError(t, err)
		assert.Equal(t, "any-case", cl.Classify("KaBoOm").Signature)
		assert.Equal(t, "", cl.Classify("kabam").Signature)
	})

	sig := func(body string) string {
		return "[[signature]]\nid = \"my-sig\"\n" + body
	}
	const ok = "category = \"php\"\nseverity = \"error\"\nsummary = \"s\"\n"
	broken := []struct {
		name, fragment, want string
	}{
		{"TOML syntax", sig(ok + "match = [\"x\"\n"), `log signatures (fragment 2), line 6, signature "my-sig": `},
		{"unknown key", sig(ok + "regex = 'x'\n"), `signature "my-sig": unknown key "regex"`},
		// an unknown top-level key is the config loader's to refuse (cmd/wpfix: TestConfigFile)
		{"no id", "[[signature]]\n" + ok + "match = [\"x\"]\n", `signature "#1": id is missing`},
		{"bad id", "[[signature]]\nid = \"My Sig\"\n" + ok + "match = [\"x\"]\n", `signature "My Sig": id must be`},
		{"bad category", sig("category = \"network\"\nseverity = \"error\"\nsummary = \"s\"\nmatch = [\"x\"]\n"),
			`signature "my-sig": category "network" is not one of upstream, php-fpm, php, database, disk`},
		{"bad severity", sig("category = \"php\"\nseverity = \"critical\"\nsummary = \"s\"\nmatch = [\"x\"]\n"),
			`severity "critical" is not one of fatal, error, warning`},
		{"no summary", sig("category = \"php\"\nseverity = \"error\"\nmatch = [\"x\"]\n"), `summary is missing`},
		{"no match", sig(ok), `give match (a list of substrings) or regexp`},
		{"both", sig(ok + "match = [\"x\"]\nregexp = 'x'\n"), `give match or regexp, not both`},
		{"empty substring", sig(ok + "match = [\"\"]\n"), `match holds an empty string`},
		{"match not a list", sig(ok + "match = \"x\"\n"), `match must be a list of strings`},
		{"bad regexp", sig(ok + "regexp = 'a(b'\n"), `signature "my-sig": regexp: error parsing regexp: missing closing )`},
		{"regexp matches all", sig(ok + "regexp = 'x*'\n"), `matches an empty line`},
		{"bad log", sig(ok + "logs = [\"iis\"]\nmatch = [\"x\"]\n"), `logs: "iis" is not one of nginx, apache, php-fpm, php, mariadb`},
		{"id twice", sig(ok+"match = [\"x\"]\n") + sig(ok+"match = [\"y\"]\n"), `signature "my-sig": the id is used twice`},
	}
	for _, c := range broken {
		t.Run(c.name, func(t *testing.T) {
			_, err := logsig.NewClassifier(extra, []byte(c.fragment))
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
			var se *logsig.SignatureError
			require.True(t, errors.As(err, &se))
			assert.Equal(t, 2, se.Fragment)
			assert.Contains(t, err.Error(), "(fragment 2)")
		})
	}
}

// benchLines returns about size bytes of lines from the test logs, in a
// fixed interleaving, as a site's logs read together.
func benchLines(b *testing.B, size int) ([]string, int64) {
	var all []string
	for _, f := range logFiles(b) {
		all = append(all, logLines(b, f)...)
	}
	var out []string
	n := 0
	for i := 0; n < size; i++ {
		l := all[(i*7)%len(all)]
		out = append(out, l)
		n += len(l) + 1
	}
	return out, int64(n)
}

// BenchmarkClassify classifies ~10 MB of real and hand-written log lines.
// go test ./wp/logsig -run '^$' -bench BenchmarkClassify -benchmem
func BenchmarkClassify(b *testing.B) {
	cl := goldenClassifier(b)
	lines, size := benchLines(b, 10<<20)
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		for _, l := range lines {
			cl.Classify(l)
		}
	}
}

// FuzzClassify checks Classify never panics and what it returns holds
// together. The invariant of Blames: nil, or a known kind and a name that is
// a single path element — not empty, no "/", not "." or ".." — found in the
// line; a drop-in's name is one WordPress knows, a single-file plugin's ends
// in ".php".
func FuzzClassify(f *testing.F) {
	for _, file := range logFiles(f) {
		for _, l := range logLines(f, file) {
			f.Add(l)
		}
	}
	f.Add("/wp-content/plugins/")
	f.Add("('/plugins/x/x.php')")
	f.Add("/srv/content/mu-plugins/../x.php")
	base, err := logsig.NewClassifier()
	require.NoError(f, err)
	cl := base.WithDirs("/srv/plugins", "/srv/mu", "/srv/themes", "/srv/content")
	dropins := []string{"advanced-cache.php", "db.php", "db-error.php", "install.php", "maintenance.php",
		"object-cache.php", "php-error.php", "fatal-error-handler.php", "sunrise.php", "blog-deleted.php",
		"blog-inactive.php", "blog-suspended.php"}
	f.Fuzz(func(t *testing.T, line string) {
		l := cl.Classify(line)
		assert.Equal(t, strings.TrimRight(line, "\r\n"), l.Text)
		assert.Equal(t, 1, l.Count)
		set := []bool{l.Signature != "", l.Category != "", l.Severity != "", l.Summary != ""}
		assert.NotContains(t, set, !set[0], "a signature comes with its category, severity and summary")
		if tm, ok := logsig.ParseTime(line); ok {
			assert.True(t, tm.Equal(l.Time))
		} else {
			assert.True(t, l.Time.IsZero())
		}
		if e := l.Blames; e != nil {
			assert.Contains(t, []string{wp.KindPlugin, wp.KindMUPlugin, wp.KindDropin, wp.KindTheme}, e.Kind)
			assert.NotEmpty(t, e.Name)
			assert.NotContains(t, e.Name, "/")
			assert.NotContains(t, []string{".", ".."}, e.Name)
			assert.Contains(t, line, e.Name)
			if e.Kind == wp.KindDropin {
				assert.Contains(t, dropins, e.Name)
			}
		}
		folded := logsig.Fold([]logsig.Line{l, l})
		if assert.Len(t, folded, 1) {
			assert.Equal(t, 2, folded[0].Count)
		}
	})
}
