// Package fpm reads what a running php-fpm master configures: from its
// command line (ParseCmd), its config with its includes and the ini files
// it runs with (Read), the logs of its pools and its own, those of the
// pools listening where a site's web server sends PHP marked (Logs), and
// each pool's process manager limits and the PHP values its workers start
// with (Pools), each with file and line, plus what it could not read or
// would refuse as warnings. It knows no WordPress.
package fpm

import (
	"fmt"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/wpfix/wpfix/wp/php"
	"github.com/wpfix/wpfix/wp/server/conf"
)

// Kind is the kind of php-fpm's own log and slowlogs, and of its masters.
const Kind = "php-fpm"

// Cmd is what a php-fpm master's command line says.
type Cmd struct {
	bin, conf, phpIni, prefix string
	// Who says which master, for sources: "php-fpm master, pid 812".
	Who string
}

var title = regexp.MustCompile(`^php-fpm: master process \((.*)\)\s*$`)

// ParseCmd reads a php-fpm master's command line. php-fpm sets its
// title to "php-fpm: master process (CONFIG)", which drops -c and -p; a
// master that kept its arguments gives -y/--fpm-config, -c/--php-ini and
// -p/--prefix.
func ParseCmd(args []string) (c Cmd, ok bool) {
	if len(args) == 0 {
		return c, false
	}
	if m := title.FindStringSubmatch(args[0]); m != nil {
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

// pool is a pool of a php-fpm config.
type pool struct {
	name, prefix, chroot, listen string
	slowlog                      *conf.Setting
	errorLogs                    []keyed // php_admin_value[error_log], php_value[error_log]
	// limits holds the last setting of each of limitKeys, by key.
	limits map[string]conf.Setting
	// phpLimits are the php_value, php_flag, php_admin_value and
	// php_admin_flag lines for the names in LimitININames, in order.
	phpLimits []keyed
}

// keyed is a setting with the key it was set under, as written:
// "php_admin_value[memory_limit]".
type keyed struct {
	key string
	conf.Setting
}

// Config is what a php-fpm master's config, with its includes, and the
// ini files it runs with say, read once (Read) and asked about any
// docroot after.
type Config struct {
	files    *conf.Files
	cmd      Cmd
	prefix   string // -p, or ""
	errorLog *conf.Setting
	pools    []*pool
	cur      *pool
	reads    int
	inis     []conf.INIFile
	// Warnings are what could not be read, and the values php-fpm would
	// refuse, in the order met.
	Warnings []conf.Warning
}

// Read reads a php-fpm master's config, with its includes, and the ini
// files it runs with: -c when the command line shows it, else the php.ini
// beside the config, then the *.ini of conf.d beside it (Debian's layout;
// php-fpm's title hides -c).
func Read(files *conf.Files, cmd Cmd) *Config {
	c := &Config{files: files, cmd: cmd, prefix: cmd.prefix}
	c.load(cmd.conf, 0, nil)
	var w []conf.Warning
	c.inis, w = conf.ReadINI(files, iniFiles(files, cmd))
	c.Warnings = append(c.Warnings, w...)
	return c
}

// maxIncludeDepth is php-fpm's own limit on includes within includes.
const maxIncludeDepth = 5

// load reads a config file; from is the include line naming it, nil for
// the main config.
func (c *Config) load(file string, depth int, from *conf.Warning) {
	if depth > maxIncludeDepth || c.reads >= conf.MaxFiles {
		return
	}
	c.reads++
	src, err := c.files.ReadFile(file)
	if err != nil {
		w := conf.Warning{File: file, Message: "could not be read: " + conf.Reason(err)}
		if from != nil {
			w = *from
			w.Message = file + " could not be read: " + conf.Reason(err)
		}
		c.Warnings = append(c.Warnings, w)
		return
	}
	lastSection := "\x00"
	for _, e := range php.ParseINI(src) {
		if e.Section != lastSection {
			lastSection = e.Section
			c.section(e.Section)
		}
		ref := conf.Setting{Value: e.Value, File: file, Line: e.Line}
		if c.cur != nil {
			ref.Value = strings.ReplaceAll(ref.Value, "$pool", c.cur.name)
		}
		switch key := strings.ToLower(e.Key); {
		case e.Key == "include":
			from := &conf.Warning{File: file, Line: e.Line, Directive: e.Key}
			p := c.path(nil, ref.Value, fpmPrefix)
			names := []string{p}
			if conf.HasMeta(p) {
				names = c.files.Glob(p)
				if len(names) == 0 {
					w := *from
					w.Message = p + " matches no file"
					c.Warnings = append(c.Warnings, w)
				}
			}
			for _, n := range names {
				c.load(n, depth+1, from)
			}
		case c.cur == nil:
			if key == "error_log" && c.errorLog == nil {
				c.errorLog = &ref
			}
		case key == "prefix":
			c.cur.prefix = ref.Value
		case key == "chroot":
			c.cur.chroot = ref.Value
		case key == "listen":
			c.cur.listen = ref.Value
		case key == "slowlog":
			c.cur.slowlog = &ref
		case e.Key == "php_admin_value[error_log]" || e.Key == "php_value[error_log]":
			c.cur.errorLogs = append(c.cur.errorLogs, keyed{e.Key, ref})
		case slices.Contains(limitKeys, key):
			if c.cur.limits == nil {
				c.cur.limits = map[string]conf.Setting{}
			}
			c.cur.limits[key] = ref // php-fpm keeps the last
			if !validLimit(key, ref.Value) {
				c.Warnings = append(c.Warnings, conf.Warning{File: file, Line: e.Line, Directive: e.Key,
					Message: fmt.Sprintf("php-fpm refuses the value %q of pool %s", ref.Value, c.cur.name)})
			}
		case isPHPLimitDefine(e.Key):
			c.cur.phpLimits = append(c.cur.phpLimits, keyed{e.Key, ref})
		}
	}
}

// section switches to the global section or a pool ("" keeps the
// current one: a file included without a section header continues it).
func (c *Config) section(name string) {
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
		c.cur = &pool{name: name}
		c.pools = append(c.pools, c.cur)
	}
}

// path resolves a relative path as fpm_evaluate_full_path does: against
// the pool's prefix, else the -p prefix, else def.
func (c *Config) path(p *pool, v, def string) string {
	prefix := c.prefix
	if p != nil && p.prefix != "" {
		prefix = conf.Resolve(c.path(nil, "", fpmPrefix), p.prefix)
	}
	if prefix == "" {
		prefix = def
	}
	if v == "" {
		return prefix
	}
	return conf.Resolve(prefix, v)
}

// Result is what a php-fpm config says for one docroot: the logs it
// names, those serving the docroot marked.
type Result struct {
	Logs []conf.LogFile
}

// Logs says which logs the config and its ini files name and which serve
// docroot: those of the pools listening where the site's web server sends
// PHP (targets), and the master's own log, where the workers' crashes and
// output go. php_value[error_log] and slowlog are relative to the pool's
// prefix, else the master's; php.ini's error_log to the script's folder,
// the docroot.
func (c *Config) Logs(docroot string, targets []conf.Target) Result {
	cmd := c.cmd
	var res Result
	served, iniServes := false, false
	src := func(r conf.Setting, what string) string {
		return fmt.Sprintf("%s in %s line %d (%s)", what, r.File, r.Line, cmd.Who)
	}
	for _, p := range c.pools {
		serves := c.serves(p, targets)
		served = served || serves
		if serves && len(p.errorLogs) == 0 {
			iniServes = true
		}
		for _, r := range p.errorLogs {
			if conf.IsSyslog(r.Value) {
				continue
			}
			v := c.path(p, r.Value, fpmPrefix)
			if p.chroot != "" {
				v = path.Join(c.path(p, p.chroot, fpmPrefix), v)
			}
			res.Logs = append(res.Logs, conf.LogFile{Path: v, Kind: conf.KindPHP, ServesSite: serves,
				Source: src(r.Setting, r.key+" of pool "+p.name)})
		}
		if r := p.slowlog; r != nil && r.Value != "" {
			res.Logs = append(res.Logs, conf.LogFile{Path: c.path(p, r.Value, fpmPrefix), Kind: Kind, ServesSite: serves,
				Source: src(*r, "slowlog of pool "+p.name)})
		}
	}
	global := conf.Setting{Value: "log/php-fpm.log"}
	what := "the built-in error_log of the " + cmd.Who
	if c.errorLog != nil {
		global, what = *c.errorLog, ""
	}
	if !conf.IsSyslog(global.Value) {
		l := conf.LogFile{Path: c.path(nil, global.Value, fpmStateDir), Kind: Kind, ServesSite: served, Source: what}
		if what == "" {
			l.Source = src(global, "error_log")
		}
		res.Logs = append(res.Logs, l)
	}
	if l, ok := conf.INILog(c.inis, docroot); ok {
		l.ServesSite = iniServes
		l.Source += " (php.ini of the " + cmd.Who + ")"
		res.Logs = append(res.Logs, l)
	}
	return res
}

// serves reports whether a pool listens where one of targets sends PHP.
func (c *Config) serves(p *pool, targets []conf.Target) bool {
	l, ok := conf.ParseTarget(c.listenPath(p))
	if !ok {
		return false
	}
	for _, t := range targets {
		if t.Reaches(l) {
			return true
		}
	}
	return false
}

// listenPath is a pool's listen address, a relative socket resolved.
func (c *Config) listenPath(p *pool) string {
	l := p.listen
	if l == "" || strings.Contains(l, ":") || path.IsAbs(l) {
		return l
	}
	if _, err := strconv.Atoi(l); err == nil {
		return l // a port
	}
	return c.path(p, l, fpmPrefix)
}

// iniFiles are the ini files a php-fpm master runs with, in the order PHP
// reads them.
func iniFiles(files *conf.Files, cmd Cmd) []string {
	if cmd.phpIni != "" {
		ini := conf.Resolve("/", cmd.phpIni)
		if files.IsDir(ini) {
			ini = path.Join(ini, "php.ini")
		}
		return []string{ini}
	}
	dir := path.Dir(cmd.conf)
	return append([]string{path.Join(dir, "php.ini")}, files.Glob(path.Join(dir, "conf.d", "*.ini"))...)
}
