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

// TestJournalVersion3: a journal of the release before the minimal theme
// (format version 3: a run that ended with a plugin left disabled) is read
// and put back in full by this one.
func TestJournalVersion3(t *testing.T) {
	ctx := t.Context()
	root := t.TempDir()
	content := filepath.Join(root, "wp-content")
	q := filepath.Join(content, journal.StateDir, "quarantine")
	require.NoError(t, os.MkdirAll(filepath.Join(q, "plugin", "slider"), 0o755))
	require.NoError(t, os.MkdirAll(filepath.Join(content, "plugins"), 0o755))
	plugins := `a:1:{i:0;s:17:"slider/slider.php";}`
	opts := journaltest.NewMemOptions(map[string]string{"active_plugins": "a:0:{}", "template": "mytheme", "stylesheet": "mytheme"})
	v3 := fmt.Sprintf(`{"version":3,"started":"2026-12-01T00:00:00Z",
 "snapshot":[{"name":"active_plugins","value":%q,"exists":true},{"name":"template","value":"mytheme","exists":true},{"name":"stylesheet","value":"mytheme","exists":true},{"name":"current_theme","value":"","exists":false}],
 "ended":"2026-12-01T00:01:00Z",
 "left":[{"name":"active_plugins","value":"a:0:{}","exists":true},{"name":"template","value":"mytheme","exists":true},{"name":"stylesheet","value":"mytheme","exists":true},{"name":"current_theme","value":"","exists":false}],
 "steps":[{"seq":1,"state":"done","op":"mkdir","path":%q},{"seq":2,"state":"done","op":"mkdir","path":%q},
  {"seq":3,"state":"done","op":"rename","from":%q,"to":%q}]}`,
		plugins, q, filepath.Join(q, "plugin"), filepath.Join(content, "plugins", "slider"), filepath.Join(q, "plugin", "slider"))
	require.NoError(t, os.WriteFile(filepath.Join(content, journal.StateDir, "journal"), []byte(v3), 0o600))
	s := journal.Site{Host: remote.NewLocal(), Root: root, ContentDir: content, Options: opts}
	j, err := journal.Read(ctx, s)
	require.NoError(t, err)
	require.NotNil(t, j)
	assert.True(t, j.Released())
	_, err = j.Merge(ctx)
	require.NoError(t, err)
	for _, st := range j.Pending() {
		if !st.Housekeeping() {
			require.NoError(t, j.Undo(ctx, st))
		}
	}
	require.NoError(t, j.RestoreOptions(ctx))
	require.NoError(t, j.Finish(ctx))
	assert.DirExists(t, filepath.Join(content, "plugins", "slider"))
	assert.NoDirExists(t, q)
	assert.NoFileExists(t, filepath.Join(content, journal.StateDir, "journal"))
	assert.Equal(t, plugins, opts.Values["active_plugins"], "the culprit is active again")
}
