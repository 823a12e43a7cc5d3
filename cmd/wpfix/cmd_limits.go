package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/wpfix/wpfix/agent"
	"github.com/wpfix/wpfix/wp/server"
)

// limitsOptions are the flags of wpfix limits.
type limitsOptions struct {
	Probe  probeOptions
	NoHTTP bool
}

// AddFlags declares limits' flags.
func (o *limitsOptions) AddFlags(f *pflag.FlagSet) {
	o.Probe.AddURLFlags(f, "the siteurl option, where WordPress's files are served")
	f.BoolVar(&o.NoHTTP, "no-http", false, "place no file on the site: read the configs, the CLI and wp-config.php only")
}

func newLimitsCommand(g *globalOptions) *cobra.Command {
	var o limitsOptions
	cmd := &cobra.Command{
		Use:   "limits TARGET",
		Short: "Show the limits PHP, php-fpm and the web server put on the site, and their conflicts",
		Long: `Show the limits a WordPress site really runs with, and flag the ones that
conflict, each with its consequence and its fix:

  - PHP under the web server (memory_limit, max_execution_time, upload and
    post sizes …), read through a temporary, randomly named PHP file that
    only answers with a one-time token: journaled before it is placed,
    removed as soon as it has answered ('wpfix restore' removes it after a
    crash); beside them the host's PHP CLI's;
  - wp-config.php's WP_MEMORY_LIMIT and WP_MAX_MEMORY_LIMIT;
  - the php-fpm pool that serves the site (pm, pm.max_children,
    pm.max_requests, request_terminate_timeout), from the config of the
    running php-fpm master;
  - nginx's fastcgi_read_timeout, or Apache's Timeout/ProxyTimeout;
  - the free disk and memory of the host.

Exit status 1 when a finding is an error: a limit that makes the site fail
(request_terminate_timeout below max_execution_time gives 502,
fastcgi_read_timeout below it 504, a WP_MEMORY_LIMIT PHP will not grant, a
full disk). --no-http changes nothing on the site and estimates PHP's values
from the pool's config, as it does when the database is down.`,
		Example: `  wpfix limits deploy@web1:/var/www/site
  wpfix limits /var/www/html --json
  wpfix limits web1:/srv/www --no-http`,
		Args: exactArgs(1, "TARGET"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runLimits(cmd.Context(), o, *g, args[0], newTerminal(cmd))
		},
	}
	o.AddFlags(cmd.Flags())
	return cmd
}

// runLimits reports the limits the site runs with on term; the error says
// the site is still broken when a finding is an error.
func runLimits(ctx context.Context, o limitsOptions, g globalOptions, target string, term *terminal) error {
	// The limits matter most when the site is down: no database is fine.
	site, err := g.openSite(ctx, target, true, term)
	if err != nil {
		return err
	}
	defer site.Close()
	rep, err := agent.Limits(ctx, site, agent.LimitsOptions{
		Probe:   o.Probe.agent(),
		NoHTTP:  o.NoHTTP,
		Command: "wpfix limits",
	})
	if err != nil {
		return err
	}
	if err := printResult(term.Out, g, rep, jsonIndented, func(w io.Writer) error { printLimits(w, rep); return nil }); err != nil {
		return err
	}
	return verdict(rep.Failed())
}

// printLimits writes the text form of wpfix limits; whatever came from the
// site goes through clean.
func printLimits(w io.Writer, r *agent.LimitsReport) {
	p := func(format string, a ...any) { fmt.Fprint(w, clean(fmt.Sprintf(format, a...))+"\n") }
	printRuntimes(w, r.PHP, r.CLI)
	wpm := func(name string, s server.Setting) {
		if s.Value == "" {
			p("  %-26s not set (WordPress's default)", name)
			return
		}
		p("  %-26s %s (%s)", name, s.Value, s.Source())
	}
	p("WordPress:")
	wpm("WP_MEMORY_LIMIT", r.WordPress.MemoryLimit)
	wpm("WP_MAX_MEMORY_LIMIT", r.WordPress.MaxMemoryLimit)
	for _, pool := range r.Pools {
		serves := ""
		if pool.ServesSite {
			serves = "; serves the site"
		}
		p("php-fpm pool %s (%s%s):", pool.Name, pool.Master, serves)
		p("  %-26s %s", "pm", pool.PM.Value)
		p("  %-26s %d", "pm.max_children", pool.MaxChildren)
		p("  %-26s %d", "pm.max_requests", pool.MaxRequests)
		rtt := "0 (off)"
		if pool.RequestTerminateTimeout > 0 {
			rtt = pool.RequestTerminateTimeout.String()
		}
		p("  %-26s %s", "request_terminate_timeout", rtt)
	}
	for _, t := range r.Web {
		if !t.ServesSite {
			continue
		}
		src := t.Source
		if src == "" {
			src = "built-in default"
		}
		p("%s: %s %s (%s)", t.Server, t.Directive, t.Value, src)
	}
	if d := r.Disk; d != nil {
		p("Disk: %s free of %s on %s", size(d.Avail), size(d.Total), d.MountedOn)
	}
	if m := r.Memory; m != nil {
		p("Memory: %s available of %s", size(m.Available), size(m.Total))
	}
	for _, n := range r.Notes {
		p("Note: %s", n)
	}
	if len(r.Findings) == 0 {
		p("No conflicts found.")
		return
	}
	p("")
	for _, f := range r.Findings {
		p("%s %s: %s", strings.ToUpper(f.Severity), f.ID, f.Problem)
		p("  consequence: %s", f.Consequence)
		p("  fix: %s", f.Fix)
	}
}

// printRuntimes shows PHP under the web server and the CLI side by side.
func printRuntimes(w io.Writer, web, cli *agent.PHPRuntime) {
	if web == nil && cli == nil {
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	head := func(title string, rt *agent.PHPRuntime) string {
		if rt == nil {
			return title + ": not read"
		}
		return fmt.Sprintf("%s: PHP %s (%s%s)", title, rt.Version, rt.SAPI, orEmpty(", user ", rt.User))
	}
	fmt.Fprintln(tw, clean("PHP\t"+head("web server", web)+"\t"+head("CLI", cli)))
	value := func(rt *agent.PHPRuntime, name string) string {
		if rt == nil {
			return ""
		}
		v, ok := rt.INI[name]
		if !ok {
			return "?"
		}
		if name == "memory_limit" && !rt.MemoryLimitChangeable {
			v += " (pinned: WordPress may not raise it)"
		}
		return v
	}
	for _, name := range server.LimitININames {
		fmt.Fprintln(tw, clean("  "+name+"\t"+value(web, name)+"\t"+value(cli, name)))
	}
	tw.Flush()
}

func orEmpty(prefix, s string) string {
	if s == "" {
		return ""
	}
	return prefix + s
}
