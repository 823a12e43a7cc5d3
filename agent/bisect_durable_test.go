package agent

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wpfix/wpfix/agent/journal"
	"github.com/wpfix/wpfix/remote"
	"github.com/wpfix/wpfix/wp/wptest"
)

// notDurableHost is a host whose SFTP server has no fsync@openssh.com.
type notDurableHost struct{ remote.Host }

func (notDurableHost) Durable() bool { return false }

// TestBisectNotDurable: on a host that cannot sync, bisect still finds the
// culprit and its report says the journal may not survive a crash of the
// host; on one that can, it says nothing of it.
func TestBisectNotDurable(t *testing.T) {
	t.Parallel()
	st := wptest.NewStack(t, wptest.Options{})
	culprits := st.Break(t, wptest.BreakKillWorker)
	for _, durable := range []bool{false, true} {
		s, err := Open(t.Context(), st.Root, Options{})
		require.NoError(t, err)
		t.Cleanup(func() { s.Close() })
		if !durable {
			s.Host = notDurableHost{s.Host}
		}
		rep, err := Bisect(t.Context(), s, BisectOptions{KeepAll: true, Command: "wpfix test"})
		require.NoError(t, err)
		assert.Equal(t, VerdictCulpritFound, rep.Verdict)
		assert.Equal(t, culprits, rep.Culprits)
		if durable {
			assert.NotContains(t, rep.Notes, journal.NotDurable)
		} else {
			assert.Contains(t, rep.Notes, journal.NotDurable)
		}
		_, err = os.Stat(filepath.Join(st.ContentDir, journal.StateDir))
		assert.ErrorIs(t, err, os.ErrNotExist, "--keep-all leaves nothing behind")
	}
}
