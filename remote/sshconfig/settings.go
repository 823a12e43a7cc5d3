package sshconfig

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// maxIncludeDepth is OpenSSH's limit on nested Include directives.
const maxIncludeDepth = 16

// Host names the host whose settings are read, and the local facts that
// Match lines and paths refer to.
type Host struct {
	// Alias is the host as the user named it: what Host lines and Match
	// originalhost test, and what %h stands for in HostName.
	Alias string
	// LocalUser is the user running the program: Match localuser, and
	// Match user while no User is given.
	LocalUser string
	// Home is the home directory, for ~, ~/.ssh/config and Include paths
	// relative to ~/.ssh; "" when unknown.
	Home string
	// Logger hears of Match criteria that are not evaluated; nil discards.
	Logger *slog.Logger
}

// Settings are the values obtained for one host, keyword by keyword, the
// first obtained winning as in OpenSSH: a value given with Set before the
// files are read beats them, and a keyword nobody gave stays unset.
type Settings struct {
	host      Host
	vals      map[string][]string // lower-case keyword → arguments
	final     bool                // the second reading
	wantFinal bool
	log       *slog.Logger

	// readFile and glob reach the files; a test swaps them for a map.
	readFile func(name string) ([]byte, error)
	glob     func(pattern string) ([]string, error)
	stat     func(name string) (fs.FileInfo, error)
}

// New starts the settings of h, with nothing obtained yet.
func New(h Host) *Settings {
	s := &Settings{host: h, vals: map[string][]string{}, log: h.Logger,
		readFile: os.ReadFile, glob: filepath.Glob, stat: os.Stat}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s
}

// Set records a keyword's arguments unless it already has some, as a line
// of the config would: call it for what the command line says, before
// ReadFile, so the files cannot override it. IdentityFile adds its first
// argument to those before; ProxyJump and ProxyCommand exclude each other,
// the first given winning. The keyword is matched without regard to case.
func (s *Settings) Set(key string, args ...string) {
	if len(args) == 0 {
		return
	}
	key = strings.ToLower(key)
	switch key {
	case "identityfile":
		s.vals[key] = append(s.vals[key], args[0])
		return
	case "proxyjump", "proxycommand":
		// Either one excludes the other: the first given wins.
		if s.vals["proxyjump"] != nil || s.vals["proxycommand"] != nil {
			return
		}
	}
	if _, ok := s.vals[key]; !ok {
		s.vals[key] = args
	}
}

// Get returns the first argument obtained for key, or "" when none was.
func (s *Settings) Get(key string) string {
	if v := s.vals[strings.ToLower(key)]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// Values returns every argument obtained for key (every IdentityFile, all
// the files of one UserKnownHostsFile), or nil when none was.
func (s *Settings) Values(key string) []string {
	return slices.Clone(s.vals[strings.ToLower(key)])
}

// ReadFile reads the config file name into s: "" for ~/.ssh/config, which
// may be missing (and is not read without a home directory), or "none"
// for none. A file named otherwise must exist. Like OpenSSH it reads the
// files a second time, for Match final and canonical, when a Match asks
// for it.
func (s *Settings) ReadFile(name string) error {
	switch {
	case strings.EqualFold(name, "none"):
		return nil
	case name == "":
		if s.host.Home == "" {
			return nil
		}
		name = filepath.Join(s.host.Home, ".ssh", "config")
		if _, err := s.stat(name); errors.Is(err, fs.ErrNotExist) {
			return nil
		}
	}
	for {
		active := true
		if err := s.file(name, &active, false, 0); err != nil {
			return err
		}
		if !s.wantFinal || s.final {
			return nil
		}
		s.final = true
	}
}

// file applies one config file. active says whether the lines read apply
// to the host; an Include reads its files with the same flag and puts it
// back after, and one inside a block that does not apply (neverMatch)
// applies nothing.
func (s *Settings) file(name string, active *bool, neverMatch bool, depth int) error {
	b, err := s.readFile(name)
	if err != nil {
		return fmt.Errorf("ssh_config: %w", err)
	}
	lines, perr := Parse(name, b)
	for _, l := range lines {
		if err := s.apply(l, active, neverMatch, depth); err != nil {
			return err
		}
	}
	return perr
}

// apply evaluates one line: a Host or Match line sets active, an Include
// reads its files, any other keyword is recorded when active.
func (s *Settings) apply(l Line, active *bool, neverMatch bool, depth int) error {
	where := fmt.Sprintf("%s:%d", l.File, l.Num)
	switch key := strings.ToLower(l.Key); key {
	case "host":
		*active = !neverMatch && matchPatterns(s.matchHost(), l.Args)
	case "match":
		ok, err := s.match(l.Args, where)
		if err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		*active = !neverMatch && ok
	case "include":
		if depth >= maxIncludeDepth {
			return fmt.Errorf("%s: Include nested more than %d deep", where, maxIncludeDepth)
		}
		for _, pattern := range l.Args {
			p, err := ExpandPath(pattern, "Include", s.host.Home, nil)
			if err != nil {
				return fmt.Errorf("%s: %w", where, err)
			}
			if !filepath.IsAbs(p) {
				p = filepath.Join(s.host.Home, ".ssh", p)
			}
			matches, err := s.glob(p)
			if err != nil {
				return fmt.Errorf("%s: Include %q: %w", where, pattern, err)
			}
			outer := *active
			for _, m := range matches {
				if err := s.file(m, active, neverMatch || !outer, depth+1); err != nil {
					return err
				}
				*active = outer
			}
		}
	default:
		if *active {
			s.Set(key, l.Args...)
		}
	}
	return nil
}

// matchHost is the name Host lines test: the alias, or on the final
// reading the HostName it leads to, as OpenSSH does.
func (s *Settings) matchHost() string {
	if !s.final {
		return s.host.Alias
	}
	return s.hostName()
}

// hostName is the HostName given so far, or the alias, in lower case.
func (s *Settings) hostName() string {
	if v := s.Get("hostname"); v != "" {
		if hn, err := ExpandTokens(v, "HostName", map[byte]string{'h': s.host.Alias}); err == nil {
			return strings.ToLower(hn)
		}
	}
	return strings.ToLower(s.host.Alias)
}

// match evaluates the criteria of a Match line; all must hold.
func (s *Settings) match(args []string, where string) (bool, error) {
	result := true
	for i := 0; i < len(args); i++ {
		crit := strings.ToLower(args[i])
		negate := strings.HasPrefix(crit, "!")
		crit = strings.TrimPrefix(crit, "!")
		var ok bool
		switch crit {
		case "all":
			ok = true
		case "canonical", "final":
			s.wantFinal = true
			ok = s.final
		case "host", "originalhost", "user", "localuser", "exec", "localnetwork", "tagged":
			if i+1 == len(args) {
				return false, fmt.Errorf("Match %s needs an argument", crit)
			}
			i++
			list := strings.Split(args[i], ",")
			switch crit {
			case "host":
				ok = matchPatterns(s.hostName(), lowerAll(list))
			case "originalhost":
				ok = matchPatterns(strings.ToLower(s.host.Alias), lowerAll(list))
			case "user":
				u := s.Get("user")
				if u == "" {
					u = s.host.LocalUser
				}
				ok = matchPatterns(u, list)
			case "localuser":
				ok = matchPatterns(s.host.LocalUser, list)
			default:
				// wpfix runs no commands from ssh_config.
				s.log.Info("ssh: ssh_config Match criterion not evaluated; it counts as false", "where", where, "criterion", crit)
			}
		default:
			return false, fmt.Errorf("unsupported Match criterion %q", args[i])
		}
		result = result && ok != negate
	}
	return result, nil
}
