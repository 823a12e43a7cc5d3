// Package apache reads what a running Apache (apache2, httpd) master
// configures for the sites it serves: from its command line (ParseCmd) and
// its config with Include, IncludeOptional, Define and ${VAR} (Read), the
// ErrorLog of the virtual hosts serving a docroot and where they send PHP
// (Logs), and the Timeout or ProxyTimeout its PHP requests run under
// (Timeouts), each with file and line, plus what it could not read or
// would refuse as warnings. It knows no WordPress.
package apache

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"math"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wpfix/wpfix/wp/server/conf"
)

// Kind is the kind of Apache's logs and of its masters.
const Kind = "apache"

// Name is the master's program name, "apache2" or "httpd", for Who.
func (c Cmd) Name() string { return path.Base(c.bin) }

// Cmd is what an Apache master's command line says.
type Cmd struct {
	bin, serverRoot, conf, startupLog string
	// Env is the process's environment, when readable: the variables
	// ${VAR} may name.
	Env map[string]string
	// Who says which master, for sources: "apache2 master, pid 812".
	Who string
}

// ParseCmd reads an apache2 or httpd command line (Apache keeps its
// arguments): -d ServerRoot, -f config, -E startup log. Children have the
// same command line as their master.
func ParseCmd(args []string) (c Cmd, ok bool) {
	if len(args) == 0 || strings.Contains(args[0], " ") {
		return c, false
	}
	switch path.Base(args[0]) {
	case "apache2", "httpd", "httpd.worker", "httpd.event":
	default:
		return c, false
	}
	c.bin = args[0]
	for i := 1; i < len(args); i++ {
		w := args[i]
		if len(w) < 2 || w[0] != '-' || !strings.ContainsRune("dfE", rune(w[1])) {
			continue
		}
		val := w[2:]
		if val == "" && i+1 < len(args) {
			i++
			val = args[i]
		}
		switch w[1] {
		case 'd':
			c.serverRoot = val
		case 'f':
			c.conf = val
		case 'E':
			c.startupLog = val
		}
	}
	return c, true
}

// defaults fills in the compiled-in ServerRoot and config: Debian's for
// apache2, Red Hat's for httpd, PREFIX for a build in PREFIX/bin.
func (c Cmd) defaults() Cmd {
	root, file := "/etc/httpd", "conf/httpd.conf"
	if strings.HasPrefix(path.Base(c.bin), "apache2") {
		root, file = "/etc/apache2", "apache2.conf"
	}
	if dir := path.Dir(c.bin); path.Base(dir) == "bin" && path.IsAbs(dir) && path.Dir(dir) != "/usr" && path.Dir(dir) != "/" {
		root, file = path.Dir(dir), "conf/httpd.conf"
	}
	if c.serverRoot == "" {
		c.serverRoot = root
	}
	if c.conf == "" {
		c.conf = file
	}
	c.serverRoot = path.Clean(c.serverRoot)
	c.conf = conf.Resolve(c.serverRoot, c.conf)
	return c
}

// vhost is what one virtual host says (the main server is one too).
type vhost struct {
	docroots []string
	logs     []conf.LogFile
	targets  []conf.Target
	// timeout and proxyTimeout are the last Timeout and ProxyTimeout, nil
	// when not set here.
	timeout, proxyTimeout *conf.Setting
}

// Config reads an Apache config: lines, continuations, sections,
// Include and IncludeOptional, Define and ${VAR}.
type Config struct {
	files      *conf.Files
	c          Cmd
	who        string
	serverRoot string
	env        map[string]string
	reads      int
	main       vhost
	vhosts     []*vhost
	cur        *vhost // the virtual host being read, nil for the main server
	// modPHP are mod_php's ini files, each on its own.
	modPHP [][]conf.INIFile
	// Warnings are what could not be read, and the values Apache would
	// refuse, in the order met.
	Warnings []conf.Warning
}

// EnvVars reads the variables a Debian envvars file exports
// (export APACHE_LOG_DIR=/var/log/apache2$SUFFIX). Only plain values and
// $VAR references count; a line using other shell expansions is skipped,
// so the SUFFIX of a default instance is empty.
func EnvVars(src []byte) map[string]string {
	env := map[string]string{}
	for _, line := range strings.Split(string(src), "\n") {
		line = strings.TrimSpace(line)
		line = strings.TrimPrefix(line, "export ")
		k, v, ok := strings.Cut(line, "=")
		if !ok || !shellName.MatchString(k) {
			continue
		}
		v = strings.Trim(v, `"'`)
		if strings.ContainsAny(shellRef.ReplaceAllString(v, ""), "${}`;|&()") || strings.ContainsAny(v, " \t") {
			continue
		}
		env[k] = shellRef.ReplaceAllStringFunc(v, func(m string) string {
			return env[strings.Trim(m, "${}")]
		})
	}
	return env
}

// Logs says which logs the config names and which serve docroot: the ErrorLog of the virtual
// hosts whose DocumentRoot is the docroot (or, when they have none, the
// main server's), and the main server's, where Apache logs what befalls
// its children. Paths are relative to ServerRoot; ${VAR} comes from
// Define, the process's environment when readable, else the envvars file
// in ServerRoot (Debian).
func (a *Config) Logs(docroot string) Result {
	c := a.c
	serving := a.serving(docroot)
	var res Result
	served := len(serving) > 0
	mainServes := served
	mainLogs := a.main.logs
	if len(mainLogs) == 0 {
		mainLogs = []conf.LogFile{{Path: conf.Resolve(a.serverRoot, "logs/error_log"), Kind: Kind,
			Source: "the built-in ErrorLog of the " + c.Who}}
	}
	for _, v := range a.vhosts {
		for _, l := range v.logs {
			l.ServesSite = serving[v]
			res.Logs = append(res.Logs, l)
		}
	}
	for _, l := range mainLogs {
		l.ServesSite = mainServes
		res.Logs = append(res.Logs, l)
	}
	if c.startupLog != "" {
		res.Logs = append(res.Logs, conf.LogFile{Path: conf.Resolve(a.serverRoot, c.startupLog), Kind: Kind,
			Source: "-E on the command line of the " + c.Who})
	}
	res.Targets = a.siteTargets(serving)
	// mod_php serves the site when Apache does and sends its PHP to no
	// FastCGI server.
	serves := slices.ContainsFunc(res.Logs, func(l conf.LogFile) bool { return l.ServesSite })
	for _, inis := range a.modPHP {
		if l, ok := conf.INILog(inis, docroot); ok {
			l.ServesSite = serves && len(res.Targets) == 0
			l.Source += " (php.ini of mod_php)"
			res.PHPLogs = append(res.PHPLogs, l)
		}
	}
	return res
}

// Result is what the config says for one docroot (see conf.Result).
type Result = conf.Result

// Read reads an Apache master's config, with its includes, the ServerRoot
// and config the command line leaves out filled in. Paths are relative to
// ServerRoot; ${VAR} comes from Define, the process's environment when
// readable (Cmd.Env), else the envvars file in ServerRoot (Debian).
func Read(files *conf.Files, c Cmd) *Config {
	c = c.defaults()
	// Define adds to the variables: a copy, so the caller's map stays as it was.
	a := &Config{files: files, c: c, who: c.Who, serverRoot: c.serverRoot, env: maps.Clone(c.Env)}
	if a.env == nil {
		a.env = map[string]string{}
		if src, err := files.ReadFile(path.Join(c.serverRoot, "envvars")); err == nil {
			a.env = EnvVars(src)
		}
	}
	a.load(c.conf, 0, nil)
	for _, name := range files.Glob(modPHPINIs) {
		inis, w := conf.ReadINI(files, []string{name})
		a.modPHP = append(a.modPHP, inis)
		a.Warnings = append(a.Warnings, w...)
	}
	return a
}

// modPHPINIs are the php.ini files of mod_php, one per PHP version, as
// Debian lays them out.
const modPHPINIs = "/etc/php/*/apache2/php.ini"

// serving returns the virtual hosts (the main server among them) that
// serve docroot: those whose DocumentRoot, or else the main server's, is
// the docroot, or failing that the closest folder above it.
func (a *Config) serving(docroot string) map[*vhost]bool {
	hosts := append([]*vhost{&a.main}, a.vhosts...)
	var roots []string
	var owners []*vhost
	for _, v := range hosts {
		rs := v.docroots
		if len(rs) == 0 && v != &a.main {
			rs = a.main.docroots
		}
		for _, r := range rs {
			roots = append(roots, r)
			owners = append(owners, v)
		}
	}
	serving := map[*vhost]bool{}
	for i, m := range conf.RootMatch(roots, docroot) {
		if m {
			serving[owners[i]] = true
		}
	}
	return serving
}

// siteTargets returns where the serving hosts send PHP: the main
// server's handlers, which virtual hosts inherit, and their own; none
// when no host serves the site.
func (a *Config) siteTargets(serving map[*vhost]bool) []conf.Target {
	if len(serving) == 0 {
		return nil
	}
	out := slices.Clone(a.main.targets)
	for _, v := range a.vhosts {
		if serving[v] {
			out = append(out, v.targets...)
		}
	}
	return out
}

var (
	varRef    = regexp.MustCompile(`\$\{([^}]*)\}`)
	shellName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	shellRef  = regexp.MustCompile(`\$\{[A-Za-z_][A-Za-z0-9_]*\}|\$[A-Za-z_][A-Za-z0-9_]*`)
)

// load reads a config file; Include splices files in place.
//
// from is the Include that names the file, nil for the main config; a
// file that cannot be read is a warning there, but for a missing file of
// IncludeOptional, which Apache passes over.
func (a *Config) load(file string, depth int, from *conf.Warning) {
	if a.reads >= conf.MaxFiles || depth > conf.MaxIncludeDepth {
		return
	}
	a.reads++
	src, err := a.files.ReadFile(file)
	if err != nil {
		switch {
		case from == nil:
			a.Warnings = append(a.Warnings, conf.Warning{File: file, Message: "could not be read: " + conf.Reason(err)})
		case strings.EqualFold(from.Directive, "IncludeOptional") && errors.Is(err, fs.ErrNotExist):
		default:
			w := *from
			w.Message = file + " could not be read: " + conf.Reason(err)
			a.Warnings = append(a.Warnings, w)
		}
		return
	}
	lines := strings.Split(string(src), "\n")
	for i := 0; i < len(lines); i++ {
		lineNo := i + 1
		line := strings.TrimSpace(strings.TrimSuffix(lines[i], "\r"))
		for strings.HasSuffix(line, "\\") && i+1 < len(lines) {
			i++
			line = strings.TrimSuffix(line, "\\") + strings.TrimSpace(strings.TrimSuffix(lines[i], "\r"))
		}
		if line == "" || line[0] == '#' {
			continue
		}
		line = varRef.ReplaceAllStringFunc(line, func(m string) string {
			if v, ok := a.env[m[2:len(m)-1]]; ok {
				return v
			}
			return m
		})
		if line = strings.TrimSpace(line); line == "" {
			continue // a line that was only a variable, defined empty
		}
		if strings.HasPrefix(line, "</") {
			if strings.EqualFold(strings.TrimSpace(strings.Trim(line, "</>")), "VirtualHost") {
				a.cur = nil
			}
			continue
		}
		if line[0] == '<' {
			name, _, _ := strings.Cut(strings.Trim(line, "<>"), " ")
			if strings.EqualFold(name, "VirtualHost") {
				a.cur = &vhost{}
				a.vhosts = append(a.vhosts, a.cur)
			}
			continue
		}
		words := splitWords(line)
		if len(words) < 2 {
			continue
		}
		a.directive(words, file, lineNo, depth)
	}
}

func (a *Config) host() *vhost {
	if a.cur != nil {
		return a.cur
	}
	return &a.main
}

func (a *Config) directive(words []string, file string, line, depth int) {
	arg := words[1]
	switch strings.ToLower(words[0]) {
	case "serverroot":
		if arg != "" { // Apache refuses an empty ServerRoot; the last good one stands
			a.serverRoot = conf.Resolve("/", arg)
		}
	case "define":
		v := ""
		if len(words) > 2 {
			v = words[2]
		}
		a.env[arg] = v
	case "include", "includeoptional":
		from := &conf.Warning{File: file, Line: line, Directive: words[0]}
		p := conf.Resolve(a.serverRoot, arg)
		names := []string{p}
		if conf.HasMeta(p) {
			names = a.files.Glob(p)
			if len(names) == 0 && strings.EqualFold(words[0], "Include") {
				w := *from
				w.Message = p + " matches no file: Apache refuses to start with it (IncludeOptional would not)"
				a.Warnings = append(a.Warnings, w)
			}
		}
		for _, n := range names {
			a.include(n, depth+1, from)
		}
	case "errorlog":
		if arg == "" || strings.HasPrefix(arg, "|") || conf.IsSyslog(arg) {
			return
		}
		h := a.host()
		h.logs = append(h.logs, conf.LogFile{Path: conf.Resolve(a.serverRoot, arg), Kind: Kind,
			Source: fmt.Sprintf("ErrorLog in %s line %d (%s)", file, line, a.who)})
	case "documentroot":
		h := a.host()
		h.docroots = append(h.docroots, conf.Resolve(a.serverRoot, arg))
	case "timeout":
		a.host().timeout = a.timeoutSetting(words[0], arg, file, line)
	case "proxytimeout":
		a.host().proxyTimeout = a.timeoutSetting(words[0], arg, file, line)
	case "sethandler", "proxypass", "proxypassmatch", "addhandler":
		h := a.host()
		for _, w := range words[1:] {
			if t, ok := fcgiTarget(w); ok {
				h.targets = append(h.targets, t)
			}
		}
	}
}

// include reads a file, or every file in a folder and below it, as
// Include does.
func (a *Config) include(name string, depth int, from *conf.Warning) {
	if depth > conf.MaxIncludeDepth || a.reads >= conf.MaxFiles {
		return
	}
	if !a.files.IsDir(name) {
		a.load(name, depth, from)
		return
	}
	a.reads++
	for _, n := range a.files.Glob(path.Join(name, "*")) {
		a.include(n, depth+1, from)
	}
}

// timeoutSetting is a Timeout or ProxyTimeout line; a value Apache
// refuses is a warning, and is passed over when the timeouts are read.
func (a *Config) timeoutSetting(directive, arg, file string, line int) *conf.Setting {
	if _, err := ParseDuration(arg); err != nil {
		a.Warnings = append(a.Warnings, conf.Warning{File: file, Line: line, Directive: directive,
			Message: fmt.Sprintf("Apache refuses the value %q; it is passed over", arg)})
	}
	return &conf.Setting{Value: arg, File: file, Line: line}
}

// fcgiTarget reads a proxy handler: "proxy:unix:/run/php.sock|fcgi://localhost"
// or "fcgi://127.0.0.1:9000/var/www/$1".
func fcgiTarget(w string) (conf.Target, bool) {
	if i := strings.Index(w, "unix:"); i >= 0 {
		p, _, _ := strings.Cut(w[i:], "|")
		return conf.ParseTarget(p)
	}
	if i := strings.Index(w, "fcgi://"); i >= 0 {
		hp, _, _ := strings.Cut(w[i+len("fcgi://"):], "/")
		return conf.ParseTarget(hp)
	}
	return "", false
}

// splitWords splits a directive's line into words: spaces separate,
// "…" and '…' quote, a backslash escapes a quote inside.
func splitWords(line string) []string {
	var words []string
	for i := 0; i < len(line); {
		for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
			i++
		}
		if i >= len(line) {
			break
		}
		var b strings.Builder
		if q := line[i]; q == '"' || q == '\'' {
			i++
			for i < len(line) && line[i] != q {
				if line[i] == '\\' && i+1 < len(line) && line[i+1] == q {
					i++
				}
				b.WriteByte(line[i])
				i++
			}
			i++
		} else {
			for i < len(line) && line[i] != ' ' && line[i] != '\t' {
				b.WriteByte(line[i])
				i++
			}
		}
		words = append(words, b.String())
	}
	return words
}

// Timeouts returns, for each host of the config (the main server and the
// virtual hosts), the timeout its PHP requests run under, those serving
// docroot marked, and where the hosts serving docroot send PHP.
func (a *Config) Timeouts(docroot string) ([]conf.WebTimeout, []conf.Target) {
	serving := a.serving(docroot)
	setting := func(r *conf.Setting, def conf.WebTimeout) conf.WebTimeout {
		if r == nil {
			return def
		}
		v, err := ParseDuration(r.Value)
		if err != nil {
			return def // Apache refuses it: the config changed since it started
		}
		def.Value, def.Source = v, r.Source()
		return def
	}
	mainTimeout := setting(a.main.timeout, conf.WebTimeout{Server: "apache", Master: a.who, Directive: "Timeout", Value: conf.DefaultWebTimeout})
	var out []conf.WebTimeout
	for _, h := range append([]*vhost{&a.main}, a.vhosts...) {
		w := mainTimeout
		if h != &a.main {
			w = setting(h.timeout, mainTimeout)
		}
		if len(h.targets) > 0 || len(a.main.targets) > 0 {
			// ProxyTimeout, else the host's Timeout
			w.Directive = "ProxyTimeout"
			if w.Source != "" {
				w.Source = "Timeout in " + w.Source
			}
			w = setting(a.main.proxyTimeout, w)
			if h != &a.main {
				w = setting(h.proxyTimeout, w)
			}
		}
		w.ServesSite = serving[h]
		out = append(out, w)
	}
	return out, a.siteTargets(serving)
}

// ParseDuration parses Apache's time values as
// ap_timeout_parameter_parse does: a number of seconds, or with the unit
// s, ms, mi (minutes) or h.
func ParseDuration(v string) (time.Duration, error) {
	i := 0
	for i < len(v) && v[i] >= '0' && v[i] <= '9' {
		i++
	}
	unit := time.Second
	switch v[i:] {
	case "", "s":
	case "ms":
		unit = time.Millisecond
	case "mi":
		unit = time.Minute
	case "h":
		unit = time.Hour
	default:
		return 0, fmt.Errorf("parse Apache time %q: %w", v, strconv.ErrSyntax)
	}
	n, err := strconv.ParseInt(v[:i], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("parse Apache time %q: %w", v, err)
	}
	if n > math.MaxInt64/int64(unit) {
		return 0, fmt.Errorf("parse Apache time %q: %w", v, strconv.ErrRange)
	}
	return time.Duration(n) * unit, nil
}
