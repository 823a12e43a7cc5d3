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
)

// infoOptions are the flags of wpfix info: none of its own yet.
type infoOptions struct{}

// AddFlags declares info's flags: none.
func (o *infoOptions) AddFlags(f *pflag.FlagSet) {}

func newInfoCommand(g *globalOptions) *cobra.Command {
	var o infoOptions
	cmd := &cobra.Command{
		Use:   "info TARGET",
		Short: "Show what WordPress at TARGET runs: versions, plugins, theme, database",
		Long: `Show a WordPress site as WordPress sees it, changing nothing: its version and
URL, where its files and wp-config.php are, its database (never the password),
every installed plugin and whether it is active, must-use plugins, drop-ins,
themes with their parents, and the active theme.

TARGET is a local path, user@host:/path (host may be an alias in
~/.ssh/config) or ssh://user@host:port/path.`,
		Example: `  wpfix info /var/www/html
  wpfix info deploy@web1:/var/www/site --json
  wpfix info ssh://deploy@web1:2222/srv/www -i ~/.ssh/deploy_ed25519`,
		Args: exactArgs(1, "TARGET"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runInfo(cmd.Context(), o, *g, args[0], newTerminal(cmd))
		},
	}
	o.AddFlags(cmd.Flags())
	return cmd
}

// runInfo shows the site at target as WordPress sees it, on term.
func runInfo(ctx context.Context, o infoOptions, g globalOptions, target string, term *terminal) error {
	site, err := g.openSite(ctx, target, false, term)
	if err != nil {
		return err
	}
	defer site.Close()
	info, err := agent.GetInfo(ctx, site)
	if err != nil {
		return err
	}
	return printResult(term.Out, g, info, jsonIndented, func(w io.Writer) error { return printInfo(w, info) })
}

// printInfo writes the text form of wpfix info. Every value that came
// from the site goes through clean.
func printInfo(w io.Writer, in *agent.Info) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	p := func(format string, a ...any) {
		for i, v := range a {
			if s, ok := v.(string); ok {
				a[i] = clean(s)
			}
		}
		fmt.Fprintf(tw, format, a...)
	}
	p("WordPress %s at %s on %s\n", in.Version, in.Root, in.Host)
	p("  URL\t%s", in.SiteURL)
	if in.Home != in.SiteURL {
		p(" (home %s)", in.Home)
	}
	p("\n  wp-config.php\t%s\n", in.ConfigFile)
	p("  database\t%s as %s at %s, via %s, prefix %s\n", in.DB.Name, in.DB.User, in.DB.Host, in.DB.Via, in.DB.TablePrefix)
	theme := in.Stylesheet
	if in.Template != in.Stylesheet {
		theme += " (child of " + in.Template + ")"
	}
	p("  theme\t%s\n", theme)
	p("  default themes\t%s\n", orNone(in.DefaultThemes))
	if in.Multisite {
		p("  multisite\tyes\n")
	}
	active := 0
	for _, pl := range in.Plugins {
		if pl.Active || pl.NetworkActive {
			active++
		}
	}
	p("\nPlugins: %d active of %d installed\n", active, len(in.Plugins))
	for _, pl := range in.Plugins {
		state := "inactive"
		switch {
		case pl.NetworkActive:
			state = "network"
		case pl.Active:
			state = "active"
		}
		p("  %s\t%s\t%s %s\n", state, pl.Name, pl.Title, pl.Version)
	}
	if len(in.MissingPlugins) > 0 {
		p("  missing\t%s\t(active, but its file is gone)\n", strings.Join(in.MissingPlugins, ", "))
	}
	p("\nMust-use plugins\t%s\n", orNone(in.MUPlugins))
	var dropins []string
	for _, d := range in.Dropins {
		dropins = append(dropins, d.File+" ("+d.Description+", loaded "+d.LoadedWhen+")")
	}
	p("Drop-ins\t%s\n", orNone(dropins))
	if len(in.Network) > 0 {
		p("\nNetwork: %d sites\n", len(in.Network))
		for _, ns := range in.Network {
			if ns.Error != "" {
				p("  %d\t%s%s\t%s\n", ns.ID, ns.Domain, ns.Path, ns.Error)
				continue
			}
			theme := ns.Stylesheet
			if ns.Template != ns.Stylesheet {
				theme += " (child of " + ns.Template + ")"
			}
			var flags []string
			for _, f := range []struct {
				on   bool
				name string
			}{{ns.Archived, "archived"}, {ns.Deleted, "deleted"}, {ns.Spam, "spam"}} {
				if f.on {
					flags = append(flags, f.name)
				}
			}
			state := ""
			if len(flags) > 0 {
				state = " (" + strings.Join(flags, ", ") + ")"
			}
			p("  %d\t%s%s\ttheme %s\tplugins %s\n", ns.ID, ns.SiteURL, state, theme, orNone(ns.ActivePlugins))
		}
	}
	if len(in.Unresolved) > 0 {
		p("\nNot evaluated in wp-config.php (give with --define NAME=VALUE if needed): %s\n",
			strings.Join(in.Unresolved, ", "))
	}
	return tw.Flush()
}

func orNone(list []string) string {
	if len(list) == 0 {
		return "none"
	}
	return strings.Join(list, ", ")
}

// exactArgs is cobra.ExactArgs with a message that names the argument.
func exactArgs(n int, names string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return fmt.Errorf("%s needs %s", cmd.CommandPath(), names)
		}
		return nil
	}
}
