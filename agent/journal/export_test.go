package journal

import (
	"testing"
	"time"
)

// SetLockTiming makes the lock's heartbeat, staleness and watch short for
// t, and puts them back after it.
func SetLockTiming(t testing.TB, heartbeat, after, window time.Duration) {
	hb, af, wi, ev := lockHeartbeat, staleAfter, staleWindow, watchEvery
	lockHeartbeat, staleAfter, staleWindow, watchEvery = heartbeat, after, window, heartbeat/4
	t.Cleanup(func() { lockHeartbeat, staleAfter, staleWindow, watchEvery = hb, af, wi, ev })
}

// SetMachine makes the runs that take a lock after it say they run on
// machine (so a lock held in this process is not seen as one of a process
// on this machine that is gone: a test binary is not named wpfix).
func SetMachine(t testing.TB, machine string) {
	old := hostname
	hostname = func() (string, error) { return machine, nil }
	t.Cleanup(func() { hostname = old })
}

// Abandon stops l's heartbeat without releasing it, as a run killed with
// SIGKILL leaves its lock.
func (l *Lock) Abandon() {
	l.once.Do(func() {
		close(l.stop)
		<-l.done
	})
}
