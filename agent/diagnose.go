package agent

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/wpfix/wpfix/remote"
	"github.com/wpfix/wpfix/remote/sysinfo"
	"github.com/wpfix/wpfix/wp"
)

// DiagnoseOptions say how wpfix diagnose looks at a site.
type DiagnoseOptions struct {
	// Probe reaches the site: URL "" means the home option (or WP_HOME when
	// the database is down). With Resolve, the origin is probed too, at
	// that IP, besides the public URL.
	Probe ProbeOptions
	// ExpectIP are the addresses the site's host name should resolve to.
	ExpectIP []string
	// Resolver resolves the host name; nil means the system's.
	Resolver Resolver
	// Since is how far back log lines count (default one hour).
	Since time.Duration
	// Signatures are TOML fragments adding log signatures.
	Signatures [][]byte
	// Now is the clock, for tests; zero means time.Now.
	Now time.Time
}

// ProbeView is one probe of the site as diagnose shows it.
type ProbeView struct {
	URL        string `json:"url"`
	Via        string `json:"via,omitempty"` // the IP dialled instead of the host's (--resolve)
	Bad        bool   `json:"bad"`
	Status     int    `json:"status"`
	Reason     string `json:"reason,omitempty"`
	DurationMS int64  `json:"duration_ms"`
	Server     string `json:"server,omitempty"`
	PoweredBy  string `json:"powered_by,omitempty"`
	CDN        *CDN   `json:"cdn,omitempty"`
}

// Versions are the versions diagnose could read.
type Versions struct {
	WordPress string `json:"wordpress,omitempty"`
	PHP       string `json:"php,omitempty"` // the host's PHP CLI
	Server    string `json:"server,omitempty"`
}

// DBCheck says whether the site's database answers.
type DBCheck struct {
	Reachable bool   `json:"reachable"`
	Error     string `json:"error,omitempty"`
}

// LogSignature is a signature seen in the site's logs in the window, with
// how often and what it blamed.
type LogSignature struct {
	Signature string         `json:"signature"`
	Category  string         `json:"category"`
	Severity  string         `json:"severity"`
	Summary   string         `json:"summary"`
	Count     int            `json:"count"`
	Blames    []wp.Extension `json:"blames,omitempty"`
	Last      time.Time      `json:"last,omitzero"`
	Example   string         `json:"example"` // one line, as the log has it (clean it before printing)
}

// Cause is a likely reason for the site's trouble, with the evidence and
// the command to run next.
type Cause struct {
	ID       string   `json:"id"`
	Title    string   `json:"title"`
	Evidence []string `json:"evidence"`
	Next     string   `json:"next"`
	Score    int      `json:"score"`
}

// DiagnoseReport is the result of wpfix diagnose: everything it looked
// at, and the likely causes, most likely first.
type DiagnoseReport struct {
	Target   string         `json:"target"`
	URL      string         `json:"url"`
	Healthy  bool           `json:"healthy"`
	Probe    ProbeView      `json:"probe"`
	Origin   *ProbeView     `json:"origin,omitempty"`
	DNS      *DNSCheck      `json:"dns,omitempty"`
	TLS      *TLSCheck      `json:"tls,omitempty"`
	Versions Versions       `json:"versions"`
	DB       DBCheck        `json:"database"`
	Limits   []Finding      `json:"limits"`
	Logs     []LogSignature `json:"logs"`
	Disk     *sysinfo.Disk  `json:"disk,omitempty"`
	StateDir *StateDirCheck `json:"wpfix_dir,omitempty"`
	Causes   []Cause        `json:"causes"`
	Notes    []string       `json:"notes,omitempty"`
}

// Diagnose looks at a site from every side wpfix knows and changes
// nothing: it probes the site (and its origin), resolves its host name,
// checks its TLS certificate, reads versions, tries the database, checks
// the limits from the servers' configs, counts the log signatures of the
// last hour and the free disk, asks whether wpfix's own folder is served
// over HTTP (checkStateDir), then ranks the likely causes.
func Diagnose(ctx context.Context, s *Site, o DiagnoseOptions) (*DiagnoseReport, error) {
	if o.Since <= 0 {
		o.Since = time.Hour
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	rep := &DiagnoseReport{Target: s.Target.String(), Limits: []Finding{}, Logs: []LogSignature{}, Causes: []Cause{}}
	note := func(format string, a ...any) { rep.Notes = append(rep.Notes, fmt.Sprintf(format, a...)) }

	// The database first: the home URL comes from it.
	if s.DB == nil {
		rep.DB.Error = errString(s.DBErr, "not opened")
	} else if _, _, err := s.DB.Option(ctx, "siteurl"); err != nil {
		rep.DB.Error = err.Error()
	} else {
		rep.DB.Reachable = true
	}
	po := o.Probe
	if po.URL == "" {
		po.URL = homeURL(ctx, s)
	}
	if po.URL == "" {
		return nil, badInput(fmt.Errorf("the site's URL is unknown (the database is down and wp-config.php sets no WP_HOME): give it with --url"))
	}
	rep.URL = po.URL
	if _, err := NewProber(po); err != nil {
		return nil, err // a URL, timeout or --resolve that cannot be probed
	}
	u, err := url.Parse(po.URL)
	if err != nil {
		return nil, badInput(fmt.Errorf("the site's URL %q: %w", po.URL, err))
	}

	public := po
	public.Resolve = ""
	rep.Probe = probeView(ctx, public, "")
	if po.Resolve != "" {
		v := probeView(ctx, po, po.Resolve)
		rep.Origin = &v
	}
	rep.Healthy = !rep.Probe.Bad && (rep.Origin == nil || !rep.Origin.Bad)

	dns := CheckDNS(ctx, o.Resolver, u.Hostname(), o.ExpectIP)
	rep.DNS = &dns
	// The certificate visitors get: the public host's, not the origin's
	// (which may hold only a certificate the CDN trusts).
	if u.Scheme == "https" && dns.Error == "" {
		port := u.Port()
		if port == "" {
			port = "443"
		}
		tc := CheckTLS(ctx, net.JoinHostPort(u.Hostname(), port), u.Hostname(), TLSOptions{Now: o.Now})
		rep.TLS = &tc
	}

	if v, err := wp.ReadVersion(ctx, s.Host, s.WP.Root); err == nil {
		rep.Versions.WordPress = v
	}
	rep.Versions.Server = rep.Probe.Server
	if rep.Origin != nil && rep.Origin.Server != "" {
		rep.Versions.Server = rep.Origin.Server
	}

	// The host's servers, read once for the limits and the logs (which, if
	// it failed, try again and say why).
	stack, _ := ReadStack(ctx, s)
	if lim, err := Limits(ctx, s, LimitsOptions{NoHTTP: true, Stack: stack}); err == nil {
		rep.Limits = lim.Findings
		rep.Disk = lim.Disk
		if lim.CLI != nil {
			rep.Versions.PHP = lim.CLI.Version
		}
	} else {
		note("limits: %v", err)
	}

	if lr, err := Logs(ctx, s, LogsOptions{Lines: 2000, Since: o.Since, Now: o.Now, Signatures: o.Signatures, Stack: stack}); err == nil {
		rep.Logs = logSignatures(lr)
	} else {
		note("logs: %v", err)
	}

	rep.StateDir = checkStateDir(ctx, s, po)
	if d := rep.StateDir; d != nil && d.Error != "" {
		note("%s over HTTP: not checked: %s", d.Dir, d.Error)
	}

	rep.Causes = rankCauses(rep, shellTarget(s.Target))
	return rep, nil
}

func errString(err error, otherwise string) string {
	if err == nil {
		return otherwise
	}
	return err.Error()
}

// homeURL is the home option, or WP_HOME, or WP_SITEURL.
func homeURL(ctx context.Context, s *Site) string {
	if s.DB != nil {
		if v, ok, err := s.DB.Option(ctx, "home"); err == nil && ok && v != "" {
			return v
		}
	}
	for _, name := range []string{"WP_HOME", "WP_SITEURL"} {
		if v, ok, err := s.WP.Constant(name); err == nil && ok && v != "" {
			return v
		}
	}
	return ""
}

// probeView probes once and keeps what diagnose shows.
func probeView(ctx context.Context, po ProbeOptions, via string) ProbeView {
	v := ProbeView{URL: po.URL, Via: via}
	p, err := NewProber(po)
	if err != nil {
		v.Bad, v.Reason = true, err.Error()
		return v
	}
	r := p.Probe(ctx)
	v.URL, v.Bad, v.Status, v.Reason, v.DurationMS = r.URL, r.Bad, r.Status, r.Reason, r.Duration.Milliseconds()
	if r.Header != nil {
		v.Server = r.Header.Get("Server")
		v.PoweredBy = r.Header.Get("X-Powered-By")
		v.CDN = DetectCDN(r.Header)
	}
	return v
}

// logSignatures counts the classified lines of the report by signature,
// most frequent first.
func logSignatures(lr *LogsReport) []LogSignature {
	by := map[string]*LogSignature{}
	for _, sec := range lr.Logs {
		for _, l := range sec.Lines {
			if l.Signature == "" {
				continue
			}
			ls := by[l.Signature]
			if ls == nil {
				ls = &LogSignature{Signature: l.Signature, Category: l.Category, Severity: l.Severity, Summary: l.Summary}
				by[l.Signature] = ls
			}
			ls.Count += max(l.Count, 1)
			if l.Blames != nil && !slices.Contains(ls.Blames, *l.Blames) {
				ls.Blames = append(ls.Blames, *l.Blames)
			}
			if ls.Example == "" || !l.Time.Before(ls.Last) {
				ls.Last, ls.Example = l.Time, l.Text
			}
		}
	}
	out := make([]LogSignature, 0, len(by))
	for _, ls := range by {
		out = append(out, *ls)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Signature < out[j].Signature
	})
	return out
}

// shellTarget is the target as it is typed in a shell.
func shellTarget(t remote.Target) string {
	s := t.String()
	if strings.ContainsAny(s, " \t\n'\"\\$`;&|<>(){}*?[]!#~") {
		return remote.ShellQuote(s)
	}
	return s
}
