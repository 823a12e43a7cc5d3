package journal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"
	"time"
)

// ErrLocked reports that another wpfix run holds the site's lock.
var ErrLocked = errors.New("another wpfix run holds the site's lock")

// Lock is a site's lock: the directory .wpfix/lock, whose creation is
// atomic on every filesystem and over SFTP.
type Lock struct {
	site Site
	dir  string
	stop chan struct{}
	done chan struct{}
}

// lockOwner is written in the lock, for the message a second run prints
// and to tell a stale lock: its file is rewritten every heartbeat.
type lockOwner struct {
	Command string    `json:"command"`
	Machine string    `json:"machine"`
	PID     int       `json:"pid"`
	Since   time.Time `json:"since"`
}

// lockHeartbeat is how often a run proves it is alive; a lock whose owner
// file is older than staleAfter was left by a run that died (kill -9, a
// dropped connection, a reboot) and may be taken over.
const (
	lockHeartbeat = 10 * time.Second
	staleAfter    = 90 * time.Second
)

// Acquire takes the site's lock for command, creating the state folder
// first. A lock left by a dead run is taken over: one whose owner stopped
// its heartbeat, or whose owner was a process on this machine that is
// gone. Any other lock is ErrLocked, unless force.
func Acquire(ctx context.Context, s Site, command string, force bool) (*Lock, error) {
	h := s.Host
	dir := s.Dir()
	if err := h.Mkdir(ctx, dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("make %s for the journal (wpfix changes nothing without one): %w", dir, err)
	}
	l := &Lock{site: s, dir: path.Join(dir, "lock"), stop: make(chan struct{}), done: make(chan struct{})}
	owner := path.Join(l.dir, "owner")
	if err := h.Mkdir(ctx, l.dir, 0o700); err != nil {
		if !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("take the lock %s: %w", l.dir, err)
		}
		if err := Check(ctx, s); err != nil && !force {
			return nil, err
		}
		// Stale, forced or half made: ours now.
	}
	machine, _ := os.Hostname()
	b, _ := json.Marshal(lockOwner{Command: command, Machine: machine, PID: os.Getpid(), Since: time.Now().UTC()})
	if err := h.WriteFile(ctx, owner, b, 0o600); err != nil && !noSpace(ctx, h, dir, err) {
		h.Remove(ctx, l.dir)
		return nil, fmt.Errorf("take the lock %s: %w", l.dir, err)
	}
	// With the disk full the folder alone holds the lock, and the heartbeat
	// writes its owner once there is space: a restore must still run.
	go func() {
		defer close(l.done)
		t := time.NewTicker(lockHeartbeat)
		defer t.Stop()
		for {
			select {
			case <-l.stop:
				return
			case <-t.C:
				h.WriteFile(context.Background(), owner, b, 0o600)
			}
		}
	}()
	return l, nil
}

// Check returns ErrLocked, saying whose, when a live run holds the site's
// lock; it changes nothing.
func Check(ctx context.Context, s Site) error {
	h := s.Host
	owner := path.Join(s.Dir(), "lock", "owner")
	fi, err := h.Stat(ctx, owner)
	if err != nil {
		return nil // no lock, or one half made by a run that died at once
	}
	var o lockOwner
	b, _ := h.ReadFile(ctx, owner)
	json.Unmarshal(b, &o)
	if time.Since(fi.ModTime()) >= staleAfter || o.deadHere() {
		return nil
	}
	return fmt.Errorf("%w (%s, pid %d on %s, since %s); if that run is gone, wait %s or use wpfix restore --force",
		ErrLocked, o.Command, o.PID, o.Machine, o.Since.Format(time.RFC3339), staleAfter)
}

// deadHere reports whether the owner ran on this machine and is gone.
func (o lockOwner) deadHere() bool {
	machine, _ := os.Hostname()
	if o.PID <= 0 || o.Machine != machine {
		return false
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", o.PID))
	return err != nil || !strings.Contains(string(cmdline), "wpfix")
}

// Release gives the lock up.
func (l *Lock) Release(ctx context.Context) error {
	close(l.stop)
	<-l.done
	h := l.site.Host
	removeTemps(ctx, h, l.dir)
	if err := h.Remove(ctx, path.Join(l.dir, "owner")); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := h.Remove(ctx, l.dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	// The state folder goes too when nothing else is in it.
	h.Remove(ctx, path.Dir(l.dir))
	return nil
}
