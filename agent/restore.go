package agent

import (
	"context"
	"errors"
	"fmt"
	"net/url"

	"github.com/wpfix/wpfix/agent/journal"
	"github.com/wpfix/wpfix/remote"
)

// RestoreReport says what restore did.
type RestoreReport struct {
	Target   string `json:"target"`
	Undone   int    `json:"undone"`
	Restored bool   `json:"restored"`
	// Notes say what could not be done besides, and why (the object cache
	// not told to forget the options written back, the disk full).
	Notes []string `json:"notes,omitempty"`
	// DiskFull: the disk that holds wp-content was full while the changes
	// were undone, so the journal could not be written (the notes say what
	// that left).
	DiskFull bool `json:"disk_full,omitempty"`
}

// Restore undoes every change a wpfix run left on the site, after a normal
// end (a culprit left disabled), a crash, kill -9 or a dropped connection,
// from any machine. It is idempotent. After a normal end it keeps what the
// admin changed since in the options, and puts only the culprits back. force takes over a lock that is not
// provably stale.
//
// The journal is checked whole before anything is undone (journal.Read):
// one that is not a regular file, is too large, or holds a step that does
// not fit the site's layout is refused, changing nothing, with an error of
// kind ErrBadInput saying which step and why.
func Restore(ctx context.Context, s *Site, force bool) (_ *RestoreReport, err error) {
	rep := &RestoreReport{Target: s.Target.String()}
	lock, err := lockSite(ctx, s, "wpfix restore", force)
	if err != nil {
		return nil, err
	}
	defer unlock(ctx, lock, &err)
	j, err := journal.Read(ctx, s.journalSite())
	if err != nil {
		return nil, journalError(err)
	}
	if j == nil {
		return rep, nil
	}
	rep.Undone = len(j.Pending())
	siteURL, p, note := rerunSite(ctx, s, j)
	if note != "" {
		rep.Notes = append(rep.Notes, note)
	}
	notes, err := restoreJournal(ctx, j, siteURL, p)
	rep.Notes = append(rep.Notes, notes...)
	rep.DiskFull = j.Full() != nil
	if err != nil {
		return nil, err
	}
	rep.Restored = true
	return rep, nil
}

// journalError gives a journal's error its kind: a journal that cannot be
// trusted, a state folder wpfix must not use, a site whose owner wpfix
// cannot act as are bad input (exit 2: a person must look); any other
// failure to read or write it is ErrUnreachable.
func journalError(err error) error {
	if errors.Is(err, journal.ErrUntrusted) || errors.Is(err, journal.ErrUnsafe) || errors.Is(err, remote.ErrCannotSwitch) {
		return badInput(err)
	}
	return unreachable(err)
}

// rerunSite is what restore needs to ask a journaled cache flusher to
// flush once more: the site's URL, from its siteurl option (never from the
// journal), and a prober for it. Without a flusher in the journal it is
// all empty; when the URL cannot be had, the note says why.
func rerunSite(ctx context.Context, s *Site, j *journal.Journal) (string, *Prober, string) {
	need := false
	for _, st := range j.Pending() {
		need = need || (st.Op == journal.OpHelper && st.Token != "")
	}
	if !need {
		return "", nil, ""
	}
	skipped := "the object cache was not asked to forget the options written back"
	if s.DB == nil {
		return "", nil, skipped + ": the database is not open, so the site's URL (siteurl) is unknown"
	}
	v, ok, err := s.DB.Option(ctx, "siteurl")
	switch {
	case err != nil:
		return "", nil, fmt.Sprintf("%s: the site's URL (siteurl) could not be read: %v", skipped, err)
	case !ok || v == "":
		return "", nil, skipped + ": the siteurl option is empty"
	}
	p, err := NewProber(ProbeOptions{URL: v})
	if err != nil {
		return "", nil, fmt.Sprintf("%s: %v", skipped, err)
	}
	return v, p, ""
}

// restoreJournal undoes every pending step, newest first, writes the
// option snapshot back and removes the journal, also with the disk full
// (Journal.Undo), and then says so in a note. On a journal whose run
// ended (culprits left disabled) the options are the admin's since: they
// are first merged (journal.Merge), the culprits put back into what the
// admin left and every other change kept, and that is what is written
// back; a theme culprit comes back only if the admin has not switched
// theme since. Each helper that kept its token (the cache flusher) is
// asked once more to flush, at its URL rebuilt from siteURL, through p;
// with p nil it is not asked. The notes say when a flush did not happen,
// or what could not be merged.
func restoreJournal(ctx context.Context, j *journal.Journal, siteURL string, p *Prober) (notes []string, err error) {
	defer func() {
		// Undo went on with the disk full: say so, in the error if any.
		if note := diskFullNote(ctx, j); note != "" && err != nil {
			err = fmt.Errorf("%w; %s", err, note)
		} else if note != "" {
			notes = append(notes, note)
		}
	}()
	if notes, err = j.Merge(ctx); err != nil {
		return notes, err
	}
	pending := j.Pending()
	for i := len(pending) - 1; i >= 0; i-- {
		if pending[i].Housekeeping() {
			continue // removed by Finish, after the flush below
		}
		if err := j.Undo(ctx, pending[i]); err != nil {
			return nil, err
		}
	}
	if err := j.RestoreOptions(ctx); err != nil {
		return notes, err
	}
	// A persistent object cache must forget the values wpfix wrote.
	for _, st := range pending {
		if st.Op != journal.OpHelper || st.Token == "" || p == nil {
			continue
		}
		ok, err := flushVia(ctx, p, j, st, siteURL)
		if !ok {
			why := "it did not answer as the flusher"
			var ue *url.Error
			switch {
			case errors.As(err, &ue): // its URL holds the token
				why = ue.Err.Error()
			case err != nil:
				why = err.Error()
			}
			notes = append(notes, "the object cache was not told to forget the options written back ("+why+"); if the site shows a stale theme, flush it")
		}
	}
	return notes, j.Finish(ctx)
}

// diskFullNote says what a full disk did to the steps just undone (Undo
// goes on with the disk full, since renames and removals need no space):
// nothing when the disk never was full for them, or when the journal marks
// them all after all (Journal.Save, tried here once more); else that the
// journal is removed with every change back, or how many steps it still
// holds that are done but not marked so.
func diskFullNote(ctx context.Context, j *journal.Journal) string {
	if j.Full() == nil {
		return ""
	}
	err := j.Save(ctx)
	switch {
	case j.Removed():
		return "the disk is full: the journal could not be written while the changes were undone, but every one was put back and the journal removed; free some space, the site needs it too"
	case err == nil:
		return ""
	}
	n := j.Unsaved()
	steps, them := "steps were", "them"
	if n == 1 {
		steps, them = "step was", "it"
	}
	return fmt.Sprintf("the disk is full: %d %s undone but could not be marked in the journal; run wpfix restore again when there is space — it will find %s done", n, steps, them)
}
