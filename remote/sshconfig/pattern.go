package sshconfig

import "strings"

// matchPatterns reports whether s matches one of patterns and none of the
// negated ones (!pattern), as OpenSSH's Host lines and Match lists do.
func matchPatterns(s string, patterns []string) bool {
	matched := false
	for _, p := range patterns {
		if neg, ok := strings.CutPrefix(p, "!"); ok {
			if wildMatch(neg, s) {
				return false
			}
		} else if wildMatch(p, s) {
			matched = true
		}
	}
	return matched
}

// wildMatch matches s against an ssh_config pattern, where * stands for
// any run of characters and ? for exactly one.
func wildMatch(pattern, s string) bool {
	px, sx := 0, 0
	nextPx, nextSx := 0, 0
	for px < len(pattern) || sx < len(s) {
		if px < len(pattern) {
			switch c := pattern[px]; c {
			case '*':
				nextPx, nextSx = px, sx+1
				px++
				continue
			case '?':
				if sx < len(s) {
					px++
					sx++
					continue
				}
			default:
				if sx < len(s) && s[sx] == c {
					px++
					sx++
					continue
				}
			}
		}
		if 0 < nextSx && nextSx <= len(s) {
			px, sx = nextPx, nextSx
			continue
		}
		return false
	}
	return true
}

func lowerAll(list []string) []string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = strings.ToLower(s)
	}
	return out
}
