package php

import (
	"strconv"
	"strings"
)

// INIEntry is one "key = value" line of a file in PHP's INI format
// (php.ini, a conf.d/*.ini, a .user.ini, php-fpm.conf and its pools), with
// the section it is in and its line number. It is what the file says, not
// yet a setting: the reader that knows the file makes it one.
type INIEntry struct {
	Section, Key, Value string
	Line                int
}

// ParseINI reads PHP's INI format as far as finding paths and limits
// needs: [section] lines, key = value with the value unquoted ("…" or '…')
// or cut at a ";" comment, ";" and "#" comment lines. Keys are trimmed,
// spaces inside their brackets too ("php_admin_value[ error_log ]" →
// "php_admin_value[error_log]"). ${VAR} and constants are left as written;
// a line without "=" is skipped.
func ParseINI(src []byte) []INIEntry {
	var out []INIEntry
	section := ""
	for i, line := range strings.Split(string(src), "\n") {
		line = strings.TrimSpace(strings.TrimSuffix(line, "\r"))
		if line == "" || line[0] == ';' || line[0] == '#' {
			continue
		}
		if line[0] == '[' {
			if end := strings.IndexByte(line, ']'); end > 0 {
				section = strings.TrimSpace(line[1:end])
			}
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		out = append(out, INIEntry{Section: section, Key: normKey(k), Value: iniValue(v), Line: i + 1})
	}
	return out
}

// normKey trims a key and the spaces inside its brackets.
func normKey(k string) string {
	k = strings.TrimSpace(k)
	if name, sub, ok := strings.Cut(k, "["); ok {
		return strings.TrimSpace(name) + "[" + strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(sub), "]")) + "]"
	}
	return k
}

// iniValue unquotes an INI value or cuts it at a comment.
func iniValue(v string) string {
	v = strings.TrimSpace(v)
	if v == "" {
		return ""
	}
	switch v[0] {
	case '"':
		var b strings.Builder
		for i := 1; i < len(v); i++ {
			switch {
			case v[i] == '\\' && i+1 < len(v) && (v[i+1] == '"' || v[i+1] == '\\'):
				i++
				b.WriteByte(v[i])
			case v[i] == '"':
				return b.String()
			default:
				b.WriteByte(v[i])
			}
		}
		return b.String()
	case '\'':
		if end := strings.IndexByte(v[1:], '\''); end >= 0 {
			return v[1 : 1+end]
		}
		return v[1:]
	}
	if i := strings.IndexByte(v, ';'); i >= 0 {
		v = v[:i]
	}
	return strings.TrimSpace(v)
}

// ParseINISize reads a PHP ini quantity such as memory_limit or
// post_max_size as PHP 8 does: an integer, in decimal or with a 0x, 0o or
// 0b prefix, and an optional K, M or G suffix (either case), around
// spaces. "-1" is returned as -1: no limit. ok is false for what PHP would
// warn about and not take.
func ParseINISize(s string) (n int64, ok bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, false
	}
	var mult int64 = 1
	switch s[len(s)-1] {
	case 'k', 'K':
		mult = 1 << 10
	case 'm', 'M':
		mult = 1 << 20
	case 'g', 'G':
		mult = 1 << 30
	}
	if mult != 1 {
		s = strings.TrimSpace(s[:len(s)-1])
	}
	neg := false
	if rest, ok := strings.CutPrefix(s, "-"); ok {
		neg, s = true, rest
	} else {
		s = strings.TrimPrefix(s, "+")
	}
	base := 10
	if len(s) > 2 && s[0] == '0' {
		switch s[1] {
		case 'x', 'X':
			base = 16
		case 'o', 'O':
			base = 8
		case 'b', 'B':
			base = 2
		}
		if base != 10 {
			s = s[2:]
		}
	}
	v, err := strconv.ParseInt(s, base, 64)
	if err != nil || v > (1<<62)/mult {
		return 0, false
	}
	if neg {
		if v*mult == 1 {
			return -1, true
		}
		return -v * mult, true
	}
	return v * mult, true
}

// FormatSize writes bytes the way PHP's settings are usually written:
// "128M", "1G", "512K", or a plain number; -1 stays -1.
func FormatSize(n int64) string {
	switch {
	case n < 0:
		return strconv.FormatInt(n, 10)
	case n >= 1<<30 && n%(1<<30) == 0:
		return strconv.FormatInt(n>>30, 10) + "G"
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + "M"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.FormatInt(n>>10, 10) + "K"
	}
	return strconv.FormatInt(n, 10)
}

// FormatSizeRounded writes a byte count of disk or memory briefly, as
// FormatSize writes it once rounded to whole MiB ("1536M", "20G"); below
// half a MiB it rounds to whole KiB instead, so that a little is never
// written as none.
func FormatSizeRounded(n int64) string {
	if n > 0 && n < 1<<19 {
		return FormatSize((n + 1<<9) >> 10 << 10)
	}
	return FormatSize((n + 1<<19) >> 20 << 20)
}
