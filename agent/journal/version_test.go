package journal_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wpfix/wpfix/agent/journal"
	"github.com/wpfix/wpfix/agent/journal/journaltest"
	"github.com/wpfix/wpfix/remote"
)

// TestJournalVersion: a new journal is written in this wpfix's format
// version; one of a later version is refused and left as it is.
func TestJournalVersion(t *testing.T) {
	ctx := t.Context()
	content := filepath.Join(t.TempDir(), "wp-content")
	require.NoError(t, os.MkdirAll(filepath.Join(content, journal.StateDir), 0o700))
	s := journal.Site{Host: remote.NewLocal(), ContentDir: content, Options: journaltest.NewMemOptions(nil)}
	j, err := journal.Open(ctx, s)
	require.NoError(t, err)
	require.NoError(t, j.Mkdir(ctx, filepath.Join(content, journal.StateDir, "quarantine"), "test"))
	file := filepath.Join(content, journal.StateDir, "journal")
	b, err := os.ReadFile(file)
	require.NoError(t, err)
	assert.Contains(t, string(b), fmt.Sprintf(`"version": %d`, journal.Version))

	later := strings.Replace(string(b), fmt.Sprintf(`"version": %d`, journal.Version), fmt.Sprintf(`"version": %d`, journal.Version+1), 1)
	require.NoError(t, os.WriteFile(file, []byte(later), 0o600))
	_, err = journal.Read(ctx, s)
	require.Error(t, err)
	assert.Contains(t, err.Error(), fmt.Sprintf("format version %d is newer than this wpfix's (%d)", journal.Version+1, journal.Version))
	after, err := os.ReadFile(file)
	require.NoError(t, err)
	assert.Equal(t, later, string(after), "a journal refused is left as it is")
}
