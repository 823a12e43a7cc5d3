package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/wpfix/wpfix/agent"
	"github.com/wpfix/wpfix/wp"
)

// bisectOptions are the flags of wpfix bisect.
type bisectOptions struct {
	Probe   probeOptions
	Scope   []string
	KeepAll bool
	DryRun  bool
	Yes     bool
	NoLogs  bool
}

// AddFlags declares bisect's flags.
func (o *bisectOptions) AddFlags(f *pflag.FlagSet) {
	o.Probe.AddFlags(f, "the home option")
	f.StringSliceVar(&o.Scope, "scope", nil, "only these kinds: plugins,mu-plugins,dropins,theme (default all)")
	f.BoolVar(&o.KeepAll, "keep-all", false, "find the culprit, then put everything back (exit 1: the site is still broken)")
	f.BoolVar(&o.DryRun, "dry-run", false, "list the candidates and the plan, probe once, change nothing")
	f.BoolVarP(&o.Yes, "yes", "y", false, "do not ask before changing the site")
	f.BoolVar(&o.NoLogs, "no-logs", false, "do not try first what the site's recent log lines blame")
}

func newBisectCommand(g *globalOptions) *cobra.Command {
	var o bisectOptions
	cmd := &cobra.Command{
		Use:   "bisect TARGET",
		Short: "Find the plugin, mu-plugin, drop-in or theme that breaks the site, and leave only it disabled",
		Long: `Find what makes a WordPress site fail (502, 500, the critical-error page, a PHP
fatal, a timeout) by delta debugging over its active plugins, network-active
plugins, must-use plugins, drop-ins and theme: turn half of them off, probe the
site, narrow down. A single culprit among n costs about log2(n) probes; two
plugins that fail only together come out as a pair.

Plugins, must-use plugins and drop-ins are turned off by moving them into
wp-content/.wpfix/quarantine/ (a rename on the same filesystem); the theme by
switching to an installed default theme. Every change is journaled on the
host before it is made. At the end only the culprit stays disabled and
everything else, options included, is exactly as before; 'wpfix restore'
puts the culprit back too, and undoes everything after a crash or a
dropped connection.

A healthy site is left untouched. When the site still fails with everything
off, the cause is outside WordPress's extensions: wpfix says so, restores
everything and exits 1.`,
		Example: `  wpfix bisect deploy@web1:/var/www/site
  wpfix bisect /var/www/html --probe /wp-login.php --samples 3 --yes
  wpfix bisect web1:/srv/www --url https://example.com --resolve 203.0.113.7 --json`,
		Args: exactArgs(1, "TARGET"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runBisect(cmd.Context(), o, *g, args[0], newTerminal(cmd))
		},
	}
	o.AddFlags(cmd.Flags())
	return cmd
}

var scopeKinds = map[string]string{"plugins": wp.KindPlugin, "plugin": wp.KindPlugin,
	"mu-plugins": wp.KindMUPlugin, "mu-plugin": wp.KindMUPlugin, "dropins": wp.KindDropin,
	"dropin": wp.KindDropin, "theme": wp.KindTheme, "themes": wp.KindTheme}

// runBisect bisects the site at target and prints the report on term;
// the error says the site is still broken when the report does.
func runBisect(ctx context.Context, o bisectOptions, g globalOptions, target string, term *terminal) error {
	bo, err := o.agentOptions(g, term)
	if err != nil {
		return err
	}
	site, err := g.openSite(ctx, target, false, term)
	if err != nil {
		return err
	}
	defer site.Close()
	rep, err := agent.Bisect(ctx, site, bo)
	if err != nil {
		return err
	}
	if err := printResult(term.Out, g, rep, jsonLine, func(w io.Writer) error { printReport(w, rep); return nil }); err != nil {
		return err
	}
	// Exit 0 only when the site is healthy at the end (DESIGN.md).
	return verdict(rep.StillBroken(o.KeepAll))
}

// agentOptions is how agent bisects, from the flags: the plan is shown
// for confirmation on term unless --yes or no one can answer, and each
// probe is shown as progress when someone watches.
func (o bisectOptions) agentOptions(g globalOptions, term *terminal) (agent.BisectOptions, error) {
	bo := agent.BisectOptions{
		Probe:   o.Probe.agent(),
		KeepAll: o.KeepAll, DryRun: o.DryRun, Command: "wpfix bisect", UseLogs: !o.NoLogs,
	}
	sigs, err := g.signatures()
	if err != nil {
		return bo, err
	}
	bo.Signatures = sigs
	for _, s := range o.Scope {
		k, ok := scopeKinds[strings.TrimSpace(s)]
		if !ok {
			return bo, usageErrorf("--scope %q: want plugins, mu-plugins, dropins or theme", s)
		}
		bo.Scope = append(bo.Scope, k)
	}
	if !o.Yes && term.InIsTerminal {
		bo.Confirm = term.confirm
	}
	if term.showProgress(g) {
		bo.Progress = func(p agent.Progress) { printProgress(term.Err, p) }
	}
	return bo, nil
}

func printProgress(w io.Writer, p agent.Progress) {
	status := fmt.Sprint(p.Probe.Status)
	if p.Probe.Status == 0 {
		status = "no answer"
	}
	verdict := "ok"
	if p.Probe.Bad {
		verdict = "FAIL " + p.Probe.Reason
	}
	fmt.Fprintf(w, "wpfix: %-8s %3d/%-3d on  %s in %s  %s\n", p.Step, p.Enabled, p.Total, status,
		p.Probe.Duration.Round(time.Millisecond), clean(verdict))
}

func printReport(w io.Writer, r *agent.Report) {
	names := func(list []wp.Extension) string {
		var s []string
		for _, e := range list {
			s = append(s, clean(e.String()))
		}
		return strings.Join(s, ", ")
	}
	switch r.Verdict {
	case agent.VerdictHealthy:
		fmt.Fprintf(w, "%s answers %d: healthy, nothing changed.\n", clean(r.URL), r.FinalStatus)
	case agent.VerdictCulpritFound:
		fmt.Fprintf(w, "Culprit: %s\n", names(r.Culprits))
		if len(r.LeftDisabled) > 0 {
			fmt.Fprintf(w, "Left disabled: %s (wpfix restore puts it back)\n", names(r.LeftDisabled))
		} else {
			fmt.Fprintln(w, "Everything was put back (--keep-all).")
		}
	case agent.VerdictNotExtension:
		fmt.Fprintln(w, "Not a plugin or theme: the site fails with all of them off. Everything was put back.")
	default:
		fmt.Fprintf(w, "Inconclusive. Culprits so far: %s\n", names(r.Culprits))
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "Note: %s\n", clean(n))
	}
	fmt.Fprintf(w, "%d probes in %s; last answer %d.\n", r.Probes, (time.Duration(r.DurationMS) * time.Millisecond), r.FinalStatus)
}
