package main

import (
	"io"
	"testing"

	"github.com/wpfix/wpfix/agent"
	"github.com/wpfix/wpfix/wp"
	"github.com/wpfix/wpfix/wp/logsig"
	"github.com/wpfix/wpfix/wp/server"
)

// TestLogsReportGolden renders logs' report: classified and folded lines,
// a log that cannot be read, hostile bytes in a line, and the blames.
func TestLogsReportGolden(t *testing.T) {
	slider := &wp.Extension{Kind: wp.KindPlugin, Name: "slider"}
	rep := &agent.LogsReport{
		Logs: []agent.LogSection{
			{File: server.LogFile{Path: "/var/log/php8.3-fpm.log", Kind: "php-fpm", Source: "/etc/php/8.3/fpm/php-fpm.conf line 12"},
				Lines: []logsig.Line{
					{Text: "[01-Dec-2026 21:58:03] WARNING: [pool shop] child 4121 exited on signal 9 (SIGKILL) after 0.41 seconds from start",
						Signature: "fpm-child-killed", Count: 14},
					{Text: "[01-Dec-2026 21:58:04] NOTICE: [pool shop] child 4188 started"},
				}},
			{File: server.LogFile{Path: "/var/www/shop/wp-content/debug.log", Kind: "wordpress", Source: "WP_DEBUG_LOG"},
				Lines: []logsig.Line{
					{Text: "PHP Fatal error:  Allowed memory size of 67108864 bytes exhausted in /var/www/shop/wp-content/plugins/slider/render.php on line 88",
						Signature: "php-memory-exhausted", Blames: slider},
					{Text: "evil \x1b[2J line"},
				}},
			{File: server.LogFile{Path: "/var/log/nginx/error.log", Kind: "nginx", Source: "/etc/nginx/nginx.conf line 9"},
				Error: "open /var/log/nginx/error.log: permission denied"},
		},
		Blames: []agent.Blame{{Extension: *slider, Lines: 15}},
	}
	empty := &agent.LogsReport{}
	assertGoldens(t, "logs", map[string]func(io.Writer) error{
		"classified": func(w io.Writer) error { printLogs(w, rep); return nil },
		"none":       func(w io.Writer) error { printLogs(w, empty); return nil },
	})
}
