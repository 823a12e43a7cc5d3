package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"unicode"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/wpfix/wpfix/agent/fleet"
	"github.com/wpfix/wpfix/remote/sshconfig"
)

// Shell completion: `wpfix completion bash|zsh|fish` prints cobra's script,
// which asks the hidden `wpfix __complete ARGS…` for the words; the
// functions below answer it. They read local files only (ssh_config, the
// inventory) and never reach a host, and they print nothing but the
// words: an error is no completion, not a message in the middle of the
// user's command line.

// completionShells are the shells `wpfix completion` writes a script for.
// PowerShell is left out: wpfix runs on Linux hosts and reaches others
// over SSH.
var completionShells = []string{"bash", "zsh", "fish"}

// completionOptions are the flags of wpfix completion.
type completionOptions struct {
	NoDescriptions bool
}

// AddFlags declares completion's flags.
func (o *completionOptions) AddFlags(f *pflag.FlagSet) {
	f.BoolVar(&o.NoDescriptions, "no-descriptions", false, "offer the words only, without what each one is")
}

func newCompletionCommand() *cobra.Command {
	var o completionOptions
	cmd := &cobra.Command{
		Use:   "completion bash|zsh|fish",
		Short: "Print the script that makes bash, zsh or fish complete wpfix's command lines",
		Long: `Print the script that makes bash, zsh or fish complete wpfix's commands
and flags, and a TARGET: the Host aliases of ~/.ssh/config (or of
--ssh-config FILE, and the files it includes), offered as "alias:" for you
to type the site's path, and local folders when the word starts with /, .
or ~. check completes --tag and its TARGETs with the site names and @tags
of its inventory (--inventory FILE, else the WP-CLI config files check
reads). Completing reads local files only: it never connects to a host.

To load completions in every new shell, write the script where the shell
looks for it:

  bash (needs the bash-completion package):
    wpfix completion bash > /etc/bash_completion.d/wpfix
    wpfix completion bash > ~/.local/share/bash-completion/completions/wpfix
  zsh (with compinit in ~/.zshrc):
    wpfix completion zsh > "${fpath[1]}/_wpfix"
  fish:
    wpfix completion fish > ~/.config/fish/completions/wpfix.fish

and start a new shell. To try them in the current shell only, source the
script: source <(wpfix completion bash).`,
		Example: `  wpfix completion bash > /etc/bash_completion.d/wpfix
  source <(wpfix completion zsh)
  wpfix completion fish | source`,
		ValidArgs: completionShells,
		Args:      cobra.MatchAll(exactArgs(1, "a shell: bash, zsh or fish"), cobra.OnlyValidArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCompletion(cmd.Root(), o, args[0], cmd.OutOrStdout())
		},
	}
	o.AddFlags(cmd.Flags())
	return cmd
}

// runCompletion writes the completion script of root for shell to w.
func runCompletion(root *cobra.Command, o completionOptions, shell string, w io.Writer) error {
	desc := !o.NoDescriptions
	var err error
	switch shell {
	case "bash":
		err = root.GenBashCompletionV2(w, desc)
	case "zsh":
		if desc {
			err = root.GenZshCompletion(w)
		} else {
			err = root.GenZshCompletionNoDesc(w)
		}
	case "fish":
		err = root.GenFishCompletion(w, desc)
	default:
		return usageErrorf("completion %q: want bash, zsh or fish", shell)
	}
	if err != nil {
		return fmt.Errorf("write the %s completion script: %w", shell, err)
	}
	return nil
}

// registerCompletions attaches the completion functions to root's
// commands: TARGET arguments for every command whose Use names TARGET,
// check's inventory for its TARGETs and --tag, fixed values for the flags
// that take some, file names for a flag whose value is a FILE, and nothing
// for the other flags with a value (a number, a duration, a URL): no file
// name is right there.
func registerCompletions(root *cobra.Command) {
	walkCommands(root, func(cmd *cobra.Command) {
		if cmd.ValidArgsFunction == nil && cmd.ValidArgs == nil {
			switch {
			case cmd.Name() == "check":
				cmd.ValidArgsFunction = completeCheckTargets
			case strings.Contains(cmd.Use, "TARGET..."):
				cmd.ValidArgsFunction = completeTargets(true)
			case strings.Contains(cmd.Use, "TARGET"):
				cmd.ValidArgsFunction = completeTargets(false)
			}
		}
		register := func(f *pflag.Flag) {
			if _, ok := cmd.GetFlagCompletionFunc(f.Name); ok {
				return
			}
			if fn := flagCompletion(cmd.Name(), f); fn != nil {
				// the flag exists and has no function yet: no error
				_ = cmd.RegisterFlagCompletionFunc(f.Name, fn)
			}
		}
		cmd.PersistentFlags().VisitAll(register)
		cmd.Flags().VisitAll(register)
	})
}

// walkCommands calls fn on cmd and every command below it.
func walkCommands(cmd *cobra.Command, fn func(*cobra.Command)) {
	fn(cmd)
	for _, sub := range cmd.Commands() {
		walkCommands(sub, fn)
	}
}

// scopeKindNames are the values of bisect's --scope, as its usage names them.
var scopeKindNames = []string{"plugins", "mu-plugins", "dropins", "theme"}

// flagCompletion returns how to complete the value of flag f of the
// command named cmd, or nil for cobra's default, file names.
func flagCompletion(cmd string, f *pflag.Flag) cobra.CompletionFunc {
	switch cmd + " --" + f.Name {
	case "check --format":
		return completeWords([][2]string{
			{"text", "a report to read"},
			{"json", "one JSON document"},
			{"prometheus", "the text exposition format, for node_exporter"},
		})
	case "check --tag":
		return completeTags
	case "check --inventory":
		return cobra.FixedCompletions([]cobra.Completion{"toml", "yml", "yaml"}, cobra.ShellCompDirectiveFilterFileExt)
	case "bisect --scope":
		return completeList(scopeKindNames)
	}
	if f.NoOptDefVal != "" { // a bool: no value to complete
		return nil
	}
	if name, _ := pflag.UnquoteUsage(f); name == "FILE" {
		return nil
	}
	return cobra.NoFileCompletions
}

// completeWords completes one of the words, each with its description.
func completeWords(words [][2]string) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		var out []cobra.Completion
		for _, w := range words {
			if strings.HasPrefix(w[0], toComplete) {
				out = append(out, cobra.CompletionWithDesc(w[0], w[1]))
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

// completeList completes a comma-separated list of values (--scope
// plugins,theme): the values not yet in the list, after what is typed up
// to the last comma.
func completeList(values []string) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		i := strings.LastIndexByte(toComplete, ',')
		head, part := toComplete[:i+1], toComplete[i+1:]
		given := strings.Split(head, ",")
		var out []cobra.Completion
		for _, v := range values {
			if strings.HasPrefix(v, part) && !slices.Contains(given, v) {
				out = append(out, head+v)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

// completeTargets completes the TARGET of a command; one that takes a
// single TARGET completes nothing after it.
func completeTargets(many bool) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if !many && len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return targetCompletions(sshHosts(sshConfigFlag(cmd), homeDir()), toComplete)
	}
}

// targetCompletions completes word as a TARGET, from the host aliases:
//
//   - a local path (starting with /, . or ~, or holding a / before any
//     colon) completes as a folder, the shell's own way;
//   - [user@]host completes as [user@]alias: from the aliases that start
//     with host, with no space after, so the path comes next; a bare word
//     no alias starts completes as a folder of the current one;
//   - ssh://[user@]host completes as ssh://[user@]alias/;
//   - after the host's colon nothing is offered: the path is on the host,
//     and completing never connects.
func targetCompletions(hosts []string, word string) ([]cobra.Completion, cobra.ShellCompDirective) {
	const hostDirective = cobra.ShellCompDirectiveNoSpace | cobra.ShellCompDirectiveNoFileComp
	if rest, ok := strings.CutPrefix(word, "ssh://"); ok {
		if strings.ContainsAny(rest, "/:") {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		user, host := splitUser(rest)
		return hostCompletions(hosts, "ssh://"+user, host, "/"), hostDirective
	}
	if strings.HasPrefix(word, "/") || strings.HasPrefix(word, ".") || strings.HasPrefix(word, "~") {
		return nil, cobra.ShellCompDirectiveFilterDirs
	}
	colon, slash := strings.IndexByte(word, ':'), strings.IndexByte(word, '/')
	switch {
	case slash >= 0 && (colon < 0 || slash < colon):
		return nil, cobra.ShellCompDirectiveFilterDirs
	case colon >= 0:
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	user, host := splitUser(word)
	out := hostCompletions(hosts, user, host, ":")
	if len(out) == 0 && user == "" {
		return nil, cobra.ShellCompDirectiveFilterDirs
	}
	return out, hostDirective
}

// splitUser splits "user@host" after its last @, as remote.ParseTarget
// does; user keeps the @.
func splitUser(s string) (user, host string) {
	if i := strings.LastIndexByte(s, '@'); i >= 0 {
		return s[:i+1], s[i+1:]
	}
	return "", s
}

// hostCompletions are prefix+alias+suffix for the aliases that start with
// host.
func hostCompletions(hosts []string, prefix, host, suffix string) []cobra.Completion {
	var out []cobra.Completion
	for _, h := range hosts {
		if strings.HasPrefix(h, host) {
			out = append(out, prefix+h+suffix)
		}
	}
	return out
}

// completeCheckTargets completes check's TARGETs: the site names of its
// inventory, @tag for a word starting with @, and the other TARGETs as
// any command's.
func completeCheckTargets(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	inv := completionInventory(cmd)
	if strings.HasPrefix(toComplete, "@") {
		var out []cobra.Completion
		for _, t := range inventoryTags(inv) {
			if v := "@" + t.name; strings.HasPrefix(v, toComplete) && !slices.Contains(args, v) {
				out = append(out, cobra.CompletionWithDesc(v, t.desc()))
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
	var names []cobra.Completion
	if inv != nil {
		for _, s := range inv.Sites {
			if strings.HasPrefix(s.Name, toComplete) && !slices.Contains(args, s.Name) {
				names = append(names, cobra.CompletionWithDesc(s.Name, clean(s.Target)))
			}
		}
	}
	targets, directive := targetCompletions(sshHosts(sshConfigFlag(cmd), homeDir()), toComplete)
	if len(targets) == 0 {
		if len(names) == 0 {
			return nil, directive
		}
		return names, cobra.ShellCompDirectiveNoFileComp
	}
	return append(names, targets...), directive
}

// completeTags completes check's --tag from the tags of its inventory.
func completeTags(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	var out []cobra.Completion
	given, _ := cmd.Flags().GetStringArray("tag")
	for _, t := range inventoryTags(completionInventory(cmd)) {
		if strings.HasPrefix(t.name, toComplete) && !slices.Contains(given, t.name) {
			out = append(out, cobra.CompletionWithDesc(t.name, t.desc()))
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// inventoryTag is a tag and how many sites of the inventory have it.
type inventoryTag struct {
	name  string
	sites int
}

func (t inventoryTag) desc() string {
	if t.sites == 1 {
		return "1 site"
	}
	return fmt.Sprintf("%d sites", t.sites)
}

// inventoryTags are the tags of inv's sites, sorted; none for no inventory.
func inventoryTags(inv *fleet.Inventory) []inventoryTag {
	if inv == nil {
		return nil
	}
	count := map[string]int{}
	for _, s := range inv.Sites {
		for _, t := range s.Tags {
			count[t]++
		}
	}
	tags := make([]inventoryTag, 0, len(count))
	for name, n := range count {
		tags = append(tags, inventoryTag{clean(name), n})
	}
	sort.Slice(tags, func(i, j int) bool { return tags[i].name < tags[j].name })
	return tags
}

// completionInventory reads the inventory check would: --inventory FILE
// when the command line gives it, else the WP-CLI config files of the
// current folder and the home folder. Nil when there is none or it cannot
// be read: completion says nothing of why, check will.
func completionInventory(cmd *cobra.Command) *fleet.Inventory {
	var inv *fleet.Inventory
	var err error
	file := flagValue(cmd, "inventory")
	if file != "" {
		if !isRegularFile(file) {
			return nil
		}
		inv, err = fleet.Load(file)
	} else {
		cwd, _ := os.Getwd()
		files := fleet.WPCLIConfigFiles(cwd, homeDir(), os.Getenv)
		if len(files) == 0 {
			return nil
		}
		inv, err = fleet.LoadAliases(files...)
	}
	if err != nil {
		return nil
	}
	return inv
}

// flagValue is the value of the flag name on the command line, or "".
func flagValue(cmd *cobra.Command, name string) string {
	if f := cmd.Flag(name); f != nil {
		return f.Value.String()
	}
	return ""
}

// sshConfigFlag is --ssh-config as the command line gives it.
func sshConfigFlag(cmd *cobra.Command) string { return flagValue(cmd, "ssh-config") }

// homeDir is the user's home folder, or "" when unknown.
func homeDir() string {
	home, _ := os.UserHomeDir()
	return home
}

// Bounds on what completion reads of ssh_config: OpenSSH's Include depth,
// and enough files and bytes for any real config, so that a loop of
// Includes or a huge file cannot make a TAB hang.
const (
	maxIncludeDepth = 16
	maxConfigFiles  = 256
	maxConfigSize   = 4 << 20
)

// sshHosts returns the host aliases that an ssh_config file names on its
// Host lines, as OpenSSH's bash completion offers them: each pattern with
// no wildcard (* or ?), no negation (!) and no blank (a quoted pattern no
// host name matches), in the order written, each
// once, from the file and the files it Includes (globs, ~, relative to
// ~/.ssh), wherever they stand. file is --ssh-config: "" for
// ~/.ssh/config, "none" for none. A file that cannot be read gives no
// aliases, and a line that does not parse ends its file there.
func sshHosts(file, home string) []string {
	switch {
	case strings.EqualFold(file, "none"):
		return nil
	case file == "":
		if home == "" {
			return nil
		}
		file = filepath.Join(home, ".ssh", "config")
	}
	r := hostReader{home: home, seen: map[string]bool{}}
	r.read(file, 0)
	return r.hosts
}

// hostReader collects the aliases of Host lines across Included files.
type hostReader struct {
	home  string
	files int
	seen  map[string]bool
	hosts []string
}

func (r *hostReader) read(file string, depth int) {
	if depth > maxIncludeDepth || r.files >= maxConfigFiles {
		return
	}
	r.files++
	src, err := readSmallFile(file, maxConfigSize)
	if err != nil {
		return
	}
	lines, _ := sshconfig.Parse(file, src) // the lines before an error count
	for _, l := range lines {
		switch strings.ToLower(l.Key) {
		case "host":
			for _, p := range l.Args {
				if p == "" || strings.ContainsAny(p, "*?!") || strings.IndexFunc(p, unicode.IsSpace) >= 0 ||
					strings.IndexFunc(p, unicode.IsControl) >= 0 || r.seen[p] {
					continue
				}
				r.seen[p] = true
				r.hosts = append(r.hosts, p)
			}
		case "include":
			for _, pattern := range l.Args {
				p, err := sshconfig.ExpandPath(pattern, "Include", r.home, nil)
				if err != nil {
					continue
				}
				if !filepath.IsAbs(p) {
					if r.home == "" {
						continue
					}
					p = filepath.Join(r.home, ".ssh", p)
				}
				matches, _ := filepath.Glob(p)
				for _, m := range matches {
					r.read(m, depth+1)
				}
			}
		}
	}
}

// isRegularFile reports whether name is a regular file (so reading it
// cannot block, as a FIFO would).
func isRegularFile(name string) bool {
	fi, err := os.Stat(name)
	return err == nil && fi.Mode().IsRegular()
}

// readSmallFile reads a regular file of at most limit bytes.
func readSmallFile(name string, limit int64) ([]byte, error) {
	if !isRegularFile(name) {
		return nil, fmt.Errorf("read %s: not a regular file", name)
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("read %s: larger than %d bytes", name, limit)
	}
	return b, nil
}
