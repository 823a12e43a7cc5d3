package journal

import (
	"context"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/wpfix/wpfix/wp"
	"github.com/wpfix/wpfix/wp/php"
)

// The protected options have two owners in turn. During a run wpfix holds
// them: before every probe and at the run's end they are put back at their
// snapshot (RestoreOptions), so that WordPress rewriting them while files
// are in quarantine does not stick. When the run ends with culprits left
// disabled, Release records the options as the run left them (Left), and
// from then on they are the site admin's: a later value that differs from
// that record was made by someone else, and is kept. A new run (Hold) or
// restore (Merge) only puts the culprits' own entries back into the
// current values, as WordPress stores them; nothing else is reverted.

// themeOptions are the options that say which theme is active: one
// switch of theme changes them together, and a theme culprit's steps set
// them together.
var themeOptions = []string{"template", "stylesheet", "current_theme"}

// optionGroup names the options that change together: a site's theme's,
// or an option alone.
func optionGroup(o OptionSnapshot) string {
	g := o.Name
	if !o.Network && slices.Contains(themeOptions, o.Name) {
		g = "theme"
	}
	if o.Network {
		return "network " + g
	}
	return fmt.Sprintf("blog %d %s", o.Blog, g)
}

// stepGroup is the group of the option a step sets.
func stepGroup(st *Step) string {
	return optionGroup(OptionSnapshot{Name: st.Name, Network: st.Network, Blog: st.Blog})
}

// optionsOf returns the options of blog (0: the main site's, or a single
// site's).
func (j *Journal) optionsOf(blog int) (Options, error) {
	if blog == 0 {
		return j.site.Options, nil
	}
	if j.site.Blogs == nil {
		return nil, fmt.Errorf("the journal names blog %d, but the site is not a multisite network", blog)
	}
	return j.site.Blogs(blog), nil
}

// held is what the run holds the option o (a snapshot entry) at: the value
// of the last step still in effect that set it (the theme switched away
// from a culprit), or else its snapshot value.
func (j *Journal) held(o OptionSnapshot) OptionSnapshot {
	for i := len(j.file.Steps) - 1; i >= 0; i-- {
		st := j.file.Steps[i]
		if st.Op == OpOption && st.State != Undone && st.Name == o.Name && st.Network == o.Network && st.Blog == o.Blog {
			return OptionSnapshot{Name: o.Name, Network: o.Network, Blog: o.Blog, Value: st.New, Exists: true}
		}
	}
	return o
}

// current reads what the option o holds now.
func (j *Journal) current(ctx context.Context, o OptionSnapshot) (OptionSnapshot, error) {
	cur := OptionSnapshot{Name: o.Name, Network: o.Network, Blog: o.Blog}
	opts, err := j.optionsOf(o.Blog)
	if err != nil {
		return cur, err
	}
	if o.Network {
		cur.Value, cur.Exists, err = opts.SiteOption(ctx, o.Name)
	} else {
		cur.Value, cur.Exists, err = opts.Option(ctx, o.Name)
	}
	if err != nil {
		return cur, fmt.Errorf("read option %s%s: %w", o.Name, ofBlog(o.Blog), err)
	}
	return cur, nil
}

// write stores o's value (deletes it when it did not exist).
func (j *Journal) write(ctx context.Context, o OptionSnapshot) error {
	opts, err := j.optionsOf(o.Blog)
	if err != nil {
		return err
	}
	switch {
	case o.Network:
		err = opts.SetSiteOption(ctx, o.Name, o.Value)
	case !o.Exists:
		err = opts.DeleteOption(ctx, o.Name)
	default:
		err = opts.SetOption(ctx, o.Name, o.Value)
	}
	if err != nil {
		return fmt.Errorf("restore option %s%s: %w", o.Name, ofBlog(o.Blog), err)
	}
	return nil
}

// ofBlog says which other site of a network an option is of, for errors.
func ofBlog(blog int) string {
	if blog == 0 {
		return ""
	}
	return fmt.Sprintf(" of blog %d", blog)
}

// Released reports whether the run that wrote the journal has ended (see
// Release): its options are then the admin's.
func (j *Journal) Released() bool { return !j.file.Ended.IsZero() }

// Release ends the run's hold on the options: what they hold now, as the
// run leaves them, is recorded (Left), and from then on they belong to the
// site's admin again. Call it once the run has put them back for the last
// time, before Finish.
func (j *Journal) Release(ctx context.Context) error {
	left, err := j.readAll(ctx)
	if err != nil {
		return err
	}
	j.file.Version = Version
	j.file.Ended, j.file.Left = time.Now().UTC(), left
	return j.save(ctx)
}

// readAll reads what the snapshot's options hold now.
func (j *Journal) readAll(ctx context.Context) ([]OptionSnapshot, error) {
	out := make([]OptionSnapshot, len(j.file.Snapshot))
	for i, s := range j.file.Snapshot {
		cur, err := j.current(ctx, s)
		if err != nil {
			return nil, err
		}
		out[i] = cur
	}
	return out, nil
}

// Hold starts a new run on the journal: on one a finished run released
// (culprits still disabled), the admin's changes since are first taken in
// with the culprits put back (Merge), and that becomes the snapshot the
// new run holds. On a journal still held (a run killed half way) it does
// nothing: its snapshot stays the one to put back. The notes say what
// could not be merged.
func (j *Journal) Hold(ctx context.Context) ([]string, error) {
	if !j.Released() {
		return nil, nil
	}
	notes, err := j.Merge(ctx)
	if err != nil {
		return notes, err
	}
	j.file.Version = Version
	j.file.Ended, j.file.Left = time.Time{}, nil
	return notes, j.save(ctx)
}

// Merge takes in what the admin changed since the run released the
// options, and puts the culprits back into them, as WordPress stores them.
// For each protected option:
//   - one a step still in effect set (the theme switched away from a
//     culprit) whose group (the theme's three options) still holds what
//     the run left: the step stays, to be undone, and its snapshot value
//     (the theme before the run) stays the one to put back;
//   - one of such a group the admin changed since (switched theme): the
//     admin's choice stands; the steps are marked undone, never reversed;
//   - active_plugins: the current value, with each culprit plugin's
//     entries of the snapshot that it lacks added and sorted, as
//     activate_plugin() stores them (a value that lacks none is left byte
//     for byte);
//   - active_sitewide_plugins: likewise, each missing entry added at the
//     end with its timestamp of the snapshot;
//   - any other: its current value.
//
// The result becomes the snapshot, and Left what the options hold after
// it; it is journaled before anything is written. A culprit is a plugin
// whose move into the quarantine is still in effect. On a journal still
// held Merge does nothing. The notes say what could not be merged (an
// option that is not a PHP array as WordPress stores it).
func (j *Journal) Merge(ctx context.Context) (notes []string, err error) {
	if !j.Released() {
		return nil, nil
	}
	type key struct {
		name    string
		network bool
		blog    int
	}
	left := map[key]OptionSnapshot{}
	for _, o := range j.file.Left {
		left[key{o.Name, o.Network, o.Blog}] = o
	}
	cur, err := j.readAll(ctx)
	if err != nil {
		return nil, err
	}
	// Groups with steps in effect, and which of them the admin changed.
	inEffect, changed := map[string]bool{}, map[string]bool{}
	for i, s := range j.file.Snapshot {
		g := optionGroup(s)
		l, ok := left[key{s.Name, s.Network, s.Blog}]
		if !ok || l.Exists != cur[i].Exists || l.Value != cur[i].Value {
			changed[g] = true
		}
	}
	var steps []*Step
	for _, st := range j.file.Steps {
		if st.Op == OpOption && st.State != Undone {
			inEffect[stepGroup(st)] = true
			steps = append(steps, st)
		}
	}
	culprits := j.culpritPlugins()
	snap := make([]OptionSnapshot, len(j.file.Snapshot))
	after := make([]OptionSnapshot, len(j.file.Snapshot))
	var writes []OptionSnapshot
	for i, s := range j.file.Snapshot {
		g := optionGroup(s)
		after[i] = cur[i]
		if inEffect[g] && !changed[g] {
			snap[i] = s
			continue
		}
		m, wrote, note := mergeCulprits(s, cur[i], culprits)
		if note != "" {
			notes = append(notes, note)
		}
		snap[i], after[i] = m, m
		if wrote {
			writes = append(writes, m)
		}
	}
	for _, st := range steps {
		if changed[stepGroup(st)] {
			st.State = Undone
			st.Why = strings.TrimSpace(st.Why + " (superseded: the admin changed the option since the run; their value is kept)")
		}
	}
	j.file.Version = Version
	j.file.Snapshot, j.file.Left = snap, after
	if err := j.save(ctx); err != nil {
		return notes, err
	}
	for _, o := range writes {
		if err := j.write(ctx, o); err != nil {
			return notes, err
		}
	}
	return notes, nil
}

// culpritPlugins names the plugins (folders or single files in the
// plugins folder) whose move into the quarantine is still in effect.
func (j *Journal) culpritPlugins() []string {
	var names []string
	for _, st := range j.file.Steps {
		if st.Op != OpRename || st.State == Undone {
			continue
		}
		t, err := j.site.rebuild(st)
		if err != nil {
			continue
		}
		if path.Base(path.Dir(t.to)) == wp.KindPlugin {
			names = append(names, path.Base(t.to))
		}
	}
	return names
}

// ofCulprit reports whether the plugin file f (as active_plugins names
// it, "folder/file.php" or "file.php") belongs to one of the culprits.
func ofCulprit(f string, culprits []string) bool {
	if wp.LocalPath(f) != nil {
		return false
	}
	name, _, _ := strings.Cut(f, "/")
	return slices.Contains(culprits, name)
}

// mergeCulprits is cur with the culprits' entries of the snapshot s put
// back (see Merge), and whether that differs from cur; a note says why
// nothing could be put back.
func mergeCulprits(s, cur OptionSnapshot, culprits []string) (OptionSnapshot, bool, string) {
	if len(culprits) == 0 || !s.Exists || s.Value == "" {
		return cur, false, ""
	}
	switch {
	case s.Name == "active_plugins" && !s.Network:
		return mergeList(s, cur, culprits)
	case s.Name == networkOption && s.Network:
		return mergeMap(s, cur, culprits)
	}
	return cur, false, ""
}

// unserializeArray reads an option's value as a PHP array; an option that
// does not exist or is empty is an empty one.
func unserializeArray(o OptionSnapshot) (php.Value, error) {
	if !o.Exists || o.Value == "" {
		return php.Array(), nil
	}
	v, err := php.Unserialize([]byte(o.Value))
	if err != nil {
		return v, err
	}
	if v.Kind() != php.KindArray {
		return v, fmt.Errorf("it holds a PHP %v, not an array", v.Kind())
	}
	return v, nil
}

// notMerged is the note for an option the culprits could not be put back
// into.
func notMerged(name string, culprits []string, err error) string {
	return fmt.Sprintf("the option %s was left as it is, without %s put back into it (%v): activate them in wp-admin", name, strings.Join(culprits, ", "), err)
}

// mergeList puts the culprits' plugin files of the snapshot s back into
// the list cur (active_plugins) as activate_plugin() does: appended, then
// the whole list sorted (PHP's sort(), which also renumbers the keys).
func mergeList(s, cur OptionSnapshot, culprits []string) (OptionSnapshot, bool, string) {
	sv, err := unserializeArray(s)
	if err != nil {
		return cur, false, ""
	}
	was, err := php.StringList(sv)
	if err != nil {
		return cur, false, ""
	}
	cv, err := unserializeArray(cur)
	if err != nil {
		return cur, false, notMerged(s.Name, culprits, err)
	}
	have, err := php.StringList(cv)
	if err != nil {
		return cur, false, notMerged(s.Name, culprits, err)
	}
	list := slices.Clone(have)
	for _, f := range was {
		if ofCulprit(f, culprits) && !slices.Contains(list, f) {
			list = append(list, f)
		}
	}
	if len(list) == len(have) {
		return cur, false, ""
	}
	// Plugin files end in .php, never numeric strings: PHP's sort()
	// compares them byte by byte, as slices.Sort does.
	slices.Sort(list)
	return OptionSnapshot{Name: s.Name, Blog: s.Blog, Value: string(php.Serialize(php.ListOf(list...))), Exists: true}, true, ""
}

// mergeMap puts the culprits' entries of the snapshot s (plugin file →
// activation time) back into cur (active_sitewide_plugins), each at the
// end with its timestamp, as activate_plugin() adds a network plugin.
func mergeMap(s, cur OptionSnapshot, culprits []string) (OptionSnapshot, bool, string) {
	sv, err := unserializeArray(s)
	if err != nil {
		return cur, false, ""
	}
	cv, err := unserializeArray(cur)
	if err != nil {
		return cur, false, notMerged(s.Name, culprits, err)
	}
	entries := cv.Entries()
	n := len(entries)
	for _, e := range sv.Entries() {
		if _, ok := cv.Get(e.Key); ok || !e.Key.IsString() || !ofCulprit(e.Key.String(), culprits) {
			continue
		}
		entries = append(entries, e)
	}
	if len(entries) == n {
		return cur, false, ""
	}
	return OptionSnapshot{Name: s.Name, Network: true, Value: string(php.Serialize(php.Array(entries...))), Exists: true}, true, ""
}
