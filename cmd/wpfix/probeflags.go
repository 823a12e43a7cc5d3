package main

import (
	"time"

	"github.com/spf13/pflag"

	"github.com/wpfix/wpfix/agent"
)

// probeOptions are the flags that say how a command reaches the site over
// HTTP, shared by bisect, diagnose and limits (and heal and check): each
// flag is declared here once, with one help text.
type probeOptions struct {
	URL     string
	Paths   []string
	Samples int
	Resolve string
	Timeout time.Duration
}

// AddFlags declares all the probe flags: --url, --resolve, --timeout,
// --probe and --samples (bisect). urlDefault says where the command takes
// the URL from when --url is not given.
func (o *probeOptions) AddFlags(f *pflag.FlagSet, urlDefault string) {
	o.AddURLFlags(f, urlDefault)
	f.StringArrayVar(&o.Paths, "probe", nil, "also probe `PATH`, e.g. /wp-login.php (repeatable)")
	f.IntVar(&o.Samples, "samples", 1, "requests per URL and probe; any failure counts (tames flaky failures)")
}

// AddURLFlags declares only --url, --resolve and --timeout, for the
// commands that request each URL once (diagnose, limits). urlDefault says
// where the command takes the URL from when --url is not given: the one
// part of the help that is each command's own.
func (o *probeOptions) AddURLFlags(f *pflag.FlagSet, urlDefault string) {
	f.StringVar(&o.URL, "url", "", "the site's `URL` (default: "+urlDefault+")")
	f.StringVar(&o.Resolve, "resolve", "", "probe the origin at `IP`, past a CDN, keeping the URL's host name")
	f.DurationVar(&o.Timeout, "timeout", 30*time.Second, "a request taking longer counts as a failure")
}

// agent is how agent probes, from these flags.
func (o probeOptions) agent() agent.ProbeOptions {
	return agent.ProbeOptions{URL: o.URL, Paths: o.Paths, Samples: o.Samples, Resolve: o.Resolve, Timeout: o.Timeout}
}
