// Package server reads a host's web stack once — the running nginx,
// Apache and php-fpm masters and their configs — and answers, for any
// site on the host, what those configure for it: its logs (Logs, and with
// what sits beside the site, SiteLogs) and the limits its PHP requests run
// under (Limits), each value with the file and line that set it, plus what
// could not be read or would be refused, as warnings. ReadStack walks
// /proc once and reads each config file once, so a look at many sites of
// one host reads its servers once. The readers of each server kind are in
// nginx, apache and fpm below; what they share is in conf. It knows no
// probe and no verdict, and takes of a WordPress site only its folders.
package server

import (
	"context"
	"fmt"
	"strings"

	"github.com/wpfix/wpfix/remote"
	"github.com/wpfix/wpfix/remote/sysinfo"
	"github.com/wpfix/wpfix/wp/server/apache"
	"github.com/wpfix/wpfix/wp/server/conf"
	"github.com/wpfix/wpfix/wp/server/fpm"
	"github.com/wpfix/wpfix/wp/server/nginx"
)

// Setting is a config value and where it was set (see conf.Setting).
type Setting = conf.Setting

// Warning is a problem met while reading a server's config that did not
// stop the reading (see conf.Warning).
type Warning = conf.Warning

// Stack is what a host's running servers configure, read once by
// ReadStack. Its views (Logs, Limits, SiteLogs) may be asked for any
// docroot on the host, as often as needed, without reading it again.
type Stack struct {
	host    remote.Host
	masters []master
	running map[string]bool
	// Warnings are what could not be read, and the values a server would
	// refuse, over every master, in the order read.
	Warnings []Warning
}

// master is a running master and its config as read: a web server's or
// php-fpm's.
type master struct {
	kind string      // nginx.Kind, apache.Kind or fpm.Kind
	web  webServer   // nginx or Apache; nil for php-fpm
	fpm  *fpm.Config // php-fpm; nil for a web server
}

// webServer is what the stack asks of a web server's config, whatever its
// kind: the logs it names for a docroot and where it sends the docroot's
// PHP, and how long it waits for PHP. A new kind of web server is one
// reader that implements it, and one case in mastersOf and read.
type webServer interface {
	Logs(docroot string) conf.Result
	Timeouts(docroot string) ([]WebTimeout, []conf.Target)
}

var (
	_ webServer = (*nginx.Config)(nil)
	_ webServer = (*apache.Config)(nil)
)

// ReadStack finds the masters of the servers running on a Linux host (it
// reads /proc/*/cmdline, and the environment of an Apache master when it
// may) and reads each one's config, with its includes, and the ini files
// PHP runs with, through h. It reads the configs on disk, which a server
// may have been started before. What cannot be read is a warning, never
// fatal: the only error is the context's.
func ReadStack(ctx context.Context, h remote.Host) (*Stack, error) {
	procs, err := sysinfo.Processes(ctx, h)
	env := func(pid int) map[string]string { return sysinfo.Environ(ctx, h, pid) }
	st := readStack(conf.NewFiles(remote.FS(ctx, h)), procs, err, env)
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("read the web servers of %s: %w", h.Name(), err)
	}
	st.host = h
	return st, nil
}

// readStack reads the configs of the masters among procs through files;
// listErr says why the processes could not be listed.
func readStack(files *conf.Files, procs []sysinfo.Process, listErr error, env func(pid int) map[string]string) *Stack {
	st := &Stack{running: map[string]bool{}}
	if listErr != nil {
		st.Warnings = append(st.Warnings, Warning{File: "/proc", Directive: "",
			Message: "the running servers are unknown: " + conf.Reason(listErr)})
	}
	st.read(files, mastersOf(procs, env))
	return st
}

// read reads the configs of the masters cmds.
func (st *Stack) read(files *conf.Files, cmds []command) {
	for _, m := range cmds {
		st.running[m.kind] = true
		switch {
		case m.nginx != nil:
			c := nginx.Read(files, *m.nginx)
			st.masters = append(st.masters, master{kind: m.kind, web: c})
			st.Warnings = append(st.Warnings, c.Warnings...)
		case m.apache != nil:
			c := apache.Read(files, *m.apache)
			st.masters = append(st.masters, master{kind: m.kind, web: c})
			st.Warnings = append(st.Warnings, c.Warnings...)
		case m.fpm != nil:
			c := fpm.Read(files, *m.fpm)
			st.masters = append(st.masters, master{kind: m.kind, fpm: c})
			st.Warnings = append(st.Warnings, c.Warnings...)
		}
	}
}

// Running reports whether a master of a server kind (LogNginx, LogApache,
// LogFPM) runs on the host.
func (st *Stack) Running(kind string) bool { return st.running[kind] }

// command is a master's command line as read, with who it is.
type command struct {
	kind   string
	nginx  *nginx.Cmd
	apache *apache.Cmd
	fpm    *fpm.Cmd
}

// mastersOf picks the masters out of a process list, in pid order, each
// with its Who ("nginx master, pid 812") and, for Apache, its environment
// as env returns it. An Apache child, with its master's command line, is
// left out.
func mastersOf(procs []sysinfo.Process, env func(pid int) map[string]string) []command {
	var out []command
	seenApache := map[string]bool{}
	for _, p := range procs {
		if c, ok := nginx.ParseCmd(p.Args); ok {
			c.Who = fmt.Sprintf("nginx master, pid %d", p.PID)
			out = append(out, command{kind: nginx.Kind, nginx: &c})
			continue
		}
		if c, ok := apache.ParseCmd(p.Args); ok {
			key := strings.Join(p.Args, "\x00")
			if seenApache[key] {
				continue // a child of a master already listed: same command line
			}
			seenApache[key] = true
			c.Who = fmt.Sprintf("%s master, pid %d", c.Name(), p.PID)
			c.Env = env(p.PID)
			out = append(out, command{kind: apache.Kind, apache: &c})
			continue
		}
		if c, ok := fpm.ParseCmd(p.Args); ok {
			c.Who = fmt.Sprintf("php-fpm master, pid %d", p.PID)
			out = append(out, command{kind: fpm.Kind, fpm: &c})
		}
	}
	return out
}
