// Package nginx reads what a running nginx master configures for the sites
// it serves: from its command line (ParseCmd) and its config with every
// included file (Read), the error_log directives in effect for a docroot
// and where its server blocks send PHP (Logs), and the fastcgi_read_timeout
// at each fastcgi_pass (Timeouts), each with file and line, plus what it
// could not read or would refuse as warnings. It knows no WordPress.
package nginx

import (
	"fmt"
	"math"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/wpfix/wpfix/wp/server/conf"
)

// Kind is the kind of nginx's logs and of its masters.
const Kind = "nginx"

// Cmd is what an nginx master's command line says.
type Cmd struct {
	bin, prefix, conf, errorLog, globals string
	Who                                  string // "nginx master, pid 812", for sources
}

// builtin are Debian's and Red Hat's compiled-in paths (nginx -V).
var builtin = struct{ prefix, conf, errorLog string }{"/usr/share/nginx", "/etc/nginx/nginx.conf", "/var/log/nginx/error.log"}

// ParseCmd reads an nginx master's command line. nginx sets its title
// to "nginx: master process " and the command line joined by spaces
// (a path with spaces is cut wrongly); nginx with master_process off keeps
// its arguments. ok is false for anything else, its workers included.
func ParseCmd(args []string) (c Cmd, ok bool) {
	var words []string
	switch {
	case len(args) == 0:
		return c, false
	case strings.HasPrefix(args[0], "nginx: master process "):
		words = strings.Fields(strings.TrimPrefix(args[0], "nginx: master process "))
	case strings.HasPrefix(args[0], "nginx:"):
		return c, false // worker, cache manager …
	case path.Base(args[0]) == "nginx" && !strings.Contains(args[0], " "):
		words = args
	default:
		return c, false
	}
	if len(words) == 0 {
		return c, false
	}
	c.bin = words[0]
	isFlag := func(w string) bool {
		return len(w) >= 2 && w[0] == '-' && strings.ContainsRune("pcegstTqvV?h", rune(w[1]))
	}
	for i := 1; i < len(words); i++ {
		w := words[i]
		if !isFlag(w) {
			continue
		}
		val := w[2:]
		if val == "" && strings.ContainsRune("pceg", rune(w[1])) && i+1 < len(words) {
			i++
			val = words[i]
			// -g "daemon off;" shows as several words in the title
			for w[1] == 'g' && i+1 < len(words) && !isFlag(words[i+1]) {
				i++
				val += " " + words[i]
			}
		}
		switch w[1] {
		case 'p':
			c.prefix = val
		case 'c':
			c.conf = val
		case 'e':
			c.errorLog = val
		case 'g':
			c.globals = val
		}
	}
	return c, true
}

// defaults fills in what the command line left to nginx's compiled-in
// paths: the distribution's for /usr/sbin/nginx; for a build installed as
// PREFIX/sbin/nginx, PREFIX with conf/nginx.conf and logs/error.log in it
// (relative, so -p moves them too).
func (c Cmd) defaults() Cmd {
	builtin := builtin
	if dir := path.Dir(c.bin); path.Base(dir) == "sbin" && path.IsAbs(dir) && path.Dir(dir) != "/usr" && path.Dir(dir) != "/" {
		builtin.prefix, builtin.conf, builtin.errorLog = path.Dir(dir), "conf/nginx.conf", "logs/error.log"
	}
	if c.prefix == "" {
		c.prefix = builtin.prefix
	}
	if c.prefix = strings.TrimSuffix(c.prefix, "/"); c.prefix == "" {
		c.prefix = "/"
	}
	if c.conf == "" {
		c.conf = builtin.conf
	}
	c.conf = conf.Resolve(c.prefix, c.conf)
	if c.errorLog == "" {
		c.errorLog = builtin.errorLog
	}
	return c
}

// server is what one server block says.
type server struct {
	roots  []string       // root and alias folders in it
	passes []string       // fastcgi_pass addresses
	own    []conf.LogFile // error_log at the server's level
	inner  []conf.LogFile // error_log in its locations
	block  []directive    // the block, for what is computed afterwards
}

// Config is what an nginx master's config says about logs and sites,
// read once (Read) and asked about any docroot after.
type Config struct {
	c         Cmd
	givenLog  bool           // -e was on the command line
	main      []conf.LogFile // error_log at the main level, -g included
	http      []conf.LogFile
	other     []conf.LogFile // stream, mail
	httpRoot  string
	httpBlock []directive // the http block's directives
	servers   []*server
	upstreams map[string][]string
	// Warnings are what could not be read, and the values nginx would
	// refuse, in the order met.
	Warnings []conf.Warning
}

// Result is what the config says for one docroot (see conf.Result).
type Result = conf.Result

// Read reads an nginx master's config, with its includes and -g, the
// paths the command line leaves out filled in. nginx resolves include
// paths against the folder of the main config.
func Read(files *conf.Files, c Cmd) *Config {
	given := c.errorLog != ""
	c = c.defaults()
	n := &Config{c: c, givenLog: given, upstreams: map[string][]string{}}
	l := &loader{files: files, confPrefix: path.Dir(c.conf)}
	var dirs []directive
	if c.globals != "" {
		dirs = parse([]byte(c.globals), "-g")
	}
	dirs = append(dirs, l.load(c.conf, 0, nil)...)
	n.Warnings = l.warnings
	n.walk(dirs, "main", nil)
	return n
}

// Logs says which logs the config names and which serve docroot: the
// error_log directives in effect for the server blocks whose root is the
// docroot (their own, or else inherited from http, or else the main
// level), and the main level's, where nginx logs what befalls its workers.
// nginx resolves error_log paths against its prefix (-p).
func (n *Config) Logs(docroot string) Result {
	c := n.c
	serving := n.serving(docroot)

	var res Result
	served, inherits := len(serving) > 0, false
	for _, s := range n.servers {
		if serving[s] && len(s.own) == 0 {
			inherits = true
		}
	}
	mark := func(logs []conf.LogFile, serves bool) {
		for _, l := range logs {
			l.ServesSite = serves
			res.Logs = append(res.Logs, l)
		}
	}
	for _, s := range n.servers {
		mark(s.own, serving[s])
		mark(s.inner, serving[s])
	}
	mark(n.http, inherits)
	mark(n.main, served)
	if c.errorLog != "stderr" {
		src := "-e on the command line of the " + c.Who
		if !n.givenLog {
			src = "the built-in error log of the " + c.Who
		}
		mark([]conf.LogFile{{Path: conf.Resolve(c.prefix, c.errorLog), Kind: Kind, Source: src}},
			served && len(n.main) == 0)
	}
	mark(n.other, false)

	for _, s := range n.servers {
		if serving[s] {
			res.Targets = append(res.Targets, n.targets(s)...)
		}
	}
	return res
}

// serving returns the server blocks that serve docroot: those whose root
// (or alias, or else the http level's root) is the docroot, or failing
// that the closest folder above it.
func (n *Config) serving(docroot string) map[*server]bool {
	roots := make([]string, 0, len(n.servers))
	owners := make([]*server, 0, len(n.servers))
	for _, s := range n.servers {
		rs := s.roots
		if len(rs) == 0 {
			rs = []string{n.httpRoot}
		}
		for _, r := range rs {
			roots = append(roots, r)
			owners = append(owners, s)
		}
	}
	serving := map[*server]bool{}
	for i, m := range conf.RootMatch(roots, docroot) {
		if m {
			serving[owners[i]] = true
		}
	}
	return serving
}

// targets returns where a server block sends PHP: its fastcgi_pass
// addresses, an upstream's servers in its stead.
func (n *Config) targets(s *server) []conf.Target {
	var out []conf.Target
	for _, p := range s.passes {
		addrs := n.upstreams[p]
		if addrs == nil {
			addrs = []string{p}
		}
		for _, a := range addrs {
			if t, ok := conf.ParseTarget(a); ok {
				out = append(out, t)
			}
		}
	}
	return out
}

// walk collects what the directives say, in context: "main", "http",
// "server" (with srv), "location" (inside a server), or "other".
func (n *Config) walk(dirs []directive, where string, srv *server) {
	for _, d := range dirs {
		switch {
		case d.name == "error_log" && len(d.args) > 0:
			l, ok := n.errorLog(d)
			if !ok {
				continue
			}
			switch where {
			case "main":
				n.main = append(n.main, l)
			case "http":
				n.http = append(n.http, l)
			case "server":
				srv.own = append(srv.own, l)
			case "location":
				srv.inner = append(srv.inner, l)
			default:
				n.other = append(n.other, l)
			}
		case d.name == "http" && where == "main" && d.block != nil:
			n.httpBlock = append(n.httpBlock, d.block...)
			n.walk(d.block, "http", nil)
		case d.name == "server" && where == "http" && d.block != nil:
			s := &server{block: d.block}
			n.servers = append(n.servers, s)
			n.walk(d.block, "server", s)
		case d.name == "upstream" && where == "http" && len(d.args) == 1:
			var addrs []string
			for _, u := range d.block {
				if u.name == "server" && len(u.args) > 0 {
					addrs = append(addrs, u.args[0])
				}
			}
			n.upstreams[d.args[0]] = addrs
		case (d.name == "root" || d.name == "alias") && len(d.args) == 1:
			r := ""
			if !strings.Contains(d.args[0], "$") {
				r = conf.Resolve(n.c.prefix, d.args[0])
			}
			switch {
			case srv != nil:
				srv.roots = append(srv.roots, r)
			case where == "http" && d.name == "root":
				n.httpRoot = r
			}
		case d.name == "fastcgi_pass" && len(d.args) == 1 && srv != nil:
			srv.passes = append(srv.passes, d.args[0])
		case d.name == "fastcgi_read_timeout" && len(d.args) == 1:
			if _, err := ParseDuration(d.args[0]); err != nil {
				n.Warnings = append(n.Warnings, conf.Warning{File: d.file, Line: d.line, Directive: d.name,
					Message: fmt.Sprintf("nginx refuses the value %q; it is passed over", d.args[0])})
			}
		case d.block != nil:
			inner := "other"
			if srv != nil {
				inner = "location"
			}
			n.walk(d.block, inner, srv)
		}
	}
}

// errorLog makes a LogFile of an error_log directive; ok is false for
// stderr, syslog, memory buffers and an empty name. "off" is no keyword
// to error_log: nginx writes to a file named off in its prefix.
func (n *Config) errorLog(d directive) (conf.LogFile, bool) {
	v := d.args[0]
	if v == "" || v == "stderr" || strings.HasPrefix(v, "syslog:") || strings.HasPrefix(v, "memory:") {
		return conf.LogFile{}, false
	}
	src := fmt.Sprintf("error_log in %s line %d (%s)", d.file, d.line, n.c.Who)
	if d.file == "-g" {
		src = "error_log in -g on the command line of the " + n.c.Who
	}
	return conf.LogFile{Path: conf.Resolve(n.c.prefix, v), Kind: Kind, Source: src}, true
}

// Timeouts returns the fastcgi_read_timeout in effect at each
// fastcgi_pass of the server blocks, those serving docroot marked, and
// where the server blocks serving docroot send PHP.
func (n *Config) Timeouts(docroot string) ([]conf.WebTimeout, []conf.Target) {
	serving := n.serving(docroot)
	var out []conf.WebTimeout
	var targets []conf.Target
	for _, s := range n.servers {
		if serving[s] {
			targets = append(targets, n.targets(s)...)
		}
		for _, w := range n.readTimeouts(s) {
			w.ServesSite = serving[s]
			out = append(out, w)
		}
	}
	return out, targets
}

// readTimeouts returns the fastcgi_read_timeout at each fastcgi_pass of a
// server block. A block's setting holds for the whole block, wherever it
// stands in it, and for the blocks inside (location, if) that set none;
// the http level's holds for every server.
func (n *Config) readTimeouts(s *server) []conf.WebTimeout {
	top := conf.WebTimeout{Server: "nginx", Master: n.c.Who, Directive: "fastcgi_read_timeout", Value: conf.DefaultWebTimeout}
	top = timeoutIn(n.httpBlock, top)
	var out []conf.WebTimeout
	var visit func(block []directive, in conf.WebTimeout)
	visit = func(block []directive, in conf.WebTimeout) {
		in = timeoutIn(block, in)
		for _, d := range block {
			switch {
			case d.name == "fastcgi_pass" && len(d.args) == 1:
				out = append(out, in)
			case d.block != nil:
				visit(d.block, in)
			}
		}
	}
	visit(s.block, top)
	return out
}

// timeoutIn returns the fastcgi_read_timeout a block sets (its first
// valid one: nginx refuses a second), or inherited when it sets none.
func timeoutIn(block []directive, inherited conf.WebTimeout) conf.WebTimeout {
	for _, d := range block {
		if d.name != "fastcgi_read_timeout" || len(d.args) != 1 {
			continue
		}
		if v, err := ParseDuration(d.args[0]); err == nil {
			inherited.Value, inherited.Source = v, fmt.Sprintf("%s line %d", d.file, d.line)
			return inherited
		}
	}
	return inherited
}

// ParseDuration parses nginx time values: "60", "60s", "500ms",
// "1m30s", "1h 30m", units ms s m h d w M (30 days) y (365 days) as nginx
// documents them, largest first, a number without a unit in seconds.
// nginx itself refuses M and y in millisecond settings such as
// fastcgi_read_timeout; ParseDuration takes them.
func ParseDuration(v string) (time.Duration, error) {
	// ngx_parse_time's steps, in the order units must come
	const (
		stStart = iota
		stYear
		stMonth
		stWeek
		stDay
		stHour
		stMin
		stSec
		stMsec
		stLast
	)
	const maxMs = math.MaxInt64 / int64(time.Millisecond)
	bad := func(err error) (time.Duration, error) {
		return 0, fmt.Errorf("parse nginx time %q: %w", v, err)
	}
	step := stStart
	var total, value int64 // milliseconds, and the number being read
	valid := false
	for i := 0; i < len(v); {
		c := v[i]
		i++
		if c >= '0' && c <= '9' {
			if value > (maxMs-int64(c-'0'))/10 {
				return bad(strconv.ErrRange)
			}
			value = value*10 + int64(c-'0')
			valid = true
			continue
		}
		next, scale := 0, int64(0)
		switch c {
		case 'y':
			next, scale = stYear, 365*24*3600*1000
		case 'M':
			next, scale = stMonth, 30*24*3600*1000
		case 'w':
			next, scale = stWeek, 7*24*3600*1000
		case 'd':
			next, scale = stDay, 24*3600*1000
		case 'h':
			next, scale = stHour, 3600*1000
		case 'm':
			next, scale = stMin, 60*1000
			if i < len(v) && v[i] == 's' {
				i++
				next, scale = stMsec, 1
			}
		case 's':
			next, scale = stSec, 1000
		case ' ':
			// a space after a bare number ends its seconds
			if step >= stSec {
				return bad(strconv.ErrSyntax)
			}
			next, scale = stLast, 1000
		default:
			return bad(strconv.ErrSyntax)
		}
		if next <= step {
			return bad(strconv.ErrSyntax) // a unit repeated or out of order
		}
		step = next
		if value > maxMs/scale || total > maxMs-value*scale {
			return bad(strconv.ErrRange)
		}
		total += value * scale
		value = 0
		for i < len(v) && v[i] == ' ' {
			i++
		}
	}
	if !valid {
		return bad(strconv.ErrSyntax)
	}
	if value > maxMs/1000 || total > maxMs-value*1000 {
		return bad(strconv.ErrRange)
	}
	return time.Duration(total+value*1000) * time.Millisecond, nil
}
