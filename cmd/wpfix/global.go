package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/pflag"

	"github.com/wpfix/wpfix/agent"
	"github.com/wpfix/wpfix/remote"
	"github.com/wpfix/wpfix/wp"
)

// globalOptions are the flags every command takes.
type globalOptions struct {
	JSON    bool
	Verbose bool
	Quiet   bool

	Identity         string
	Port             int
	KnownHosts       string
	AcceptNewHostKey bool
	SSHConfig        string
	Define           []string
	Config           string
	AsRoot           bool

	// config is the config file once read (loadConfig), or why not.
	config           *configFile
	configErr        error
	AllowForeignDirs bool
}

// AddFlags declares the global flags, on the root's persistent flags.
func (g *globalOptions) AddFlags(f *pflag.FlagSet) {
	f.BoolVar(&g.JSON, "json", false, "print the result as JSON")
	f.BoolVarP(&g.Verbose, "verbose", "v", false, "log each step to standard error")
	f.BoolVarP(&g.Quiet, "quiet", "q", false, "print no report or progress, only errors: the exit status says it (--json still prints)")
	f.StringVarP(&g.Identity, "identity", "i", "", "SSH private key `FILE`")
	f.IntVarP(&g.Port, "port", "p", 0, "SSH `PORT` (default: ~/.ssh/config, then 22)")
	f.StringVar(&g.KnownHosts, "known-hosts", "", "known_hosts `FILE` to verify the host key with (default ~/.ssh/known_hosts)")
	f.BoolVar(&g.AcceptNewHostKey, "accept-new-host-key", false,
		"trust and record the key of a host not yet in known_hosts (a changed key is always refused)")
	f.StringVar(&g.SSHConfig, "ssh-config", "", "ssh_config `FILE` to read (default ~/.ssh/config; \"none\" for none)")
	f.StringVar(&g.Config, "config", "", "wpfix's config `FILE` (default ~/.config/wpfix/wpfix.toml when it exists; \"none\" for none)")
	f.BoolVar(&g.AsRoot, "as-root", false,
		"when run as root on a site another user owns, change its files as root instead of as that user (what wpfix creates is then root's)")
	f.StringArrayVar(&g.Define, "define", nil,
		"`NAME=VALUE` for a wp-config.php constant wpfix cannot evaluate or should override (repeatable); the environment's WPFIX_DB_PASSWORD gives DB_PASSWORD")
	f.BoolVar(&g.AllowForeignDirs, "allow-foreign-dirs", false,
		"act on content/plugin/theme folders wp-config.php relocates to folders the docroot's owner does not own")
}

// logger logs to standard error with --verbose, and discards otherwise.
func (g *globalOptions) logger(stderr io.Writer) *slog.Logger {
	if !g.Verbose {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// agentOptions turns the flags into how agent reaches a site; a passphrase
// or password is asked on term, when a person can answer there.
func (g *globalOptions) agentOptions(term *terminal) (agent.Options, error) {
	o := agent.Options{
		Remote: remote.Options{Identity: g.Identity, Port: g.Port, KnownHosts: g.KnownHosts,
			AcceptNewHostKey: g.AcceptNewHostKey, ConfigFile: g.SSHConfig, Logger: g.logger(term.Err),
			Prompt: term.prompt()},
		Site:             wp.Options{Define: map[string]string{}},
		AsRoot:           g.AsRoot,
		AllowForeignDirs: g.AllowForeignDirs,
	}
	for _, d := range g.Define {
		name, value, ok := strings.Cut(d, "=")
		if !ok || name == "" {
			return o, usageErrorf("--define %q: want NAME=VALUE", d)
		}
		o.Site.Define[name] = value
	}
	if p, ok := os.LookupEnv("WPFIX_DB_PASSWORD"); ok {
		o.Site.Define["DB_PASSWORD"] = p
	}
	return o, nil
}

// signatures reads the log signatures of the config file (see
// loadConfig).
func (g *globalOptions) signatures() ([][]byte, error) {
	c, err := g.loadConfig()
	if err != nil || c == nil {
		return nil, err
	}
	return [][]byte{c.raw}, nil
}

// openSite reaches TARGET with the global flags, for a command to use and
// close; dbOptional opens it when its database does not answer.
func (g *globalOptions) openSite(ctx context.Context, target string, dbOptional bool, term *terminal) (*agent.Site, error) {
	ao, err := g.agentOptions(term)
	if err != nil {
		return nil, err
	}
	ao.DBOptional = dbOptional
	return agent.Open(ctx, target, ao)
}
