package sshconfig

import (
	"fmt"
	"strings"
)

// ExpandPath expands a leading ~ to home, then the % tokens given, in a
// file name. keyword names the setting, for messages; ~user is refused.
func ExpandPath(s, keyword, home string, tokens map[byte]string) (string, error) {
	if s == "~" || strings.HasPrefix(s, "~/") {
		if home == "" {
			return "", fmt.Errorf("%s %q: no home directory for ~ (set HOME)", keyword, s)
		}
		s = home + s[1:]
	} else if strings.HasPrefix(s, "~") {
		return "", fmt.Errorf("%s %q: ~user is not supported; write the path", keyword, s)
	}
	return ExpandTokens(s, keyword, tokens)
}

// ExpandTokens replaces %% with % and each %x token given in tokens (x a
// byte, 'h' for %h) with its value. A token not in tokens, or a lone % at
// the end, is an error that names keyword.
func ExpandTokens(s, keyword string, tokens map[byte]string) (string, error) {
	if !strings.Contains(s, "%") {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b.WriteByte(s[i])
			continue
		}
		if i++; i == len(s) {
			return "", fmt.Errorf("%s %q: a lone %% at the end", keyword, s)
		}
		if s[i] == '%' {
			b.WriteByte('%')
			continue
		}
		v, ok := tokens[s[i]]
		if !ok {
			return "", fmt.Errorf("%s %q: token %%%c is not supported here", keyword, s, s[i])
		}
		b.WriteString(v)
	}
	return b.String(), nil
}
