package fpm

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wpfix/wpfix/wp/server/conf"
)

// Pool is a php-fpm pool and its limits.
type Pool struct {
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
	PM conf.Setting `json:"pm"`
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
	Invalid map[string]conf.Setting `json:"invalid,omitempty"`
	// PHP holds the ini values this pool's workers start with for the
	// names in LimitININames: PHP's built-in default, overridden by the
	// php.ini beside the master's config and the conf.d/*.ini beside it
	// (-c instead, when the command line shows it), overridden by the
	// pool's php_value[…], php_flag[…], php_admin_value[…] and
	// php_admin_flag[…].
	PHP conf.PHPValues `json:"php,omitempty"`
}

// LimitININames are the php.ini settings Pools reports.
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

// limitKeys are the pool settings pools reports.
var limitKeys = []string{"pm", "pm.max_children", "pm.max_requests", "request_terminate_timeout"}

// styles are the values of pm.
var styles = []string{"static", "dynamic", "ondemand"}

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

// validLimit reports whether php-fpm takes v for the pool setting key.
func validLimit(key, v string) bool {
	switch key {
	case "pm":
		return slices.Contains(styles, strings.ToLower(v))
	case "pm.max_children", "pm.max_requests":
		_, ok := count(v)
		return ok
	case "request_terminate_timeout":
		_, err := ParseDuration(v)
		return err == nil
	}
	return true
}

// Pools returns the config's pools with their limits, nil when it has
// none; a pool serves the site when it listens where one of targets sends
// PHP.
func (c *Config) Pools(targets []conf.Target) []Pool {
	if len(c.pools) == 0 {
		return nil
	}
	cmd := c.cmd
	ini := conf.INISettings(c.inis, LimitININames)
	out := make([]Pool, 0, len(c.pools))
	for _, p := range c.pools {
		fp := Pool{Name: p.name, Master: cmd.Who, Config: cmd.conf, Listen: c.listenPath(p),
			ServesSite: c.serves(p, targets)}
		for key, r := range p.limits {
			if fp.Sources == nil {
				fp.Sources = map[string]string{}
			}
			fp.Sources[key] = r.Source()
			switch key {
			case "pm":
				fp.PM = r
			case "pm.max_children":
				fp.MaxChildren, _ = count(r.Value)
			case "pm.max_requests":
				fp.MaxRequests, _ = count(r.Value)
			case "request_terminate_timeout":
				fp.RequestTerminateTimeout, _ = ParseDuration(r.Value)
			}
			if !validLimit(key, r.Value) {
				if fp.Invalid == nil {
					fp.Invalid = map[string]conf.Setting{}
				}
				fp.Invalid[key] = r
			}
		}
		fp.PHP = poolPHP(ini, p.phpLimits)
		out = append(out, fp)
	}
	return out
}

// count parses a pool's count; ok is false for what is no count.
func count(v string) (int, bool) {
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
func poolPHP(ini map[string]conf.Setting, defines []keyed) conf.PHPValues {
	out := make(conf.PHPValues, len(LimitININames))
	for _, name := range LimitININames {
		s := conf.Setting{Value: phpDefaults[name]}
		if r, ok := ini[name]; ok {
			s = r
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
		v := r.Setting
		if strings.HasSuffix(kind, "_flag") {
			v.Value = flag(v.Value)
		}
		v.Admin = isAdmin
		out[name] = v
	}
	return out
}

// flag is the value php-fpm gives PHP for a php_flag: "1" or "0" for
// the words PHP's ini parser reads as booleans, else the value as written
// (which php-fpm refuses).
func flag(v string) string {
	switch strings.ToLower(v) {
	case "1", "on", "yes", "true":
		return "1"
	case "", "0", "off", "no", "false", "none":
		return "0"
	}
	return v
}

// ParseDuration parses php-fpm's time values: a number of seconds, or
// with suffix s, m, h, d ("30s", "5m"; "0" = off).
func ParseDuration(v string) (time.Duration, error) {
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
