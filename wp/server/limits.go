package server

import (
	"sort"

	"github.com/wpfix/wpfix/wp/server/conf"
	"github.com/wpfix/wpfix/wp/server/fpm"
)

// FPMPool is a php-fpm pool and its limits (see fpm.Pool).
type FPMPool = fpm.Pool

// WebTimeout is how long a web server waits for PHP to answer a request
// (see conf.WebTimeout).
type WebTimeout = conf.WebTimeout

// PHPValues are PHP ini values by name (see conf.PHPValues).
type PHPValues = conf.PHPValues

// LimitININames are the php.ini settings Limits reports for each pool.
var LimitININames = fpm.LimitININames

// Limits is what the running servers' configs say about the limits a
// site's PHP requests run under.
type Limits struct {
	// Pools are the php-fpm pools of every running master, those serving
	// the site first.
	Pools []FPMPool `json:"pools"`
	// Web are the web servers' timeouts for PHP requests, one per value
	// and place it was set, those serving the site first.
	Web []WebTimeout `json:"web"`
}

// Limits reports the limits in effect for docroot. It decides as Logs
// does which server blocks, virtual hosts and pools serve the site; the
// others are listed too, with ServesSite false. A value a server would
// refuse is passed over (and is one of the stack's Warnings).
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
func (st *Stack) Limits(docroot string) *Limits {
	cfg := &Limits{Pools: []FPMPool{}, Web: []WebTimeout{}}
	var targets []conf.Target
	seen := map[WebTimeout]bool{}
	// web servers first, for they say where the site's PHP requests go
	for _, m := range st.masters {
		if m.web == nil {
			continue
		}
		web, to := m.web.Timeouts(docroot)
		targets = append(targets, to...)
		for _, w := range web {
			if !seen[w] {
				seen[w] = true
				cfg.Web = append(cfg.Web, w)
			}
		}
	}
	for _, m := range st.masters {
		if m.fpm != nil {
			cfg.Pools = append(cfg.Pools, m.fpm.Pools(targets)...)
		}
	}
	sort.SliceStable(cfg.Pools, func(i, j int) bool { return cfg.Pools[i].ServesSite && !cfg.Pools[j].ServesSite })
	sort.SliceStable(cfg.Web, func(i, j int) bool { return cfg.Web[i].ServesSite && !cfg.Web[j].ServesSite })
	return cfg
}
