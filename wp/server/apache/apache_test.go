package apache

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wpfix/wpfix/wp/server/conf"
	"github.com/wpfix/wpfix/wp/server/internal/conftest"
)

func TestParseApacheCmd(t *testing.T) {
	conftest.CheckParseCmd(t, ParseCmd, []conftest.CmdCase[Cmd]{
		{Name: "Debian", Args: []string{"/usr/sbin/apache2", "-k", "start"}, Want: Cmd{bin: "/usr/sbin/apache2"}, OK: true},
		{Name: "flags", Args: []string{"apache2", "-d", "/srv/a", "-f", "a.conf", "-E", "/var/log/startup.log", "-DFOREGROUND"},
			Want: Cmd{bin: "apache2", serverRoot: "/srv/a", conf: "a.conf", startupLog: "/var/log/startup.log"}, OK: true},
		{Name: "joined", Args: []string{"/usr/sbin/httpd", "-d/srv/h", "-fconf/h.conf"},
			Want: Cmd{bin: "/usr/sbin/httpd", serverRoot: "/srv/h", conf: "conf/h.conf"}, OK: true},
		{Name: "apache2ctl", Args: []string{"/bin/sh", "/usr/sbin/apache2ctl", "start"}, Want: Cmd{}, OK: false},
		{Name: "titled", Args: []string{"httpd: worker"}, Want: Cmd{}, OK: false},
	})
	d := Cmd{bin: "/usr/sbin/httpd"}.defaults()
	assert.Equal(t, "/etc/httpd/conf/httpd.conf", d.conf)
	d = Cmd{bin: "/usr/sbin/apache2"}.defaults()
	assert.Equal(t, "/etc/apache2/apache2.conf", d.conf)
	d = Cmd{bin: "/usr/local/apache2/bin/httpd"}.defaults()
	assert.Equal(t, "/usr/local/apache2/conf/httpd.conf", d.conf)
}

func TestApacheEnvVars(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("..", "testdata", "logfind", "debian", "etc", "apache2", "envvars"))
	require.NoError(t, err)
	env := EnvVars(src)
	assert.Equal(t, "/var/log/apache2", env["APACHE_LOG_DIR"], "SUFFIX is empty for the default instance")
	assert.Equal(t, "www-data", env["APACHE_RUN_USER"])
	assert.Equal(t, "", env["SUFFIX"])
	assert.Equal(t, map[string]string{"A": "/x", "B": "/x/y"},
		EnvVars([]byte("A=/x\nexport B=\"${A}/y\"\nC=$(id -u)\nD=a b\n")))
}

func TestParseApacheDuration(t *testing.T) {
	conftest.CheckDurations(t, ParseDuration, map[string]time.Duration{
		"300": 300 * time.Second, "300s": 300 * time.Second, "500ms": 500 * time.Millisecond,
		"2mi": 2 * time.Minute, "1h": time.Hour,
	}, nil)
	for _, in := range []string{"", "m", "5m", "-5", "1.5", "5 s", "99999999999999999999", "9999999999999h"} {
		_, err := ParseDuration(in)
		assert.Error(t, err, in)
	}
}

func FuzzApacheConfig(f *testing.F) {
	conftest.Seed(f, filepath.Join("..", "testdata", "logfind"), func(p string) bool {
		return (strings.Contains(p, "apache2") || strings.Contains(p, "httpd")) && !strings.HasSuffix(p, ".json")
	})
	f.Add([]byte("Define X /a\n<VirtualHost *>\nDocumentRoot /var/www/site\nErrorLog ${X}/e \\\n.log\nInclude dir\n</VirtualHost>\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		reads := 0
		c := Read(conftest.Files(data, &reads), Cmd{bin: "/usr/sbin/apache2", Who: "apache2 master, pid 1"})
		conftest.CheckLogs(t, c.Logs("/var/www/site").Logs, reads)
		c.Timeouts("/var/www/site")
		EnvVars(data)
	})
}

// TestApacheVariables: a line that is only a variable defined empty is
// skipped (the fuzzer found it panicked), and Define changes the config's
// own copy of the variables, not the caller's map.
func TestApacheVariables(t *testing.T) {
	env := map[string]string{"EMPTY": ""}
	reads := 0
	files := conftest.Files([]byte("${EMPTY}\nDefine ADDED /x\n"), &reads)
	res := Read(files, Cmd{bin: "/usr/sbin/apache2", Who: "apache2 master, pid 1", Env: env}).Logs("/var/www/site")
	conftest.CheckLogs(t, res.Logs, reads)
	assert.Equal(t, map[string]string{"EMPTY": ""}, env)
}

// TestWarnings: an Include that cannot be read or matches nothing, and a
// Timeout Apache would refuse, are warnings; IncludeOptional of what is
// not there is not.
func TestWarnings(t *testing.T) {
	fsys := fstest.MapFS{
		"etc/apache2/apache2.conf": {Data: []byte("Timeout 5x\nInclude missing.conf\nInclude conf-enabled/*.conf\n" +
			"IncludeOptional sites-enabled/*.conf\nIncludeOptional gone.conf\n")},
		"etc/apache2/envvars": {Data: []byte("export APACHE_LOG_DIR=/var/log/apache2\n")},
	}
	c := Read(conf.NewFiles(fsys), Cmd{bin: "/usr/sbin/apache2", Who: "apache2 master, pid 1"})
	const f = "/etc/apache2/apache2.conf"
	assert.Equal(t, []conf.Warning{
		{File: f, Line: 1, Directive: "Timeout", Message: `Apache refuses the value "5x"; it is passed over`},
		{File: f, Line: 2, Directive: "Include", Message: "/etc/apache2/missing.conf could not be read: file does not exist"},
		{File: f, Line: 3, Directive: "Include",
			Message: "/etc/apache2/conf-enabled/*.conf matches no file: Apache refuses to start with it (IncludeOptional would not)"},
	}, c.Warnings)
	web, _ := c.Timeouts("/var/www/html")
	assert.Equal(t, conf.DefaultWebTimeout, web[0].Value, "the refused value is passed over")
}
