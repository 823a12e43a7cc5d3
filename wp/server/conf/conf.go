// Package conf holds what the readers of nginx's, Apache's and php-fpm's
// configs share: a value and where it was set (Setting), a problem met
// while reading that did not stop it (Warning), the logs and web timeouts
// a config names (LogFile, WebTimeout), reading config files through an
// io/fs view of the host as the servers do (Files: bounded reads, glob(3)
// includes), FastCGI addresses (Target) and which root serves a docroot
// (RootMatch). It knows no server kind and no WordPress.
package conf

import (
	"encoding/json"
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"
)

// Setting is a config value and where it was set: the one type for it in
// the web stack's reports. File and Line are where a config file sets it;
// Origin says where a value came from that no file sets ("PHP under the web
// server"); all three are empty for a server's or PHP's built-in default,
// or a value that is not set.
type Setting struct {
	Value  string
	File   string
	Line   int
	Origin string
	// Admin is true for a PHP value set by php_admin_value or
	// php_admin_flag: a script's ini_set cannot change it.
	Admin bool
}

// Source says where the value was set, for people: "FILE line N", the
// file when there is no line, else the Origin; "" for a default.
func (s Setting) Source() string {
	switch {
	case s.File == "":
		return s.Origin
	case s.Line <= 0:
		return s.File
	}
	return s.File + " line " + strconv.Itoa(s.Line)
}

// settingJSON is how a Setting is written in reports: {"value", "admin",
// "source"}, as the reports have always had it.
type settingJSON struct {
	Value  string `json:"value"`
	Admin  bool   `json:"admin,omitempty"`
	Source string `json:"source,omitempty"`
}

// MarshalJSON writes {"value": …, "source": "FILE line N"}, the source left
// out when empty, "admin": true for a PHP admin value.
func (s Setting) MarshalJSON() ([]byte, error) {
	return json.Marshal(settingJSON{Value: s.Value, Admin: s.Admin, Source: s.Source()})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (s *Setting) UnmarshalJSON(b []byte) error {
	var j settingJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*s = Setting{Value: j.Value, Admin: j.Admin}
	s.File, s.Line, s.Origin = parseSource(j.Source)
	return nil
}

// parseSource splits "FILE line N" back into its file and line; a source
// that is no absolute path is an origin.
func parseSource(src string) (file string, line int, origin string) {
	if i := strings.LastIndex(src, " line "); i >= 0 {
		if n, err := strconv.Atoi(src[i+len(" line "):]); err == nil && n > 0 {
			return src[:i], n, ""
		}
	}
	if !strings.HasPrefix(src, "/") {
		return "", 0, src
	}
	return src, 0, ""
}

// PHPValues are PHP ini values by name. In reports each has its "source"
// even when empty (PHP's built-in default), as they always had.
type PHPValues map[string]Setting

type phpValueJSON struct {
	Value  string `json:"value"`
	Admin  bool   `json:"admin,omitempty"`
	Source string `json:"source"`
}

// MarshalJSON writes each value as {"value", "admin", "source"}.
func (v PHPValues) MarshalJSON() ([]byte, error) {
	if v == nil {
		return []byte("null"), nil
	}
	m := make(map[string]phpValueJSON, len(v))
	for k, s := range v {
		m[k] = phpValueJSON{Value: s.Value, Admin: s.Admin, Source: s.Source()}
	}
	return json.Marshal(m)
}

// UnmarshalJSON reads what MarshalJSON writes.
func (v *PHPValues) UnmarshalJSON(b []byte) error {
	var m map[string]phpValueJSON
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	if m == nil {
		*v = nil
		return nil
	}
	*v = make(PHPValues, len(m))
	for k, j := range m {
		s := Setting{Value: j.Value, Admin: j.Admin}
		s.File, s.Line, s.Origin = parseSource(j.Source)
		(*v)[k] = s
	}
	return nil
}

// Warning is a problem met while reading a server's config that did not
// stop the reading, as caddy's config adapters return them: a file that
// could not be read and why, a value the server would refuse, an include
// that matched nothing. File and Line are where it stands (Line 0 for a
// whole file), Directive the directive concerned, if any.
type Warning struct {
	File      string `json:"file"`
	Line      int    `json:"line"`
	Directive string `json:"directive"`
	Message   string `json:"message"`
}

// String is "FILE line N: DIRECTIVE: MESSAGE", for logs.
func (w Warning) String() string {
	var b strings.Builder
	b.WriteString(w.File)
	if w.Line > 0 {
		fmt.Fprintf(&b, " line %d", w.Line)
	}
	b.WriteString(": ")
	if w.Directive != "" {
		b.WriteString(w.Directive + ": ")
	}
	b.WriteString(w.Message)
	return b.String()
}

// LogFile is a log that may hold a site's errors.
type LogFile struct {
	// Path is the file on the site's host.
	Path string `json:"path"`
	// Kind says whose log it is: "wordpress", "php", "php-fpm", "nginx",
	// "apache", "cpanel" (see package server's Log* constants).
	Kind string `json:"kind"`
	// Source says how it was found, for people: "WP_DEBUG_LOG in
	// /var/www/site/wp-config.php", "error_log in /etc/nginx/nginx.conf
	// line 4 (nginx master, pid 812)", "usual place for nginx" …
	Source string `json:"source"`
	// Size is the file's size in bytes.
	Size int64 `json:"size"`
	// ServesSite is true for a log known to receive this site's errors:
	// WordPress's and PHP's own for the site, and those of the running web
	// server and php-fpm pool that serve its docroot. Other running
	// servers' logs and the usual places are listed too, with false: on a
	// host with several sites they belong to other sites, but when wpfix
	// cannot tell which server serves this one (a root set by a variable,
	// a proxy in front) the error may well be there.
	ServesSite bool `json:"serves_site"`
}

// Result is what a web server's config says for one docroot: the logs it
// names, those serving the docroot marked, and where it sends the site's
// PHP requests.
type Result struct {
	Logs    []LogFile
	Targets []Target
	// PHPLogs are the logs of a PHP the server runs itself (Apache's
	// mod_php), listed after php-fpm's.
	PHPLogs []LogFile
}

// WebTimeout is how long a web server waits for PHP to answer a request.
type WebTimeout struct {
	// Server is "nginx" or "apache".
	Server string `json:"server"`
	// Master says which master: "nginx master, pid 812".
	Master string `json:"master"`
	// Directive is the setting in effect: fastcgi_read_timeout (nginx),
	// ProxyTimeout (Apache sending PHP to FastCGI) or Timeout (Apache
	// otherwise).
	Directive string        `json:"directive"`
	Value     time.Duration `json:"value_ns"`
	// Source is "FILE line N", "Timeout in FILE line N" for a
	// ProxyTimeout left to Timeout, "" for the built-in default (60s).
	Source string `json:"source,omitempty"`
	// ServesSite is true for a server block or virtual host serving the
	// site's docroot.
	ServesSite bool `json:"serves_site"`
}

// DefaultWebTimeout is nginx's fastcgi_read_timeout and Apache's Timeout
// when not set.
const DefaultWebTimeout = 60 * time.Second

// Resolve makes p absolute against dir, as a server resolves a relative
// path in its config; "" stays "".
func Resolve(dir, p string) string {
	if p == "" {
		return ""
	}
	if path.IsAbs(p) {
		return path.Clean(p)
	}
	return path.Join(dir, p)
}

// IsSyslog reports a log value that sends to syslog, not to a file.
func IsSyslog(v string) bool {
	return v == "syslog" || strings.HasPrefix(v, "syslog:")
}

// HasMeta reports whether a path is a glob pattern.
func HasMeta(p string) bool { return strings.ContainsAny(p, `*?[`) }

// Target is a FastCGI address: "unix:/run/php/php8.2-fpm.sock" or
// "tcp:127.0.0.1:9000" ("tcp:*:9000" when listening on every address).
type Target string

// ParseTarget normalises an address as nginx's fastcgi_pass, an Apache
// proxy handler or php-fpm's listen write it; ok is false for what cannot
// be one (a variable, an upstream name).
func ParseTarget(addr string) (Target, bool) {
	addr = strings.TrimSpace(addr)
	if p, ok := strings.CutPrefix(addr, "unix:"); ok {
		if !path.IsAbs(p) {
			return "", false
		}
		return Target("unix:" + path.Clean(p)), true
	}
	if path.IsAbs(addr) {
		return Target("unix:" + path.Clean(addr)), true
	}
	if strings.Contains(addr, "$") {
		return "", false
	}
	host, port := "", addr
	if i := strings.LastIndexByte(addr, ':'); i >= 0 {
		host, port = addr[:i], addr[i+1:]
	}
	if n, err := strconv.Atoi(port); err != nil || n <= 0 || n > 65535 {
		return "", false
	}
	host = strings.Trim(host, "[]")
	switch host {
	case "", "*", "0.0.0.0", "::":
		host = "*"
	case "localhost", "::1", "127.0.0.1":
		host = "127.0.0.1"
	}
	return Target("tcp:" + host + ":" + port), true
}

// Reaches reports whether a request sent to t arrives at a pool listening
// on l.
func (t Target) Reaches(l Target) bool {
	if t == l {
		return true
	}
	ts, ok1 := strings.CutPrefix(string(t), "tcp:")
	ls, ok2 := strings.CutPrefix(string(l), "tcp:")
	i, j := strings.LastIndexByte(ts, ':'), strings.LastIndexByte(ls, ':')
	if !ok1 || !ok2 || i < 0 || j < 0 {
		return false
	}
	return ts[i+1:] == ls[j+1:] && (ls[:j] == "*" || ts[:i] == ls[:j])
}

// RootMatch returns which of roots serve docroot: those equal to it, or
// failing that those that are the closest folder above it. A root is ""
// when unknown (set by a variable).
func RootMatch(roots []string, docroot string) []bool {
	docroot = path.Clean(docroot)
	score := func(r string) int {
		if r == "" {
			return -1
		}
		switch r = path.Clean(r); {
		case r == docroot:
			return len(docroot) + 1
		case r == "/":
			return 0
		case strings.HasPrefix(docroot, r+"/"):
			return len(r)
		}
		return -1
	}
	best := -1
	for _, r := range roots {
		best = max(best, score(r))
	}
	match := make([]bool, len(roots))
	for i, r := range roots {
		match[i] = best >= 0 && score(r) == best
	}
	return match
}
