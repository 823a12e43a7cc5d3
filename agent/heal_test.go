package agent

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wpfix/wpfix/agent/journal"
	"github.com/wpfix/wpfix/wp"
	"github.com/wpfix/wpfix/wp/wptest"
)

// events records what heal notified; the channels themselves are tested
// against real receivers in agent/notify and through the binary.
type events struct {
	mu   sync.Mutex
	list []Event
}

func (r *events) notify(_ context.Context, e Event) []error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.list = append(r.list, e)
	return nil
}

func (r *events) names() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var n []string
	for _, e := range r.list {
		n = append(n, e.Event)
	}
	return n
}

// healSite is a stack, heal's options for it, and a clock the test moves.
type healSite struct {
	st  *wptest.Stack
	ev  *events
	now time.Time
}

func newHealSite(t *testing.T, opts wptest.Options) *healSite {
	return &healSite{st: wptest.NewStack(t, opts), ev: &events{}, now: time.Now()}
}

// heal runs heal once, on a freshly opened site, as each cron run does.
func (h *healSite) heal(t *testing.T, mod ...func(*HealOptions)) *HealReport {
	t.Helper()
	s, err := Open(t.Context(), h.st.Root, Options{DBOptional: true})
	require.NoError(t, err)
	defer s.Close()
	o := HealOptions{Confirm: 2, ConfirmInterval: 10 * time.Millisecond, Notify: h.ev.notify,
		Now: func() time.Time { return h.now }}
	for _, m := range mod {
		m(&o)
	}
	rep, err := Heal(t.Context(), s, o)
	require.NoError(t, err)
	return rep
}

func (h *healSite) stateDir() string { return filepath.Join(h.st.ContentDir, journal.StateDir) }

// TestHealHealthy: on a healthy site, runs change nothing, notify nothing,
// write nothing.
func TestHealHealthy(t *testing.T) {
	t.Parallel()
	h := newHealSite(t, wptest.Options{})
	for range 20 {
		rep := h.heal(t)
		assert.Equal(t, HealHealthy, rep.State)
		assert.Nil(t, rep.Bisect)
	}
	assert.Empty(t, h.ev.names())
	assert.NoDirExists(t, h.stateDir(), "nothing written")
}

// TestHealOneBadAnswer: a site that fails every other request is not
// broken to heal: one good answer among the confirming probes.
func TestHealOneBadAnswer(t *testing.T) {
	t.Parallel()
	h := newHealSite(t, wptest.Options{})
	h.st.Break(t, wptest.BreakFlaky)
	for range 5 {
		rep := h.heal(t, func(o *HealOptions) { o.Confirm = 3 })
		assert.Equal(t, HealHealthy, rep.State)
	}
	assert.Empty(t, h.ev.names())
	assert.NoDirExists(t, h.stateDir(), "nothing changed")
}

// TestHealFixes: a plugin that kills its worker is disabled, with one
// fixed notice naming it and the restore command; later runs are silent;
// a second culprit while the first is disabled is fixed too, with one
// notice; restore brings both back, keeping an admin's change between.
func TestHealFixes(t *testing.T) {
	t.Parallel()
	h := newHealSite(t, wptest.Options{})
	first := h.st.Break(t, wptest.BreakKillWorker)
	rep := h.heal(t)
	require.Equal(t, HealFixed, rep.State, rep.Reason)
	require.NotNil(t, rep.Bisect)
	assert.Equal(t, first, rep.Bisect.LeftDisabled)
	require.Equal(t, []string{EventFixed}, h.ev.names())
	e := h.ev.list[0]
	assert.Equal(t, 1, e.Version)
	assert.Equal(t, first, e.Culprits)
	assert.Equal(t, "wpfix restore "+h.st.Root, e.Restore)
	assert.Contains(t, e.Message, "wptest-kill-worker")
	assert.Equal(t, 200, h.st.Get(t, "/").Status)
	for range 3 {
		h.now = h.now.Add(5 * time.Minute)
		assert.Equal(t, HealHealthy, h.heal(t).State)
	}
	assert.Len(t, h.ev.names(), 1, "later runs are silent")

	// The admin deactivates a plugin meanwhile; then another breaks.
	other := h.st.AddPlugin(t, wptest.Plugin{Slug: "wptest-admin-off"})
	h.st.ActivatePlugins(t, other)
	h.st.RunWordPress(t, `deactivate_plugins('`+other+`');`)
	second := h.st.Break(t, wptest.BreakFatal)
	h.now = h.now.Add(time.Hour)
	rep = h.heal(t)
	require.Equal(t, HealFixed, rep.State, rep.Reason)
	assert.Equal(t, second, rep.Bisect.LeftDisabled)
	assert.Equal(t, []string{EventFixed, EventFixed}, h.ev.names())
	assert.NoDirExists(t, filepath.Join(h.st.PluginDir, first[0].Name), "the first is still disabled")

	st, _, err := HealStatus(t.Context(), mustOpen(t, h.st.Root), "")
	require.NoError(t, err)
	require.Len(t, st.Fixes, 2)

	s := mustOpen(t, h.st.Root)
	_, err = Restore(t.Context(), s, false)
	require.NoError(t, err)
	active := h.st.ActivePlugins(t)
	for _, c := range append(first, second...) {
		assert.DirExists(t, filepath.Join(h.st.PluginDir, c.Name))
		assert.Contains(t, active, c.Name+"/"+c.Name+".php")
	}
	assert.NotContains(t, active, other, "the admin's deactivation stands")
}

func mustOpen(t *testing.T, root string) *Site {
	t.Helper()
	s, err := Open(t.Context(), root, Options{DBOptional: true})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

// TestHealOutside: php-fpm stopped, then the database: no bisect, nothing
// changed, one notice naming the cause; repeated runs stay quiet until the
// reminder is due; started again, one recovered notice.
func TestHealOutside(t *testing.T) {
	t.Parallel()
	h := newHealSite(t, wptest.Options{})
	h.st.StopPHP()
	rep := h.heal(t)
	require.Equal(t, HealBroken, rep.State, rep.Reason)
	assert.Nil(t, rep.Bisect, "not bisected")
	require.Equal(t, []string{EventBroken}, h.ev.names())
	require.NotEmpty(t, h.ev.list[0].Causes)
	assert.Equal(t, "fpm-down", h.ev.list[0].Causes[0].ID)
	assert.NoFileExists(t, filepath.Join(h.stateDir(), "journal"), "nothing changed")
	for range 3 {
		h.now = h.now.Add(time.Hour)
		assert.Equal(t, HealBroken, h.heal(t).State)
	}
	assert.Len(t, h.ev.names(), 1, "quiet until --remind")
	h.now = h.now.Add(DefaultRemind)
	h.heal(t)
	assert.Equal(t, []string{EventBroken, EventStillBroken}, h.ev.names())

	h.st.StartPHP(t)
	h.st.StopDatabase()
	h.now = h.now.Add(time.Minute)
	rep = h.heal(t)
	require.Equal(t, HealBroken, rep.State, rep.Reason)
	assert.Nil(t, rep.Bisect)
	assert.Len(t, h.ev.names(), 2, "still the same outage to heal: no new notice before --remind")
}

// TestHealRecovered: a site reported broken that answers well again gets
// one recovered notice.
func TestHealRecovered(t *testing.T) {
	t.Parallel()
	h := newHealSite(t, wptest.Options{})
	h.st.StopPHP()
	require.Equal(t, HealBroken, h.heal(t).State)
	h.st.StartPHP(t)
	h.now = h.now.Add(time.Minute)
	assert.Equal(t, HealHealthy, h.heal(t).State)
	h.now = h.now.Add(time.Minute)
	assert.Equal(t, HealHealthy, h.heal(t).State)
	assert.Equal(t, []string{EventBroken, EventRecovered}, h.ev.names())
}

// TestHealMaintenance: a .maintenance a minute old stops heal; one older
// than ten minutes is ignored, as WordPress ignores it.
func TestHealMaintenance(t *testing.T) {
	t.Parallel()
	h := newHealSite(t, wptest.Options{})
	h.st.Break(t, wptest.BreakKillWorker)
	m := filepath.Join(h.st.Root, ".maintenance")
	require.NoError(t, os.WriteFile(m, []byte(fmt.Sprintf("<?php $upgrading = %d; ?>", h.now.Add(-time.Minute).Unix())), 0o644))
	rep := h.heal(t)
	assert.Equal(t, HealSkipped, rep.State)
	assert.Contains(t, rep.Reason, "WordPress is updating")
	assert.Empty(t, h.ev.names())
	require.NoError(t, os.WriteFile(m, []byte(fmt.Sprintf("<?php $upgrading = %d; ?>", h.now.Add(-11*time.Minute).Unix())), 0o644))
	assert.Equal(t, HealFixed, h.heal(t).State)
}

// TestHealPause: nothing is done during a pause; after --resume, heal acts.
func TestHealPause(t *testing.T) {
	t.Parallel()
	h := newHealSite(t, wptest.Options{})
	h.st.Break(t, wptest.BreakKillWorker)
	_, err := Pause(t.Context(), mustOpen(t, h.st.Root), "", h.now.Add(time.Hour))
	require.NoError(t, err)
	rep := h.heal(t)
	assert.Equal(t, HealSkipped, rep.State)
	assert.Contains(t, rep.Reason, "paused until")
	_, err = Pause(t.Context(), mustOpen(t, h.st.Root), "", time.Time{})
	require.NoError(t, err)
	assert.Equal(t, HealFixed, h.heal(t).State)
}

// TestHealBackoff: a site broken outside its extensions that diagnose
// does not recognise as such: bisect cannot fix it, so heal backs off,
// doubling, and reminds at most every --remind.
func TestHealBackoff(t *testing.T) {
	t.Parallel()
	h := newHealSite(t, wptest.Options{})
	// WordPress's own front end broken: no extension is to blame
	loader := filepath.Join(h.st.Root, "wp-includes", "template-loader.php")
	b, err := os.ReadFile(loader)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(loader, []byte(strings.Replace(string(b), "<?php", "<?php wptest_core_is_broken();", 1)), 0o644))
	short := func(o *HealOptions) { o.Backoff, o.Remind = time.Minute, 30*time.Minute }

	rep := h.heal(t, short)
	require.Equal(t, HealBroken, rep.State, rep.Reason)
	require.NotNil(t, rep.Bisect)
	assert.Equal(t, VerdictNotExtension, rep.Bisect.Verdict)
	st, _, err := HealStatus(t.Context(), mustOpen(t, h.st.Root), "")
	require.NoError(t, err)
	assert.Equal(t, time.Minute, st.Backoff())

	h.now = h.now.Add(30 * time.Second)
	rep = h.heal(t, short)
	assert.Nil(t, rep.Bisect, "within the backoff: not bisected")
	assert.Contains(t, rep.Reason, "backing off")

	h.now = h.now.Add(time.Minute)
	rep = h.heal(t, short)
	require.NotNil(t, rep.Bisect, "after the backoff: bisected again")
	st, _, err = HealStatus(t.Context(), mustOpen(t, h.st.Root), "")
	require.NoError(t, err)
	assert.Equal(t, 2*time.Minute, st.Backoff(), "doubled")
	assert.Equal(t, []string{EventBroken}, h.ev.names(), "no reminder before --remind")

	h.now = h.now.Add(31 * time.Minute)
	h.heal(t, short)
	assert.Equal(t, []string{EventBroken, EventStillBroken}, h.ev.names())
}

// TestHealInterrupted: a run killed half way (its journal still held, a
// plugin still in quarantine) is restored first, then the site healed.
func TestHealInterrupted(t *testing.T) {
	t.Parallel()
	h := newHealSite(t, wptest.Options{})
	culprit := h.st.Break(t, wptest.BreakKillWorker)
	fine := h.st.AddPlugin(t, wptest.Plugin{Slug: "wptest-fine"})
	h.st.ActivatePlugins(t, fine)
	s := mustOpen(t, h.st.Root)
	lock, err := journal.Acquire(t.Context(), s.journalSite(), "wpfix test", false)
	require.NoError(t, err)
	j, err := journal.Open(t.Context(), s.journalSite())
	require.NoError(t, err)
	q := filepath.Join(h.stateDir(), "quarantine")
	require.NoError(t, j.Mkdir(t.Context(), q, "test"))
	require.NoError(t, j.Mkdir(t.Context(), filepath.Join(q, wp.KindPlugin), "test"))
	_, err = j.Rename(t.Context(), filepath.Join(h.st.PluginDir, "wptest-fine"), filepath.Join(q, wp.KindPlugin, "wptest-fine"), "test")
	require.NoError(t, err)
	// the run dies here; its lock is gone with it (a dead run's lock is
	// taken over, which the lock's own tests show)
	require.NoError(t, lock.Release(t.Context()))

	rep := h.heal(t)
	require.Equal(t, HealFixed, rep.State, rep.Reason)
	assert.Contains(t, rep.Notes, "an interrupted wpfix run had left changes on the site: they were undone first")
	assert.Equal(t, culprit, rep.Bisect.LeftDisabled)
	assert.DirExists(t, filepath.Join(h.st.PluginDir, "wptest-fine"), "the interrupted run's change undone")
}
