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
// or EDQUOT, or over SFTP, which has no code for either, the generic
// failure on a disk that df finds full. A full disk stops every new change,
// since none is made before it is journaled, but not undoing: renames and
// removals need no space, and reversal is idempotent, so Undo goes on
// without the journal (see Journal.Unsaved).
var ErrNoSpace = errors.New("the disk that holds the journal is full")

// lowSpace is the free space under which df's answer confirms that an
// SFTP write failed for lack of space: a journal is a few kilobytes, and
// a filesystem with a root reserve shows 0 available to others well
// before root's own writes fail.
const lowSpace = 1 << 20

// noSpace reports whether err, from writing a file in dir on h, was for
// lack of space (see ErrNoSpace). OpenSSH's sftp-server answers ENOSPC and
// EDQUOT with SSH_FX_FAILURE, which means anything; df then decides, and
// when df cannot be run either the failure is taken for lack of space:
// all a wrong guess costs is a step undone without its mark in the
// journal, which the next restore finds done.
func noSpace(ctx context.Context, h remote.Host, dir string, err error) bool {
	if errors.Is(err, ErrNoSpace) || errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return true
	}
	var st *sftp.StatusError
	if !errors.As(err, &st) || st.FxCode() != sftp.ErrSSHFxFailure {
		return false
	}
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	d, derr := sysinfo.DiskSpace(dctx, h, dir)
	if derr != nil {
		return true
	}
	return d.Avail < lowSpace || (d.Inodes > 0 && d.InodesFree == 0)
}

// spaceError is err marked ErrNoSpace when it was for lack of space.
func spaceError(ctx context.Context, h remote.Host, dir string, err error) error {
	if err == nil || errors.Is(err, ErrNoSpace) || !noSpace(ctx, h, dir, err) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrNoSpace, err)
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
