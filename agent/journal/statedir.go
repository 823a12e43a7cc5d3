package journal

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path"
	"slices"
	"time"

	"github.com/wpfix/wpfix/remote"
)

// ErrUnsafe reports a state folder (or a file in it) wpfix refuses to use:
// a symlink, not a folder, or owned by someone who is neither the user
// wpfix runs as nor the owner of the docroot. Nothing is changed when it is
// returned.
var ErrUnsafe = errors.New("refused")

// DenyFiles are written into a new state folder so that a web server does
// not serve what is in it (the journal, the option snapshot, the lock) nor
// run the PHP of a quarantined extension: an .htaccess for Apache 2.2
// (Deny from all) and 2.4 (Require all denied; the FilesMatch repeats it
// for files, whose sections Apache merges after the .htaccess files of the
// folders below, so a quarantined plugin's own "Require all granted" does
// not open it again), and an empty index.php against a listing. They go
// when the folder goes. nginx ignores both: it needs a `location ~ /\.`
// deny rule (see the README).
var DenyFiles = map[string]string{
	".htaccess": `# wpfix: nothing in this folder is for the web (journal, lock, quarantined
# extensions). It goes away with the folder when wpfix leaves nothing here.
<IfModule mod_authz_core.c>
	Require all denied
	<FilesMatch ".">
		Require all denied
	</FilesMatch>
</IfModule>
<IfModule !mod_authz_core.c>
	Order allow,deny
	Deny from all
	<FilesMatch ".">
		Order allow,deny
		Deny from all
	</FilesMatch>
</IfModule>
`,
	"index.php": "",
}

// stateDirMode is the state folder's mode: its owner alone reads it, so a
// web server running as another user cannot serve the journal or the
// quarantine even where the deny files are ignored.
const stateDirMode fs.FileMode = 0o700

// hostProbe is what writing a file on the host tells: who wpfix runs as
// there, and the host's own clock.
type hostProbe struct {
	uid int // -1 when the host does not say
	now time.Time
}

// probeHost writes and removes an empty file in dir, a folder already
// checked, and reads its owner and modification time. The name holds
// ".wpfix-tmp-", so one a crash leaves is swept with the other temporary
// files.
func probeHost(ctx context.Context, h remote.Host, dir string) (hostProbe, error) {
	var b [6]byte
	rand.Read(b[:])
	p := path.Join(dir, ".clock.wpfix-tmp-"+hex.EncodeToString(b[:]))
	if err := h.WriteFile(ctx, p, nil, 0o600); err != nil {
		return hostProbe{}, fmt.Errorf("read the host's clock and user through %s: %w", p, err)
	}
	defer h.Remove(context.WithoutCancel(ctx), p)
	fi, err := h.Lstat(ctx, p)
	if err != nil {
		return hostProbe{}, fmt.Errorf("read the host's clock and user through %s: %w", p, err)
	}
	uid, _, ok := remote.Owner(fi)
	if !ok {
		uid = -1
	}
	return hostProbe{uid: uid, now: fi.ModTime()}, nil
}

// probeDir probes the host in the state folder, as Lstat found it (see
// probeHost); a folder the user wpfix runs as cannot write in is
// ErrUnsafe, saying whose it is when it is someone else's (checkDir).
func probeDir(ctx context.Context, s Site, fi fs.FileInfo) (hostProbe, error) {
	p, err := probeHost(ctx, s.Host, s.Dir())
	if errors.Is(err, fs.ErrPermission) {
		if uid, uerr := remote.UID(ctx, s.Host); uerr == nil {
			if cerr := checkDir(ctx, s, fi, hostProbe{uid: uid}); cerr != nil {
				return hostProbe{}, cerr
			}
		}
		why := "cannot be written by the user wpfix runs as"
		var oe *remote.OpError
		if errors.As(err, &oe) {
			why += " (" + oe.Err.Error() + ")"
		}
		return hostProbe{}, unsafeDir(s.Dir(), why)
	}
	return p, err
}

// unsafeDir returns an ErrUnsafe error about the state folder dir.
func unsafeDir(dir, why string) error {
	return fmt.Errorf("%w: %s %s, so wpfix will not keep its lock, journal or quarantine there; nothing was changed (remove it if you did not make it)",
		ErrUnsafe, dir, why)
}

// checkDir checks the state folder as Lstat found it: a real folder (not
// a symlink), owned by the user wpfix runs as (p.uid) or by the owner of
// wp-content, writable by no one else.
func checkDir(ctx context.Context, s Site, fi fs.FileInfo, p hostProbe) error {
	dir := s.Dir()
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		return unsafeDir(dir, "is a symlink (one there would send wpfix's writes and removals wherever it points)")
	case !fi.IsDir():
		return unsafeDir(dir, "is not a folder")
	}
	if fi.Mode().Perm()&0o022 != 0 {
		return unsafeDir(dir, fmt.Sprintf("is writable by others (mode %04o)", fi.Mode().Perm()))
	}
	uid, _, ok := remote.Owner(fi)
	if !ok {
		return nil // the host does not say who owns files: nothing to compare
	}
	if uid == p.uid {
		return nil
	}
	// the docroot's owner is the site's user: wp-content may be relocated
	// by wp-config.php, the docroot is where the site is served from
	root := s.Root
	if root == "" {
		root = path.Dir(s.ContentDir)
	}
	owner := -1
	if rfi, err := s.Host.Stat(ctx, root); err == nil {
		owner, _, _ = remote.Owner(rfi)
	}
	if uid == owner {
		return nil
	}
	return unsafeDir(dir, fmt.Sprintf("is owned by uid %d, neither the user wpfix runs as (uid %d) nor the owner of the docroot %s (uid %d)",
		uid, p.uid, root, owner))
}

// openDir makes the site's state folder, or checks the one there (see
// checkDir), and returns what a probe of the host says. A new folder gets
// mode 0700 and the deny files; one made by an older wpfix gets the deny
// files it lacks.
func openDir(ctx context.Context, s Site) (hostProbe, error) {
	// A run that ends removes the folder when it leaves nothing there:
	// one starting meanwhile makes it again.
	for try := 0; ; try++ {
		p, err := openDirOnce(ctx, s)
		if !errors.Is(err, fs.ErrNotExist) || errors.Is(err, ErrUnsafe) || try == 3 {
			return p, err
		}
	}
}

func openDirOnce(ctx context.Context, s Site) (hostProbe, error) {
	h, dir := s.Host, s.Dir()
	fi, err := h.Lstat(ctx, dir)
	if errors.Is(err, fs.ErrNotExist) {
		if err := h.Mkdir(ctx, dir, stateDirMode); err != nil && !errors.Is(err, fs.ErrExist) {
			return hostProbe{}, fmt.Errorf("make %s for the journal (wpfix changes nothing without one): %w", dir, err)
		}
		fi, err = h.Lstat(ctx, dir)
	}
	if err != nil {
		return hostProbe{}, fmt.Errorf("look at %s: %w", dir, err)
	}
	if fi.Mode()&fs.ModeSymlink != 0 || !fi.IsDir() {
		return hostProbe{}, checkDir(ctx, s, fi, hostProbe{uid: -1})
	}
	p, err := probeDir(ctx, s, fi)
	if err != nil {
		return hostProbe{}, err
	}
	if err := checkDir(ctx, s, fi, p); err != nil {
		return hostProbe{}, err
	}
	if err := ensureDenyFiles(ctx, s); err != nil {
		return hostProbe{}, err
	}
	return p, nil
}

// ensureDenyFiles writes the deny files the state folder lacks; one there
// (ours, or the admin's) is left as it is.
func ensureDenyFiles(ctx context.Context, s Site) error {
	h, dir := s.Host, s.Dir()
	for _, name := range slices.Sorted(maps.Keys(DenyFiles)) {
		f := path.Join(dir, name)
		if _, err := h.Lstat(ctx, f); !errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err := h.WriteFile(ctx, f, []byte(DenyFiles[name]), 0o644); err != nil && !noSpace(ctx, h, dir, err) {
			return fmt.Errorf("write %s, which keeps the web server out of %s: %w", f, dir, err)
		}
	}
	return nil
}

// removeDirIfIdle removes the state folder when nothing but the deny
// files is left in it. Temporary files are not swept here: they may be
// another run's, starting.
func removeDirIfIdle(ctx context.Context, s Site) error {
	h, dir := s.Host, s.Dir()
	list, err := h.ReadDir(ctx, dir)
	if err != nil {
		return nil // gone already, or not ours to list
	}
	for _, fi := range list {
		if _, deny := DenyFiles[fi.Name()]; !deny || fi.IsDir() {
			return nil // a journal or quarantine stays, for restore
		}
	}
	for _, fi := range list {
		if err := h.Remove(ctx, path.Join(dir, fi.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove %s: %w", dir, err)
		}
	}
	// A run that made something there meanwhile keeps it.
	h.Remove(ctx, dir)
	return nil
}
