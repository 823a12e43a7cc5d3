package wp

import (
	"strconv"
	"strings"
)

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
