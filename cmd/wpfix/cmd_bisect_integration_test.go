package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"math/bits"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wpfix/wpfix/remote/sshtest"
	"github.com/wpfix/wpfix/wp"
	"github.com/wpfix/wpfix/wp/wptest"
)

// bisectSite is a stack reached over SSH, with a few healthy plugins, a
// healthy mu-plugin and drop-in beside whatever breaks it.
type bisectSite struct {
	st    *wptest.Stack
	srv   *sshtest.Server
	home  string
	flags []string
}

func newBisectSite(t *testing.T, opts wptest.Options) *bisectSite {
	t.Helper()
	srv := sshtest.NewServer(t, sshtest.Options{})
	opts.Owner = srv.User
	st := wptest.NewStack(t, opts)
	var files []string
	for i := range 5 {
		files = append(files, st.AddPlugin(t, wptest.Plugin{Slug: fmt.Sprintf("wptest-fine-%d", i),
			Body: "add_action( 'wp_head', function () { echo '<!-- fine -->'; } );"}))
	}
	files = append(files, st.AddPlugin(t, wptest.Plugin{Slug: "wptest-fine-single", SingleFile: true}))
	st.ActivatePlugins(t, files...)
	st.AddMUPlugin(t, "wptest-fine-mu.php", "")
	st.AddDropin(t, "fatal-error-handler.php", "return new WP_Fatal_Error_Handler();")
	home := t.TempDir()
	return &bisectSite{st: st, srv: srv, home: home, flags: []string{"-i", srv.KeyFile, "-p", strconv.Itoa(srv.Port),
		"--known-hosts", srv.KnownHostsFile}}
}

func (b *bisectSite) target() string { return b.srv.User + "@" + b.srv.Host + ":" + b.st.Root }

func (b *bisectSite) run(t *testing.T, args ...string) result {
	t.Helper()
	return runAs(t, b.home, append(append(args, b.target()), b.flags...)...)
}

// siteState is everything bisect may touch: every file under wp-content
// (but wpfix's own folder and the logs) with its content, mode and owner,
// and the options WordPress rewrites.
type siteState struct {
	Files   map[string]string
	Options map[string]string
}

func (b *bisectSite) state(t *testing.T) siteState {
	t.Helper()
	s := siteState{Files: map[string]string{}, Options: map[string]string{}}
	for p, desc := range fileTree(t, b.st.ContentDir) {
		rel, _ := filepath.Rel(b.st.ContentDir, p)
		if rel == ".wpfix" || strings.HasPrefix(rel, ".wpfix/") || rel == "debug.log" ||
			strings.HasPrefix(rel, "plugins/wptest-flaky/count") {
			continue
		}
		s.Files[rel] = desc
	}
	for _, o := range []string{"active_plugins", "template", "stylesheet", "current_theme"} {
		s.Options[o], _ = b.st.Option(t, o)
	}
	return s
}

// assertAsBefore checks that the site's files and options are as in
// before, byte for byte; msgAndArgs says what left them so.
func (b *bisectSite) assertAsBefore(t *testing.T, before siteState, msgAndArgs ...any) {
	t.Helper()
	now := b.state(t)
	assert.Empty(t, diffFiles(before.Files, now.Files), msgAndArgs...)
	assert.Equal(t, before.Options, now.Options, msgAndArgs...)
}

// assertNoTrace checks that wp-content holds no .wpfix: no lock, journal
// or quarantine left.
func (b *bisectSite) assertNoTrace(t *testing.T, msgAndArgs ...any) {
	t.Helper()
	_, err := os.Stat(filepath.Join(b.st.ContentDir, ".wpfix"))
	assert.ErrorIs(t, err, os.ErrNotExist, msgAndArgs...)
}

// report is bisect's JSON report.
type report struct {
	Verdict      string         `json:"verdict"`
	Culprits     []wp.Extension `json:"culprits"`
	LeftDisabled []wp.Extension `json:"left_disabled"`
	Probes       int            `json:"probes"`
	FinalStatus  int            `json:"final_status"`
	Candidates   []wp.Extension `json:"candidates"`
	Notes        []string       `json:"notes"`
}

func parseReport(t *testing.T, r result) report {
	t.Helper()
	var rep report
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &rep), "stdout %q stderr %q", r.stdout, r.stderr)
	return rep
}

// movedAway lists the files of extensions, as they are under wp-content.
func extensionFiles(s siteState, e wp.Extension) []string {
	prefix := map[string]string{wp.KindPlugin: "plugins/", wp.KindMUPlugin: "mu-plugins/",
		wp.KindDropin: "", wp.KindTheme: "themes/"}[e.Kind] + e.Name
	var out []string
	for f := range s.Files {
		if f == prefix || strings.HasPrefix(f, prefix+"/") {
			out = append(out, f)
		}
	}
	return out
}

// diffFiles lists what differs between two file states, one line each.
func diffFiles(want, got map[string]string) []string {
	var d []string
	for f, w := range want {
		if g, ok := got[f]; !ok {
			d = append(d, "missing "+f)
		} else if g != w {
			d = append(d, "changed "+f+": "+w+" -> "+g)
		}
	}
	for f := range got {
		if _, ok := want[f]; !ok {
			d = append(d, "new "+f)
		}
	}
	return d
}

func TestBisect(t *testing.T) {
	tests := []struct {
		name     string
		breakage wptest.Breakage
		opts     wptest.Options
		args     []string
		// leftOff is how many culprits stay disabled (1 of a pair).
		leftOff int
		// objectCache puts a persistent object cache in front of the options.
		objectCache bool
	}{
		{breakage: wptest.BreakKillWorker, leftOff: 1},
		{breakage: wptest.BreakFatal, leftOff: 1},
		{breakage: wptest.BreakPair, leftOff: 1},
		{breakage: wptest.BreakChildTheme, leftOff: 1},
		{breakage: wptest.BreakMUPlugin, leftOff: 1},
		{breakage: wptest.BreakDropin, leftOff: 1},
		{breakage: wptest.BreakSingleFile, leftOff: 1},
		{breakage: wptest.BreakFlaky, args: []string{"--samples", "4"}, leftOff: 1},
		// opcache never rereads a compiled file, but WordPress stats a
		// plugin's file before including it: a rename still takes effect.
		{name: "opcache", breakage: wptest.BreakKillWorker, opts: wptest.Options{Opcache: true}, leftOff: 1},
		// A persistent object cache would hide the theme switch: wpfix
		// has its cached options deleted after each change.
		{name: "child-theme-object-cache", breakage: wptest.BreakChildTheme, objectCache: true, leftOff: 1},
	}
	for _, tt := range tests {
		if tt.name == "" {
			tt.name = string(tt.breakage)
		}
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := newBisectSite(t, tt.opts)
			var cache string
			if tt.objectCache {
				cache = b.st.AddPersistentObjectCache(t)
				require.Equal(t, 200, b.st.Get(t, "/").Status)
			}
			culprits := b.st.Break(t, tt.breakage)
			if tt.objectCache {
				require.NoError(t, os.WriteFile(cache, nil, 0o644)) // let WordPress see the break
			}
			first, second := b.st.Get(t, "/").Status, b.st.Get(t, "/").Status
			require.False(t, first == 200 && second == 200, "broken (a flaky plugin fails one of two)")
			before := b.state(t)

			r := b.run(t, append([]string{"bisect", "--json"}, tt.args...)...)
			require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
			rep := parseReport(t, r)
			assert.Equal(t, "culprit_found", rep.Verdict)
			assert.ElementsMatch(t, culprits, rep.Culprits)
			require.Len(t, rep.LeftDisabled, tt.leftOff)
			assert.Subset(t, culprits, rep.LeftDisabled)
			assert.Equal(t, 200, rep.FinalStatus)
			t.Logf("%s: %d probes, culprits %v, left disabled %v", tt.breakage, rep.Probes, rep.Culprits, rep.LeftDisabled)

			for range 3 {
				assert.Equal(t, 200, b.st.Get(t, "/").Status, "healthy at the end")
			}
			helpers, _ := filepath.Glob(filepath.Join(b.st.Root, "*wpfix*"))
			assert.Empty(t, helpers, "no helper left in the docroot")
			after := b.state(t)
			// Everything but what was left disabled is byte-identical; a
			// disabled theme keeps its files (the options switch it).
			want := maps.Clone(before.Files)
			for _, e := range rep.LeftDisabled {
				if e.Kind != wp.KindTheme {
					for _, f := range extensionFiles(before, e) {
						delete(want, f)
					}
				}
			}
			assert.Empty(t, diffFiles(want, after.Files), "files other than the culprit's")
			for o, v := range before.Options {
				if tt.breakage == wptest.BreakChildTheme && o != "active_plugins" {
					continue // the theme was switched on purpose
				}
				assert.Equal(t, v, after.Options[o], "option %s byte for byte", o)
			}

			// restore puts the culprit back too: the site is as it was.
			r = b.run(t, "restore")
			require.Equal(t, 0, r.code, r.stderr)
			b.assertAsBefore(t, before, "restore leaves every file and option as before bisect")
			b.assertNoTrace(t, "no trace of wpfix is left")
		})
	}
}

func TestBisectLeavesAlone(t *testing.T) {
	t.Run("healthy", func(t *testing.T) {
		t.Parallel()
		b := newBisectSite(t, wptest.Options{})
		before := b.state(t)
		r := b.run(t, "bisect", "--json")
		require.Equal(t, 0, r.code, r.stderr)
		rep := parseReport(t, r)
		assert.Equal(t, "healthy", rep.Verdict)
		assert.Equal(t, 1, rep.Probes)
		b.assertAsBefore(t, before)
	})
	t.Run("php-fpm down", func(t *testing.T) {
		t.Parallel()
		b := newBisectSite(t, wptest.Options{})
		b.st.StopPHP()
		before := b.state(t)
		r := b.run(t, "bisect", "--json")
		assert.Equal(t, 1, r.code, r.stderr)
		rep := parseReport(t, r)
		assert.Equal(t, "not_extension", rep.Verdict)
		assert.Equal(t, 502, rep.FinalStatus)
		// The baseline, ⌊log2 n⌋ halvings down to the first candidate
		// alone, all failing, then everything off.
		n := len(rep.Candidates)
		assert.Equal(t, 1+bits.Len(uint(n))-1+1, rep.Probes, "probes for an outside cause among %d", n)
		b.assertAsBefore(t, before, "nothing changed")
	})
}

func TestBisectFlags(t *testing.T) {
	for _, c := range []struct {
		name     string
		args     []string
		code     int
		verdict  string
		left     int
		probes   int
		unchange bool
	}{
		{name: "dry-run", args: []string{"--dry-run"}, code: 1, verdict: "inconclusive", probes: 1, unchange: true},
		{name: "keep-all", args: []string{"--keep-all"}, code: 1, verdict: "culprit_found", unchange: true},
		// Two candidates: the baseline, the first alone, then both off.
		{name: "scope without the culprit", args: []string{"--scope", "mu-plugins,dropins"}, code: 1,
			verdict: "not_extension", probes: 3, unchange: true},
		{name: "scope plugins", args: []string{"--scope", "plugins"}, code: 0, verdict: "culprit_found", left: 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			b := newBisectSite(t, wptest.Options{})
			culprits := b.st.Break(t, wptest.BreakKillWorker)
			before := b.state(t)
			r := b.run(t, append([]string{"bisect", "--json"}, c.args...)...)
			assert.Equal(t, c.code, r.code, r.stderr)
			rep := parseReport(t, r)
			assert.Equal(t, c.verdict, rep.Verdict)
			assert.Len(t, rep.LeftDisabled, c.left)
			if c.verdict == "culprit_found" {
				assert.Equal(t, culprits, rep.Culprits)
			}
			if c.probes > 0 {
				assert.Equal(t, c.probes, rep.Probes)
			}
			if c.unchange {
				b.assertAsBefore(t, before, "nothing changed")
				b.assertNoTrace(t)
			}
		})
	}
}
