package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wpfix/wpfix/agent"
	"github.com/wpfix/wpfix/remote/proctest"
)

var checkStarted = time.Date(2026, 12, 2, 3, 0, 0, 0, time.UTC)

// fleetAllStates is a report with a site in every state: healthy, healthy
// with a warning, unhealthy (probe 500, database error, fixed), two
// unreachable, in an order that is not the table's.
func fleetAllStates() *agent.FleetReport {
	ok := func(id string, ms int64) agent.Check {
		return agent.Check{ID: id, Status: agent.CheckOK, Message: id + " fine", DurationMS: ms}
	}
	return &agent.FleetReport{
		Version: 1, Started: checkStarted, DurationMS: 4210,
		Summary: agent.FleetSummary{Sites: 5, Healthy: 2, Unhealthy: 1, Unreachable: 2},
		Sites: []*agent.SiteCheck{
			{
				Name: "blog", Target: "deploy@web1:/var/www/blog", URL: "https://blog.example",
				State: agent.SiteHealthy, Status: 200, DurationMS: 180,
				Checks:       []agent.Check{ok("probe", 120), ok("database", 8), ok("tls", 30)},
				ProbeSeconds: 0.12, TLSExpiry: time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC),
				Checked: checkStarted.Add(time.Second), Tags: []string{"eu"},
			},
			{
				Name: "shop", Target: "deploy@web1:/var/www/shop", URL: "https://shop.example",
				State: agent.SiteUnhealthy, Status: 500, DurationMS: 1530,
				Checks: []agent.Check{
					{ID: "probe", Status: agent.CheckError, Message: "HTTP 500 on /shop/", DurationMS: 900},
					{ID: "debug", Status: agent.CheckWarning, Message: "WP_DEBUG is on", DurationMS: 2},
					{ID: "database", Status: agent.CheckError, Message: "Table 'wp_options' is marked as crashed", DurationMS: 12},
					ok("tls", 40),
				},
				Fix:          &agent.HealReport{Target: "deploy@web1:/var/www/shop", State: "fixed", Reason: "plugin woo-extra disabled"},
				ProbeSeconds: 0.9, Checked: checkStarted.Add(2 * time.Second),
			},
			{
				Name: "zeta", Target: "web3:/srv/zeta", URL: "https://zeta.example",
				State: agent.SiteUnreachable, DurationMS: 5000,
				Error: "ssh web3: dial tcp 203.0.113.9:22: i/o timeout", Checks: []agent.Check{},
				Checked: checkStarted.Add(5 * time.Second),
			},
			{
				Name: "acme", Target: "deploy@web2:/var/www/acme", URL: "https://acme.example",
				State: agent.SiteHealthy, Status: 200, DurationMS: 210,
				Checks: []agent.Check{
					ok("probe", 100),
					{ID: "tls", Status: agent.CheckWarning, Message: "certificate expires in 9 days", DurationMS: 35},
				},
				ProbeSeconds: 0.1, TLSExpiry: time.Date(2026, 12, 11, 0, 0, 0, 0, time.UTC),
				Checked: checkStarted.Add(time.Second),
			},
			{
				Name: "alpha", Target: "web4:/srv/alpha", URL: "https://alpha.example",
				State: agent.SiteUnreachable, DurationMS: 12,
				Error: "ssh web4: host key changed", Checks: []agent.Check{},
			},
		},
	}
}

// fleetHostile is a report whose site name, check message and error hold
// what a terminal would obey or a label would break on: quotes,
// backslashes, line breaks, escape sequences, C1 and bidi controls.
func fleetHostile() *agent.FleetReport {
	name := "evil\"\\\nsite\x1b]0;owned\x07\u202e\u0085\r"
	return &agent.FleetReport{
		Version: 1, Started: checkStarted, DurationMS: 100,
		Summary: agent.FleetSummary{Sites: 1, Unhealthy: 1},
		Sites: []*agent.SiteCheck{{
			Name: name, Target: "web1:/srv/evil", State: agent.SiteUnhealthy, Status: 500, DurationMS: 100,
			Error: "refused\n\x1b[2Jfake line",
			Checks: []agent.Check{{ID: "logs\x1b[31m", Status: agent.CheckError,
				Message: "PHP Fatal\n\x1b[1A\x1b[2Kall good\x9b31m\u2028", DurationMS: 1}},
			Fix:          &agent.HealReport{State: "broken\x1b[0m", Reason: "why\r\nnot"},
			ProbeSeconds: 0.5, Checked: checkStarted,
		}},
	}
}

// TestCheckOutputGolden: the text table and the JSON of a report with
// every state, and of an empty and an interrupted run.
func TestCheckOutputGolden(t *testing.T) {
	interrupted := fleetAllStates()
	interrupted.Sites, interrupted.Interrupted = interrupted.Sites[:1], true
	interrupted.Summary = agent.FleetSummary{Sites: 1, Healthy: 1}
	empty := &agent.FleetReport{Version: 1, Started: checkStarted, Sites: []*agent.SiteCheck{}}
	text := func(r *agent.FleetReport) func(io.Writer) error {
		return func(w io.Writer) error { return printCheckText(w, r) }
	}
	js := func(r *agent.FleetReport) func(io.Writer) error {
		return func(w io.Writer) error { return printResult(w, globalOptions{JSON: true}, r, jsonIndented, nil) }
	}
	assertGoldens(t, "check", map[string]func(io.Writer) error{
		"text-all-states":    text(fleetAllStates()),
		"text-interrupted":   text(interrupted),
		"text-empty":         text(empty),
		"json-all-states":    js(fleetAllStates()),
		"metrics-all-states": func(w io.Writer) error { return writeCheckMetrics(w, fleetAllStates()) },
	})
}

// TestCheckTextWorstFirst: unreachable, unhealthy, healthy with warnings,
// healthy; by name within each; problems below their site, errors first.
func TestCheckTextWorstFirst(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, printCheckText(&b, fleetAllStates()))
	var order []string
	for _, line := range strings.Split(b.String(), "\n")[1:] {
		if f := strings.Fields(line); len(f) > 0 && !strings.HasPrefix(line, " ") && strings.Contains(line, "  ") {
			order = append(order, f[0])
		}
	}
	assert.Equal(t, []string{"alpha", "zeta", "shop", "acme", "blog"}, order)
	out := b.String()
	assert.Less(t, strings.Index(out, "Table 'wp_options'"), strings.Index(out, "WP_DEBUG is on"), "errors before warnings")
	assert.NotContains(t, out, "fine", "ok checks are not listed")
	assert.Contains(t, out, "5 sites: 2 healthy, 1 unhealthy, 2 unreachable, in 4.2s\n")
}

// TestCheckTextHostile: whatever a site's name, messages or error hold,
// the table holds no control character but its own line breaks, and each
// site's text stays on its own lines.
func TestCheckTextHostile(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, printCheckText(&b, fleetHostile()))
	out := b.String()
	for _, r := range out {
		assert.False(t, r != '\n' && (unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) || r == '\u2028'),
			"control character %U in %q", r, out)
	}
	assert.NotContains(t, out, "\x1b")
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	require.Len(t, lines, 6, "header, site, error, one check, fix, summary:\n%s", out)
	assert.True(t, strings.HasPrefix(lines[1], "evil\"\\\uFFFDsite"), lines[1])
	assert.Contains(t, lines[3], "PHP Fatal\uFFFD")
}

// TestCheckTextEveryControl: each C0 and C1 control, DEL, the line and
// paragraph separators, each bidi control and invalid UTF-8, in a site's
// name, error, check id, message and fix, never reaches the table.
func TestCheckTextEveryControl(t *testing.T) {
	var hostile []string
	for r := rune(0); r <= 0x9f; r++ {
		if unicode.IsControl(r) && r != '\t' {
			hostile = append(hostile, string(r))
		}
	}
	for _, r := range []rune{'\u2028', '\u2029'} {
		hostile = append(hostile, string(r))
	}
	for r := rune(0); r <= 0x2fff; r++ {
		if unicode.Is(unicode.Bidi_Control, r) {
			hostile = append(hostile, string(r))
		}
	}
	hostile = append(hostile, "\xff", "\xc2", "\xe2\x80")
	for _, h := range hostile {
		s := "a" + h + "b"
		r := &agent.FleetReport{Summary: agent.FleetSummary{Sites: 2, Unhealthy: 1, Unreachable: 1}, Sites: []*agent.SiteCheck{
			{Name: s, State: agent.SiteUnhealthy, Checks: []agent.Check{{ID: s, Status: agent.CheckError, Message: s}},
				Fix: &agent.HealReport{State: s, Reason: s}},
			{Name: s + "2", State: s, Error: s},
		}}
		var b bytes.Buffer
		require.NoError(t, printCheckText(&b, r))
		out := b.String()
		for i, c := range strings.TrimSuffix(out, "\n") {
			if c == '\n' {
				continue
			}
			require.False(t, unicode.IsControl(c) || unicode.Is(unicode.Bidi_Control, c) || c == '\u2028' || c == '\u2029',
				"%q: %U at %d in %q", h, c, i, out)
		}
		require.True(t, utf8.ValidString(out), "%q: invalid UTF-8 in %q", h, out)
		require.Equal(t, 7, strings.Count(out, "\n"), "%q: a line break forged in %q", h, out)
	}
}

// TestCheckJSONKeys: the JSON's keys are DESIGN.md's, no more (but
// duration_ms on a check, and error and tags where set) and no fewer.
func TestCheckJSONKeys(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, writeJSON(&b, fleetAllStates(), jsonIndented))
	var got map[string]any
	require.NoError(t, json.Unmarshal(b.Bytes(), &got))
	keys := func(v any) []string { return slices.Sorted(maps.Keys(v.(map[string]any))) }
	assert.Equal(t, []string{"duration_ms", "sites", "started", "summary", "version"}, keys(got))
	assert.Equal(t, []string{"healthy", "sites", "unhealthy", "unreachable"}, keys(got["summary"]))
	sites := got["sites"].([]any)
	base := []string{"checks", "duration_ms", "fix", "name", "state", "status", "target", "url"}
	assert.ElementsMatch(t, append(slices.Clone(base), "tags"), keys(sites[0]))
	assert.ElementsMatch(t, base, keys(sites[1]))
	assert.ElementsMatch(t, append(slices.Clone(base), "error"), keys(sites[2]))
	assert.Equal(t, []string{"duration_ms", "id", "message", "status"}, keys(sites[0].(map[string]any)["checks"].([]any)[0]))
	assert.Nil(t, sites[0].(map[string]any)["fix"], "fix is null without --fix")
	assert.Equal(t, "2026-12-02T03:00:00Z", got["started"], "RFC 3339")
}

// parseMetrics parses text exposition format back, as Prometheus would.
func parseMetrics(t *testing.T, text []byte) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(bytes.NewReader(text))
	require.NoError(t, err, "%s", text)
	return families
}

// series is a family's values by their labels, written name=value,...
func series(t *testing.T, families map[string]*dto.MetricFamily, name string) map[string]float64 {
	t.Helper()
	f, ok := families[name]
	require.True(t, ok, "no %s", name)
	assert.Equal(t, dto.MetricType_GAUGE, f.GetType(), name)
	assert.NotEmpty(t, f.GetHelp(), name)
	out := map[string]float64{}
	for _, m := range f.GetMetric() {
		var ls []string
		for _, l := range m.GetLabel() {
			ls = append(ls, l.GetName()+"="+l.GetValue())
		}
		assert.Zero(t, m.GetTimestampMs(), "the textfile collector refuses timestamps")
		out[strings.Join(ls, ",")] = m.GetGauge().GetValue()
	}
	return out
}

// TestCheckMetricsValues: every metric, its labels and values, read back
// with expfmt.
func TestCheckMetricsValues(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, writeCheckMetrics(&b, fleetAllStates()))
	fam := parseMetrics(t, b.Bytes())
	assert.ElementsMatch(t, []string{
		"wpfix_site_up", "wpfix_site_reachable", "wpfix_probe_http_status_code", "wpfix_probe_duration_seconds",
		"wpfix_check_status", "wpfix_tls_cert_expiry_timestamp_seconds", "wpfix_check_duration_seconds",
		"wpfix_check_last_run_timestamp_seconds",
	}, slices.Collect(maps.Keys(fam)))
	assert.Equal(t, map[string]float64{"site=acme": 1, "site=alpha": 0, "site=blog": 1, "site=shop": 0, "site=zeta": 0},
		series(t, fam, "wpfix_site_up"))
	assert.Equal(t, map[string]float64{"site=acme": 1, "site=alpha": 0, "site=blog": 1, "site=shop": 1, "site=zeta": 0},
		series(t, fam, "wpfix_site_reachable"))
	assert.Equal(t, map[string]float64{"site=acme": 200, "site=alpha": 0, "site=blog": 200, "site=shop": 500, "site=zeta": 0},
		series(t, fam, "wpfix_probe_http_status_code"))
	assert.Equal(t, 0.9, series(t, fam, "wpfix_probe_duration_seconds")["site=shop"])
	assert.Equal(t, map[string]float64{
		"check=probe,site=acme": 0, "check=tls,site=acme": 1,
		"check=probe,site=blog": 0, "check=database,site=blog": 0, "check=tls,site=blog": 0,
		"check=probe,site=shop": 2, "check=debug,site=shop": 1, "check=database,site=shop": 2, "check=tls,site=shop": 0,
	}, series(t, fam, "wpfix_check_status"))
	assert.Equal(t, 0.012, series(t, fam, "wpfix_check_duration_seconds")["check=database,site=shop"])
	assert.Equal(t, map[string]float64{
		"site=acme": float64(time.Date(2026, 12, 11, 0, 0, 0, 0, time.UTC).Unix()),
		"site=blog": float64(time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC).Unix()),
	}, series(t, fam, "wpfix_tls_cert_expiry_timestamp_seconds"), "only where the certificate was read")
	last := series(t, fam, "wpfix_check_last_run_timestamp_seconds")
	assert.Equal(t, float64(checkStarted.Unix()+5), last["site=zeta"])
	assert.Equal(t, float64(checkStarted.Unix()), last["site=alpha"], "not checked: the run's start")
}

// TestCheckMetricsHostileLabels: a site name with quotes, backslashes and
// line breaks is escaped by the library and reads back as it was; invalid
// UTF-8 becomes U+FFFD rather than failing the whole file.
func TestCheckMetricsHostileLabels(t *testing.T) {
	r := fleetHostile()
	r.Sites = append(r.Sites, &agent.SiteCheck{Name: "bad\xffutf8", State: agent.SiteHealthy, Status: 200})
	var b bytes.Buffer
	require.NoError(t, writeCheckMetrics(&b, r))
	assert.Contains(t, b.String(), `site="evil\"\\\nsite`, "escaped as the format says")
	assert.Equal(t, 1, strings.Count(b.String(), "wpfix_site_up{site=\"evil"), "one line")
	up := series(t, parseMetrics(t, b.Bytes()), "wpfix_site_up")
	assert.Equal(t, map[string]float64{"site=" + r.Sites[0].Name: 0, "site=bad\uFFFDutf8": 1}, up)
	promtool(t, b.Bytes())
}

// TestCheckMetricsDuplicateSite: two sites of one name are refused by the
// registry's consistency checks, not written as a file Prometheus rejects.
func TestCheckMetricsDuplicateSite(t *testing.T) {
	r := fleetAllStates()
	r.Sites = append(r.Sites, r.Sites[0])
	var b bytes.Buffer
	err := writeCheckMetrics(&b, r)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "gather the check metrics")
	assert.Contains(t, err.Error(), "blog")
}

// promtool runs promtool check metrics on text, which must pass with no
// problem reported (lint included).
func promtool(t *testing.T, text []byte) {
	t.Helper()
	bin := proctest.Require(t, "prometheus", "promtool")
	cmd := exec.Command(bin, "check", "metrics")
	cmd.Stdin = bytes.NewReader(text)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "promtool check metrics:\n%s\n%s", out, text)
	assert.Empty(t, strings.TrimSpace(string(out)), "promtool's lint")
}

// TestCheckMetricsPromtool: the metrics of a report with every state pass
// promtool check metrics.
func TestCheckMetricsPromtool(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, writeCheckMetrics(&b, fleetAllStates()))
	promtool(t, b.Bytes())
	// And the empty run: no sites, no series, still a valid file.
	b.Reset()
	require.NoError(t, writeCheckMetrics(&b, &agent.FleetReport{Version: 1, Started: checkStarted}))
	promtool(t, b.Bytes())
}

// TestWriteFileAtomic: the file is replaced whole, mode 0644 whatever the
// umask; on an error of the writer the old file stands and no temporary
// file is left; a folder that does not exist is an error naming the path.
func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "wpfix.prom")
	require.NoError(t, os.WriteFile(path, []byte("old\n"), 0o600))
	before, err := os.Stat(path)
	require.NoError(t, err)

	boom := errors.New("boom")
	err = writeFileAtomic(path, func(w io.Writer) error {
		io.WriteString(w, "half a fi")
		return boom
	})
	require.ErrorIs(t, err, boom)
	assert.Contains(t, err.Error(), path)
	got, _ := os.ReadFile(path)
	assert.Equal(t, "old\n", string(got), "the old file stands")
	entries, _ := os.ReadDir(dir)
	assert.Len(t, entries, 1, "no temporary file left")

	var tmpName string
	require.NoError(t, writeFileAtomic(path, func(w io.Writer) error {
		tmpName = w.(*os.File).Name()
		assert.Equal(t, dir, filepath.Dir(tmpName), "the temporary file is in the same folder, for rename")
		assert.False(t, strings.HasSuffix(tmpName, ".prom"), "the textfile collector skips it")
		cur, _ := os.ReadFile(path)
		assert.Equal(t, "old\n", string(cur), "until the rename, readers see the old file")
		return writeCheckMetrics(w, fleetAllStates())
	}))
	got, _ = os.ReadFile(path)
	assert.True(t, strings.HasPrefix(string(got), "# HELP "), "%s", got)
	after, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o644), after.Mode().Perm())
	assert.False(t, os.SameFile(before, after), "a new file renamed over the old one, not rewritten in place")
	assert.NoFileExists(t, tmpName)
	entries, _ = os.ReadDir(dir)
	assert.Len(t, entries, 1)

	err = writeFileAtomic(filepath.Join(dir, "missing", "x.prom"), func(io.Writer) error { return nil })
	require.Error(t, err)
	assert.Contains(t, err.Error(), filepath.Join(dir, "missing", "x.prom"))

	// A bare file name is written in the working folder.
	t.Chdir(dir)
	require.NoError(t, writeFileAtomic("bare.prom", func(w io.Writer) error { _, err := io.WriteString(w, "x\n"); return err }))
	got, _ = os.ReadFile(filepath.Join(dir, "bare.prom"))
	assert.Equal(t, "x\n", string(got))
}

// TestCheckProgress: off (standard error not a terminal, --quiet, --json,
// --verbose) the bar writes nothing at all; on, it rewrites one line with
// sites done and failing, and clears it at the end.
func TestCheckProgress(t *testing.T) {
	run := func(p *checkProgress) {
		p.start(4)
		for _, s := range fleetAllStates().Sites[:4] {
			p.done(s)
		}
		p.finish()
	}
	for name, c := range map[string]struct {
		errTTY bool
		g      globalOptions
	}{
		"not a terminal": {false, globalOptions{}},
		"quiet":          {true, globalOptions{Quiet: true}},
		"json":           {true, globalOptions{JSON: true}},
		"verbose":        {true, globalOptions{Verbose: true}},
	} {
		t.Run(name, func(t *testing.T) {
			var errw bytes.Buffer
			term := &terminal{Err: &errw, ErrIsTerminal: c.errTTY}
			require.False(t, showCheckProgress(term, c.g))
			run(newCheckProgress(term.Err, showCheckProgress(term, c.g)))
			assert.Empty(t, errw.String())
		})
	}
	t.Run("terminal", func(t *testing.T) {
		var errw bytes.Buffer
		term := &terminal{Err: &errw, ErrIsTerminal: true}
		require.True(t, showCheckProgress(term, globalOptions{}))
		run(newCheckProgress(term.Err, true))
		out := errw.String()
		assert.NotContains(t, out, "\n", "one line, rewritten")
		assert.Contains(t, out, "\rchecking [                              ] 0/4 sites, 0 failing\x1b[K")
		assert.Contains(t, out, "\rchecking [===============               ] 2/4 sites, 1 failing\x1b[K")
		assert.Contains(t, out, "\rchecking [==============================] 4/4 sites, 2 failing\x1b[K")
		assert.True(t, strings.HasSuffix(out, "\r\x1b[K"), "cleared at the end: %q", out)
	})
}
