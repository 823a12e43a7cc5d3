package agent

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/wpfix/wpfix/wp"
)

// signatureCause groups log signatures that point at one cause.
type signatureCause struct {
	id     string
	sigs   []string
	title  string
	next   string // %[1]s is the target, quoted for a shell
	score  int    // when the site is failing now
	blamed bool   // an extension the lines blame is the likely culprit
}

// signatureCauses are the causes the log signatures point at; every id
// must be a built-in signature (TestSignatureCausesKnown).
var signatureCauses = []signatureCause{
	{id: "fpm-down", score: 90,
		sigs:  []string{"nginx-upstream-refused", "nginx-upstream-missing", "nginx-no-live-upstreams", "apache-fcgi-connect", "fpm-cannot-listen"},
		title: "php-fpm is not running, or not where the web server sends PHP",
		next:  "systemctl status 'php*-fpm' (then: wpfix logs %[1]s)"},
	{id: "worker-died", score: 80, blamed: true,
		sigs: []string{"fpm-child-killed", "fpm-child-segfault", "fpm-child-crashed", "fpm-child-terminated",
			"nginx-upstream-reset", "nginx-upstream-closed", "apache-fcgi-header", "apache-script-headers"},
		title: "PHP workers die while making the page (killed or crashed)",
		next:  "wpfix bisect %[1]s"},
	{id: "php-fatal", score: 80, blamed: true,
		sigs:  []string{"php-fatal", "php-uncaught", "php-parse-error"},
		title: "PHP fatal errors",
		next:  "wpfix bisect %[1]s"},
	{id: "php-memory", score: 75, blamed: true,
		sigs:  []string{"php-memory-exhausted", "php-out-of-memory"},
		title: "PHP runs out of memory",
		next:  "wpfix limits %[1]s (then: wpfix bisect %[1]s)"},
	{id: "pool-exhausted", score: 75,
		sigs:  []string{"fpm-max-children", "fpm-seems-busy", "nginx-upstream-busy"},
		title: "the PHP pool is exhausted: every worker is busy",
		next:  "wpfix limits %[1]s (then find the slow requests: wpfix logs %[1]s --since 1h)"},
	{id: "slow-php", score: 70, blamed: true,
		sigs: []string{"php-max-execution-time", "fpm-request-timeout", "nginx-upstream-timeout",
			"apache-cgi-timeout", "apache-fcgid-timeout", "fpm-slow-request", "fpm-slowlog-frame"},
		title: "PHP requests take too long and are cut off",
		next:  "wpfix bisect %[1]s (then: wpfix limits %[1]s)"},
	{id: "database-errors", score: 85,
		sigs: []string{"db-too-many-connections", "db-gone-away", "db-unreachable", "db-access-denied",
			"db-connection-error", "db-crashed-table", "mariadb-crashed", "mariadb-out-of-memory", "wp-db-error"},
		title: "the database fails",
		next:  "systemctl status mariadb mysql; check DB_HOST, DB_USER and DB_PASSWORD in wp-config.php"},
	{id: "disk-errors", score: 85,
		sigs:  []string{"disk-full", "disk-quota"},
		title: "the disk or the account's quota is full",
		next:  "df -h; du -xsh wp-content/* | sort -h"},
}

// rankCauses turns the report's evidence into likely causes, most likely
// first. A cause the logs point at weighs less when the site answers well
// now: it happened, it may not be what is wrong.
func rankCauses(r *DiagnoseReport, target string) []Cause {
	var out []Cause
	add := func(c Cause) { out = append(out, c) }
	failing := !r.Healthy

	if d := r.DNS; d != nil && !d.IsIP {
		switch {
		case d.Error != "":
			add(Cause{ID: "dns", Score: 100, Title: "the site's host name does not resolve",
				Evidence: []string{fmt.Sprintf("%s: %s", d.Host, d.Error)},
				Next:     "dig +short " + d.Host + " (then check its records at the DNS provider)"})
		case len(d.Expected) > 0 && len(d.Unexpected)+len(d.Missing) > 0:
			add(Cause{ID: "dns-unexpected", Score: 90, Title: "the host name does not point where it should",
				Evidence: []string{fmt.Sprintf("%s resolves to %s; expected %s", d.Host, strings.Join(d.Addrs, ", "), strings.Join(d.Expected, ", "))},
				Next:     "dig +short " + d.Host + " (then fix its A/AAAA records at the DNS provider)"})
		}
	}
	if t := r.TLS; t != nil {
		switch {
		case t.Error != "" && failing:
			add(Cause{ID: "tls", Score: 70, Title: "the TLS handshake fails",
				Evidence: []string{fmt.Sprintf("%s: %s", t.Addr, t.Error)},
				Next:     "openssl s_client -connect " + t.Addr + " -servername " + t.ServerName})
		case t.Expired:
			add(Cause{ID: "tls-expired", Score: 95, Title: "the TLS certificate has expired",
				Evidence: []string{fmt.Sprintf("%s expired on %s", t.Subject, t.NotAfter.Format("2006-01-02"))},
				Next:     "renew the certificate (certbot renew, or the host's panel)"})
		case t.VerifyError != "":
			add(Cause{ID: "tls-untrusted", Score: 60, Title: "browsers do not trust the TLS certificate",
				Evidence: []string{t.VerifyError}, Next: "openssl s_client -connect " + t.Addr + " -servername " + t.ServerName})
		case t.Error == "" && t.DaysLeft < 14:
			add(Cause{ID: "tls-expiring", Score: 30, Title: fmt.Sprintf("the TLS certificate expires in %d days", t.DaysLeft),
				Evidence: []string{fmt.Sprintf("%s expires on %s", t.Subject, t.NotAfter.Format("2006-01-02"))},
				Next:     "renew the certificate (certbot renew, or the host's panel)"})
		}
	}
	if !r.DB.Reachable {
		add(Cause{ID: "database-down", Score: 95, Title: "the database cannot be reached",
			Evidence: []string{r.DB.Error},
			Next:     "systemctl status mariadb mysql; check DB_HOST, DB_USER and DB_PASSWORD in wp-config.php"})
	}
	if o := r.Origin; o != nil && r.Probe.Bad && !o.Bad {
		via := "a CDN or proxy"
		if r.Probe.CDN != nil {
			via = r.Probe.CDN.Name
		}
		add(Cause{ID: "cdn", Score: 85, Title: "the origin answers but the public URL fails: " + via + " or DNS",
			Evidence: []string{fmt.Sprintf("public: %s; origin at %s: status %d", r.Probe.Reason, o.Via, o.Status)},
			Next:     "check " + via + "'s status and its origin settings (origin " + o.Via + ")"})
	}
	for _, f := range r.Limits {
		if f.Severity != SeverityError {
			continue
		}
		score := 40
		if strings.HasPrefix(f.ID, "disk-") || strings.HasPrefix(f.ID, "inodes-") {
			score = 90
		}
		add(Cause{ID: "limits-" + f.ID, Score: score, Title: f.Problem,
			Evidence: []string{f.Consequence}, Next: f.Fix + fmt.Sprintf(" (see: wpfix limits %s)", target)})
	}

	if d := r.StateDir; d != nil && d.Served {
		what := "its journal can be read by anyone"
		if !slices.Contains(d.Holds, "journal") {
			what = "the PHP it quarantines can be run by anyone"
		} else if slices.Contains(d.Holds, "quarantine") {
			what += ", and the PHP it quarantines run"
		}
		// A hole, not what breaks the site: below CauseLikely, so that
		// diagnose of a working site still ends 0.
		add(Cause{ID: "wpfix-dir-served", Score: CauseLikely - 5, Title: "wpfix's folder " + d.Dir + " is served over HTTP: " + what,
			Evidence: []string{d.Evidence},
			Next: "nginx: add `location ~ /\\. { deny all; }` to the site's server block, then nginx -t && systemctl reload nginx; " +
				"Apache: let the .htaccess in that folder deny it (AllowOverride)"})
	}

	seen := map[string]LogSignature{}
	for _, l := range r.Logs {
		seen[l.Signature] = l
	}
	for _, sc := range signatureCauses {
		var ev []string
		var blames []wp.Extension
		n := 0
		for _, id := range sc.sigs {
			l, ok := seen[id]
			if !ok {
				continue
			}
			n += l.Count
			ev = append(ev, fmt.Sprintf("%d× %s: %s", l.Count, l.Signature, l.Summary))
			for _, b := range l.Blames {
				if !slices.Contains(blames, b) {
					blames = append(blames, b)
				}
			}
		}
		if n == 0 {
			continue
		}
		c := Cause{ID: sc.id, Title: sc.title, Evidence: ev, Next: fmt.Sprintf(sc.next, target), Score: sc.score}
		if sc.blamed && len(blames) > 0 {
			names := make([]string, len(blames))
			for i, b := range blames {
				names[i] = b.String()
			}
			c.Title += ", in " + strings.Join(names, ", ")
			c.Score += 5
		}
		if !failing {
			c.Title = "recently: " + c.Title
			c.Score /= 3
		}
		add(c)
	}

	// php-fpm ends a request past request_terminate_timeout by killing its
	// worker: the death is the timeout's doing, so the timeout leads.
	if _, timedOut := seen["fpm-request-timeout"]; timedOut {
		slow := slices.IndexFunc(out, func(c Cause) bool { return c.ID == "slow-php" })
		died := slices.IndexFunc(out, func(c Cause) bool { return c.ID == "worker-died" })
		if slow >= 0 && died >= 0 && out[slow].Score <= out[died].Score {
			out[slow].Score = out[died].Score + 1
		}
	}
	if failing && !slices.ContainsFunc(out, func(c Cause) bool { return c.Score >= 70 }) {
		add(Cause{ID: "unexplained", Score: 50,
			Title:    "the site fails (" + r.Probe.Reason + ") and nothing else says why: a plugin or the theme is the usual cause",
			Evidence: []string{"no log line, limit or check points elsewhere"},
			Next:     "wpfix bisect " + target})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Score > out[j].Score })
	return out
}
