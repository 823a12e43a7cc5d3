package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wpfix/wpfix/wp/wptest"
)

// diskFullSite is a bisect site whose wp-content is a tmpfs of its own, to
// fill mid-run, broken by a plugin that kills its worker while the file
// it returns exists (outside wp-content): removing it shows whether the
// site answers with all its plugins back.
func diskFullSite(t *testing.T) (*bisectSite, string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a tmpfs for wp-content (a disk the test can fill)")
	}
	b := newBisectSite(t, wptest.Options{ContentTmpfs: 32 << 20})
	b.st.ActivatePlugins(t, b.st.AddPlugin(t, wptest.Plugin{Slug: "wptest-disk-killer",
		Body: "if ( file_exists( ABSPATH . 'wptest-broken' ) ) { " + wptest.KillWorker + " }"}))
	broken := filepath.Join(b.st.Root, "wptest-broken")
	require.NoError(t, os.WriteFile(broken, nil, 0o644))
	require.NotEqual(t, 200, b.st.Get(t, "/").Status, "the site is broken")
	return b, broken
}

// stateBut is the site's state without the given files of wp-content
// (the one that fills the disk).
func (b *bisectSite) stateBut(t *testing.T, rel ...string) siteState {
	t.Helper()
	s := b.state(t)
	for _, r := range rel {
		delete(s.Files, r)
	}
	return s
}

// waitDoneRename waits until the journal shows an extension moved into the
// quarantine, its step done.
func (b *bisectSite) waitDoneRename(t *testing.T, cmd *exec.Cmd, out *bytes.Buffer) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) && cmd.ProcessState == nil {
		raw, _ := os.ReadFile(filepath.Join(b.st.ContentDir, ".wpfix", "journal"))
		var j struct{ Steps []struct{ Op, State string } }
		if json.Unmarshal(raw, &j) == nil {
			for _, st := range j.Steps {
				if st.Op == "rename" && st.State == "done" {
					return
				}
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
	t.Fatalf("the journal never showed a rename done; wpfix said:\n%s", out)
}

// assertServedWithPlugins checks that the site answers 200 with every
// plugin at work, once the breakage is switched off.
func (b *bisectSite) assertServedWithPlugins(t *testing.T, broken string) {
	t.Helper()
	require.NoError(t, os.Remove(broken))
	r := b.st.Get(t, "/")
	assert.Equal(t, 200, r.Status, "the site answers")
	assert.Equal(t, 5, strings.Count(r.Body, "<!-- fine -->"), "with each of its plugins")
}

// TestRestoreDiskFull: bisect is killed (kill -9) with plugins in the
// quarantine, and wp-content's disk is then full. wpfix restore puts every
// plugin back at once all the same, since renames need no space, and says
// the disk is full; the site answers 200 with its plugins. With space
// again, a second restore finds nothing left to do.
func TestRestoreDiskFull(t *testing.T) {
	t.Parallel()
	b, broken := diskFullSite(t)
	before := b.state(t)

	cmd, out := b.start(t, "bisect", "--json")
	b.waitDoneRename(t, cmd, out)
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	cmd.Wait()
	fill := wptest.FillDisk(t, b.st.ContentDir, "fill")
	off := diffFiles(before.Files, b.stateBut(t, "fill").Files)
	require.NotEmpty(t, off, "bisect left plugins in the quarantine")
	t.Logf("killed with %d files moved away; the disk is full", len(off))

	r := b.run(t, "restore")
	require.Equal(t, 0, r.code, "stdout %s\nstderr %s", r.stdout, r.stderr)
	assert.Contains(t, r.stdout, "Restored:")
	assert.Contains(t, r.stdout, "Note: the disk is full")
	t.Logf("restore with the disk full said:\n%s", r.stdout)
	now := b.stateBut(t, "fill")
	assert.Empty(t, diffFiles(before.Files, now.Files), "every plugin is back")
	assert.Equal(t, before.Options, now.Options)
	b.assertNoTrace(t, "no lock, journal or quarantine left, the disk full")
	b.assertServedWithPlugins(t, broken)

	require.NoError(t, os.Remove(fill))
	r = b.run(t, "restore")
	assert.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "Nothing to restore")
	b.assertNoTrace(t)
}

// TestBisectDiskFull fills wp-content's disk while bisect runs, once it has
// moved a plugin into the quarantine. Its next change cannot be journaled,
// so it is not made; bisect stops and puts every change back by itself,
// with the disk full, and says so.
func TestBisectDiskFull(t *testing.T) {
	t.Parallel()
	b, broken := diskFullSite(t)
	before := b.state(t)

	cmd, out := b.start(t, "bisect")
	b.waitDoneRename(t, cmd, out)
	fill := wptest.FillDisk(t, b.st.ContentDir, "fill")
	err := cmd.Wait()
	require.Error(t, err, out.String())
	t.Logf("bisect with the disk full said:\n%s", out)
	assert.Contains(t, out.String(), "the disk that holds the journal is full")
	assert.Contains(t, out.String(), "every change was put back")
	// Whether the undoing itself met the full disk depends on the space the
	// failed write gave back (a tmpfs frees the pages of the temp file it
	// removes): when it did, the note says so.
	if strings.Contains(out.String(), "the disk is full: ") {
		assert.Contains(t, out.String(), "the disk is full: the journal could not be written while the changes were undone")
	}
	now := b.stateBut(t, "fill")
	assert.Empty(t, diffFiles(before.Files, now.Files), "every plugin is back")
	assert.Equal(t, before.Options, now.Options)
	b.assertNoTrace(t, "no lock, journal or quarantine left, the disk full")
	b.assertServedWithPlugins(t, broken)

	require.NoError(t, os.Remove(fill))
	r := b.run(t, "restore")
	assert.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "Nothing to restore")
}

// renamesDone lists the extensions the journal shows moved into the
// quarantine, oldest first, as their places in the site.
func (b *bisectSite) renamesDone() []string {
	raw, _ := os.ReadFile(filepath.Join(b.st.ContentDir, ".wpfix", "journal"))
	var j struct {
		Steps []struct{ Op, State, From string }
	}
	json.Unmarshal(raw, &j)
	var from []string
	for _, st := range j.Steps {
		if st.Op == "rename" && st.State == "done" {
			from = append(from, st.From)
		}
	}
	return from
}

// TestRestoreDiskFullLeftToMark: with the disk full, restore meets a
// plugin that is both in its place and in the quarantine (reinstalled
// meanwhile), which it leaves for a person to compare, after it has put
// the later ones back: those it could not mark in the journal, and it says
// so. Once the person has chosen and there is space again, a second
// restore finds them done and ends cleanly.
func TestRestoreDiskFullLeftToMark(t *testing.T) {
	t.Parallel()
	b, broken := diskFullSite(t)
	before := b.state(t)

	cmd, out := b.start(t, "bisect", "--json")
	deadline := time.Now().Add(60 * time.Second)
	for len(b.renamesDone()) < 2 {
		if time.Now().After(deadline) || cmd.ProcessState != nil {
			t.Fatalf("the journal never showed two renames done; wpfix said:\n%s", out)
		}
		time.Sleep(2 * time.Millisecond)
	}
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	cmd.Wait()
	moved := b.renamesDone()
	t.Logf("killed with %d extensions in the quarantine", len(moved))
	// The first one moved is back in its place, reinstalled.
	copyOf := moved[0]
	require.NoError(t, os.Mkdir(copyOf, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(copyOf, "readme.txt"), []byte("reinstalled"), 0o644))
	fill := wptest.FillDisk(t, b.st.ContentDir, "fill")

	r := b.run(t, "restore")
	assert.Equal(t, 1, r.code, "stdout %s\nstderr %s", r.stdout, r.stderr)
	t.Logf("restore with the disk full said:\n%s", r.stderr)
	assert.Contains(t, r.stderr, "leaving both for a person to compare")
	assert.Regexp(t, `the disk is full: \d+ steps? (were|was) undone but could not be marked in the journal; `+
		`run wpfix restore again when there is space — it will find (them|it) done`, r.stderr)
	for _, p := range moved[1:] {
		_, err := os.Stat(p) // a folder, or a single-file plugin
		assert.NoError(t, err, "put back with the disk full")
	}

	// The person keeps the quarantined copy; space again.
	require.NoError(t, os.RemoveAll(copyOf))
	require.NoError(t, os.Remove(fill))
	r = b.run(t, "restore")
	require.Equal(t, 0, r.code, "stdout %s\nstderr %s", r.stdout, r.stderr)
	assert.NotContains(t, r.stdout, "disk is full")
	b.assertAsBefore(t, before, "files and options as before")
	b.assertNoTrace(t, "no lock, journal or quarantine left")
	b.assertServedWithPlugins(t, broken)
}

// TestBisectInterruptedDiskFull: Ctrl-C while bisect probes, with the disk
// just filled: bisect puts every change back by itself all the same, says
// the disk is full, and exits 130.
func TestBisectInterruptedDiskFull(t *testing.T) {
	t.Parallel()
	b, broken := diskFullSite(t)
	// Every page takes 1.5 s (a must-use plugin, out of --scope): bisect is
	// in a probe whenever its journal is quiet.
	b.st.AddMUPlugin(t, "wptest-slow.php", "if ( ! is_admin() ) { usleep( 1500000 ); }")
	before := b.state(t)

	cmd, out := b.start(t, "bisect", "--scope", "plugins")
	b.waitDoneRename(t, cmd, out)
	journal := filepath.Join(b.st.ContentDir, ".wpfix", "journal")
	last, since := []byte(nil), time.Now()
	for time.Since(since) < 150*time.Millisecond {
		raw, _ := os.ReadFile(journal)
		if !bytes.Equal(raw, last) {
			last, since = raw, time.Now()
		}
		time.Sleep(5 * time.Millisecond)
	}
	fill := wptest.FillDisk(t, b.st.ContentDir, "fill")
	require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
	cmd.Wait()
	t.Logf("bisect interrupted with the disk full said:\n%s", out)
	assert.Equal(t, 130, cmd.ProcessState.ExitCode(), out.String())
	assert.Contains(t, out.String(), "interrupted; every change was put back (the disk is full: the journal could not be written while the changes were undone")
	now := b.stateBut(t, "fill")
	assert.Empty(t, diffFiles(before.Files, now.Files), "every plugin is back")
	assert.Equal(t, before.Options, now.Options)
	b.assertNoTrace(t, "no lock, journal or quarantine left, the disk full")
	require.NoError(t, os.Remove(fill))
	require.NoError(t, os.Remove(b.st.MUPluginDir+"/wptest-slow.php"))
	b.assertServedWithPlugins(t, broken)
}
