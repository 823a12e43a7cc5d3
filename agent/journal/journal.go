// Package journal holds the record of every change wpfix makes to a site,
// written on the site's host before the change is made, and the site's lock.
// From the journal any run, on any machine, puts the site back after a
// crash, kill -9 or a dropped connection. It knows files, directories,
// options and where the site keeps each kind of extension (through Site),
// not HTTP: agent decides what to change, the journal records it and
// undoes it.
//
// The journal lies in a folder the site's user can write, and restore
// often runs as root: it is a record, not a program. Every path restore
// touches is rebuilt from the site's layout (Site) and a step's kind and
// name, every option it writes is one wpfix writes, and a journal with
// anything else is refused whole, before anything is changed (ErrUntrusted).
package journal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"strings"
	"time"

	"github.com/wpfix/wpfix/remote"
)

// StateDir is the journal's folder, under wp-content: lock, journal and
// quarantine.
const StateDir = ".wpfix"

// ProtectedOptions are the options WordPress rewrites when plugin or theme
// files vanish (validate_active_plugins, the theme fallback): they are
// snapshotted before the first change and held during a run, written back
// byte for byte before every probe and at its end. After the run they are
// the admin's again (see Journal.Release and Journal.Merge).
var ProtectedOptions = []string{"active_plugins", "template", "stylesheet", "current_theme"}

// NotDurable is the note a report shows when the host cannot sync the
// journal to disk.
const NotDurable = "the host's SFTP server cannot sync files to disk (no fsync@openssh.com): the journal survives a crash of wpfix or of the connection, but perhaps not of the host itself"

// Options reads and writes a site's options; *wp.DB is one.
type Options interface {
	Option(ctx context.Context, name string) (string, bool, error)
	SetOption(ctx context.Context, name, value string) error
	DeleteOption(ctx context.Context, name string) error
	SiteOption(ctx context.Context, key string) (string, bool, error)
	SetSiteOption(ctx context.Context, key, value string) error
}

// Site is what the journal and the lock need of a site.
type Site struct {
	// Host holds the site.
	Host remote.Host
	// ContentDir is wp-content, where StateDir goes, and where drop-ins
	// live.
	ContentDir string
	// Root is the folder with wp-load.php, where helper files go; ""
	// means the parent of ContentDir, WordPress's default.
	Root string
	// PluginDir, MUPluginDir and ThemeDir are where the site keeps its
	// plugins, must-use plugins and themes; "" means WordPress's default
	// folder under ContentDir. With Root and ContentDir they are the only
	// places, besides the state folder, that restore renames or removes in.
	PluginDir, MUPluginDir, ThemeDir string
	// Options are the site's options, for the snapshot and OpOption
	// steps; the lock alone does without.
	Options Options
	// Blogs, on a multisite network, gives the options of a site of the
	// network by its blog id, Options being the main site's (blog 0 in
	// the journal, whatever its id); nil on a single site.
	Blogs func(id int) Options
	// Blog is the site of the network a run works on (its theme switched,
	// its protected options snapshotted): 0 for the main site or a single
	// site.
	Blog int
	// OtherBlogs are the other sites of the network (0: the main site)
	// whose options a run may make WordPress rewrite (their active plugins
	// or theme name a candidate): Open snapshots their protected options
	// too, and the run holds and merges them as Blog's.
	OtherBlogs []int
	// Log receives the journal's warnings; nil discards them.
	Log *slog.Logger
}

// Dir is the site's state folder: lock, journal and quarantine.
func (s Site) Dir() string { return path.Join(s.ContentDir, StateDir) }

// quarantine is where turned-off extensions go, a folder per kind.
func (s Site) quarantine() string { return path.Join(s.Dir(), "quarantine") }

// orDefault is dir, cleaned, or WordPress's default folder def under
// ContentDir.
func (s Site) orDefault(dir, def string) string {
	if dir == "" {
		return path.Join(s.ContentDir, def)
	}
	return path.Clean(dir)
}

func (s Site) pluginDir() string   { return s.orDefault(s.PluginDir, "plugins") }
func (s Site) muPluginDir() string { return s.orDefault(s.MUPluginDir, "mu-plugins") }
func (s Site) themeDir() string    { return s.orDefault(s.ThemeDir, "themes") }

// root is the docroot, where helper files go.
func (s Site) root() string {
	if s.Root == "" {
		return path.Dir(path.Clean(s.ContentDir))
	}
	return path.Clean(s.Root)
}

// MaxSize is the most a journal may hold. A real one holds a few hundred
// bytes a step; a larger file was not written by wpfix, and reading it
// whole could exhaust memory.
const MaxSize = 16 << 20

// OptionSnapshot is an option's value before wpfix changed anything.
type OptionSnapshot struct {
	Name    string `json:"name"`
	Network bool   `json:"network,omitempty"`
	// Blog, when not 0, is the other site of the network (Site.OtherBlogs)
	// the option is of.
	Blog   int    `json:"blog,omitempty"`
	Value  string `json:"value"`
	Exists bool   `json:"exists"`
}

// Version is the journal format this wpfix writes. Version 2 gave a helper
// file its own operation (OpHelper); version 3 records how a finished run
// left the options (Ended, Left), which an older wpfix would ignore and so
// write a stale snapshot over the admin's changes; version 4 places
// wpfix's minimal theme (OpTheme), which an older wpfix would refuse as an
// unknown operation, and snapshots the options of other sites of a
// multisite network (OptionSnapshot.Blog, Step.Blog), which an older
// wpfix would write into the main site's. Versions 1 to 3 are read as
// well (see legacyCreate). A journal of a later version is refused, never
// half understood: restore it with the wpfix that wrote it.
const Version = 4

type file struct {
	Version int       `json:"version"`
	Started time.Time `json:"started"`
	// Snapshot is what the protected options are held at during a run.
	Snapshot []OptionSnapshot `json:"snapshot"`
	// Ended, once a run has ended, is when; Left is then what the
	// protected options held as it left them (see Journal.Release).
	Ended time.Time        `json:"ended,omitzero"`
	Left  []OptionSnapshot `json:"left,omitempty"`
	Steps []*Step          `json:"steps"`
}

// Journal records every change wpfix makes to a site, on the site's host,
// before it is made. It is saved whole and atomically at each step (a temp
// file synced and renamed over the journal), so it is never half written.
type Journal struct {
	site    Site
	file    file
	durable bool
	// unsaved counts the steps undone whose mark is not yet on disk, and
	// full is the error that kept it off (see Unsaved).
	unsaved int
	full    error
	// removed: Finish removed the journal.
	removed bool
}

// newJournal asks the host whether it can sync, once, and warns when not.
// A host that does not say (it has no Durable method) is taken at its
// word that WriteFile syncs.
func newJournal(s Site) *Journal {
	j := &Journal{site: s, durable: true}
	if d, ok := s.Host.(interface{ Durable() bool }); ok {
		j.durable = d.Durable()
	}
	if !j.durable && s.Log != nil {
		s.Log.Warn("journal: " + NotDurable)
	}
	return j
}

// Durable reports whether the host syncs the journal to disk at each
// step; when not, NotDurable says what that means.
func (j *Journal) Durable() bool { return j.durable }

func (j *Journal) path() string { return path.Join(j.site.Dir(), "journal") }

// Read reads the site's journal; nil when there is none. The journal is
// checked whole before it is returned: it must be a regular file (not a
// symlink, FIFO or device) of at most MaxSize bytes, and every step and
// snapshot entry must be one wpfix writes for this site's layout (see
// Site.rebuild). Otherwise the error is ErrUntrusted, saying which step
// and why, and nothing has been changed: a planted journal does nothing.
func Read(ctx context.Context, s Site) (*Journal, error) {
	p := path.Join(s.Dir(), "journal")
	b, err := readRegular(ctx, s.Host, p, MaxSize)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	j := newJournal(s)
	if err := json.Unmarshal(b, &j.file); err != nil {
		return nil, &untrustedError{p, fmt.Sprintf("it is not a wpfix journal (%v)", err)}
	}
	if j.file.Version > Version {
		return nil, fmt.Errorf("read the journal %s: format version %d is newer than this wpfix's (%d); restore with the wpfix that wrote it", j.path(), j.file.Version, Version)
	}
	if err := j.check(); err != nil {
		return nil, err
	}
	return j, nil
}

// readRegular reads the file p only if it is a regular file, not a link,
// FIFO or device, of at most max bytes; it reads at most max+1 bytes, so a
// file that grows meanwhile cannot exhaust memory either. A file that is
// not so is ErrUntrusted.
func readRegular(ctx context.Context, h remote.Host, p string, max int64) ([]byte, error) {
	fi, err := h.Lstat(ctx, p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("read the journal: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, &untrustedError{p, "it is " + fileKind(fi.Mode()) + ", not a regular file"}
	}
	if fi.Size() > max {
		return nil, &untrustedError{p, fmt.Sprintf("it holds %d bytes, more than the %d a journal may", fi.Size(), max)}
	}
	b, err := h.ReadHead(ctx, p, max+1)
	if err != nil {
		return nil, fmt.Errorf("read the journal: %w", err)
	}
	if int64(len(b)) > max {
		return nil, &untrustedError{p, fmt.Sprintf("it grew past the %d bytes a journal may hold while it was read", max)}
	}
	return b, nil
}

// fileKind names what a file that is not a regular one is, for messages.
func fileKind(m fs.FileMode) string {
	switch {
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m.IsDir():
		return "a directory"
	}
	return "not a regular file (" + m.String() + ")"
}

// check validates every step and snapshot entry of a journal just read,
// before any of it is acted on, and writes the rebuilt paths into the
// steps, so that what restore later reads of them is the site's own.
func (j *Journal) check() error {
	for _, o := range j.file.Snapshot {
		if why := j.checkOption(o); why != "" {
			return &untrustedError{j.path(), "its snapshot holds " + why}
		}
	}
	for _, o := range j.file.Left {
		if why := j.checkOption(o); why != "" {
			return &untrustedError{j.path(), "its record of the options a run left holds " + why}
		}
	}
	for i, st := range j.file.Steps {
		if st == nil {
			return &untrustedError{j.path(), fmt.Sprintf("step %d is null", i+1)}
		}
		t, err := j.site.rebuild(st)
		if err != nil {
			return &untrustedError{j.path(), fmt.Sprintf("step %d %v", i+1, err)}
		}
		switch st.Op {
		case OpRename:
			st.From, st.To = t.from, t.to
		case OpMkdir, OpHelper:
			st.Path = t.path
		}
	}
	return nil
}

// checkOption says what is wrong with a snapshot entry, "" when nothing.
func (j *Journal) checkOption(o OptionSnapshot) string {
	switch {
	case !writable(o.Name, o.Network):
		return fmt.Sprintf("the option %q, which is not one wpfix writes", o.Name)
	case o.Blog < 0 || (o.Blog > 0 && o.Network):
		return fmt.Sprintf("the option %q of blog %d, which no network has", o.Name, o.Blog)
	case o.Blog > 0 && j.site.Blogs == nil:
		return fmt.Sprintf("the option %q of blog %d, but this site is not a multisite network", o.Name, o.Blog)
	}
	return ""
}

// Open reads the site's journal, or starts one with a snapshot of the
// protected options. Nothing is changed on the site before the new journal
// is safely on disk: if it cannot be written, the run stops here.
func Open(ctx context.Context, s Site) (*Journal, error) {
	if j, err := Read(ctx, s); j != nil || err != nil {
		return j, err
	}
	j := newJournal(s)
	j.file = file{Version: Version, Started: time.Now().UTC()}
	for _, id := range append([]int{s.Blog}, s.OtherBlogs...) {
		opts, err := j.optionsOf(id)
		if err != nil {
			return nil, fmt.Errorf("snapshot the options: %w", err)
		}
		for _, name := range ProtectedOptions {
			v, ok, err := opts.Option(ctx, name)
			if err != nil {
				return nil, fmt.Errorf("snapshot option %s%s: %w", name, ofBlog(id), err)
			}
			j.file.Snapshot = append(j.file.Snapshot, OptionSnapshot{Name: name, Blog: id, Value: v, Exists: ok})
		}
	}
	if v, ok, err := s.Options.SiteOption(ctx, networkOption); err == nil && ok {
		j.file.Snapshot = append(j.file.Snapshot, OptionSnapshot{Name: networkOption, Network: true, Value: v, Exists: true})
	}
	if err := j.save(ctx); err != nil {
		return nil, err
	}
	return j, nil
}

// save writes the journal atomically and durably, every step's state as
// it is in memory: it also marks the steps undone while the disk was full.
// An error for lack of space is ErrNoSpace.
func (j *Journal) save(ctx context.Context) error {
	b, err := json.MarshalIndent(j.file, "", " ")
	if err != nil {
		return err
	}
	if err := j.site.Host.WriteFile(ctx, j.path(), append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("write the journal (no change is made without it): %w", spaceError(ctx, j.site.Host, j.site.Dir(), err))
	}
	j.unsaved = 0
	return nil
}

// Pending lists the steps whose change may be in effect.
func (j *Journal) Pending() []*Step {
	var p []*Step
	for _, s := range j.file.Steps {
		if s.State != Undone {
			p = append(p, s)
		}
	}
	return p
}

// record writes a planned step, makes the change, and marks it done. If
// the change fails, the step is marked undone: nothing happened. A step
// restore would refuse (see Site.rebuild) is not made at all.
func (j *Journal) record(ctx context.Context, st *Step, change func() error) error {
	st.Seq = len(j.file.Steps) + 1
	st.State = Planned
	if _, err := j.site.rebuild(st); err != nil {
		return fmt.Errorf("journal a step that %v: refused; nothing was changed", err)
	}
	j.file.Steps = append(j.file.Steps, st)
	if err := j.save(ctx); err != nil {
		j.file.Steps = j.file.Steps[:len(j.file.Steps)-1]
		return err
	}
	if err := change(); err != nil {
		st.State = Undone
		if serr := j.save(ctx); serr != nil {
			return errors.Join(err, serr)
		}
		return err
	}
	st.State = Done
	return j.save(ctx)
}

// Mkdir makes a directory, journaled.
func (j *Journal) Mkdir(ctx context.Context, p, why string) error {
	if err := j.noSymlinks(ctx, p); err != nil {
		return err
	}
	if fi, err := j.site.Host.Lstat(ctx, p); err == nil && fi.IsDir() {
		return nil
	}
	return j.record(ctx, &Step{Op: OpMkdir, Path: p, Why: why}, func() error {
		return j.site.Host.Mkdir(ctx, p, 0o700)
	})
}

// HelperFile is a token-guarded PHP file to place (see OpHelper).
type HelperFile struct {
	// Path is where the file goes; none may exist there.
	Path string
	// URL is where it is served, without its token.
	URL string
	// TokenHash is the hex SHA-256 of the token it answers to.
	TokenHash string
	// Token is kept in the journal only when not "" (see Step.Token).
	Token string
	// Why says what it is for, for people reading the journal.
	Why string
	// Data is the file's content.
	Data []byte
}

// PlaceHelper writes a new helper file, journaled: undoing it removes the
// file.
func (j *Journal) PlaceHelper(ctx context.Context, h HelperFile) (*Step, error) {
	if _, err := j.site.Host.Lstat(ctx, h.Path); err == nil {
		return nil, fmt.Errorf("create %s: %w", h.Path, fs.ErrExist)
	}
	st := &Step{Op: OpHelper, Path: h.Path, URL: h.URL, TokenHash: h.TokenHash, Token: h.Token, Why: h.Why}
	return st, j.record(ctx, st, func() error { return j.site.Host.WriteFile(ctx, h.Path, h.Data, 0o644) })
}

// Rename moves a file or folder, journaled.
func (j *Journal) Rename(ctx context.Context, from, to, why string) (*Step, error) {
	if err := j.noSymlinks(ctx, to); err != nil {
		return nil, err
	}
	st := &Step{Op: OpRename, From: from, To: to, Why: why}
	return st, j.record(ctx, st, func() error { return j.site.Host.Rename(ctx, from, to) })
}

// SetOption writes an option, journaled with its old value.
func (j *Journal) SetOption(ctx context.Context, name, value, why string) (*Step, error) {
	opts, err := j.optionsOf(j.site.Blog)
	if err != nil {
		return nil, err
	}
	old, ok, err := opts.Option(ctx, name)
	if err != nil {
		return nil, err
	}
	st := &Step{Op: OpOption, Name: name, Blog: j.site.Blog, Old: old, OldSet: ok, New: value, Why: why}
	return st, j.record(ctx, st, func() error { return opts.SetOption(ctx, name, value) })
}

// Undo reverses one step, journaled: Undoing is saved before the change
// and Undone after. Reversal is idempotent (reverse looks at the site), so
// a full disk does not stop it: when a save fails for lack of space
// (ErrNoSpace) the step is reversed all the same and marked Undone in
// memory only, counted by Unsaved until a later save writes the mark.
// Any other failure to save stops before the change.
func (j *Journal) Undo(ctx context.Context, st *Step) error {
	if st.State == Undone {
		return nil
	}
	was := st.State
	st.State = Undoing
	if err := j.save(ctx); err != nil {
		if !errors.Is(err, ErrNoSpace) {
			st.State = was
			return err
		}
		j.full = err
	}
	if err := j.reverse(ctx, st); err != nil {
		return err
	}
	st.State = Undone
	if err := j.save(ctx); err != nil {
		if !errors.Is(err, ErrNoSpace) {
			return err
		}
		j.full = err
		j.unsaved++
	}
	return nil
}

// reverse puts back what a step changed, looking at the site rather than
// trusting the step's state, so it is safe to repeat. It acts only on the
// paths rebuilt from the site's layout, never on those the step names.
func (j *Journal) reverse(ctx context.Context, st *Step) error {
	h := j.site.Host
	t, err := j.site.rebuild(st)
	if err != nil {
		return &untrustedError{j.path(), fmt.Sprintf("step %d %v", st.Seq, err)}
	}
	switch st.Op {
	case OpRename:
		if err := j.noSymlinks(ctx, t.to); err != nil {
			return err
		}
		_, errTo := h.Lstat(ctx, t.to)
		_, errFrom := h.Lstat(ctx, t.from)
		switch {
		case errTo == nil && errors.Is(errFrom, fs.ErrNotExist):
			return h.Rename(ctx, t.to, t.from)
		case errFrom == nil && errors.Is(errTo, fs.ErrNotExist):
			return nil // never happened, or already put back
		case errTo == nil && errFrom == nil:
			return fmt.Errorf("put back %s: both it and %s exist; leaving both for a person to compare", t.from, t.to)
		case errTo != nil && !errors.Is(errTo, fs.ErrNotExist):
			return errTo
		case errFrom != nil && !errors.Is(errFrom, fs.ErrNotExist):
			return errFrom
		default:
			return fmt.Errorf("put back %s: neither it nor %s exists", t.from, t.to)
		}
	case OpOption:
		opts, err := j.optionsOf(st.Blog)
		if err != nil {
			return err
		}
		if st.Network {
			return opts.SetSiteOption(ctx, st.Name, st.Old)
		}
		if !st.OldSet {
			return opts.DeleteOption(ctx, st.Name)
		}
		return opts.SetOption(ctx, st.Name, st.Old)
	case OpMkdir:
		err := h.Remove(ctx, t.path)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	case OpHelper:
		// A kill inside the write may have left only its temporary file.
		dir, base := path.Split(t.path)
		removeTempsOf(ctx, h, dir, func(name string) bool { return strings.HasPrefix(name, "."+base+".wpfix-tmp-") })
		err := h.Remove(ctx, t.path)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	case OpTheme:
		return j.reverseTheme(ctx, st, t.path)
	}
	return fmt.Errorf("journal step %d: unknown operation %q", st.Seq, st.Op)
}

// changedOptions lists the options that no longer hold what the run holds
// them at (see held): wpfix changed them, or WordPress did (an admin's
// page load deactivating plugins whose files are gone).
func (j *Journal) changedOptions(ctx context.Context) ([]OptionSnapshot, error) {
	var changed []OptionSnapshot
	for _, s := range j.file.Snapshot {
		o := j.held(s)
		cur, err := j.current(ctx, o)
		if err != nil {
			return nil, err
		}
		if cur.Exists != o.Exists || cur.Value != o.Value {
			changed = append(changed, o)
		}
	}
	return changed, nil
}

// RestoreOptions puts the protected options back at what the run holds
// them at: their snapshot values, but where a step still in effect set
// one (the theme switched away from a culprit), that step's value. On a
// journal a run has released, call Merge first: the snapshot is then the
// admin's options with the culprits put back.
func (j *Journal) RestoreOptions(ctx context.Context) error {
	changed, err := j.changedOptions(ctx)
	if err != nil {
		return err
	}
	for _, o := range changed {
		if err := j.write(ctx, o); err != nil {
			return err
		}
	}
	return nil
}

// OptionsIntact reports whether the protected options still hold what the
// run holds them at, as they did when the probe started.
func (j *Journal) OptionsIntact(ctx context.Context) (bool, error) {
	changed, err := j.changedOptions(ctx)
	return len(changed) == 0, err
}

// removeTemps removes what an atomic write killed half way left in dir:
// its temporary files (".name.wpfix-tmp-…").
func removeTemps(ctx context.Context, h remote.Host, dir string) {
	removeTempsOf(ctx, h, dir, func(name string) bool { return strings.Contains(name, ".wpfix-tmp-") })
}

// removeTempsOf removes the temporary files in dir whose names match.
// Only regular files go: a link, FIFO or folder of such a name is not
// wpfix's and is left alone.
func removeTempsOf(ctx context.Context, h remote.Host, dir string, match func(string) bool) {
	list, err := h.ReadDir(ctx, dir)
	if err != nil {
		return
	}
	for _, fi := range list {
		if !match(fi.Name()) || !fi.Mode().IsRegular() {
			continue
		}
		if cur, err := h.Lstat(ctx, path.Join(dir, fi.Name())); err == nil && cur.Mode().IsRegular() {
			h.Remove(ctx, path.Join(dir, fi.Name()))
		}
	}
}

// HelperPath is where a helper step's file is, rebuilt from the site's
// layout: the docroot and the step's file name.
func (j *Journal) HelperPath(st *Step) (string, error) {
	if st.Op != OpHelper {
		return "", fmt.Errorf("journal step %d is not a helper file", st.Seq)
	}
	t, err := j.site.rebuild(st)
	if err != nil {
		return "", &untrustedError{j.path(), fmt.Sprintf("step %d %v", st.Seq, err)}
	}
	return t.path, nil
}

// Finish removes the journal when no change is left in effect: helper
// files first, then wpfix's minimal themes, then the folders made. A
// journal with changes left (a culprit kept disabled) stays, for restore;
// a minimal theme no step in effect switches the site to is removed even
// then. It needs no space: with the disk full it ends as well (see Undo),
// and Removed then says the marks Undo could not save no longer matter.
func (j *Journal) Finish(ctx context.Context) error {
	if err := j.removeUnusedThemes(ctx); err != nil {
		return err
	}
	for _, st := range j.file.Steps {
		if st.State != Undone && !st.Housekeeping() {
			return nil
		}
	}
	for _, op := range []Op{OpHelper, OpTheme, OpMkdir} {
		for i := len(j.file.Steps) - 1; i >= 0; i-- {
			if st := j.file.Steps[i]; st.Op == op && st.State != Undone {
				if err := j.Undo(ctx, st); err != nil {
					return err
				}
			}
		}
	}
	err := j.site.Host.Remove(ctx, j.path())
	if errors.Is(err, fs.ErrNotExist) {
		err = nil
	}
	j.removed = err == nil
	removeTempsOf(ctx, j.site.Host, j.site.Dir(), func(name string) bool { return strings.HasPrefix(name, ".journal.wpfix-tmp-") })
	return err
}
