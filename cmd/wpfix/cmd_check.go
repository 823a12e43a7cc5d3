package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/wpfix/wpfix/agent"
	"github.com/wpfix/wpfix/agent/fleet"
)

// checkOptions are the flags of wpfix check.
type checkOptions struct {
	Inventory   string
	Tags        []string
	Concurrency int
	PerHost     int
	SiteTimeout time.Duration
	Format      string
	Output      string
	Fix         bool
	Shard       string
	Shards      int
	Timeout     time.Duration
	Since       time.Duration
}

// AddFlags declares check's flags.
func (o *checkOptions) AddFlags(f *pflag.FlagSet) {
	f.StringVar(&o.Inventory, "inventory", "", "the sites: a TOML inventory `FILE` (configs/sites.example.toml) or a WP-CLI alias file (wp-cli.yml, ~/.wp-cli/config.yml)")
	f.StringArrayVar(&o.Tags, "tag", nil, "only the sites with tag `T` (repeatable: any of them; a WP-CLI group is a tag)")
	f.IntVar(&o.Concurrency, "concurrency", 32, "sites checked at once, `N` in all")
	f.IntVar(&o.PerHost, "per-host", 8, "sites checked at once on one server, at most `M`")
	f.DurationVar(&o.SiteTimeout, "site-timeout", 2*time.Minute, "the most one site may take, its fix included")
	f.DurationVar(&o.Timeout, "timeout", 30*time.Second, "a request taking longer counts as a failure")
	f.DurationVar(&o.Since, "since", 24*time.Hour, "how far back log lines count")
	f.StringVar(&o.Format, "format", "text", "`text`, json or prometheus (the text exposition format, for node_exporter's textfile collector)")
	f.StringVar(&o.Output, "output", "", "write the report to `FILE`, atomically (replaced whole, never half written)")
	f.BoolVar(&o.Fix, "fix", false, "heal each broken site, as wpfix heal does (never two on one server at once)")
	f.StringVar(&o.Shard, "shard", "", "check only shard `I/N` of the sites (I from 1), by a hash of each site's name")
	f.IntVar(&o.Shards, "shards", 0, "split the sites into `N` shards and check the one $JOB_COMPLETION_INDEX (from 0) names, as a Kubernetes Indexed Job runs")
}

func newCheckCommand(g *globalOptions) *cobra.Command {
	var o checkOptions
	cmd := &cobra.Command{
		Use:   "check [TARGET...]",
		Short: "Check many sites at once, read-only, and report (text, JSON, Prometheus); --fix heals the broken ones",
		Long: `Check every site of an inventory, or the TARGETs given, at once: the probe,
the database, versions, a wpfix journal left on the site, recovery mode, log
signatures of the last 24 hours, limits, disk, TLS, and WP-CLI doctor's checks
that need no PHP (debug settings, autoloaded options, PHP in uploads, cron,
active plugins). Nothing is changed: no helper is placed, no journal written,
no lock taken. Sites on one server share one SSH connection.

A TARGET is a site name of the inventory, @tag (a WP-CLI group), or a target
(a path, user@host:/path, ssh://…). Exit 0 when every site is healthy
(warnings allowed), 1 when any is unhealthy or unreachable, 2 for a bad
inventory (file, line and field).`,
		Example: `  wpfix check --inventory sites.toml
  wpfix check --inventory sites.toml --tag eu --format prometheus --output /var/lib/node_exporter/wpfix.prom
  wpfix check --inventory wp-cli.yml @prod
  wpfix check deploy@web1:/var/www/a deploy@web1:/var/www/b --json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCheck(cmd.Context(), o, *g, args, newTerminal(cmd))
		},
	}
	o.AddFlags(cmd.Flags())
	cmd.MarkFlagsMutuallyExclusive("shard", "shards")
	return cmd
}

// runCheck checks the sites and writes the report.
func runCheck(ctx context.Context, o checkOptions, g globalOptions, args []string, term *terminal) error {
	if g.JSON {
		o.Format = "json"
	}
	switch o.Format {
	case "text", "json", "prometheus":
	default:
		return usageErrorf("--format %q: want text, json or prometheus", o.Format)
	}
	sites, err := o.sites(args, term)
	if err != nil {
		return err
	}
	ao, err := g.agentOptions(term)
	if err != nil {
		return err
	}
	sigs, err := g.signatures()
	if err != nil {
		return err
	}
	fo := agent.FleetOptions{Open: ao, Probe: agent.ProbeOptions{Timeout: o.Timeout}, Concurrency: o.Concurrency,
		PerHost: o.PerHost, SiteTimeout: o.SiteTimeout, Since: o.Since, Signatures: sigs, Fix: o.Fix,
		// the check's own probe was the first bad answer: --fix confirms
		// with two more, closer together than heal's cron default
		Heal: agent.HealOptions{Confirm: 2, ConfirmInterval: 2 * time.Second, Signatures: sigs}}
	if o.Fix {
		var ho healOptions
		ho.Notify = notifyOptions{}
		n, err := ho.Notify.notifier(g, term, nil)
		if err != nil {
			return err
		}
		fo.Heal.Notify, fo.Heal.Ping = n.send, n.pingFunc()
	}
	progress := newCheckProgress(term.Err, showCheckProgress(term, g) && o.Format == "text" && o.Output == "")
	progress.start(len(sites))
	fo.Progress = progress.done
	rep := agent.CheckFleet(ctx, sites, fo)
	progress.finish()

	write := func(w io.Writer) error {
		switch o.Format {
		case "json":
			return writeJSON(w, rep, jsonIndented)
		case "prometheus":
			return writeCheckMetrics(w, rep)
		}
		return printCheckText(w, rep)
	}
	if o.Output != "" {
		if err := writeFileAtomic(o.Output, write); err != nil {
			return fmt.Errorf("write %s: %w", o.Output, err)
		}
	} else if !g.Quiet || o.Format != "text" {
		if err := write(term.Out); err != nil {
			return err
		}
	}
	if rep.Interrupted {
		return fmt.Errorf("interrupted after %d of %d sites: %w", len(rep.Sites), len(sites), context.Canceled)
	}
	return verdict(rep.Failed())
}

// sites are the sites the run covers: the inventory's (--inventory, else a
// WP-CLI config file when there is one and no TARGET names a path), the
// TARGETs, --tag, then the shard.
func (o checkOptions) sites(args []string, term *terminal) ([]fleet.Site, error) {
	var inv *fleet.Inventory
	var err error
	switch {
	case o.Inventory != "":
		inv, err = fleet.Load(o.Inventory)
	case len(args) == 0:
		cwd, _ := os.Getwd()
		home, _ := os.UserHomeDir()
		if files := fleet.WPCLIConfigFiles(cwd, home, os.Getenv); len(files) > 0 {
			inv, err = fleet.LoadAliases(files...)
		}
	}
	if err != nil {
		return nil, &usageError{err.Error()}
	}
	if inv == nil && len(args) == 0 {
		return nil, usageErrorf("no sites: give TARGETs or --inventory FILE")
	}
	if inv != nil {
		for _, w := range inv.Warnings {
			fmt.Fprintf(term.Err, "wpfix: %s:%d: %s: %s\n", clean(w.File), w.Line, clean(w.Field), clean(w.Msg))
		}
	}
	sites, err := fleet.Select(inv, args, o.Tags)
	if err != nil {
		if errors.Is(err, fleet.ErrSelection) || errors.Is(err, fleet.ErrInventory) {
			return nil, &usageError{err.Error()}
		}
		return nil, err
	}
	var sh fleet.Shard
	switch {
	case o.Shard != "":
		sh, err = fleet.ParseShard(o.Shard)
	case o.Shards > 0:
		sh, err = fleet.JobShard(o.Shards, os.Getenv(fleet.JobIndexEnv))
	}
	if err != nil {
		return nil, usageErrorf("%v", err)
	}
	return sh.Filter(sites), nil
}
