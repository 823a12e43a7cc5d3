package agent

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/wpfix/wpfix/agent/fleet"
	"github.com/wpfix/wpfix/remote"
	"github.com/wpfix/wpfix/wp/server"
)

// FleetOptions configure a run of wpfix check over many sites.
type FleetOptions struct {
	// Open is how sites are reached (the command's flags); each site's own
	// SSH settings fill what the flags leave unset (fleet.Site.Options).
	Open Options
	// Probe is the probe of every site; each site's URL, resolve and probe
	// paths are its own.
	Probe ProbeOptions
	// Concurrency is how many sites are checked at once (default 32),
	// PerHost how many of them on one server (default 8): a site's check is
	// a few dozen small reads, a few queries and one page, mostly waiting
	// on round trips, and eight at once ask of a server about what one
	// browser opening a page does.
	Concurrency, PerHost int
	// SiteTimeout bounds one site, its fix included (default 2 minutes).
	SiteTimeout time.Duration
	// Since is the log window (default 24 h); Signatures add log signatures.
	Since      time.Duration
	Signatures [][]byte
	// Fix heals each unhealthy site (Heal with these options), never two
	// on one server at once.
	Fix  bool
	Heal HealOptions
	// Progress is told of each site checked; nil is silence.
	Progress func(*SiteCheck)
}

// CheckFleet checks every site, read-only: no helper placed, no journal, no
// lock taken (with Fix, an unhealthy site is then healed). Sites on one
// server share one connection and one reading of its web stack. An
// unreachable host, a changed host key, a hung or hostile site stops none
// of the others; a cancelled ctx ends the run promptly, with the sites
// checked so far (Interrupted). The report lists the sites worst first.
func CheckFleet(ctx context.Context, sites []fleet.Site, o FleetOptions) *FleetReport {
	if o.Concurrency <= 0 {
		o.Concurrency = 32
	}
	if o.PerHost <= 0 {
		o.PerHost = 8
	}
	if o.SiteTimeout <= 0 {
		o.SiteTimeout = 2 * time.Minute
	}
	if o.Since <= 0 {
		o.Since = 24 * time.Hour
	}
	r := &FleetReport{Version: 1, Started: time.Now().UTC(), Sites: []*SiteCheck{}}
	start := time.Now()
	hosts := map[string]*fleetHost{}
	var (
		mu  sync.Mutex
		wg  sync.WaitGroup
		all = make(chan struct{}, o.Concurrency)
	)
	for _, site := range sites {
		key, t, ro, err := connKey(site, o.Open.Remote)
		h := hosts[key]
		if h == nil && err == nil {
			h = &fleetHost{target: t, opts: ro, slots: make(chan struct{}, o.PerHost)}
			hosts[key] = h
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			var sc *SiteCheck
			if err != nil {
				sc = unreachableSite(site, err)
			} else {
				select {
				case all <- struct{}{}:
				case <-ctx.Done():
					return
				}
				select {
				case h.slots <- struct{}{}:
				case <-ctx.Done():
					<-all
					return
				}
				sc = checkOne(ctx, h, site, o)
				<-h.slots
				<-all
			}
			if ctx.Err() != nil && sc.State == SiteUnreachable {
				return // cut short, not unreachable
			}
			mu.Lock()
			r.Sites = append(r.Sites, sc)
			mu.Unlock()
			if o.Progress != nil {
				o.Progress(sc)
			}
		}()
	}
	wg.Wait()
	for _, h := range hosts {
		h.close()
	}
	r.Interrupted = ctx.Err() != nil
	r.DurationMS = time.Since(start).Milliseconds()
	sortSites(r.Sites)
	for _, s := range r.Sites {
		r.Summary.Sites++
		switch s.State {
		case SiteHealthy:
			r.Summary.Healthy++
		case SiteUnhealthy:
			r.Summary.Unhealthy++
		default:
			r.Summary.Unreachable++
		}
	}
	return r
}

// fleetHost is one server of a run: one connection and one reading of its
// web stack, shared by its sites.
type fleetHost struct {
	target remote.Target
	opts   remote.Options
	slots  chan struct{} // at most PerHost sites at once
	fixMu  sync.Mutex    // never two fixes on one server at once

	once sync.Once
	// host is the connection, behind a cache of what its sites read.
	host  *readCache
	err   error
	stack struct {
		once sync.Once
		st   *server.Stack
	}
}

// connect opens the host's connection once; every site of the host sees
// the same error when it cannot be had.
func (h *fleetHost) connect(ctx context.Context) (remote.Host, error) {
	h.once.Do(func() {
		var raw remote.Host
		if raw, h.err = remote.Open(ctx, h.target, h.opts); h.err == nil {
			h.host = newReadCache(raw)
		}
	})
	if h.err != nil {
		return nil, h.err
	}
	return h.host, nil
}

func (h *fleetHost) close() {
	if h.host != nil {
		h.host.Close()
	}
}

// connKey says which sites share a connection: the same user, host, port
// and key settings.
func connKey(s fleet.Site, flags remote.Options) (string, remote.Target, remote.Options, error) {
	t, err := remote.ParseTarget(s.Target)
	if err != nil {
		return "", t, flags, badInput(err)
	}
	ro := s.Options(flags)
	if t.Local() {
		return "local", t, ro, nil
	}
	port := t.Port
	if port == 0 {
		port = ro.Port
	}
	return t.User + "@" + t.Host + ":" + strconv.Itoa(port) + "|" + ro.Identity + "|" + ro.KnownHosts, t, ro, nil
}

// checkOne checks one site on its host, within the site's deadline.
func checkOne(ctx context.Context, h *fleetHost, site fleet.Site, o FleetOptions) *SiteCheck {
	ctx, cancel := context.WithTimeout(ctx, o.SiteTimeout)
	defer cancel()
	start := time.Now()
	po := o.Probe
	po.URL, po.Resolve = site.URL, site.Resolve
	po.Paths = append(append([]string(nil), o.Probe.Paths...), site.Probe...)
	// A site whose URL the inventory gives is probed while it is opened.
	var started *ProbeRun
	if po.URL != "" {
		started = StartProbe(ctx, po)
	}
	host, err := h.connect(ctx)
	if err != nil {
		return unreachableSite(site, unreachable(err))
	}
	t, _ := remote.ParseTarget(site.Target)
	oo := o.Open
	oo.DBOptional = true
	s, err := OpenOn(ctx, host, t, oo)
	if err != nil {
		return unreachableSite(site, err)
	}
	defer s.Close()
	h.stack.once.Do(func() { h.stack.st, _ = ReadStack(ctx, s) })
	sc := CheckSite(ctx, s, CheckOptions{Probe: po, Stack: h.stack.st, Since: o.Since, Signatures: o.Signatures, Started: started})
	sc.Name, sc.Target, sc.Tags = site.Name, site.Target, site.Tags
	if o.Fix && sc.State == SiteUnhealthy && probeFailed(sc) {
		h.fixMu.Lock()
		fix := fixSite(ctx, site, po, o)
		h.fixMu.Unlock()
		if fix.State == HealFixed || fix.State == HealHealthy {
			// the report says how the site is now, with the fix in place
			// (the journal check names the culprit left disabled): what
			// the cache kept of it is from before
			h.host.Forget()
			sc = CheckSite(ctx, s, CheckOptions{Probe: po, Stack: h.stack.st, Since: o.Since, Signatures: o.Signatures})
			sc.Name, sc.Target, sc.Tags = site.Name, site.Target, site.Tags
		}
		sc.Fix = fix
	}
	sc.DurationMS = time.Since(start).Milliseconds()
	return sc
}

// probeFailed reports whether the site's probe check failed: what heal
// can fix (a warning elsewhere is not).
func probeFailed(sc *SiteCheck) bool {
	for _, c := range sc.Checks {
		if c.ID == "probe" {
			return c.Status == CheckError
		}
	}
	return false
}

// fixSite heals one site: its own connection and as its owner, as heal
// from cron would (OpenOn makes no change).
func fixSite(ctx context.Context, site fleet.Site, po ProbeOptions, o FleetOptions) *HealReport {
	oo := o.Open
	oo.DBOptional = true
	oo.Remote = site.Options(o.Open.Remote)
	s, err := Open(ctx, site.Target, oo)
	if err != nil {
		return &HealReport{Target: site.Target, State: HealBroken, Reason: "not opened: " + err.Error(), Events: []Event{}}
	}
	defer s.Close()
	ho := o.Heal
	ho.Probe = po
	rep, err := Heal(ctx, s, ho)
	if err != nil {
		return &HealReport{Target: site.Target, State: HealBroken, Reason: err.Error(), Events: []Event{}}
	}
	return rep
}

// unreachableSite is the report of a site whose host or WordPress could
// not be opened.
func unreachableSite(site fleet.Site, err error) *SiteCheck {
	return &SiteCheck{Name: site.Name, Target: site.Target, URL: site.URL, State: SiteUnreachable,
		Tags: site.Tags, Checks: []Check{}, Error: err.Error(), Checked: time.Now()}
}

// sortSites orders sites worst first: unreachable, unhealthy, healthy with
// warnings, healthy; then by name.
func sortSites(sites []*SiteCheck) {
	rank := func(s *SiteCheck) int {
		switch {
		case s.State == SiteUnreachable:
			return 0
		case s.State == SiteUnhealthy:
			return 1
		case s.Worst() == CheckWarning:
			return 2
		}
		return 3
	}
	sort.SliceStable(sites, func(i, j int) bool {
		if a, b := rank(sites[i]), rank(sites[j]); a != b {
			return a < b
		}
		return sites[i].Name < sites[j].Name
	})
}

// String is for messages.
func (h *fleetHost) String() string { return fmt.Sprint(h.target) }
