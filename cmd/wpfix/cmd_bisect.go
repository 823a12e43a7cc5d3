package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/wpfix/wpfix/agent"
	"github.com/wpfix/wpfix/wp"
)

// bisectOptions are the flags of wpfix bisect.
type bisectOptions struct {
	url     string
	probes  []string
	samples int
	resolve string
	timeout time.Duration
	scope   []string
	keepAll bool
	dryRun  bool
	yes     bool
	noLogs  bool
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
			return runBisect(cmd, g, o, args[0])
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.url, "url", "", "`URL` to probe (default: the site's home option)")
	f.StringArrayVar(&o.probes, "probe", nil, "also probe `PATH`, e.g. /wp-login.php (repeatable)")
	f.IntVar(&o.samples, "samples", 1, "requests per URL and probe; any failure counts (tames flaky failures)")
	f.StringVar(&o.resolve, "resolve", "", "send probes to `IP`, the origin past a CDN, keeping the URL's host name")
	f.DurationVar(&o.timeout, "timeout", 30*time.Second, "a request taking longer counts as a failure")
	f.StringSliceVar(&o.scope, "scope", nil, "only these kinds: plugins,mu-plugins,dropins,theme (default all)")
	f.BoolVar(&o.keepAll, "keep-all", false, "find the culprit, then put everything back (exit 1: the site is still broken)")
	f.BoolVar(&o.dryRun, "dry-run", false, "list the candidates and the plan, probe once, change nothing")
	f.BoolVarP(&o.yes, "yes", "y", false, "do not ask before changing the site")
	f.BoolVar(&o.noLogs, "no-logs", false, "do not try first what the site's recent log lines blame")
	return cmd
}

var scopeKinds = map[string]string{"plugins": wp.KindPlugin, "plugin": wp.KindPlugin,
	"mu-plugins": wp.KindMUPlugin, "mu-plugin": wp.KindMUPlugin, "dropins": wp.KindDropin,
	"dropin": wp.KindDropin, "theme": wp.KindTheme, "themes": wp.KindTheme}

func runBisect(cmd *cobra.Command, g *globalOptions, o bisectOptions, target string) error {
	stderr := cmd.ErrOrStderr()
	bo := agent.BisectOptions{
		Probe:   agent.ProbeOptions{URL: o.url, Paths: o.probes, Samples: o.samples, Resolve: o.resolve, Timeout: o.timeout},
		KeepAll: o.keepAll, DryRun: o.dryRun, Command: "wpfix bisect", UseLogs: !o.noLogs,
	}
	sigs, err := g.signatures()
	if err != nil {
		return err
	}
	bo.Signatures = sigs
	for _, s := range o.scope {
		k, ok := scopeKinds[strings.TrimSpace(s)]
		if !ok {
			return usageErrorf("--scope %q: want plugins, mu-plugins, dropins or theme", s)
		}
		bo.Scope = append(bo.Scope, k)
	}
	if !o.yes && term.IsTerminal(int(os.Stdin.Fd())) {
		bo.Confirm = func(plan string) (bool, error) { return confirm(stderr, os.Stdin, plan) }
	}
	if (term.IsTerminal(int(os.Stderr.Fd())) && !g.Quiet) || g.Verbose {
		bo.Progress = func(p agent.Progress) { printProgress(stderr, p) }
	}
	site, err := g.openSite(cmd, target)
	if err != nil {
		return err
	}
	defer site.Close()
	rep, err := agent.Bisect(cmd.Context(), site, bo)
	if err != nil {
		return err
	}
	if g.JSON {
		if err := json.NewEncoder(cmd.OutOrStdout()).Encode(rep); err != nil {
			return err
		}
	} else {
		printReport(cmd.OutOrStdout(), rep)
	}
	// Exit 0 only when the site is healthy at the end (DESIGN.md): not
	// after --keep-all put the culprit back, nor after a dry run.
	if rep.Verdict == agent.VerdictNotExtension || rep.Verdict == agent.VerdictInconclusive ||
		(o.keepAll && rep.Verdict == agent.VerdictCulpritFound) {
		return errStillBroken
	}
	return nil
}

// errStillBroken makes the exit status 1 after the report is printed: the
// site is still broken.
var errStillBroken = &silentError{code: exitFailure}

// silentError ends the run with a code and no message: the report said it.
type silentError struct{ code int }

func (e *silentError) Error() string { return "" }

func confirm(w io.Writer, in io.Reader, plan string) (bool, error) {
	fmt.Fprintf(w, "%s\nProceed? [y/N] ", clean(plan))
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && line == "" {
		return false, nil
	}
	a := strings.ToLower(strings.TrimSpace(line))
	return a == "y" || a == "yes", nil
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
