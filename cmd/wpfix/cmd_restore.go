package main

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/wpfix/wpfix/agent"
)

// restoreOptions are the flags of wpfix restore.
type restoreOptions struct {
	Force bool
}

// AddFlags declares restore's flags.
func (o *restoreOptions) AddFlags(f *pflag.FlagSet) {
	f.BoolVar(&o.Force, "force", false, "take over the lock of another run (only if it is dead)")
}

func newRestoreCommand(g *globalOptions) *cobra.Command {
	var o restoreOptions
	cmd := &cobra.Command{
		Use:   "restore TARGET",
		Short: "Undo every change wpfix made to the site",
		Long: `Undo every change a wpfix run left on the site, from its journal in
wp-content/.wpfix/: put back the extensions it moved into quarantine (the
culprit bisect left disabled too) and write back the options it changed,
byte for byte. It works after a normal end, a crash, kill -9, a dropped SSH
connection or a reboot, from any machine, and running it twice is harmless.

The journal is a record, not a program: every path restore touches is
rebuilt from the site's layout, and only the options wpfix writes are written
back. A journal that is not a regular file, is over 16 MiB, or holds a step
wpfix would not have written for this site is refused whole before anything
is changed (exit 2), naming the step and why; it is left for a person to read.

A run that is still going holds the site's lock; a lock whose run is gone is
taken over once it is stale (90 seconds without a heartbeat by the host's
clock, then watched for 30 seconds more, or at once when that run was on this
machine). --force takes it over in any case: use it only
when you know the other run is dead.`,
		Args: exactArgs(1, "TARGET"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRestore(cmd.Context(), o, *g, args[0], newTerminal(cmd))
		},
	}
	o.AddFlags(cmd.Flags())
	return cmd
}

// runRestore undoes what the site's journal holds and says so on term.
func runRestore(ctx context.Context, o restoreOptions, g globalOptions, target string, term *terminal) error {
	site, err := g.openSite(ctx, target, false, term)
	if err != nil {
		return err
	}
	defer site.Close()
	rep, err := agent.Restore(ctx, site, o.Force)
	if err != nil {
		return err
	}
	return printResult(term.Out, g, rep, jsonLine, func(w io.Writer) error { printRestore(w, rep); return nil })
}

// printRestore writes the text form of wpfix restore.
func printRestore(w io.Writer, rep *agent.RestoreReport) {
	if !rep.Restored {
		fmt.Fprintln(w, "Nothing to restore: no wpfix journal on the site.")
		return
	}
	fmt.Fprintf(w, "Restored: %d changes undone; the site is as it was before wpfix.\n", rep.Undone)
	for _, n := range rep.Notes {
		fmt.Fprintln(w, "Note: "+n)
	}
}
