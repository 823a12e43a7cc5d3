package main

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wpfix/wpfix/agent"
	"github.com/wpfix/wpfix/wp"
	"github.com/wpfix/wpfix/wp/wptest"
)

// TestRunBisectAnswer calls runBisect with a fake terminal on a real,
// broken stack: "n" at the confirmation changes nothing, "y" goes on and
// leaves the culprit disabled, with the progress on Err and the report on
// Out.
func TestRunBisectAnswer(t *testing.T) {
	t.Parallel()
	st := wptest.NewStack(t, wptest.Options{})
	var files []string
	for _, slug := range []string{"wptest-fine-a", "wptest-fine-b", "wptest-fine-c"} {
		files = append(files, st.AddPlugin(t, wptest.Plugin{Slug: slug}))
	}
	st.ActivatePlugins(t, files...)
	st.Break(t, wptest.BreakKillWorker)
	active, _ := st.Option(t, "active_plugins")
	ctx := context.Background()
	o := bisectOptions{Probe: probeOptions{Samples: 1, Timeout: 30 * time.Second}}
	g := globalOptions{Config: "none"}

	term, out, errs := fakeTerminal("n\n", true)
	err := runBisect(ctx, o, g, st.Root, term)
	require.ErrorIs(t, err, agent.ErrChangedNothing, "stderr: %s", errs)
	assert.Contains(t, errs.String(), "\nProceed? [y/N] ")
	assert.Empty(t, out.String())
	after, _ := st.Option(t, "active_plugins")
	assert.Equal(t, active, after, "declined: nothing changed")
	assert.Equal(t, 502, st.Get(t, "/").Status)

	term, out, errs = fakeTerminal("y\n", true)
	require.NoError(t, runBisect(ctx, o, g, st.Root, term), "stderr: %s", errs)
	assert.Contains(t, errs.String(), "\nProceed? [y/N] ")
	assert.Contains(t, errs.String(), "wpfix: baseline ")
	assert.Contains(t, out.String(), "Culprit: plugin wptest-kill-worker\n")
	assert.Equal(t, 200, st.Get(t, "/").Status)
}

// TestBisectReportGolden renders bisect's report for each verdict.
func TestBisectReportGolden(t *testing.T) {
	plugin := func(name string) wp.Extension { return wp.Extension{Kind: wp.KindPlugin, Name: name} }
	reports := map[string]*agent.Report{
		"healthy": {URL: "https://shop.example/", Verdict: agent.VerdictHealthy, Probes: 1, DurationMS: 412, FinalStatus: 200},
		"culprit": {URL: "https://shop.example/", Verdict: agent.VerdictCulpritFound,
			Culprits: []wp.Extension{plugin("slider")}, LeftDisabled: []wp.Extension{plugin("slider")},
			Probes: 6, DurationMS: 2310, FinalStatus: 200, Notes: []string{"found where the logs pointed: plugin slider"}},
		"pair-keep-all": {URL: "https://shop.example/", Verdict: agent.VerdictCulpritFound,
			Culprits:     []wp.Extension{plugin("cache-helper"), {Kind: wp.KindTheme, Name: "shop\x1b[2Jtheme"}},
			LeftDisabled: []wp.Extension{}, Probes: 11, DurationMS: 65_000, FinalStatus: 502},
		"not-extension": {URL: "https://shop.example/", Verdict: agent.VerdictNotExtension, Probes: 2, DurationMS: 1800,
			FinalStatus: 502, Notes: []string{"the site fails with every candidate turned off: the cause is outside its plugins and theme (PHP, php-fpm, the web server, the database …)"}},
		"inconclusive": {URL: "https://shop.example/", Verdict: agent.VerdictInconclusive,
			Culprits: []wp.Extension{plugin("flaky")}, Probes: 9, DurationMS: 4000, FinalStatus: 500},
	}
	cases := map[string]func(io.Writer) error{}
	for name, rep := range reports {
		cases[name] = func(w io.Writer) error { printReport(w, rep); return nil }
	}
	assertGoldens(t, "bisect", cases)
}
