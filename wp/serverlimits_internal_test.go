package wp

import (
	"context"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wpfix/wpfix/remote"
)

// limitTree reads a config tree under testdata/serverlimits as the host's /.
func limitTree(t *testing.T, tree string) hostFiles {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("testdata", "serverlimits", tree))
	require.NoError(t, err)
	return hostFiles{ctx: context.Background(), h: rootedHost{Host: remote.NewLocal(), root: root}}
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
func runLimits(t *testing.T, tree string, cmdlines [][]string, docroot string) *ServerConfig {
	t.Helper()
	procs := make([]process, len(cmdlines))
	for i, args := range cmdlines {
		procs[i] = process{pid: 100 + i, args: args}
	}
	return serverLimits(limitTree(t, tree), mastersOf(procs, func(int) map[string]string { return nil }), docroot)
}

// TestServerLimitsGolden reads each case's config tree and compares the
// limits found with testdata/serverlimits/NAME.golden.json (-update
// rewrites them).
func TestServerLimitsGolden(t *testing.T) {
	for _, c := range limitCases {
		t.Run(c.name, func(t *testing.T) {
			cfg := runLimits(t, c.tree, c.procs, c.docroot)
			assertGolden(t, filepath.Join("testdata", "serverlimits", c.name+".golden.json"), "TestServerLimitsGolden", cfg)
			checkLimits(t, cfg)
		})
	}
}

// checkLimits checks what holds for any answer.
func checkLimits(t *testing.T, cfg *ServerConfig) {
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
	pool := func(cfg *ServerConfig, name string) FPMPool {
		t.Helper()
		for _, p := range cfg.Pools {
			if p.Name == name {
				return p
			}
		}
		t.Fatalf("no pool %s in %+v", name, cfg.Pools)
		return FPMPool{}
	}
	serving := func(cfg *ServerConfig) (pools []string, web map[string]string) {
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
	assert.Equal(t, PHPSetting{Value: "512M", Admin: true, Source: "/etc/php/8.2/fpm/pool.d/site.conf line 14"}, site.PHP["memory_limit"],
		"php_admin_value beats php_value, whatever the order")
	assert.Equal(t, "300", site.PHP["max_execution_time"].Value, "the first php_value")
	assert.Equal(t, PHPSetting{Value: "100M", Admin: true, Source: "/etc/php/8.2/fpm/pool.d/site.conf line 18"}, site.PHP["upload_max_filesize"])
	assert.Equal(t, "100M", site.PHP["post_max_size"].Value, "PHP_VALUE, quoted")
	assert.Equal(t, PHPSetting{Value: "60", Source: "/etc/php/8.2/fpm/php.ini line 4"}, site.PHP["max_input_time"])
	assert.Equal(t, PHPSetting{Value: "1000"}, site.PHP["max_input_vars"], "PHP's default")
	assert.Empty(t, site.Invalid)

	www := pool(cfg, "www")
	assert.Equal(t, Setting{Value: "dynamic", Source: "/etc/php/8.2/fpm/pool.d/www.conf line 9"}, www.PM)
	assert.Equal(t, 5, www.MaxChildren)
	assert.Zero(t, www.MaxRequests, "never recycled")
	assert.Zero(t, www.RequestTerminateTimeout, "off")
	assert.Equal(t, "128M", www.PHP["memory_limit"].Value, "php.ini's, not its [PATH=] section's")
	assert.Equal(t, PHPSetting{Value: "64M", Source: "/etc/php/8.2/fpm/conf.d/99-uploads.ini line 2"}, www.PHP["upload_max_filesize"],
		"conf.d overrides php.ini")

	broken := pool(cfg, "broken")
	assert.Equal(t, map[string]Setting{
		"pm":                        {Value: "turbo", Source: "/etc/php/8.2/fpm/pool.d/broken.conf line 4"},
		"pm.max_children":           {Value: "lots", Source: "/etc/php/8.2/fpm/pool.d/broken.conf line 5"},
		"pm.max_requests":           {Value: "-1", Source: "/etc/php/8.2/fpm/pool.d/broken.conf line 6"},
		"request_terminate_timeout": {Value: "30x", Source: "/etc/php/8.2/fpm/pool.d/broken.conf line 7"},
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
	assert.Equal(t, PHPSetting{Value: "256M", Source: "/srv/php/ini/php.ini line 2"}, site.PHP["memory_limit"], "the folder -c names")
	assert.Equal(t, "5000", site.PHP["max_input_vars"].Value)

	cfg = runLimits(t, "plain", nil, "/var/www/site")
	assert.Equal(t, &ServerConfig{Pools: []FPMPool{}, Web: []WebTimeout{}}, cfg, "nothing running: empty, not nil")
}

// TestMastersOf picks the masters out of a process list as FindLogs and
// ServerLimits do.
func TestMastersOf(t *testing.T) {
	procs := []process{
		{1, []string{"/sbin/init"}},
		{10, []string{"/usr/sbin/apache2", "-k", "start"}},
		{11, []string{"/usr/sbin/apache2", "-k", "start"}},
		{12, []string{"nginx: master process /usr/sbin/nginx"}},
		{13, []string{"nginx: worker process"}},
		{14, []string{"php-fpm: master process (/etc/php/8.2/fpm/php-fpm.conf)"}},
		{15, []string{"php-fpm: pool www"}},
	}
	var envFor []int
	got := mastersOf(procs, func(pid int) map[string]string {
		envFor = append(envFor, pid)
		return map[string]string{"APACHE_LOG_DIR": "/x"}
	})
	require.Len(t, got, 3, "a child with its master's command line is left out")
	assert.Equal(t, LogApache, got[0].kind)
	assert.Equal(t, "apache2 master, pid 10", got[0].apache.who)
	assert.Equal(t, "/x", got[0].apache.env["APACHE_LOG_DIR"])
	assert.Equal(t, []int{10}, envFor, "the environment of Apache's master only")
	assert.Equal(t, LogNginx, got[1].kind)
	assert.Equal(t, "nginx master, pid 12", got[1].nginx.who)
	assert.Equal(t, LogFPM, got[2].kind)
	assert.Equal(t, "php-fpm master, pid 14", got[2].fpm.who)
}

func TestParseNginxDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{
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
	} {
		got, err := ParseNginxDuration(in)
		if assert.NoError(t, err, in) {
			assert.Equal(t, want, got, in)
		}
	}
	for in, want := range map[string]error{
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
	} {
		_, err := ParseNginxDuration(in)
		assert.ErrorIs(t, err, want, in)
		if err != nil {
			assert.Contains(t, err.Error(), "parse nginx time", in)
		}
	}
}

func TestParseFPMDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"0":    0,
		"30":   30 * time.Second,
		"30s":  30 * time.Second,
		"5m":   5 * time.Minute,
		"2h":   2 * time.Hour,
		"1d":   24 * time.Hour,
		"0s":   0,
		"0300": 300 * time.Second,
	} {
		got, err := ParseFPMDuration(in)
		if assert.NoError(t, err, in) {
			assert.Equal(t, want, got, in)
		}
	}
	for in, want := range map[string]error{
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
	} {
		_, err := ParseFPMDuration(in)
		assert.ErrorIs(t, err, want, in)
	}
	d, err := ParseFPMDuration("24855d")
	require.NoError(t, err)
	assert.Equal(t, 24855*24*time.Hour, d, "the largest day count php-fpm keeps")
}

func TestParseApacheDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"300": 300 * time.Second, "300s": 300 * time.Second, "500ms": 500 * time.Millisecond,
		"2mi": 2 * time.Minute, "1h": time.Hour,
	} {
		got, err := parseApacheDuration(in)
		if assert.NoError(t, err, in) {
			assert.Equal(t, want, got, in)
		}
	}
	for _, in := range []string{"", "m", "5m", "-5", "1.5", "5 s", "99999999999999999999", "9999999999999h"} {
		_, err := parseApacheDuration(in)
		assert.Error(t, err, in)
	}
}

// FuzzParseDurations checks the duration parsers on any input: no panic,
// no negative value, and a value that prints back the same.
func FuzzParseDurations(f *testing.F) {
	for _, s := range []string{"60", "60s", "500ms", "1m30s", "1h 30m", "1y1M1w1d1h1m1s1ms", "5m", "1d", "30x", " ", "1 2", "9223372036854775807ms"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if d, err := ParseNginxDuration(s); err == nil {
			if d < 0 || d%time.Millisecond != 0 {
				t.Fatalf("ParseNginxDuration(%q) = %v", s, d)
			}
			back, err := ParseNginxDuration(strconv.FormatInt(d.Milliseconds(), 10) + "ms")
			if err != nil || back != d {
				t.Fatalf("ParseNginxDuration(%q) = %v, but %dms gives %v, %v", s, d, d.Milliseconds(), back, err)
			}
		} else if !errors.Is(err, strconv.ErrSyntax) && !errors.Is(err, strconv.ErrRange) {
			t.Fatalf("ParseNginxDuration(%q): %v", s, err)
		}
		if d, err := ParseFPMDuration(s); err == nil {
			if d < 0 || d%time.Second != 0 || d > time.Duration(1<<31-1)*time.Second {
				t.Fatalf("ParseFPMDuration(%q) = %v", s, d)
			}
			back, err := ParseFPMDuration(strconv.FormatInt(int64(d/time.Second), 10))
			if err != nil || back != d {
				t.Fatalf("ParseFPMDuration(%q) = %v, but seconds give %v, %v", s, d, back, err)
			}
		}
		if d, err := parseApacheDuration(s); err == nil && d < 0 {
			t.Fatalf("parseApacheDuration(%q) = %v", s, d)
		}
	})
}

// FuzzServerLimits feeds any config, as every file, to the limits of an
// nginx, an Apache and a php-fpm master: no panic, bounded reads, and
// what holds for any answer.
func FuzzServerLimits(f *testing.F) {
	for _, dir := range []string{"serverlimits", "logfind"} {
		seedTree(f, dir, func(p string) bool { return !strings.HasSuffix(p, ".json") })
	}
	f.Add([]byte("http { fastcgi_read_timeout 5m; server { root /var/www/site; location / { if ($x) { fastcgi_pass unix:/s.sock; } fastcgi_read_timeout 1y; } } }"))
	f.Add([]byte("[p]\nlisten=/s.sock\npm=static\npm.max_children=3\nrequest_terminate_timeout=2147483647\nphp_admin_value[memory_limit]=1G\nphp_flag[max_input_vars]=yes\n"))
	f.Add([]byte("Timeout 5mi\nProxyTimeout 99999999999999999999\n<VirtualHost *>\nDocumentRoot /var/www/site\nSetHandler proxy:unix:/s.sock|fcgi://x\nTimeout x\n</VirtualHost>\n"))
	masters := []serverMaster{
		{kind: LogNginx, nginx: nginxCmd{bin: "/usr/sbin/nginx", who: "nginx master, pid 1"}},
		{kind: LogApache, apache: apacheCmd{bin: "/usr/sbin/apache2", who: "apache2 master, pid 2", env: map[string]string{}}},
		{kind: LogFPM, fpm: fpmCmd{conf: "/fuzz/php-fpm.conf", who: "php-fpm master, pid 3"}},
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		reads := 0
		cfg := serverLimits(fuzzFiles{data: data, reads: &reads}, masters, "/var/www/site")
		if reads > 3*(maxConfFiles+16) {
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
		files := fuzzFiles{data: []byte(src), reads: &reads}
		var res serverLogs
		if name == "apache" {
			res = apacheLogs(files, apacheCmd{bin: "/usr/sbin/apache2", who: "apache2 master, pid 1"}, "/var/www/site")
		} else {
			res = nginxLogs(files, nginxCmd{bin: "/usr/sbin/nginx", who: "nginx master, pid 1"}, "/var/www/site")
		}
		checkFuzzLogs(t, res, reads)
	}
}
