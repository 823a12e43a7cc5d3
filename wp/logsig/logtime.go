package logsig

import (
	"strings"
	"sync"
	"time"
)

// logFormat is the kind of log a line's timestamp tells.
type logFormat uint8

const (
	formatUnknown logFormat = iota
	formatNginx
	formatApache
	formatFPM
	formatPHP
	formatMariaDB
)

// formatNames are the names signatures.toml's logs key uses.
var formatNames = [...]string{"", "nginx", "apache", "php-fpm", "php", "mariadb"}

// ParseTime parses the timestamp a log line starts with: nginx's
// "2026/11/23 00:09:45", php-fpm's "[23-Nov-2026 00:09:45]", PHP's and
// WordPress's "[23-Nov-2026 00:10:39 UTC]" (any zone name PHP writes),
// Apache's "[Mon Nov 23 00:00:00.123456 2026]", MariaDB's "2026-11-23
// 1:00:33" and MySQL's "2026-11-23T01:00:33.123456Z". A time without a zone
// is in time.Local.
func ParseTime(line string) (time.Time, bool) {
	t, _, n := parsePrefix(line)
	return t, n > 0
}

// parsePrefix returns the line's time, its format and the length of its
// timestamp (0 when it has none). A php-fpm line without a time
// ("NOTICE: PHP message: ...") has formatFPM and length 0.
func parsePrefix(s string) (time.Time, logFormat, int) {
	if len(s) < 19 {
		return time.Time{}, fpmLevelFormat(s), 0
	}
	switch {
	case s[0] == '[' && len(s) >= 22 && s[3] == '-' && s[7] == '-':
		return parseBracketed(s)
	case s[0] == '[' && len(s) >= 26 && s[4] == ' ' && s[8] == ' ':
		return parseApache(s)
	case s[4] == '/' && s[7] == '/' && s[10] == ' ':
		y, ok1 := digits(s[0:4])
		mo, ok2 := digits(s[5:7])
		d, ok3 := digits(s[8:10])
		h, mi, sec, ok4 := clock(s[11:19])
		if t, ok := mkTime(y, mo, d, h, mi, sec, 0, time.Local); ok && ok1 && ok2 && ok3 && ok4 {
			return t, formatNginx, 19
		}
	case s[4] == '-' && s[7] == '-' && (s[10] == ' ' || s[10] == 'T'):
		return parseISO(s)
	}
	return time.Time{}, fpmLevelFormat(s), 0
}

// fpmLevelFormat tells php-fpm's undecorated lines, which start with a
// level and no time.
func fpmLevelFormat(s string) logFormat {
	for _, p := range []string{"NOTICE: ", "WARNING: ", "ERROR: ", "ALERT: "} {
		if strings.HasPrefix(s, p) {
			return formatFPM
		}
	}
	return formatUnknown
}

// parseBracketed parses "[23-Nov-2026 00:09:45]" (php-fpm, with optional
// microseconds) and "[23-Nov-2026 00:10:39 UTC]" (PHP).
func parseBracketed(s string) (time.Time, logFormat, int) {
	d, ok1 := digits(s[1:3])
	mo := month(s[4:7])
	y, ok2 := digits(s[8:12])
	if !ok1 || !ok2 || mo == 0 || s[12] != ' ' {
		return time.Time{}, formatUnknown, 0
	}
	h, mi, sec, ok := clock(s[13:21])
	if !ok {
		return time.Time{}, formatUnknown, 0
	}
	i := 21
	ns, i := fraction(s, i)
	switch {
	case i < len(s) && s[i] == ']':
		if t, ok := mkTime(y, mo, d, h, mi, sec, ns, time.Local); ok {
			return t, formatFPM, i + 1
		}
	case i < len(s) && s[i] == ' ':
		end := strings.IndexByte(s[i+1:min(len(s), i+1+maxZoneLen+1)], ']')
		if end <= 0 {
			break
		}
		loc := zone(s[i+1 : i+1+end])
		if loc == nil {
			loc = time.Local
		}
		if t, ok := mkTime(y, mo, d, h, mi, sec, ns, loc); ok {
			return t, formatPHP, i + 1 + end + 1
		}
	}
	return time.Time{}, formatUnknown, 0
}

// parseApache parses "[Mon Nov 23 00:00:00.123456 2026]".
func parseApache(s string) (time.Time, logFormat, int) {
	mo := month(s[5:8])
	d, ok1 := digitsPadded(s[9:11])
	if mo == 0 || !ok1 || s[11] != ' ' {
		return time.Time{}, formatUnknown, 0
	}
	h, mi, sec, ok := clock(s[12:20])
	if !ok {
		return time.Time{}, formatUnknown, 0
	}
	ns, i := fraction(s, 20)
	if i+6 > len(s) || s[i] != ' ' || s[i+5] != ']' {
		return time.Time{}, formatUnknown, 0
	}
	y, ok2 := digits(s[i+1 : i+5])
	if t, ok := mkTime(y, mo, d, h, mi, sec, ns, time.Local); ok && ok2 {
		return t, formatApache, i + 6
	}
	return time.Time{}, formatUnknown, 0
}

// parseISO parses MariaDB's "2026-11-23  1:00:33" (hour padded with a
// space) and "2026-11-23 01:00:33", and the ISO form of MySQL 8 and others,
// "2026-11-23T01:00:33.123456Z" (a zone of Z or ±hh:mm; none is local).
func parseISO(s string) (time.Time, logFormat, int) {
	y, ok1 := digits(s[0:4])
	mo, ok2 := digits(s[5:7])
	d, ok3 := digits(s[8:10])
	if !ok1 || !ok2 || !ok3 {
		return time.Time{}, formatUnknown, 0
	}
	h, ok4 := digitsPadded(s[11:13])
	if s[10] == 'T' {
		h, ok4 = digits(s[11:13])
	}
	mi, ok5 := digits(s[14:16])
	sec, ok6 := digits(s[17:19])
	if !ok4 || !ok5 || !ok6 || s[13] != ':' || s[16] != ':' || h > 23 || mi > 59 || sec > 59 {
		return time.Time{}, formatUnknown, 0
	}
	if s[10] == ' ' {
		if t, ok := mkTime(y, mo, d, h, mi, sec, 0, time.Local); ok {
			return t, formatMariaDB, 19
		}
		return time.Time{}, formatUnknown, 0
	}
	ns, i := fraction(s, 19)
	loc := time.Local
	switch {
	case i < len(s) && s[i] == 'Z':
		loc, i = time.UTC, i+1
	case i+6 <= len(s) && (s[i] == '+' || s[i] == '-') && s[i+3] == ':':
		oh, ok1 := digits(s[i+1 : i+3])
		om, ok2 := digits(s[i+4 : i+6])
		if !ok1 || !ok2 || oh > 23 || om > 59 {
			return time.Time{}, formatUnknown, 0
		}
		off := oh*3600 + om*60
		if s[i] == '-' {
			off = -off
		}
		loc, i = time.FixedZone("", off), i+6
	}
	if t, ok := mkTime(y, mo, d, h, mi, sec, ns, loc); ok {
		return t, formatUnknown, i
	}
	return time.Time{}, formatUnknown, 0
}

func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, len(s) > 0
}

// digitsPadded is digits for a two-digit field that may be padded with a
// space (" 1").
func digitsPadded(s string) (int, bool) {
	if len(s) == 2 && s[0] == ' ' {
		return digits(s[1:])
	}
	return digits(s)
}

// clock parses "15:04:05".
func clock(s string) (h, m, sec int, ok bool) {
	if len(s) != 8 || s[2] != ':' || s[5] != ':' {
		return 0, 0, 0, false
	}
	h, ok1 := digits(s[0:2])
	m, ok2 := digits(s[3:5])
	sec, ok3 := digits(s[6:8])
	return h, m, sec, ok1 && ok2 && ok3 && h < 24 && m < 60 && sec < 60
}

// fraction parses an optional ".123456" at s[i:], returning nanoseconds
// and the index after it.
func fraction(s string, i int) (int, int) {
	if i >= len(s) || s[i] != '.' {
		return 0, i
	}
	j, ns, scale := i+1, 0, 100000000
	for j < len(s) && s[j] >= '0' && s[j] <= '9' {
		if scale > 0 {
			ns += int(s[j]-'0') * scale
			scale /= 10
		}
		j++
	}
	if j == i+1 {
		return 0, i
	}
	return ns, j
}

var months = [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

func month(s string) int {
	for i, m := range months {
		if s == m {
			return i + 1
		}
	}
	return 0
}

// mkTime builds a time from fields, refusing those time.Date would
// normalize (30 Feb, month 13).
func mkTime(y, mo, d, h, mi, s, ns int, loc *time.Location) (time.Time, bool) {
	if mo < 1 || mo > 12 || d < 1 || d > 31 {
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(mo), d, h, mi, s, ns, loc)
	if t.Day() != d {
		return time.Time{}, false
	}
	return t, true
}

// maxZoneLen bounds a zone name PHP writes (America/Argentina/ComodRivadavia
// is the longest in the tz database).
const maxZoneLen = 40

var zones struct {
	sync.Mutex
	m map[string]*time.Location // nil: not a zone
}

// zone returns the location PHP's zone name stands for, nil if none; names
// are loaded once and remembered (a bounded number of them).
func zone(name string) *time.Location {
	switch name {
	case "UTC", "Z", "GMT":
		return time.UTC
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '/' || c == '_' || c == '-' || c == '+') {
			return nil
		}
	}
	if name == "" || name[0] == '/' || strings.Contains(name, "..") {
		return nil
	}
	zones.Lock()
	defer zones.Unlock()
	if loc, ok := zones.m[name]; ok {
		return loc
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		loc = nil
	}
	if zones.m == nil {
		zones.m = map[string]*time.Location{}
	}
	if len(zones.m) < 256 {
		zones.m[name] = loc
	}
	return loc
}
