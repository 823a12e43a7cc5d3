package wp

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ServerConfig is what the running servers' configs say about the limits
// a site's PHP requests run under.
type ServerConfig struct {
	// Pools are the php-fpm pools of every running master, those serving
	// the site first.
	Pools []FPMPool `json:"pools"`
	// Web are the web servers' timeouts for PHP requests, one per value
	// and place it was set, those serving the site first.
	Web []WebTimeout `json:"web"`
}

// Setting is a config value and where it was set.
type Setting struct {
	Value string `json:"value"`
	// Source is "FILE line N"; "" when the value is the server's
	// built-in default, or unset.
	Source string `json:"source,omitempty"`
}

// FPMPool is a php-fpm pool and its limits.
type FPMPool struct {
	Name string `json:"name"`
	// Master says which master runs it: "php-fpm master, pid 812".
	Master string `json:"master"`
	// Config is the master's main config file.
	Config string `json:"config"`
	// Listen is the pool's listen address, a relative socket resolved.
	Listen string `json:"listen"`
	// ServesSite is true when the pool listens where a web server serving
	// the site's docroot sends PHP.
	ServesSite bool `json:"serves_site"`
	// PM is the process manager: static, dynamic or ondemand ("" when the
	// pool sets none, which php-fpm refuses).
	PM Setting `json:"pm"`
	// MaxChildren is pm.max_children: how many requests the pool runs at
	// once (0: unset or invalid).
	MaxChildren int `json:"max_children"`
	// MaxRequests is pm.max_requests, after which a worker is replaced
	// (0: never recycled).
	MaxRequests int `json:"max_requests"`
	// RequestTerminateTimeout is the wall time after which php-fpm kills
	// a worker still on a request (0: off).
	RequestTerminateTimeout time.Duration `json:"request_terminate_timeout_ns"`
	// Sources says where each of pm, pm.max_children, pm.max_requests and
	// request_terminate_timeout was set, for those the pool sets:
	// "pm.max_children" → "/etc/php/8.2/fpm/pool.d/www.conf line 113".
	Sources map[string]string `json:"sources,omitempty"`
	// Invalid holds the settings of those keys whose value php-fpm would
	// refuse, as written: their field above is left zero.
	Invalid map[string]Setting `json:"invalid,omitempty"`
	// PHP holds the ini values this pool's workers start with for the
	// names in LimitININames: PHP's built-in default, overridden by the
	// php.ini beside the master's config and the conf.d/*.ini beside it
	// (-c instead, when the command line shows it), overridden by the
	// pool's php_value[…], php_flag[…], php_admin_value[…] and
	// php_admin_flag[…].
	PHP map[string]PHPSetting `json:"php,omitempty"`
}

// PHPSetting is a PHP ini value, where it was set, and whether a script
// may change it.
type PHPSetting struct {
	Value string `json:"value"`
	// Admin is true when set by php_admin_value or php_admin_flag: a
	// script's ini_set cannot change it.
	Admin bool `json:"admin,omitempty"`
	// Source is "FILE line N", "" for PHP's built-in default.
	Source string `json:"source"`
}

// LimitININames are the php.ini settings ServerLimits reports.
var LimitININames = []string{"memory_limit", "max_execution_time", "max_input_time", "post_max_size", "upload_max_filesize", "max_input_vars"}

// phpDefaults are PHP's built-in values of the LimitININames, as the FPM
// SAPI runs with them when no ini file sets them.
var phpDefaults = map[string]string{
	"memory_limit":        "128M",
	"max_execution_time":  "30",
	"max_input_time":      "-1",
	"post_max_size":       "8M",
	"upload_max_filesize": "2M",
	"max_input_vars":      "1000",
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

// defaultWebTimeout is nginx's fastcgi_read_timeout and Apache's Timeout
// when not set.
const defaultWebTimeout = 60 * time.Second

// ServerLimits reads the configs of the running web servers and php-fpm
// masters and reports the limits in effect for the site's docroot. It
// finds the masters as FindLogs does (Linux only: /proc/*/cmdline), and
// decides as FindLogs does which server blocks, virtual hosts and pools
// serve the site; the others are listed too, with ServesSite false. It
// reads the configs on disk, which a server may have been started before.
// An unreadable config or a value a server would refuse is skipped, never
// fatal: the only error is the context's.
//
// nginx: the fastcgi_read_timeout in effect at each fastcgi_pass, as http,
// server and location blocks pass it down. Apache: for each virtual host,
// ProxyTimeout when PHP goes to FastCGI (SetHandler proxy:…, ProxyPass
// fcgi://…), else Timeout; <Proxy> sections' ProxySet timeout= and
// ProxyPass's own timeout= are not read. php-fpm: pm, pm.max_children,
// pm.max_requests and request_terminate_timeout of each pool, and the PHP
// values of LimitININames its workers start with. A request's own
// fastcgi_param PHP_VALUE, a .user.ini and ini_set can change those that
// are not Admin.
func ServerLimits(ctx context.Context, s *Site) (*ServerConfig, error) {
	masters, _ := runningMasters(ctx, s.Host)
	cfg := serverLimits(hostFiles{ctx: ctx, h: s.Host}, masters, s.Root)
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("read the server limits for %s: %w", s.Root, err)
	}
	return cfg, nil
}

// serverLimits reads the masters' configs: web servers first, for they
// say where the site's PHP requests go, then php-fpm.
func serverLimits(files confFiles, masters []serverMaster, docroot string) *ServerConfig {
	cfg := &ServerConfig{Pools: []FPMPool{}, Web: []WebTimeout{}}
	var targets []fcgiTarget
	var fpms []fpmCmd
	seen := map[WebTimeout]bool{}
	for _, m := range masters {
		var web []WebTimeout
		var to []fcgiTarget
		switch m.kind {
		case LogNginx:
			web, to = nginxTimeouts(files, m.nginx, docroot)
		case LogApache:
			web, to = apacheTimeouts(files, m.apache, docroot)
		case LogFPM:
			fpms = append(fpms, m.fpm)
		}
		targets = append(targets, to...)
		for _, w := range web {
			if !seen[w] {
				seen[w] = true
				cfg.Web = append(cfg.Web, w)
			}
		}
	}
	for _, c := range fpms {
		cfg.Pools = append(cfg.Pools, fpmPools(files, c, targets)...)
	}
	sort.SliceStable(cfg.Pools, func(i, j int) bool { return cfg.Pools[i].ServesSite && !cfg.Pools[j].ServesSite })
	sort.SliceStable(cfg.Web, func(i, j int) bool { return cfg.Web[i].ServesSite && !cfg.Web[j].ServesSite })
	return cfg
}

// ---- nginx ----

// nginxTimeouts returns the fastcgi_read_timeout in effect at each
// fastcgi_pass of an nginx master's server blocks, and where the server
// blocks serving docroot send PHP.
func nginxTimeouts(files confFiles, c nginxCmd, docroot string) ([]WebTimeout, []fcgiTarget) {
	n := readNginx(files, c)
	serving := n.serving(docroot)
	var out []WebTimeout
	var targets []fcgiTarget
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
func (n *nginxConf) readTimeouts(s *nginxServer) []WebTimeout {
	top := WebTimeout{Server: "nginx", Master: n.c.who, Directive: "fastcgi_read_timeout", Value: defaultWebTimeout}
	top = nginxTimeoutIn(n.httpBlock, top)
	var out []WebTimeout
	var visit func(block []nginxDirective, in WebTimeout)
	visit = func(block []nginxDirective, in WebTimeout) {
		in = nginxTimeoutIn(block, in)
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

// nginxTimeoutIn returns the fastcgi_read_timeout a block sets (its first
// valid one: nginx refuses a second), or inherited when it sets none.
func nginxTimeoutIn(block []nginxDirective, inherited WebTimeout) WebTimeout {
	for _, d := range block {
		if d.name != "fastcgi_read_timeout" || len(d.args) != 1 {
			continue
		}
		if v, err := ParseNginxDuration(d.args[0]); err == nil {
			inherited.Value, inherited.Source = v, fmt.Sprintf("%s line %d", d.file, d.line)
			return inherited
		}
	}
	return inherited
}

// ParseNginxDuration parses nginx time values: "60", "60s", "500ms",
// "1m30s", "1h 30m", units ms s m h d w M (30 days) y (365 days) as nginx
// documents them, largest first, a number without a unit in seconds.
// nginx itself refuses M and y in millisecond settings such as
// fastcgi_read_timeout; ParseNginxDuration takes them.
func ParseNginxDuration(v string) (time.Duration, error) {
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

// ---- Apache ----

// apacheTimeouts returns, for each host of an Apache master's config (the
// main server and the virtual hosts), the timeout its PHP requests run
// under, and where the hosts serving docroot send PHP.
func apacheTimeouts(files confFiles, c apacheCmd, docroot string) ([]WebTimeout, []fcgiTarget) {
	a := readApache(files, c)
	serving := a.serving(docroot)
	setting := func(r *iniRef, def WebTimeout) WebTimeout {
		if r == nil {
			return def
		}
		v, err := parseApacheDuration(r.value)
		if err != nil {
			return def // Apache refuses it: the config changed since it started
		}
		def.Value, def.Source = v, r.where()
		return def
	}
	mainTimeout := setting(a.main.timeout, WebTimeout{Server: "apache", Master: a.who, Directive: "Timeout", Value: defaultWebTimeout})
	var out []WebTimeout
	for _, h := range append([]*apacheVhost{&a.main}, a.vhosts...) {
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

// parseApacheDuration parses Apache's time values as
// ap_timeout_parameter_parse does: a number of seconds, or with the unit
// s, ms, mi (minutes) or h.
func parseApacheDuration(v string) (time.Duration, error) {
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

// ---- php-fpm ----

// fpmLimitKeys are the pool settings fpmPools reports.
var fpmLimitKeys = []string{"pm", "pm.max_children", "pm.max_requests", "request_terminate_timeout"}

// fpmStyles are the values of pm.
var fpmStyles = []string{"static", "dynamic", "ondemand"}

// isPHPLimitDefine reports whether a pool's key sets one of the
// LimitININames: "php_admin_value[memory_limit]".
func isPHPLimitDefine(key string) bool {
	kind, name, ok := strings.Cut(key, "[")
	if !ok {
		return false
	}
	switch strings.ToLower(kind) {
	case "php_value", "php_flag", "php_admin_value", "php_admin_flag":
		return slices.Contains(LimitININames, strings.TrimSuffix(name, "]"))
	}
	return false
}

// where says where a value was set, for Sources: "FILE line N".
func (r iniRef) where() string {
	return fmt.Sprintf("%s line %d", r.file, r.line)
}

// fpmPools reads a php-fpm master's config, with its includes, and the
// ini files it runs with, and returns its pools with their limits; a pool
// serves the site when it listens where one of targets sends PHP.
func fpmPools(files confFiles, cmd fpmCmd, targets []fcgiTarget) []FPMPool {
	c := &fpmConf{files: files, prefix: cmd.prefix}
	c.load(cmd.conf, 0)
	if len(c.pools) == 0 {
		return nil
	}
	ini := phpINISettings(files, fpmINIs(files, cmd), LimitININames)
	out := make([]FPMPool, 0, len(c.pools))
	for _, p := range c.pools {
		fp := FPMPool{Name: p.name, Master: cmd.who, Config: cmd.conf, Listen: c.listenPath(p),
			ServesSite: c.serves(p, targets)}
		for key, r := range p.limits {
			if fp.Sources == nil {
				fp.Sources = map[string]string{}
			}
			fp.Sources[key] = r.where()
			valid := true
			switch key {
			case "pm":
				fp.PM = Setting{Value: r.value, Source: r.where()}
				valid = slices.Contains(fpmStyles, strings.ToLower(r.value))
			case "pm.max_children":
				fp.MaxChildren, valid = fpmCount(r.value)
			case "pm.max_requests":
				fp.MaxRequests, valid = fpmCount(r.value)
			case "request_terminate_timeout":
				d, err := ParseFPMDuration(r.value)
				fp.RequestTerminateTimeout, valid = d, err == nil
			}
			if !valid {
				if fp.Invalid == nil {
					fp.Invalid = map[string]Setting{}
				}
				fp.Invalid[key] = Setting{Value: r.value, Source: r.where()}
			}
		}
		fp.PHP = poolPHP(ini, p.phpLimits)
		out = append(out, fp)
	}
	return out
}

// fpmCount parses a pool's count; ok is false for what is no count.
func fpmCount(v string) (int, bool) {
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > math.MaxInt32 || strings.HasPrefix(v, "+") {
		return 0, false
	}
	return n, true
}

// poolPHP returns the values of LimitININames a pool's workers start with:
// the ini files' (or PHP's defaults) overridden by the pool's defines.
// php-fpm applies php_admin_value after php_value, and of several lines
// for one name in either it keeps the first (it prepends each to a list).
func poolPHP(ini map[string]iniRef, defines []iniRef) map[string]PHPSetting {
	out := make(map[string]PHPSetting, len(LimitININames))
	for _, name := range LimitININames {
		s := PHPSetting{Value: phpDefaults[name]}
		if r, ok := ini[name]; ok {
			s = PHPSetting{Value: r.value, Source: r.where()}
		}
		out[name] = s
	}
	user, admin := map[string]bool{}, map[string]bool{}
	for _, r := range defines {
		kind, name, _ := strings.Cut(r.key, "[")
		name = strings.TrimSuffix(name, "]")
		kind = strings.ToLower(kind)
		isAdmin := strings.HasPrefix(kind, "php_admin_")
		switch {
		case admin[name]:
			continue
		case isAdmin:
			admin[name] = true
		case user[name]:
			continue
		default:
			user[name] = true
		}
		v := r.value
		if strings.HasSuffix(kind, "_flag") {
			v = fpmFlag(v)
		}
		out[name] = PHPSetting{Value: v, Admin: isAdmin, Source: r.where()}
	}
	return out
}

// fpmFlag is the value php-fpm gives PHP for a php_flag: "1" or "0" for
// the words PHP's ini parser reads as booleans, else the value as written
// (which php-fpm refuses).
func fpmFlag(v string) string {
	switch strings.ToLower(v) {
	case "1", "on", "yes", "true":
		return "1"
	case "", "0", "off", "no", "false", "none":
		return "0"
	}
	return v
}

// ParseFPMDuration parses php-fpm's time values: a number of seconds, or
// with suffix s, m, h, d ("30s", "5m"; "0" = off).
func ParseFPMDuration(v string) (time.Duration, error) {
	if v == "" {
		return 0, fmt.Errorf("parse php-fpm time %q: %w", v, strconv.ErrSyntax)
	}
	num, unit := v, time.Second
	switch v[len(v)-1] {
	case 's':
		num = v[:len(v)-1]
	case 'm':
		num, unit = v[:len(v)-1], time.Minute
	case 'h':
		num, unit = v[:len(v)-1], time.Hour
	case 'd':
		num, unit = v[:len(v)-1], 24*time.Hour
	}
	if num == "" || strings.Trim(num, "0123456789") != "" {
		return 0, fmt.Errorf("parse php-fpm time %q: %w", v, strconv.ErrSyntax)
	}
	n, err := strconv.ParseInt(num, 10, 64)
	// php-fpm keeps seconds in a C int
	if err != nil || n > math.MaxInt32/int64(unit/time.Second) {
		return 0, fmt.Errorf("parse php-fpm time %q: %w", v, strconv.ErrRange)
	}
	return time.Duration(n) * unit, nil
}
