package server

import (
	"path"

	"github.com/wpfix/wpfix/wp/server/apache"
	"github.com/wpfix/wpfix/wp/server/conf"
	"github.com/wpfix/wpfix/wp/server/fpm"
	"github.com/wpfix/wpfix/wp/server/nginx"
)

// The kinds of log, LogFile.Kind. The servers' are also the kinds of
// their masters (Stack.Running).
const (
	// LogWordPress is WordPress's debug.log (WP_DEBUG_LOG).
	LogWordPress = "wordpress"
	// LogPHP is PHP's own error_log: php.ini, a php-fpm pool's
	// php_value[error_log], a .user.ini.
	LogPHP = conf.KindPHP
	// LogFPM is php-fpm's log (with the workers' output) or a pool's slowlog.
	LogFPM = fpm.Kind
	// LogNginx is an nginx error_log.
	LogNginx = nginx.Kind
	// LogApache is an Apache ErrorLog.
	LogApache = apache.Kind
	// LogCPanel is an error_log file beside the scripts, where PHP writes
	// on cPanel hosts (error_log = error_log, relative to the script).
	LogCPanel = "cpanel"
)

// LogFile is a log that may hold the site's errors (see conf.LogFile).
type LogFile = conf.LogFile

// logList collects candidate logs, deduplicated by path.
type logList struct {
	found []LogFile
	seen  map[string]int // path → index in found
}

// add records a candidate. A path found again keeps its place and its
// first source, unless only the new finding says it serves the site: that
// one's source is the one that matters to people.
func (f *logList) add(l LogFile) {
	if l.Path == "" || !path.IsAbs(l.Path) {
		return
	}
	l.Path = path.Clean(l.Path)
	if f.seen == nil {
		f.seen = map[string]int{}
	}
	if i, ok := f.seen[l.Path]; ok {
		if l.ServesSite && !f.found[i].ServesSite {
			f.found[i].Kind, f.found[i].Source, f.found[i].ServesSite = l.Kind, l.Source, true
		}
		return
	}
	f.seen[l.Path] = len(f.found)
	f.found = append(f.found, l)
}

// Logs lists the logs the running servers' configs name, whether they
// exist or not, each path once, in the order the masters run: each nginx
// master's -e and the error_log directives of its config; each Apache
// master's ErrorLog directives, in virtual hosts and included files; each
// php-fpm master's error_log, its pools' php_admin_value[error_log],
// php_value[error_log] and slowlog, and the error_log in effect in the
// php.ini it runs with; with Apache running, the error_log of mod_php's
// /etc/php/*/apache2/php.ini.
//
// A web server serves docroot when a server block (nginx) or virtual host
// (Apache) has it as its root, or failing that the closest folder above
// it; a php-fpm pool serves it when it listens where such a block sends
// PHP (fastcgi_pass, SetHandler proxy:…). LogFile.ServesSite marks the
// logs of those; a path found twice keeps the source of the finding that
// says it serves the site.
func (st *Stack) Logs(docroot string) []LogFile {
	var f logList
	st.serverLogs(&f, docroot)
	return f.found
}

// serverLogs adds the servers' logs for docroot: web servers first, for
// they say where the site's PHP requests go, then php-fpm.
func (st *Stack) serverLogs(f *logList, docroot string) {
	var targets []conf.Target
	var php []LogFile
	for _, m := range st.masters {
		if m.web == nil {
			continue
		}
		res := m.web.Logs(docroot)
		for _, l := range res.Logs {
			f.add(l)
		}
		targets = append(targets, res.Targets...)
		php = append(php, res.PHPLogs...)
	}
	for _, m := range st.masters {
		if m.fpm != nil {
			for _, l := range m.fpm.Logs(docroot, targets).Logs {
				f.add(l)
			}
		}
	}
	// the logs of a PHP a web server runs itself: mod_php's
	for _, l := range php {
		f.add(l)
	}
}
