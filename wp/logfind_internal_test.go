package wp

import (
	"context"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wpfix/wpfix/remote"
)

// rootedHost is the local host seen from a folder, as if it were "/": the
// config trees under testdata/logfind are read through hostFiles as the
// host's own /etc.
type rootedHost struct {
	remote.Host
	root string
}

func (h rootedHost) Stat(ctx context.Context, p string) (fs.FileInfo, error) {
	return h.Host.Stat(ctx, h.root+p)
}

func (h rootedHost) ReadDir(ctx context.Context, p string) ([]fs.FileInfo, error) {
	return h.Host.ReadDir(ctx, h.root+p)
}

func (h rootedHost) ReadHead(ctx context.Context, p string, n int64) ([]byte, error) {
	return h.Host.ReadHead(ctx, h.root+p, n)
}

func treeFiles(t *testing.T, tree string) hostFiles {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("testdata", "logfind", tree))
	require.NoError(t, err)
	return hostFiles{ctx: context.Background(), h: rootedHost{Host: remote.NewLocal(), root: root}}
}

// logConfCases are servers' command lines against the config trees under
// testdata/logfind, with the docroot of the site whose logs are sought.
var logConfCases = []struct {
	name, tree string
	args       []string
	docroot    string
	targets    []fcgiTarget // php-fpm: where the web server sends the site's PHP
}{
	{name: "nginx-default-site", tree: "debian",
		args:    []string{"nginx: master process /usr/sbin/nginx -g daemon on; master_process on; error_log /var/log/nginx/from-g.log;"},
		docroot: "/var/www/html"},
	{name: "nginx-own-error-log", tree: "debian",
		args: []string{"nginx: master process /usr/sbin/nginx"}, docroot: "/var/www/example.com/public"},
	{name: "nginx-upstream", tree: "debian",
		args: []string{"nginx: master process /usr/sbin/nginx"}, docroot: "/srv/blog/public"},
	{name: "nginx-subfolder", tree: "debian",
		args: []string{"nginx: master process /usr/sbin/nginx"}, docroot: "/var/www/html/blog"},
	{name: "nginx-other-site", tree: "debian",
		args: []string{"nginx: master process /usr/sbin/nginx"}, docroot: "/home/someone/public_html"},
	{name: "nginx-prefix", tree: "debian",
		args:    []string{"nginx: master process /opt/nginx/sbin/nginx -p /opt/nginx/ -c conf/nginx.conf"},
		docroot: "/opt/nginx/html/app"},
	{name: "fpm-www", tree: "debian", args: []string{"php-fpm: master process (/etc/php/8.2/fpm/php-fpm.conf)"},
		docroot: "/var/www/html", targets: []fcgiTarget{"unix:/run/php/php8.2-fpm.sock"}},
	{name: "fpm-example", tree: "debian", args: []string{"php-fpm: master process (/etc/php/8.2/fpm/php-fpm.conf)"},
		docroot: "/var/www/example.com/public", targets: []fcgiTarget{"unix:/run/php/php8.2-fpm-example.sock"}},
	{name: "fpm-blog-tcp", tree: "debian", args: []string{"php-fpm: master process (/etc/php/8.2/fpm/php-fpm.conf)"},
		docroot: "/srv/blog/public", targets: []fcgiTarget{"tcp:127.0.0.1:9001"}},
	{name: "fpm-unknown-site", tree: "debian", args: []string{"php-fpm: master process (/etc/php/8.2/fpm/php-fpm.conf)"},
		docroot: "/home/someone/public_html"},
	{name: "fpm-prefix-chroot", tree: "debian",
		args:    []string{"/opt/fpm/sbin/php-fpm", "--nodaemonize", "-p", "/opt/fpm", "--fpm-config=/opt/fpm/etc/php-fpm.conf", "-c", "/opt/fpm/etc"},
		docroot: "/srv/jail/www", targets: []fcgiTarget{"unix:/opt/fpm/var/run/app.sock"}},
	{name: "apache-shop", tree: "debian", args: []string{"/usr/sbin/apache2", "-k", "start"}, docroot: "/var/www/shop"},
	{name: "apache-default", tree: "debian", args: []string{"/usr/sbin/apache2", "-k", "start"}, docroot: "/var/www/html"},
	{name: "httpd-redhat", tree: "redhat", args: []string{"/usr/sbin/httpd", "-DFOREGROUND"}, docroot: "/var/www/blog"},
	{name: "fpm-redhat", tree: "redhat", args: []string{"php-fpm: master process (/etc/php-fpm.conf)"},
		docroot: "/var/www/blog", targets: []fcgiTarget{"tcp:127.0.0.1:9000"}},
}

// logConfResult is what a golden file holds.
type logConfResult struct {
	Logs    []LogFile    `json:"logs"`
	Targets []fcgiTarget `json:"targets"`
}

// runLogConf reads a server's config as FindLogs does, by its command line.
func runLogConf(files confFiles, args []string, docroot string, targets []fcgiTarget) (serverLogs, bool) {
	if c, ok := parseNginxCmd(args); ok {
		c.who = "nginx master, pid 1"
		return nginxLogs(files, c, docroot), true
	}
	if c, ok := parseApacheCmd(args); ok {
		c.who = path.Base(c.bin) + " master, pid 1"
		return apacheLogs(files, c, docroot), true
	}
	if c, ok := parseFPMCmd(args); ok {
		c.who = "php-fpm master, pid 1"
		return fpmLogs(files, c, docroot, targets), true
	}
	return serverLogs{}, false
}

// TestLogConfGolden reads each case's config tree and compares the logs
// found, with where they were found and whether they serve the docroot,
// with testdata/logfind/NAME.golden.json (-update rewrites them).
func TestLogConfGolden(t *testing.T) {
	for _, c := range logConfCases {
		t.Run(c.name, func(t *testing.T) {
			res, ok := runLogConf(treeFiles(t, c.tree), c.args, c.docroot, c.targets)
			require.True(t, ok, "a master's command line")
			assertGolden(t, filepath.Join("testdata", "logfind", c.name+".golden.json"), "TestLogConfGolden",
				logConfResult{Logs: res.logs, Targets: res.targets})
			for _, l := range res.logs {
				assert.True(t, path.IsAbs(l.Path) && path.Clean(l.Path) == l.Path, "clean absolute path: %q", l.Path)
				assert.NotEmpty(t, l.Source)
			}
		})
	}
}

// TestLogConfFacts pins the facts the golden files show, so that an
// -update that breaks one does not go unnoticed.
func TestLogConfFacts(t *testing.T) {
	files := treeFiles(t, "debian")
	serving := func(args []string, docroot string, targets ...fcgiTarget) (serves, others map[string]bool, res serverLogs) {
		res, ok := runLogConf(files, args, docroot, targets)
		require.True(t, ok)
		serves, others = map[string]bool{}, map[string]bool{}
		for _, l := range res.logs {
			serves[l.Path] = serves[l.Path] || l.ServesSite
		}
		for p, s := range serves {
			if !s {
				delete(serves, p)
				others[p] = true
			}
		}
		return serves, others, res
	}
	nginx := []string{"nginx: master process /usr/sbin/nginx"}

	s, o, res := serving(nginx, "/var/www/example.com/public")
	assert.Equal(t, map[string]bool{"/var/log/nginx/example.com.error.log": true, "/usr/share/nginx/off": true,
		"/var/log/nginx/example.com.php.log": true, "/var/log/nginx/error.log": true}, s,
		"the server's own logs, its location's, and the main level's; error_log off is a file in the prefix")
	assert.True(t, o["/var/log/nginx/stream.log"], "stream logs are listed, not serving")
	assert.True(t, o["/var/log/nginx/wildcard.log"], "another server's log")
	assert.False(t, o["/var/log/nginx/editor-swap-file.log"] || s["/var/log/nginx/editor-swap-file.log"],
		"include globs skip dot files")
	assert.False(t, o["/var/log/nginx/commented-out.log"])
	assert.Equal(t, []fcgiTarget{"unix:/run/php/php8.2-fpm-example.sock"}, res.targets)

	_, _, res = serving(nginx, "/srv/blog/public")
	assert.Equal(t, []fcgiTarget{"tcp:127.0.0.1:9001", "tcp:127.0.0.1:9001"}, res.targets, "through the upstream")

	_, _, res = serving(nginx, "/var/www/html/blog")
	assert.Equal(t, []fcgiTarget{"unix:/run/php/php8.2-fpm.sock"}, res.targets,
		"the server whose root is the closest folder above the docroot")

	s, _, _ = serving(nginx, "/home/someone/public_html")
	assert.Empty(t, s, "no server block serves it")

	s, _, _ = serving([]string{"nginx: master process /opt/nginx/sbin/nginx -p /opt/nginx/ -c conf/nginx.conf"}, "/opt/nginx/html/app")
	assert.Equal(t, map[string]bool{"/opt/nginx/logs/app error.log": true, "/opt/nginx/logs/error.log": true}, s,
		"relative to the prefix")

	fpm := []string{"php-fpm: master process (/etc/php/8.2/fpm/php-fpm.conf)"}
	s, o, _ = serving(fpm, "/var/www/example.com/public", "unix:/run/php/php8.2-fpm-example.sock")
	assert.Equal(t, map[string]bool{"/var/log/php/example.error.log": true, "/var/log/php8.2-fpm-example.slow.log": true,
		"/var/log/php8.2-fpm.log": true}, s, "the pool's own error_log: php.ini's does not serve it")
	assert.True(t, o["/var/log/php/fpm-local.log"], "conf.d's error_log overrides php.ini's")
	assert.False(t, o["/var/log/php/fpm-php.ini.log"] || o["/var/log/php/other-site.log"])
	assert.False(t, o["/var/log/php/legacy.log"], "pool.d/*.conf only")

	s, _, _ = serving(fpm, "/srv/blog/public", "tcp:127.0.0.1:9001")
	assert.True(t, s["/srv/blog/logs/php errors.log"], "relative to the pool's prefix")
	assert.True(t, s["/srv/blog/logs/slow.log"])

	s, _, _ = serving(fpm, "/var/www/html", "unix:/run/php/php8.2-fpm.sock")
	assert.True(t, s["/var/log/php/fpm-local.log"], "the www pool sets no error_log: php.ini's serves it")

	apache := []string{"/usr/sbin/apache2", "-k", "start"}
	s, o, res = serving(apache, "/var/www/shop")
	assert.Equal(t, map[string]bool{"/var/log/apache2/shop-error.log": true, "/var/log/apache2/shop-extra.log": true,
		"/etc/apache2/logs/shop-deeper.log": true, "/var/log/apache2/error.log": true}, s,
		"${APACHE_LOG_DIR} from envvars; Include of a folder, relative to ServerRoot")
	assert.Empty(t, o)
	assert.Equal(t, []fcgiTarget{"unix:/run/php/php8.2-fpm.sock", "unix:/run/php/php8.2-fpm-shop.sock"}, res.targets)
}

func TestParseNginx(t *testing.T) {
	dirs := parseNginx([]byte(`# comment
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
	var walk func([]nginxDirective)
	walk = func(ds []nginxDirective) {
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

	assert.Len(t, parseNginx([]byte("} a b; } c;"), "f"), 2, "stray braces are ignored")
	assert.Empty(t, parseNginx([]byte("error_log /x"), "f"), "no ;, no directive")
}

func TestParseNginxCmd(t *testing.T) {
	for _, c := range []struct {
		name string
		args []string
		want nginxCmd
		ok   bool
	}{
		{"title", []string{"nginx: master process /usr/sbin/nginx -p /srv/n -c n.conf -e logs/e.log"},
			nginxCmd{bin: "/usr/sbin/nginx", prefix: "/srv/n", conf: "n.conf", errorLog: "logs/e.log"}, true},
		{"joined flags", []string{"nginx: master process nginx -p/srv/n -cn.conf"},
			nginxCmd{bin: "nginx", prefix: "/srv/n", conf: "n.conf"}, true},
		{"-g in the title", []string{"nginx: master process /usr/sbin/nginx -g daemon on; master_process on; -c /x.conf"},
			nginxCmd{bin: "/usr/sbin/nginx", conf: "/x.conf", globals: "daemon on; master_process on;"}, true},
		{"kept arguments", []string{"/usr/sbin/nginx", "-g", "daemon off;", "-c", "/etc/nginx/alt.conf"},
			nginxCmd{bin: "/usr/sbin/nginx", conf: "/etc/nginx/alt.conf", globals: "daemon off;"}, true},
		{"worker", []string{"nginx: worker process"}, nginxCmd{}, false},
		{"cache manager", []string{"nginx: cache manager process"}, nginxCmd{}, false},
		{"not nginx", []string{"/usr/bin/vim", "/etc/nginx/nginx.conf"}, nginxCmd{}, false},
		{"empty", nil, nginxCmd{}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, ok := parseNginxCmd(c.args)
			assert.Equal(t, c.ok, ok)
			assert.Equal(t, c.want, got)
		})
	}
	d := nginxCmd{bin: "/usr/sbin/nginx"}.defaults()
	assert.Equal(t, nginxCmd{bin: "/usr/sbin/nginx", prefix: "/usr/share/nginx", conf: "/etc/nginx/nginx.conf",
		errorLog: "/var/log/nginx/error.log"}, d, "Debian's compiled-in paths")
	d = nginxCmd{bin: "/usr/local/nginx/sbin/nginx"}.defaults()
	assert.Equal(t, "/usr/local/nginx/conf/nginx.conf", d.conf, "a source build's")
	d = nginxCmd{bin: "/usr/local/nginx/sbin/nginx", prefix: "/srv/n/"}.defaults()
	assert.Equal(t, "/srv/n/conf/nginx.conf", d.conf, "-p moves a source build's relative config")
}

func TestParseFPMCmd(t *testing.T) {
	for _, c := range []struct {
		name string
		args []string
		want fpmCmd
		ok   bool
	}{
		{"title", []string{"php-fpm: master process (/etc/php/8.2/fpm/php-fpm.conf)"},
			fpmCmd{conf: "/etc/php/8.2/fpm/php-fpm.conf"}, true},
		{"title with a space", []string{"php-fpm: master process (/srv/my conf/php-fpm.conf)"},
			fpmCmd{conf: "/srv/my conf/php-fpm.conf"}, true},
		{"kept arguments", []string{"/usr/sbin/php-fpm8.2", "-F", "-y", "/x/fpm.conf", "-c", "/x/php.ini", "-p", "/x"},
			fpmCmd{bin: "/usr/sbin/php-fpm8.2", conf: "/x/fpm.conf", phpIni: "/x/php.ini", prefix: "/x"}, true},
		{"long options", []string{"php-fpm", "--fpm-config=/x/fpm.conf", "--php-ini", "/x"},
			fpmCmd{bin: "php-fpm", conf: "/x/fpm.conf", phpIni: "/x"}, true},
		{"Debian default", []string{"/usr/sbin/php-fpm8.3", "--nodaemonize"},
			fpmCmd{bin: "/usr/sbin/php-fpm8.3", conf: "/etc/php/8.3/fpm/php-fpm.conf"}, true},
		{"pool", []string{"php-fpm: pool www"}, fpmCmd{}, false},
		{"other", []string{"/usr/bin/php", "-r", "1;"}, fpmCmd{}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, ok := parseFPMCmd(c.args)
			assert.Equal(t, c.ok, ok)
			assert.Equal(t, c.want, got)
		})
	}
}

func TestParseApacheCmd(t *testing.T) {
	for _, c := range []struct {
		name string
		args []string
		want apacheCmd
		ok   bool
	}{
		{"Debian", []string{"/usr/sbin/apache2", "-k", "start"}, apacheCmd{bin: "/usr/sbin/apache2"}, true},
		{"flags", []string{"apache2", "-d", "/srv/a", "-f", "a.conf", "-E", "/var/log/startup.log", "-DFOREGROUND"},
			apacheCmd{bin: "apache2", serverRoot: "/srv/a", conf: "a.conf", startupLog: "/var/log/startup.log"}, true},
		{"joined", []string{"/usr/sbin/httpd", "-d/srv/h", "-fconf/h.conf"},
			apacheCmd{bin: "/usr/sbin/httpd", serverRoot: "/srv/h", conf: "conf/h.conf"}, true},
		{"apache2ctl", []string{"/bin/sh", "/usr/sbin/apache2ctl", "start"}, apacheCmd{}, false},
		{"titled", []string{"httpd: worker"}, apacheCmd{}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, ok := parseApacheCmd(c.args)
			assert.Equal(t, c.ok, ok)
			assert.Equal(t, c.want, got)
		})
	}
	d := apacheCmd{bin: "/usr/sbin/httpd"}.defaults()
	assert.Equal(t, "/etc/httpd/conf/httpd.conf", d.conf)
	d = apacheCmd{bin: "/usr/sbin/apache2"}.defaults()
	assert.Equal(t, "/etc/apache2/apache2.conf", d.conf)
	d = apacheCmd{bin: "/usr/local/apache2/bin/httpd"}.defaults()
	assert.Equal(t, "/usr/local/apache2/conf/httpd.conf", d.conf)
}

func TestParseINI(t *testing.T) {
	got := parseINI([]byte("; comment\n# hash comment\nerror_log = /a.log ; trailing\n[www]\n" +
		"php_admin_value[ error_log ] = \"/b ;c.log\"\nslowlog='/d.log'\r\nbroken line\nempty =\n" +
		"q = \"esc\\\"aped\"\n"))
	assert.Equal(t, []iniEntry{
		{section: "", key: "error_log", value: "/a.log", line: 3},
		{section: "www", key: "php_admin_value[error_log]", value: "/b ;c.log", line: 5},
		{section: "www", key: "slowlog", value: "/d.log", line: 6},
		{section: "www", key: "empty", value: "", line: 8},
		{section: "www", key: "q", value: `esc"aped`, line: 9},
	}, got)
}

func TestApacheEnvVars(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("testdata", "logfind", "debian", "etc", "apache2", "envvars"))
	require.NoError(t, err)
	env := apacheEnvVars(src)
	assert.Equal(t, "/var/log/apache2", env["APACHE_LOG_DIR"], "SUFFIX is empty for the default instance")
	assert.Equal(t, "www-data", env["APACHE_RUN_USER"])
	assert.Equal(t, "", env["SUFFIX"])
	assert.Equal(t, map[string]string{"A": "/x", "B": "/x/y"},
		apacheEnvVars([]byte("A=/x\nexport B=\"${A}/y\"\nC=$(id -u)\nD=a b\n")))
}

func TestFCGITarget(t *testing.T) {
	for in, want := range map[string]fcgiTarget{
		"unix:/run/php/x.sock":   "unix:/run/php/x.sock",
		"/run/php/../php/x.sock": "unix:/run/php/x.sock",
		"127.0.0.1:9000":         "tcp:127.0.0.1:9000",
		"localhost:9000":         "tcp:127.0.0.1:9000",
		"[::1]:9000":             "tcp:127.0.0.1:9000",
		"9000":                   "tcp:*:9000",
		"[::]:9000":              "tcp:*:9000",
		"0.0.0.0:9000":           "tcp:*:9000",
		"php.internal:9000":      "tcp:php.internal:9000",
		"$backend":               "",
		"php-upstream":           "",
		"unix:relative.sock":     "",
		"host:99999":             "",
	} {
		got, ok := parseFCGITarget(in)
		assert.Equal(t, want, got, in)
		assert.Equal(t, want != "", ok, in)
	}
	for _, c := range []struct {
		target, listen fcgiTarget
		want           bool
	}{
		{"unix:/a.sock", "unix:/a.sock", true},
		{"unix:/a.sock", "unix:/b.sock", false},
		{"tcp:127.0.0.1:9000", "tcp:*:9000", true},
		{"tcp:127.0.0.1:9000", "tcp:127.0.0.1:9000", true},
		{"tcp:127.0.0.1:9000", "tcp:127.0.0.1:9001", false},
		{"tcp:10.0.0.2:9000", "tcp:127.0.0.1:9000", false},
		{"tcp:127.0.0.1:9000", "unix:/a.sock", false},
	} {
		assert.Equal(t, c.want, c.target.reaches(c.listen), "%s → %s", c.target, c.listen)
	}
}

func TestRootMatch(t *testing.T) {
	for _, c := range []struct {
		name    string
		roots   []string
		docroot string
		want    []bool
	}{
		{"exact", []string{"/var/www/a", "/var/www/b"}, "/var/www/a", []bool{true, false}},
		{"exact beats above", []string{"/var/www", "/var/www/a/"}, "/var/www/a", []bool{false, true}},
		{"closest above", []string{"/", "/var/www", "/var/www/a", "/var"}, "/var/www/a/blog", []bool{false, false, true, false}},
		{"a sibling with a common prefix", []string{"/var/www/a"}, "/var/www/ab", []bool{false}},
		{"unknown", []string{"", "/srv"}, "/var/www/a", []bool{false, false}},
		{"same root twice", []string{"/a", "/a"}, "/a", []bool{true, true}},
	} {
		t.Run(c.name, func(t *testing.T) {
			assert.Equal(t, c.want, rootMatch(c.roots, c.docroot))
		})
	}
}

// TestHostGlob expands patterns through a Host as nginx's, Apache's and
// php-fpm's glob(3) do.
func TestHostGlob(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"a/x/one.conf", "a/y/two.conf", "a/y/.hidden.conf", "a/y/three.txt", "a/.z/four.conf", "b.conf"} {
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(dir, f)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, f), nil, 0o644))
	}
	files := hostFiles{ctx: context.Background(), h: remote.NewLocal()}
	assert.Equal(t, []string{dir + "/a/x/one.conf", dir + "/a/y/two.conf"}, files.Glob(dir+"/a/*/*.conf"))
	assert.Equal(t, []string{dir + "/a/y/.hidden.conf"}, files.Glob(dir+"/a/y/.*.conf"))
	assert.Equal(t, []string{dir + "/b.conf"}, files.Glob(dir+"/b.conf"))
	assert.Empty(t, files.Glob(dir+"/missing.conf"))
	assert.Empty(t, files.Glob(dir+"/nothing/*.conf"))
	assert.Empty(t, files.Glob(dir+"/a/[.conf"), "a bad pattern matches nothing")
	assert.Empty(t, files.Glob("relative/*.conf"))
}

// fuzzFiles serves the fuzzer's input as every file, and two files for
// every pattern, so includes recurse as far as the limits let them.
type fuzzFiles struct {
	data  []byte
	reads *int
}

func (f fuzzFiles) ReadFile(string) ([]byte, error) { *f.reads++; return f.data, nil }
func (f fuzzFiles) Glob(string) []string            { return []string{"/fuzz/a.conf", "/fuzz/dir"} }
func (f fuzzFiles) IsDir(name string) bool          { return strings.HasSuffix(name, "dir") }

// checkFuzzLogs checks what a config reader returns for any input.
func checkFuzzLogs(t *testing.T, res serverLogs, reads int) {
	if reads > maxConfFiles+16 {
		t.Fatalf("read %d files", reads)
	}
	for _, l := range res.logs {
		if !path.IsAbs(l.Path) || path.Clean(l.Path) != l.Path {
			t.Fatalf("log path %q is not clean and absolute", l.Path)
		}
		if l.Source == "" || l.Kind == "" {
			t.Fatalf("log %+v without kind or source", l)
		}
	}
}

// seedConfigs adds every file of the testdata/logfind trees whose name
// matches.
func seedConfigs(f *testing.F, match func(name string) bool) {
	seedTree(f, "logfind", match)
}

// seedTree adds every file under testdata/dir whose name matches.
func seedTree(f *testing.F, dir string, match func(name string) bool) {
	err := filepath.WalkDir(filepath.Join("testdata", dir), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && match(p) {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			f.Add(b)
		}
		return err
	})
	if err != nil {
		f.Fatal(err)
	}
}

func FuzzNginxErrorLogs(f *testing.F) {
	seedConfigs(f, func(p string) bool { return strings.Contains(p, "nginx") && !strings.HasSuffix(p, ".json") })
	f.Add([]byte(`include x; http { include y; server { root /var/www/site; error_log a; include z; } }`))
	f.Add([]byte("\"unterminated\\"))
	f.Fuzz(func(t *testing.T, data []byte) {
		reads := 0
		res := nginxLogs(fuzzFiles{data: data, reads: &reads},
			nginxCmd{bin: "/usr/sbin/nginx", globals: string(data), who: "nginx master, pid 1"}, "/var/www/site")
		checkFuzzLogs(t, res, reads)
	})
}

func FuzzFPMConfig(f *testing.F) {
	seedConfigs(f, func(p string) bool {
		return (strings.Contains(p, "fpm") || strings.HasSuffix(p, ".ini")) && !strings.HasSuffix(p, ".json")
	})
	f.Add([]byte("include=/x/*.conf\n[p]\nlisten=/s.sock\nprefix=$pool\nslowlog=s\nphp_value[error_log]=e\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		reads := 0
		res := fpmLogs(fuzzFiles{data: data, reads: &reads}, fpmCmd{conf: "/fuzz/php-fpm.conf", who: "php-fpm master, pid 1"},
			"/var/www/site", []fcgiTarget{"unix:/s.sock", "tcp:127.0.0.1:9000"})
		checkFuzzLogs(t, res, reads)
	})
}

func FuzzApacheConfig(f *testing.F) {
	seedConfigs(f, func(p string) bool {
		return (strings.Contains(p, "apache2") || strings.Contains(p, "httpd")) && !strings.HasSuffix(p, ".json")
	})
	f.Add([]byte("Define X /a\n<VirtualHost *>\nDocumentRoot /var/www/site\nErrorLog ${X}/e \\\n.log\nInclude dir\n</VirtualHost>\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		reads := 0
		res := apacheLogs(fuzzFiles{data: data, reads: &reads}, apacheCmd{bin: "/usr/sbin/apache2", who: "apache2 master, pid 1"},
			"/var/www/site")
		checkFuzzLogs(t, res, reads)
		apacheEnvVars(data)
	})
}

// oneFile serves one config file; every other name is missing.
type oneFile struct {
	name string
	data string
}

func (f oneFile) ReadFile(name string) ([]byte, error) {
	if name != f.name {
		return nil, fs.ErrNotExist
	}
	return []byte(f.data), nil
}
func (f oneFile) Glob(string) []string { return nil }
func (f oneFile) IsDir(string) bool    { return false }

// TestFPMLastValueWins: php-fpm keeps the last of a pool's listen,
// slowlog, prefix and chroot lines (php-fpm -tt shows it), so the pool
// that serves the site is the one whose last listen the web server uses.
func TestFPMLastValueWins(t *testing.T) {
	files := oneFile{name: "/etc/fpm.conf", data: "[site]\nlisten = /run/old.sock\nslowlog = /var/log/old-slow.log\n" +
		"listen = /run/new.sock\nslowlog = /var/log/new-slow.log\n"}
	cmd := fpmCmd{conf: "/etc/fpm.conf", who: "php-fpm master, pid 1"}
	paths := func(res serverLogs) map[string]bool {
		m := map[string]bool{}
		for _, l := range res.logs {
			m[l.Path] = l.ServesSite
		}
		return m
	}
	got := paths(fpmLogs(files, cmd, "/var/www/site", []fcgiTarget{"unix:/run/new.sock"}))
	assert.Equal(t, true, got["/var/log/new-slow.log"], "the last listen serves the site: %v", got)
	assert.NotContains(t, got, "/var/log/old-slow.log")
	got = paths(fpmLogs(files, cmd, "/var/www/site", []fcgiTarget{"unix:/run/old.sock"}))
	assert.Equal(t, false, got["/var/log/new-slow.log"], "an overridden listen serves nothing: %v", got)
}

// TestApacheVariables: a line that is only a variable defined empty is
// skipped (the fuzzer found it panicked), and Define changes the config's
// own copy of the variables, not the caller's map.
func TestApacheVariables(t *testing.T) {
	env := map[string]string{"EMPTY": ""}
	reads := 0
	files := fuzzFiles{data: []byte("${EMPTY}\nDefine ADDED /x\n"), reads: &reads}
	res := apacheLogs(files, apacheCmd{bin: "/usr/sbin/apache2", who: "apache2 master, pid 1", env: env}, "/var/www/site")
	checkFuzzLogs(t, res, reads)
	assert.Equal(t, map[string]string{"EMPTY": ""}, env)
}
