package agent

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"path"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/wpfix/wpfix/agent/journal"
	"github.com/wpfix/wpfix/remote/sysinfo"
	"github.com/wpfix/wpfix/wp"
	"github.com/wpfix/wpfix/wp/php"
	"github.com/wpfix/wpfix/wp/server"
)

// CheckOptions say how wpfix check looks at one site.
type CheckOptions struct {
	// Probe reaches the site as bisect does: URL "" means the home option
	// (or WP_HOME). With Resolve, the TLS certificate is read at that
	// address (the origin's), not at the public host's.
	Probe ProbeOptions
	// Stack is the host's web stack already read (ReadStack), so that a
	// host's servers are read once for all its sites; nil reads it here.
	Stack *server.Stack
	// Since is how far back log lines count (default 24 h).
	Since time.Duration
	// Signatures are TOML fragments adding log signatures.
	Signatures [][]byte
	// Now is the clock, for tests; zero means time.Now.
	Now time.Time
	// TLSRoots verify the site's certificate; nil means the system's.
	TLSRoots *x509.CertPool
	// Started is the site's probe, started with Probe's options while the
	// site was being opened (StartProbe); nil probes here.
	Started *ProbeRun
}

// ProbeRun is a probe under way, started before its site was opened: over
// a distant link, the page and the opening (finding the install, reading
// wp-config.php, the database's handshake) wait on round trips side by
// side, not one after the other.
type ProbeRun struct {
	done chan struct{}
	r    ProbeResult
	err  error
}

// StartProbe starts probing as po says, until ctx ends.
func StartProbe(ctx context.Context, po ProbeOptions) *ProbeRun {
	pr := &ProbeRun{done: make(chan struct{})}
	p, err := NewProber(po)
	if err != nil {
		pr.err = err
		close(pr.done)
		return pr
	}
	go func() {
		defer close(pr.done)
		pr.r = p.Probe(ctx)
	}()
	return pr
}

// wait returns the probe's result once it has one (Probe returns when its
// context ends).
func (pr *ProbeRun) wait() (ProbeResult, error) {
	<-pr.done
	return pr.r, pr.err
}

// The thresholds of the checks. Those of WP-CLI's doctor command are its
// defaults (wp-cli/doctor-command's default config).
const (
	// AutoloadWarnBytes: autoloaded options larger than this are a warning
	// (doctor's autoload-options-size, 900 kB).
	AutoloadWarnBytes = 900 << 10
	// CronWarnCount: more scheduled events than this are a warning
	// (doctor's cron-count).
	CronWarnCount = 50
	// PluginsWarnCount: more active plugins than this are a warning
	// (doctor's plugin-active-count).
	PluginsWarnCount = 80
	// TLSWarnDays: a certificate that expires sooner is a warning.
	TLSWarnDays = 14
)

// Bounds of the uploads walk: a hostile or huge uploads folder costs no
// more than this.
const (
	uploadsMaxDepth   = 8
	uploadsMaxEntries = 20000
	uploadsShown      = 3
	uploadsTimeout    = 20 * time.Second
)

// CheckSite runs wpfix check's read-only checks on one opened site, in
// DESIGN.md's order: probe, database, versions, journal, recovery-mode,
// logs, limits, disk, tls, debug, autoload, uploads-php, cron, plugins.
// It never fails: whatever cannot be read is a check's status and message.
// It changes nothing on the site: no helper file is placed, no journal
// written and no lock taken (the journal is only read, and checked whole
// as restore would).
//
// It fills Target, URL, Status, ProbeSeconds, TLSExpiry, Checked,
// DurationMS, Checks and State: unhealthy when the probe fails or any
// check is an error, else healthy (unreachable, when the site cannot be
// opened, is the caller's). The caller sets Name and Tags.
//
// Where a check's decision is not obvious:
//   - tls is ok ("no TLS") for an http URL, so every site has the same
//     checks; an expired or untrusted certificate, or a failed handshake,
//     is an error, one that expires within TLSWarnDays a warning.
//   - debug also holds doctor's option-blog-public: search engines
//     discouraged (blog_public = 0) is a warning there, as are WP_DEBUG and
//     SAVEQUERIES on.
//   - cron warns of more than CronWarnCount events, and of any hook
//     scheduled twice or more with the same arguments (doctor's
//     cron-duplicates, stricter than its default of 10).
//   - limits leaves the disk's findings to disk.
//   - a check that needs the database while it does not answer is a
//     warning ("not checked"): the database check is the error.
func CheckSite(ctx context.Context, s *Site, o CheckOptions) *SiteCheck {
	start := time.Now()
	if o.Since <= 0 {
		o.Since = 24 * time.Hour
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	c := &siteChecker{s: s, o: o, sc: &SiteCheck{Target: s.Target.String(), Checked: o.Now}}
	po := o.Probe
	if po.URL == "" {
		po.URL = homeURL(ctx, s)
	}
	c.sc.URL = po.URL

	// Every check runs at once: over a link with 50 ms between wpfix and
	// the server, a site costs its slowest chain of round trips, not the
	// sum of them all (one SSH connection carries them side by side; the
	// database's pool holds two). A slow site costs its probe's timeout
	// once, not on top of the rest. The logs are read once the probe is
	// done, so that what the probe itself made the site log (a fatal on a
	// site nobody visits) counts; versions and disk take what limits read.
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		byID = map[string]Check{}
	)
	keep := func(ch Check) {
		mu.Lock()
		byID[ch.ID] = ch
		mu.Unlock()
	}
	run := func(id string, f func() (string, string)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			keep(timed(id, f))
		}()
	}
	chain := func(f func()) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f()
		}()
	}
	var stackOnce sync.Once
	stack := func() *server.Stack {
		stackOnce.Do(func() { c.stack(ctx) }) // read once, for limits and logs
		return c.o.Stack
	}
	chain(func() {
		probe := timed("probe", func() (string, string) { return c.probe(ctx, po) })
		keep(probe)
		keep(timed("logs", func() (string, string) {
			status, msg := c.logs(ctx, stack())
			// Errors logged while the site answers well now are its
			// past: a warning, not what makes it unhealthy (a site heal
			// has just fixed still has its worker deaths in the log).
			if status == CheckError && probe.Status == CheckOK {
				status, msg = CheckWarning, msg+" (the site answers well now)"
			}
			return status, msg
		}))
	})
	run("tls", func() (string, string) { return c.tls(ctx, po) })
	chain(func() {
		t0 := time.Now()
		lim, limErr := Limits(ctx, s, LimitsOptions{NoHTTP: true, Stack: stack()})
		keep(timedFor("limits", time.Since(t0), func() (string, string) { return limitsStatus(lim, limErr) }))
		run("versions", func() (string, string) { return c.versions(ctx, lim) })
		run("disk", func() (string, string) { return c.disk(ctx, lim) })
	})
	run("database", func() (string, string) { return c.database(ctx) })
	run("journal", func() (string, string) { return c.journal(ctx) })
	run("recovery-mode", func() (string, string) { return c.recoveryMode(ctx) })
	run("debug", func() (string, string) { return c.debug(ctx) })
	run("autoload", func() (string, string) { return c.autoload(ctx) })
	run("uploads-php", func() (string, string) { return c.uploadsPHP(ctx) })
	run("cron", func() (string, string) { return c.cron(ctx) })
	run("plugins", func() (string, string) { return c.plugins(ctx) })
	wg.Wait()
	probe := byID["probe"]

	checks := make([]Check, 0, len(checkOrder))
	for _, id := range checkOrder {
		checks = append(checks, byID[id])
	}
	c.sc.Checks = checks
	c.sc.State = SiteHealthy
	if probe.Status != CheckOK || c.sc.Worst() == CheckError {
		c.sc.State = SiteUnhealthy
	}
	c.sc.DurationMS = time.Since(start).Milliseconds()
	return c.sc
}

// checkOrder is the order of CheckSite's checks: DESIGN.md's ids.
var checkOrder = []string{"probe", "database", "versions", "journal", "recovery-mode", "logs", "limits",
	"disk", "tls", "debug", "autoload", "uploads-php", "cron", "plugins"}

// siteChecker holds one site's checks as they run.
type siteChecker struct {
	s  *Site
	o  CheckOptions
	sc *SiteCheck
}

// timed runs one check and keeps how long it took.
func timed(id string, f func() (string, string)) Check {
	start := time.Now()
	status, msg := f()
	return Check{ID: id, Status: status, Message: oneLine(msg), DurationMS: time.Since(start).Milliseconds()}
}

// timedFor is timed for a check whose work was done before, in d.
func timedFor(id string, d time.Duration, f func() (string, string)) Check {
	c := timed(id, f)
	c.DurationMS += d.Milliseconds()
	return c
}

// oneLine keeps a message to one printable line of bounded length.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	return cleanHeaderValue(s, 300)
}

// stack is the host's web stack, read once here when the caller did not.
func (c *siteChecker) stack(ctx context.Context) *server.Stack {
	if c.o.Stack == nil {
		c.o.Stack, _ = ReadStack(ctx, c.s) // Limits and Logs note why, when it fails
	}
	return c.o.Stack
}

// notChecked is the status of a check that needs the database while it
// does not answer.
func (c *siteChecker) notChecked() (string, string, bool) {
	if c.s.DB == nil {
		return CheckWarning, "not checked: the database does not answer", true
	}
	return "", "", false
}

func (c *siteChecker) probe(ctx context.Context, po ProbeOptions) (string, string) {
	if po.URL == "" {
		return CheckError, "the site's URL is unknown (no home option, no WP_HOME): give it in the inventory"
	}
	var r ProbeResult
	if c.o.Started != nil {
		var err error
		if r, err = c.o.Started.wait(); err != nil {
			return CheckError, err.Error()
		}
	} else {
		p, err := NewProber(po)
		if err != nil {
			return CheckError, err.Error()
		}
		r = p.Probe(ctx)
	}
	c.sc.Status, c.sc.ProbeSeconds = r.Status, r.Duration.Seconds()
	if r.Bad {
		msg := r.Reason
		if r.Redirect != "" {
			msg += " (redirect to " + r.Redirect + ")"
		}
		return CheckError, msg
	}
	return CheckOK, fmt.Sprintf("status %d in %d ms", r.Status, r.Duration.Milliseconds())
}

func (c *siteChecker) database(ctx context.Context) (string, string) {
	if c.s.DB == nil {
		return CheckError, "the database does not answer: " + errString(c.s.DBErr, "not opened")
	}
	if _, _, err := c.s.DB.Option(ctx, "siteurl"); err != nil {
		return CheckError, "the database does not answer: " + err.Error()
	}
	return CheckOK, "the database answers"
}

func (c *siteChecker) versions(ctx context.Context, lim *LimitsReport) (string, string) {
	var have, missing []string
	if v, err := wp.ReadVersion(ctx, c.s.Host, c.s.WP.Root); err == nil && v != "" {
		have = append(have, "WordPress "+v)
	} else {
		missing = append(missing, "WordPress")
	}
	if lim != nil && lim.CLI != nil && lim.CLI.Version != "" {
		v := lim.CLI.Version
		if p := strings.SplitN(v, ".", 3); len(p) >= 2 {
			v = p[0] + "." + p[1]
		}
		have = append(have, "PHP "+v)
	} else {
		missing = append(missing, "PHP")
	}
	if c.s.DB != nil {
		if v, err := c.s.DB.ServerVersion(ctx); err == nil {
			have = append(have, wp.ServerName(v))
		} else {
			missing = append(missing, "database")
		}
	} else {
		missing = append(missing, "database")
	}
	msg := strings.Join(have, ", ")
	if len(missing) > 0 {
		if msg != "" {
			msg += "; "
		}
		return CheckWarning, msg + "unknown: " + strings.Join(missing, ", ")
	}
	return CheckOK, msg
}

// journal reads the journal a wpfix run left on the site, without the
// lock, and says what of it is still in effect.
func (c *siteChecker) journal(ctx context.Context) (string, string) {
	js := c.s.journalSite()
	restore := "wpfix restore " + shellTarget(c.s.Target)
	j, err := journal.Read(ctx, js)
	switch {
	case errors.Is(err, journal.ErrUntrusted):
		return CheckError, "a wpfix journal that cannot be trusted: " + err.Error()
	case err != nil:
		return CheckError, "the wpfix journal could not be read: " + err.Error()
	case j == nil:
		return CheckOK, "no wpfix journal"
	}
	var changes []string
	for _, st := range j.Pending() {
		if st.Housekeeping() {
			continue
		}
		changes = append(changes, describeStep(st))
	}
	if !j.Released() {
		// A run that holds the lock may be going on now: whether it is
		// alive cannot be told without writing (journal.Check does).
		run, then := "an interrupted wpfix run", ": "
		if _, err := c.s.Host.Lstat(ctx, path.Join(js.Dir(), "lock")); err == nil {
			run, then = "a wpfix run in progress, or an interrupted one,", "; if no run is going: "
		}
		if len(changes) == 0 {
			return CheckError, run + " left its journal" + then + restore
		}
		return CheckError, fmt.Sprintf("%s left changes (%s)%s%s", run, strings.Join(changes, ", "), then, restore)
	}
	if len(changes) == 0 {
		return CheckOK, "a finished wpfix journal, nothing of it in effect"
	}
	// When: the journal's last write, which a released run's was.
	since := ""
	if fi, err := c.s.Host.Lstat(ctx, path.Join(js.Dir(), "journal")); err == nil {
		since = " since " + fi.ModTime().UTC().Format("2006-01-02 15:04 UTC")
	}
	return CheckWarning, fmt.Sprintf("%s by wpfix%s (%s)", strings.Join(changes, ", "), since, restore)
}

// describeStep says what a journal step changed, as a fragment of a
// sentence: "plugin hello disabled".
func describeStep(st *journal.Step) string {
	switch st.Op {
	case journal.OpRename:
		// quarantine/<kind>/<name>
		return path.Base(path.Dir(st.To)) + " " + path.Base(st.To) + " disabled"
	case journal.OpOption:
		return "option " + st.Name + " changed"
	}
	return string(st.Op) + " step " + fmt.Sprint(st.Seq)
}

func (c *siteChecker) recoveryMode(ctx context.Context) (string, string) {
	if st, msg, ok := c.notChecked(); ok {
		return st, msg
	}
	paused, err := c.s.DB.PausedExtensions(ctx)
	if err != nil {
		return CheckWarning, err.Error()
	}
	var names []string
	for kind, exts := range paused {
		for name := range exts {
			names = append(names, strings.TrimSuffix(kind, "s")+" "+name)
		}
	}
	if len(names) == 0 {
		return CheckOK, "no extension paused by recovery mode"
	}
	sort.Strings(names)
	return CheckWarning, "paused by WordPress's recovery mode: " + strings.Join(names, ", ")
}

func (c *siteChecker) logs(ctx context.Context, st *server.Stack) (string, string) {
	lr, err := Logs(ctx, c.s, LogsOptions{Lines: 2000, Since: c.o.Since, Now: c.o.Now, Signatures: c.o.Signatures, Stack: st})
	if err != nil {
		return CheckWarning, "the logs could not be read: " + err.Error()
	}
	return logsStatus(logSignatures(lr), c.o.Since)
}

// logsStatus judges the signatures seen in the window: the most frequent
// error (fatal or error severity) makes an error, else the most frequent
// warning a warning.
func logsStatus(sigs []LogSignature, since time.Duration) (string, string) {
	window := "in the last " + shortDuration(since)
	pick := func(sev ...string) *LogSignature {
		for i := range sigs {
			if slices.Contains(sev, sigs[i].Severity) {
				return &sigs[i]
			}
		}
		return nil
	}
	say := func(ls *LogSignature) string {
		msg := fmt.Sprintf("%d× %s %s", ls.Count, ls.Signature, window)
		if len(ls.Blames) > 0 {
			var b []string
			for _, e := range ls.Blames {
				b = append(b, e.String())
			}
			msg += ", blaming " + strings.Join(b, ", ")
		}
		if n := len(sigs) - 1; n > 0 {
			msg += fmt.Sprintf(" (+%d more signatures)", n)
		}
		if sum, _, _ := strings.Cut(ls.Summary, "; "); sum != "" {
			msg += ": " + strings.TrimSuffix(sum, ".")
		}
		return msg
	}
	if ls := pick("fatal", "error"); ls != nil {
		return CheckError, say(ls)
	}
	if ls := pick("warning"); ls != nil {
		return CheckWarning, say(ls)
	}
	return CheckOK, "no known error signature " + window
}

// shortDuration prints 24h as "24h", 90m as "1h30m".
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// diskFindings are the limits' findings that the disk check reports.
var diskFindings = []string{"disk-full", "disk-low", "inodes-full"}

// limitsStatus judges limits --no-http's findings by the worst.
func limitsStatus(lim *LimitsReport, err error) (string, string) {
	if err != nil {
		return CheckWarning, "the limits could not be read: " + err.Error()
	}
	var errs, warns []Finding
	for _, f := range lim.Findings {
		switch {
		case slices.Contains(diskFindings, f.ID):
		case f.Severity == SeverityError:
			errs = append(errs, f)
		case f.Severity == SeverityWarning:
			warns = append(warns, f)
		}
	}
	say := func(fs []Finding) string {
		msg := fs[0].Problem
		if n := len(errs) + len(warns) - 1; n > 0 {
			msg += fmt.Sprintf(" (+%d more)", n)
		}
		return msg
	}
	switch {
	case len(errs) > 0:
		return CheckError, say(errs)
	case len(warns) > 0:
		return CheckWarning, say(warns)
	}
	return CheckOK, "no limit conflict found in the servers' configs"
}

func (c *siteChecker) disk(ctx context.Context, lim *LimitsReport) (string, string) {
	var d *sysinfo.Disk
	if lim != nil && lim.Disk != nil {
		d = lim.Disk
	} else {
		got, err := sysinfo.DiskSpace(ctx, c.s.Host, c.s.WP.Root)
		if err != nil {
			return CheckWarning, "free disk unknown: " + err.Error()
		}
		d = &got
	}
	return diskStatus(*d)
}

// diskStatus: an error under 5% or 100 MiB free, or 2% of the inodes; a
// warning under 10% of either.
func diskStatus(d sysinfo.Disk) (string, string) {
	if d.Total <= 0 {
		return CheckWarning, "free disk unknown: the filesystem reports no size"
	}
	pct := float64(d.Avail) / float64(d.Total) * 100
	msg := fmt.Sprintf("%s free of %s on %s (%.0f%%)", php.FormatSizeRounded(d.Avail), php.FormatSizeRounded(d.Total), d.MountedOn, pct)
	ipct := 100.0
	if d.Inodes > 0 {
		ipct = float64(d.InodesFree) / float64(d.Inodes) * 100
		msg += fmt.Sprintf(", %.0f%% of the inodes", ipct)
	}
	switch {
	case pct < 5 || d.Avail < 100<<20 || ipct < 2:
		return CheckError, msg
	case pct < 10 || ipct < 10:
		return CheckWarning, msg
	}
	return CheckOK, msg
}

func (c *siteChecker) tls(ctx context.Context, po ProbeOptions) (string, string) {
	u, err := url.Parse(po.URL)
	if err != nil || po.URL == "" {
		return CheckOK, "not checked: the site's URL is unknown"
	}
	if u.Scheme != "https" {
		return CheckOK, "no TLS (" + u.Scheme + " URL)"
	}
	port := u.Port()
	if port == "" {
		port = "443"
	}
	host := u.Hostname()
	if po.Resolve != "" {
		host = po.Resolve
		if h, p, err := net.SplitHostPort(po.Resolve); err == nil {
			host, port = h, p
		}
	}
	tc := CheckTLS(ctx, net.JoinHostPort(host, port), u.Hostname(), TLSOptions{Now: c.o.Now, Roots: c.o.TLSRoots})
	if !tc.NotAfter.IsZero() {
		c.sc.TLSExpiry = tc.NotAfter
	}
	return tlsStatus(tc)
}

// tlsStatus judges a certificate: an error when the handshake fails or
// the certificate is expired or untrusted, a warning within TLSWarnDays.
func tlsStatus(tc TLSCheck) (string, string) {
	switch {
	case tc.Error != "":
		return CheckError, tc.Error
	case tc.Expired:
		return CheckError, fmt.Sprintf("certificate expired on %s", tc.NotAfter.UTC().Format("2006-01-02"))
	case tc.VerifyError != "":
		return CheckError, "certificate not trusted: " + tc.VerifyError
	case tc.DaysLeft < TLSWarnDays:
		return CheckWarning, fmt.Sprintf("certificate expires in %d days", tc.DaysLeft)
	}
	return CheckOK, fmt.Sprintf("certificate valid, %d days left", tc.DaysLeft)
}

// debug: doctor's constant-wp-debug-falsy, constant-savequeries-falsy and
// option-blog-public, each a warning.
func (c *siteChecker) debug(ctx context.Context) (string, string) {
	var found, unknown []string
	on := func(name string) bool {
		v, ok, err := c.s.WP.Constant(name)
		if err != nil {
			unknown = append(unknown, name)
			return false
		}
		return ok && v != "" && v != "0" // PHP's truth of the value as a string
	}
	if on("WP_DEBUG") {
		w := "WP_DEBUG on"
		if v, ok, err := c.s.WP.Constant("WP_DEBUG_DISPLAY"); err == nil && (!ok || v != "" && v != "0") {
			w += " (errors shown to visitors)"
		}
		found = append(found, w)
	}
	if on("SAVEQUERIES") {
		found = append(found, "SAVEQUERIES on (every query kept in memory)")
	}
	if c.s.DB != nil {
		if v, ok, err := c.s.DB.Option(ctx, "blog_public"); err == nil && ok && v == "0" {
			found = append(found, "search engines discouraged (blog_public = 0)")
		}
	}
	if len(unknown) > 0 {
		found = append(found, "cannot evaluate "+strings.Join(unknown, ", ")+" in wp-config.php")
	}
	if len(found) > 0 {
		return CheckWarning, strings.Join(found, "; ")
	}
	return CheckOK, "WP_DEBUG and SAVEQUERIES off"
}

func (c *siteChecker) autoload(ctx context.Context) (string, string) {
	if st, msg, ok := c.notChecked(); ok {
		return st, msg
	}
	size, n, err := c.s.DB.AutoloadSize(ctx)
	if err != nil {
		return CheckWarning, err.Error()
	}
	msg := fmt.Sprintf("%d autoloaded options, %d kB", n, size>>10)
	if size > AutoloadWarnBytes {
		return CheckWarning, msg + fmt.Sprintf(", over %d kB: loaded on every request", AutoloadWarnBytes>>10)
	}
	return CheckOK, msg
}

// uploadsDir is the uploads folder: UPLOADS (relative to ABSPATH) when
// wp-config.php sets it, else wp-content/uploads.
func (c *siteChecker) uploadsDir() string {
	if v, ok, err := c.s.WP.Constant("UPLOADS"); err == nil && ok && v != "" && wp.LocalPath(v) == nil {
		return path.Join(c.s.WP.Root, v)
	}
	return path.Join(c.s.WP.ContentDir, "uploads")
}

// isPHPFile reports a file name a PHP server may run.
func isPHPFile(name string) bool {
	ext := strings.ToLower(path.Ext(name))
	switch ext {
	case ".php", ".phtml", ".phar", ".pht", ".phps":
		return true
	}
	return len(ext) == 5 && strings.HasPrefix(ext, ".php") && ext[4] >= '3' && ext[4] <= '8'
}

func (c *siteChecker) uploadsPHP(ctx context.Context) (string, string) {
	dir := c.uploadsDir()
	// A folder of a million files is listed whole by ReadDir: the walk
	// has its own deadline besides its bounds.
	wctx, cancel := context.WithTimeout(ctx, uploadsTimeout)
	defer cancel()
	found, total, stopped, err := findPHP(wctx, c.s, dir)
	if err != nil && wctx.Err() != nil && ctx.Err() == nil {
		found, total, stopped, err = nil, 0, fmt.Sprintf("not read within %s", uploadsTimeout), nil
	}
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return CheckOK, "no uploads folder"
		}
		return CheckWarning, "the uploads folder could not be read: " + err.Error()
	}
	note := ""
	if stopped != "" {
		note = " (" + stopped + ")"
	}
	if len(found) == 0 {
		return CheckOK, "no PHP file in " + dir + note
	}
	shown := found[:min(len(found), uploadsShown)]
	for i, f := range shown {
		shown[i] = strings.TrimPrefix(f, dir+"/")
	}
	msg := fmt.Sprintf("%s in %s: %s", plural(total, "PHP file"), dir, strings.Join(shown, ", "))
	if total > len(shown) {
		msg += ", …"
	}
	return CheckWarning, msg + note
}

// findPHP walks dir breadth first, following no symbolic link, at most
// uploadsMaxDepth deep and uploadsMaxEntries entries, for PHP files;
// stopped says where a bound ended the walk.
func findPHP(ctx context.Context, s *Site, dir string) (found []string, total int, stopped string, err error) {
	fi, err := s.Host.Lstat(ctx, dir)
	if err != nil {
		return nil, 0, "", err
	}
	if !fi.IsDir() {
		return nil, 0, "", fmt.Errorf("%s is %s, not a folder", dir, fileKindOf(fi.Mode()))
	}
	type item struct {
		path  string
		depth int
	}
	queue := []item{{dir, 0}}
	seen := 0
	for len(queue) > 0 {
		if ctx.Err() != nil {
			return found, total, "walk stopped: " + ctx.Err().Error(), nil
		}
		it := queue[0]
		queue = queue[1:]
		ents, err := s.Host.ReadDir(ctx, it.path)
		switch {
		case err != nil && ctx.Err() != nil:
			return found, total, "walk stopped: " + ctx.Err().Error(), nil
		case err != nil && it.path == dir:
			return nil, 0, "", err
		case err != nil:
			continue // a folder the user cannot read: not the site's uploads
		}
		for _, e := range ents {
			if seen++; seen > uploadsMaxEntries {
				return found, total, fmt.Sprintf("walk stopped after %d entries", uploadsMaxEntries), nil
			}
			p := path.Join(it.path, e.Name())
			switch {
			case e.Mode()&fs.ModeSymlink != 0:
				if isPHPFile(e.Name()) {
					total++
					found = append(found, p)
				}
			case e.IsDir():
				if it.depth+1 < uploadsMaxDepth {
					queue = append(queue, item{p, it.depth + 1})
				} else if stopped == "" {
					stopped = fmt.Sprintf("not below %d levels", uploadsMaxDepth)
				}
			case isPHPFile(e.Name()):
				total++
				found = append(found, p)
			}
		}
	}
	return found, total, stopped, nil
}

// fileKindOf names a file's type for messages.
func fileKindOf(m fs.FileMode) string {
	switch {
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	case m.IsRegular():
		return "a file"
	}
	return m.Type().String()
}

func (c *siteChecker) cron(ctx context.Context) (string, string) {
	if st, msg, ok := c.notChecked(); ok {
		return st, msg
	}
	events, err := c.s.DB.CronEvents(ctx)
	if err != nil {
		return CheckWarning, err.Error()
	}
	return cronStatus(events)
}

// cronStatus: more than CronWarnCount events, or one hook scheduled more
// than once with the same arguments, is a warning.
func cronStatus(events []wp.CronEvent) (string, string) {
	count := map[string]int{}
	for _, e := range events {
		count[e.Hook+"\x00"+e.Key]++
	}
	var dups []string
	for k, n := range count {
		if n > 1 {
			hook, _, _ := strings.Cut(k, "\x00")
			dups = append(dups, fmt.Sprintf("%s ×%d", hook, n))
		}
	}
	sort.Strings(dups)
	var problems []string
	if len(events) > CronWarnCount {
		problems = append(problems, fmt.Sprintf("%d cron events scheduled, over %d", len(events), CronWarnCount))
	}
	if len(dups) > 0 {
		shown := dups[:min(len(dups), 3)]
		d := "the same event scheduled more than once: " + strings.Join(shown, ", ")
		if len(dups) > len(shown) {
			d += fmt.Sprintf(" (+%d more)", len(dups)-len(shown))
		}
		problems = append(problems, d)
	}
	if len(problems) > 0 {
		return CheckWarning, strings.Join(problems, "; ")
	}
	return CheckOK, fmt.Sprintf("%d cron events scheduled", len(events))
}

func (c *siteChecker) plugins(ctx context.Context) (string, string) {
	if st, msg, ok := c.notChecked(); ok {
		return st, msg
	}
	active, err := c.s.DB.ActivePlugins(ctx)
	if err != nil {
		return CheckWarning, err.Error()
	}
	// On a multisite network, those active for the whole network run too.
	if v, ok, err := c.s.WP.Constant("MULTISITE"); err == nil && ok && v != "" && v != "0" {
		raw, ok, err := c.s.DB.SiteOption(ctx, "active_sitewide_plugins")
		if err != nil {
			return CheckWarning, err.Error()
		}
		if ok {
			if m, err := php.Unserialize([]byte(raw)); err == nil {
				for _, e := range m.Entries() {
					if f := e.Key.String(); !slices.Contains(active, f) {
						active = append(active, f)
					}
				}
			}
		}
	}
	msg := plural(len(active), "active plugin")
	if len(active) > PluginsWarnCount {
		return CheckWarning, msg + fmt.Sprintf(", over %d", PluginsWarnCount)
	}
	return CheckOK, msg
}

// plural is "1 thing", "2 things".
func plural(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}
