package main

import (
	"cmp"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/wpfix/wpfix/agent"
)

// The output of wpfix check: the text table (printCheckText), the metrics
// for node_exporter's textfile collector (writeCheckMetrics), the file they
// go to (writeFileAtomic) and the progress bar (checkProgress). The JSON is
// the FleetReport as it is, through writeJSON.

// printCheckText writes r as a table, worst site first: one line a site
// (name, state, HTTP status, time, worst check), the checks that are not ok
// indented below it, errors first, then a summary line. Names, messages and
// errors come from the inventory or the sites and are cleaned.
func printCheckText(w io.Writer, r *agent.FleetReport) error {
	sites := slices.Clone(r.Sites)
	slices.SortStableFunc(sites, func(a, b *agent.SiteCheck) int {
		return cmp.Or(cmp.Compare(siteRank(a), siteRank(b)), strings.Compare(a.Name, b.Name))
	})
	names := make([]string, len(sites))
	width := len("SITE")
	for i, s := range sites {
		names[i] = clean(s.Name)
		width = max(width, utf8.RuneCountInString(names[i]))
	}
	var b strings.Builder
	row := func(name, state, status, took, worst string) {
		fmt.Fprintf(&b, "%s%s  %-11s  %4s  %6s  %s\n",
			name, strings.Repeat(" ", width-utf8.RuneCountInString(name)), state, status, took, worst)
	}
	if len(sites) > 0 {
		row("SITE", "STATE", "HTTP", "TIME", "WORST")
	}
	for i, s := range sites {
		status := "-"
		if s.Status != 0 {
			status = strconv.Itoa(s.Status)
		}
		row(names[i], clean(s.State), status, checkDuration(s.DurationMS), worstCheck(s))
		if s.Error != "" {
			fmt.Fprintf(&b, "    %-7s  %s\n", "error", clean(s.Error))
		}
		problems := slices.DeleteFunc(slices.Clone(s.Checks), func(c agent.Check) bool { return c.Status == agent.CheckOK })
		slices.SortStableFunc(problems, func(a, b agent.Check) int { return cmp.Compare(statusRank(a.Status), statusRank(b.Status)) })
		for _, c := range problems {
			fmt.Fprintf(&b, "    %-7s  %-13s  %s\n", clean(c.Status), clean(c.ID), clean(c.Message))
		}
		if s.Fix != nil {
			fmt.Fprintf(&b, "    %-7s  %s: %s\n", "fix", clean(s.Fix.State), clean(s.Fix.Reason))
		}
	}
	sum := r.Summary
	fmt.Fprintf(&b, "%d %s: %d healthy, %d unhealthy, %d unreachable, in %s\n",
		sum.Sites, plural(sum.Sites, "site", "sites"), sum.Healthy, sum.Unhealthy, sum.Unreachable, checkDuration(r.DurationMS))
	if r.Interrupted {
		b.WriteString("interrupted: the sites not checked are missing\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// siteRank orders the sites of the table: unreachable, unhealthy, healthy
// with warnings, healthy; a state wpfix does not know counts as unhealthy.
func siteRank(s *agent.SiteCheck) int {
	switch {
	case s.State == agent.SiteUnreachable:
		return 0
	case s.State != agent.SiteHealthy:
		return 1
	case s.Worst() != agent.CheckOK:
		return 2
	}
	return 3
}

// statusRank orders checks: error, warning, then anything else.
func statusRank(status string) int {
	switch status {
	case agent.CheckError:
		return 0
	case agent.CheckWarning:
		return 1
	}
	return 2
}

// worstCheck is the table's WORST column: "ok", or the worst status and
// the first check that has it ("error database"), "-" when none ran.
func worstCheck(s *agent.SiteCheck) string {
	if len(s.Checks) == 0 {
		return "-"
	}
	worst := s.Worst()
	if worst == agent.CheckOK {
		return worst
	}
	for _, c := range s.Checks {
		if c.Status == worst {
			return worst + " " + clean(c.ID)
		}
	}
	return worst
}

// checkDuration writes milliseconds as the table shows them: 180ms, 4.2s.
func checkDuration(ms int64) string {
	d := time.Duration(ms) * time.Millisecond
	if d >= time.Second {
		d = d.Round(100 * time.Millisecond)
	}
	return d.String()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// The metrics of wpfix check, after the blackbox_exporter's probe_* names
// and Prometheus' naming conventions (base units, a unit suffix, labels for
// what varies): every series has the label site, and check where named.
var (
	descSiteUp = prometheus.NewDesc("wpfix_site_up",
		"Whether the site is healthy (1) or unhealthy or unreachable (0).", []string{"site"}, nil)
	descSiteReachable = prometheus.NewDesc("wpfix_site_reachable",
		"Whether the site's host and WordPress could be opened (1) or not (0).", []string{"site"}, nil)
	descProbeStatus = prometheus.NewDesc("wpfix_probe_http_status_code",
		"The HTTP status of the site's probe, 0 when no response came.", []string{"site"}, nil)
	descProbeDuration = prometheus.NewDesc("wpfix_probe_duration_seconds",
		"How long the site's probe took.", []string{"site"}, nil)
	descCheckStatus = prometheus.NewDesc("wpfix_check_status",
		"The status of one check of the site: 0 ok, 1 warning, 2 error.", []string{"site", "check"}, nil)
	descCheckDuration = prometheus.NewDesc("wpfix_check_duration_seconds",
		"How long one check of the site took.", []string{"site", "check"}, nil)
	descTLSExpiry = prometheus.NewDesc("wpfix_tls_cert_expiry_timestamp_seconds",
		"When the site's TLS certificate expires, as a Unix time.", []string{"site"}, nil)
	descLastRun = prometheus.NewDesc("wpfix_check_last_run_timestamp_seconds",
		"When wpfix check last checked the site, as a Unix time.", []string{"site"}, nil)
)

// fleetCollector is a FleetReport as a prometheus.Collector: constant
// gauges, so the registry's consistency checks (one series per name and
// labels, labels as declared, valid UTF-8) apply to every site.
type fleetCollector struct{ r *agent.FleetReport }

// Describe implements prometheus.Collector.
func (c fleetCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descSiteUp, descSiteReachable, descProbeStatus, descProbeDuration,
		descCheckStatus, descCheckDuration, descTLSExpiry, descLastRun} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c fleetCollector) Collect(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		for i, l := range labels {
			labels[i] = strings.ToValidUTF8(l, "\uFFFD") // or the whole file fails to gather
		}
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	for _, s := range c.r.Sites {
		gauge(descSiteUp, bool01(s.State == agent.SiteHealthy), s.Name)
		gauge(descSiteReachable, bool01(s.State != agent.SiteUnreachable), s.Name)
		gauge(descProbeStatus, float64(s.Status), s.Name)
		gauge(descProbeDuration, s.ProbeSeconds, s.Name)
		for _, k := range s.Checks {
			gauge(descCheckStatus, float64(checkStatusValue(k.Status)), s.Name, k.ID)
			gauge(descCheckDuration, float64(k.DurationMS)/1000, s.Name, k.ID)
		}
		if !s.TLSExpiry.IsZero() {
			gauge(descTLSExpiry, unixSeconds(s.TLSExpiry), s.Name)
		}
		checked := s.Checked
		if checked.IsZero() {
			checked = c.r.Started
		}
		gauge(descLastRun, unixSeconds(checked), s.Name)
	}
}

// checkStatusValue is wpfix_check_status's value of a status: 0 ok,
// 1 warning, 2 error (and an unknown status, which is not ok).
func checkStatusValue(status string) int {
	switch status {
	case agent.CheckOK:
		return 0
	case agent.CheckWarning:
		return 1
	}
	return 2
}

func bool01(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func unixSeconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

// writeCheckMetrics writes r in Prometheus' text exposition format, as
// node_exporter's textfile collector reads it: HELP and TYPE lines, gauges
// without timestamps. The client library gathers and encodes them, so the
// escaping of label values (a site name with quotes, backslashes or line
// breaks) and the consistency checks are its own.
func writeCheckMetrics(w io.Writer, r *agent.FleetReport) error {
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(fleetCollector{r}); err != nil {
		return fmt.Errorf("register the check metrics: %w", err)
	}
	families, err := reg.Gather()
	if err != nil {
		return fmt.Errorf("gather the check metrics: %w", err)
	}
	enc := expfmt.NewEncoder(w, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, f := range families {
		if err := enc.Encode(f); err != nil {
			return fmt.Errorf("write the check metrics: %w", err)
		}
	}
	return nil
}

// writeFileAtomic writes path with write, for --output: into a temporary
// file in the same folder, synced, mode 0644, then renamed over path, so a
// reader (node_exporter's textfile collector) sees the old file or the
// new one, never half of one. On an error the temporary file is removed
// and path is left as it was. The temporary name does not end in .prom,
// so the collector never reads it.
func writeFileAtomic(path string, write func(io.Writer) error) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err := write(f); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Chmod(0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("write %s: sync: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	// The rename is durable once the folder is synced; the file is whole
	// either way, so a folder that cannot be synced is no error.
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// checkProgress is wpfix check's progress bar on standard error: sites
// done of all, and how many failed so far, on one line rewritten in place
// and cleared at the end. Off, it writes nothing. Its methods may be
// called from the goroutines that check the sites.
type checkProgress struct {
	w  io.Writer
	on bool

	mu                      sync.Mutex
	total, checked, failing int
	drawn                   bool
}

// showCheckProgress says whether wpfix check shows its progress bar: when
// a person watches standard error, and neither --quiet nor --json (nor
// --verbose, whose log lines the bar would tear) was asked for.
func showCheckProgress(t *terminal, g globalOptions) bool {
	return t.ErrIsTerminal && !g.Quiet && !g.JSON && !g.Verbose
}

// newCheckProgress is a progress bar on w, drawn only when on.
func newCheckProgress(w io.Writer, on bool) *checkProgress {
	return &checkProgress{w: w, on: on}
}

// checkBarWidth is the bar's width in characters.
const checkBarWidth = 30

// start begins the bar over total sites.
func (p *checkProgress) start(total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.total, p.checked, p.failing = total, 0, 0
	p.draw()
}

// done counts one site checked, failing when it is not healthy.
func (p *checkProgress) done(site *agent.SiteCheck) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.checked++
	if site != nil && site.State != agent.SiteHealthy {
		p.failing++
	}
	p.draw()
}

// finish clears the bar's line, so the report starts on a clean one.
func (p *checkProgress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.on && p.drawn {
		io.WriteString(p.w, "\r\x1b[K")
		p.drawn = false
	}
}

// draw rewrites the bar's line: carriage return, the bar, erase to the end
// of the line. p.mu is held.
func (p *checkProgress) draw() {
	if !p.on {
		return
	}
	filled := 0
	if p.total > 0 {
		filled = min(checkBarWidth, p.checked*checkBarWidth/p.total)
	}
	fmt.Fprintf(p.w, "\rchecking [%s%s] %d/%d sites, %d failing\x1b[K",
		strings.Repeat("=", filled), strings.Repeat(" ", checkBarWidth-filled), p.checked, p.total, p.failing)
	p.drawn = true
}
