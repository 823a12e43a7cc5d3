package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/wpfix/wpfix/agent"
	"github.com/wpfix/wpfix/wp/logsig"
	"github.com/wpfix/wpfix/wp/server"
)

// logsOptions are the flags of wpfix logs.
type logsOptions struct {
	Lines  int
	Follow bool
	Since  time.Duration
	Files  []string
	All    bool
}

// AddFlags declares logs' flags.
func (o *logsOptions) AddFlags(f *pflag.FlagSet) {
	f.IntVarP(&o.Lines, "lines", "n", 50, "show the last `N` lines of each log")
	f.BoolVarP(&o.Follow, "follow", "f", false, "then print new lines as they come, across rotation and truncation")
	f.DurationVar(&o.Since, "since", 0, "only lines newer than `DURATION` (e.g. 1h, 30m)")
	f.StringArrayVar(&o.Files, "log", nil, "also read this log `FILE` (repeatable)")
	f.BoolVar(&o.All, "all-logs", false, "also the logs of servers that do not serve this site")
}

func newLogsCommand(g *globalOptions) *cobra.Command {
	var o logsOptions
	cmd := &cobra.Command{
		Use:   "logs TARGET",
		Short: "Show the site's error logs, classified: what failed and which plugin or theme it points at",
		Long: `Find the logs that hold a WordPress site's errors and show the end of each,
read from the end (a 2 GB log costs no more than a small one, over SSH too):
WordPress's debug.log, PHP's error_log, php-fpm's log, nginx's and Apache's
error logs (from the configuration of the servers actually running), and
cPanel-style error_log files in the docroot.

Each line is classified against a table of known signatures (a killed or
timed-out PHP worker, an exhausted pool, a PHP fatal, memory or time limits, a
database that refuses, a full disk) and attributed to the plugin, must-use
plugin, drop-in or theme whose files it names. Repeats are folded with a
count. Control characters in log lines never reach the terminal.`,
		Example: `  wpfix logs deploy@web1:/var/www/site
  wpfix logs /var/www/html -n 200 --since 1h --json
  wpfix logs web1:/srv/www -f --log /var/log/php8.2-fpm.log`,
		Args: exactArgs(1, "TARGET"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runLogs(cmd.Context(), o, *g, args[0], newTerminal(cmd))
		},
	}
	o.AddFlags(cmd.Flags())
	return cmd
}

// runLogs shows the end of the site's logs on term, classified, and with
// --follow goes on with each new line until ctx is done.
func runLogs(ctx context.Context, o logsOptions, g globalOptions, target string, term *terminal) error {
	sigs, err := g.signatures()
	if err != nil {
		return err
	}
	site, err := g.openSite(ctx, target, false, term)
	if err != nil {
		return err
	}
	defer site.Close()
	lo := agent.LogsOptions{Lines: o.Lines, Since: o.Since, Files: o.Files, All: o.All, Signatures: sigs}
	rep, err := agent.Logs(ctx, site, lo)
	if err != nil {
		return err
	}
	out := term.Out
	if err := printResult(out, g, rep, jsonLine, func(w io.Writer) error { printLogs(w, rep); return nil }); err != nil {
		return err
	}
	if !o.Follow {
		return nil
	}
	var files []server.LogFile
	for _, sec := range rep.Logs {
		files = append(files, sec.File)
	}
	return agent.Follow(ctx, site, files, sigs, time.Second, func(f server.LogFile, l logsig.Line) {
		if g.JSON {
			writeJSON(out, struct {
				File string `json:"file"`
				logsig.Line
			}{f.Path, l}, jsonLine)
			return
		}
		fmt.Fprintf(out, "%s: %s\n", clean(f.Path), formatLine(l))
	})
}

// printLogs writes the text form of wpfix logs; whatever came from the
// site goes through clean.
func printLogs(w io.Writer, rep *agent.LogsReport) {
	for _, sec := range rep.Logs {
		fmt.Fprintf(w, "==> %s (%s; %s) <==\n", clean(sec.File.Path), clean(sec.File.Kind), clean(sec.File.Source))
		if sec.Error != "" {
			fmt.Fprintf(w, "  cannot read it: %s\n", clean(sec.Error))
		}
		for _, l := range sec.Lines {
			fmt.Fprintln(w, formatLine(l))
		}
		fmt.Fprintln(w)
	}
	if len(rep.Blames) > 0 {
		fmt.Fprintln(w, "Blamed by the classified lines:")
		for _, b := range rep.Blames {
			fmt.Fprintf(w, "  %s: %d lines\n", clean(b.String()), b.Lines)
		}
	}
}

// formatLine is one log line as printed: its signature and blame first,
// then the line itself, cleaned of control characters.
func formatLine(l logsig.Line) string {
	prefix := ""
	if l.Signature != "" {
		prefix = "[" + l.Signature
		if l.Blames != nil {
			prefix += " → " + l.Blames.String()
		}
		prefix += "] "
	}
	count := ""
	if l.Count > 1 {
		count = fmt.Sprintf(" (×%d)", l.Count)
	}
	return clean(prefix + l.Text + count)
}
