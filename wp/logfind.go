package wp

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"path"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/wpfix/wpfix/remote"
)

// The kinds of log, LogFile.Kind.
const (
	// LogWordPress is WordPress's debug.log (WP_DEBUG_LOG).
	LogWordPress = "wordpress"
	// LogPHP is PHP's own error_log: php.ini, a php-fpm pool's
	// php_value[error_log], a .user.ini.
	LogPHP = "php"
	// LogFPM is php-fpm's log (with the workers' output) or a pool's slowlog.
	LogFPM = "php-fpm"
	// LogNginx is an nginx error_log.
	LogNginx = "nginx"
	// LogApache is an Apache ErrorLog.
	LogApache = "apache"
	// LogCPanel is an error_log file beside the scripts, where PHP writes
	// on cPanel hosts (error_log = error_log, relative to the script).
	LogCPanel = "cpanel"
)

// LogFile is a log that may hold the site's errors.
type LogFile struct {
	// Path is the file on the site's host.
	Path string `json:"path"`
	// Kind says whose log it is: one of the Log* constants.
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

// FindLogs lists the logs that may hold the site's errors: only files that
// exist, are regular and are readable, each path once, those known to
// serve the site first, then in the order of the list below. It looks, all
// through s.Host:
//
//  1. at WordPress's debug.log, as wp-config.php sets it;
//  2. at the error_log of a .user.ini in the docroot, and at cPanel-style
//     error_log files in the docroot, wp-admin and wp-content;
//  3. at the running servers (Linux only: it reads /proc/*/cmdline, and
//     skips what it may not read): each nginx master's -e and the
//     error_log directives of its config and included files; each Apache
//     (apache2, httpd) master's ErrorLog directives, in virtual hosts and
//     included files; each php-fpm master's error_log, its pools'
//     php_admin_value[error_log], php_value[error_log] and slowlog, and the
//     error_log in effect in the php.ini beside its config and the
//     conf.d/*.ini beside that (as Debian lays them out: php-fpm rewrites
//     its process title, so its -c and -p are not seen); with Apache
//     running, the error_log of mod_php's /etc/php/*/apache2/php.ini;
//  4. at the error_log of the host's PHP CLI (php -r);
//  5. at the usual places of a server kind none of whose masters was seen
//     running: /var/log/nginx/error.log, /var/log/apache2/error.log,
//     /var/log/httpd/error_log, /var/log/php*-fpm.log, /var/log/php-fpm/*.log.
//
// A web server serves the site when a server block (nginx) or virtual host
// (Apache) has the docroot as its root, or failing that the closest folder
// above it; a php-fpm pool serves it when it listens where such a block
// sends PHP (fastcgi_pass, SetHandler proxy:…). All running servers' logs
// are returned; LogFile.ServesSite marks those. A path found twice keeps
// the source of the finding that says it serves the site. An unreadable
// source is skipped, never fatal: the only error is the context's.
func FindLogs(ctx context.Context, s *Site) ([]LogFile, error) {
	f := &logFinder{ctx: ctx, s: s, files: hostFiles{ctx: ctx, h: s.Host}, seen: map[string]int{}}
	f.wordpress()
	f.docroot()
	f.servers()
	f.phpCLI()
	f.usualPlaces()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	logs := f.existing()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return logs, nil
}

// logFinder collects candidate logs, deduplicated by path.
type logFinder struct {
	ctx   context.Context
	s     *Site
	files hostFiles
	found []LogFile
	seen  map[string]int // path → index in found
	// running says which server kinds have a master running.
	running map[string]bool
}

// add records a candidate. A path found again keeps its place and its
// first source, unless only the new finding says it serves the site: that
// one's source is the one that matters to people.
func (f *logFinder) add(l LogFile) {
	if l.Path == "" || !path.IsAbs(l.Path) {
		return
	}
	l.Path = path.Clean(l.Path)
	if i, ok := f.seen[l.Path]; ok {
		if l.ServesSite && !f.found[i].ServesSite {
			f.found[i].Kind, f.found[i].Source, f.found[i].ServesSite = l.Kind, l.Source, true
		}
		return
	}
	f.seen[l.Path] = len(f.found)
	f.found = append(f.found, l)
}

func (f *logFinder) wordpress() {
	p := f.s.Config.DebugLogFile(f.s.ContentDir)
	if p == "" {
		return
	}
	if !path.IsAbs(p) {
		p = path.Join(f.s.Root, p) // PHP's working directory: the docroot, for index.php
	}
	f.add(LogFile{Path: p, Kind: LogWordPress, Source: "WP_DEBUG_LOG in " + f.s.ConfigFile, ServesSite: true})
}

// docroot looks at what sits beside the site's scripts: a .user.ini's
// error_log and cPanel's error_log files.
func (f *logFinder) docroot() {
	if l, ok := phpINILog(f.files, []string{path.Join(f.s.Root, ".user.ini")}, f.s.Root); ok {
		l.ServesSite = true
		f.add(l)
	}
	for _, d := range []struct{ dir, what string }{
		{f.s.Root, "the docroot"}, {path.Join(f.s.Root, "wp-admin"), "wp-admin"}, {f.s.ContentDir, "wp-content"},
	} {
		f.add(LogFile{Path: path.Join(d.dir, "error_log"), Kind: LogCPanel, ServesSite: true,
			Source: "error_log file in " + d.what + " (PHP's log beside the script, as cPanel sets it)"})
	}
}

// phpCLI asks the host's PHP CLI for its error_log: not the web server's
// PHP, but often the same settings, and what wp-cron run from cron uses.
func (f *logFinder) phpCLI() {
	out, err := f.s.Host.Exec(f.ctx, []string{"php", "-r", `echo ini_get("error_log");`}, nil)
	if err != nil {
		return
	}
	// the last line: a chatty shell start-up file may print before php
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	v := strings.TrimSpace(lines[len(lines)-1])
	if v == "" || isSyslog(v) {
		return
	}
	f.add(LogFile{Path: resolve(f.s.Root, v), Kind: LogPHP, Source: "error_log of the host's PHP CLI (php -r)"})
}

// usualLogs are where distributions put the servers' logs, by kind.
var usualLogs = []struct{ kind, pattern string }{
	{LogNginx, "/var/log/nginx/error.log"},
	{LogApache, "/var/log/apache2/error.log"},
	{LogApache, "/var/log/httpd/error_log"},
	{LogFPM, "/var/log/php*-fpm.log"},
	{LogFPM, "/var/log/php-fpm/*.log"},
}

// usualPlaces adds the usual logs of the kinds of server not seen running:
// a running master's config says where its logs are.
func (f *logFinder) usualPlaces() {
	for _, u := range usualLogs {
		if f.running[u.kind] {
			continue
		}
		for _, p := range f.files.Glob(u.pattern) {
			f.add(LogFile{Path: p, Kind: u.kind, Source: "usual place for " + u.kind})
		}
	}
}

// existing keeps the candidates that are readable regular files, with
// their sizes, those that serve the site first.
func (f *logFinder) existing() []LogFile {
	keep := make([]bool, len(f.found))
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for i := range f.found {
		l := &f.found[i]
		if strings.HasPrefix(l.Path, "/dev/") || strings.HasPrefix(l.Path, "/proc/") {
			continue // a terminal, a pipe, or wpfix's own descriptors
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			fi, err := f.s.Host.Stat(f.ctx, l.Path)
			if err != nil || !fi.Mode().IsRegular() {
				return
			}
			if _, err := f.s.Host.ReadHead(f.ctx, l.Path, 1); err != nil {
				return
			}
			l.Size = fi.Size()
			keep[i] = true
		}()
	}
	wg.Wait()
	var out []LogFile
	for i, l := range f.found {
		if keep[i] {
			out = append(out, l)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].ServesSite && !out[j].ServesSite })
	return out
}

// servers reads the running servers' configs: web servers first, for they
// say where the site's PHP requests go, then php-fpm.
func (f *logFinder) servers() {
	f.running = map[string]bool{}
	masters, ok := runningMasters(f.ctx, f.s.Host)
	if !ok {
		return
	}
	var targets []fcgiTarget
	var fpms []fpmCmd
	apacheServes, apacheFCGI := false, false
	for _, m := range masters {
		f.running[m.kind] = true
		switch m.kind {
		case LogNginx:
			res := nginxLogs(f.files, m.nginx, f.s.Root)
			for _, l := range res.logs {
				f.add(l)
			}
			targets = append(targets, res.targets...)
		case LogApache:
			res := apacheLogs(f.files, m.apache, f.s.Root)
			for _, l := range res.logs {
				f.add(l)
				apacheServes = apacheServes || l.ServesSite
			}
			apacheFCGI = apacheFCGI || len(res.targets) > 0
			targets = append(targets, res.targets...)
		case LogFPM:
			fpms = append(fpms, m.fpm)
		}
	}
	for _, c := range fpms {
		for _, l := range fpmLogs(f.files, c, f.s.Root, targets).logs {
			f.add(l)
		}
	}
	if f.running[LogApache] {
		// mod_php reads Debian's /etc/php/X.Y/apache2/php.ini; it serves the
		// site when Apache does and sends PHP to no FastCGI server.
		for _, ini := range f.files.Glob("/etc/php/*/apache2/php.ini") {
			if l, ok := phpINILog(f.files, []string{ini}, f.s.Root); ok {
				l.ServesSite = apacheServes && !apacheFCGI
				l.Source += " (php.ini of mod_php)"
				f.add(l)
			}
		}
	}
}

// serverMaster is the master process of a running nginx, Apache or
// php-fpm, as its command line shows it.
type serverMaster struct {
	kind   string // LogNginx, LogApache or LogFPM
	nginx  nginxCmd
	apache apacheCmd
	fpm    fpmCmd
}

// runningMasters lists the masters of the servers running on a Linux host,
// in pid order: the one walk over /proc that FindLogs and ServerLimits
// share. ok is false when /proc cannot be listed.
func runningMasters(ctx context.Context, h remote.Host) (masters []serverMaster, ok bool) {
	procs, ok := listProcesses(ctx, h)
	if !ok {
		return nil, false
	}
	return mastersOf(procs, func(pid int) map[string]string { return procEnv(ctx, h, pid) }), true
}

// mastersOf picks the masters out of a process list, each with its who
// set ("nginx master, pid 812") and, for Apache, its environment as env
// returns it. An Apache child, with its master's command line, is left
// out.
func mastersOf(procs []process, env func(pid int) map[string]string) []serverMaster {
	var out []serverMaster
	seenApache := map[string]bool{}
	for _, p := range procs {
		if c, ok := parseNginxCmd(p.args); ok {
			c.who = fmt.Sprintf("nginx master, pid %d", p.pid)
			out = append(out, serverMaster{kind: LogNginx, nginx: c})
			continue
		}
		if c, ok := parseApacheCmd(p.args); ok {
			key := strings.Join(p.args, "\x00")
			if seenApache[key] {
				continue // a child of a master already listed: same command line
			}
			seenApache[key] = true
			c.who = fmt.Sprintf("%s master, pid %d", path.Base(c.bin), p.pid)
			c.env = env(p.pid)
			out = append(out, serverMaster{kind: LogApache, apache: c})
			continue
		}
		if c, ok := parseFPMCmd(p.args); ok {
			c.who = fmt.Sprintf("php-fpm master, pid %d", p.pid)
			out = append(out, serverMaster{kind: LogFPM, fpm: c})
		}
	}
	return out
}

// process is a running process: its id and command line.
type process struct {
	pid  int
	args []string
}

// maxCmdline bounds what is read of a process's command line.
const maxCmdline = 64 << 10

// listProcesses lists the processes of a Linux host from /proc, in pid
// order, reading their command lines in parallel (over SSH each read is a
// round trip). Kernel threads (empty command line) and processes that end
// or may not be read meanwhile are left out. ok is false when /proc cannot
// be listed: not Linux, or hidden.
func listProcesses(ctx context.Context, h remote.Host) (procs []process, ok bool) {
	list, err := h.ReadDir(ctx, "/proc")
	if err != nil {
		return nil, false
	}
	var pids []int
	for _, fi := range list {
		if pid, err := strconv.Atoi(fi.Name()); err == nil && pid > 0 {
			pids = append(pids, pid)
		}
	}
	slices.Sort(pids)
	args := make([][]string, len(pids))
	sem := make(chan struct{}, 16)
	var wg sync.WaitGroup
	for i, pid := range pids {
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			b, err := h.ReadHead(ctx, "/proc/"+strconv.Itoa(pid)+"/cmdline", maxCmdline)
			if err == nil {
				args[i] = splitCmdline(b)
			}
		}()
	}
	wg.Wait()
	for i, pid := range pids {
		if len(args[i]) > 0 {
			procs = append(procs, process{pid: pid, args: args[i]})
		}
	}
	return procs, true
}

// splitCmdline splits /proc/PID/cmdline at its NULs. A process that set
// its title leaves it in the first argument, padded with NULs.
func splitCmdline(b []byte) []string {
	b = bytes.TrimRight(b, "\x00")
	if len(b) == 0 {
		return nil
	}
	return strings.Split(string(b), "\x00")
}

// procEnv reads a process's environment when the host lets us: only root
// and the process's owner may. nil otherwise.
func procEnv(ctx context.Context, h remote.Host, pid int) map[string]string {
	b, err := h.ReadHead(ctx, "/proc/"+strconv.Itoa(pid)+"/environ", maxCmdline)
	if err != nil || len(b) == 0 {
		return nil
	}
	env := map[string]string{}
	for _, kv := range splitCmdline(b) {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	return env
}

// confFiles is how the config readers reach files: the host's, or a test
// tree's.
type confFiles interface {
	// ReadFile returns a file's content, at most maxConfBytes of it.
	ReadFile(name string) ([]byte, error)
	// Glob returns the paths matching an absolute shell pattern, sorted,
	// leaving out names that start with a dot unless the pattern's
	// component does (as glob(3) does for nginx, Apache and php-fpm).
	Glob(pattern string) []string
	// IsDir reports whether name is a directory.
	IsDir(name string) bool
}

// maxConfBytes bounds what is read of one config file.
const maxConfBytes = 4 << 20

// maxGlob bounds the matches of one pattern.
const maxGlob = 1000

// hostFiles reads config files through a Host.
type hostFiles struct {
	ctx context.Context
	h   remote.Host
}

func (f hostFiles) ReadFile(name string) ([]byte, error) {
	return f.h.ReadHead(f.ctx, name, maxConfBytes)
}

func (f hostFiles) IsDir(name string) bool {
	fi, err := f.h.Stat(f.ctx, name)
	return err == nil && fi.IsDir()
}

// Glob expands a pattern one component at a time, listing a directory
// only where a component has a wildcard.
func (f hostFiles) Glob(pattern string) []string {
	if !path.IsAbs(pattern) {
		return nil
	}
	if !hasMeta(pattern) {
		if _, err := f.h.Stat(f.ctx, pattern); err != nil {
			return nil
		}
		return []string{path.Clean(pattern)}
	}
	paths := []string{"/"}
	comps := strings.Split(strings.Trim(path.Clean(pattern), "/"), "/")
	for _, comp := range comps {
		var next []string
		for _, dir := range paths {
			if !hasMeta(comp) {
				next = append(next, path.Join(dir, comp))
				continue
			}
			list, err := f.h.ReadDir(f.ctx, dir)
			if err != nil {
				continue
			}
			for _, fi := range list {
				if strings.HasPrefix(fi.Name(), ".") && !strings.HasPrefix(comp, ".") {
					continue
				}
				if ok, err := path.Match(comp, fi.Name()); ok && err == nil && len(next) < maxGlob {
					next = append(next, path.Join(dir, fi.Name()))
				}
			}
		}
		paths = next
	}
	out := paths
	if !hasMeta(comps[len(comps)-1]) {
		// the last names were joined, not listed: keep those that exist
		out = nil
		for _, p := range paths {
			if _, err := f.h.Stat(f.ctx, p); err == nil {
				out = append(out, p)
			}
		}
	}
	sort.Strings(out)
	return out
}

func hasMeta(p string) bool { return strings.ContainsAny(p, `*?[`) }

// resolve makes p absolute against dir, as a server resolves a relative
// path in its config.
func resolve(dir, p string) string {
	if p == "" {
		return ""
	}
	if path.IsAbs(p) {
		return path.Clean(p)
	}
	return path.Join(dir, p)
}

// isSyslog reports a log value that sends to syslog, not to a file.
func isSyslog(v string) bool {
	return v == "syslog" || strings.HasPrefix(v, "syslog:")
}

// serverLogs is what one server's configuration says: the logs it names,
// and where it sends the site's PHP requests.
type serverLogs struct {
	logs    []LogFile
	targets []fcgiTarget
}

// fcgiTarget is a FastCGI address: "unix:/run/php/php8.2-fpm.sock" or
// "tcp:127.0.0.1:9000" ("tcp:*:9000" when listening on every address).
type fcgiTarget string

// parseFCGITarget normalises an address as nginx's fastcgi_pass, an Apache
// proxy handler or php-fpm's listen write it; ok is false for what cannot
// be one (a variable, an upstream name).
func parseFCGITarget(addr string) (fcgiTarget, bool) {
	addr = strings.TrimSpace(addr)
	if p, ok := strings.CutPrefix(addr, "unix:"); ok {
		if !path.IsAbs(p) {
			return "", false
		}
		return fcgiTarget("unix:" + path.Clean(p)), true
	}
	if path.IsAbs(addr) {
		return fcgiTarget("unix:" + path.Clean(addr)), true
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
	return fcgiTarget("tcp:" + host + ":" + port), true
}

// reaches reports whether a request sent to t arrives at a pool listening
// on l.
func (t fcgiTarget) reaches(l fcgiTarget) bool {
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

// rootMatch returns which of roots serve docroot: those equal to it, or
// failing that those that are the closest folder above it. A root is ""
// when unknown (set by a variable).
func rootMatch(roots []string, docroot string) []bool {
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

// iniEntry is a "key = value" line of an INI file (php.ini, php-fpm.conf),
// with the section it is in.
type iniEntry struct {
	section, key, value string
	line                int
}

// parseINI reads PHP's INI format as far as finding paths needs: [section]
// lines, key = value with the value unquoted ("…" or '…') or cut at a ";"
// comment, ";" and "#" comment lines. ${VAR} and constants are left as
// written.
func parseINI(src []byte) []iniEntry {
	var out []iniEntry
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
		out = append(out, iniEntry{section: section, key: normIniKey(k), value: iniValue(v), line: i + 1})
	}
	return out
}

// normIniKey trims a key and the spaces inside its brackets:
// "php_admin_value[ error_log ]" → "php_admin_value[error_log]".
func normIniKey(k string) string {
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

// ---- nginx ----

// nginxDirective is one directive of an nginx config: its name and
// arguments, where it is, and the directives of its block if it has one.
type nginxDirective struct {
	name  string
	args  []string
	file  string
	line  int
	block []nginxDirective
}

// nginxToken is a word, or one of ";", "{", "}" (quoted false).
type nginxToken struct {
	text   string
	quoted bool
	line   int
}

// lexNginx splits a config as ngx_conf_read_token does: words separated
// by spaces, ";" "{" "}" on their own, "#" comments from the start of a
// word to the end of the line, "…" and '…' quotes, backslash escapes.
func lexNginx(src []byte) []nginxToken {
	var toks []nginxToken
	line := 1
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == '\n':
			line++
			i++
		case c == ' ' || c == '\t' || c == '\r':
			i++
		case c == '#':
			for i < len(src) && src[i] != '\n' {
				i++
			}
		case c == ';' || c == '{' || c == '}':
			toks = append(toks, nginxToken{text: string(c), line: line})
			i++
		case c == '"' || c == '\'':
			start := line
			var b strings.Builder
			for i++; i < len(src) && src[i] != c; {
				if src[i] == '\n' {
					line++
				}
				i = nginxChar(&b, src, i)
			}
			i++ // the closing quote
			toks = append(toks, nginxToken{text: b.String(), quoted: true, line: start})
		default:
			var b strings.Builder
			for i < len(src) && !strings.ContainsRune(" \t\r\n;{}", rune(src[i])) {
				i = nginxChar(&b, src, i)
			}
			toks = append(toks, nginxToken{text: b.String(), line: line})
		}
	}
	return toks
}

// nginxChar copies the character at src[i] to b, or the escape starting
// there as nginx does: \" \' \\ \t \r \n become the character they name,
// any other backslash stays with the character after it. It returns the
// index after what it read.
func nginxChar(b *strings.Builder, src []byte, i int) int {
	if src[i] != '\\' || i+1 >= len(src) || src[i+1] == '\n' {
		b.WriteByte(src[i])
		return i + 1
	}
	switch c := src[i+1]; c {
	case '"', '\'', '\\':
		b.WriteByte(c)
	case 't':
		b.WriteByte('\t')
	case 'r':
		b.WriteByte('\r')
	case 'n':
		b.WriteByte('\n')
	default:
		b.WriteByte('\\')
		b.WriteByte(c)
	}
	return i + 2
}

// parseNginx reads a config into directives. It is lenient where nginx
// would refuse to start: words without a ";" at the end of the file are
// dropped, a stray "}" is ignored, blocks left open are closed.
func parseNginx(src []byte, file string) []nginxDirective {
	stack := []nginxFrame{{}}
	var cur *nginxDirective
	for _, t := range lexNginx(src) {
		top := &stack[len(stack)-1]
		switch {
		case !t.quoted && t.text == ";":
			if cur != nil {
				top.dirs = append(top.dirs, *cur)
				cur = nil
			}
		case !t.quoted && t.text == "{":
			owner := nginxDirective{file: file, line: t.line}
			if cur != nil {
				owner = *cur
				cur = nil
			}
			stack = append(stack, nginxFrame{owner: owner})
		case !t.quoted && t.text == "}":
			cur = nil
			if len(stack) > 1 {
				done := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				stack[len(stack)-1].dirs = append(stack[len(stack)-1].dirs, done.close())
			}
		case cur == nil:
			cur = &nginxDirective{name: t.text, file: file, line: t.line}
		default:
			cur.args = append(cur.args, t.text)
		}
	}
	for len(stack) > 1 {
		done := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		stack[len(stack)-1].dirs = append(stack[len(stack)-1].dirs, done.close())
	}
	return stack[0].dirs
}

// nginxFrame is a block being read: the directive that opened it and what
// is in it so far.
type nginxFrame struct {
	owner nginxDirective
	dirs  []nginxDirective
}

// close returns the owner with its block, empty but not nil when the
// block is: a block is there even with nothing in it.
func (f nginxFrame) close() nginxDirective {
	f.owner.block = f.dirs
	if f.owner.block == nil {
		f.owner.block = []nginxDirective{}
	}
	return f.owner
}

// Limits on reading a server's config and the files it includes.
const (
	maxConfFiles    = 256 // files read for one server
	maxIncludeDepth = 16  // includes within includes
)

// nginxLoader reads a config and splices its includes in place.
type nginxLoader struct {
	files      confFiles
	confPrefix string // the main config's folder: includes are relative to it
	reads      int
}

// load reads file and the files it includes.
func (l *nginxLoader) load(file string, depth int) []nginxDirective {
	if l.reads >= maxConfFiles || depth > maxIncludeDepth {
		return nil
	}
	l.reads++
	src, err := l.files.ReadFile(file)
	if err != nil {
		return nil
	}
	return l.expand(parseNginx(src, file), depth)
}

func (l *nginxLoader) expand(dirs []nginxDirective, depth int) []nginxDirective {
	var out []nginxDirective
	for _, d := range dirs {
		if d.name == "include" && len(d.args) == 1 && d.block == nil {
			p := resolve(l.confPrefix, d.args[0])
			names := []string{p}
			if hasMeta(p) {
				names = l.files.Glob(p)
			}
			for _, n := range names {
				out = append(out, l.load(n, depth+1)...)
			}
			continue
		}
		if d.block != nil {
			d.block = l.expand(d.block, depth)
		}
		out = append(out, d)
	}
	return out
}

// nginxCmd is what an nginx master's command line says.
type nginxCmd struct {
	bin, prefix, conf, errorLog, globals string
	who                                  string // "nginx master, pid 812", for sources
}

// nginxBuiltin are Debian's and Red Hat's compiled-in paths (nginx -V).
var nginxBuiltin = struct{ prefix, conf, errorLog string }{"/usr/share/nginx", "/etc/nginx/nginx.conf", "/var/log/nginx/error.log"}

// parseNginxCmd reads an nginx master's command line. nginx sets its title
// to "nginx: master process " and the command line joined by spaces
// (a path with spaces is cut wrongly); nginx with master_process off keeps
// its arguments. ok is false for anything else, its workers included.
func parseNginxCmd(args []string) (c nginxCmd, ok bool) {
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
func (c nginxCmd) defaults() nginxCmd {
	builtin := nginxBuiltin
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
	c.conf = resolve(c.prefix, c.conf)
	if c.errorLog == "" {
		c.errorLog = builtin.errorLog
	}
	return c
}

// nginxServer is what one server block says.
type nginxServer struct {
	roots  []string         // root and alias folders in it
	passes []string         // fastcgi_pass addresses
	own    []LogFile        // error_log at the server's level
	inner  []LogFile        // error_log in its locations
	block  []nginxDirective // the block, for what is computed afterwards
}

// nginxConf is what an nginx config says about logs and sites.
type nginxConf struct {
	c         nginxCmd
	main      []LogFile // error_log at the main level, -g included
	http      []LogFile
	other     []LogFile // stream, mail
	httpRoot  string
	httpBlock []nginxDirective // the http block's directives
	servers   []*nginxServer
	upstreams map[string][]string
}

// nginxLogs reads an nginx master's config, with its includes, and says
// which logs it names and which serve docroot: the error_log directives in
// effect for the server blocks whose root is the docroot (their own, or
// else inherited from http, or else the main level), and the main level's,
// where nginx logs what befalls its workers. nginx resolves error_log
// paths against its prefix (-p) and include paths against the folder of
// the main config.
func nginxLogs(files confFiles, c nginxCmd, docroot string) serverLogs {
	givenLog := c.errorLog != ""
	n := readNginx(files, c)
	c = n.c
	serving := n.serving(docroot)

	var res serverLogs
	served, inherits := len(serving) > 0, false
	for _, s := range n.servers {
		if serving[s] && len(s.own) == 0 {
			inherits = true
		}
	}
	mark := func(logs []LogFile, serves bool) {
		for _, l := range logs {
			l.ServesSite = serves
			res.logs = append(res.logs, l)
		}
	}
	for _, s := range n.servers {
		mark(s.own, serving[s])
		mark(s.inner, serving[s])
	}
	mark(n.http, inherits)
	mark(n.main, served)
	if c.errorLog != "stderr" {
		src := "-e on the command line of the " + c.who
		if !givenLog {
			src = "the built-in error log of the " + c.who
		}
		mark([]LogFile{{Path: resolve(c.prefix, c.errorLog), Kind: LogNginx, Source: src}},
			served && len(n.main) == 0)
	}
	mark(n.other, false)

	for _, s := range n.servers {
		if serving[s] {
			res.targets = append(res.targets, n.targets(s)...)
		}
	}
	return res
}

// readNginx reads an nginx master's config, with its includes and -g,
// the paths the command line leaves out filled in.
func readNginx(files confFiles, c nginxCmd) *nginxConf {
	c = c.defaults()
	n := &nginxConf{c: c, upstreams: map[string][]string{}}
	l := &nginxLoader{files: files, confPrefix: path.Dir(c.conf)}
	var dirs []nginxDirective
	if c.globals != "" {
		dirs = parseNginx([]byte(c.globals), "-g")
	}
	dirs = append(dirs, l.load(c.conf, 0)...)
	n.walk(dirs, "main", nil)
	return n
}

// serving returns the server blocks that serve docroot: those whose root
// (or alias, or else the http level's root) is the docroot, or failing
// that the closest folder above it.
func (n *nginxConf) serving(docroot string) map[*nginxServer]bool {
	roots := make([]string, 0, len(n.servers))
	owners := make([]*nginxServer, 0, len(n.servers))
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
	serving := map[*nginxServer]bool{}
	for i, m := range rootMatch(roots, docroot) {
		if m {
			serving[owners[i]] = true
		}
	}
	return serving
}

// targets returns where a server block sends PHP: its fastcgi_pass
// addresses, an upstream's servers in its stead.
func (n *nginxConf) targets(s *nginxServer) []fcgiTarget {
	var out []fcgiTarget
	for _, p := range s.passes {
		addrs := n.upstreams[p]
		if addrs == nil {
			addrs = []string{p}
		}
		for _, a := range addrs {
			if t, ok := parseFCGITarget(a); ok {
				out = append(out, t)
			}
		}
	}
	return out
}

// walk collects what the directives say, in context: "main", "http",
// "server" (with srv), "location" (inside a server), or "other".
func (n *nginxConf) walk(dirs []nginxDirective, where string, srv *nginxServer) {
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
			s := &nginxServer{block: d.block}
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
				r = resolve(n.c.prefix, d.args[0])
			}
			switch {
			case srv != nil:
				srv.roots = append(srv.roots, r)
			case where == "http" && d.name == "root":
				n.httpRoot = r
			}
		case d.name == "fastcgi_pass" && len(d.args) == 1 && srv != nil:
			srv.passes = append(srv.passes, d.args[0])
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
func (n *nginxConf) errorLog(d nginxDirective) (LogFile, bool) {
	v := d.args[0]
	if v == "" || v == "stderr" || strings.HasPrefix(v, "syslog:") || strings.HasPrefix(v, "memory:") {
		return LogFile{}, false
	}
	src := fmt.Sprintf("error_log in %s line %d (%s)", d.file, d.line, n.c.who)
	if d.file == "-g" {
		src = "error_log in -g on the command line of the " + n.c.who
	}
	return LogFile{Path: resolve(n.c.prefix, v), Kind: LogNginx, Source: src}, true
}

// ---- Apache ----

// apacheCmd is what an Apache master's command line says.
type apacheCmd struct {
	bin, serverRoot, conf, startupLog string
	env                               map[string]string // the process's environment, when readable
	who                               string
}

// parseApacheCmd reads an apache2 or httpd command line (Apache keeps its
// arguments): -d ServerRoot, -f config, -E startup log. Children have the
// same command line as their master.
func parseApacheCmd(args []string) (c apacheCmd, ok bool) {
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
func (c apacheCmd) defaults() apacheCmd {
	root, conf := "/etc/httpd", "conf/httpd.conf"
	if strings.HasPrefix(path.Base(c.bin), "apache2") {
		root, conf = "/etc/apache2", "apache2.conf"
	}
	if dir := path.Dir(c.bin); path.Base(dir) == "bin" && path.IsAbs(dir) && path.Dir(dir) != "/usr" && path.Dir(dir) != "/" {
		root, conf = path.Dir(dir), "conf/httpd.conf"
	}
	if c.serverRoot == "" {
		c.serverRoot = root
	}
	if c.conf == "" {
		c.conf = conf
	}
	c.serverRoot = path.Clean(c.serverRoot)
	c.conf = resolve(c.serverRoot, c.conf)
	return c
}

// apacheVhost is what one virtual host says (the main server is one too).
type apacheVhost struct {
	docroots []string
	logs     []LogFile
	targets  []fcgiTarget
	// timeout and proxyTimeout are the last Timeout and ProxyTimeout, nil
	// when not set here.
	timeout, proxyTimeout *iniRef
}

// apacheConf reads an Apache config: lines, continuations, sections,
// Include and IncludeOptional, Define and ${VAR}.
type apacheConf struct {
	files      confFiles
	who        string
	serverRoot string
	env        map[string]string
	reads      int
	main       apacheVhost
	vhosts     []*apacheVhost
	cur        *apacheVhost // the virtual host being read, nil for the main server
}

// apacheEnvVars reads the variables a Debian envvars file exports
// (export APACHE_LOG_DIR=/var/log/apache2$SUFFIX). Only plain values and
// $VAR references count; a line using other shell expansions is skipped,
// so the SUFFIX of a default instance is empty.
func apacheEnvVars(src []byte) map[string]string {
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

// apacheLogs reads an Apache master's config, with its includes, and says
// which logs it names and which serve docroot: the ErrorLog of the virtual
// hosts whose DocumentRoot is the docroot (or, when they have none, the
// main server's), and the main server's, where Apache logs what befalls
// its children. Paths are relative to ServerRoot; ${VAR} comes from
// Define, the process's environment when readable, else the envvars file
// in ServerRoot (Debian).
func apacheLogs(files confFiles, c apacheCmd, docroot string) serverLogs {
	a := readApache(files, c)
	serving := a.serving(docroot)
	var res serverLogs
	served := len(serving) > 0
	mainServes := served
	mainLogs := a.main.logs
	if len(mainLogs) == 0 {
		mainLogs = []LogFile{{Path: resolve(a.serverRoot, "logs/error_log"), Kind: LogApache,
			Source: "the built-in ErrorLog of the " + c.who}}
	}
	for _, v := range a.vhosts {
		for _, l := range v.logs {
			l.ServesSite = serving[v]
			res.logs = append(res.logs, l)
		}
	}
	for _, l := range mainLogs {
		l.ServesSite = mainServes
		res.logs = append(res.logs, l)
	}
	if c.startupLog != "" {
		res.logs = append(res.logs, LogFile{Path: resolve(a.serverRoot, c.startupLog), Kind: LogApache,
			Source: "-E on the command line of the " + c.who})
	}
	res.targets = a.siteTargets(serving)
	return res
}

// readApache reads an Apache master's config, with its includes, the
// ServerRoot and config the command line leaves out filled in.
func readApache(files confFiles, c apacheCmd) *apacheConf {
	c = c.defaults()
	// Define adds to the variables: a copy, so the caller's map stays as it was.
	a := &apacheConf{files: files, who: c.who, serverRoot: c.serverRoot, env: maps.Clone(c.env)}
	if a.env == nil {
		a.env = map[string]string{}
		if src, err := files.ReadFile(path.Join(c.serverRoot, "envvars")); err == nil {
			a.env = apacheEnvVars(src)
		}
	}
	a.load(c.conf, 0)
	return a
}

// serving returns the virtual hosts (the main server among them) that
// serve docroot: those whose DocumentRoot, or else the main server's, is
// the docroot, or failing that the closest folder above it.
func (a *apacheConf) serving(docroot string) map[*apacheVhost]bool {
	hosts := append([]*apacheVhost{&a.main}, a.vhosts...)
	var roots []string
	var owners []*apacheVhost
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
	serving := map[*apacheVhost]bool{}
	for i, m := range rootMatch(roots, docroot) {
		if m {
			serving[owners[i]] = true
		}
	}
	return serving
}

// siteTargets returns where the serving hosts send PHP: the main
// server's handlers, which virtual hosts inherit, and their own; none
// when no host serves the site.
func (a *apacheConf) siteTargets(serving map[*apacheVhost]bool) []fcgiTarget {
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
	apacheVar = regexp.MustCompile(`\$\{([^}]*)\}`)
	shellName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	shellRef  = regexp.MustCompile(`\$\{[A-Za-z_][A-Za-z0-9_]*\}|\$[A-Za-z_][A-Za-z0-9_]*`)
)

// load reads a config file; Include splices files in place.
func (a *apacheConf) load(file string, depth int) {
	if a.reads >= maxConfFiles || depth > maxIncludeDepth {
		return
	}
	a.reads++
	src, err := a.files.ReadFile(file)
	if err != nil {
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
		line = apacheVar.ReplaceAllStringFunc(line, func(m string) string {
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
				a.cur = &apacheVhost{}
				a.vhosts = append(a.vhosts, a.cur)
			}
			continue
		}
		words := apacheWords(line)
		if len(words) < 2 {
			continue
		}
		a.directive(words, file, lineNo, depth)
	}
}

func (a *apacheConf) host() *apacheVhost {
	if a.cur != nil {
		return a.cur
	}
	return &a.main
}

func (a *apacheConf) directive(words []string, file string, line, depth int) {
	arg := words[1]
	switch strings.ToLower(words[0]) {
	case "serverroot":
		if arg != "" { // Apache refuses an empty ServerRoot; the last good one stands
			a.serverRoot = resolve("/", arg)
		}
	case "define":
		v := ""
		if len(words) > 2 {
			v = words[2]
		}
		a.env[arg] = v
	case "include", "includeoptional":
		p := resolve(a.serverRoot, arg)
		names := []string{p}
		if hasMeta(p) {
			names = a.files.Glob(p)
		}
		for _, n := range names {
			a.include(n, depth+1)
		}
	case "errorlog":
		if arg == "" || strings.HasPrefix(arg, "|") || isSyslog(arg) {
			return
		}
		h := a.host()
		h.logs = append(h.logs, LogFile{Path: resolve(a.serverRoot, arg), Kind: LogApache,
			Source: fmt.Sprintf("ErrorLog in %s line %d (%s)", file, line, a.who)})
	case "documentroot":
		h := a.host()
		h.docroots = append(h.docroots, resolve(a.serverRoot, arg))
	case "timeout":
		a.host().timeout = &iniRef{key: "Timeout", value: arg, file: file, line: line}
	case "proxytimeout":
		a.host().proxyTimeout = &iniRef{key: "ProxyTimeout", value: arg, file: file, line: line}
	case "sethandler", "proxypass", "proxypassmatch", "addhandler":
		h := a.host()
		for _, w := range words[1:] {
			if t, ok := apacheFCGITarget(w); ok {
				h.targets = append(h.targets, t)
			}
		}
	}
}

// include reads a file, or every file in a folder and below it, as
// Include does.
func (a *apacheConf) include(name string, depth int) {
	if depth > maxIncludeDepth || a.reads >= maxConfFiles {
		return
	}
	if !a.files.IsDir(name) {
		a.load(name, depth)
		return
	}
	a.reads++
	for _, n := range a.files.Glob(path.Join(name, "*")) {
		a.include(n, depth+1)
	}
}

// apacheFCGITarget reads a proxy handler: "proxy:unix:/run/php.sock|fcgi://localhost"
// or "fcgi://127.0.0.1:9000/var/www/$1".
func apacheFCGITarget(w string) (fcgiTarget, bool) {
	if i := strings.Index(w, "unix:"); i >= 0 {
		p, _, _ := strings.Cut(w[i:], "|")
		return parseFCGITarget(p)
	}
	if i := strings.Index(w, "fcgi://"); i >= 0 {
		hp, _, _ := strings.Cut(w[i+len("fcgi://"):], "/")
		return parseFCGITarget(hp)
	}
	return "", false
}

// apacheWords splits a directive's line into words: spaces separate,
// "…" and '…' quote, a backslash escapes a quote inside.
func apacheWords(line string) []string {
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

// ---- php-fpm ----

// fpmCmd is what a php-fpm master's command line says.
type fpmCmd struct {
	bin, conf, phpIni, prefix string
	who                       string
}

var fpmTitle = regexp.MustCompile(`^php-fpm: master process \((.*)\)\s*$`)

// parseFPMCmd reads a php-fpm master's command line. php-fpm sets its
// title to "php-fpm: master process (CONFIG)", which drops -c and -p; a
// master that kept its arguments gives -y/--fpm-config, -c/--php-ini and
// -p/--prefix.
func parseFPMCmd(args []string) (c fpmCmd, ok bool) {
	if len(args) == 0 {
		return c, false
	}
	if m := fpmTitle.FindStringSubmatch(args[0]); m != nil {
		c.conf = m[1]
		return c, true
	}
	if strings.HasPrefix(args[0], "php-fpm:") || !strings.HasPrefix(path.Base(args[0]), "php-fpm") ||
		strings.Contains(args[0], " ") {
		return c, false
	}
	c.bin = args[0]
	for i := 1; i < len(args); i++ {
		name, val, hasVal := strings.Cut(args[i], "=")
		var dst *string
		switch name {
		case "-y", "--fpm-config":
			dst = &c.conf
		case "-c", "--php-ini":
			dst = &c.phpIni
		case "-p", "--prefix":
			dst = &c.prefix
		default:
			continue
		}
		if !hasVal && i+1 < len(args) {
			i++
			val = args[i]
		}
		*dst = val
	}
	if c.conf == "" {
		// PHP_SYSCONFDIR/php-fpm.conf: Debian's php-fpmX.Y reads /etc/php/X.Y/fpm.
		if v := strings.TrimPrefix(path.Base(c.bin), "php-fpm"); v != "" {
			c.conf = "/etc/php/" + v + "/fpm/php-fpm.conf"
		} else {
			c.conf = "/etc/php-fpm.conf"
		}
	}
	return c, true
}

// php-fpm's compiled-in folders (PHP_PREFIX, PHP_LOCALSTATEDIR) where no
// -p prefix is given, as Debian and Red Hat build it.
const (
	fpmPrefix   = "/usr"
	fpmStateDir = "/var"
)

// fpmPool is a pool of a php-fpm config.
type fpmPool struct {
	name, prefix, chroot, listen string
	slowlog                      *iniRef
	errorLogs                    []iniRef // php_admin_value[error_log], php_value[error_log]
	// limits holds the last setting of each of fpmLimitKeys, by key.
	limits map[string]iniRef
	// phpLimits are the php_value, php_flag, php_admin_value and
	// php_admin_flag lines for the names in LimitININames, in order.
	phpLimits []iniRef
}

// iniRef is a value and where it was set.
type iniRef struct {
	key, value, file string
	line             int
}

// fpmConf reads a php-fpm config with its includes.
type fpmConf struct {
	files    confFiles
	prefix   string // -p, or ""
	errorLog *iniRef
	pools    []*fpmPool
	cur      *fpmPool
	reads    int
}

// maxFPMIncludeDepth is php-fpm's own limit on includes within includes.
const maxFPMIncludeDepth = 5

func (c *fpmConf) load(file string, depth int) {
	if depth > maxFPMIncludeDepth || c.reads >= maxConfFiles {
		return
	}
	c.reads++
	src, err := c.files.ReadFile(file)
	if err != nil {
		return
	}
	lastSection := "\x00"
	for _, e := range parseINI(src) {
		if e.section != lastSection {
			lastSection = e.section
			c.section(e.section)
		}
		ref := iniRef{key: e.key, value: e.value, file: file, line: e.line}
		if c.cur != nil {
			ref.value = strings.ReplaceAll(ref.value, "$pool", c.cur.name)
		}
		switch key := strings.ToLower(e.key); {
		case e.key == "include":
			p := c.path(nil, ref.value, fpmPrefix)
			names := []string{p}
			if hasMeta(p) {
				names = c.files.Glob(p)
			}
			for _, n := range names {
				c.load(n, depth+1)
			}
		case c.cur == nil:
			if key == "error_log" && c.errorLog == nil {
				c.errorLog = &ref
			}
		case key == "prefix":
			c.cur.prefix = ref.value
		case key == "chroot":
			c.cur.chroot = ref.value
		case key == "listen":
			c.cur.listen = ref.value
		case key == "slowlog":
			c.cur.slowlog = &ref
		case e.key == "php_admin_value[error_log]" || e.key == "php_value[error_log]":
			c.cur.errorLogs = append(c.cur.errorLogs, ref)
		case slices.Contains(fpmLimitKeys, key):
			if c.cur.limits == nil {
				c.cur.limits = map[string]iniRef{}
			}
			ref.key = key
			c.cur.limits[key] = ref // php-fpm keeps the last
		case isPHPLimitDefine(e.key):
			c.cur.phpLimits = append(c.cur.phpLimits, ref)
		}
	}
}

// section switches to the global section or a pool ("" keeps the
// current one: a file included without a section header continues it).
func (c *fpmConf) section(name string) {
	switch {
	case name == "":
	case strings.EqualFold(name, "global"):
		c.cur = nil
	default:
		for _, p := range c.pools {
			if strings.EqualFold(p.name, name) {
				c.cur = p
				return
			}
		}
		c.cur = &fpmPool{name: name}
		c.pools = append(c.pools, c.cur)
	}
}

// path resolves a relative path as fpm_evaluate_full_path does: against
// the pool's prefix, else the -p prefix, else def.
func (c *fpmConf) path(p *fpmPool, v, def string) string {
	prefix := c.prefix
	if p != nil && p.prefix != "" {
		prefix = resolve(c.path(nil, "", fpmPrefix), p.prefix)
	}
	if prefix == "" {
		prefix = def
	}
	if v == "" {
		return prefix
	}
	return resolve(prefix, v)
}

// fpmLogs reads a php-fpm master's config, with its includes, and the
// php.ini it runs with, and says which logs they name and which serve
// docroot: those of the pools listening where the site's web server sends
// PHP (targets), and the master's own log, where the workers' crashes and
// output go. The php.ini is -c when the command line shows it, else the
// php.ini beside the config, then the *.ini of conf.d beside it (Debian's
// layout; php-fpm's title hides -c). php_value[error_log] and slowlog are
// relative to the pool's prefix, else the master's; php.ini's error_log
// to the script's folder, the docroot.
func fpmLogs(files confFiles, cmd fpmCmd, docroot string, targets []fcgiTarget) serverLogs {
	c := &fpmConf{files: files, prefix: cmd.prefix}
	c.load(cmd.conf, 0)
	var res serverLogs
	served, iniServes := false, false
	src := func(r iniRef, what string) string {
		return fmt.Sprintf("%s in %s line %d (%s)", what, r.file, r.line, cmd.who)
	}
	for _, p := range c.pools {
		serves := c.serves(p, targets)
		served = served || serves
		if serves && len(p.errorLogs) == 0 {
			iniServes = true
		}
		for _, r := range p.errorLogs {
			if isSyslog(r.value) {
				continue
			}
			v := c.path(p, r.value, fpmPrefix)
			if p.chroot != "" {
				v = path.Join(c.path(p, p.chroot, fpmPrefix), v)
			}
			res.logs = append(res.logs, LogFile{Path: v, Kind: LogPHP, ServesSite: serves,
				Source: src(r, r.key+" of pool "+p.name)})
		}
		if r := p.slowlog; r != nil && r.value != "" {
			res.logs = append(res.logs, LogFile{Path: c.path(p, r.value, fpmPrefix), Kind: LogFPM, ServesSite: serves,
				Source: src(*r, "slowlog of pool "+p.name)})
		}
	}
	global := iniRef{value: "log/php-fpm.log"}
	what := "the built-in error_log of the " + cmd.who
	if c.errorLog != nil {
		global, what = *c.errorLog, ""
	}
	if !isSyslog(global.value) {
		l := LogFile{Path: c.path(nil, global.value, fpmStateDir), Kind: LogFPM, ServesSite: served, Source: what}
		if what == "" {
			l.Source = src(global, "error_log")
		}
		res.logs = append(res.logs, l)
	}
	if l, ok := phpINILog(files, fpmINIs(files, cmd), docroot); ok {
		l.ServesSite = iniServes
		l.Source += " (php.ini of the " + cmd.who + ")"
		res.logs = append(res.logs, l)
	}
	return res
}

// serves reports whether a pool listens where one of targets sends PHP.
func (c *fpmConf) serves(p *fpmPool, targets []fcgiTarget) bool {
	l, ok := parseFCGITarget(c.listenPath(p))
	if !ok {
		return false
	}
	for _, t := range targets {
		if t.reaches(l) {
			return true
		}
	}
	return false
}

// phpINILog returns the error_log in effect after reading the ini files in
// order (the last setting wins), relative to docroot, PHP's working
// directory for the site's scripts.
func phpINILog(files confFiles, inis []string, docroot string) (LogFile, bool) {
	r, ok := phpINISettings(files, inis, []string{"error_log"})["error_log"]
	if !ok {
		return LogFile{}, false
	}
	return LogFile{Path: resolve(docroot, r.value), Kind: LogPHP,
		Source: fmt.Sprintf("error_log in %s line %d", r.file, r.line)}, r.value != "" && !isSyslog(r.value)
}

// phpINISettings returns the setting in effect of each of keys after
// reading the ini files in order: the last one. [PATH=…] and [HOST=…]
// sections, which apply to some scripts only, are left out.
func phpINISettings(files confFiles, inis []string, keys []string) map[string]iniRef {
	out := map[string]iniRef{}
	for _, ini := range inis {
		b, err := files.ReadFile(ini)
		if err != nil {
			continue
		}
		for _, e := range parseINI(b) {
			u := strings.ToUpper(e.section)
			if !slices.Contains(keys, e.key) || strings.HasPrefix(u, "PATH=") || strings.HasPrefix(u, "HOST=") {
				continue
			}
			out[e.key] = iniRef{key: e.key, value: e.value, file: ini, line: e.line}
		}
	}
	return out
}

// listenPath is a pool's listen address, a relative socket resolved.
func (c *fpmConf) listenPath(p *fpmPool) string {
	l := p.listen
	if l == "" || strings.Contains(l, ":") || path.IsAbs(l) {
		return l
	}
	if _, err := strconv.Atoi(l); err == nil {
		return l // a port
	}
	return c.path(p, l, fpmPrefix)
}

// fpmINIs are the ini files a php-fpm master runs with, in the order PHP
// reads them.
func fpmINIs(files confFiles, cmd fpmCmd) []string {
	if cmd.phpIni != "" {
		ini := resolve("/", cmd.phpIni)
		if files.IsDir(ini) {
			ini = path.Join(ini, "php.ini")
		}
		return []string{ini}
	}
	dir := path.Dir(cmd.conf)
	return append([]string{path.Join(dir, "php.ini")}, files.Glob(path.Join(dir, "conf.d", "*.ini"))...)
}
