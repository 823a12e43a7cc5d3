package journal

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strings"
)

// OpTheme placed wpfix's minimal theme: the folder Name in the site's
// themes folder, holding ThemeFiles and nothing else, for the theme
// candidate to be switched to when no installed default theme fits.
// Undoing the step removes those files and the folder; the path is rebuilt
// from the site's ThemeDir and Name, which must have the shape
// MinimalThemeName gives.
const OpTheme Op = "theme"

// ThemeFiles are the files a minimal theme holds: the only names restore
// removes from its folder.
var ThemeFiles = []string{"style.css", "index.php"}

// themeName is the shape of a minimal theme's folder name:
// wpfix-minimal-<16 hex digits>.
var themeName = regexp.MustCompile(`^wpfix-minimal-[0-9a-f]{16}$`)

// MinimalThemeName names a minimal theme's folder from 8 random bytes: the
// only names a journal's theme steps may carry.
func MinimalThemeName(random []byte) string {
	return "wpfix-minimal-" + hex.EncodeToString(random)
}

// IsMinimalTheme reports whether a theme's folder name is one wpfix gives
// its minimal theme.
func IsMinimalTheme(name string) bool { return themeName.MatchString(name) }

// MinimalTheme is a minimal theme to place (see OpTheme).
type MinimalTheme struct {
	// Name is its folder's name, from MinimalThemeName; no file or folder
	// may exist there.
	Name string
	// Files are the content of each of ThemeFiles, by name.
	Files map[string][]byte
	// Why says what it is for, for people reading the journal.
	Why string
}

// ThemePath is where the minimal theme name goes: the site's themes
// folder.
func (s Site) ThemePath(name string) string { return path.Join(s.themeDir(), name) }

// rebuildTheme checks a theme step: its name is a minimal theme's, and its
// folder the one of that name in the site's themes folder.
func (s Site) rebuildTheme(st *Step) (target, error) {
	if !IsMinimalTheme(st.Name) {
		return target{}, fmt.Errorf("places the theme %q, which is not wpfix's minimal theme (%s/wpfix-minimal-HEX)", st.Name, s.themeDir())
	}
	return target{path: s.ThemePath(st.Name)}, nil
}

// PlaceTheme makes the minimal theme's folder and writes its files,
// journaled: undoing the step (Finish does, once no step in effect
// switches the site to it) removes them. Nothing that exists is
// overwritten: the folder must be new. A placement that fails half way
// takes back what it made before returning the error.
func (j *Journal) PlaceTheme(ctx context.Context, m MinimalTheme) (*Step, error) {
	for name := range m.Files {
		if !isThemeFile(name) {
			return nil, fmt.Errorf("place the theme %s: %q is not one of a minimal theme's files (%s)", m.Name, name, strings.Join(ThemeFiles, ", "))
		}
	}
	dir := j.site.ThemePath(m.Name)
	if _, err := j.site.Host.Lstat(ctx, dir); err == nil {
		return nil, fmt.Errorf("place the theme %s: %w", dir, fs.ErrExist)
	}
	st := &Step{Op: OpTheme, Name: m.Name, Why: m.Why}
	return st, j.record(ctx, st, func() error {
		h := j.site.Host
		if err := h.Mkdir(ctx, dir, 0o755); err != nil {
			return fmt.Errorf("place the theme %s: %w", dir, err)
		}
		for _, name := range ThemeFiles {
			if err := h.WriteFile(ctx, path.Join(dir, name), m.Files[name], 0o644); err != nil {
				return errors.Join(fmt.Errorf("place the theme %s: %w", dir, err), j.removeTheme(ctx, dir))
			}
		}
		return nil
	})
}

func isThemeFile(name string) bool {
	for _, f := range ThemeFiles {
		if f == name {
			return true
		}
	}
	return false
}

// removeTheme removes a minimal theme's folder: its files (and what an
// atomic write killed half way left of them), then the folder. A folder
// that is a symlink or not a folder is not wpfix's and is left, and so is
// one holding anything else.
func (j *Journal) removeTheme(ctx context.Context, dir string) error {
	h := j.site.Host
	fi, err := h.Lstat(ctx, dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("remove the theme %s: %w", dir, err)
	case !fi.IsDir():
		return fmt.Errorf("%w: remove the theme %s: it is %s, not the folder wpfix made; leaving it for a person to look at", ErrUnsafe, dir, fileKind(fi.Mode()))
	}
	for _, name := range ThemeFiles {
		removeTempsOf(ctx, h, dir, func(n string) bool { return strings.HasPrefix(n, "."+name+".wpfix-tmp-") })
		if err := h.Remove(ctx, path.Join(dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove the theme %s: %w", dir, err)
		}
	}
	if err := h.Remove(ctx, dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove the theme %s (wpfix removes only its own %s from it; anything else put there is left for a person): %w", dir, strings.Join(ThemeFiles, " and "), err)
	}
	return nil
}

// reverseTheme removes a minimal theme, unless the site's options name it
// (a person switched to it since): removing it then would leave the site
// without a theme, so it stays, and the step with it.
func (j *Journal) reverseTheme(ctx context.Context, st *Step, dir string) error {
	if j.site.Options != nil {
		for _, blog := range j.snapshotBlogs() {
			opts, err := j.optionsOf(blog)
			if err != nil {
				return fmt.Errorf("remove the theme %s: %w", dir, err)
			}
			for _, o := range []string{"template", "stylesheet"} {
				v, ok, err := opts.Option(ctx, o)
				if err != nil {
					return fmt.Errorf("remove the theme %s: read option %s%s: %w", dir, o, ofBlog(blog), err)
				}
				if ok && v == st.Name {
					return fmt.Errorf("remove the theme %s: the site's %s option%s names it, so the site would be left without a theme; switch to another theme and run wpfix restore again", dir, o, ofBlog(blog))
				}
			}
		}
	}
	return j.removeTheme(ctx, dir)
}

// snapshotBlogs lists the sites whose options the journal holds: the
// main (or only) site, 0, and on a network the others it snapshotted.
func (j *Journal) snapshotBlogs() []int {
	blogs := []int{0}
	for _, o := range j.file.Snapshot {
		if !o.Network && !slices.Contains(blogs, o.Blog) {
			blogs = append(blogs, o.Blog)
		}
	}
	return blogs
}

// themeInUse reports whether a step still in effect switches the site to
// the theme name.
func (j *Journal) themeInUse(name string) bool {
	for _, st := range j.file.Steps {
		if st.Op == OpOption && st.State != Undone && !st.Network && st.New == name && slices.Contains(themeOptions, st.Name) {
			return true
		}
	}
	return false
}

// removeUnusedThemes undoes each minimal theme step no step still in
// effect switches the site to: a run that leaves a plugin disabled but
// put the theme back leaves no theme of its own behind.
func (j *Journal) removeUnusedThemes(ctx context.Context) error {
	for i := len(j.file.Steps) - 1; i >= 0; i-- {
		st := j.file.Steps[i]
		if st.Op == OpTheme && st.State != Undone && !j.themeInUse(st.Name) {
			if err := j.Undo(ctx, st); err != nil {
				return err
			}
		}
	}
	return nil
}
