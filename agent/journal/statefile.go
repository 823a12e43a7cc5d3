package journal

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
)

// stateFileName is the shape of the files other than the journal that
// wpfix keeps in the state folder (heal's per-site state): a plain name
// ending in .json, never the journal, the lock or a deny file.
var stateFileName = regexp.MustCompile(`^[a-z][a-z0-9-]*\.json$`)

// MaxStateFile is the most a state file may hold.
const MaxStateFile = 1 << 20

// ReadStateFile reads the state folder's file name (see WriteStateFile),
// and whether it exists. It is the site user's to write, so it is read as
// the journal is: a regular file, not a link, FIFO or device, at most
// MaxStateFile bytes; one that is not so is ErrUntrusted.
func ReadStateFile(ctx context.Context, s Site, name string) ([]byte, bool, error) {
	if !stateFileName.MatchString(name) {
		return nil, false, fmt.Errorf("state file %q: not a name wpfix uses", name)
	}
	if fi, err := s.Host.Lstat(ctx, s.Dir()); errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	} else if err != nil {
		return nil, false, fmt.Errorf("look at %s: %w", s.Dir(), err)
	} else if fi.Mode()&fs.ModeSymlink != 0 || !fi.IsDir() {
		return nil, false, checkDir(ctx, s, fi, hostProbe{uid: -1})
	}
	b, err := readRegular(ctx, s.Host, path.Join(s.Dir(), name), MaxStateFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return b, true, nil
}

// WriteStateFile replaces the state folder's file name atomically, making
// the folder (checked as for the lock and the journal) if it is not
// there. It is not journaled: it changes nothing of the site.
func WriteStateFile(ctx context.Context, s Site, name string, data []byte) error {
	if !stateFileName.MatchString(name) || name == "journal" {
		return fmt.Errorf("state file %q: not a name wpfix uses", name)
	}
	if int64(len(data)) > MaxStateFile {
		return fmt.Errorf("state file %s: %d bytes, more than %d", name, len(data), MaxStateFile)
	}
	if _, err := openDir(ctx, s); err != nil {
		return err
	}
	p := path.Join(s.Dir(), name)
	if fi, err := s.Host.Lstat(ctx, p); err == nil && !fi.Mode().IsRegular() {
		return fmt.Errorf("%w: %s is %s, not a regular file", ErrUnsafe, p, fileKind(fi.Mode()))
	}
	if err := s.Host.WriteFile(ctx, p, data, 0o600); err != nil {
		return fmt.Errorf("write %s: %w", p, err)
	}
	return nil
}
