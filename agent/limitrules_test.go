package agent

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/wpfix/wpfix/remote/sysinfo"
	"github.com/wpfix/wpfix/wp/server"
)

// pool is a php-fpm pool serving the site, with php.ini values from config.
func testPool(children int, rtt time.Duration, php server.PHPValues) server.FPMPool {
	return server.FPMPool{Name: "www", ServesSite: true, PM: server.Setting{Value: "dynamic"}, MaxChildren: children,
		RequestTerminateTimeout: rtt, PHP: php,
		Sources: map[string]string{"request_terminate_timeout": "/etc/php/8.2/fpm/pool.d/www.conf line 9",
			"pm.max_children": "/etc/php/8.2/fpm/pool.d/www.conf line 5"}}
}

func fpmRuntime(ini map[string]string, changeable bool) *PHPRuntime {
	return &PHPRuntime{Version: "8.2.0", SAPI: "fpm-fcgi", INI: ini, MemoryLimitChangeable: changeable}
}

var gib = int64(1 << 30)

func TestLimitFindings(t *testing.T) {
	nginx60 := server.WebTimeout{Server: "nginx", Directive: "fastcgi_read_timeout", Value: 60 * time.Second, ServesSite: true}
	tests := []struct {
		name string
		rep  LimitsReport
		want []string // finding IDs, in order
	}{
		{name: "healthy",
			rep: LimitsReport{PHP: fpmRuntime(map[string]string{"memory_limit": "256M", "max_execution_time": "30",
				"post_max_size": "64M", "upload_max_filesize": "64M"}, true),
				Pools: []server.FPMPool{testPool(8, 60*time.Second, nil)}, Web: []server.WebTimeout{nginx60},
				Disk:   &sysinfo.Disk{MountedOn: "/", Total: 100 * gib, Avail: 50 * gib},
				Memory: &sysinfo.Memory{Total: 8 * gib, Available: 4 * gib}}},
		{name: "terminate below execution",
			rep: LimitsReport{PHP: fpmRuntime(map[string]string{"max_execution_time": "30"}, true),
				Pools: []server.FPMPool{testPool(8, 10*time.Second, nil)}, Web: []server.WebTimeout{nginx60}},
			want: []string{"fpm-terminate-below-execution"}},
		{name: "terminate below execution, from the pool's config",
			rep: LimitsReport{Pools: []server.FPMPool{testPool(8, 10*time.Second,
				server.PHPValues{"max_execution_time": {Value: "300", File: "php.ini", Line: 409}})}},
			want: []string{"fpm-terminate-below-execution"}},
		{name: "terminate off is no conflict",
			rep: LimitsReport{PHP: fpmRuntime(map[string]string{"max_execution_time": "30"}, true),
				Pools: []server.FPMPool{testPool(8, 0, nil)}, Web: []server.WebTimeout{nginx60}}},
		{name: "terminate is the only limit",
			rep: LimitsReport{PHP: fpmRuntime(map[string]string{"max_execution_time": "0"}, true),
				Pools: []server.FPMPool{testPool(8, 30*time.Second, nil)}, Web: []server.WebTimeout{nginx60}},
			want: []string{"fpm-terminate-only-limit"}},
		{name: "a lone pool is taken to serve when no web server config says",
			rep: LimitsReport{PHP: fpmRuntime(map[string]string{"max_execution_time": "30"}, true),
				Pools: []server.FPMPool{{Name: "only", RequestTerminateTimeout: time.Second}}},
			want: []string{"fpm-terminate-below-execution"}},
		{name: "a lone pool elsewhere is not judged when the web server sends PHP to none",
			rep: LimitsReport{PHP: fpmRuntime(map[string]string{"max_execution_time": "30"}, true),
				Pools: []server.FPMPool{{Name: "other", RequestTerminateTimeout: time.Second}}, Web: []server.WebTimeout{nginx60}}},
		{name: "a pool of another site is not judged",
			rep: LimitsReport{PHP: fpmRuntime(map[string]string{"max_execution_time": "30"}, true),
				Pools: []server.FPMPool{testPool(8, 60*time.Second, nil), {Name: "other", RequestTerminateTimeout: time.Second}}}},
		{name: "fastcgi_read_timeout below max_execution_time",
			rep: LimitsReport{PHP: fpmRuntime(map[string]string{"max_execution_time": "120"}, true),
				Pools: []server.FPMPool{testPool(8, 0, nil)}, Web: []server.WebTimeout{nginx60}},
			want: []string{"web-timeout-below-php"}},
		{name: "fastcgi_read_timeout below both",
			rep: LimitsReport{PHP: fpmRuntime(map[string]string{"max_execution_time": "120"}, true),
				Pools: []server.FPMPool{testPool(8, 150*time.Second, nil)}, Web: []server.WebTimeout{nginx60}},
			want: []string{"web-timeout-below-php"}},
		{name: "a web server of another site is not judged",
			rep: LimitsReport{PHP: fpmRuntime(map[string]string{"max_execution_time": "120"}, true),
				Web: []server.WebTimeout{{Server: "nginx", Directive: "fastcgi_read_timeout", Value: time.Second}}}},
		{name: "WP_MEMORY_LIMIT that PHP pins lower",
			rep: LimitsReport{PHP: fpmRuntime(map[string]string{"memory_limit": "128M"}, false),
				WordPress: WPMemory{MemoryLimit: server.Setting{Value: "256M", File: "wp-config.php", Line: 90}}},
			want: []string{"wp-memory-above-php-limit"}},
		{name: "WP_MEMORY_LIMIT that WordPress may raise to",
			rep: LimitsReport{PHP: fpmRuntime(map[string]string{"memory_limit": "128M"}, true),
				WordPress: WPMemory{MemoryLimit: server.Setting{Value: "256M"}}}},
		{name: "WP_MEMORY_LIMIT pinned by php_admin_value in the pool's config",
			rep: LimitsReport{Pools: []server.FPMPool{testPool(4, 0, server.PHPValues{
				"memory_limit": {Value: "64M", Admin: true, File: "www.conf", Line: 20}})},
				WordPress: WPMemory{MemoryLimit: server.Setting{Value: "1G"}}},
			want: []string{"wp-memory-above-php-limit"}},
		{name: "WP_MAX_MEMORY_LIMIT pinned lower is a warning",
			rep: LimitsReport{PHP: fpmRuntime(map[string]string{"memory_limit": "128M"}, false),
				WordPress: WPMemory{MaxMemoryLimit: server.Setting{Value: "512M"}}},
			want: []string{"wp-memory-above-php-limit"}},
		{name: "unlimited memory_limit pins nothing",
			rep: LimitsReport{PHP: fpmRuntime(map[string]string{"memory_limit": "-1"}, false),
				WordPress: WPMemory{MemoryLimit: server.Setting{Value: "256M"}}}},
		{name: "pool overcommits memory",
			rep: LimitsReport{PHP: fpmRuntime(map[string]string{"memory_limit": "512M"}, true),
				Pools:  []server.FPMPool{testPool(50, 0, nil)},
				Memory: &sysinfo.Memory{Total: 4 * gib, Available: 2 * gib, SwapTotal: gib}},
			want: []string{"pool-memory-overcommit"}},
		{name: "WordPress raising memory_limit counts toward overcommit",
			rep: LimitsReport{PHP: fpmRuntime(map[string]string{"memory_limit": "64M"}, true),
				WordPress: WPMemory{MemoryLimit: server.Setting{Value: "1G"}},
				Pools:     []server.FPMPool{testPool(10, 0, nil)},
				Memory:    &sysinfo.Memory{Total: 8 * gib, Available: 6 * gib}},
			want: []string{"pool-memory-overcommit"}},
		{name: "post below upload",
			rep:  LimitsReport{PHP: fpmRuntime(map[string]string{"post_max_size": "8M", "upload_max_filesize": "64M"}, true)},
			want: []string{"post-below-upload"}},
		{name: "disk full, inodes too, memory low",
			rep: LimitsReport{Disk: &sysinfo.Disk{MountedOn: "/var", Total: 100 * gib, Avail: 10 << 20, Inodes: 1000, InodesFree: 3},
				Memory: &sysinfo.Memory{Total: 8 * gib, Available: 100 << 20}},
			want: []string{"disk-full", "inodes-full", "memory-low"}},
		{name: "disk low",
			rep:  LimitsReport{Disk: &sysinfo.Disk{MountedOn: "/", Total: 100 * gib, Avail: 3 * gib}},
			want: []string{"disk-low"}},
		{name: "errors before warnings",
			rep: LimitsReport{PHP: fpmRuntime(map[string]string{"max_execution_time": "30", "post_max_size": "2M", "upload_max_filesize": "8M"}, true),
				Pools: []server.FPMPool{testPool(4, 5*time.Second, nil)}},
			want: []string{"fpm-terminate-below-execution", "post-below-upload"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := limitFindings(&tt.rep)
			ids := []string{}
			for _, f := range got {
				ids = append(ids, f.ID)
				assert.NotEmpty(t, f.Problem)
				assert.NotEmpty(t, f.Consequence)
				assert.NotEmpty(t, f.Fix)
				assert.Contains(t, []string{SeverityError, SeverityWarning, SeverityInfo}, f.Severity)
			}
			if tt.want == nil {
				tt.want = []string{}
			}
			assert.Equal(t, tt.want, ids)
		})
	}
}

// TestLimitFindingText pins the words of the rule the issue names: the
// consequence (502) and where to fix it.
func TestLimitFindingText(t *testing.T) {
	got := limitFindings(&LimitsReport{PHP: fpmRuntime(map[string]string{"max_execution_time": "30"}, true),
		Pools: []server.FPMPool{testPool(8, 10*time.Second, nil)}})
	if assert.Len(t, got, 1) {
		f := got[0]
		assert.Equal(t, SeverityError, f.Severity)
		assert.Equal(t, "php-fpm pool www: request_terminate_timeout 10s is below max_execution_time 30s (PHP under the web server)", f.Problem)
		assert.Contains(t, f.Consequence, "502 Bad Gateway")
		assert.Equal(t, "raise request_terminate_timeout (/etc/php/8.2/fpm/pool.d/www.conf line 9) to at least 30s, or lower max_execution_time below 10s", f.Fix)
	}
}
