package journal

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"
	"sync"
	"time"
)

// ErrLocked reports that another wpfix run holds the site's lock.
var ErrLocked = errors.New("another wpfix run holds the site's lock")

// Lock is a site's lock: the folder .wpfix/lock. It holds
//
//   - owner, who holds it (for the message a second run prints), with a
//     counter the holder rewrites every heartbeat;
//   - id.<token>, the lock's identity, made once and never rewritten;
//   - taken, an empty folder it is born with (see below).
//
// A lock is built whole beside its place (lock.new-<token>) and renamed
// into it: a rename onto a folder that is there fails, as mkdir would, so
// exactly one of two runs gets it, and no run ever sees a lock half made.
//
// A run takes over a lock only when its holder is dead. Whether it is dead
// is judged without comparing two machines' clocks, since a host whose
// clock is behind would make a live lock look old: the owner file's
// modification time is compared with the host's own now (the modification
// time of a file the taker writes there, see probeHost), and a lock that
// looks older than staleAfter by the host's clock is watched for
// staleWindow, measured on the taker's monotonic clock: if its heartbeat
// changes in that time, its holder is alive and keeps it. The first test
// alone would trust the host's clock not to jump; the watch alone would
// make every second run wait staleWindow to be told the site is locked.
// A lock whose holder ran on this machine and is gone, or with force, is
// taken over without the watch.
//
// Taking over is atomic, not check-then-act: the taker renames the lock's
// id.<token>, which names the very lock it judged dead, to
// claimed.<its token>; of several takers only one rename succeeds, and
// the others get ErrLocked. The winner renames the dead lock aside
// (lock.stale-<token>), removes it, and puts a new lock in its place,
// which fails (ErrLocked) if a run took the free place first. Renaming the
// lock folder itself would not do: a taker late by a few milliseconds
// would rename aside the new lock the winner had just made. A lock left by
// an older wpfix has no id file: it is claimed by making taken in it,
// which every newer lock has from birth.
type Lock struct {
	site  Site
	dir   string
	token string
	owner lockOwner
	lost  chan struct{} // closed when another run took the lock over
	stop  chan struct{}
	done  chan struct{}
	once  sync.Once
}

// lockOwner is written in the lock, for the message a second run prints
// and to tell a live lock from a dead one: Beat grows every heartbeat.
type lockOwner struct {
	Command string    `json:"command"`
	Machine string    `json:"machine"`
	PID     int       `json:"pid"`
	Since   time.Time `json:"since"`
	Token   string    `json:"token,omitempty"`
	Beat    int64     `json:"beat,omitempty"`
}

// lockHeartbeat is how often a run proves it is alive. A lock whose owner
// file is older than staleAfter by the host's clock, and does not change
// for staleWindow by the taker's, was left by a run that died (kill -9, a
// dropped connection, a reboot) and may be taken over. Variables, so
// tests can make them short.
var (
	lockHeartbeat = 10 * time.Second
	staleAfter    = 90 * time.Second
	staleWindow   = 3 * lockHeartbeat
	watchEvery    = time.Second
)

// Names in the state folder and in the lock.
const (
	lockName    = "lock"
	ownerName   = "owner"
	idPrefix    = "id."
	claimPrefix = "claimed."
	takenName   = "taken"
	newPrefix   = "lock.new-"
	stalePrefix = "lock.stale-"
	maxOwner    = 64 << 10
)

// hostname names this machine in a lock; a variable, so tests can play a
// run on another machine.
var hostname = os.Hostname

func newToken() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Acquire takes the site's lock for command, making the state folder
// first (or checking the one there: ErrUnsafe when wpfix must not use it).
// A lock left by a dead run is taken over (see Lock): one whose heartbeat
// stopped, or whose owner was a process on this machine that is gone. Any
// other lock is ErrLocked, unless force, which takes over a lock whose
// owner the user knows to be dead.
func Acquire(ctx context.Context, s Site, command string, force bool) (*Lock, error) {
	probe, err := openDir(ctx, s)
	if err != nil {
		return nil, err
	}
	machine, _ := hostname()
	l := &Lock{site: s, dir: path.Join(s.Dir(), lockName), token: newToken(),
		lost: make(chan struct{}), stop: make(chan struct{}), done: make(chan struct{})}
	l.owner = lockOwner{Command: command, Machine: machine, PID: os.Getpid(), Since: time.Now().UTC(), Token: l.token}
	for attempt := 0; attempt < 8; attempt++ {
		err := l.create(ctx)
		if err == nil {
			ensureDenyFiles(ctx, s) // a run that ended meanwhile may have taken them
			go l.heartbeat()
			return l, nil
		}
		if errors.Is(err, fs.ErrNotExist) && attempt < 3 {
			// The state folder went with a run that ended meanwhile.
			if probe, err = openDir(ctx, s); err != nil {
				return nil, err
			}
			continue
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, err
		}
		st, ok, err := readLock(ctx, s)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue // released meanwhile
		}
		if attempt >= 3 {
			return nil, st.locked()
		}
		if !force {
			dead, err := st.dead(ctx, s, probe, true)
			if err != nil {
				return nil, err
			}
			if !dead {
				return nil, st.locked()
			}
		}
		if err := l.takeOver(ctx, st); err != nil {
			return nil, err
		}
	}
	return nil, fmt.Errorf("%w (it changed hands at every look; try again)", ErrLocked)
}

// create builds a new lock beside its place and renames it there; the
// error is fs.ErrExist when a lock is there.
func (l *Lock) create(ctx context.Context) error {
	h := l.site.Host
	tmp := path.Join(l.site.Dir(), newPrefix+l.token)
	defer removeLockDir(context.WithoutCancel(ctx), l.site, tmp)
	b, _ := json.Marshal(l.owner)
	err := h.Mkdir(ctx, tmp, 0o700)
	if err == nil {
		err = h.WriteFile(ctx, path.Join(tmp, ownerName), b, 0o600)
		if err != nil && noSpace(ctx, h, l.site.Dir(), err) {
			// The disk is full: the lock holds without its owner file,
			// which the heartbeat writes once there is space, so that a
			// restore still runs (it needs no space, see Journal.Undo).
			err = nil
		}
	}
	if err == nil {
		err = h.WriteFile(ctx, path.Join(tmp, idPrefix+l.token), nil, 0o600)
	}
	if err == nil {
		err = h.Mkdir(ctx, path.Join(tmp, takenName), 0o700)
	}
	if err != nil {
		return fmt.Errorf("take the lock %s: %w", l.dir, err)
	}
	// A rename that failed for a lock there may find it gone when it looks
	// (a taker between moving the dead lock aside and making its own): it
	// tries again.
	for try := 0; ; try++ {
		err := h.Rename(ctx, tmp, l.dir)
		if err == nil {
			return nil
		}
		if _, lerr := h.Lstat(ctx, l.dir); lerr == nil {
			return fs.ErrExist
		}
		if try == 3 {
			return fmt.Errorf("take the lock %s: %w", l.dir, err)
		}
	}
}

// takeOver claims the dead lock st (one taker alone succeeds: the others
// get ErrLocked) and removes it.
func (l *Lock) takeOver(ctx context.Context, st lockState) error {
	h := l.site.Host
	var claimed string
	if st.token != "" {
		claimed = claimPrefix + l.token
		if err := h.Rename(ctx, path.Join(l.dir, idPrefix+st.token), path.Join(l.dir, claimed)); err != nil {
			if _, lerr := h.Lstat(ctx, path.Join(l.dir, idPrefix+st.token)); errors.Is(lerr, fs.ErrNotExist) {
				return fmt.Errorf("%w (it was taken over by another run just now)", ErrLocked)
			}
			return fmt.Errorf("take over the lock %s: %w", l.dir, err)
		}
	} else {
		if err := h.Mkdir(ctx, path.Join(l.dir, takenName), 0o700); err != nil {
			if errors.Is(err, fs.ErrExist) || errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("%w (it was taken over by another run just now)", ErrLocked)
			}
			return fmt.Errorf("take over the lock %s: %w", l.dir, err)
		}
		claimed = path.Join(takenName, claimPrefix+l.token)
		if err := h.Mkdir(ctx, path.Join(l.dir, claimed), 0o700); err != nil {
			return fmt.Errorf("take over the lock %s: %w", l.dir, err)
		}
	}
	aside := path.Join(l.site.Dir(), stalePrefix+l.token)
	if err := h.Rename(ctx, l.dir, aside); err != nil {
		return fmt.Errorf("move the dead lock %s aside: %w", l.dir, err)
	}
	if _, err := h.Lstat(ctx, path.Join(aside, claimed)); err != nil {
		// Not the lock claimed: a run stalled longer than staleWindow
		// between two calls. Give it back.
		if err := h.Rename(ctx, aside, l.dir); err != nil {
			return fmt.Errorf("put back the lock %s another run holds: %w", l.dir, err)
		}
		return fmt.Errorf("%w (it was taken over by another run just now)", ErrLocked)
	}
	if err := removeLockDir(ctx, l.site, aside); err != nil && l.site.Log != nil {
		l.site.Log.Warn("lock: " + err.Error())
	}
	return nil
}

// heartbeat rewrites the owner file every lockHeartbeat, with a new Beat,
// until Release; it stops when another run took the lock over.
func (l *Lock) heartbeat() {
	defer close(l.done)
	h := l.site.Host
	t := time.NewTicker(lockHeartbeat)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
		}
		ctx := context.Background()
		if _, err := h.Lstat(ctx, path.Join(l.dir, idPrefix+l.token)); errors.Is(err, fs.ErrNotExist) {
			if l.site.Log != nil {
				l.site.Log.Warn("lock: another run took over this run's lock " + l.dir)
			}
			close(l.lost)
			return
		}
		l.owner.Beat++
		b, _ := json.Marshal(l.owner)
		h.WriteFile(ctx, path.Join(l.dir, ownerName), b, 0o600)
	}
}

// Release gives the lock up, and removes the state folder when nothing
// but its deny files is left in it. Only its first call does anything.
func (l *Lock) Release(ctx context.Context) (err error) {
	l.once.Do(func() { err = l.release(ctx) })
	return err
}

func (l *Lock) release(ctx context.Context) error {
	close(l.stop)
	<-l.done
	select {
	case <-l.lost:
		return fmt.Errorf("release the lock %s: another run took it over while this one held it (its heartbeat was judged stopped); its lock is left to it", l.dir)
	default:
	}
	h := l.site.Host
	if _, err := h.Lstat(ctx, path.Join(l.dir, idPrefix+l.token)); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("release the lock %s: another run took it over while this one held it (its heartbeat was judged stopped); its lock is left to it", l.dir)
	}
	if err := removeLockDir(ctx, l.site, l.dir); err != nil {
		return err
	}
	return removeDirIfIdle(ctx, l.site)
}

// removeLockDir removes a lock folder wpfix made, entry by entry and
// without following a link: what is in a lock (files, taken and the
// claims in it), nothing deeper.
func removeLockDir(ctx context.Context, s Site, dir string) error {
	return removeShallow(ctx, s, dir, 2)
}

func removeShallow(ctx context.Context, s Site, dir string, depth int) error {
	h := s.Host
	list, err := h.ReadDir(ctx, dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("remove the lock folder %s: %w", dir, err)
	}
	for _, fi := range list {
		p := path.Join(dir, fi.Name())
		if fi.IsDir() && depth > 0 {
			if err := removeShallow(ctx, s, p, depth-1); err != nil {
				return err
			}
			continue
		}
		if err := h.Remove(ctx, p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove the lock folder %s: %w", dir, err)
		}
	}
	if err := h.Remove(ctx, dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove the lock folder %s: %w", dir, err)
	}
	return nil
}

// lockState is a lock as a run saw it.
type lockState struct {
	dir   string
	owner lockOwner
	// token is the lock's identity (its id file); "" for a lock an older
	// wpfix made, or one half made.
	token string
	// mtime is the owner file's modification time, or the lock folder's
	// when it has none, by the host's clock.
	mtime time.Time
	// seen is what a heartbeat changes: the owner file and its time, and
	// the lock's names.
	seen string
}

// readLock reads the site's lock; ok is false when there is none. A lock,
// or an owner file, that is not what wpfix makes (a symlink, a file where
// a folder should be, a huge owner file) is ErrUnsafe.
func readLock(ctx context.Context, s Site) (st lockState, ok bool, err error) {
	h := s.Host
	st.dir = path.Join(s.Dir(), lockName)
	fi, err := h.Lstat(ctx, st.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return st, false, nil
	}
	if err != nil {
		return st, false, fmt.Errorf("read the lock %s: %w", st.dir, err)
	}
	if fi.Mode()&fs.ModeSymlink != 0 || !fi.IsDir() {
		return st, false, fmt.Errorf("%w: the lock %s is not a folder wpfix made (%v); nothing was changed (remove it if no wpfix run is going)",
			ErrUnsafe, st.dir, fi.Mode().Type())
	}
	st.mtime = fi.ModTime()
	list, err := h.ReadDir(ctx, st.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return st, false, nil
	}
	if err != nil {
		return st, false, fmt.Errorf("read the lock %s: %w", st.dir, err)
	}
	var seen strings.Builder
	for _, e := range list {
		seen.WriteString(e.Name() + "\x00")
		if t, isID := strings.CutPrefix(e.Name(), idPrefix); isID && e.Mode().IsRegular() && st.token == "" {
			st.token = t
		}
		if e.Name() != ownerName {
			continue
		}
		if !e.Mode().IsRegular() || e.Size() > maxOwner {
			return st, false, fmt.Errorf("%w: the lock's owner file %s is not a file wpfix wrote (%v, %d bytes); nothing was changed (remove the lock if no wpfix run is going)",
				ErrUnsafe, path.Join(st.dir, ownerName), e.Mode().Type(), e.Size())
		}
		st.mtime = e.ModTime()
		b, err := h.ReadHead(ctx, path.Join(st.dir, ownerName), maxOwner)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return st, false, fmt.Errorf("read the lock %s: %w", st.dir, err)
		}
		json.Unmarshal(b, &st.owner)
		seen.Write(b)
	}
	fmt.Fprintf(&seen, "\x00%d", st.mtime.UnixNano())
	st.seen = seen.String()
	return st, true, nil
}

// dead reports whether the lock's holder is dead (see Lock): it ran on
// this machine and is gone, or the lock is older than staleAfter by the
// host's clock and, when watch, its heartbeat does not change for
// staleWindow by this machine's monotonic clock. Without watch, an old
// lock is reported dead at once (Check: Acquire will watch it).
func (st lockState) dead(ctx context.Context, s Site, p hostProbe, watch bool) (bool, error) {
	if st.owner.deadHere() {
		return true, nil
	}
	if p.now.Sub(st.mtime) < staleAfter {
		return false, nil
	}
	if !watch {
		return true, nil
	}
	t := time.NewTicker(watchEvery)
	defer t.Stop()
	for start := time.Now(); time.Since(start) < staleWindow; {
		select {
		case <-ctx.Done():
			return false, fmt.Errorf("watch the lock %s: %w", st.dir, ctx.Err())
		case <-t.C:
		}
		now, ok, err := readLock(ctx, s)
		if err != nil {
			return false, err
		}
		if !ok || now.seen != st.seen {
			return false, nil // alive, or released: either way not st's to take
		}
	}
	return true, nil
}

// locked is the ErrLocked error saying who holds st.
func (st lockState) locked() error {
	o := st.owner
	return fmt.Errorf("%w (%s, pid %d on %s, since %s); if that run is gone, its lock is taken over once its heartbeat has stopped for %s, or at once with wpfix restore --force",
		ErrLocked, o.Command, o.PID, o.Machine, o.Since.Format(time.RFC3339), staleAfter)
}

// Check returns ErrLocked, saying whose, when a run that looks alive holds
// the site's lock, and ErrUnsafe when the state folder or the lock is not
// one wpfix may use. It changes nothing on the site (it writes and removes
// a probe file in the state folder, to read the host's clock).
func Check(ctx context.Context, s Site) error {
	// A run that ends meanwhile takes the folder, or sweeps the probe.
	for try := 0; ; try++ {
		err := checkOnce(ctx, s)
		if !errors.Is(err, fs.ErrNotExist) || errors.Is(err, ErrUnsafe) || try == 2 {
			return err
		}
	}
}

func checkOnce(ctx context.Context, s Site) error {
	h := s.Host
	fi, err := h.Lstat(ctx, s.Dir())
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("look at %s: %w", s.Dir(), err)
	}
	if fi.Mode()&fs.ModeSymlink != 0 || !fi.IsDir() {
		return checkDir(ctx, s, fi, hostProbe{uid: -1})
	}
	p, err := probeDir(ctx, s, fi)
	if err != nil {
		return err
	}
	if err := checkDir(ctx, s, fi, p); err != nil {
		return err
	}
	st, ok, err := readLock(ctx, s)
	if err != nil || !ok {
		return err
	}
	if dead, err := st.dead(ctx, s, p, false); err != nil || !dead {
		if err != nil {
			return err
		}
		return st.locked()
	}
	return nil
}

// deadHere reports whether the owner ran on this machine and is gone.
func (o lockOwner) deadHere() bool {
	machine, _ := hostname()
	if o.PID <= 0 || o.Machine != machine {
		return false
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", o.PID))
	return err != nil || !strings.Contains(string(cmdline), "wpfix")
}
