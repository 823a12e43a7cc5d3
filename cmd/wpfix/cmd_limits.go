package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/wpfix/wpfix/agent"
	"github.com/wpfix/wpfix/wp/server"
)

// limitsOptions are the flags of wpfix limits.
type limitsOptions struct {
	url     string
	resolve string
	timeout time.Duration
	noHTTP  bool
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
			ao, err := g.agentOptions(cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			ao.DBOptional = true // the limits matter most when the site is down
			site, err := agent.Open(cmd.Context(), args[0], ao)
			if err != nil {
				return err
			}
			defer site.Close()
			rep, err := agent.Limits(cmd.Context(), site, agent.LimitsOptions{
				Probe:   agent.ProbeOptions{URL: o.url, Resolve: o.resolve, Timeout: o.timeout},
				NoHTTP:  o.noHTTP,
				Command: "wpfix limits",
			})
			if err != nil {
				return err
			}
			if err := g.printResult(cmd.OutOrStdout(), rep, func(w io.Writer) { printLimits(w, rep) }); err != nil {
				return err
			}
			for _, f := range rep.Findings {
				if f.Severity == agent.SeverityError {
					return &silentError{code: exitFailure}
				}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.url, "url", "", "the site's `URL` where WordPress's files are served (default: the siteurl option)")
	f.StringVar(&o.resolve, "resolve", "", "connect to `IP`, the origin past a CDN, keeping the URL's host name")
	f.DurationVar(&o.timeout, "timeout", 30*time.Second, "how long to wait for PHP's answer")
	f.BoolVar(&o.noHTTP, "no-http", false, "place no file on the site: read the configs, the CLI and wp-config.php only")
	return cmd
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
		p("Disk: %s free of %s on %s", human(d.Avail), human(d.Total), d.MountedOn)
	}
	if m := r.Memory; m != nil {
		p("Memory: %s available of %s", human(m.Available), human(m.Total))
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

// human writes a byte count in binary units with one decimal.
func human(n int64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	v := float64(n)
	i := 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%d B", n)
	}
	return fmt.Sprintf("%.1f %s", v, units[i])
}
