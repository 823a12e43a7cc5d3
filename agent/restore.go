package agent

import (
	"context"

	"github.com/wpfix/wpfix/agent/journal"
)

// RestoreReport says what restore did.
type RestoreReport struct {
	Target   string `json:"target"`
	Undone   int    `json:"undone"`
	Restored bool   `json:"restored"`
}

// Restore undoes every change a wpfix run left on the site, after a normal
// end (a culprit left disabled), a crash, kill -9 or a dropped connection,
// from any machine. It is idempotent. force takes over a lock that is not
// provably stale.
func Restore(ctx context.Context, s *Site, force bool) (_ *RestoreReport, err error) {
	rep := &RestoreReport{Target: s.Target.String()}
	lock, err := lockSite(ctx, s, "wpfix restore", force)
	if err != nil {
		return nil, err
	}
	defer unlock(ctx, lock, &err)
	j, err := journal.Read(ctx, s.journalSite())
	if err != nil {
		return nil, unreachable(err)
	}
	if j == nil {
		return rep, nil
	}
	rep.Undone = len(j.Pending())
	if err := restoreJournal(ctx, j); err != nil {
		return nil, err
	}
	rep.Restored = true
	return rep, nil
}

// restoreJournal undoes every pending step, newest first, writes the
// option snapshot back and removes the journal.
func restoreJournal(ctx context.Context, j *journal.Journal) error {
	pending := j.Pending()
	for i := len(pending) - 1; i >= 0; i-- {
		if pending[i].Housekeeping() {
			continue // removed by Finish, after the flush below
		}
		if err := j.Undo(ctx, pending[i]); err != nil {
			return err
		}
	}
	if err := j.RestoreOptions(ctx, nil); err != nil {
		return err
	}
	// A persistent object cache must forget the values wpfix wrote: each
	// helper that kept its token (the flusher) is asked once more.
	for _, st := range pending {
		flushVia(ctx, st)
	}
	return j.Finish(ctx)
}
