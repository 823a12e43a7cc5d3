package agent

import (
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/wpfix/wpfix/wp/php"
	"github.com/wpfix/wpfix/wp/server"
)

// phpValue is what PHP under the web server runs with for name, and
// where: the helper's answer ("PHP under the web server"), else the
// pool's php.ini and php_(admin_)value. known is false when neither says.
func phpValue(r *LimitsReport, pool *server.FPMPool, name string) (v server.Setting, known bool) {
	if r.PHP != nil {
		if v, ok := r.PHP.INI[name]; ok {
			return server.Setting{Value: v, Origin: "PHP under the web server"}, true
		}
	}
	if pool != nil {
		if s, ok := pool.PHP[name]; ok {
			return s, true
		}
	}
	return server.Setting{}, false
}

// servingPools are the pools that serve the site. When the configs do not
// say which (no web server config was matched to the site: a root set by a
// variable, a proxy in front), a lone pool is taken to; when the web server
// is known and none of the pools is where it sends PHP, the site's pool is
// not running and no other pool stands in for it.
func servingPools(r *LimitsReport) []*server.FPMPool {
	var out []*server.FPMPool
	for i := range r.Pools {
		if r.Pools[i].ServesSite {
			out = append(out, &r.Pools[i])
		}
	}
	webKnown := slices.ContainsFunc(r.Web, func(w server.WebTimeout) bool { return w.ServesSite })
	if len(out) == 0 && len(r.Pools) == 1 && !webKnown {
		out = append(out, &r.Pools[0])
	}
	return out
}

func seconds(v string) (time.Duration, bool) {
	n, err := strconv.ParseFloat(v, 64)
	if err != nil || n < 0 {
		return 0, false
	}
	return time.Duration(n * float64(time.Second)), true
}

func where(src string) string {
	if src == "" {
		return "the built-in default"
	}
	return src
}

// limitFindings applies the rules to what the report holds: each rule
// needs only the values it compares, and is skipped when one is unknown.
func limitFindings(r *LimitsReport) []Finding {
	var out []Finding
	add := func(f Finding) { out = append(out, f) }
	pools := servingPools(r)
	if len(pools) == 0 {
		pools = []*server.FPMPool{nil} // PHP's own values still count
	}
	for _, pool := range pools {
		met, metKnown := phpValue(r, pool, "max_execution_time")
		metD, metOK := seconds(met.Value)
		metOK = metOK && metKnown
		var rtt time.Duration
		rttSrc := ""
		if pool != nil {
			rtt, rttSrc = pool.RequestTerminateTimeout, pool.Sources["request_terminate_timeout"]
		}
		switch {
		case rtt > 0 && metOK && metD > 0 && rtt < metD:
			add(Finding{ID: "fpm-terminate-below-execution", Severity: SeverityError,
				Problem: fmt.Sprintf("php-fpm pool %s: request_terminate_timeout %s is below max_execution_time %s (%s)",
					pool.Name, rtt, metD, met.Source()),
				Consequence: "php-fpm kills a worker that PHP would still let run: the visitor gets 502 Bad Gateway, " +
					"not PHP's \"Maximum execution time exceeded\", and PHP logs nothing of it",
				Fix: fmt.Sprintf("raise request_terminate_timeout (%s) to at least %s, or lower max_execution_time below %s",
					where(rttSrc), metD, rtt)})
		case rtt > 0 && metOK && metD == 0:
			add(Finding{ID: "fpm-terminate-only-limit", Severity: SeverityWarning,
				Problem: fmt.Sprintf("php-fpm pool %s: max_execution_time is 0 (%s), so request_terminate_timeout %s is the only time limit",
					pool.Name, met.Source(), rtt),
				Consequence: "a slow request runs until php-fpm kills the worker: 502 Bad Gateway, with nothing in PHP's log",
				Fix:         fmt.Sprintf("set max_execution_time a little below %s, so PHP stops first and says where", rtt)})
		}

		// The time PHP may take, by its own limit or the pool's.
		var bound time.Duration
		boundWhat := ""
		if metOK && metD > 0 {
			bound, boundWhat = metD, "max_execution_time "+metD.String()
		}
		if rtt > 0 && (bound == 0 || rtt < bound) {
			bound, boundWhat = rtt, "request_terminate_timeout "+rtt.String()
		}
		for _, w := range r.Web {
			if !w.ServesSite || w.Value <= 0 || bound == 0 || w.Value >= bound {
				continue
			}
			add(Finding{ID: "web-timeout-below-php", Severity: SeverityError,
				Problem: fmt.Sprintf("%s's %s %s (%s) is below PHP's limit, %s",
					w.Server, w.Directive, w.Value, where(w.Source), boundWhat),
				Consequence: fmt.Sprintf("a request that takes longer than %s gets 504 Gateway Timeout from %s while PHP goes on working "+
					"(an import or update may still finish, or stop half way)", w.Value, w.Server),
				Fix: fmt.Sprintf("raise %s to at least %s, or lower PHP's limit below %s", w.Directive, bound, w.Value)})
		}

		if f, ok := memoryFinding(r, pool); ok {
			add(f)
		}
		if f, ok := overcommitFinding(r, pool); ok {
			add(f)
		}
		if pool == nil {
			break
		}
	}

	post, postKnown := phpValue(r, firstPool(pools), "post_max_size")
	upload, uploadKnown := phpValue(r, firstPool(pools), "upload_max_filesize")
	if p, ok := php.ParseINISize(post.Value); ok && postKnown && p > 0 {
		if u, ok := php.ParseINISize(upload.Value); ok && uploadKnown && u > p {
			add(Finding{ID: "post-below-upload", Severity: SeverityWarning,
				Problem:     fmt.Sprintf("post_max_size %s is below upload_max_filesize %s", post.Value, upload.Value),
				Consequence: "an upload larger than post_max_size arrives with an empty form: WordPress shows a vague error, not the size limit",
				Fix:         fmt.Sprintf("raise post_max_size to at least %s", upload.Value)})
		}
	}

	if d := r.Disk; d != nil && d.Total > 0 {
		switch pct := float64(d.Avail) / float64(d.Total) * 100; {
		case d.Avail < 100<<20 || pct < 1:
			add(Finding{ID: "disk-full", Severity: SeverityError,
				Problem:     fmt.Sprintf("%s free of %s on %s (%.1f%%)", php.FormatSizeRounded(d.Avail), php.FormatSizeRounded(d.Total), d.MountedOn, pct),
				Consequence: "uploads, caches, sessions and the database's writes fail; WordPress may show \"Error establishing a database connection\" or a white page",
				Fix:         "free space on " + d.MountedOn + " (old backups, logs, cache folders) or grow the disk"})
		case pct < 5:
			add(Finding{ID: "disk-low", Severity: SeverityWarning,
				Problem:     fmt.Sprintf("%s free of %s on %s (%.1f%%)", php.FormatSizeRounded(d.Avail), php.FormatSizeRounded(d.Total), d.MountedOn, pct),
				Consequence: "a log, a backup or an update can fill it; then writes fail",
				Fix:         "free space on " + d.MountedOn + " or grow the disk"})
		}
		if d.Inodes > 0 && float64(d.InodesFree) < float64(d.Inodes)/100 {
			add(Finding{ID: "inodes-full", Severity: SeverityError,
				Problem:     fmt.Sprintf("%d of %d inodes free on %s", d.InodesFree, d.Inodes, d.MountedOn),
				Consequence: "no new file can be made although bytes are free: caches, sessions and uploads fail",
				Fix:         "remove many small files (cache folders, old sessions) on " + d.MountedOn})
		}
	}
	if m := r.Memory; m != nil && m.Total > 0 && float64(m.Available) < float64(m.Total)*0.05 {
		add(Finding{ID: "memory-low", Severity: SeverityWarning,
			Problem:     fmt.Sprintf("%s of %s memory available", php.FormatSizeRounded(m.Available), php.FormatSizeRounded(m.Total)),
			Consequence: "the kernel's OOM killer may kill PHP workers or the database: 502, or \"Error establishing a database connection\"",
			Fix:         "find what holds the memory (ps aux --sort=-rss | head), lower pm.max_children, or add memory"})
	}
	rank := map[string]int{SeverityError: 0, SeverityWarning: 1, SeverityInfo: 2}
	slices.SortStableFunc(out, func(a, b Finding) int { return rank[a.Severity] - rank[b.Severity] })
	return out
}

func firstPool(pools []*server.FPMPool) *server.FPMPool {
	if len(pools) == 0 {
		return nil
	}
	return pools[0]
}

// memoryChangeable says whether a script may raise memory_limit: the
// helper's answer, else whether the pool pins it with php_admin_value.
func memoryChangeable(r *LimitsReport, pool *server.FPMPool) (changeable, known bool) {
	if r.PHP != nil {
		return r.PHP.MemoryLimitChangeable, true
	}
	if pool != nil {
		if s, ok := pool.PHP["memory_limit"]; ok {
			return !s.Admin, true
		}
	}
	return true, false
}

// memoryFinding flags a WP_MEMORY_LIMIT that WordPress cannot apply.
func memoryFinding(r *LimitsReport, pool *server.FPMPool) (Finding, bool) {
	ml, mlKnown := phpValue(r, pool, "memory_limit")
	limit, ok := php.ParseINISize(ml.Value)
	if !ok || !mlKnown || limit < 0 {
		return Finding{}, false
	}
	changeable, known := memoryChangeable(r, pool)
	if !known || changeable {
		return Finding{}, false // WordPress raises memory_limit itself
	}
	for _, c := range []struct {
		s        server.Setting
		name     string
		severity string
		where    string
	}{
		{r.WordPress.MemoryLimit, "WP_MEMORY_LIMIT", SeverityError, "pages"},
		{r.WordPress.MaxMemoryLimit, "WP_MAX_MEMORY_LIMIT", SeverityWarning, "the admin's heavy work (image editing, updates)"},
	} {
		want, ok := php.ParseINISize(c.s.Value)
		if !ok || (want >= 0 && want <= limit) {
			continue
		}
		return Finding{ID: "wp-memory-above-php-limit", Severity: c.severity,
			Problem: fmt.Sprintf("%s is %s (%s) but PHP's memory_limit is %s (%s) and may not be raised by a script",
				c.name, c.s.Value, c.s.Source(), ml.Value, ml.Source()),
			Consequence: fmt.Sprintf("WordPress cannot apply %s: %s that need more than %s die with \"Allowed memory size … exhausted\" (500, or 502 with some servers)",
				c.name, c.where, ml.Value),
			Fix: fmt.Sprintf("raise memory_limit where it is pinned (php_admin_value[memory_limit] of the pool) to %s, or lower %s", c.s.Value, c.name)}, true
	}
	return Finding{}, false
}

// overcommitFinding flags a pool whose workers, each at its memory limit,
// need more memory than the host has.
func overcommitFinding(r *LimitsReport, pool *server.FPMPool) (Finding, bool) {
	if pool == nil || r.Memory == nil || r.Memory.Total <= 0 || pool.MaxChildren <= 0 {
		return Finding{}, false
	}
	ml, mlKnown := phpValue(r, pool, "memory_limit")
	limit, ok := php.ParseINISize(ml.Value)
	if !ok || !mlKnown || limit <= 0 {
		return Finding{}, false
	}
	if changeable, _ := memoryChangeable(r, pool); changeable {
		if want, ok := php.ParseINISize(r.WordPress.MemoryLimit.Value); ok && want > limit {
			limit = want // WordPress raises it on every page
		}
	}
	need := limit * int64(pool.MaxChildren)
	if need <= r.Memory.Total+r.Memory.SwapTotal {
		return Finding{}, false
	}
	return Finding{ID: "pool-memory-overcommit", Severity: SeverityWarning,
		Problem: fmt.Sprintf("php-fpm pool %s: pm.max_children %d × memory limit %s = %s, more than the host's %s of memory and swap",
			pool.Name, pool.MaxChildren, php.FormatSize(limit), php.FormatSizeRounded(need), php.FormatSizeRounded(r.Memory.Total+r.Memory.SwapTotal)),
		Consequence: "under load the workers can together use more memory than there is: the kernel's OOM killer kills them (signal 9) and the web server answers 502",
		Fix:         fmt.Sprintf("lower pm.max_children (%s) so that workers × memory_limit fits, or lower memory_limit", where(pool.Sources["pm.max_children"]))}, true
}
