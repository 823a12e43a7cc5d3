package main

import (
	"io"

	"github.com/spf13/cobra"
)

// newRootCommand returns the wpfix command with all its subcommands.
func newRootCommand() *cobra.Command {
	info := readBuildInfo()

	root := &cobra.Command{
		Use:   "wpfix",
		Short: "Find and undo what makes a WordPress site answer 500 or 502",
		Long: `wpfix finds the plugin, mu-plugin, drop-in or theme that makes a WordPress
site answer 502 or 500, on this machine or over SSH, and undoes every change
it makes to the site.`,

		// main prints the error, once, and picks the exit code.
		SilenceErrors: true,
		SilenceUsage:  true,
		// A suggestion would make the error several lines long.
		DisableSuggestions: true,
		// `wpfix --version` prints the same line as `wpfix version`.
		Version: info.String(),
	}
	root.SetVersionTemplate("{{.Version}}\n")
	// Declared here rather than left to cobra, which would also take -v:
	// DESIGN.md keeps -v for --verbose.
	root.Flags().Bool("version", false, "print wpfix's version and exit")
	// wpfix completion (completion.go) replaces cobra's own command: its
	// help says how to install each script, and it leaves out PowerShell.
	root.CompletionOptions.DisableDefaultCmd = true

	g := &globalOptions{}
	g.AddFlags(root.PersistentFlags())
	root.PersistentPreRunE = func(cmd *cobra.Command, args []string) error {
		// -q silences reports, not a script or page asked for by name
		if g.Quiet && !g.JSON && cmd.Name() != "completion" && cmd.Name() != "__man" {
			cmd.SetOut(io.Discard)
		}
		return nil
	}
	root.AddCommand(
		newBisectCommand(g),
		newDiagnoseCommand(g),
		newHealCommand(g),
		newCheckCommand(g),
		newInfoCommand(g),
		newLimitsCommand(g),
		newLogsCommand(g),
		newRestoreCommand(g),
		newVersionCommand(g),
		newCompletionCommand(),
		newManCommand(),
	)
	registerCompletions(root)
	return root
}
