package agent

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wpfix/wpfix/agent/journal"
	"github.com/wpfix/wpfix/agent/journal/journaltest"
	"github.com/wpfix/wpfix/remote"
)

// TestRestoreLegacyJournal: a run of the release before the typed
// operations, killed with its cache-flush helper in place (op "create",
// its URL in "to"), is restored by this one: the helper is asked to flush,
// with its token, at the URL rebuilt from the site's siteurl (the URL the
// journal names receives nothing), and removed; everything else is put
// back.
func TestRestoreLegacyJournal(t *testing.T) {
	var flushes atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/wpfix-0123456789abcdef.php" && r.URL.Query().Get("t") == "legacy-token" && r.URL.Query().Get("wpfix") != "" {
			flushes.Add(1)
			w.Write([]byte("wpfix: flushed"))
			return
		}
		http.NotFound(w, r)
	}))
	defer srv.Close()
	var elsewhere atomic.Int32
	decoy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { elsewhere.Add(1) }))
	defer decoy.Close()
	root, content := journaltest.WriteLegacyHelperJournal(t, filepath.Join("journal", "testdata", "legacy-helper.journal"), t.TempDir(), decoy.URL)
	opts := journaltest.NewMemOptions(map[string]string{
		"active_plugins": `a:1:{i:0;s:21:"slider-pro/slider.php";}`,
		"template":       "twentytwentythree", "stylesheet": "twentytwentythree", "current_theme": "My Theme",
	})
	j, err := journal.Read(t.Context(), journal.Site{Host: remote.NewLocal(), ContentDir: content, Options: opts})
	require.NoError(t, err)
	require.NotNil(t, j)
	p, err := NewProber(ProbeOptions{URL: srv.URL})
	require.NoError(t, err)
	notes, err := restoreJournal(t.Context(), j, srv.URL, p)
	require.NoError(t, err)
	assert.Empty(t, notes)

	assert.Equal(t, int32(1), flushes.Load(), "the helper was asked to flush once")
	assert.Zero(t, elsewhere.Load(), "the URL the journal names is never requested")
	assert.NoFileExists(t, filepath.Join(root, "wpfix-0123456789abcdef.php"))
	assert.DirExists(t, filepath.Join(content, "plugins", "slider-pro"))
	_, err = os.Stat(filepath.Join(content, journal.StateDir, "journal"))
	assert.ErrorIs(t, err, os.ErrNotExist)
	assert.Equal(t, "mytheme", opts.Values["template"])
	assert.Equal(t, "mytheme", opts.Values["stylesheet"])
}

// TestRestoreHelperWithoutToken: a helper whose token was not journaled
// (limits') is removed by restore and never requested.
func TestRestoreHelperWithoutToken(t *testing.T) {
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { requests.Add(1) }))
	defer srv.Close()
	ctx := t.Context()
	dir := t.TempDir()
	s := journal.Site{Host: remote.NewLocal(), ContentDir: dir, Root: dir, Options: journaltest.NewMemOptions(map[string]string{})}
	require.NoError(t, os.Mkdir(s.Dir(), 0o700))
	j, err := journal.Open(ctx, s)
	require.NoError(t, err)
	h, err := newHelper(dir, srv.URL, limitsFile())
	require.NoError(t, err)
	require.NoError(t, h.Place(ctx, j))
	php, err := os.ReadFile(h.Path())
	require.NoError(t, err)
	sum := sha256.Sum256([]byte(h.token))
	assert.Contains(t, string(php), hex.EncodeToString(sum[:]), "the file holds the token's hash")
	assert.NotContains(t, string(php), h.token, "and not the token")

	j, err = journal.Read(ctx, s)
	require.NoError(t, err)
	st := j.Pending()[0]
	assert.Equal(t, journal.OpHelper, st.Op)
	assert.Equal(t, h.Base().String(), st.URL)
	assert.Empty(t, st.Token, "limits' token is not journaled")
	assert.Equal(t, hex.EncodeToString(sum[:]), st.TokenHash, "its hash is")
	p, err := NewProber(ProbeOptions{URL: srv.URL})
	require.NoError(t, err)
	notes, err := restoreJournal(ctx, j, srv.URL, p)
	require.NoError(t, err)
	assert.Empty(t, notes)
	assert.NoFileExists(t, h.Path())
	assert.Zero(t, requests.Load())
}
