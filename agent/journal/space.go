package journal

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"time"

	"github.com/pkg/sftp"

	"github.com/wpfix/wpfix/remote"
	"github.com/wpfix/wpfix/remote/sysinfo"
)

// ErrNoSpace marks a write of the journal (or of the lock's owner file)
// that failed for lack of space on the disk that holds wp-content: ENOSPC
// or EDQUOT, or over SFTP, which has no code for either, its generic
// failure (see spaceError). A full disk stops every new change, since none is
// made before it is journaled, but not undoing: renames and removals need
// no space, and reversal is idempotent, so Undo goes on without the
// journal (see Journal.Unsaved).
var ErrNoSpace = errors.New("the disk that holds the journal is full")

// lowSpace is the free space under which df's answer confirms that an
// SFTP write failed for lack of space: a journal is a few kilobytes, and
// a filesystem with a root reserve shows 0 available to others well
// before root's own writes fail.
const lowSpace = 1 << 20

// noSpaceError is an ErrNoSpace saying why it is taken for one.
type noSpaceError struct {
	why string
	err error
}

func (e *noSpaceError) Error() string        { return e.why + ": " + e.err.Error() }
func (e *noSpaceError) Unwrap() error        { return e.err }
func (e *noSpaceError) Is(target error) bool { return target == ErrNoSpace }

// spaceError is err, from writing a file in dir on h, marked ErrNoSpace
// when it may be for lack of space, saying why. OpenSSH's sftp-server
// answers ENOSPC and EDQUOT with SSH_FX_FAILURE, which may mean anything;
// df then tells a full disk, and when it finds space (or cannot be run)
// the failure is still taken for lack of space, a quota's most likely:
// all that costs when wrong is a step undone without its mark in the
// journal, which the next restore finds done, while a site left stripped
// of its plugins is what a quota full on a shared host would otherwise
// cost.
func spaceError(ctx context.Context, h remote.Host, dir string, err error) error {
	var st *sftp.StatusError
	switch {
	case err == nil || errors.Is(err, ErrNoSpace):
		return err
	case errors.Is(err, syscall.ENOSPC):
		return &noSpaceError{ErrNoSpace.Error(), err}
	case errors.Is(err, syscall.EDQUOT):
		return &noSpaceError{"the disk quota of the user that writes the journal is full", err}
	case !errors.As(err, &st) || st.FxCode() != sftp.ErrSSHFxFailure:
		return err
	}
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	d, derr := sysinfo.DiskSpace(dctx, h, dir)
	switch {
	case derr != nil:
		return &noSpaceError{"the host's SFTP server could not write the journal and says no more (SSH_FX_FAILURE; df could not be run): taken for a full disk or quota", err}
	case d.Avail < lowSpace || (d.Inodes > 0 && d.InodesFree == 0):
		return &noSpaceError{ErrNoSpace.Error(), err}
	}
	return &noSpaceError{fmt.Sprintf("the host's SFTP server could not write the journal and says no more (SSH_FX_FAILURE), and df finds %d KiB free: taken for a full disk quota", d.Avail>>10), err}
}

// noSpace reports whether err, from writing a file in dir on h, may be
// for lack of space (see spaceError).
func noSpace(ctx context.Context, h remote.Host, dir string, err error) bool {
	return errors.Is(spaceError(ctx, h, dir, err), ErrNoSpace)
}

// Unsaved is how many steps Undo reversed with the disk full whose Undone
// mark is not in the journal on disk: a restore that reads the journal
// finds them pending, looks at the site, and finds them done. It is 0 once
// a save succeeds (Save) or Finish has removed the journal.
func (j *Journal) Unsaved() int {
	if j.removed {
		return 0
	}
	return j.unsaved
}

// Full is the last error, of kind ErrNoSpace, with which a save failed
// while steps were undone; nil when the disk never was full for Undo.
func (j *Journal) Full() error { return j.full }

// Removed reports whether Finish removed the journal: nothing was left in
// effect.
func (j *Journal) Removed() bool { return j.removed }

// Save writes the journal once more when steps were undone with the disk
// full (Unsaved), to mark them now that there may be space; otherwise it
// does nothing. Its error is ErrNoSpace when there still is none.
func (j *Journal) Save(ctx context.Context) error {
	if j.Unsaved() == 0 {
		return nil
	}
	return j.save(ctx)
}
