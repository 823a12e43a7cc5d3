package agent

import (
	"context"
	"fmt"
	"os"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/wpfix/wpfix/agent/journal"
	"github.com/wpfix/wpfix/agent/notify"
	"github.com/wpfix/wpfix/wp"
)

// The outcomes of a heal run (HealReport.State).
const (
	HealHealthy = "healthy" // the site answers well (and nothing was done)
	HealFixed   = "fixed"   // a culprit was left disabled; the site answers well
	HealBroken  = "broken"  // confirmed broken and not fixed
	HealSkipped = "skipped" // paused, or WordPress is updating
)

// The events heal notifies (DESIGN.md).
const (
	EventFixed       = notify.EventFixed
	EventBroken      = notify.EventBroken
	EventStillBroken = notify.EventStillBroken
	EventRecovered   = notify.EventRecovered
)

// The defaults of heal's flags (DESIGN.md).
const (
	DefaultConfirm         = 3
	DefaultConfirmInterval = 10 * time.Second
	DefaultBackoff         = time.Hour
	DefaultRemind          = 6 * time.Hour
	maxBackoff             = 24 * time.Hour
	// maintenanceWindow is how long WordPress honours a .maintenance file.
	maintenanceWindow = 10 * time.Minute
)

// HealOptions configure one heal run.
type HealOptions struct {
	// Probe reaches the site; URL "" is its home option.
	Probe ProbeOptions
	// Confirm probes, ConfirmInterval apart, must all fail before the site
	// counts as broken.
	Confirm         int
	ConfirmInterval time.Duration
	// Backoff is the wait before a site heal could not fix is bisected
	// again, doubling up to a day; Remind the least time between
	// still_broken reminders.
	Backoff, Remind time.Duration
	// DryRun says what heal would do and changes nothing.
	DryRun bool
	// StateFile is where the state lives on this machine; "" is the
	// site's state folder (wp-content/.wpfix/heal.json).
	StateFile string
	// Signatures are TOML fragments adding log signatures.
	Signatures [][]byte
	// Notify sends an event to every channel and returns what failed; nil
	// sends nothing. It must not block past a bound of its own.
	Notify func(ctx context.Context, e Event) []error
	// Ping is told "start" when a run begins and "success" or "fail" when
	// it ends (a dead-man's switch); nil pings nothing.
	Ping func(ctx context.Context, what string) error
	// Now is the clock, for tests; nil is time.Now.
	Now func() time.Time
}

func (o HealOptions) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

// Event is a notice heal sends: the generic webhook body of DESIGN.md.
type Event = notify.Event

// EventCause is a cause in an Event.
type EventCause = notify.Cause

// HealReport is what one heal run did; its JSON keys are the contract.
type HealReport struct {
	Target string  `json:"target"`
	URL    string  `json:"url,omitempty"`
	State  string  `json:"state"`
	Reason string  `json:"reason"`
	Events []Event `json:"events"`
	Bisect *Report `json:"bisect"`
	// NotifyErrors are the notifications that failed (the fix stands).
	NotifyErrors []string `json:"notify_errors,omitempty"`
	// Notes say what else happened (an interrupted run restored first).
	Notes []string `json:"notes,omitempty"`
}

// StillBroken reports whether the run ends with the site broken.
func (r *HealReport) StillBroken() bool { return r.State == HealBroken }

// outsideCauses are the causes heal does not bisect: what is wrong is not
// a plugin or theme, and turning them off would change nothing but the site.
var outsideCauses = map[string]bool{
	"dns": true, "dns-unexpected": true, "tls": true, "tls-expired": true, "cdn": true,
	"database-down": true, "database-errors": true, "fpm-down": true, "disk-errors": true,
}

// outside reports whether c is a cause outside the extensions.
func (c Cause) outside() bool {
	return outsideCauses[c.ID] || strings.HasPrefix(c.ID, "limits-disk-") || strings.HasPrefix(c.ID, "limits-inodes-")
}

// Heal is one unattended run of wpfix heal on s, as a cron job makes it:
// it probes the site and, when Confirm probes in a row fail, looks before
// cutting (Diagnose): a cause outside the extensions is notified and
// nothing is changed; otherwise the site is bisected, the culprit left
// disabled, and a person told what was done and how to undo it. It never
// acts during a pause, while WordPress's .maintenance is fresh, or while
// another run holds the site's lock (ErrLocked). A healthy site costs one
// probe and changes nothing.
func Heal(ctx context.Context, s *Site, o HealOptions) (rep *HealReport, err error) {
	if o.Confirm < 1 {
		o.Confirm = 1
	}
	if o.Backoff <= 0 {
		o.Backoff = DefaultBackoff
	}
	if o.Remind <= 0 {
		o.Remind = DefaultRemind
	}
	h := &healer{site: s, o: o, now: o.now(), store: s.healStore(o.StateFile)}
	h.rep = &HealReport{Target: s.Target.String(), Events: []Event{}}
	if o.Ping != nil {
		h.ping(ctx, "start")
		defer func() {
			if err == nil && rep.State == HealBroken {
				h.ping(ctx, "fail")
			} else if err == nil {
				h.ping(ctx, "success")
			}
		}()
	}
	if h.st, err = h.store.load(ctx); err != nil {
		return nil, err
	}
	err = h.run(ctx)
	if serr := h.save(ctx); err == nil {
		err = serr
	}
	if err != nil {
		return nil, err
	}
	return h.rep, nil
}

// healer is one heal run's state.
type healer struct {
	site    *Site
	o       HealOptions
	now     time.Time
	store   healStore
	st      *HealState
	rep     *HealReport
	changed bool // st needs saving
	prober  *Prober
	lock    *journal.Lock
	// lastReason is why the last probe failed.
	lastReason string
}

func (h *healer) ping(ctx context.Context, what string) {
	if err := h.o.Ping(ctx, what); err != nil {
		h.rep.NotifyErrors = append(h.rep.NotifyErrors, fmt.Sprintf("ping %s: %v", what, err))
	}
}

func (h *healer) run(ctx context.Context) (err error) {
	s, st := h.site, h.st
	if st.PausedUntil.After(h.now) {
		h.end(HealSkipped, "paused until "+st.PausedUntil.UTC().Format(time.RFC3339)+" (wpfix heal --resume ends it)")
		return nil
	}
	if why := maintenance(ctx, s, h.now); why != "" {
		h.end(HealSkipped, why)
		return nil
	}
	if err := checkLock(ctx, s); err != nil {
		return err
	}
	po := h.o.Probe
	if po.URL == "" {
		po.URL = homeURL(ctx, s)
	}
	if po.URL == "" {
		// No URL without the database (the home option), and no site
		// either: WordPress cannot make a page without it.
		h.lastReason = "the database cannot be opened"
		h.brokenRun()
		h.broken(ctx, "the database cannot be opened: "+errString(s.DBErr, "not opened")+" (give --url so that heal can probe the site all the same)", "",
			[]Cause{{ID: "database-down", Title: "the database cannot be reached", Score: 95,
				Next: "systemctl status mariadb mysql; check DB_HOST, DB_USER and DB_PASSWORD in wp-config.php"}}, nil)
		return nil
	}
	h.rep.URL = po.URL
	if h.prober, err = NewProber(po); err != nil {
		return err
	}
	h.o.Probe = po
	if !h.confirmBroken(ctx) {
		return h.healthy(ctx)
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if h.o.DryRun {
		h.end(HealBroken, "dry run: the site is confirmed broken ("+h.lastReason+"); nothing was changed")
		return nil
	}
	// From here on the run changes things: it holds the site's lock, so
	// that no other run (another cron job, an admin's bisect) meets it
	// half way.
	lock, err := lockSite(ctx, s, "wpfix heal", false)
	if err != nil {
		return err
	}
	h.lock = lock
	defer unlock(ctx, lock, &err)
	if err := h.finishInterrupted(ctx); err != nil {
		return err
	}
	if h.rep.State != "" {
		return nil // the restore of an interrupted run was the fix
	}
	h.brokenRun()

	if st.NextBisect.After(h.now) {
		h.broken(ctx, "backing off: not bisected again before "+st.NextBisect.UTC().Format(time.RFC3339)+" ("+h.lastReason+")", "", nil, nil)
		return nil
	}
	diag, err := Diagnose(ctx, s, DiagnoseOptions{Probe: h.o.Probe, Signatures: h.o.Signatures, Now: h.now, Since: h.window()})
	if err != nil {
		return err
	}
	for _, c := range diag.Causes {
		if c.Score < CauseLikely {
			break
		}
		if c.outside() {
			h.broken(ctx, "the cause is outside the site's plugins and theme: "+c.Title, "", []Cause{c}, nil)
			return nil
		}
		break
	}
	if s.DB == nil {
		h.broken(ctx, "the database cannot be opened: "+errString(s.DBErr, "not opened"), "", causesOf(diag), nil)
		return nil
	}
	br, err := Bisect(ctx, s, BisectOptions{Probe: h.o.Probe, Command: "wpfix heal", UseLogs: true,
		Signatures: h.o.Signatures, lock: lock})
	if err != nil {
		h.backoff()
		return err
	}
	h.rep.Bisect = br
	switch {
	case br.Verdict == VerdictHealthy:
		return h.healthy(ctx)
	case br.Verdict == VerdictCulpritFound && !br.StillBroken(false):
		h.fixed(ctx, br)
	default:
		h.backoff()
		h.broken(ctx, "bisect could not fix it: "+br.Verdict+firstNote(br), br.Verdict, causesOf(diag), br)
	}
	return nil
}

// window is how far back diagnose reads the logs: this outage's lines
// only, from a minute before it began (BrokenSince) and never before the
// site last recovered, at most an hour. Lines of an earlier outage (a
// php-fpm restarted since) must not decide what is wrong now.
func (h *healer) window() time.Duration {
	w := h.now.Sub(h.st.BrokenSince) + time.Minute + time.Duration(h.o.Confirm)*h.o.ConfirmInterval
	if r := h.st.Recovered; !r.IsZero() && h.now.Sub(r) < w {
		w = h.now.Sub(r)
	}
	return min(max(w, time.Second), time.Hour)
}

// brokenRun counts a run that found the site broken.
func (h *healer) brokenRun() {
	h.st.Failures++
	if h.st.BrokenSince.IsZero() {
		h.st.BrokenSince = h.now
	}
	h.changed = true
}

// confirmBroken probes Confirm times, ConfirmInterval apart, and reports
// whether every probe failed: one good answer and the site is not broken.
func (h *healer) confirmBroken(ctx context.Context) bool {
	for i := 0; i < h.o.Confirm; i++ {
		if i > 0 {
			select {
			case <-ctx.Done():
				return false
			case <-time.After(h.o.ConfirmInterval):
			}
		}
		r := h.prober.Probe(ctx)
		if !r.Bad {
			return false
		}
		h.lastReason = r.Reason
	}
	return true
}

// finishInterrupted restores first when a run was killed half way (its
// journal is still held): the site is not as its owner left it, and no
// search can start from there. When that is all that was wrong, the run
// ends healthy.
func (h *healer) finishInterrupted(ctx context.Context) error {
	s := h.site
	j, err := journal.Read(ctx, s.journalSite())
	if err != nil {
		return journalError(err)
	}
	if j == nil || j.Released() {
		return nil
	}
	siteURL, p, note := rerunSite(ctx, s, j)
	if note != "" {
		h.rep.Notes = append(h.rep.Notes, note)
	}
	notes, err := restoreJournal(ctx, j, siteURL, p)
	h.rep.Notes = append(h.rep.Notes, notes...)
	if err != nil {
		return fmt.Errorf("restore the interrupted run first: %w", err)
	}
	h.rep.Notes = append(h.rep.Notes, "an interrupted wpfix run had left changes on the site: they were undone first")
	if r := h.prober.Probe(ctx); !r.Bad {
		h.st.Failures = 0
		h.changed = true
		return h.healthy(ctx)
	}
	return nil
}

// healthy ends a run on a site that answers well: silent, unless a broken
// notice stands (then one recovered notice), and the state written only
// when it changes.
func (h *healer) healthy(ctx context.Context) error {
	st := h.st
	if st.Broken {
		st.Broken = false
		if h.now.Sub(st.Recovered) >= h.o.Remind {
			st.Recovered = h.now
			h.notify(ctx, Event{Event: EventRecovered, Message: fmt.Sprintf("%s answers well again", h.rep.Target)})
		}
		h.changed = true
	}
	if st.Failures != 0 || st.BackoffSeconds != 0 || !st.NextBisect.IsZero() || !st.BrokenSince.IsZero() {
		st.Failures, st.BackoffSeconds, st.NextBisect, st.BrokenSince = 0, 0, time.Time{}, time.Time{}
		h.changed = true
	}
	h.end(HealHealthy, "the site answers well")
	return nil
}

// fixed ends a run that left a culprit disabled.
func (h *healer) fixed(ctx context.Context, br *Report) {
	st := h.st
	for _, e := range br.LeftDisabled {
		st.Fixes = append(st.Fixes, HealFix{Extension: e, Time: h.now})
	}
	var names []string
	for _, e := range br.LeftDisabled {
		names = append(names, e.String())
	}
	restore := "wpfix restore " + shellTarget(h.site.Target)
	h.notify(ctx, Event{Event: EventFixed, Verdict: br.Verdict, Culprits: br.LeftDisabled, Probes: br.Probes,
		Restore: restore,
		Message: fmt.Sprintf("%s was broken (%s); wpfix disabled %s, found in %d probes, and the site answers well again. To undo: %s",
			h.rep.Target, h.lastReason, strings.Join(names, ", "), br.Probes, restore)})
	st.Failures, st.BackoffSeconds, st.NextBisect, st.BrokenSince = 0, 0, time.Time{}, time.Time{}
	st.Broken = false
	h.changed = true
	h.end(HealFixed, "disabled "+strings.Join(names, ", "))
}

// broken ends a run on a site that stays broken: the first time a broken
// notice, then a still_broken reminder at most every Remind; a site that
// flaps (broken, recovered, broken) is noticed at most once a Remind.
func (h *healer) broken(ctx context.Context, reason, verdict string, causes []Cause, br *Report) {
	st := h.st
	e := Event{Verdict: verdict, Causes: eventCauses(causes)}
	if br != nil {
		e.Probes = br.Probes
	}
	next := ""
	if len(causes) > 0 {
		next = " Next: " + causes[0].Next
	}
	switch {
	case !st.Broken:
		st.Broken = true
		if h.now.Sub(st.BrokenNoticed) >= h.o.Remind {
			st.BrokenNoticed, st.Reminded = h.now, time.Time{}
			e.Event = EventBroken
			e.Message = fmt.Sprintf("%s is broken (%s): %s.%s", h.rep.Target, h.lastReason, reason, next)
		}
	case h.now.Sub(later(st.BrokenNoticed, st.Reminded)) >= h.o.Remind:
		st.Reminded = h.now
		e.Event = EventStillBroken
		e.Message = fmt.Sprintf("%s is still broken since %s (%s): %s.%s", h.rep.Target,
			st.BrokenSince.UTC().Format(time.RFC3339), h.lastReason, reason, next)
	}
	if e.Event != "" {
		h.notify(ctx, e)
	}
	h.changed = true
	h.end(HealBroken, reason)
}

// backoff doubles the wait before the next bisection, up to a day.
func (h *healer) backoff() {
	b := max(h.o.Backoff, 2*h.st.Backoff())
	b = min(b, maxBackoff)
	h.st.BackoffSeconds = int64(b / time.Second)
	h.st.NextBisect = h.now.Add(b)
	h.changed = true
}

// notify sends e, filled in, to every channel; failures are reported,
// never fatal: the fix stands.
func (h *healer) notify(ctx context.Context, e Event) {
	e.Version, e.Site, e.URL, e.Time = 1, h.rep.Target, h.rep.URL, h.now.UTC()
	e.Host, _ = os.Hostname()
	if e.Culprits == nil {
		e.Culprits = []wp.Extension{}
	}
	if e.Causes == nil {
		e.Causes = []EventCause{}
	}
	h.rep.Events = append(h.rep.Events, e)
	if h.o.Notify == nil {
		return
	}
	for _, err := range h.o.Notify(ctx, e) {
		h.rep.NotifyErrors = append(h.rep.NotifyErrors, err.Error())
	}
}

func (h *healer) end(state, reason string) {
	h.rep.State, h.rep.Reason = state, reason
	if state != HealHealthy || h.changed {
		h.st.LastRun, h.st.LastState, h.st.LastReason = h.now, state, reason
	}
}

// save writes the state when the run changed it.
func (h *healer) save(ctx context.Context) error {
	if !h.changed || h.o.DryRun {
		return nil
	}
	h.changed = false
	return h.store.save(ctx, h.st)
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func firstNote(r *Report) string {
	if len(r.Notes) == 0 {
		return ""
	}
	return " (" + r.Notes[0] + ")"
}

func causesOf(d *DiagnoseReport) []Cause {
	var out []Cause
	for _, c := range d.Causes {
		if c.Score >= CauseLikely {
			out = append(out, c)
		}
	}
	return out
}

func eventCauses(cs []Cause) []EventCause {
	out := []EventCause{}
	for _, c := range cs {
		out = append(out, EventCause{ID: c.ID, Title: c.Title, Next: c.Next})
	}
	return out
}

// upgradingRE finds WordPress's $upgrading = TIME; in a .maintenance file.
var upgradingRE = regexp.MustCompile(`\$upgrading\s*=\s*(\d{1,12})\s*;`)

// maintenance says why the site is in maintenance mode, as WordPress sees
// it (wp_is_maintenance_mode): a .maintenance file in the docroot whose
// $upgrading is less than ten minutes old; "" when it is not. WordPress
// ignores an older one, and so does heal.
func maintenance(ctx context.Context, s *Site, now time.Time) string {
	p := path.Join(s.WP.Root, ".maintenance")
	b, err := s.Host.ReadHead(ctx, p, 4096)
	if err != nil {
		return ""
	}
	m := upgradingRE.FindSubmatch(b)
	if m == nil {
		return ""
	}
	sec, err := strconv.ParseInt(string(m[1]), 10, 64)
	if err != nil {
		return ""
	}
	since := time.Unix(sec, 0)
	if now.Sub(since) >= maintenanceWindow {
		return ""
	}
	return fmt.Sprintf("WordPress is updating: %s is %s old (it is ignored after %s)", p,
		now.Sub(since).Round(time.Second), maintenanceWindow)
}

// Pause keeps heal from acting on s until the time given; Resume (a zero
// time) ends a pause.
func Pause(ctx context.Context, s *Site, stateFile string, until time.Time) (_ *HealState, err error) {
	lock, err := lockSite(ctx, s, "wpfix heal --pause", false)
	if err != nil {
		return nil, err
	}
	defer unlock(ctx, lock, &err)
	store := s.healStore(stateFile)
	st, err := store.load(ctx)
	if err != nil {
		return nil, err
	}
	st.PausedUntil = until
	if err := store.save(ctx, st); err != nil {
		return nil, err
	}
	return st, nil
}

// HealStatus reads heal's state of s and where it lives.
func HealStatus(ctx context.Context, s *Site, stateFile string) (*HealState, string, error) {
	store := s.healStore(stateFile)
	st, err := store.load(ctx)
	return st, store.String(), err
}
