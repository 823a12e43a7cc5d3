package agent

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wpfix/wpfix/wp"
	"github.com/wpfix/wpfix/wp/logsig"
)

// TestSignatureCausesKnown keeps the cause table in step with the
// signature table: every id it groups is a built-in signature, and no id
// is in two groups.
func TestSignatureCausesKnown(t *testing.T) {
	cl, err := logsig.NewClassifier()
	require.NoError(t, err)
	known := map[string]bool{}
	for _, id := range cl.SignatureIDs() {
		known[id] = true
	}
	seen := map[string]string{}
	for _, sc := range signatureCauses {
		for _, id := range sc.sigs {
			assert.True(t, known[id], "cause %s groups unknown signature %s", sc.id, id)
			assert.Empty(t, seen[id], "%s is in %s and %s", id, seen[id], sc.id)
			seen[id] = sc.id
		}
	}
}

func TestRankCauses(t *testing.T) {
	fatal := LogSignature{Signature: "php-fatal", Count: 4, Summary: "PHP fatal",
		Blames: []wp.Extension{{Kind: wp.KindPlugin, Name: "shop"}}}
	killed := LogSignature{Signature: "fpm-child-killed", Count: 2, Summary: "killed"}
	refused := LogSignature{Signature: "nginx-upstream-refused", Count: 9, Summary: "refused"}
	maxChildren := LogSignature{Signature: "fpm-max-children", Count: 1, Summary: "pool full"}
	bad502 := ProbeView{Bad: true, Status: 502, Reason: "status 502"}
	ok := ProbeView{Status: 200}
	tests := []struct {
		name  string
		rep   DiagnoseReport
		first string // the top cause; "" for none
		also  []string
	}{
		{name: "healthy", rep: DiagnoseReport{Healthy: true, Probe: ok, DB: DBCheck{Reachable: true}}},
		{name: "fatal in a plugin",
			rep:   DiagnoseReport{Probe: ProbeView{Bad: true, Status: 500}, DB: DBCheck{Reachable: true}, Logs: []LogSignature{fatal}},
			first: "php-fatal"},
		{name: "php-fpm down beats a dead worker",
			rep:   DiagnoseReport{Probe: bad502, DB: DBCheck{Reachable: true}, Logs: []LogSignature{killed, refused}},
			first: "fpm-down", also: []string{"worker-died"}},
		{name: "a timeout kills the worker: the timeout leads",
			rep: DiagnoseReport{Probe: bad502, DB: DBCheck{Reachable: true}, Logs: []LogSignature{
				{Signature: "fpm-child-terminated", Count: 1}, {Signature: "nginx-upstream-reset", Count: 1},
				{Signature: "fpm-request-timeout", Count: 1}}},
			first: "slow-php", also: []string{"worker-died"}},
		{name: "database down",
			rep:   DiagnoseReport{Probe: ProbeView{Bad: true, Status: 500}, DB: DBCheck{Error: "connection refused"}},
			first: "database-down"},
		{name: "dns fails",
			rep:   DiagnoseReport{Probe: ProbeView{Bad: true, Reason: "no such host"}, DB: DBCheck{Reachable: true}, DNS: &DNSCheck{Host: "example.com", Error: "no such host"}},
			first: "dns"},
		{name: "cdn fails, origin answers",
			rep: DiagnoseReport{Probe: ProbeView{Bad: true, Status: 522, CDN: &CDN{Name: "Cloudflare"}}, DB: DBCheck{Reachable: true},
				Origin: &ProbeView{Status: 200, Via: "203.0.113.7"}},
			first: "cdn"},
		{name: "expired certificate",
			rep: DiagnoseReport{Probe: ok, Healthy: true, DB: DBCheck{Reachable: true},
				TLS: &TLSCheck{Addr: "example.com:443", Expired: true, DaysLeft: -3, NotAfter: time.Now().Add(-72 * time.Hour)}},
			first: "tls-expired"},
		{name: "a limit conflict",
			rep: DiagnoseReport{Probe: bad502, DB: DBCheck{Reachable: true},
				Limits: []Finding{{ID: "fpm-terminate-below-execution", Severity: SeverityError, Problem: "p", Consequence: "c", Fix: "f"}}},
			first: "unexplained", also: []string{"limits-fpm-terminate-below-execution"}},
		{name: "a full disk outranks the rest",
			rep: DiagnoseReport{Probe: bad502, DB: DBCheck{Reachable: true}, Logs: []LogSignature{maxChildren},
				Limits: []Finding{{ID: "disk-full", Severity: SeverityError, Problem: "p", Consequence: "c", Fix: "f"}}},
			first: "limits-disk-full", also: []string{"pool-exhausted"}},
		{name: "broken, nothing says why",
			rep:   DiagnoseReport{Probe: bad502, DB: DBCheck{Reachable: true}},
			first: "unexplained"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.rep.Probe.Bad {
				tt.rep.Healthy = false
			}
			got := rankCauses(&tt.rep, "web1:/var/www")
			if tt.first == "" {
				assert.Empty(t, got)
				return
			}
			require.NotEmpty(t, got)
			assert.Equal(t, tt.first, got[0].ID, "%+v", got)
			ids := map[string]bool{}
			for i, c := range got {
				ids[c.ID] = true
				assert.NotEmpty(t, c.Title)
				assert.NotEmpty(t, c.Next)
				if i > 0 {
					assert.GreaterOrEqual(t, got[i-1].Score, c.Score, "ranked")
				}
			}
			for _, id := range tt.also {
				assert.True(t, ids[id], "%s among %+v", id, got)
			}
		})
	}
}

// TestRankCausesBlames: a cause the logs blame on an extension names it,
// and a healthy site's past errors weigh little.
func TestRankCausesBlames(t *testing.T) {
	logs := []LogSignature{{Signature: "php-uncaught", Count: 2, Summary: "uncaught",
		Blames: []wp.Extension{{Kind: wp.KindPlugin, Name: "shop"}}}}
	got := rankCauses(&DiagnoseReport{Probe: ProbeView{Bad: true, Status: 500}, DB: DBCheck{Reachable: true}, Logs: logs}, "/var/www")
	require.NotEmpty(t, got)
	assert.Equal(t, "PHP fatal errors, in plugin shop", got[0].Title)
	assert.Equal(t, "wpfix bisect /var/www", got[0].Next)

	got = rankCauses(&DiagnoseReport{Healthy: true, Probe: ProbeView{Status: 200}, DB: DBCheck{Reachable: true}, Logs: logs}, "/var/www")
	require.Len(t, got, 1)
	assert.Equal(t, "recently: PHP fatal errors, in plugin shop", got[0].Title)
	assert.Less(t, got[0].Score, 50)
}

func TestLogSignatures(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 1, 0, 0, 0, time.UTC)
	shop := wp.Extension{Kind: wp.KindPlugin, Name: "shop"}
	lr := &LogsReport{Logs: []LogSection{
		{Lines: []logsig.Line{
			{Signature: "php-fatal", Count: 3, Time: t0, Text: "old", Blames: &shop},
			{Text: "unclassified", Count: 1},
			{Signature: "php-fatal", Count: 1, Time: t0.Add(time.Minute), Text: "new", Blames: &shop},
		}},
		{Lines: []logsig.Line{{Signature: "fpm-child-killed", Count: 5, Time: t0}}},
	}}
	got := logSignatures(lr)
	require.Len(t, got, 2)
	assert.Equal(t, "fpm-child-killed", got[0].Signature)
	assert.Equal(t, 5, got[0].Count)
	assert.Equal(t, 4, got[1].Count)
	assert.Equal(t, []wp.Extension{shop}, got[1].Blames)
	assert.Equal(t, "new", got[1].Example, "the latest line")
}
