package server

import (
	"errors"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wpfix/wpfix/remote/sysinfo"
	"github.com/wpfix/wpfix/wp/server/apache"
	"github.com/wpfix/wpfix/wp/server/conf"
	"github.com/wpfix/wpfix/wp/server/fpm"
	"github.com/wpfix/wpfix/wp/server/internal/conftest"
	"github.com/wpfix/wpfix/wp/server/nginx"
	"github.com/wpfix/wpfix/wp/wptest/golden"
)

// logConfCases are servers' command lines against the config trees under
// testdata/logfind, with the docroot of the site whose logs are sought.
var logConfCases = []struct {
	name, tree string
	args       []string
	docroot    string
	targets    []conf.Target // php-fpm: where the web server sends the site's PHP
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
		docroot: "/var/www/html", targets: []conf.Target{"unix:/run/php/php8.2-fpm.sock"}},
	{name: "fpm-example", tree: "debian", args: []string{"php-fpm: master process (/etc/php/8.2/fpm/php-fpm.conf)"},
		docroot: "/var/www/example.com/public", targets: []conf.Target{"unix:/run/php/php8.2-fpm-example.sock"}},
	{name: "fpm-blog-tcp", tree: "debian", args: []string{"php-fpm: master process (/etc/php/8.2/fpm/php-fpm.conf)"},
		docroot: "/srv/blog/public", targets: []conf.Target{"tcp:127.0.0.1:9001"}},
	{name: "fpm-unknown-site", tree: "debian", args: []string{"php-fpm: master process (/etc/php/8.2/fpm/php-fpm.conf)"},
		docroot: "/home/someone/public_html"},
	{name: "fpm-prefix-chroot", tree: "debian",
		args:    []string{"/opt/fpm/sbin/php-fpm", "--nodaemonize", "-p", "/opt/fpm", "--fpm-config=/opt/fpm/etc/php-fpm.conf", "-c", "/opt/fpm/etc"},
		docroot: "/srv/jail/www", targets: []conf.Target{"unix:/opt/fpm/var/run/app.sock"}},
	{name: "apache-shop", tree: "debian", args: []string{"/usr/sbin/apache2", "-k", "start"}, docroot: "/var/www/shop"},
	{name: "apache-default", tree: "debian", args: []string{"/usr/sbin/apache2", "-k", "start"}, docroot: "/var/www/html"},
	{name: "httpd-redhat", tree: "redhat", args: []string{"/usr/sbin/httpd", "-DFOREGROUND"}, docroot: "/var/www/blog"},
	{name: "fpm-redhat", tree: "redhat", args: []string{"php-fpm: master process (/etc/php-fpm.conf)"},
		docroot: "/var/www/blog", targets: []conf.Target{"tcp:127.0.0.1:9000"}},
}

// logConfResult is what a golden file holds.
type logConfResult struct {
	Logs    []LogFile     `json:"logs"`
	Targets []conf.Target `json:"targets"`
}

// confLogs is what one server's config says for a docroot.
type confLogs struct {
	logs    []LogFile
	targets []conf.Target
}

// runLogConf reads a server's config as SiteLogs does, by its command line.
func runLogConf(files *conf.Files, args []string, docroot string, targets []conf.Target) (confLogs, bool) {
	if c, ok := nginx.ParseCmd(args); ok {
		c.Who = "nginx master, pid 1"
		r := nginx.Read(files, c).Logs(docroot)
		return confLogs{r.Logs, r.Targets}, true
	}
	if c, ok := apache.ParseCmd(args); ok {
		c.Who = c.Name() + " master, pid 1"
		r := apache.Read(files, c).Logs(docroot)
		return confLogs{r.Logs, r.Targets}, true
	}
	if c, ok := fpm.ParseCmd(args); ok {
		c.Who = "php-fpm master, pid 1"
		return confLogs{logs: fpm.Read(files, c).Logs(docroot, targets).Logs}, true
	}
	return confLogs{}, false
}

// treeFiles reads a config tree under testdata/logfind as the host's /.
func treeFiles(t *testing.T, tree string) *conf.Files {
	return conftest.Tree(t, filepath.Join("testdata", "logfind", tree))
}

// TestLogConfGolden reads each case's config tree and compares the logs
// found, with where they were found and whether they serve the docroot,
// with testdata/logfind/NAME.golden.json (-update rewrites them).
func TestLogConfGolden(t *testing.T) {
	for _, c := range logConfCases {
		t.Run(c.name, func(t *testing.T) {
			res, ok := runLogConf(treeFiles(t, c.tree), c.args, c.docroot, c.targets)
			require.True(t, ok, "a master's command line")
			golden.AssertJSON(t, filepath.Join("testdata", "logfind", c.name+".golden.json"),
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
	serving := func(args []string, docroot string, targets ...conf.Target) (serves, others map[string]bool, res confLogs) {
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
	assert.Equal(t, []conf.Target{"unix:/run/php/php8.2-fpm-example.sock"}, res.targets)

	_, _, res = serving(nginx, "/srv/blog/public")
	assert.Equal(t, []conf.Target{"tcp:127.0.0.1:9001", "tcp:127.0.0.1:9001"}, res.targets, "through the upstream")

	_, _, res = serving(nginx, "/var/www/html/blog")
	assert.Equal(t, []conf.Target{"unix:/run/php/php8.2-fpm.sock"}, res.targets,
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
	assert.Equal(t, []conf.Target{"unix:/run/php/php8.2-fpm.sock", "unix:/run/php/php8.2-fpm-shop.sock"}, res.targets)
}

// Command lines of the masters the cases run.
var (
	debianNginx  = []string{"nginx: master process /usr/sbin/nginx -g daemon on; master_process on;"}
	debianFPM    = []string{"php-fpm: master process (/etc/php/8.2/fpm/php-fpm.conf)"}
	debianApache = []string{"/usr/sbin/apache2", "-k", "start"}
)

// limitCases are running servers' command lines against the config trees
// under testdata/serverlimits, with the docroot of the site whose limits
// are sought.
var limitCases = []struct {
	name, tree string
	procs      [][]string // command lines, in pid order
	docroot    string
}{
	{name: "nginx-site", tree: "debian", procs: [][]string{debianNginx, debianFPM}, docroot: "/var/www/site"},
	{name: "nginx-default", tree: "debian", procs: [][]string{debianNginx, debianFPM}, docroot: "/var/www/html"},
	{name: "nginx-upstream", tree: "debian", procs: [][]string{debianNginx, debianFPM}, docroot: "/srv/up"},
	{name: "nginx-unknown-site", tree: "debian", procs: [][]string{debianNginx, debianFPM}, docroot: "/home/someone/www"},
	{name: "apache-shop", tree: "debian", procs: [][]string{debianApache, debianApache, debianFPM}, docroot: "/var/www/shop"},
	{name: "apache-blog", tree: "debian", procs: [][]string{debianFPM, debianApache}, docroot: "/var/www/blog"},
	{name: "all-servers", tree: "debian", procs: [][]string{debianApache, debianNginx, debianFPM}, docroot: "/var/www/site"},
	{name: "plain-defaults", tree: "plain", docroot: "/var/www/site", procs: [][]string{
		{"nginx: master process /usr/sbin/nginx"},
		{"/usr/sbin/php-fpm", "--nodaemonize", "-y", "/srv/php/php-fpm.conf", "-c", "/srv/php/ini"},
	}},
	{name: "httpd-mod-php", tree: "plain", procs: [][]string{{"/usr/sbin/httpd", "-DFOREGROUND"}}, docroot: "/var/www/site"},
	{name: "httpd-slow", tree: "plain", procs: [][]string{{"/usr/sbin/httpd", "-DFOREGROUND"}}, docroot: "/var/www/slow"},
	{name: "no-servers", tree: "plain", procs: [][]string{{"/usr/sbin/sshd", "-D"}}, docroot: "/var/www/site"},
}

// runLimits reads the limits of a case as ServerLimits does, from its
// processes' command lines.
func runLimits(t *testing.T, tree string, cmdlines [][]string, docroot string) *Limits {
	t.Helper()
	procs := make([]sysinfo.Process, len(cmdlines))
	for i, args := range cmdlines {
		procs[i] = sysinfo.Process{PID: 100 + i, Args: args}
	}
	files := conftest.Tree(t, filepath.Join("testdata", "serverlimits", tree))
	return readStack(files, procs, nil, func(int) map[string]string { return nil }).Limits(docroot)
}

// TestServerLimitsGolden reads each case's config tree and compares the
// limits found with testdata/serverlimits/NAME.golden.json (-update
// rewrites them).
func TestServerLimitsGolden(t *testing.T) {
	for _, c := range limitCases {
		t.Run(c.name, func(t *testing.T) {
			cfg := runLimits(t, c.tree, c.procs, c.docroot)
			golden.AssertJSON(t, filepath.Join("testdata", "serverlimits", c.name+".golden.json"), cfg)
			checkLimits(t, cfg)
		})
	}
}

// checkLimits checks what holds for any answer.
func checkLimits(t *testing.T, cfg *Limits) {
	t.Helper()
	for i, p := range cfg.Pools {
		assert.True(t, i == 0 || !p.ServesSite || cfg.Pools[i-1].ServesSite, "pool %s: serving pools first", p.Name)
		assert.Len(t, p.PHP, len(LimitININames), "pool %s: every name", p.Name)
		for k := range p.Invalid {
			assert.NotEmpty(t, p.Sources[k], "pool %s: an invalid %s has a source", p.Name, k)
		}
	}
	seen := map[WebTimeout]bool{}
	for i, w := range cfg.Web {
		assert.True(t, i == 0 || !w.ServesSite || cfg.Web[i-1].ServesSite, "%+v: serving timeouts first", w)
		assert.False(t, seen[w], "%+v listed once", w)
		seen[w] = true
		assert.Positive(t, w.Value)
	}
}

// TestServerLimitsFacts pins the facts the golden files show, so that an
// -update that breaks one does not go unnoticed.
func TestServerLimitsFacts(t *testing.T) {
	pool := func(cfg *Limits, name string) FPMPool {
		t.Helper()
		for _, p := range cfg.Pools {
			if p.Name == name {
				return p
			}
		}
		t.Fatalf("no pool %s in %+v", name, cfg.Pools)
		return FPMPool{}
	}
	serving := func(cfg *Limits) (pools []string, web map[string]string) {
		web = map[string]string{}
		for _, p := range cfg.Pools {
			if p.ServesSite {
				pools = append(pools, p.Name)
			}
		}
		for _, w := range cfg.Web {
			if w.ServesSite {
				web[w.Source] = w.Directive + " " + w.Value.String()
			}
		}
		return pools, web
	}
	const sites = "/etc/nginx/sites-enabled/site line "

	cfg := runLimits(t, "debian", [][]string{debianNginx, debianFPM}, "/var/www/site")
	pools, web := serving(cfg)
	assert.Equal(t, []string{"site"}, pools, "the pool behind the site's fastcgi_pass, $pool expanded")
	assert.Equal(t, map[string]string{
		"/etc/nginx/nginx.conf line 22": "fastcgi_read_timeout 2m0s",
		sites + "17":                    "fastcgi_read_timeout 5m0s",
		sites + "23":                    "fastcgi_read_timeout 1h0m0s",
		sites + "32":                    "fastcgi_read_timeout 1m30s",
	}, web, "http's after the server blocks; location's, nested location's, and one set after the fastcgi_pass and an if")
	site := pool(cfg, "site")
	assert.Equal(t, "ondemand", site.PM.Value)
	assert.Equal(t, 16, site.MaxChildren, "the last pm.max_children")
	assert.Equal(t, 500, site.MaxRequests)
	assert.Equal(t, 5*time.Minute, site.RequestTerminateTimeout)
	assert.Equal(t, "/run/php/php8.2-fpm-site.sock", site.Listen)
	assert.Equal(t, "/etc/php/8.2/fpm/pool.d/site.conf line 8", site.Sources["pm.max_children"])
	assert.Equal(t, Setting{Value: "512M", Admin: true, File: "/etc/php/8.2/fpm/pool.d/site.conf", Line: 14}, site.PHP["memory_limit"],
		"php_admin_value beats php_value, whatever the order")
	assert.Equal(t, "300", site.PHP["max_execution_time"].Value, "the first php_value")
	assert.Equal(t, Setting{Value: "100M", Admin: true, File: "/etc/php/8.2/fpm/pool.d/site.conf", Line: 18}, site.PHP["upload_max_filesize"])
	assert.Equal(t, "100M", site.PHP["post_max_size"].Value, "PHP_VALUE, quoted")
	assert.Equal(t, Setting{Value: "60", File: "/etc/php/8.2/fpm/php.ini", Line: 4}, site.PHP["max_input_time"])
	assert.Equal(t, Setting{Value: "1000"}, site.PHP["max_input_vars"], "PHP's default")
	assert.Empty(t, site.Invalid)

	www := pool(cfg, "www")
	assert.Equal(t, Setting{Value: "dynamic", File: "/etc/php/8.2/fpm/pool.d/www.conf", Line: 9}, www.PM)
	assert.Equal(t, 5, www.MaxChildren)
	assert.Zero(t, www.MaxRequests, "never recycled")
	assert.Zero(t, www.RequestTerminateTimeout, "off")
	assert.Equal(t, "128M", www.PHP["memory_limit"].Value, "php.ini's, not its [PATH=] section's")
	assert.Equal(t, Setting{Value: "64M", File: "/etc/php/8.2/fpm/conf.d/99-uploads.ini", Line: 2}, www.PHP["upload_max_filesize"],
		"conf.d overrides php.ini")

	broken := pool(cfg, "broken")
	assert.Equal(t, map[string]Setting{
		"pm":                        {Value: "turbo", File: "/etc/php/8.2/fpm/pool.d/broken.conf", Line: 4},
		"pm.max_children":           {Value: "lots", File: "/etc/php/8.2/fpm/pool.d/broken.conf", Line: 5},
		"pm.max_requests":           {Value: "-1", File: "/etc/php/8.2/fpm/pool.d/broken.conf", Line: 6},
		"request_terminate_timeout": {Value: "30x", File: "/etc/php/8.2/fpm/pool.d/broken.conf", Line: 7},
	}, broken.Invalid)
	assert.Zero(t, broken.MaxChildren)
	assert.Zero(t, broken.RequestTerminateTimeout)
	assert.Equal(t, "1", broken.PHP["max_input_vars"].Value, "php_flag on")

	cfg = runLimits(t, "debian", [][]string{debianNginx, debianFPM}, "/var/www/html")
	pools, web = serving(cfg)
	assert.Equal(t, []string{"www"}, pools)
	assert.Equal(t, map[string]string{
		"/etc/nginx/snippets/slow-php.conf line 3": "fastcgi_read_timeout 1m30s",
		"/etc/nginx/nginx.conf line 22":            "fastcgi_read_timeout 2m0s",
	}, web, "from an included snippet; a value nginx refuses is passed over")

	cfg = runLimits(t, "debian", [][]string{debianNginx, debianFPM}, "/srv/up")
	pools, _ = serving(cfg)
	assert.Equal(t, []string{"up"}, pools, "through the upstream, to a pool listening on every address")
	assert.Equal(t, 2*time.Minute, pool(cfg, "up").RequestTerminateTimeout, "seconds without a suffix")

	cfg = runLimits(t, "debian", [][]string{debianNginx, debianFPM}, "/home/someone/www")
	pools, web = serving(cfg)
	assert.Empty(t, pools)
	assert.Empty(t, web)
	for _, w := range cfg.Web {
		assert.NotEqual(t, 10*time.Second, w.Value, "a server without fastcgi_pass is left out")
	}

	cfg = runLimits(t, "debian", [][]string{debianApache, debianFPM}, "/var/www/shop")
	pools, web = serving(cfg)
	assert.Equal(t, []string{"www"}, pools, "the main server's SetHandler")
	assert.Equal(t, map[string]string{"/etc/apache2/sites-enabled/shop.conf line 4": "ProxyTimeout 10m0s"}, web)

	cfg = runLimits(t, "debian", [][]string{debianApache, debianFPM}, "/var/www/blog")
	pools, web = serving(cfg)
	assert.Equal(t, []string{"site", "www"}, pools, "the host's own handler and the main server's")
	assert.Equal(t, map[string]string{"Timeout in /etc/apache2/sites-enabled/blog.conf line 5": "ProxyTimeout 45s"}, web,
		"ProxyTimeout left to the host's Timeout")

	httpd := [][]string{{"/usr/sbin/httpd", "-DFOREGROUND"}}
	_, web = serving(runLimits(t, "plain", httpd, "/var/www/site"))
	assert.Equal(t, map[string]string{"": "Timeout 1m0s"}, web, "Apache's default, no FastCGI")
	_, web = serving(runLimits(t, "plain", httpd, "/var/www/slow"))
	assert.Equal(t, map[string]string{"/etc/httpd/conf/httpd.conf line 12": "Timeout 2m0s"}, web, "ProxyTimeout does not hold without FastCGI")

	cfg = runLimits(t, "plain", [][]string{{"nginx: master process /usr/sbin/nginx"},
		{"/usr/sbin/php-fpm", "-y", "/srv/php/php-fpm.conf", "-c", "/srv/php/ini"}}, "/var/www/site")
	pools, web = serving(cfg)
	assert.Equal(t, []string{"site"}, pools)
	assert.Equal(t, map[string]string{"": "fastcgi_read_timeout 1m0s"}, web, "nginx's default")
	site = pool(cfg, "site")
	assert.Equal(t, Setting{}, site.PM, "unset")
	assert.Equal(t, Setting{Value: "256M", File: "/srv/php/ini/php.ini", Line: 2}, site.PHP["memory_limit"], "the folder -c names")
	assert.Equal(t, "5000", site.PHP["max_input_vars"].Value)

	cfg = runLimits(t, "plain", nil, "/var/www/site")
	assert.Equal(t, &Limits{Pools: []FPMPool{}, Web: []WebTimeout{}}, cfg, "nothing running: empty, not nil")
}

// TestMastersOf picks the masters out of a process list as ReadStack
// does.
func TestMastersOf(t *testing.T) {
	procs := []sysinfo.Process{
		{PID: 1, Args: []string{"/sbin/init"}},
		{PID: 10, Args: []string{"/usr/sbin/apache2", "-k", "start"}},
		{PID: 11, Args: []string{"/usr/sbin/apache2", "-k", "start"}},
		{PID: 12, Args: []string{"nginx: master process /usr/sbin/nginx"}},
		{PID: 13, Args: []string{"nginx: worker process"}},
		{PID: 14, Args: []string{"php-fpm: master process (/etc/php/8.2/fpm/php-fpm.conf)"}},
		{PID: 15, Args: []string{"php-fpm: pool www"}},
	}
	var envFor []int
	got := mastersOf(procs, func(pid int) map[string]string {
		envFor = append(envFor, pid)
		return map[string]string{"APACHE_LOG_DIR": "/x"}
	})
	require.Len(t, got, 3, "a child with its master's command line is left out")
	assert.Equal(t, LogApache, got[0].kind)
	assert.Equal(t, "apache2 master, pid 10", got[0].apache.Who)
	assert.Equal(t, "/x", got[0].apache.Env["APACHE_LOG_DIR"])
	assert.Equal(t, []int{10}, envFor, "the environment of Apache's master only")
	assert.Equal(t, LogNginx, got[1].kind)
	assert.Equal(t, "nginx master, pid 12", got[1].nginx.Who)
	assert.Equal(t, LogFPM, got[2].kind)
	assert.Equal(t, "php-fpm master, pid 14", got[2].fpm.Who)
}

// FuzzParseDurations checks the duration parsers on any input: no panic,
// no negative value, and a value that prints back the same.
func FuzzParseDurations(f *testing.F) {
	for _, s := range []string{"60", "60s", "500ms", "1m30s", "1h 30m", "1y1M1w1d1h1m1s1ms", "5m", "1d", "30x", " ", "1 2", "9223372036854775807ms"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if d, err := nginx.ParseDuration(s); err == nil {
			if d < 0 || d%time.Millisecond != 0 {
				t.Fatalf("nginx.ParseDuration(%q) = %v", s, d)
			}
			back, err := nginx.ParseDuration(strconv.FormatInt(d.Milliseconds(), 10) + "ms")
			if err != nil || back != d {
				t.Fatalf("nginx.ParseDuration(%q) = %v, but %dms gives %v, %v", s, d, d.Milliseconds(), back, err)
			}
		} else if !errors.Is(err, strconv.ErrSyntax) && !errors.Is(err, strconv.ErrRange) {
			t.Fatalf("nginx.ParseDuration(%q): %v", s, err)
		}
		if d, err := fpm.ParseDuration(s); err == nil {
			if d < 0 || d%time.Second != 0 || d > time.Duration(1<<31-1)*time.Second {
				t.Fatalf("fpm.ParseDuration(%q) = %v", s, d)
			}
			back, err := fpm.ParseDuration(strconv.FormatInt(int64(d/time.Second), 10))
			if err != nil || back != d {
				t.Fatalf("fpm.ParseDuration(%q) = %v, but seconds give %v, %v", s, d, back, err)
			}
		}
		if d, err := apache.ParseDuration(s); err == nil && d < 0 {
			t.Fatalf("apache.ParseDuration(%q) = %v", s, d)
		}
	})
}

// FuzzServerLimits feeds any config, as every file, to the limits of an
// nginx, an Apache and a php-fpm master: no panic, bounded reads, and
// what holds for any answer.
func FuzzServerLimits(f *testing.F) {
	for _, dir := range []string{"serverlimits", "logfind"} {
		conftest.Seed(f, filepath.Join("testdata", dir), func(p string) bool { return !strings.HasSuffix(p, ".json") })
	}
	f.Add([]byte("http { fastcgi_read_timeout 5m; server { root /var/www/site; location / { if ($x) { fastcgi_pass unix:/s.sock; } fastcgi_read_timeout 1y; } } }"))
	f.Add([]byte("[p]\nlisten=/s.sock\npm=static\npm.max_children=3\nrequest_terminate_timeout=2147483647\nphp_admin_value[memory_limit]=1G\nphp_flag[max_input_vars]=yes\n"))
	f.Add([]byte("Timeout 5mi\nProxyTimeout 99999999999999999999\n<VirtualHost *>\nDocumentRoot /var/www/site\nSetHandler proxy:unix:/s.sock|fcgi://x\nTimeout x\n</VirtualHost>\n"))
	procs := []sysinfo.Process{
		{PID: 1, Args: []string{"/usr/sbin/nginx"}},
		{PID: 2, Args: []string{"/usr/sbin/apache2"}},
		{PID: 3, Args: []string{"/usr/sbin/php-fpm", "-y", "/fuzz/php-fpm.conf"}},
	}
	masters := mastersOf(procs, func(int) map[string]string { return map[string]string{} })
	f.Fuzz(func(t *testing.T, data []byte) {
		reads := 0
		st := &Stack{running: map[string]bool{}}
		st.read(conftest.Files(data, &reads), masters)
		cfg := st.Limits("/var/www/site")
		if reads > 3*(conf.MaxFiles+16) {
			t.Fatalf("read %d files", reads)
		}
		if cfg.Pools == nil || cfg.Web == nil {
			t.Fatal("nil lists")
		}
		for _, p := range cfg.Pools {
			if p.MaxChildren < 0 || p.MaxRequests < 0 || p.RequestTerminateTimeout < 0 || len(p.PHP) != len(LimitININames) {
				t.Fatalf("pool %+v", p)
			}
			for k, s := range p.Sources {
				if !strings.Contains(s, " line ") {
					t.Fatalf("pool %s: source of %s: %q", p.Name, k, s)
				}
			}
		}
		for i, w := range cfg.Web {
			if w.Value < 0 || w.Directive == "" || w.Master == "" {
				t.Fatalf("web timeout %+v", w)
			}
			if i > 0 && w.ServesSite && !cfg.Web[i-1].ServesSite {
				t.Fatalf("serving timeout %+v after one that does not serve", w)
			}
		}
	})
}

// TestEmptyErrorLog: an error_log or ErrorLog with an empty name (found
// by FuzzApacheConfig) names no log, rather than the path "".
func TestEmptyErrorLog(t *testing.T) {
	for name, src := range map[string]string{"apache": "ErrorLog \"", "nginx": `error_log "";`} {
		reads := 0
		files := conftest.Files([]byte(src), &reads)
		var logs []LogFile
		if name == "apache" {
			c, _ := apache.ParseCmd([]string{"/usr/sbin/apache2"})
			c.Who = "apache2 master, pid 1"
			logs = apache.Read(files, c).Logs("/var/www/site").Logs
		} else {
			c, _ := nginx.ParseCmd([]string{"/usr/sbin/nginx"})
			c.Who = "nginx master, pid 1"
			logs = nginx.Read(files, c).Logs("/var/www/site").Logs
		}
		conftest.CheckLogs(t, logs, reads)
	}
}

// TestStackViews reads a host's stack once and asks it about two sites:
// each sees its own server block's logs and pool as serving it, the other's
// as not; Limits and Logs agree on the pool; the stack's warnings gather
// every master's.
func TestStackViews(t *testing.T) {
	procs := []sysinfo.Process{
		{PID: 10, Args: []string{"nginx: master process /usr/sbin/nginx"}},
		{PID: 11, Args: []string{"php-fpm: master process (/etc/php/8.2/fpm/php-fpm.conf)"}},
	}
	st := readStack(treeFiles(t, "debian"), procs, nil, func(int) map[string]string { return nil })
	assert.True(t, st.Running(LogNginx) && st.Running(LogFPM) && !st.Running(LogApache))
	serving := func(logs []LogFile) map[string]bool {
		m := map[string]bool{}
		for _, l := range logs {
			m[l.Path] = l.ServesSite
		}
		return m
	}
	example := serving(st.Logs("/var/www/example.com/public"))
	assert.True(t, example["/var/log/nginx/example.com.error.log"])
	assert.True(t, example["/var/log/php/example.error.log"], "the pool behind the server block's fastcgi_pass")
	html := serving(st.Logs("/var/www/html"))
	assert.False(t, html["/var/log/nginx/example.com.error.log"])
	assert.False(t, html["/var/log/php/example.error.log"])

	var pools []string
	for _, p := range st.Limits("/var/www/example.com/public").Pools {
		if p.ServesSite {
			pools = append(pools, p.Name)
		}
	}
	assert.Equal(t, []string{"example"}, pools)

	broken := readStack(treeFiles(t, "debian"), []sysinfo.Process{{PID: 1, Args: []string{"nginx: master process /usr/sbin/nginx -c /etc/nginx/gone.conf"}}},
		errors.New("no /proc"), nil)
	assert.Equal(t, []Warning{
		{File: "/proc", Message: "the running servers are unknown: no /proc"},
		{File: "/etc/nginx/gone.conf", Message: "could not be read: no such file or directory"},
	}, broken.Warnings)
}
