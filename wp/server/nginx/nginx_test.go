package nginx

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/wpfix/wpfix/wp/server/conf"
	"github.com/wpfix/wpfix/wp/server/internal/conftest"
)

func TestParseNginx(t *testing.T) {
	dirs := parse([]byte(`# comment
user  www-data;   # trailing comment
error_log "/var/log/with space.log" warn;
error_log '/var/log/single\'quote.log';
log_format main "a;b{c}" 'x\ty';
http{server{root /a#b;location ~ \.php$ {fastcgi_pass unix:/s.sock;}}}
events {
`), "f.conf")
	type flat struct {
		Name  string
		Args  []string
		Line  int
		Block int
	}
	var got []flat
	var walk func([]directive)
	walk = func(ds []directive) {
		for _, d := range ds {
			got = append(got, flat{d.name, d.args, d.line, len(d.block)})
			walk(d.block)
		}
	}
	walk(dirs)
	assert.Equal(t, []flat{
		{"user", []string{"www-data"}, 2, 0},
		{"error_log", []string{"/var/log/with space.log", "warn"}, 3, 0},
		{"error_log", []string{"/var/log/single'quote.log"}, 4, 0},
		{"log_format", []string{"main", "a;b{c}", "x\ty"}, 5, 0},
		{"http", nil, 6, 1},
		{"server", nil, 6, 2},
		{"root", []string{"/a#b"}, 6, 0},
		{"location", []string{"~", `\.php$`}, 6, 1},
		{"fastcgi_pass", []string{"unix:/s.sock"}, 6, 0},
		{"events", nil, 7, 0},
	}, got, "a # inside a word is no comment; a block left open is closed")
	assert.NotNil(t, dirs[len(dirs)-1].block, "an empty block is still a block")

	assert.Len(t, parse([]byte("} a b; } c;"), "f"), 2, "stray braces are ignored")
	assert.Empty(t, parse([]byte("error_log /x"), "f"), "no ;, no directive")
}

func TestParseNginxCmd(t *testing.T) {
	conftest.CheckParseCmd(t, ParseCmd, []conftest.CmdCase[Cmd]{
		{Name: "title", Args: []string{"nginx: master process /usr/sbin/nginx -p /srv/n -c n.conf -e logs/e.log"},
			Want: Cmd{bin: "/usr/sbin/nginx", prefix: "/srv/n", conf: "n.conf", errorLog: "logs/e.log"}, OK: true},
		{Name: "joined flags", Args: []string{"nginx: master process nginx -p/srv/n -cn.conf"},
			Want: Cmd{bin: "nginx", prefix: "/srv/n", conf: "n.conf"}, OK: true},
		{Name: "-g in the title", Args: []string{"nginx: master process /usr/sbin/nginx -g daemon on; master_process on; -c /x.conf"},
			Want: Cmd{bin: "/usr/sbin/nginx", conf: "/x.conf", globals: "daemon on; master_process on;"}, OK: true},
		{Name: "kept arguments", Args: []string{"/usr/sbin/nginx", "-g", "daemon off;", "-c", "/etc/nginx/alt.conf"},
			Want: Cmd{bin: "/usr/sbin/nginx", conf: "/etc/nginx/alt.conf", globals: "daemon off;"}, OK: true},
		{Name: "worker", Args: []string{"nginx: worker process"}, Want: Cmd{}, OK: false},
		{Name: "cache manager", Args: []string{"nginx: cache manager process"}, Want: Cmd{}, OK: false},
		{Name: "not nginx", Args: []string{"/usr/bin/vim", "/etc/nginx/nginx.conf"}, Want: Cmd{}, OK: false},
		{Name: "empty", Args: nil, Want: Cmd{}, OK: false},
	})
	d := Cmd{bin: "/usr/sbin/nginx"}.defaults()
	assert.Equal(t, Cmd{bin: "/usr/sbin/nginx", prefix: "/usr/share/nginx", conf: "/etc/nginx/nginx.conf",
		errorLog: "/var/log/nginx/error.log"}, d, "Debian's compiled-in paths")
	d = Cmd{bin: "/usr/local/nginx/sbin/nginx"}.defaults()
	assert.Equal(t, "/usr/local/nginx/conf/nginx.conf", d.conf, "a source build's")
	d = Cmd{bin: "/usr/local/nginx/sbin/nginx", prefix: "/srv/n/"}.defaults()
	assert.Equal(t, "/srv/n/conf/nginx.conf", d.conf, "-p moves a source build's relative config")
}

func TestParseDuration(t *testing.T) {
	refused := map[string]error{
		"":                      strconv.ErrSyntax,
		"s":                     strconv.ErrSyntax,
		"ms":                    strconv.ErrSyntax,
		"1x":                    strconv.ErrSyntax,
		"1s1m":                  strconv.ErrSyntax, // out of order
		"1s1s":                  strconv.ErrSyntax,
		"1m1m":                  strconv.ErrSyntax,
		"1ms1s":                 strconv.ErrSyntax,
		"-1s":                   strconv.ErrSyntax,
		"1.5s":                  strconv.ErrSyntax,
		"1s 2 3":                strconv.ErrSyntax,
		"forever":               strconv.ErrSyntax,
		"300y":                  strconv.ErrRange, // beyond time.Duration
		"99999999999d":          strconv.ErrRange,
		"9223372036854775807":   strconv.ErrRange,
		"92233720368547758070s": strconv.ErrRange,
	}
	conftest.CheckDurations(t, ParseDuration, map[string]time.Duration{
		"60":        time.Minute,
		"60s":       time.Minute,
		"500ms":     500 * time.Millisecond,
		"1m30s":     90 * time.Second,
		"1m 30s":    90 * time.Second,
		"1m30":      90 * time.Second,
		"1h":        time.Hour,
		"2d":        48 * time.Hour,
		"1w":        7 * 24 * time.Hour,
		"1M":        30 * 24 * time.Hour,
		"1y":        365 * 24 * time.Hour,
		"1y1M1w1d":  (365 + 30 + 7 + 1) * 24 * time.Hour,
		"1s500ms":   1500 * time.Millisecond,
		"0":         0,
		"0s":        0,
		"007":       7 * time.Second,
		"1h 1":      time.Hour + time.Second,
		"100000000": 100000000 * time.Second,
	}, refused)
	for in := range refused {
		_, err := ParseDuration(in)
		if err != nil {
			assert.Contains(t, err.Error(), "parse nginx time", in)
		}
	}
}

func FuzzNginxErrorLogs(f *testing.F) {
	conftest.Seed(f, filepath.Join("..", "testdata", "logfind"), func(p string) bool {
		return strings.Contains(p, "nginx") && !strings.HasSuffix(p, ".json")
	})
	f.Add([]byte(`include x; http { include y; server { root /var/www/site; error_log a; include z; } }`))
	f.Add([]byte("\"unterminated\\"))
	f.Fuzz(func(t *testing.T, data []byte) {
		reads := 0
		c := Read(conftest.Files(data, &reads), Cmd{bin: "/usr/sbin/nginx", globals: string(data), Who: "nginx master, pid 1"})
		conftest.CheckLogs(t, c.Logs("/var/www/site").Logs, reads)
		c.Timeouts("/var/www/site")
	})
}

// TestWarnings: what nginx could not read, and the values it would refuse,
// are warnings with their file and line; the rest is read as before.
func TestWarnings(t *testing.T) {
	fsys := fstest.MapFS{
		"etc/nginx/nginx.conf": {Data: []byte("error_log /var/log/nginx/main.log;\n" +
			"include /etc/nginx/missing.conf;\n" +
			"include /etc/nginx/conf.d/*.conf;\n" +
			"http {\n  server {\n    root /var/www/site;\n    fastcgi_read_timeout forever;\n" +
			"    location ~ \\.php$ { fastcgi_pass unix:/run/php.sock; }\n  }\n}\n")},
	}
	c := Read(conf.NewFiles(fsys), Cmd{bin: "/usr/sbin/nginx", Who: "nginx master, pid 1"})
	assert.Equal(t, []conf.Warning{
		{File: "/etc/nginx/nginx.conf", Line: 2, Directive: "include",
			Message: "/etc/nginx/missing.conf could not be read: file does not exist"},
		{File: "/etc/nginx/nginx.conf", Line: 7, Directive: "fastcgi_read_timeout",
			Message: `nginx refuses the value "forever"; it is passed over`},
	}, c.Warnings, "a glob that matches nothing is fine with nginx")
	web, targets := c.Timeouts("/var/www/site")
	assert.Equal(t, []conf.Target{"unix:/run/php.sock"}, targets)
	assert.Equal(t, []conf.WebTimeout{{Server: "nginx", Master: "nginx master, pid 1", Directive: "fastcgi_read_timeout",
		Value: conf.DefaultWebTimeout, ServesSite: true}}, web)

	c = Read(conf.NewFiles(fstest.MapFS{}), Cmd{bin: "/usr/sbin/nginx", Who: "nginx master, pid 1"})
	assert.Equal(t, []conf.Warning{{File: "/etc/nginx/nginx.conf", Message: "could not be read: file does not exist"}}, c.Warnings)
}
