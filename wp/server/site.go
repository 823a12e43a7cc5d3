package server

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"sync"

	"github.com/wpfix/wpfix/remote"
	"github.com/wpfix/wpfix/wp/server/conf"
)

// Site is what SiteLogs takes of a WordPress install: its folders, and
// the debug.log its wp-config.php sets.
type Site struct {
	// Root is the docroot, where the site's scripts run; ContentDir is
	// wp-content.
	Root, ContentDir string
	// DebugLog is the log WP_DEBUG_LOG sets, relative to Root when not
	// absolute; "" when WordPress logs nothing of its own.
	DebugLog string
	// ConfigFile is the wp-config.php that sets it, for the source.
	ConfigFile string
}

// SiteLogs lists the logs that may hold the site's errors: only files that
// exist, are regular and are readable, each path once, those known to
// serve the site first, then in the order of the list below. It looks, all
// through the stack's host:
//
//  1. at WordPress's debug.log, as wp-config.php sets it;
//  2. at the error_log of a .user.ini in the docroot, and at cPanel-style
//     error_log files in the docroot, wp-admin and wp-content;
//  3. at what the running servers' configs name (Logs);
//  4. at the error_log of the host's PHP CLI (php -r);
//  5. at the usual places of a server kind none of whose masters was seen
//     running: /var/log/nginx/error.log, /var/log/apache2/error.log,
//     /var/log/httpd/error_log, /var/log/php*-fpm.log, /var/log/php-fpm/*.log.
//
// The logs the site itself names (1 and 2) are input from whoever can
// write the site's files, and wpfix may run as root: a debug.log that is a
// symlink to /root/… must not be read. So, for every candidate whose path
// lies inside the docroot or wp-content, no component below that folder
// may be a symlink (each is looked at with Lstat); and a log the site
// names outside those folders (an absolute WP_DEBUG_LOG or error_log) is
// read only if it is a regular file, not a symlink, owned by the docroot's
// owner, who could read it anyway. wp-content counts as the site's only
// inside the docroot or owned by the docroot's owner: WP_CONTENT_DIR is
// the site's say too. A symlink is refused rather than
// followed: PHP needs none to write its log, and the path a link points to
// cannot be judged without a race. What is refused is skipped with a
// warning that says why; a log named with --log is the user's choice and
// is not checked. The servers' own configs are root's, not the site's:
// the logs they name outside the site's folders are read as they are.
//
// An unreadable source is skipped, never fatal: the only error is the
// context's. What could not be read and why (a .user.ini, a log that is
// there but not readable or not a regular file, the PHP CLI that could not
// be asked) is returned as warnings; a log that does not exist is none,
// for most candidates are guesses.
func (st *Stack) SiteLogs(ctx context.Context, site Site) ([]LogFile, []Warning, error) {
	return st.siteLogs(ctx, site, false)
}

// ServedLogs is SiteLogs narrowed to the logs known to serve the site
// (LogFile.ServesSite), or SiteLogs itself when none of those exists (a
// server whose config wpfix could not match to the site). Only the
// candidates it keeps are looked at: on a server with a hundred sites, the
// other sites' logs cost nothing.
func (st *Stack) ServedLogs(ctx context.Context, site Site) ([]LogFile, []Warning, error) {
	return st.siteLogs(ctx, site, true)
}

func (st *Stack) siteLogs(ctx context.Context, site Site, servedOnly bool) ([]LogFile, []Warning, error) {
	f := &siteLogs{ctx: ctx, st: st, site: site, files: conf.NewFiles(remote.FS(ctx, st.host)), named: map[string]bool{}}
	f.wordpress()
	f.docroot()
	st.serverLogs(&f.list, site.Root)
	f.phpCLI()
	f.usualPlaces()
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	logs := f.existing(func(l LogFile) bool { return l.ServesSite })
	if !servedOnly || len(logs) == 0 {
		logs = append(logs, f.existing(func(l LogFile) bool { return !l.ServesSite })...)
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	sort.SliceStable(f.warnings, func(i, j int) bool { return f.warnings[i].File < f.warnings[j].File })
	return logs, f.warnings, nil
}

// siteLogs collects one site's candidate logs.
type siteLogs struct {
	ctx   context.Context
	st    *Stack
	site  Site
	files *conf.Files
	list  logList
	// named are the paths the site names: its debug.log and error_log
	// files.
	named map[string]bool
	// dirs are the site's folders; owner owns the docroot (see siteDirs
	// and rootOwner).
	dirsOnce, ownerOnce sync.Once
	dirs                []string
	owner               int
	ownerOK             bool
	// warnings are what could not be read, by file.
	mu       sync.Mutex
	warnings []Warning
}

// warn records what could not be read of file, and why.
func (f *siteLogs) warn(file, message string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.warnings = append(f.warnings, Warning{File: file, Message: message + ": " + conf.Reason(err)})
}

func (f *siteLogs) wordpress() {
	p := f.site.DebugLog
	if p == "" {
		return
	}
	if !path.IsAbs(p) {
		p = path.Join(f.site.Root, p) // PHP's working directory: the docroot, for index.php
	}
	f.named[path.Clean(p)] = true
	f.list.add(LogFile{Path: p, Kind: LogWordPress, Source: "WP_DEBUG_LOG in " + f.site.ConfigFile, ServesSite: true})
}

// docroot looks at what sits beside the site's scripts: a .user.ini's
// error_log and cPanel's error_log files.
func (f *siteLogs) docroot() {
	inis, w := conf.ReadINI(f.files, []string{path.Join(f.site.Root, ".user.ini")})
	f.warnings = append(f.warnings, w...)
	if l, ok := conf.INILog(inis, f.site.Root); ok {
		l.ServesSite = true
		f.named[path.Clean(l.Path)] = true
		f.list.add(l)
	}
	for _, d := range []struct{ dir, what string }{
		{f.site.Root, "the docroot"}, {path.Join(f.site.Root, "wp-admin"), "wp-admin"}, {f.site.ContentDir, "wp-content"},
	} {
		f.named[path.Join(d.dir, "error_log")] = true
		f.list.add(LogFile{Path: path.Join(d.dir, "error_log"), Kind: LogCPanel, ServesSite: true,
			Source: "error_log file in " + d.what + " (PHP's log beside the script, as cPanel sets it)"})
	}
}

// phpCLI asks the host's PHP CLI for its error_log: not the web server's
// PHP, but often the same settings, and what wp-cron run from cron uses.
func (f *siteLogs) phpCLI() {
	out, err := f.st.host.Exec(f.ctx, []string{"php", "-r", `echo ini_get("error_log");`}, nil)
	if err != nil {
		if f.ctx.Err() == nil {
			f.warn("php", "the host's PHP CLI could not be asked for its error_log", err)
		}
		return
	}
	// the last line: a chatty shell start-up file may print before php
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	v := strings.TrimSpace(lines[len(lines)-1])
	if v == "" || conf.IsSyslog(v) {
		return
	}
	f.list.add(LogFile{Path: conf.Resolve(f.site.Root, v), Kind: LogPHP, Source: "error_log of the host's PHP CLI (php -r)"})
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
func (f *siteLogs) usualPlaces() {
	for _, u := range usualLogs {
		if f.st.Running(u.kind) {
			continue
		}
		for _, p := range f.files.Glob(u.pattern) {
			f.list.add(LogFile{Path: p, Kind: u.kind, Source: "usual place for " + u.kind})
		}
	}
}

// existing keeps the candidates chosen by which that are readable regular
// files, with their sizes, in the list's order.
func (f *siteLogs) existing(which func(LogFile) bool) []LogFile {
	var found []LogFile
	for _, l := range f.list.found {
		if which(l) {
			found = append(found, l)
		}
	}
	keep := make([]bool, len(found))
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	h := f.st.host
	for i := range found {
		l := &found[i]
		if strings.HasPrefix(l.Path, "/dev/") || strings.HasPrefix(l.Path, "/proc/") {
			continue // a terminal, a pipe, or wpfix's own descriptors
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			err := f.safe(l.Path)
			switch {
			case errors.Is(err, fs.ErrNotExist) || f.ctx.Err() != nil:
				return
			case err != nil:
				f.warn(l.Path, "the log ("+l.Source+") is not read", err)
				return
			}
			fi, err := h.Stat(f.ctx, l.Path)
			switch {
			case errors.Is(err, fs.ErrNotExist) || f.ctx.Err() != nil:
				return
			case err != nil:
				f.warn(l.Path, "the log ("+l.Source+") could not be looked at", err)
				return
			case !fi.Mode().IsRegular():
				f.warn(l.Path, "the log ("+l.Source+") is not read", fmt.Errorf("not a regular file (%v)", fi.Mode().Type()))
				return
			}
			if _, err := h.ReadHead(f.ctx, l.Path, 1); err != nil {
				if f.ctx.Err() == nil {
					f.warn(l.Path, "the log ("+l.Source+") could not be read", err)
				}
				return
			}
			l.Size = fi.Size()
			keep[i] = true
		}()
	}
	wg.Wait()
	var out []LogFile
	for i, l := range found {
		if keep[i] {
			out = append(out, l)
		}
	}
	return out
}

// safe says why the candidate log p may not be read, or nil (see
// SiteLogs): inside the docroot or wp-content no component below the
// folder may be a symlink; a log the site names elsewhere must be a
// regular file owned by the docroot's owner. A missing component gives
// fs.ErrNotExist, for the log is then simply not there.
func (f *siteLogs) safe(p string) error {
	h := f.st.host
	var base string
	for _, d := range f.siteDirs() {
		if strings.HasPrefix(p, d+"/") && len(d) > len(base) {
			base = d
		}
	}
	if base != "" {
		cur := base
		for _, c := range strings.Split(strings.TrimPrefix(p, base+"/"), "/") {
			cur = path.Join(cur, c)
			fi, err := h.Lstat(f.ctx, cur)
			if err != nil {
				return err
			}
			if fi.Mode()&fs.ModeSymlink != 0 {
				return fmt.Errorf("%s is a symlink inside the site's folders, which the site's user may point anywhere; "+
					"wpfix follows none (name the file it points to with --log if you trust it)", cur)
			}
		}
		return nil
	}
	if !f.named[p] {
		return nil
	}
	fi, err := h.Lstat(f.ctx, p)
	if err != nil {
		return err
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		return errors.New("the site names a symlink outside its folders, which wpfix does not follow " +
			"(name the file it points to with --log if you trust it)")
	}
	want, ok := f.rootOwner()
	got, _, ok2 := remote.Owner(fi)
	if !ok || !ok2 || got != want {
		return fmt.Errorf("the site names a file outside its folders that the docroot's owner (uid %d) does not own (uid %d), "+
			"which its user may not be able to read (name it with --log if you trust it)", want, got)
	}
	return nil
}

// siteDirs are the site's folders, cleaned: the docroot, and wp-content
// when it lies in the docroot or belongs to the docroot's owner — a
// WP_CONTENT_DIR in wp-config.php is the site's say, and must not make
// /root a folder of the site.
func (f *siteLogs) siteDirs() []string {
	f.dirsOnce.Do(func() {
		root := path.Clean(f.site.Root)
		f.dirs = []string{root}
		c := path.Clean(f.site.ContentDir)
		if f.site.ContentDir == "" || c == root {
			return
		}
		if strings.HasPrefix(c, root+"/") {
			f.dirs = append(f.dirs, c)
			return
		}
		want, ok := f.rootOwner()
		if fi, err := f.st.host.Lstat(f.ctx, c); err == nil && ok && fi.IsDir() {
			if got, _, ok := remote.Owner(fi); ok && got == want {
				f.dirs = append(f.dirs, c)
			}
		}
	})
	return f.dirs
}

// rootOwner is the uid that owns the docroot; ok is false when unknown.
func (f *siteLogs) rootOwner() (uid int, ok bool) {
	f.ownerOnce.Do(func() {
		f.owner = -1
		if fi, err := f.st.host.Lstat(f.ctx, f.site.Root); err == nil {
			f.owner, _, f.ownerOK = remote.Owner(fi)
		}
	})
	return f.owner, f.ownerOK
}
