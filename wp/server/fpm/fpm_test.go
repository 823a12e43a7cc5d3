package fpm

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wpfix/wpfix/wp/server/conf"
	"github.com/wpfix/wpfix/wp/server/internal/conftest"
)

func TestParseFPMCmd(t *testing.T) {
	conftest.CheckParseCmd(t, ParseCmd, []conftest.CmdCase[Cmd]{
		{Name: "title", Args: []string{"php-fpm: master process (/etc/php/8.2/fpm/php-fpm.conf)"},
			Want: Cmd{conf: "/etc/php/8.2/fpm/php-fpm.conf"}, OK: true},
		{Name: "title with a space", Args: []string{"php-fpm: master process (/srv/my conf/php-fpm.conf)"},
			Want: Cmd{conf: "/srv/my conf/php-fpm.conf"}, OK: true},
		{Name: "kept arguments", Args: []string{"/usr/sbin/php-fpm8.2", "-F", "-y", "/x/fpm.conf", "-c", "/x/php.ini", "-p", "/x"},
			Want: Cmd{bin: "/usr/sbin/php-fpm8.2", conf: "/x/fpm.conf", phpIni: "/x/php.ini", prefix: "/x"}, OK: true},
		{Name: "long options", Args: []string{"php-fpm", "--fpm-config=/x/fpm.conf", "--php-ini", "/x"},
			Want: Cmd{bin: "php-fpm", conf: "/x/fpm.conf", phpIni: "/x"}, OK: true},
		{Name: "Debian default", Args: []string{"/usr/sbin/php-fpm8.3", "--nodaemonize"},
			Want: Cmd{bin: "/usr/sbin/php-fpm8.3", conf: "/etc/php/8.3/fpm/php-fpm.conf"}, OK: true},
		{Name: "pool", Args: []string{"php-fpm: pool www"}, Want: Cmd{}, OK: false},
		{Name: "other", Args: []string{"/usr/bin/php", "-r", "1;"}, Want: Cmd{}, OK: false},
	})
}

func TestParseDuration(t *testing.T) {
	conftest.CheckDurations(t, ParseDuration, map[string]time.Duration{
		"0":    0,
		"30":   30 * time.Second,
		"30s":  30 * time.Second,
		"5m":   5 * time.Minute,
		"2h":   2 * time.Hour,
		"1d":   24 * time.Hour,
		"0s":   0,
		"0300": 300 * time.Second,
	}, map[string]error{
		"":                     strconv.ErrSyntax,
		"s":                    strconv.ErrSyntax,
		"30x":                  strconv.ErrSyntax,
		"1.5m":                 strconv.ErrSyntax,
		"-5":                   strconv.ErrSyntax,
		"+5":                   strconv.ErrSyntax,
		" 5":                   strconv.ErrSyntax,
		"5ms":                  strconv.ErrSyntax,
		"2147483648":           strconv.ErrRange, // php-fpm keeps seconds in a C int
		"24856d":               strconv.ErrRange,
		"99999999999999999999": strconv.ErrRange,
	})
	d, err := ParseDuration("24855d")
	require.NoError(t, err)
	assert.Equal(t, 24855*24*time.Hour, d, "the largest day count php-fpm keeps")
}

func FuzzFPMConfig(f *testing.F) {
	conftest.Seed(f, filepath.Join("..", "testdata", "logfind"), func(p string) bool {
		return (strings.Contains(p, "fpm") || strings.HasSuffix(p, ".ini")) && !strings.HasSuffix(p, ".json")
	})
	f.Add([]byte("include=/x/*.conf\n[p]\nlisten=/s.sock\nprefix=$pool\nslowlog=s\nphp_value[error_log]=e\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		reads := 0
		c := Read(conftest.Files(data, &reads), Cmd{conf: "/fuzz/php-fpm.conf", Who: "php-fpm master, pid 1"})
		targets := []conf.Target{"unix:/s.sock", "tcp:127.0.0.1:9000"}
		conftest.CheckLogs(t, c.Logs("/var/www/site", targets).Logs, reads)
		c.Pools(targets)
	})
}

// TestFPMLastValueWins: php-fpm keeps the last of a pool's listen,
// slowlog, prefix and chroot lines (php-fpm -tt shows it), so the pool
// that serves the site is the one whose last listen the web server uses.
func TestFPMLastValueWins(t *testing.T) {
	files := conf.NewFiles(fstest.MapFS{"etc/fpm.conf": {Data: []byte("[site]\nlisten = /run/old.sock\nslowlog = /var/log/old-slow.log\n" +
		"listen = /run/new.sock\nslowlog = /var/log/new-slow.log\n")}})
	cmd := Cmd{conf: "/etc/fpm.conf", Who: "php-fpm master, pid 1"}
	paths := func(res Result) map[string]bool {
		m := map[string]bool{}
		for _, l := range res.Logs {
			m[l.Path] = l.ServesSite
		}
		return m
	}
	got := paths(Read(files, cmd).Logs("/var/www/site", []conf.Target{"unix:/run/new.sock"}))
	assert.Equal(t, true, got["/var/log/new-slow.log"], "the last listen serves the site: %v", got)
	assert.NotContains(t, got, "/var/log/old-slow.log")
	got = paths(Read(files, cmd).Logs("/var/www/site", []conf.Target{"unix:/run/old.sock"}))
	assert.Equal(t, false, got["/var/log/new-slow.log"], "an overridden listen serves nothing: %v", got)
}

// TestWarnings: an include that cannot be read or matches nothing, and a
// pool value php-fpm would refuse, are warnings with file and line.
func TestWarnings(t *testing.T) {
	fsys := fstest.MapFS{
		"etc/php-fpm.conf": {Data: []byte("[global]\ninclude = /etc/php-fpm.d/*.conf\ninclude = /etc/gone.conf\n" +
			"[www]\nlisten = /run/www.sock\npm = dynamic\npm.max_children = lots\n")},
	}
	c := Read(conf.NewFiles(fsys), Cmd{conf: "/etc/php-fpm.conf", Who: "php-fpm master, pid 1"})
	const f = "/etc/php-fpm.conf"
	assert.Equal(t, []conf.Warning{
		{File: f, Line: 2, Directive: "include", Message: "/etc/php-fpm.d/*.conf matches no file"},
		{File: f, Line: 3, Directive: "include", Message: "/etc/gone.conf could not be read: file does not exist"},
		{File: f, Line: 7, Directive: "pm.max_children", Message: `php-fpm refuses the value "lots" of pool www`},
	}, c.Warnings, "a php.ini that is not there is no warning: PHP runs without one")
	pools := c.Pools(nil)
	assert.Equal(t, conf.Setting{Value: "lots", File: f, Line: 7}, pools[0].Invalid["pm.max_children"])
}
