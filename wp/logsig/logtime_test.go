package logsig_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wpfix/wpfix/wp/logsig"
)

// TestParseLogTime checks each log's timestamp format.
func TestParseLogTime(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	local := func(y int, mo time.Month, d, h, mi, s, ns int) time.Time {
		return time.Date(y, mo, d, h, mi, s, ns, time.Local)
	}
	cases := []struct {
		name, line string
		want       time.Time // zero: no time
	}{
		{"nginx", "2026/11/23 00:09:45 [error] 1#1: *4 recv() failed", local(2026, 11, 23, 0, 9, 45, 0)},
		{"php-fpm", "[23-Nov-2026 00:09:45] WARNING: [pool www] child 1 exited on signal 9 (SIGKILL)", local(2026, 11, 23, 0, 9, 45, 0)},
		{"php-fpm, microseconds", "[23-Nov-2026 00:09:45.250000] NOTICE: ready", local(2026, 11, 23, 0, 9, 45, 250000000)},
		{"PHP UTC", "[23-Nov-2026 00:10:39 UTC] PHP Fatal error:  x", time.Date(2026, 11, 23, 0, 10, 39, 0, time.UTC)},
		{"PHP named zone", "[23-Jul-2026 00:10:39 Europe/Berlin] PHP Warning:  x", time.Date(2026, 7, 23, 0, 10, 39, 0, berlin)},
		{"PHP unknown zone is local", "[23-Nov-2026 00:10:39 Mars/Olympus] PHP Warning:  x", local(2026, 11, 23, 0, 10, 39, 0)},
		{"Apache", "[Mon Nov 23 00:00:00.123456 2026] [proxy_fcgi:error] [pid 1] AH01067: Failed to read FastCGI header", local(2026, 11, 23, 0, 0, 0, 123456000)},
		{"Apache, no fraction", "[Mon Nov 23 07:08:09 2026] [core:error] x", local(2026, 11, 23, 7, 8, 9, 0)},
		{"Apache, space-padded day", "[Tue Nov  3 07:08:09 2026] [core:error] x", local(2026, 11, 3, 7, 8, 9, 0)},
		{"MariaDB, space-padded hour", "2026-11-23  1:00:33 0 [Note] Starting MariaDB", local(2026, 11, 23, 1, 0, 33, 0)},
		{"MariaDB", "2026-11-23 13:00:33 8 [Warning] Aborted connection 8", local(2026, 11, 23, 13, 0, 33, 0)},
		{"MySQL 8 ISO", "2026-11-23T01:00:33.123456Z 0 [System] [MY-010116] [Server] starting", time.Date(2026, 11, 23, 1, 0, 33, 123456000, time.UTC)},
		{"ISO with offset", "2026-11-23T01:00:33+02:00 host php-fpm[1]: x", time.Date(2026, 11, 23, 1, 0, 33, 0, time.FixedZone("", 2*3600))},
		{"WordPress debug.log", "[23-Nov-2026 01:35:59 UTC] PHP Fatal error:  Uncaught Error", time.Date(2026, 11, 23, 1, 35, 59, 0, time.UTC)},
		{"stack trace line", "#0 /w/wp-settings.php(447): include_once()", time.Time{}},
		{"php-fpm undecorated", "NOTICE: PHP message: PHP Warning:  x", time.Time{}},
		{"empty", "", time.Time{}},
		{"30 February", "2026/02/30 00:00:00 [error] x", time.Time{}},
		{"hour 24", "2026/11/23 24:00:00 [error] x", time.Time{}},
		{"month 13", "2026-13-01 00:00:00 0 [Note] x", time.Time{}},
		{"bad month name", "[23-Foo-2026 00:09:45] NOTICE: x", time.Time{}},
		{"time not at the start", "x 2026/11/23 00:09:45 [error]", time.Time{}},
		{"truncated", "[23-Nov-2026 00:09", time.Time{}},
		{"zone not closed", "[23-Nov-2026 00:10:39 UTC PHP Fatal error", time.Time{}},
		{"zone with a path", "[23-Nov-2026 00:10:39 ../../etc/passwd] x", local(2026, 11, 23, 0, 10, 39, 0)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ok := logsig.ParseTime(c.line)
			assert.Equal(t, !c.want.IsZero(), ok)
			if c.want.IsZero() {
				assert.True(t, got.IsZero())
				return
			}
			assert.True(t, c.want.Equal(got), "want %v, got %v", c.want, got)
			assert.Equal(t, c.want.Location().String(), got.Location().String())
		})
	}
}

// FuzzParseLogTime checks ParseTime never panics, and a time it returns
// is the one the line spells.
func FuzzParseLogTime(f *testing.F) {
	for _, s := range []string{"2026/11/23 00:09:45 [error]", "[23-Nov-2026 00:09:45] WARNING:", "[23-Nov-2026 00:10:39 UTC] PHP",
		"[23-Nov-2026 00:10:39 Europe/Berlin] PHP", "[Mon Nov 23 00:00:00.123456 2026] [core:error]", "2026-11-23  1:00:33 0 [Note]",
		"2026-11-23T01:00:33.123456Z 0", "2026-11-23T01:00:33-07:30 x", "[23-Nov-2026 00:09:45.5] NOTICE"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		tm, ok := logsig.ParseTime(line)
		if !ok {
			assert.True(t, tm.IsZero())
			return
		}
		again, _ := logsig.ParseTime(line)
		assert.True(t, tm.Equal(again))
		head := line[:min(len(line), 40)]
		assert.True(t, strings.Contains(head, tm.Format("2006")) || tm.Location() != time.Local && tm.Location() != time.UTC,
			"year %d in %q", tm.Year(), head)
		if tm.Location() == time.UTC && !strings.Contains(head, "+") && !strings.Contains(head, "-0") {
			clock := tm.Format("15:04:05")
			padded := strings.Replace(tm.Format("15:04:05"), "0", " ", 1)
			assert.True(t, strings.Contains(head, clock) || tm.Hour() < 10 && strings.Contains(head, padded), "%s in %q", clock, head)
		}
	})
}
