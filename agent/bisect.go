package agent

import (
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/wpfix/wpfix/agent/journal"
	"github.com/wpfix/wpfix/wp"
)

// Verdicts of a bisection.
const (
	VerdictCulpritFound = "culprit_found"
	VerdictHealthy      = "healthy"
	VerdictNotExtension = "not_extension"
	VerdictInconclusive = "inconclusive"
)

// candidate is an extension bisect can turn off, and how.
type candidate struct {
	wp.Extension
	path  string          // the file or folder moved into quarantine; "" for the theme
	steps []*journal.Step // the journal steps that turn it off, while it is off
}

// BisectOptions configure a bisection.
type BisectOptions struct {
	Probe ProbeOptions // URL "" means the site's home option
	// Scope limits the candidates to these kinds; empty means all.
	Scope []string
	// KeepAll finds the culprits and then restores everything.
	KeepAll bool
	// DryRun lists the candidates and the plan, probes once, changes nothing.
	DryRun bool
	// Confirm is asked, with the plan, once the site is known broken and
	// before anything is changed; nil means yes.
	Confirm func(plan string) (bool, error)
	// Progress is told of each probe; nil means silence.
	Progress func(Progress)
	// Command names the run in the lock ("wpfix bisect").
	Command string
	// Hints are extensions recent log lines blame, most likely first: each
	// is tried before any search, and when the logs are right the culprit
	// costs two probes after the baseline.
	Hints []wp.Extension
	// UseLogs adds hints from the site's logs of the last hour, read right
	// after the baseline probe (which may have just written the evidence).
	UseLogs bool
	// Signatures are TOML fragments adding log signatures (the config file's).
	Signatures [][]byte

	// lock is the site's lock when the caller holds it already (heal):
	// the bisection neither checks nor takes it.
	lock *journal.Lock
}

// Progress is one step of a bisection, for a terminal.
type Progress struct {
	Step    string        `json:"step"` // "baseline", "all off", "search", "confirm"
	Enabled int           `json:"enabled"`
	Total   int           `json:"total"`
	Probe   ProbeResult   `json:"probe"`
	Elapsed time.Duration `json:"elapsed"`
}

// Report is the result of a bisection; its JSON keys are part of the CLI
// contract.
type Report struct {
	Target       string         `json:"target"`
	URL          string         `json:"url"`
	Verdict      string         `json:"verdict"`
	Culprits     []wp.Extension `json:"culprits"`
	LeftDisabled []wp.Extension `json:"left_disabled"`
	Probes       int            `json:"probes"`
	DurationMS   int64          `json:"duration_ms"`
	FinalStatus  int            `json:"final_status"`
	Candidates   []wp.Extension `json:"candidates"`
	Notes        []string       `json:"notes,omitempty"`
}

// ErrChangedNothing reports that the user declined the plan.
var ErrChangedNothing = errors.New("declined: nothing was changed")

// bisection is one run's state.
type bisection struct {
	site    *Site
	o       BisectOptions
	prober  *Prober
	journal *journal.Journal
	cands   []*candidate
	report  *Report
	start   time.Time
	// defaultTheme is what the theme candidate is switched to: an
	// installed default theme (themeTarget), or wpfix's minimal theme once
	// placed; "" until then.
	defaultTheme string
	// untried names the candidates that could not be tried (see
	// Report.settleUntried).
	untried []string
	// siteURL and objectCache: where the cache helper goes, and whether
	// one is needed (an object-cache.php drop-in with the theme in play).
	siteURL     string
	objectCache bool
	flusher     *cacheFlusher
}

// Bisect finds the extensions that break the site, leaves only them
// disabled and restores everything else. On any error or cancellation it
// restores everything before returning.
func Bisect(ctx context.Context, s *Site, o BisectOptions) (rep *Report, err error) {
	b := &bisection{site: s, o: o, start: time.Now(),
		report: &Report{Target: s.Target.String(), Culprits: []wp.Extension{}, LeftDisabled: []wp.Extension{}}}
	defer func() { b.report.DurationMS = time.Since(b.start).Milliseconds() }()
	if err := b.prepare(ctx); err != nil {
		return nil, err
	}
	rep = b.report
	// Another run may have the site half taken apart: its state says
	// nothing, so not even the baseline is probed.
	if o.lock == nil {
		if err := checkLock(ctx, s); err != nil {
			return nil, err
		}
	}

	base := b.probe(ctx, "baseline", len(b.cands))
	rep.FinalStatus = base.Status
	if !base.Bad {
		rep.Verdict = VerdictHealthy
		return rep, nil
	}
	if o.DryRun {
		rep.Verdict = VerdictInconclusive
		rep.Notes = append(rep.Notes, "dry run: the site is broken ("+base.Reason+"); nothing was changed")
		return rep, nil
	}
	if len(b.cands) == 0 {
		rep.Verdict = VerdictNotExtension
		rep.Notes = append(rep.Notes, "nothing to turn off: no active plugin, must-use plugin, drop-in or theme in scope")
		return rep, nil
	}
	if o.UseLogs {
		b.o.Hints = append(b.o.Hints, LogHints(ctx, s, time.Hour, o.Signatures)...)
	}
	if o.Confirm != nil {
		ok, err := o.Confirm(b.plan())
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, ErrChangedNothing
		}
	}

	if o.lock == nil {
		lock, err := lockSite(ctx, s, o.Command, false)
		if err != nil {
			return nil, err
		}
		defer unlock(ctx, lock, &err)
	}
	if b.journal, err = journal.Open(ctx, s.journalSite()); err != nil {
		return nil, journalError(err)
	}
	if !b.journal.Durable() {
		rep.Notes = append(rep.Notes, journal.NotDurable)
	}
	// A culprit an earlier run left disabled: the options are the admin's
	// since; this run holds them as they are, with that culprit put back.
	notes, err := b.journal.Hold(ctx)
	rep.Notes = append(rep.Notes, notes...)
	if err != nil {
		return nil, journalError(err)
	}
	defer func() {
		if err != nil {
			// Whatever went wrong, and also on Ctrl-C: put everything back,
			// with a context of its own, since ctx may be the cancelled one.
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Minute)
			defer cancel()
			rerr := b.restoreAll(rctx)
			full := ""
			if rerr == nil {
				// The report is not printed on an error: the disk's state
				// goes into the error (the note, already in rerr otherwise).
				if note := diskFullNote(rctx, b.journal); note != "" {
					full = " (" + note + ")"
				}
			}
			switch {
			case rerr != nil:
				err = errors.Join(err, fmt.Errorf("restore after the error failed, run wpfix restore: %w", rerr))
			case ctx.Err() != nil:
				err = fmt.Errorf("interrupted; every change was put back%s: %w", full, ctx.Err())
			default:
				err = fmt.Errorf("%w; every change was put back%s", err, full)
			}
		}
	}()
	if b.objectCache {
		if b.flusher, err = b.installCacheFlusher(ctx, b.siteURL); err != nil {
			return nil, err
		}
	}
	if done, err := b.placeMinimalTheme(ctx); err != nil {
		return nil, err
	} else if done {
		return rep, nil
	}
	if err := b.search(ctx); err != nil {
		return nil, err
	}
	rep.settleUntried(b.untried)
	return rep, nil
}

// prepare lists the candidates and sets up the probe.
func (b *bisection) prepare(ctx context.Context) error {
	s := b.site
	// on a multisite network, --url names the site to work on
	if err := s.useURL(ctx, b.o.Probe.URL); err != nil {
		return err
	}
	inv, err := s.WP.Inventory(ctx, s.DB)
	if err != nil {
		return unreachable(err)
	}
	po := b.o.Probe
	if po.URL == "" {
		po.URL = inv.Home
	}
	b.report.URL = po.URL
	b.siteURL = inv.SiteURL
	if b.prober, err = NewProber(po); err != nil {
		return err
	}
	in := func(kind string) bool { return len(b.o.Scope) == 0 || slices.Contains(b.o.Scope, kind) }
	seen := map[string]bool{}
	add := func(kind, name, p string) {
		if !seen[kind+"/"+name] {
			seen[kind+"/"+name] = true
			b.cands = append(b.cands, &candidate{Extension: wp.Extension{Kind: kind, Name: name}, path: p})
		}
	}
	if in(wp.KindPlugin) {
		for _, f := range append(slices.Clone(inv.ActivePlugins), inv.NetworkActivePlugins...) {
			if slices.Contains(inv.MissingPlugins, f) {
				continue // WordPress does not load it: nothing to turn off
			}
			name, _, _ := strings.Cut(f, "/")
			add(wp.KindPlugin, name, path.Join(s.WP.PluginDir, name))
		}
	}
	if in(wp.KindMUPlugin) {
		for _, f := range inv.MUPlugins {
			add(wp.KindMUPlugin, f, path.Join(s.WP.MUPluginDir, f))
		}
	}
	if in(wp.KindDropin) {
		for _, d := range inv.Dropins {
			if b.dropinLoads(d) {
				add(wp.KindDropin, d.File, path.Join(s.WP.ContentDir, d.File))
			}
		}
	}
	if in(wp.KindTheme) && inv.Stylesheet != "" {
		if journal.IsMinimalTheme(inv.Stylesheet) || journal.IsMinimalTheme(inv.Template) {
			// An earlier run left the site's theme disabled.
			b.report.Notes = append(b.report.Notes, "the theme is not tried: the site runs wpfix's minimal theme "+inv.Stylesheet+", which an earlier run switched to from a culprit theme (wpfix restore puts that theme back)")
		} else {
			// "": wpfix's minimal theme, placed once the journal is open.
			b.defaultTheme = themeTarget(inv.Stylesheet, inv.Template, inv.DefaultThemes)
			add(wp.KindTheme, inv.Stylesheet, "")
			for _, d := range inv.Dropins {
				b.objectCache = b.objectCache || d.File == "object-cache.php"
			}
		}
	}
	for _, c := range b.cands {
		b.report.Candidates = append(b.report.Candidates, c.Extension)
	}
	if err := b.holdOtherBlogs(ctx); err != nil {
		return err
	}
	if paused, err := s.DB.PausedExtensions(ctx); err == nil {
		for kind, exts := range paused {
			for name, msg := range exts {
				b.report.Notes = append(b.report.Notes, fmt.Sprintf("WordPress's recovery mode has paused the %s %s: %s", kind, name, msg))
			}
		}
		slices.Sort(b.report.Notes)
	}
	return nil
}

// dropinLoads reports whether WordPress loads a drop-in on a normal page
// view; the others (db-error.php, maintenance.php …) cannot break one.
func (b *bisection) dropinLoads(d wp.Dropin) bool {
	switch d.LoadedWhen {
	case "always":
		return true
	case "WP_CACHE", "SUNRISE":
		v, ok, _ := b.site.WP.Constant(d.LoadedWhen)
		return ok && v != "" && v != "0"
	}
	return false
}

func (b *bisection) plan() string {
	var names []string
	for _, c := range b.cands {
		// one a line: a name with a line break in it cannot add a line
		names = append(names, strings.Map(func(r rune) rune {
			if r == '\n' || r == '\r' || r == '\u2028' || r == '\u2029' {
				return '\ufffd'
			}
			return r
		}, c.String()))
	}
	// short lines: the paths alone may fill a terminal's width
	return fmt.Sprintf("The site is broken. wpfix will turn these %d extensions off and on until it finds\n"+
		"the culprit, and put everything else back:\n  %s\n"+
		"Plugins, must-use plugins and drop-ins are moved into\n  %s\n"+
		"the theme is switched to %s, and every change is journaled in\n  %s",
		len(b.cands), strings.Join(names, "\n  "), path.Join(stateDir(b.site), "quarantine"),
		b.themeTargetText(), stateDir(b.site))
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// probe probes the site and reports progress.
func (b *bisection) probe(ctx context.Context, step string, enabled int) ProbeResult {
	r := b.prober.Probe(ctx)
	b.report.Probes++
	b.report.FinalStatus = r.Status
	if b.o.Progress != nil {
		b.o.Progress(Progress{Step: step, Enabled: enabled, Total: len(b.cands), Probe: r, Elapsed: time.Since(b.start)})
	}
	return r
}

// search runs the bisection proper once the site is known broken and the
// journal is open.
func (b *bisection) search(ctx context.Context) error {
	rep := b.report
	n := len(b.cands)
	// passed: some probe of this run passed, so the cause is not outside
	// the candidates; allOffPassed: the probe with everything off did.
	passed, allOffPassed := false, false
	failsWith := func(step string) func(context.Context, []int) (bool, error) {
		return func(ctx context.Context, enabled []int) (bool, error) {
			on := make([]bool, n)
			for _, i := range enabled {
				on[i] = true
			}
			// WordPress may rewrite the options while the probe runs (an
			// admin's page load deactivating the plugins it cannot find):
			// then the probe saw another configuration, and is repeated.
			for try := 0; ; try++ {
				if err := b.apply(ctx, on); err != nil {
					return false, err
				}
				r := b.probe(ctx, step, len(enabled))
				if err := ctx.Err(); err != nil {
					return false, err
				}
				intact, err := b.journal.OptionsIntact(ctx)
				if err != nil {
					return false, err
				}
				if intact || try == 4 {
					passed = passed || !r.Bad
					allOffPassed = allOffPassed || !r.Bad && len(enabled) == 0
					return r.Bad, nil
				}
			}
		}
	}
	if done, err := b.tryHints(ctx, failsWith); done || err != nil {
		return err
	}
	// Find culprit sets until the site is healthy with them off. Each round
	// searches the candidates not yet blamed, with the blamed ones off.
	// Everything off is probed only when the search's answers need it
	// (every probe so far failing): it is then the search's last probe, and
	// failing means the cause is outside the candidates. A probe that passed
	// has shown that already, so a single culprit costs the baseline,
	// ⌈log2 n⌉ to bisect, one alone (or everything off, for the first
	// candidate) and the confirmation: 9 among 64.
	nonePasses := passed // a hint's probe passed
	var blamed []int
	for round := 0; round < n; round++ {
		var rest []int
		for i := range n {
			if !slices.Contains(blamed, i) {
				rest = append(rest, i)
			}
		}
		test := func(ctx context.Context, enabled []int) (bool, error) {
			full := make([]int, len(enabled))
			for k, e := range enabled {
				full[k] = rest[e]
			}
			slices.Sort(full)
			step := "search"
			if len(full) == 0 {
				step = "all off"
			}
			return failsWith(step)(ctx, full)
		}
		found, _, err := minimize(ctx, len(rest), nil, test, probeBudget(len(rest)), nonePasses)
		if err != nil {
			return err
		}
		if len(found) == 0 {
			rep.Verdict = VerdictNotExtension
			rep.Notes = append(rep.Notes, "the site fails with every candidate turned off: the cause is outside its plugins and theme (PHP, php-fpm, the web server, the database …)")
			if round > 0 {
				// What the earlier rounds blamed was blamed on a probe
				// that passed: an intermittent failure.
				rep.Culprits = []wp.Extension{}
				rep.Notes = append(rep.Notes, "a probe passed earlier in the run: the failure may also be flaky (try --samples)")
			}
			return b.finish(ctx, nil)
		}
		var set []wp.Extension
		for _, k := range found {
			blamed = append(blamed, rest[k])
			set = append(set, b.cands[rest[k]].Extension)
		}
		rep.Culprits = append(rep.Culprits, set...)
		// Confirm: everything on but the blamed.
		bad, err := failsWith("confirm")(ctx, without(n, blamed))
		if err != nil {
			return err
		}
		if !bad {
			return b.finish(ctx, b.leaveDisabled(ctx, blamed, failsWith))
		}
		if len(blamed) == n {
			break
		}
		// The site still fails: a probe that passed this round may have
		// been a fluke, so the next round takes everything off as passing
		// only if that was probed.
		nonePasses = allOffPassed
	}
	rep.Verdict = VerdictInconclusive
	rep.Notes = append(rep.Notes, "the site still fails with every blamed extension off: the failure may be flaky (try --samples) or partly outside WordPress")
	return b.finish(ctx, nil)
}

// tryHints tests each hinted candidate: the site failing with only it on,
// and healthy with only it off, makes it a culprit found in two probes, the
// last of them the confirming one. A wrong hint costs one probe.
func (b *bisection) tryHints(ctx context.Context, failsWith func(string) func(context.Context, []int) (bool, error)) (bool, error) {
	n := len(b.cands)
	tried := 0
	for _, h := range b.o.Hints {
		i := slices.IndexFunc(b.cands, func(c *candidate) bool { return c.Extension == h })
		if i < 0 || tried == 3 {
			continue
		}
		tried++
		alone, err := failsWith("hint")(ctx, []int{i})
		if err != nil {
			return false, err
		}
		if !alone {
			continue // innocent, or it needs a partner: the search will tell
		}
		bad, err := failsWith("confirm")(ctx, without(n, []int{i}))
		if err != nil {
			return false, err
		}
		if bad {
			continue // guilty, but not alone: the search finds the rest
		}
		b.report.Culprits = append(b.report.Culprits, b.cands[i].Extension)
		b.report.Notes = append(b.report.Notes, "found where the logs pointed: "+b.cands[i].String())
		// Leave it off: the last probe was of exactly that state.
		return true, b.finish(ctx, []int{i})
	}
	return false, nil
}

// leaveDisabled picks what stays off. For a set that fails only together
// (a pair), turning off one member is enough, so the fewest are left off:
// each member alone is tried, last first.
func (b *bisection) leaveDisabled(ctx context.Context, blamed []int, failsWith func(string) func(context.Context, []int) (bool, error)) []int {
	if len(blamed) < 2 {
		return blamed
	}
	n := len(b.cands)
	for k := len(blamed) - 1; k >= 0; k-- {
		bad, err := failsWith("confirm")(ctx, without(n, []int{blamed[k]}))
		if err == nil && !bad {
			return []int{blamed[k]}
		}
	}
	return blamed
}

// without lists 0..n-1 except the given indices.
func without(n int, except []int) []int {
	var on []int
	for i := range n {
		if !slices.Contains(except, i) {
			on = append(on, i)
		}
	}
	return on
}

// finish leaves exactly the given candidates off (none with --keep-all),
// restores everything else including the protected options, records the
// result, and releases the options: what the admin changes from now on is
// theirs, never overwritten by this run's snapshot.
func (b *bisection) finish(ctx context.Context, off []int) error {
	rep := b.report
	if rep.Verdict == "" {
		rep.Verdict = VerdictCulpritFound
	}
	if b.o.KeepAll {
		off = nil
	}
	on := make([]bool, len(b.cands))
	for i := range on {
		on[i] = !slices.Contains(off, i)
	}
	if err := b.apply(ctx, on); err != nil {
		return err
	}
	for _, i := range off {
		rep.LeftDisabled = append(rep.LeftDisabled, b.cands[i].Extension)
	}
	if err := b.journal.RestoreOptions(ctx); err != nil {
		return err
	}
	if b.flusher != nil {
		b.flusher.flush(ctx)
		if err := b.flusher.remove(ctx); err != nil {
			return err
		}
	}
	if err := b.journal.Release(ctx); errors.Is(err, journal.ErrNoSpace) {
		// The culprit stays off; only the record of how the run left the
		// options is missing, so a later restore holds them as a killed
		// run's: it writes this run's snapshot back whole.
		rep.Notes = append(rep.Notes, "the disk is full: how this run left the options could not be recorded, so a later wpfix restore will write back the options as they were before it, undoing plugin changes made since")
	} else if err != nil {
		return err
	}
	// No probe here: the search's last probe was of this very state (or,
	// with --keep-all and not_extension, of the broken one put back).
	if err := b.journal.Finish(ctx); err != nil {
		return err
	}
	if note := diskFullNote(ctx, b.journal); note != "" {
		rep.Notes = append(rep.Notes, note)
	}
	return nil
}

// restoreAll turns every candidate back on and restores the options.
func (b *bisection) restoreAll(ctx context.Context) error {
	notes, err := restoreJournal(ctx, b.journal, b.siteURL, b.prober)
	b.report.Notes = append(b.report.Notes, notes...)
	return err
}

// apply turns candidates on and off to match on. Before each probe the
// protected options are put back too, at what the run holds them at (the
// snapshot, the theme's as a candidate turned off set them): a visit to
// wp-admin in the meantime makes WordPress drop the plugins it cannot find
// from active_plugins.
func (b *bisection) apply(ctx context.Context, on []bool) error {
	for i, c := range b.cands {
		off := len(c.steps) > 0
		switch {
		case on[i] && off:
			for k := len(c.steps) - 1; k >= 0; k-- {
				if err := b.journal.Undo(ctx, c.steps[k]); err != nil {
					return err
				}
			}
			c.steps = nil
		case !on[i] && !off:
			if err := b.disable(ctx, c); err != nil {
				return err
			}
		}
	}
	if err := b.journal.RestoreOptions(ctx); err != nil {
		return err
	}
	if b.flusher != nil {
		b.flusher.flush(ctx)
	}
	return nil
}

// disable turns one candidate off: a file or folder is moved into the
// quarantine (a rename on the same filesystem, atomic and keeping owner and
// mode); the theme is switched to a default theme, or to wpfix's minimal
// theme.
func (b *bisection) disable(ctx context.Context, c *candidate) error {
	j := b.journal
	why := "wpfix bisect: turn off " + c.String()
	if c.Kind == wp.KindTheme {
		for _, o := range [][2]string{{"template", b.defaultTheme}, {"stylesheet", b.defaultTheme}, {"current_theme", b.defaultTheme}} {
			st, err := j.SetOption(ctx, o[0], o[1], why)
			if err != nil {
				return err
			}
			c.steps = append(c.steps, st)
		}
		return nil
	}
	q := path.Join(stateDir(b.site), "quarantine")
	kindDir := path.Join(q, c.Kind)
	for _, d := range []string{q, kindDir} {
		if err := j.Mkdir(ctx, d, "quarantine for turned-off extensions"); err != nil {
			return err
		}
	}
	st, err := j.Rename(ctx, c.path, path.Join(kindDir, c.Name), why)
	if err != nil {
		return err
	}
	c.steps = append(c.steps, st)
	return nil
}
