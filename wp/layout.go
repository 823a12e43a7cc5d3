package wp

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"sync"

	"github.com/wpfix/wpfix/remote"
)

// ErrForeignDir reports a content, plugin, must-use plugin or themes folder
// that is not the site's own: not a real folder, or owned by another user
// than the docroot's owner. wp-config.php, which the site's user writes,
// may point WP_CONTENT_DIR or WP_PLUGIN_DIR at another site's folders, and
// wpfix run as root would then change that site.
var ErrForeignDir = errors.New("folder not the site's own")

// AllowForeignDirsFlag is the command-line flag that overrides
// CheckLayout, for the messages that name it.
const AllowForeignDirsFlag = "--allow-foreign-dirs"

// ForeignDirError says which of the site's folders CheckLayout refused and
// why. It matches ErrForeignDir with errors.Is.
type ForeignDirError struct {
	// Constant is what names the folder: WP_CONTENT_DIR, WP_PLUGIN_DIR,
	// WPMU_PLUGIN_DIR, or "the themes folder".
	Constant string
	// Dir is the folder.
	Dir string
	// Set is the wp-config.php that sets Constant, "" when the folder is
	// WordPress's default (or the themes folder, which follows
	// WP_CONTENT_DIR).
	Set string
	// Owner is the folder's owner uid, RootOwner the docroot's; -1 when
	// the host does not say.
	Owner, RootOwner int
	// Reason says what is wrong when it is not the owner: a symlink, not
	// a folder, an owner the host does not say.
	Reason string
}

func (e *ForeignDirError) Error() string {
	what := e.Constant
	if e.Set != "" {
		what += " (set in " + e.Set + ")"
	}
	why := e.Reason
	if why == "" {
		why = "owned by uid " + strconv.Itoa(e.Owner) + ", not by the docroot's owner (uid " + strconv.Itoa(e.RootOwner) +
			"): wpfix acts only on folders the site's owner owns, lest wp-config.php point it at another user's files"
	}
	return fmt.Sprintf("%s is %s, %s (%s to act on it anyway)", what, e.Dir, why, AllowForeignDirsFlag)
}

// Is makes errors.Is(err, ErrForeignDir) true.
func (e *ForeignDirError) Is(target error) bool { return target == ErrForeignDir }

// CheckLayout checks that the site's content, plugin, must-use plugin and
// themes folders are its own: each that exists (a missing one is not
// checked; a site without mu-plugins is normal) must be a real folder, not
// a symlink, owned by the docroot's owner. The rule is ownership, not
// place: a folder inside the docroot that another user owns is refused
// too. Nothing is resolved through a symlink. A docroot owned by root is
// root's site, and nothing in it is foreign.
//
// A refusal wraps ErrForeignDir (a *ForeignDirError for each folder
// refused, joined); a folder that cannot be read is another error.
func (s *Site) CheckLayout(ctx context.Context) error {
	fi, err := s.Host.Stat(ctx, s.Root)
	if err != nil {
		return fmt.Errorf("check the owner of the docroot %s on %s: %w", s.Root, s.Host.Name(), err)
	}
	rootUID, _, ok := remote.Owner(fi)
	if !ok {
		return &ForeignDirError{Constant: "the docroot", Dir: s.Root, Owner: -1, RootOwner: -1,
			Reason: "whose owner " + s.Host.Name() + " does not say, so wpfix cannot tell the site's folders from another user's"}
	}
	if rootUID == 0 {
		return nil
	}
	// The four are looked at side by side: over SSH each is a round trip.
	dirs := []struct{ constant, dir string }{
		{"WP_CONTENT_DIR", s.ContentDir},
		{"WP_PLUGIN_DIR", s.PluginDir},
		{"WPMU_PLUGIN_DIR", s.MUPluginDir},
		{"the themes folder", s.ThemeDir},
	}
	errs := make([]error, len(dirs))
	var wg sync.WaitGroup
	for i, d := range dirs {
		wg.Go(func() { errs[i] = s.checkDir(ctx, d.constant, d.dir, rootUID) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// checkDir checks one folder of CheckLayout.
func (s *Site) checkDir(ctx context.Context, constant, dir string, rootUID int) error {
	fi, err := s.Host.Lstat(ctx, dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("check the owner of %s %s on %s: %w", constant, dir, s.Host.Name(), err)
	}
	e := &ForeignDirError{Constant: constant, Dir: dir, Owner: -1, RootOwner: rootUID}
	if v, set, _ := s.Constant(constant); set && v != "" {
		e.Set = s.ConfigFile
	}
	uid, _, ok := remote.Owner(fi)
	if ok {
		e.Owner = uid
	}
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		e.Reason = "a symlink, which the site's user may point at any folder; wpfix follows none"
	case !fi.IsDir():
		e.Reason = "not a folder"
	case !ok:
		e.Reason = "whose owner " + s.Host.Name() + " does not say, so wpfix cannot tell it from another user's folder"
	case uid != rootUID:
	default:
		return nil
	}
	return e
}
