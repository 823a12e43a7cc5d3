package agent

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

	"github.com/wpfix/wpfix/remote"
)

// ErrLocked reports that another wpfix run holds the site's lock.
var ErrLocked = errors.New("another wpfix run holds the site's lock")

// The journal's folder, under wp-content: lock, journal and quarantine.
const stateDir = ".wpfix"

// protectedOptions are the options WordPress rewrites when plugin or theme
// files vanish (validate_active_plugins, the theme fallback): they are
// snapshotted before the first change and written back byte for byte.
var protectedOptions = []string{"active_plugins", "template", "stylesheet", "current_theme"}

// Step states. A step is written to the journal, synced, before its change
// is made ("planned"), and marked after ("done"); undoing goes through
// "undoing" to "undone". Restore trusts no state without looking: it checks
// the files or writes the old value again, so a crash at any point between
// two writes is recovered.
const (
	statePlanned = "planned"
	stateDone    = "done"
	stateUndoing = "undoing"
	stateUndone  = "undone"
)

// Step is one change to a site.
type Step struct {
	Seq   int    `json:"seq"`
	State string `json:"state"`
	// Op is "mkdir" (Path), "create" (a new file at Path), "rename" (From
	// to To) or "option" (Name set from Old to New; Network for a multisite
	// network option).
	Op      string `json:"op"`
	Path    string `json:"path,omitempty"`
	From    string `json:"from,omitempty"`
	To      string `json:"to,omitempty"`
	Name    string `json:"name,omitempty"`
	Old     string `json:"old,omitempty"`
	OldSet  bool   `json:"old_set,omitempty"`
	New     string `json:"new,omitempty"`
	Network bool   `json:"network,omitempty"`
	// Why says what the change is for, for people reading the journal.
	Why string `json:"why,omitempty"`
}

// OptionSnapshot is an option's value before wpfix changed anything.
type OptionSnapshot struct {
	Name    string `json:"name"`
	Network bool   `json:"network,omitempty"`
	Value   string `json:"value"`
	Exists  bool   `json:"exists"`
}

type journalFile struct {
	Version  int              `json:"version"`
	Started  time.Time        `json:"started"`
	Snapshot []OptionSnapshot `json:"snapshot"`
	Steps    []*Step          `json:"steps"`
}

// Journal records every change wpfix makes to a site, on the site's host,
// before it is made. It is saved whole and atomically at each step (a temp
// file synced and renamed over the journal), so it is never half written.
type Journal struct {
	site *Site
	dir  string
	file journalFile
}

func journalDir(s *Site) string { return path.Join(s.WP.ContentDir, stateDir) }

// readJournal reads the site's journal; nil when there is none.
func readJournal(ctx context.Context, s *Site) (*Journal, error) {
	j := &Journal{site: s, dir: journalDir(s)}
	b, err := s.Host.ReadFile(ctx, j.path())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the journal: %w", err)
	}
	if err := json.Unmarshal(b, &j.file); err != nil {
		return nil, fmt.Errorf("read the journal %s: %w; it is left as it is for a person to read", j.path(), err)
	}
	return j, nil
}

// openJournal reads the site's journal, or starts one with a snapshot of
// the protected options. Nothing is changed on the site before the new
// journal is safely on disk: if it cannot be written, the run stops here.
func openJournal(ctx context.Context, s *Site) (*Journal, error) {
	if j, err := readJournal(ctx, s); j != nil || err != nil {
		return j, err
	}
	j := &Journal{site: s, dir: journalDir(s)}
	j.file = journalFile{Version: 1, Started: time.Now().UTC()}
	for _, name := range protectedOptions {
		v, ok, err := s.DB.Option(ctx, name)
		if err != nil {
			return nil, err
		}
		j.file.Snapshot = append(j.file.Snapshot, OptionSnapshot{Name: name, Value: v, Exists: ok})
	}
	if v, ok, err := s.DB.SiteOption(ctx, "active_sitewide_plugins"); err == nil && ok {
		j.file.Snapshot = append(j.file.Snapshot, OptionSnapshot{Name: "active_sitewide_plugins", Network: true, Value: v, Exists: true})
	}
	if err := j.save(ctx); err != nil {
		return nil, err
	}
	return j, nil
}

func (j *Journal) path() string { return path.Join(j.dir, "journal") }

// save writes the journal atomically and durably.
func (j *Journal) save(ctx context.Context) error {
	b, err := json.MarshalIndent(j.file, "", " ")
	if err != nil {
		return err
	}
	if err := j.site.Host.WriteFile(ctx, j.path(), append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("write the journal (no change is made without it): %w", err)
	}
	return nil
}

// Pending lists the steps whose change may be in effect.
func (j *Journal) Pending() []*Step {
	var p []*Step
	for _, s := range j.file.Steps {
		if s.State != stateUndone {
			p = append(p, s)
		}
	}
	return p
}

// record writes a planned step, makes the change, and marks it done. If
// the change fails, the step is marked undone: nothing happened.
func (j *Journal) record(ctx context.Context, st *Step, change func() error) error {
	st.Seq = len(j.file.Steps) + 1
	st.State = statePlanned
	j.file.Steps = append(j.file.Steps, st)
	if err := j.save(ctx); err != nil {
		j.file.Steps = j.file.Steps[:len(j.file.Steps)-1]
		return err
	}
	if err := change(); err != nil {
		st.State = stateUndone
		if serr := j.save(ctx); serr != nil {
			return errors.Join(err, serr)
		}
		return err
	}
	st.State = stateDone
	return j.save(ctx)
}

// Mkdir makes a directory, journaled.
func (j *Journal) Mkdir(ctx context.Context, p, why string) error {
	if _, err := j.site.Host.Stat(ctx, p); err == nil {
		return nil
	}
	return j.record(ctx, &Step{Op: "mkdir", Path: p, Why: why}, func() error {
		return j.site.Host.Mkdir(ctx, p, 0o700)
	})
}

// CreateStep writes a new file at st.Path (none may exist), journaled:
// undoing it removes the file.
func (j *Journal) CreateStep(ctx context.Context, st *Step, data []byte) error {
	if _, err := j.site.Host.Lstat(ctx, st.Path); err == nil {
		return fmt.Errorf("create %s: %w", st.Path, fs.ErrExist)
	}
	return j.record(ctx, st, func() error { return j.site.Host.WriteFile(ctx, st.Path, data, 0o644) })
}

// Rename moves a file or folder, journaled.
func (j *Journal) Rename(ctx context.Context, from, to, why string) (*Step, error) {
	st := &Step{Op: "rename", From: from, To: to, Why: why}
	return st, j.record(ctx, st, func() error { return j.site.Host.Rename(ctx, from, to) })
}

// SetOption writes an option, journaled with its old value.
func (j *Journal) SetOption(ctx context.Context, name, value, why string) (*Step, error) {
	old, ok, err := j.site.DB.Option(ctx, name)
	if err != nil {
		return nil, err
	}
	st := &Step{Op: "option", Name: name, Old: old, OldSet: ok, New: value, Why: why}
	return st, j.record(ctx, st, func() error { return j.site.DB.SetOption(ctx, name, value) })
}

// Undo reverses one step, journaled: "undoing" is saved before the change
// and "undone" after.
func (j *Journal) Undo(ctx context.Context, st *Step) error {
	if st.State == stateUndone {
		return nil
	}
	st.State = stateUndoing
	if err := j.save(ctx); err != nil {
		return err
	}
	if err := j.reverse(ctx, st); err != nil {
		return err
	}
	st.State = stateUndone
	return j.save(ctx)
}

// reverse puts back what a step changed, looking at the site rather than
// trusting the step's state, so it is safe to repeat.
func (j *Journal) reverse(ctx context.Context, st *Step) error {
	h := j.site.Host
	switch st.Op {
	case "rename":
		_, errTo := h.Lstat(ctx, st.To)
		_, errFrom := h.Lstat(ctx, st.From)
		switch {
		case errTo == nil && errors.Is(errFrom, fs.ErrNotExist):
			return h.Rename(ctx, st.To, st.From)
		case errFrom == nil && errors.Is(errTo, fs.ErrNotExist):
			return nil // never happened, or already put back
		case errTo == nil && errFrom == nil:
			return fmt.Errorf("put back %s: both it and %s exist; leaving both for a person to compare", st.From, st.To)
		case errTo != nil && !errors.Is(errTo, fs.ErrNotExist):
			return errTo
		case errFrom != nil && !errors.Is(errFrom, fs.ErrNotExist):
			return errFrom
		default:
			return fmt.Errorf("put back %s: neither it nor %s exists", st.From, st.To)
		}
	case "option":
		if st.Network {
			return j.site.DB.SetSiteOption(ctx, st.Name, st.Old)
		}
		if !st.OldSet {
			return j.site.DB.DeleteOption(ctx, st.Name)
		}
		return j.site.DB.SetOption(ctx, st.Name, st.Old)
	case "mkdir":
		err := h.Remove(ctx, st.Path)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	case "create":
		// A kill inside the write may have left only its temporary file.
		dir, base := path.Split(st.Path)
		if list, err := h.ReadDir(ctx, dir); err == nil {
			for _, fi := range list {
				if strings.HasPrefix(fi.Name(), "."+base+".wpfix-tmp-") {
					h.Remove(ctx, path.Join(dir, fi.Name()))
				}
			}
		}
		err := h.Remove(ctx, st.Path)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	}
	return fmt.Errorf("journal step %d: unknown operation %q", st.Seq, st.Op)
}

// changedOptions lists the snapshot's options, but those in keep, that no
// longer hold their snapshot values: wpfix changed them, or WordPress did
// (an admin's page load deactivating plugins whose files are gone).
func (j *Journal) changedOptions(ctx context.Context, keep map[string]bool) ([]OptionSnapshot, error) {
	var changed []OptionSnapshot
	for _, o := range j.file.Snapshot {
		if keep[o.Name] {
			continue
		}
		var cur string
		var ok bool
		var err error
		if o.Network {
			cur, ok, err = j.site.DB.SiteOption(ctx, o.Name)
		} else {
			cur, ok, err = j.site.DB.Option(ctx, o.Name)
		}
		if err != nil {
			return nil, err
		}
		if ok != o.Exists || cur != o.Value {
			changed = append(changed, o)
		}
	}
	return changed, nil
}

// RestoreOptions writes the snapshot back, except the options named in
// keep (which a fix left changed on purpose).
func (j *Journal) RestoreOptions(ctx context.Context, keep map[string]bool) error {
	changed, err := j.changedOptions(ctx, keep)
	if err != nil {
		return err
	}
	for _, o := range changed {
		switch {
		case o.Network:
			err = j.site.DB.SetSiteOption(ctx, o.Name, o.Value)
		case !o.Exists:
			err = j.site.DB.DeleteOption(ctx, o.Name)
		default:
			err = j.site.DB.SetOption(ctx, o.Name, o.Value)
		}
		if err != nil {
			return fmt.Errorf("restore option %s: %w", o.Name, err)
		}
	}
	return nil
}

// OptionsIntact reports whether the snapshot's options, but those in keep,
// still hold their snapshot values, as they did when the probe started.
func (j *Journal) OptionsIntact(ctx context.Context, keep map[string]bool) (bool, error) {
	changed, err := j.changedOptions(ctx, keep)
	return len(changed) == 0, err
}

// removeTemps removes what an atomic write killed half way left in dir:
// its temporary files (".name.wpfix-tmp-…").
func removeTemps(ctx context.Context, h remote.Host, dir string) {
	list, err := h.ReadDir(ctx, dir)
	if err != nil {
		return
	}
	for _, fi := range list {
		if strings.Contains(fi.Name(), ".wpfix-tmp-") {
			h.Remove(ctx, path.Join(dir, fi.Name()))
		}
	}
}

// Finish removes the journal when no change is left in effect. A journal
// with changes left (a culprit kept disabled) stays, for restore.
func (j *Journal) Finish(ctx context.Context) error {
	for _, st := range j.file.Steps {
		if st.State != stateUndone && st.Op != "mkdir" && st.Op != "create" {
			return nil
		}
	}
	for i := len(j.file.Steps) - 1; i >= 0; i-- {
		if st := j.file.Steps[i]; st.Op == "create" && st.State != stateUndone {
			if err := j.Undo(ctx, st); err != nil {
				return err
			}
		}
	}
	for i := len(j.file.Steps) - 1; i >= 0; i-- {
		if st := j.file.Steps[i]; st.Op == "mkdir" && st.State != stateUndone {
			if err := j.Undo(ctx, st); err != nil {
				return err
			}
		}
	}
	err := j.site.Host.Remove(ctx, j.path())
	if errors.Is(err, fs.ErrNotExist) {
		err = nil
	}
	removeTemps(ctx, j.site.Host, j.dir)
	return err
}

// Lock is a site's lock: the directory .wpfix/lock, whose creation is
// atomic on every filesystem and over SFTP.
type Lock struct {
	site *Site
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

// acquireLock takes the site's lock, creating .wpfix first. A lock left by
// a dead run is taken over: one whose owner stopped its heartbeat, or whose
// owner was a process on this machine that is gone. Any other lock is
// ErrLocked, unless force.
func acquireLock(ctx context.Context, s *Site, command string, force bool) (*Lock, error) {
	h := s.Host
	dir := journalDir(s)
	if err := h.Mkdir(ctx, dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("make %s for the journal (wpfix changes nothing without one): %w", dir, err)
	}
	l := &Lock{site: s, dir: path.Join(dir, "lock"), stop: make(chan struct{}), done: make(chan struct{})}
	owner := path.Join(l.dir, "owner")
	if err := h.Mkdir(ctx, l.dir, 0o700); err != nil {
		if !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("take the lock %s: %w", l.dir, err)
		}
		if err := checkLock(ctx, s); err != nil && !force {
			return nil, err
		}
		// Stale, forced or half made: ours now.
	}
	machine, _ := os.Hostname()
	b, _ := json.Marshal(lockOwner{Command: command, Machine: machine, PID: os.Getpid(), Since: time.Now().UTC()})
	if err := h.WriteFile(ctx, owner, b, 0o600); err != nil {
		h.Remove(ctx, l.dir)
		return nil, fmt.Errorf("take the lock %s: %w", l.dir, err)
	}
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

// checkLock returns ErrLocked, saying whose, when a live run holds the
// site's lock; it changes nothing.
func checkLock(ctx context.Context, s *Site) error {
	h := s.Host
	owner := path.Join(journalDir(s), "lock", "owner")
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
