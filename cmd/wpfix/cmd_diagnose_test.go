package main

import (
	"io"
	"testing"
	"time"

	"github.com/wpfix/wpfix/agent"
	"github.com/wpfix/wpfix/remote/sysinfo"
	"github.com/wpfix/wpfix/wp"
)

// TestDiagnoseReportGolden renders diagnose's report of a broken site
// behind a CDN, and of a healthy one.
func TestDiagnoseReportGolden(t *testing.T) {
	broken := &agent.DiagnoseReport{
		URL: "https://shop.example/",
		Probe: agent.ProbeView{URL: "https://shop.example/", Bad: true, Status: 502, Reason: "502 Bad Gateway",
			DurationMS: 38, Server: "cloudflare", CDN: &agent.CDN{Name: "Cloudflare", Evidence: "cf-ray: 8a1b2c3d4e5f6a7b-FRA"}},
		Origin: &agent.ProbeView{URL: "https://shop.example/", Via: "203.0.113.7", Bad: true, Status: 502,
			Reason: "502 Bad Gateway", DurationMS: 12, Server: "nginx/1.26.3"},
		DNS:      &agent.DNSCheck{Host: "shop.example", Addrs: []string{"104.16.1.2", "104.16.1.3"}},
		TLS:      &agent.TLSCheck{Subject: "CN=shop.example", NotAfter: time.Date(2027, 1, 30, 12, 0, 0, 0, time.UTC), DaysLeft: 60},
		Versions: agent.Versions{WordPress: "6.8.3", PHP: "8.3.14", Server: "nginx/1.26.3"},
		DB:       agent.DBCheck{Reachable: true},
		Limits: []agent.Finding{{ID: "fpm-terminate-below-execution", Severity: agent.SeverityError,
			Problem: "php-fpm pool www: request_terminate_timeout 10s is below max_execution_time 30s"}},
		Logs: []agent.LogSignature{
			{Signature: "fpm-child-killed", Summary: "a PHP worker was killed", Count: 14,
				Blames: []wp.Extension{{Kind: wp.KindPlugin, Name: "slider"}}},
			{Signature: "nginx-upstream-reset", Summary: "php-fpm closed the connection", Count: 3},
		},
		Disk:  &sysinfo.Disk{MountedOn: "/", Total: 20 << 30, Avail: 1536 << 20},
		Notes: []string{"php-fpm's slowlog is off"},
		Causes: []agent.Cause{
			{ID: "worker-died", Title: "PHP workers die while making the page", Score: 90,
				Evidence: []string{"14× fpm-child-killed → plugin slider", "the origin answers 502 too"},
				Next:     "wpfix bisect deploy@web1:/var/www/shop"},
			{ID: "limits", Title: "a limit conflict", Score: 40, Evidence: []string{"request_terminate_timeout 10s"},
				Next: "wpfix limits deploy@web1:/var/www/shop"},
		},
	}
	healthy := &agent.DiagnoseReport{
		URL: "http://127.0.0.1:8080/", Healthy: true,
		Probe:    agent.ProbeView{URL: "http://127.0.0.1:8080/", Status: 200, DurationMS: 95, Server: "Apache/2.4.62"},
		DNS:      &agent.DNSCheck{Host: "127.0.0.1", IsIP: true},
		Versions: agent.Versions{WordPress: "6.8.3"},
		DB:       agent.DBCheck{Error: "dial tcp 127.0.0.1:3306: connection refused"},
		Disk:     &sysinfo.Disk{MountedOn: "/var", Total: 100 << 30, Avail: 4<<30 + 300<<20},
	}
	assertGoldens(t, "diagnose", map[string]func(io.Writer) error{
		"broken":  func(w io.Writer) error { printDiagnose(w, broken); return nil },
		"healthy": func(w io.Writer) error { printDiagnose(w, healthy); return nil },
	})
}
