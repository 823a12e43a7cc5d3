package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/wpfix/wpfix/agent"
)

// diagnoseOptions are the flags of wpfix diagnose.
type diagnoseOptions struct {
	Probe    probeOptions
	ExpectIP []string
	Since    time.Duration
}

// AddFlags declares diagnose's flags.
func (o *diagnoseOptions) AddFlags(f *pflag.FlagSet) {
	o.Probe.AddURLFlags(f, "the home option, else WP_HOME")
	f.StringArrayVar(&o.ExpectIP, "expect-ip", nil, "the `IP` the host name should resolve to (repeatable)")
	f.DurationVar(&o.Since, "since", time.Hour, "count log lines newer than `DURATION`")
}

// check refuses, before anything runs, an address that is not one.
func (o *diagnoseOptions) check() error {
	for _, ip := range append([]string{o.Probe.Resolve}, o.ExpectIP...) {
		if ip != "" && net.ParseIP(ip) == nil {
			return usageErrorf("%q is not an IP address", ip)
		}
	}
	return nil
}

func newDiagnoseCommand(g *globalOptions) *cobra.Command {
	var o diagnoseOptions
	cmd := &cobra.Command{
		Use:   "diagnose TARGET",
		Short: "Say why the site fails: probe, DNS, TLS, database, limits, logs, disk; changes nothing",
		Long: `Look at a WordPress site from every side and change nothing:

  - the probe: status, time, Server header, the CDN its headers show, and
    with --resolve the origin's own answer past the CDN;
  - DNS of the site's host name (and whether it is --expect-ip);
  - the TLS certificate: trusted, expiry;
  - versions of WordPress, PHP and the web server;
  - whether the database answers;
  - limit conflicts from the servers' configs (as wpfix limits --no-http);
  - the log signatures of the last hour (as wpfix logs) and the free disk.

Then rank the likely causes, each with the command to run next. Exit status
0 when the site answers well and nothing is wrong, 1 otherwise. Works when
the database is down: give --url if wp-config.php sets no WP_HOME.`,
		Example: `  wpfix diagnose deploy@web1:/var/www/site
  wpfix diagnose web1:/srv/www --resolve 203.0.113.7 --expect-ip 198.51.100.4
  wpfix diagnose /var/www/html --json`,
		Args: exactArgs(1, "TARGET"),
		PreRunE: func(cmd *cobra.Command, args []string) error {
			return o.check()
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDiagnose(cmd.Context(), o, *g, args[0], newTerminal(cmd))
		},
	}
	o.AddFlags(cmd.Flags())
	return cmd
}

// runDiagnose looks at the site from every side and reports on term; the
// error says the site is still broken when the report finds it in trouble.
func runDiagnose(ctx context.Context, o diagnoseOptions, g globalOptions, target string, term *terminal) error {
	sigs, err := g.signatures()
	if err != nil {
		return err
	}
	site, err := g.openSite(ctx, target, true, term)
	if err != nil {
		return err
	}
	defer site.Close()
	rep, err := agent.Diagnose(ctx, site, agent.DiagnoseOptions{
		Probe:      o.Probe.agent(),
		ExpectIP:   o.ExpectIP,
		Since:      o.Since,
		Signatures: sigs,
	})
	if err != nil {
		return err
	}
	if err := printResult(term.Out, g, rep, jsonIndented, func(w io.Writer) error { printDiagnose(w, rep); return nil }); err != nil {
		return err
	}
	return verdict(rep.Failed())
}

// printDiagnose writes the text form of wpfix diagnose; whatever came
// from the site or the network goes through clean.
func printDiagnose(w io.Writer, r *agent.DiagnoseReport) {
	p := func(format string, a ...any) { fmt.Fprint(w, clean(fmt.Sprintf(format, a...))+"\n") }
	probe := func(title string, v agent.ProbeView) {
		state := fmt.Sprintf("OK, status %d", v.Status)
		if v.Bad {
			state = "FAIL: " + v.Reason
		}
		line := fmt.Sprintf("%s: %s — %s, in %d ms", title, v.URL, state, v.DurationMS)
		if v.Via != "" {
			line += " (at " + v.Via + ")"
		}
		if v.Server != "" {
			line += ", server " + v.Server
		}
		if v.CDN != nil {
			line += ", behind " + v.CDN.Name + " (" + v.CDN.Evidence + ")"
		}
		p("%s", line)
	}
	probe("Site", r.Probe)
	if r.Origin != nil {
		probe("Origin", *r.Origin)
	}
	if d := r.DNS; d != nil && !d.IsIP {
		switch {
		case d.Error != "":
			p("DNS: %s: %s", d.Host, d.Error)
		default:
			p("DNS: %s → %v", d.Host, d.Addrs)
		}
	}
	if t := r.TLS; t != nil {
		switch {
		case t.Error != "":
			p("TLS: %s", t.Error)
		default:
			trust := "trusted"
			if t.VerifyError != "" {
				trust = "not trusted: " + t.VerifyError
			}
			p("TLS: %s, expires %s (%d days), %s", t.Subject, t.NotAfter.Format("2006-01-02"), t.DaysLeft, trust)
		}
	}
	p("Versions: WordPress %s, PHP %s, server %s", dash(r.Versions.WordPress), dash(r.Versions.PHP), dash(r.Versions.Server))
	if r.DB.Reachable {
		p("Database: answers")
	} else {
		p("Database: DOWN: %s", r.DB.Error)
	}
	if d := r.Disk; d != nil {
		p("Disk: %s free of %s on %s", size(d.Avail), size(d.Total), d.MountedOn)
	}
	for _, f := range r.Limits {
		p("Limits: %s: %s", f.Severity, f.Problem)
	}
	if len(r.Logs) > 0 {
		p("Logs, last hour:")
		for _, l := range r.Logs {
			blames := ""
			for i, b := range l.Blames {
				if i == 0 {
					blames = " → "
				} else {
					blames += ", "
				}
				blames += b.String()
			}
			p("  %5d× %s%s: %s", l.Count, l.Signature, blames, l.Summary)
		}
	}
	for _, n := range r.Notes {
		p("Note: %s", n)
	}
	p("")
	if len(r.Causes) == 0 {
		p("Nothing wrong found.")
		return
	}
	p("Likely causes, most likely first:")
	for i, c := range r.Causes {
		p("%d. %s", i+1, c.Title)
		for _, e := range c.Evidence {
			p("     %s", e)
		}
		p("   next: %s", c.Next)
	}
}

func dash(s string) string {
	if s == "" {
		return "?"
	}
	return s
}
