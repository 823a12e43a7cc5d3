package agent

import (
	"context"
	"errors"

	"github.com/wpfix/wpfix/agent/journal"
	"github.com/wpfix/wpfix/remote"
)

// ErrLocked reports that another wpfix run holds the site's lock.
var ErrLocked = journal.ErrLocked

// journalSite is what the journal and the lock need of s.
func (s *Site) journalSite() journal.Site {
	js := journal.Site{Host: s.Host, ContentDir: s.WP.ContentDir, Root: s.WP.Root,
		PluginDir: s.WP.PluginDir, MUPluginDir: s.WP.MUPluginDir, ThemeDir: s.WP.ThemeDir, Log: s.Log}
	if s.DB != nil {
		js.Options = s.DB
	}
	if n := s.network(); n != nil {
		js.Options, js.Blogs, js.Blog, js.OtherBlogs = n.main, n.journalBlogs, n.blog, n.others
	}
	return js
}

// stateDir is the site's journal folder: lock, journal and quarantine.
func stateDir(s *Site) string { return s.journalSite().Dir() }

// checkLock returns ErrLocked, saying whose, when a live run holds the
// site's lock; it changes nothing.
func checkLock(ctx context.Context, s *Site) error {
	return journal.Check(ctx, s.journalSite())
}

// lockSite takes the site's lock for command (force: also one not provably
// stale). The error is ErrLocked when another run holds it,
// of kind ErrBadInput when the state folder is one wpfix must not use
// (journal.ErrUnsafe) or it cannot act as the site's owner
// (remote.ErrCannotSwitch): a person must decide; and of kind ErrUnreachable when the lock cannot be taken at all.
func lockSite(ctx context.Context, s *Site, command string, force bool) (*journal.Lock, error) {
	l, err := journal.Acquire(ctx, s.journalSite(), command, force)
	if err != nil {
		switch {
		case errors.Is(err, ErrLocked):
			return nil, err
		case errors.Is(err, journal.ErrUnsafe), errors.Is(err, remote.ErrCannotSwitch):
			return nil, badInput(err)
		}
		return nil, unreachable(err)
	}
	return l, nil
}

// unlock releases the lock a run took, also when ctx is cancelled. A
// release that fails becomes the run's error, of kind ErrUnreachable,
// unless the run already has one: a lock left behind stops the next run,
// so it is never dropped in silence.
func unlock(ctx context.Context, l *journal.Lock, err *error) {
	if rerr := l.Release(context.WithoutCancel(ctx)); *err == nil && rerr != nil {
		*err = unreachable(rerr)
	}
}
