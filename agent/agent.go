// Package agent makes wpfix's decisions: it opens a site (its host, its
// WordPress install, its database), probes it over HTTP, keeps the journal
// of every change (package agent/journal) and restores from it, bisects
// plugins, must-use plugins, drop-ins and the theme to find what breaks a
// site, judges its limits, diagnoses it (DNS, TLS, CDN, database, logs,
// limits → ranked causes), and builds the reports that cmd/wpfix prints. It
// reaches sites only through package wp and package remote; it never parses
// flags or prints.
package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/wpfix/wpfix/remote"
	"github.com/wpfix/wpfix/wp"
)

// ErrBadInput marks an error in what the user gave: a target that does not
// parse, a path that is not WordPress or holds several installs and is none
// of them, a wp-config.php value wpfix cannot
// evaluate and that was not given.
var ErrBadInput = errors.New("bad input")

// ErrUnreachable marks a failure to reach or open a site: its host, its
// WordPress files or its database.
var ErrUnreachable = errors.New("cannot reach the site")

// kindError gives an error a kind for errors.Is without changing its text.
type kindError struct {
	kind error
	err  error
}

func (e *kindError) Error() string        { return e.err.Error() }
func (e *kindError) Unwrap() error        { return e.err }
func (e *kindError) Is(target error) bool { return target == e.kind }

func badInput(err error) error    { return &kindError{ErrBadInput, err} }
func unreachable(err error) error { return &kindError{ErrUnreachable, err} }

// Options say how to reach and read a site.
type Options struct {
	Remote remote.Options
	Site   wp.Options
	// DBOptional opens the site even when its database cannot be opened:
	// Site.DB is then nil and Site.DBErr says why (wpfix diagnose reports
	// a database that is down rather than stopping at it).
	DBOptional bool
	// AsRoot makes the changes to a site that belongs to another user as
	// root, when wpfix runs as root; by default they are made as the
	// site's owner (see actAsOwner).
	AsRoot bool
	// AllowForeignDirs opens a site whose content, plugin or themes
	// folders are not its own (see wp.Site.CheckLayout).
	AllowForeignDirs bool
}

// Site is an opened site: its host, its install and its database.
type Site struct {
	Target remote.Target
	Host   remote.Host
	WP     *wp.Site
	DB     *wp.DB
	// DBErr is why DB is nil, with Options.DBOptional.
	DBErr error
	// net is the multisite network the site belongs to, once read; nil on
	// a single site.
	net *network
	// shared says the connection is the caller's (OpenOn): Close leaves it.
	shared bool
	// Log receives warnings and notable findings the reports do not carry
	// (a host that cannot sync the journal, a server config that could not
	// be read); Open takes Options.Remote.Logger. nil is silence.
	Log *slog.Logger
}

// Open reaches target (a path, user@host:/path or ssh://…), finds the
// WordPress install there and opens its database.
func Open(ctx context.Context, target string, o Options) (*Site, error) {
	t, err := remote.ParseTarget(target)
	if err != nil {
		return nil, badInput(err)
	}
	h, err := remote.Open(ctx, t, o.Remote)
	if err != nil {
		return nil, unreachable(err)
	}
	return open(ctx, t, h, o, true)
}

// OpenOn opens the site at t on h, a connection the caller shares among
// sites and keeps: Close leaves it open. It is for reading (wpfix check):
// a site opened so makes no change as its owner (actAsOwner), so changes
// must go through Open.
func OpenOn(ctx context.Context, h remote.Host, t remote.Target, o Options) (*Site, error) {
	return open(ctx, t, h, o, false)
}

func open(ctx context.Context, t remote.Target, h remote.Host, o Options, own bool) (*Site, error) {
	s := &Site{Target: t, Host: h, Log: o.Remote.Logger, shared: !own}
	fail := func(err error) (*Site, error) {
		if own {
			s.Host.Close()
		}
		return nil, err
	}
	var err error
	if s.WP, err = wp.Find(ctx, h, t.Path, o.Site); err != nil {
		if errors.Is(err, wp.ErrNotWordPress) || errors.Is(err, wp.ErrSeveralInstalls) || errors.Is(err, wp.ErrUnresolved) {
			return fail(badInput(err))
		}
		return fail(unreachable(err))
	}
	if !o.AllowForeignDirs {
		if err := s.WP.CheckLayout(ctx); err != nil {
			if errors.Is(err, wp.ErrForeignDir) {
				return fail(badInput(err))
			}
			return fail(unreachable(err))
		}
	}
	if own {
		actAsOwner(ctx, s, o)
	}
	if s.DB, err = s.WP.OpenDB(ctx); err != nil {
		if o.DBOptional && !errors.Is(err, wp.ErrUnresolved) {
			s.DB, s.DBErr = nil, unreachable(err)
			return s, nil
		}
		if errors.Is(err, wp.ErrUnresolved) {
			return fail(badInput(err))
		}
		return fail(unreachable(err))
	}
	return s, nil
}

// logger returns s.Log, or one that discards.
func (s *Site) logger() *slog.Logger {
	if s.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Log
}

// Close closes the database and the connection to the host.
func (s *Site) Close() error {
	var err error
	if s.DB != nil {
		err = s.DB.Close()
	}
	if !s.shared {
		if cerr := s.Host.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return fmt.Errorf("close %s: %w", s.Target, err)
	}
	return nil
}
