package agent

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wpfix/wpfix/remote"
	"github.com/wpfix/wpfix/remote/proctest"
	"github.com/wpfix/wpfix/remote/sshtest"
	"github.com/wpfix/wpfix/wp"
	"github.com/wpfix/wpfix/wp/wptest"
)

// BenchmarkTail2GB reads the last 50 lines of a 2 GB log over SSH, as
// wpfix logs does: only the end of the file crosses the connection.
func BenchmarkTail2GB(b *testing.B) {
	srv := sshtest.NewServer(b, sshtest.Options{})
	w := proctest.NewWorkdir(b, "tailbench")
	p := filepath.Join(w.Dir, "error.log")
	f, err := os.Create(p)
	require.NoError(b, err)
	require.NoError(b, f.Truncate(2<<30)) // sparse: 2 GB on paper, cheap on disk
	_, err = f.Seek(0, 2)
	require.NoError(b, err)
	for i := range 200 {
		f.WriteString("2026/11/23 00:00:00 [error] 1#1: *" + strconv.Itoa(i) +
			" recv() failed (104: Connection reset by peer) while reading response header from upstream\n")
	}
	require.NoError(b, f.Close())
	require.NoError(b, os.Chmod(p, 0o644))

	h, err := remote.Open(context.Background(), remote.Target{User: srv.User, Host: srv.Host, Port: srv.Port, Path: "/"},
		remote.Options{Identity: srv.KeyFile, KnownHosts: srv.KnownHostsFile, ConfigFile: "none"})
	require.NoError(b, err)
	defer h.Close()
	s := &Site{Host: h}
	for b.Loop() {
		lines, err := tailLines(context.Background(), s, p, 50)
		require.NoError(b, err)
		require.Len(b, lines, 50)
		require.True(b, strings.Contains(lines[49], "*199 "))
	}
}

// BenchmarkBisectProbes64 bisects, on the real stack, a site with 64 active
// plugins (the candidates: --scope plugins) of which one kills its worker,
// moving the culprit to the next plugin each run, and reports the probes a
// culprit costs: the most over the runs (probes/culprit, 9 among 64: the
// baseline, six to bisect, the suspect alone or everything off, the
// confirmation) and the mean. Each run is --keep-all, so the site is whole
// again for the next. -benchtime 64x puts the culprit at every position.
func BenchmarkBisectProbes64(b *testing.B) {
	const n = 64
	st := wptest.NewStack(b, wptest.Options{})
	plugins := make([]wptest.Plugin, n)
	var files []string
	for i := range plugins {
		plugins[i] = wptest.Plugin{Slug: fmt.Sprintf("plugin-%02d", i)}
		files = append(files, st.AddPlugin(b, plugins[i]))
	}
	st.ActivatePlugins(b, files...)
	s, err := Open(b.Context(), st.Root, Options{})
	require.NoError(b, err)
	b.Cleanup(func() { s.Close() })
	culprit := func(i int, body string) {
		p := plugins[i]
		p.Body = body
		st.AddPlugin(b, p)
	}

	runs, total, most := 0, 0, 0
	for b.Loop() {
		b.StopTimer()
		c := runs % n
		culprit(c, wptest.KillWorker)
		b.StartTimer()
		rep, err := Bisect(b.Context(), s, BisectOptions{Scope: []string{wp.KindPlugin}, KeepAll: true, Command: "wpfix bench"})
		b.StopTimer()
		require.NoError(b, err)
		require.Equal(b, VerdictCulpritFound, rep.Verdict)
		require.Len(b, rep.Candidates, n)
		require.Equal(b, []wp.Extension{{Kind: wp.KindPlugin, Name: plugins[c].Slug}}, rep.Culprits)
		assert.Equal(b, 9, rep.Probes, "culprit %s among %d", plugins[c].Slug, n)
		runs, total, most = runs+1, total+rep.Probes, max(most, rep.Probes)
		culprit(c, "")
		b.StartTimer()
	}
	b.ReportMetric(float64(most), "probes/culprit")
	b.ReportMetric(float64(total)/float64(runs), "mean-probes/culprit")
}
