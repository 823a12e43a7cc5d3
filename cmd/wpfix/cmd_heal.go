package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/wpfix/wpfix/agent"
)

// healOptions are the flags of wpfix heal.
type healOptions struct {
	Probe           probeOptions
	Confirm         int
	ConfirmInterval time.Duration
	Backoff         time.Duration
	Remind          time.Duration
	State           string
	DryRun          bool

	Status bool
	Pause  time.Duration
	Resume bool

	Notify notifyOptions

	// changed reports a flag given on the command line, which wins over
	// the config file's [heal].
	changed func(name string) bool
}

// AddFlags declares heal's flags.
func (o *healOptions) AddFlags(f *pflag.FlagSet) {
	o.Probe.AddFlags(f, "the home option")
	f.IntVar(&o.Confirm, "confirm", agent.DefaultConfirm, "probes that must all fail, `N` in a row, before the site counts as broken")
	f.DurationVar(&o.ConfirmInterval, "confirm-interval", agent.DefaultConfirmInterval, "time between the confirming probes")
	f.DurationVar(&o.Backoff, "backoff", agent.DefaultBackoff, "wait before bisecting again a site heal could not fix (doubles, at most 24h)")
	f.DurationVar(&o.Remind, "remind", agent.DefaultRemind, "least time between \"still broken\" reminders")
	f.StringVar(&o.State, "state", "", "keep heal's state in `FILE` on this machine (default: wp-content/.wpfix/heal.json on the site's host)")
	f.BoolVar(&o.DryRun, "dry-run", false, "say what heal would do, change nothing, notify no one")
	f.BoolVar(&o.Status, "status", false, "show heal's state of the site, change nothing")
	f.DurationVar(&o.Pause, "pause", 0, "do nothing on the site for `DURATION` (an admin at work)")
	f.BoolVar(&o.Resume, "resume", false, "end a pause")
	o.Notify.AddFlags(f)
}

func newHealCommand(g *globalOptions) *cobra.Command {
	var o healOptions
	cmd := &cobra.Command{
		Use:   "heal TARGET",
		Short: "Probe the site and, when it is broken, fix it unattended and tell someone (for cron)",
		Long: `Run from cron or a systemd timer every few minutes. A healthy site costs one
probe: heal prints nothing, changes nothing and exits 0, so cron mails only
when something happened.

A failure counts only when --confirm probes, --confirm-interval apart, all
fail. Then heal looks before it cuts: when diagnose finds the cause outside
the site's plugins and theme (php-fpm or the database down, a full disk, DNS,
TLS, a CDN in front of a healthy origin), it changes nothing and tells you the
cause and the next command. Otherwise it bisects, leaves the culprit disabled
and tells you what it disabled and the exact 'wpfix restore' command that
undoes it.

heal does nothing while WordPress's .maintenance file is fresh (an update is
running), while another wpfix run holds the site's lock (exit 4, silently) or
during a pause (--pause 2h, --resume). A site heal could not fix is not
bisected again before --backoff (doubling up to a day); reminders come at
most every --remind, and one "recovered" notice when it answers well again.
Give --url in a crontab line: without the database heal cannot read the
site's home option, and so cannot probe it.`,
		Example: `  */5 * * * * wpfix heal /var/www/html --notify https://hooks.slack.com/services/…
  wpfix heal deploy@web1:/var/www/site --email admin@example.com --ping https://hc-ping.com/UUID
  wpfix heal --pause 2h deploy@web1:/var/www/site
  wpfix heal --status deploy@web1:/var/www/site`,
		Args: exactArgs(1, "TARGET"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.changed = cmd.Flags().Changed
			return runHeal(cmd.Context(), o, *g, args[0], newTerminal(cmd))
		},
	}
	o.AddFlags(cmd.Flags())
	cmd.MarkFlagsMutuallyExclusive("status", "pause", "resume")
	return cmd
}

// fromConfig takes the config file's [heal] values for the flags not
// given on the command line.
func (o *healOptions) fromConfig(g globalOptions) error {
	c, err := g.loadConfig()
	if err != nil || c == nil {
		return err
	}
	given := func(name string) bool { return o.changed != nil && o.changed(name) }
	h := c.Heal
	if h.Confirm != 0 && !given("confirm") {
		o.Confirm = h.Confirm
	}
	for _, d := range []struct {
		name string
		v    duration
		dst  *time.Duration
	}{{"confirm-interval", h.ConfirmInterval, &o.ConfirmInterval}, {"backoff", h.Backoff, &o.Backoff}, {"remind", h.Remind, &o.Remind}} {
		if d.v != 0 && !given(d.name) {
			*d.dst = time.Duration(d.v)
		}
	}
	return nil
}

// silentError is an error main does not print: heal exits 4 without a
// word when another run holds the lock, as cron wants.
type silentError struct{ err error }

func (e *silentError) Error() string { return e.err.Error() }
func (e *silentError) Unwrap() error { return e.err }

// runHeal runs heal once on target (or shows, pauses or resumes it).
func runHeal(ctx context.Context, o healOptions, g globalOptions, target string, term *terminal) error {
	if err := o.fromConfig(g); err != nil {
		return err
	}
	if o.Confirm < 1 {
		return usageErrorf("--confirm %d: want at least 1", o.Confirm)
	}
	if o.Pause < 0 {
		return usageErrorf("--pause %s: want a positive duration", o.Pause)
	}
	// the channels are checked before the site is reached, and made for
	// good once it is (sendmail runs on the site's host)
	if _, err := o.Notify.notifier(g, term, nil); err != nil {
		return err
	}
	site, err := g.openSite(ctx, target, true, term)
	if err != nil {
		return err
	}
	defer site.Close()
	notifier, err := o.Notify.notifier(g, term, site.Host)
	if err != nil {
		return err
	}
	switch {
	case o.Status:
		st, where, err := agent.HealStatus(ctx, site, o.State)
		if err != nil {
			return err
		}
		return printResult(term.Out, g, st, jsonIndented, func(w io.Writer) error { return printHealState(w, target, where, st) })
	case o.Pause > 0 || o.Resume:
		until := time.Time{}
		if o.Pause > 0 {
			until = time.Now().Add(o.Pause)
		}
		st, err := agent.Pause(ctx, site, o.State, until)
		if err != nil {
			return err
		}
		return printResult(term.Out, g, st, jsonIndented, func(w io.Writer) error {
			if o.Resume {
				fmt.Fprintf(w, "heal acts on %s again\n", clean(target))
			} else {
				fmt.Fprintf(w, "heal does nothing on %s until %s\n", clean(target), until.Format(time.RFC3339))
			}
			return nil
		})
	}
	sigs, err := g.signatures()
	if err != nil {
		return err
	}
	ho := agent.HealOptions{Probe: o.Probe.agent(), Confirm: o.Confirm, ConfirmInterval: o.ConfirmInterval,
		Backoff: o.Backoff, Remind: o.Remind, DryRun: o.DryRun, StateFile: o.State, Signatures: sigs}
	if !o.DryRun {
		ho.Notify, ho.Ping = notifier.send, notifier.pingFunc()
	}
	rep, err := agent.Heal(ctx, site, ho)
	if errors.Is(err, agent.ErrLocked) {
		return &silentError{err}
	}
	if err != nil {
		return err
	}
	for _, e := range rep.NotifyErrors {
		fmt.Fprint(term.Err, errorText(fmt.Errorf("notify: %s", e)))
	}
	// cron mails what a job prints: only what happened is worth a mail (a
	// notice sent, a fix, a change undone), not a site still broken
	// between two reminders
	quiet := len(rep.Events) == 0 && rep.State != agent.HealFixed && len(rep.Notes) == 0 && !o.DryRun
	if g.JSON || !quiet {
		if err := printResult(term.Out, g, rep, jsonLine, func(w io.Writer) error { printHeal(w, rep); return nil }); err != nil {
			return err
		}
	}
	return verdict(rep.StillBroken())
}

// printHeal writes what a heal run did, for cron's mail.
func printHeal(w io.Writer, r *agent.HealReport) {
	fmt.Fprintf(w, "wpfix heal %s: %s: %s\n", clean(r.Target), r.State, clean(r.Reason))
	for _, e := range r.Events {
		fmt.Fprintf(w, "  notified %s: %s\n", e.Event, clean(e.Message))
	}
	if r.Bisect != nil {
		fmt.Fprintf(w, "  bisect: %s in %d probes\n", r.Bisect.Verdict, r.Bisect.Probes)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "  note: %s\n", clean(n))
	}
}

// printHealState writes heal's state of a site.
func printHealState(w io.Writer, target, where string, st *agent.HealState) error {
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	p("heal's state of %s (%s)\n", clean(target), clean(where))
	if st.LastRun.IsZero() {
		p("  no run has changed anything yet\n")
	} else {
		p("  last\t%s at %s: %s\n", st.LastState, st.LastRun.Format(time.RFC3339), clean(st.LastReason))
	}
	if !st.PausedUntil.IsZero() && st.PausedUntil.After(time.Now()) {
		p("  paused until %s\n", st.PausedUntil.Format(time.RFC3339))
	}
	if st.Failures > 0 {
		p("  broken since %s, %d runs in a row\n", st.BrokenSince.Format(time.RFC3339), st.Failures)
	}
	if !st.NextBisect.IsZero() {
		p("  not bisected again before %s (backoff %s)\n", st.NextBisect.Format(time.RFC3339), st.Backoff())
	}
	for _, f := range st.Fixes {
		p("  disabled %s at %s\n", clean(f.Extension.String()), f.Time.Format(time.RFC3339))
	}
	if len(st.Fixes) > 0 {
		p("  undo: wpfix restore %s\n", clean(target))
	}
	return nil
}
