package wp_test

import (
	"context"
	"database/sql"
	"errors"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wpfix/wpfix/wp"
	"github.com/wpfix/wpfix/wp/wptest"
)

// goldenClassifier classifies the test logs: the built-in signatures, and a
// plugin folder relocated to /srv/shared-plugins, as some lines have it.
func goldenClassifier(t testing.TB) *wp.Classifier {
	cl, err := wp.NewClassifier()
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

// goldenLine is a LogLine as the golden files hold it: a time without a
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

func golden(lines []wp.LogLine) []goldenLine {
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
			var lines []wp.LogLine
			for _, l := range logLines(t, file) {
				c := cl.Classify(l)
				if c.Signature != "" {
					assert.NotEmpty(t, c.Summary, c.Signature)
				}
				lines = append(lines, c)
			}
			wp.AssertGolden(t, strings.TrimSuffix(file, ".log")+".golden.json", "TestLogClassifyGolden", struct {
				Lines  []goldenLine `json:"lines"`
				Folded []goldenLine `json:"folded"`
			}{golden(lines), golden(wp.Fold(lines))})
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
	base, err := wp.NewClassifier()
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

// TestParseLogTime checks each log's timestamp format.
func TestParseLogTime(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	local := func(y int, mo time.Month, d, h, mi, s, ns int) time.Time {
		return time.Date(y, mo, d, h, mi, s, ns, time.Local)
	}
	cases := []struct {
		name, line string
		want       time.Time // zero: no time
	}{
		{"nginx", "2026/11/23 00:09:45 [error] 1#1: *4 recv() failed", local(2026, 11, 23, 0, 9, 45, 0)},
		{"php-fpm", "[23-Nov-2026 00:09:45] WARNING: [pool www] child 1 exited on signal 9 (SIGKILL)", local(2026, 11, 23, 0, 9, 45, 0)},
		{"php-fpm, microseconds", "[23-Nov-2026 00:09:45.250000] NOTICE: ready", local(2026, 11, 23, 0, 9, 45, 250000000)},
		{"PHP UTC", "[23-Nov-2026 00:10:39 UTC] PHP Fatal error:  x", time.Date(2026, 11, 23, 0, 10, 39, 0, time.UTC)},
		{"PHP named zone", "[23-Jul-2026 00:10:39 Europe/Berlin] PHP Warning:  x", time.Date(2026, 7, 23, 0, 10, 39, 0, berlin)},
		{"PHP unknown zone is local", "[23-Nov-2026 00:10:39 Mars/Olympus] PHP Warning:  x", local(2026, 11, 23, 0, 10, 39, 0)},
		{"Apache", "[Mon Nov 23 00:00:00.123456 2026] [proxy_fcgi:error] [pid 1] AH01067: Failed to read FastCGI header", local(2026, 11, 23, 0, 0, 0, 123456000)},
		{"Apache, no fraction", "[Mon Nov 23 07:08:09 2026] [core:error] x", local(2026, 11, 23, 7, 8, 9, 0)},
		{"Apache, space-padded day", "[Tue Nov  3 07:08:09 2026] [core:error] x", local(2026, 11, 3, 7, 8, 9, 0)},
		{"MariaDB, space-padded hour", "2026-11-23  1:00:33 0 [Note] Starting MariaDB", local(2026, 11, 23, 1, 0, 33, 0)},
		{"MariaDB", "2026-11-23 13:00:33 8 [Warning] Aborted connection 8", local(2026, 11, 23, 13, 0, 33, 0)},
		{"MySQL 8 ISO", "2026-11-23T01:00:33.123456Z 0 [System] [MY-010116] [Server] starting", time.Date(2026, 11, 23, 1, 0, 33, 123456000, time.UTC)},
		{"ISO with offset", "2026-11-23T01:00:33+02:00 host php-fpm[1]: x", time.Date(2026, 11, 23, 1, 0, 33, 0, time.FixedZone("", 2*3600))},
		{"WordPress debug.log", "[23-Nov-2026 01:35:59 UTC] PHP Fatal error:  Uncaught Error", time.Date(2026, 11, 23, 1, 35, 59, 0, time.UTC)},
		{"stack trace line", "#0 /w/wp-settings.php(447): include_once()", time.Time{}},
		{"php-fpm undecorated", "NOTICE: PHP message: PHP Warning:  x", time.Time{}},
		{"empty", "", time.Time{}},
		{"30 February", "2026/02/30 00:00:00 [error] x", time.Time{}},
		{"hour 24", "2026/11/23 24:00:00 [error] x", time.Time{}},
		{"month 13", "2026-13-01 00:00:00 0 [Note] x", time.Time{}},
		{"bad month name", "[23-Foo-2026 00:09:45] NOTICE: x", time.Time{}},
		{"time not at the start", "x 2026/11/23 00:09:45 [error]", time.Time{}},
		{"truncated", "[23-Nov-2026 00:09", time.Time{}},
		{"zone not closed", "[23-Nov-2026 00:10:39 UTC PHP Fatal error", time.Time{}},
		{"zone with a path", "[23-Nov-2026 00:10:39 ../../etc/passwd] x", local(2026, 11, 23, 0, 10, 39, 0)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ok := wp.ParseLogTime(c.line)
			assert.Equal(t, !c.want.IsZero(), ok)
			if c.want.IsZero() {
				assert.True(t, got.IsZero())
				return
			}
			assert.True(t, c.want.Equal(got), "want %v, got %v", c.want, got)
			assert.Equal(t, c.want.Location().String(), got.Location().String())
		})
	}
}

// TestFold checks which lines fold together.
func TestFold(t *testing.T) {
	cl := goldenClassifier(t)
	classify := func(lines ...string) []wp.LogLine {
		var out []wp.LogLine
		for _, l := range lines {
			out = append(out, cl.Classify(l))
		}
		return out
	}
	reset := func(ts, conn, port string) string {
		return ts + " [error] 9158#9158: *" + conn + " recv() failed (104: Connection reset by peer) while reading response header from upstream, client: 127.0.0.1:" + port + ", server: _, request: \"GET / HTTP/1.1\""
	}
	t.Run("repeats differing in numbers fold, keeping the latest", func(t *testing.T) {
		in := classify(
			reset("2026/11/23 01:36:14", "5", "40001"),
			"2026/11/23 01:36:14 [notice] 9157#9157: start worker processes",
			reset("2026/11/23 01:36:15", "8", "40002"),
			reset("2026/11/23 01:36:16", "12", "40003"),
		)
		out := wp.Fold(in)
		require.Len(t, out, 2)
		assert.Equal(t, "", out[0].Signature)
		assert.Equal(t, 1, out[0].Count)
		assert.Equal(t, "nginx-upstream-reset", out[1].Signature)
		assert.Equal(t, 3, out[1].Count)
		assert.Equal(t, in[3].Text, out[1].Text)
		assert.True(t, in[3].Time.Equal(out[1].Time))
	})
	t.Run("hex, pids and durations are masked", func(t *testing.T) {
		out := wp.Fold(classify(
			"[23-Nov-2026 01:36:14] WARNING: [pool www] child 9156 exited on signal 9 (SIGKILL) after 1.390662 seconds from start",
			"[24-Nov-2026 03:00:00] WARNING: [pool www] child 12 exited on signal 9 (SIGKILL) after 0.045253 seconds from start",
			"[23-Nov-2026 01:36:14 UTC] PHP Fatal error:  Uncaught Error: object at 0x7ffd5e8c in /w/wp-content/plugins/a/a.php:8",
			"[23-Nov-2026 01:36:15 UTC] PHP Fatal error:  Uncaught Error: object at 0xdeadbeef in /w/wp-content/plugins/a/a.php:9",
		))
		require.Len(t, out, 2)
		assert.Equal(t, 2, out[0].Count)
		assert.Equal(t, 2, out[1].Count)
	})
	t.Run("a different blame, signature or word does not fold", func(t *testing.T) {
		out := wp.Fold(classify(
			"[23-Nov-2026 01:36:14 UTC] PHP Fatal error:  Uncaught Error: boom in /w/wp-content/plugins/a/a.php:8",
			"[23-Nov-2026 01:36:14 UTC] PHP Fatal error:  Uncaught Error: boom in /w/wp-content/plugins/b/a.php:8",
			"[23-Nov-2026 01:36:14 UTC] PHP Fatal error:  Uncaught Error: bang in /w/wp-content/plugins/a/a.php:8",
			"[23-Nov-2026 01:36:14 UTC] PHP Parse error:  boom in /w/wp-content/plugins/a/a.php:8",
		))
		assert.Len(t, out, 4)
	})
	t.Run("counts add up across folds", func(t *testing.T) {
		once := wp.Fold(classify(reset("2026/11/23 01:36:14", "5", "1"), reset("2026/11/23 01:36:15", "6", "2")))
		require.Len(t, once, 1)
		twice := wp.Fold(append(once, classify(reset("2026/11/23 01:36:16", "7", "3"))...))
		require.Len(t, twice, 1)
		assert.Equal(t, 3, twice[0].Count)
	})
	t.Run("empty", func(t *testing.T) {
		assert.Empty(t, wp.Fold(nil))
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
	cl, err := wp.NewClassifier(extra)
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

	builtin, err := wp.NewClassifier()
	require.NoError(t, err)
	assert.Equal(t, "php-uncaught", builtin.Classify(redis).Signature)
	assert.Equal(t, "fatal", builtin.Classify(mem).Severity)

	second := []byte("[[signature]]\nid = \"redis-down\"\ncategory = \"disk\"\nseverity = \"warning\"\nsummary = \"Later wins.\"\nmatch = [\"RedisException\"]\n")
	cl2, err := wp.NewClassifier(extra, second)
	require.NoError(t, err)
	assert.Equal(t, "Later wins.", cl2.Classify(redis).Summary, "a later fragment wins over an earlier one")

	t.Run("a regexp without a literal", func(t *testing.T) {
		cl, err := wp.NewClassifier([]byte("[[signature]]\nid = \"any-case\"\ncategory = \"php\"\nseverity = \"warning\"\nsummary = \"s\"\nregexp = '(?i)kaboom'\n"))
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
		{"unknown top-level key", "signatures = 1\n", `unknown key "signatures"`},
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
			_, err := wp.NewClassifier(extra, []byte(c.fragment))
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
			var se *wp.SignatureError
			require.True(t, errors.As(err, &se))
			assert.Equal(t, 2, se.Fragment)
			assert.Contains(t, err.Error(), "(fragment 2)")
		})
	}
}

// logMark is where each of a stack's logs ended before a step.
type logMark map[string]int64

func markLogs(t *testing.T, st *wptest.Stack) logMark {
	t.Helper()
	m := logMark{}
	for _, p := range []string{st.NginxErrorLog, st.FPMLog, st.PHPErrorLog, st.DebugLog} {
		fi, err := os.Stat(p)
		if err == nil {
			m[p] = fi.Size()
		}
	}
	return m
}

// newLines classifies the whole lines log has gained since the mark.
func newLines(t *testing.T, cl *wp.Classifier, log string, m logMark) []wp.LogLine {
	t.Helper()
	b, err := os.ReadFile(log)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	require.NoError(t, err)
	b = b[min(m[log], int64(len(b))):]
	if i := strings.LastIndexByte(string(b), '\n'); i >= 0 {
		b = b[:i]
	} else {
		return nil
	}
	var out []wp.LogLine
	for _, l := range strings.Split(string(b), "\n") {
		out = append(out, cl.Classify(l))
	}
	return out
}

// waitSignature waits until log has a new line with signature sig and
// returns it; the workers' logs are written when they die, not when nginx
// answers.
func waitSignature(t *testing.T, cl *wp.Classifier, log string, m logMark, sig ...string) wp.LogLine {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		lines := newLines(t, cl, log, m)
		for _, l := range lines {
			if slices.Contains(sig, l.Signature) {
				return l
			}
		}
		if time.Now().After(deadline) {
			var texts []string
			for _, l := range lines {
				texts = append(texts, l.Signature+"\t"+l.Text)
			}
			t.Fatalf("no line with signature %v in %s; new lines:\n%s", sig, log, strings.Join(texts, "\n"))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestClassifyLiveStack breaks a real stack in each way and classifies the
// real new lines of its logs: the expected signature is there, blaming the
// culprit where the line names it.
func TestClassifyLiveStack(t *testing.T) {
	cl, err := wp.NewClassifier()
	require.NoError(t, err)

	t.Run("kill worker", func(t *testing.T) {
		t.Parallel()
		st := wptest.NewStack(t, wptest.Options{})
		st.Break(t, wptest.BreakKillWorker)
		m := markLogs(t, st)
		require.Equal(t, 502, st.Get(t, "/").Status)
		l := waitSignature(t, cl, st.FPMLog, m, "fpm-child-killed")
		assert.Equal(t, "fatal", l.Severity)
		assert.Nil(t, l.Blames, "php-fpm does not say what the worker ran")
		assert.False(t, l.Time.IsZero())
		l = waitSignature(t, cl, st.NginxErrorLog, m, "nginx-upstream-reset", "nginx-upstream-closed")
		assert.Equal(t, "upstream", l.Category)
		assert.Nil(t, l.Blames)
	})

	t.Run("timeout", func(t *testing.T) {
		t.Parallel()
		st := wptest.NewStack(t, wptest.Options{RequestTerminateTimeout: 2 * time.Second})
		st.Break(t, wptest.BreakTimeout)
		m := markLogs(t, st)
		require.Equal(t, 502, st.Get(t, "/").Status)
		l := waitSignature(t, cl, st.FPMLog, m, "fpm-request-timeout")
		assert.Contains(t, l.Text, "script '"+filepath.Join(st.Root, "index.php")+"'")
		assert.Nil(t, l.Blames, "the script is index.php: nobody's")
		waitSignature(t, cl, st.FPMLog, m, "fpm-child-terminated")
		waitSignature(t, cl, st.NginxErrorLog, m, "nginx-upstream-reset", "nginx-upstream-closed")
	})

	t.Run("PHP fatals", func(t *testing.T) {
		t.Parallel()
		st := wptest.NewStack(t, wptest.Options{})
		step := func(name string, breakIt func() wp.Extension, undo func(), sig string) {
			t.Helper()
			m := markLogs(t, st)
			culprit := breakIt()
			assert.Equal(t, 500, st.Get(t, "/").Status, name)
			l := waitSignature(t, cl, st.DebugLog, m, sig)
			assert.Equal(t, &culprit, l.Blames, "%s: %s", name, l.Text)
			assert.Equal(t, time.UTC, l.Time.Location(), "debug.log's times name their zone")
			undo()
		}
		step("plugin", func() wp.Extension { return st.Break(t, wptest.BreakFatal)[0] },
			func() { st.SetOption(t, "active_plugins", []string{}) }, "php-uncaught")
		var template string
		st.OptionValue(t, "template", &template)
		step("child theme", func() wp.Extension { return st.Break(t, wptest.BreakChildTheme)[0] },
			func() { st.ActivateTheme(t, template, template) }, "php-uncaught")
		step("mu-plugin", func() wp.Extension {
			st.AddMUPlugin(t, "wptest-mu-fatal.php", wptest.Fatal)
			return wp.Extension{Kind: wp.KindMUPlugin, Name: "wptest-mu-fatal.php"}
		}, func() { require.NoError(t, os.Remove(filepath.Join(st.MUPluginDir, "wptest-mu-fatal.php"))) }, "php-uncaught")
		step("drop-in", func() wp.Extension {
			st.AddDropin(t, "object-cache.php", wptest.Fatal)
			return wp.Extension{Kind: wp.KindDropin, Name: "object-cache.php"}
		}, func() { require.NoError(t, os.Remove(filepath.Join(st.ContentDir, "object-cache.php"))) }, "php-uncaught")
		step("single-file plugin out of memory", func() wp.Extension {
			p := wptest.Plugin{Slug: "wptest-memory", SingleFile: true, Body: "$wptest_big = str_repeat( 'x', 200 * 1024 * 1024 );"}
			st.ActivatePlugins(t, st.AddPlugin(t, p))
			return wp.Extension{Kind: wp.KindPlugin, Name: p.File()}
		}, func() { st.SetOption(t, "active_plugins", []string{}) }, "php-memory-exhausted")
		assert.Equal(t, 200, st.Get(t, "/").Status, "healthy again")
	})

	t.Run("upstream unreachable", func(t *testing.T) {
		t.Parallel()
		st := wptest.NewStack(t, wptest.Options{})
		// nginx's fastcgi_pass names the pool's socket beside the docroot.
		sock := filepath.Join(filepath.Dir(st.Root), "php-fpm.sock")
		require.FileExists(t, sock, "wptest keeps php-fpm's socket beside the docroot")
		st.StopPHP()
		require.NoError(t, os.Remove(sock))

		m := markLogs(t, st)
		assert.Equal(t, 502, st.Get(t, "/").Status)
		waitSignature(t, cl, st.NginxErrorLog, m, "nginx-upstream-missing")

		// A listener that never accepts, with the smallest backlog: the
		// queue overflows as when every worker is busy.
		fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
		require.NoError(t, err)
		require.NoError(t, syscall.Bind(fd, &syscall.SockaddrUnix{Name: sock}))
		require.NoError(t, syscall.Listen(fd, 0))
		require.NoError(t, os.Chmod(sock, 0o666))
		m = markLogs(t, st)
		var wg sync.WaitGroup
		for range 4 {
			wg.Add(1)
			go func() { defer wg.Done(); st.Get(t, "/") }()
		}
		waitSignature(t, cl, st.NginxErrorLog, m, "nginx-upstream-busy")
		syscall.Close(fd) // the queued requests are reset
		wg.Wait()

		m = markLogs(t, st) // the socket file stays, nobody listens
		assert.Equal(t, 502, st.Get(t, "/").Status)
		waitSignature(t, cl, st.NginxErrorLog, m, "nginx-upstream-refused")

		// A backend that reads the request and hangs up.
		require.NoError(t, os.Remove(sock))
		ln, err := net.Listen("unix", sock)
		require.NoError(t, err)
		t.Cleanup(func() { ln.Close() })
		require.NoError(t, os.Chmod(sock, 0o666))
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				buf := make([]byte, 4096)
				c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
				for {
					if _, err := c.Read(buf); err != nil {
						break
					}
				}
				c.Close()
			}
		}()
		m = markLogs(t, st)
		assert.Equal(t, 502, st.Get(t, "/").Status)
		waitSignature(t, cl, st.NginxErrorLog, m, "nginx-upstream-closed")
	})

	t.Run("database", func(t *testing.T) {
		t.Parallel()
		st := wptest.NewStack(t, wptest.Options{})
		root, err := sql.Open("mysql", "root@unix("+st.DBSocket+")/")
		require.NoError(t, err)
		t.Cleanup(func() { root.Close() })
		ctx := context.Background()
		admin, err := root.Conn(ctx)
		require.NoError(t, err)
		defer admin.Close()
		// MariaDB's smallest max_connections is 10; take them all.
		_, err = admin.ExecContext(ctx, "SET GLOBAL max_connections = 10")
		require.NoError(t, err)
		var held []*sql.Conn
		for range 12 {
			if c, err := st.DB().Conn(ctx); err == nil {
				held = append(held, c)
			}
		}
		m := markLogs(t, st)
		assert.Equal(t, 500, st.Get(t, "/").Status)
		l := waitSignature(t, cl, st.DebugLog, m, "db-too-many-connections")
		assert.Nil(t, l.Blames, "core's wpdb is nobody's")
		for _, c := range held {
			c.Close()
		}

		st.StopDatabase()
		m = markLogs(t, st)
		assert.Equal(t, 500, st.Get(t, "/").Status)
		waitSignature(t, cl, st.DebugLog, m, "db-unreachable")
	})
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
// go test ./wp -run '^$' -bench BenchmarkClassify -benchmem
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
	base, err := wp.NewClassifier()
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
		if tm, ok := wp.ParseLogTime(line); ok {
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
		folded := wp.Fold([]wp.LogLine{l, l})
		if assert.Len(t, folded, 1) {
			assert.Equal(t, 2, folded[0].Count)
		}
	})
}

// FuzzParseLogTime checks ParseLogTime never panics, and a time it returns
// is the one the line spells.
func FuzzParseLogTime(f *testing.F) {
	for _, s := range []string{"2026/11/23 00:09:45 [error]", "[23-Nov-2026 00:09:45] WARNING:", "[23-Nov-2026 00:10:39 UTC] PHP",
		"[23-Nov-2026 00:10:39 Europe/Berlin] PHP", "[Mon Nov 23 00:00:00.123456 2026] [core:error]", "2026-11-23  1:00:33 0 [Note]",
		"2026-11-23T01:00:33.123456Z 0", "2026-11-23T01:00:33-07:30 x", "[23-Nov-2026 00:09:45.5] NOTICE"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		tm, ok := wp.ParseLogTime(line)
		if !ok {
			assert.True(t, tm.IsZero())
			return
		}
		again, _ := wp.ParseLogTime(line)
		assert.True(t, tm.Equal(again))
		head := line[:min(len(line), 40)]
		assert.True(t, strings.Contains(head, tm.Format("2006")) || tm.Location() != time.Local && tm.Location() != time.UTC,
			"year %d in %q", tm.Year(), head)
		if tm.Location() == time.UTC && !strings.Contains(head, "+") && !strings.Contains(head, "-0") {
			clock := tm.Format("15:04:05")
			padded := strings.Replace(tm.Format("15:04:05"), "0", " ", 1)
			assert.True(t, strings.Contains(head, clock) || tm.Hour() < 10 && strings.Contains(head, padded), "%s in %q", clock, head)
		}
	})
}
