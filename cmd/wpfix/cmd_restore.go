package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/wpfix/wpfix/agent"
)

func newRestoreCommand(g *globalOptions) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "restore TARGET",
		Short: "Undo every change wpfix made to the site",
		Long: `Undo every change a wpfix run left on the site, from its journal in
wp-content/.wpfix/: put back the extensions it moved into quarantine (the
culprit bisect left disabled too) and write back the options it changed,
byte for byte. It works after a normal end, a crash, kill -9, a dropped SSH
connection or a reboot, from any machine, and running it twice is harmless.

A run that is still going holds the site's lock; a lock whose run is gone is
taken over once it is stale (90 seconds without a heartbeat, or at once when
that run was on this machine). --force takes it over in any case: use it only
when you know the other run is dead.`,
		Args: exactArgs(1, "TARGET"),
		RunE: func(cmd *cobra.Command, args []string) error {
			site, err := g.openSite(cmd, args[0])
			if err != nil {
				return err
			}
			defer site.Close()
			rep, err := agent.Restore(cmd.Context(), site, force)
			if err != nil {
				return err
			}
			if g.JSON {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(rep)
			}
			if !rep.Restored {
				fmt.Fprintln(cmd.OutOrStdout(), "Nothing to restore: no wpfix journal on the site.")
				return nil
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Restored: %d changes undone; the site is as it was before wpfix.\n", rep.Undone)
			return nil
		},
	}
	cmd.Flags().BoolVar(&force, "force", false, "take over the lock of another run (only if it is dead)")
	return cmd
}
