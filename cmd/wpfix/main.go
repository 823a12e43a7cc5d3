// Command wpfix finds the plugin, mu-plugin, drop-in or theme that breaks a
// WordPress site, locally or over SSH, and undoes every change it makes.
//
// This file is the only place that prints the final error and picks the exit
// code; the commands return errors and let main classify them.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/wpfix/wpfix/agent"
)

// Exit codes, part of the CLI contract in DESIGN.md.
const (
	exitOK          = 0
	exitFailure     = 1 // any error no entry of exitCodes claims
	exitUsage       = 2 // usage or bad input
	exitUnreachable = 3 // cannot reach or open the host, WordPress or its database
	exitLocked      = 4 // another wpfix run holds the site's lock
	exitInterrupted = 130
)

// exitCodes maps kinds of error to exit codes; the first entry whose match
// reports true wins. Later kinds join as one line each, for example
// {exitLocked, func(err error) bool { return errors.Is(err, agent.ErrLocked) }}.
var exitCodes = []struct {
	code  int
	match func(error) bool
}{
	{exitUsage, isCommandLineError},
	{exitUsage, func(err error) bool { var u *usageError; return errors.As(err, &u) }},
	{exitUsage, func(err error) bool { return errors.Is(err, agent.ErrBadInput) }},
	{exitUnreachable, func(err error) bool { return errors.Is(err, agent.ErrUnreachable) }},
	{exitLocked, func(err error) bool { return errors.Is(err, agent.ErrLocked) }},
	{exitInterrupted, func(err error) bool { return errors.Is(err, context.Canceled) }},
	{exitFailure, func(err error) bool { return errors.Is(err, errStillBroken) }},
}

// usageError is a mistake in the command line that cobra cannot see, such
// as a --define without "=".
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usageErrorf(format string, a ...any) error { return &usageError{fmt.Sprintf(format, a...)} }

// exitCode returns the process exit code for err, the result of running a command.
func exitCode(err error) int {
	if err == nil {
		return exitOK
	}
	for _, kind := range exitCodes {
		if kind.match(err) {
			return kind.code
		}
	}
	return exitFailure
}

// runError marks an error returned by a command's own code, as opposed to one
// cobra returns while reading the command line.
type runError struct{ err error }

func (e *runError) Error() string { return e.err.Error() }
func (e *runError) Unwrap() error { return e.err }

// isCommandLineError reports whether err is cobra's complaint about the
// command line: an unknown command or flag, a missing flag value, the wrong
// number of arguments, a required flag not given. Cobra returns these as plain
// fmt.Errorf values with no kind to test for, so they are told apart the other
// way round: they are the errors that do not carry a *runError.
func isCommandLineError(err error) bool {
	var run *runError
	return !errors.As(err, &run)
}

// markRunErrors makes every hook that runs a command's own code, in cmd and
// all its subcommands, wrap the error it returns in a *runError. Commands
// added under the root are covered without doing anything.
func markRunErrors(cmd *cobra.Command) {
	hooks := []*func(*cobra.Command, []string) error{
		&cmd.PersistentPreRunE, &cmd.PreRunE, &cmd.RunE, &cmd.PostRunE, &cmd.PersistentPostRunE,
	}
	for _, hook := range hooks {
		if run := *hook; run != nil {
			*hook = func(c *cobra.Command, args []string) error {
				if err := run(c, args); err != nil {
					return &runError{err}
				}
				return nil
			}
		}
	}
	for _, sub := range cmd.Commands() {
		markRunErrors(sub)
	}
}

// isUsage reports whether err is a mistake in the command line: cobra's,
// or one the commands find (a --define without "=").
func isUsage(err error) bool {
	var u *usageError
	return isCommandLineError(err) || errors.As(err, &u)
}

// errorText is how main shows err: one "wpfix: " line, through the
// control-character filter like every other output, since an error quotes
// what the site wrote (a DB_USER from wp-config.php, a journal's path, the
// lock owner's command) and must not be able to retitle the terminal or
// clear it. The error's own line breaks stay.
func errorText(err error) string {
	return "wpfix: " + cleanLines(err.Error()) + "\n"
}

func main() {
	// The first SIGINT or SIGTERM cancels ctx so that a command can stop and
	// clean up; stop restores the default handling, so a second one kills.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)

	root := newRootCommand()
	markRunErrors(root)
	cmd, err := root.ExecuteContextC(ctx)
	stop()

	code := exitCode(err)
	// errStillBroken follows a report that said it all.
	var silent *silentError
	if err != nil && !errors.Is(err, errStillBroken) && !errors.As(err, &silent) {
		fmt.Fprint(os.Stderr, errorText(err))
		// the hint is for a mistake in the command line, not for bad input
		// such as a path that is not WordPress or a journal refused
		if isUsage(err) && cmd != nil {
			fmt.Fprintf(os.Stderr, "Run '%s --help' for usage.\n", cmd.CommandPath())
		}
	}
	os.Exit(code)
}
