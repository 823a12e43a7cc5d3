package journal_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wpfix/wpfix/agent/journal"
	"github.com/wpfix/wpfix/agent/journal/journaltest"
	"github.com/wpfix/wpfix/remote"
)

const legacyGolden = "testdata/legacy-helper.journal"

func TestStepJSON(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want journal.Step
	}{
		{"legacy cache flusher", `{"seq":1,"state":"done","op":"create","path":"/s/wpfix-a.php","to":"http://s/wpfix-a.php","new":"tok"}`,
			journal.Step{Seq: 1, State: journal.Done, Op: journal.OpHelper, Path: "/s/wpfix-a.php", URL: "http://s/wpfix-a.php", Token: "tok"}},
		{"legacy limits helper", `{"seq":2,"state":"planned","op":"create","path":"/s/wpfix-limits-a.php"}`,
			journal.Step{Seq: 2, State: journal.Planned, Op: journal.OpHelper, Path: "/s/wpfix-limits-a.php"}},
		{"helper", `{"seq":1,"state":"done","op":"helper","path":"/s/wpfix-a.php","url":"http://s/wpfix-a.php","token":"tok","token_hash":"ab12"}`,
			journal.Step{Seq: 1, State: journal.Done, Op: journal.OpHelper, Path: "/s/wpfix-a.php", URL: "http://s/wpfix-a.php", Token: "tok", TokenHash: "ab12"}},
		{"rename", `{"seq":3,"state":"undoing","op":"rename","from":"/a","to":"/b"}`,
			journal.Step{Seq: 3, State: journal.Undoing, Op: journal.OpRename, From: "/a", To: "/b"}},
		{"option", `{"seq":4,"state":"undone","op":"option","name":"template","old":"x","old_set":true,"new":"y"}`,
			journal.Step{Seq: 4, State: journal.Undone, Op: journal.OpOption, Name: "template", Old: "x", OldSet: true, New: "y"}},
		{"network option", `{"seq":5,"state":"done","op":"option","name":"active_sitewide_plugins","new":"a:0:{}","network":true}`,
			journal.Step{Seq: 5, State: journal.Done, Op: journal.OpOption, Name: "active_sitewide_plugins", New: "a:0:{}", Network: true}},
		{"mkdir", `{"seq":6,"state":"done","op":"mkdir","path":"/q"}`,
			journal.Step{Seq: 6, State: journal.Done, Op: journal.OpMkdir, Path: "/q"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got journal.Step
			require.NoError(t, json.Unmarshal([]byte(tt.in), &got))
			assert.Equal(t, tt.want, got)
			// What the new code writes, it reads back the same.
			b, err := json.Marshal(got)
			require.NoError(t, err)
			var again journal.Step
			require.NoError(t, json.Unmarshal(b, &again))
			assert.Equal(t, got, again)
		})
	}
}

// TestLegacyJournal: a journal the release before the typed operations
// left behind, with a cache-flush helper as op "create", is read with that
// helper as an OpHelper and put back in full.
func TestLegacyJournal(t *testing.T) {
	ctx := t.Context()
	root, content := journaltest.WriteLegacyHelperJournal(t, legacyGolden, t.TempDir(), "http://127.0.0.1:1")
	opts := journaltest.NewMemOptions(map[string]string{
		"active_plugins": `a:1:{i:0;s:21:"slider-pro/slider.php";}`,
		"template":       "twentytwentythree", "stylesheet": "twentytwentythree", "current_theme": "My Theme",
	})
	s := journal.Site{Host: remote.NewLocal(), ContentDir: content, Options: opts}
	j, err := journal.Read(ctx, s)
	require.NoError(t, err)
	require.NotNil(t, j)

	pending := j.Pending()
	require.Len(t, pending, 6)
	helper := pending[0]
	assert.Equal(t, journal.OpHelper, helper.Op)
	assert.Equal(t, filepath.Join(root, "wpfix-0123456789abcdef.php"), helper.Path)
	assert.Equal(t, "http://127.0.0.1:1/wpfix-0123456789abcdef.php", helper.URL)
	assert.Equal(t, "legacy-token", helper.Token)
	assert.Empty(t, helper.To)
	assert.Empty(t, helper.New)
	assert.True(t, helper.Housekeeping())
	assert.Equal(t, journal.OpRename, pending[3].Op)
	assert.False(t, pending[3].Housekeeping())

	for i := len(pending) - 1; i >= 0; i-- {
		if !pending[i].Housekeeping() {
			require.NoError(t, j.Undo(ctx, pending[i]))
		}
	}
	require.NoError(t, j.RestoreOptions(ctx, nil))
	require.NoError(t, j.Finish(ctx))

	assert.DirExists(t, filepath.Join(content, "plugins", "slider-pro"))
	assert.NoFileExists(t, helper.Path)
	_, err = os.Stat(filepath.Join(content, journal.StateDir, "quarantine"))
	assert.ErrorIs(t, err, os.ErrNotExist)
	_, err = os.Stat(filepath.Join(content, journal.StateDir, "journal"))
	assert.ErrorIs(t, err, os.ErrNotExist)
	assert.Equal(t, map[string]string{
		"active_plugins": `a:1:{i:0;s:21:"slider-pro/slider.php";}`,
		"template":       "mytheme", "stylesheet": "mytheme", "current_theme": "My Theme",
	}, opts.Values)
}

// notDurable is a host whose SFTP server has no fsync@openssh.com.
type notDurable struct{ remote.Host }

func (notDurable) Durable() bool { return false }

// durable is a host that says it syncs.
type durable struct{ remote.Host }

func (durable) Durable() bool { return true }

func TestDurable(t *testing.T) {
	tests := []struct {
		name string
		host remote.Host
		want bool
	}{
		{"host without fsync", notDurable{remote.NewLocal()}, false},
		{"host with fsync", durable{remote.NewLocal()}, true},
		{"host that does not say", struct{ remote.Host }{remote.NewLocal()}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			var log bytes.Buffer
			content := t.TempDir()
			s := journal.Site{Host: tt.host, ContentDir: content, Options: journaltest.NewMemOptions(map[string]string{}),
				Log: slog.New(slog.NewTextHandler(&log, nil))}
			require.NoError(t, os.Mkdir(s.Dir(), 0o700))
			j, err := journal.Open(ctx, s)
			require.NoError(t, err)
			assert.Equal(t, tt.want, j.Durable())
			if tt.want {
				assert.Empty(t, log.String())
			} else {
				assert.Contains(t, log.String(), "level=WARN")
				assert.Contains(t, log.String(), "fsync@openssh.com")
			}
			// Read says the same of the journal Open wrote.
			j, err = journal.Read(ctx, s)
			require.NoError(t, err)
			assert.Equal(t, tt.want, j.Durable())
			require.NoError(t, j.Finish(ctx))
		})
	}
}

// FuzzReadJournal: any bytes in the journal's place are read or refused,
// never a panic, and what is read is written and read back the same.
func FuzzReadJournal(f *testing.F) {
	b, err := os.ReadFile(legacyGolden)
	require.NoError(f, err)
	f.Add(b)
	f.Add([]byte(`{"steps":[{"op":"helper","url":"http://x/","token":"t"},{"op":"create","to":"u","new":"n"}]}`))
	f.Add([]byte(`{"steps":[null]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		s := journal.Site{Host: remote.NewLocal(), ContentDir: dir}
		require.NoError(t, os.Mkdir(s.Dir(), 0o700))
		require.NoError(t, os.WriteFile(filepath.Join(s.Dir(), "journal"), data, 0o600))
		j, err := journal.Read(t.Context(), s)
		if err != nil {
			return
		}
		var steps []journal.Step
		for _, st := range j.Pending() {
			steps = append(steps, *st)
		}
		out, err := json.Marshal(steps)
		require.NoError(t, err)
		var again []journal.Step
		require.NoError(t, json.Unmarshal(out, &again))
		assert.Equal(t, steps, again)
	})
}
