package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wpfix/wpfix/agent/journal"
	"github.com/wpfix/wpfix/remote"
	"github.com/wpfix/wpfix/wp/wptest"
)

// fillingHost fills the real disk that holds wp-content just before its
// at-th rename out of the quarantine (an extension turned back on), and
// counts those renames; with at 0 it only counts.
type fillingHost struct {
	remote.Host
	t          *testing.T
	quarantine string
	content    string
	at, n      int
	fill       string
}

func (h *fillingHost) Rename(ctx context.Context, from, to string) error {
	if strings.HasPrefix(from, h.quarantine+"/") {
		if h.n++; h.n == h.at {
			h.fill = wptest.FillDisk(h.t, h.content, "fill")
		}
	}
	return h.Host.Rename(ctx, from, to)
}

// TestBisectDiskFullAtTheEnd: the disk fills as bisect turns the last
// innocent plugin back on. It and the rest are turned on all the same, the
// culprit is left off as found, and the report says how many steps could
// not be marked in the journal. A restore once there is space finds those
// steps done, puts the culprit back and ends cleanly.
func TestBisectDiskFullAtTheEnd(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a tmpfs for wp-content (a disk the test can fill)")
	}
	t.Parallel()
	st := wptest.NewStack(t, wptest.Options{ContentTmpfs: 32 << 20})
	// The innocents sort after the culprit: bisect turns them back on
	// after it turns the culprit off, the last changes of the run.
	var files []string
	for i := range 4 {
		files = append(files, st.AddPlugin(t, wptest.Plugin{Slug: fmt.Sprintf("zz-fine-%d", i)}))
	}
	st.ActivatePlugins(t, files...)
	culprits := st.Break(t, wptest.BreakKillWorker)
	activeBefore, _ := st.Option(t, "active_plugins")

	bisect := func(at int) (*Report, *fillingHost) {
		s, err := Open(t.Context(), st.Root, Options{})
		require.NoError(t, err)
		t.Cleanup(func() { s.Close() })
		h := &fillingHost{Host: s.Host, t: t, quarantine: filepath.Join(st.ContentDir, journal.StateDir, "quarantine"),
			content: st.ContentDir, at: at}
		s.Host = h
		rep, err := Bisect(t.Context(), s, BisectOptions{Command: "wpfix test"})
		require.NoError(t, err)
		assert.Equal(t, culprits, rep.Culprits)
		return rep, h
	}
	restore := func() *RestoreReport {
		s, err := Open(t.Context(), st.Root, Options{})
		require.NoError(t, err)
		defer s.Close()
		rep, err := Restore(t.Context(), s, false)
		require.NoError(t, err)
		return rep
	}

	// A first run, with space, counts the extensions turned back on.
	rep, h := bisect(0)
	require.Positive(t, h.n, "bisect turned innocent plugins back on")
	for _, n := range rep.Notes {
		assert.NotContains(t, n, "disk is full")
	}
	restore()

	// The same run again, the disk filling before the last of them.
	rep, h = bisect(h.n)
	require.NotEmpty(t, h.fill, "the disk was filled")
	// Two notes: the steps undone but not marked, and the options'
	// record (Journal.Release) that could not be written either.
	require.Len(t, rep.Notes, 2, "%q", rep.Notes)
	assert.Contains(t, rep.Notes[0], "how this run left the options could not be recorded")
	assert.Regexp(t, `^the disk is full: \d+ steps? (were|was) undone but could not be marked in the journal; `+
		`run wpfix restore again when there is space — it will find (them|it) done$`, rep.Notes[1])
	for _, f := range files {
		assert.FileExists(t, filepath.Join(st.PluginDir, f), "innocent %s is on", f)
	}
	culprit := filepath.Join(st.PluginDir, culprits[0].Name)
	assert.NoDirExists(t, culprit, "the culprit is left off")
	// The journal as the full disk keeps it: innocents still marked off.
	raw, err := os.ReadFile(filepath.Join(st.ContentDir, journal.StateDir, "journal"))
	require.NoError(t, err)
	var onDisk struct{ Steps []journal.Step }
	require.NoError(t, json.Unmarshal(raw, &onDisk))
	unmarked := 0
	for _, s := range onDisk.Steps {
		if s.State != journal.Undone && strings.Contains(s.From, "/zz-fine-") {
			unmarked++
		}
	}
	assert.Positive(t, unmarked, "innocents turned on, not marked so on disk")

	require.NoError(t, os.Remove(h.fill))
	rrep := restore()
	assert.True(t, rrep.Restored)
	assert.False(t, rrep.DiskFull, "there was space")
	assert.Empty(t, rrep.Notes)
	assert.DirExists(t, culprit, "the culprit is back")
	for _, f := range files {
		assert.FileExists(t, filepath.Join(st.PluginDir, f))
	}
	active, _ := st.Option(t, "active_plugins")
	assert.Equal(t, activeBefore, active)
	_, err = os.Stat(filepath.Join(st.ContentDir, journal.StateDir))
	assert.ErrorIs(t, err, os.ErrNotExist, "no lock, journal or quarantine left")
}
