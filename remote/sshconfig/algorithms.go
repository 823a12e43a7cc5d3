package sshconfig

import (
	"fmt"
	"slices"
	"strings"
)

// AlgorithmList assembles an algorithm list (KexAlgorithms, Ciphers, MACs,
// HostKeyAlgorithms, PubkeyAcceptedAlgorithms) from its ssh_config value
// as OpenSSH's kex_assemble_names does: an empty value gives defaults; a
// value starting with "+" appends its names to the defaults, "^" puts them
// before the defaults, "-" removes from the defaults the names its
// patterns match; any other value replaces the defaults. The names of a
// plain, "+" or "^" list are patterns (* and ?) matched against all, in
// all's order, so a name all does not know adds nothing; a "!" pattern is
// an error. Each name appears once, where it first appears. A list that
// ends up empty is an error: nothing could be negotiated.
func AlgorithmList(value string, defaults, all []string) ([]string, error) {
	if value == "" {
		return slices.Clone(defaults), nil
	}
	var list []string
	switch value[0] {
	case '-':
		pats := strings.Split(value[1:], ",")
		for _, d := range defaults {
			if !slices.ContainsFunc(pats, func(p string) bool { return wildMatch(p, d) }) {
				list = append(list, d)
			}
		}
		if len(list) == 0 {
			return nil, fmt.Errorf("%q removes every algorithm", value)
		}
		return list, nil
	case '+':
		list = append(slices.Clone(defaults), strings.Split(value[1:], ",")...)
	case '^':
		list = append(strings.Split(value[1:], ","), defaults...)
	default:
		list = strings.Split(value, ",")
	}
	var out []string
	for _, p := range list {
		if strings.HasPrefix(p, "!") {
			return nil, fmt.Errorf("%q: a negated pattern (%s) is not allowed here", value, p)
		}
		for _, a := range all {
			if wildMatch(p, a) && !slices.Contains(out, a) {
				out = append(out, a)
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%q names no algorithm wpfix knows (it knows %s)", value, strings.Join(all, ","))
	}
	return out, nil
}
