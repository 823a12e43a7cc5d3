package journal

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"
)

// noSymlinks checks that the state folder and every folder between it and
// p, and p itself, is no symlink: a site's user could plant
// .wpfix/quarantine/plugin → /etc/systemd/system and have a root run move
// a plugin there, or put a root file back into the site from it. It
// Lstats each component that exists (p need not exist); one that is a
// symlink, or a folder's place taken by something else, is ErrUnsafe. p
// must lie in the state folder.
//
// The check and the rename that follows are two calls, so a site's user
// racing wpfix could still swap a folder between them; see the README's
// known limits.
func (j *Journal) noSymlinks(ctx context.Context, p string) error {
	dir := j.site.Dir()
	rel, ok := strings.CutPrefix(path.Clean(p), dir)
	if !ok || (rel != "" && !strings.HasPrefix(rel, "/")) {
		return fmt.Errorf("%w: %s is not in %s", ErrUnsafe, p, dir)
	}
	parts := strings.Split(strings.TrimPrefix(rel, "/"), "/")
	if rel == "" {
		parts = nil
	}
	cur := dir
	for i := -1; i < len(parts); i++ {
		if i >= 0 {
			cur = path.Join(cur, parts[i])
		}
		fi, err := j.site.Host.Lstat(ctx, cur)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return nil // nor is anything below it
		case err != nil:
			return err
		case fi.Mode()&fs.ModeSymlink != 0:
			return fmt.Errorf("%w: %s is a symlink, which wpfix never follows in its state folder; nothing was changed (remove it if you did not make it)", ErrUnsafe, cur)
		case i < len(parts)-1 && !fi.IsDir():
			return fmt.Errorf("%w: %s is not a folder; nothing was changed", ErrUnsafe, cur)
		}
	}
	return nil
}
