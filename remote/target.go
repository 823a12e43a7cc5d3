package remote

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"path"
	"path/filepath"
	"strconv"
	"strings"
)

// ParseTarget reads a target as the user wrote it:
//
//	/var/www/site                      local; a relative path is made absolute
//	user@host:/var/www/site            SSH, scp style; [::1]:/path for IPv6
//	ssh://user@host:2222/var/www/site  SSH, URL style
//
// User and port may be left out; a remote path must be absolute. As with
// scp, a colon before any slash makes the target remote.
func ParseTarget(s string) (Target, error) {
	if s == "" {
		return Target{}, errors.New("empty target: give a path, user@host:/path or ssh://user@host:port/path")
	}
	if strings.IndexByte(s, 0) >= 0 {
		return Target{}, fmt.Errorf("target %q: contains a NUL byte", s)
	}
	if scheme, _, ok := strings.Cut(s, "://"); ok && isScheme(scheme) {
		if !strings.EqualFold(scheme, "ssh") {
			return Target{}, fmt.Errorf("target %q: unsupported scheme %q: use ssh://user@host:port/path", s, scheme)
		}
		t, err := parseURLTarget(s)
		if err != nil {
			return Target{}, fmt.Errorf("target %q: %w", s, err)
		}
		return t, nil
	}
	colon := hostColon(s)
	if colon < 0 {
		if !strings.Contains(s, "/") && strings.Contains(s, "@") {
			return Target{}, fmt.Errorf("target %q: missing path: write %s:/path/to/site (or ./%s for a local folder)", s, s, s)
		}
		p, err := filepath.Abs(s)
		if err != nil {
			return Target{}, fmt.Errorf("target %q: %w", s, err)
		}
		return Target{Path: p}, nil
	}
	t, err := parseSCPTarget(s, colon)
	if err != nil {
		return Target{}, fmt.Errorf("target %q: %w", s, err)
	}
	return t, nil
}

// parseSCPTarget reads user@host:/path, where host may be [IPv6] and colon
// is the index of the colon that ends the host.
func parseSCPTarget(s string, colon int) (Target, error) {
	var t Target
	hostPart, p := s[:colon], s[colon+1:]
	// The user ends at the last @: a user may hold one (user@domain@host),
	// a host may not.
	if at := strings.LastIndexByte(hostPart, '@'); at >= 0 {
		t.User, hostPart = hostPart[:at], hostPart[at+1:]
		if t.User == "" {
			return Target{}, errors.New("empty user before @")
		}
	}
	t.Host = hostPart
	if strings.HasPrefix(hostPart, "[") && strings.HasSuffix(hostPart, "]") {
		t.Host = hostPart[1 : len(hostPart)-1]
	} else if strings.ContainsAny(hostPart, "[]") {
		return Target{}, errors.New("an IPv6 host is written [addr]:/path")
	}
	if err := checkTargetParts(t.User, t.Host); err != nil {
		return Target{}, err
	}
	if p == "" {
		return Target{}, fmt.Errorf("missing path after the colon: write %s/path/to/site", s)
	}
	if !strings.HasPrefix(p, "/") {
		return Target{}, fmt.Errorf("remote path %q is not absolute (to give a port, write ssh://user@host:port/path)", p)
	}
	t.Path = path.Clean(p)
	return t, nil
}

// hostColon returns the index of the colon that makes s an scp-style
// remote target: the first one outside brackets, when no slash comes
// before it. It returns -1 for a local path.
func hostColon(s string) int {
	inBrackets := false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '[':
			inBrackets = true
		case ']':
			inBrackets = false
		case '/':
			if !inBrackets {
				return -1
			}
		case ':':
			if !inBrackets {
				return i
			}
		}
	}
	return -1
}

// parseURLTarget reads ssh://user@host:port/path.
func parseURLTarget(s string) (Target, error) {
	u, err := url.Parse(s)
	if err != nil {
		if ue := (*url.Error)(nil); errors.As(err, &ue) {
			err = ue.Err // without the operation and the URL, which the caller adds
		}
		return Target{}, err
	}
	if u.Opaque != "" || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return Target{}, errors.New("an ssh:// target has no query or fragment (escape ? and # in a path as %3F and %23)")
	}
	var t Target
	if u.User != nil {
		if _, ok := u.User.Password(); ok {
			return Target{}, errors.New("passwords are not accepted in a target: use a key or ssh-agent")
		}
		t.User = u.User.Username()
		if t.User == "" {
			return Target{}, errors.New("empty user before @")
		}
	}
	t.Host = u.Hostname()
	if err := checkTargetParts(t.User, t.Host); err != nil {
		return Target{}, err
	}
	if strings.HasSuffix(u.Host, ":") {
		return Target{}, errors.New("empty port after the colon")
	}
	if ps := u.Port(); ps != "" {
		if t.Port, err = parsePort(ps); err != nil {
			return Target{}, err
		}
	}
	if u.Path == "" {
		return Target{}, fmt.Errorf("missing path: write %s/path/to/site", strings.TrimSuffix(s, "/"))
	}
	if strings.IndexByte(u.Path, 0) >= 0 {
		return Target{}, errors.New("the path holds a NUL byte")
	}
	t.Path = path.Clean(u.Path)
	return t, nil
}

// parsePort reads a TCP port, 1 to 65535.
func parsePort(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 65535 || s[0] == '+' {
		return 0, fmt.Errorf("bad port %q: want a number from 1 to 65535", s)
	}
	return n, nil
}

// checkTargetParts rejects a user or host that could not be written back
// the same way, or that an SSH command line would read as an option.
func checkTargetParts(user, host string) error {
	if host == "" {
		return errors.New("empty host")
	}
	if strings.HasPrefix(host, "-") || strings.ContainsFunc(host, badHostRune) {
		return fmt.Errorf("bad host name %q", host)
	}
	// ":" and "%" belong to IPv6 addresses and their zones only.
	if strings.ContainsAny(host, ":%") {
		if a, err := netip.ParseAddr(host); err != nil || !a.Is6() {
			return fmt.Errorf("bad IPv6 address %q", host)
		}
	}
	if strings.HasPrefix(user, "-") || strings.ContainsFunc(user, badUserRune) {
		return fmt.Errorf("bad user name %q", user)
	}
	return nil
}

func badHostRune(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return false
	}
	return !strings.ContainsRune(".-_:%", r)
}

func badUserRune(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return false
	}
	// "@" for user@domain logins, "$" for machine accounts.
	return !strings.ContainsRune(".-_+@$", r)
}

// isScheme reports whether s is a URL scheme (RFC 3986: a letter, then
// letters, digits, +, - or .).
func isScheme(s string) bool {
	if s == "" || !(s[0] >= 'a' && s[0] <= 'z' || s[0] >= 'A' && s[0] <= 'Z') {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("+-.", r)) {
			return false
		}
	}
	return true
}

// String writes the target so that ParseTarget reads it back the same: the
// path of a local target, user@host:/path for an SSH target, or an
// ssh:// URL when there is a port to say.
func (t Target) String() string {
	if t.Local() {
		return t.Path
	}
	if t.Port != 0 {
		u := url.URL{Scheme: "ssh", Host: net.JoinHostPort(t.Host, strconv.Itoa(t.Port)), Path: t.Path}
		if t.User != "" {
			u.User = url.User(t.User)
		}
		return u.String()
	}
	host := t.Host
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if t.User != "" {
		host = t.User + "@" + host
	}
	return host + ":" + t.Path
}
