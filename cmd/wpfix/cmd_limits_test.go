package main

import (
	"io"
	"testing"
	"time"

	"github.com/wpfix/wpfix/agent"
	"github.com/wpfix/wpfix/remote/sysinfo"
	"github.com/wpfix/wpfix/wp/server"
)

// TestLimitsReportGolden renders limits' report of a site whose limits
// conflict, with PHP read under the web server and on the CLI, and of one
// read from the configs alone.
func TestLimitsReportGolden(t *testing.T) {
	ini := func(memory string) map[string]string {
		return map[string]string{"memory_limit": memory, "max_execution_time": "30", "max_input_time": "60",
			"post_max_size": "8M", "upload_max_filesize": "2M", "max_input_vars": "1000"}
	}
	conflicts := &agent.LimitsReport{
		PHP:       &agent.PHPRuntime{Version: "8.3.14", SAPI: "fpm-fcgi", User: "shop", INI: ini("64M")},
		CLI:       &agent.PHPRuntime{Version: "8.3.14", SAPI: "cli", INI: ini("-1"), MemoryLimitChangeable: true},
		WordPress: agent.WPMemory{MemoryLimit: server.Setting{Value: "256M", File: "/var/www/shop/wp-config.php", Line: 3}},
		Pools: []server.FPMPool{{Name: "shop", Master: "php-fpm8.3 (pid 812)", ServesSite: true, PM: server.Setting{Value: "dynamic"},
			MaxChildren: 4, MaxRequests: 500, RequestTerminateTimeout: 10 * time.Second}},
		Web: []server.WebTimeout{
			{Server: "nginx", Directive: "fastcgi_read_timeout", Value: 5 * time.Second,
				Source: "/etc/nginx/sites-enabled/shop line 22", ServesSite: true},
			{Server: "nginx", Directive: "fastcgi_read_timeout", Value: time.Minute, ServesSite: false},
		},
		Disk:   &sysinfo.Disk{MountedOn: "/", Total: 20 << 30, Avail: 1536 << 20},
		Memory: &sysinfo.Memory{Total: 2 << 30, Available: 700 << 20},
		Findings: []agent.Finding{
			{ID: "fpm-terminate-below-execution", Severity: agent.SeverityError,
				Problem:     "php-fpm pool shop: request_terminate_timeout 10s is below max_execution_time 30s",
				Consequence: "php-fpm kills a slow request first: nginx answers 502 Bad Gateway",
				Fix:         "set request_terminate_timeout to 0 or above 30s"},
			{ID: "disk-low", Severity: agent.SeverityWarning, Problem: "1536M free of 20G on / (7.5%)",
				Consequence: "uploads, updates and logs fail once it is full", Fix: "free space on /"},
		},
	}
	static := &agent.LimitsReport{
		WordPress: agent.WPMemory{},
		Pools: []server.FPMPool{{Name: "www", Master: "php-fpm8.3 (pid 700)", PM: server.Setting{Value: "ondemand"},
			MaxChildren: 5}},
		Web:   []server.WebTimeout{{Server: "apache", Directive: "Timeout", Value: time.Minute, ServesSite: true}},
		Notes: []string{"--no-http: PHP's values under the web server are estimated from the pool's config and php.ini"},
	}
	assertGoldens(t, "limits", map[string]func(io.Writer) error{
		"conflicts": func(w io.Writer) error { printLimits(w, conflicts); return nil },
		"no-http":   func(w io.Writer) error { printLimits(w, static); return nil },
	})
}
