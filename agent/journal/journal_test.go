package journal_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
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
		{"theme", `{"seq":7,"state":"planned","op":"theme","name":"wpfix-minimal-0123456789abcdef"}`,
			journal.Step{Seq: 7, State: journal.Planned, Op: journal.OpTheme, Name: "wpfix-minimal-0123456789abcdef"}},
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
	require.NoError(t, j.RestoreOptions(ctx))
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
// never a panic; what is read is written and read back the same, and
// every path its steps name lies where the site keeps extensions, in the
// quarantine, or is a helper in the docroot, and every option is one
// wpfix writes: a journal read is one restore may act on.
func FuzzReadJournal(f *testing.F) {
	b, err := os.ReadFile(legacyGolden)
	require.NoError(f, err)
	f.Add(b)
	f.Add([]byte(`{"steps":[{"op":"helper","url":"http://x/","token":"t"},{"op":"create","to":"u","new":"n"}]}`))
	f.Add([]byte(`{"steps":[null]}`))
	f.Add([]byte(`{"version":2,"steps":[{"seq":1,"state":"done","op":"rename","from":"/etc/passwd","to":"@CONTENT@/.wpfix/quarantine/plugin/passwd"}]}`))
	f.Add([]byte(`{"version":2,"steps":[{"seq":1,"state":"done","op":"rename","from":"@CONTENT@/plugins/a","to":"@CONTENT@/.wpfix/quarantine/plugin/a"},{"seq":2,"state":"done","op":"mkdir","path":"@CONTENT@/.wpfix/quarantine/plugin"},{"seq":3,"state":"planned","op":"helper","path":"@ROOT@/wpfix-flush-0123456789abcdef.php","token":"t"}]}`))
	f.Add([]byte(`{"version":2,"snapshot":[{"name":"siteurl","value":"x"}],"steps":[{"seq":1,"state":"done","op":"option","name":"users_can_register"}]}`))
	f.Add([]byte(`{"version":4,"steps":[{"seq":1,"state":"done","op":"theme","name":"wpfix-minimal-0123456789abcdef","path":"/etc"},{"seq":2,"state":"done","op":"theme","name":"../../etc"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		root := t.TempDir()
		content := filepath.Join(root, "wp-content")
		s := journal.Site{Host: remote.NewLocal(), Root: root, ContentDir: content}
		require.NoError(t, os.MkdirAll(s.Dir(), 0o700))
		data = bytes.ReplaceAll(bytes.ReplaceAll(data, []byte("@CONTENT@"), []byte(content)), []byte("@ROOT@"), []byte(root))
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

		q := filepath.Join(s.Dir(), "quarantine") + "/"
		inside := func(p, dir string) bool {
			rest, ok := strings.CutPrefix(p, dir+"/")
			return ok && rest != "" && !strings.Contains(rest, "/") && rest != "." && rest != ".."
		}
		for _, st := range j.Pending() {
			switch st.Op {
			case journal.OpRename:
				kind, name, ok := strings.Cut(strings.TrimPrefix(st.To, q), "/")
				assert.True(t, strings.HasPrefix(st.To, q) && ok, "a rename's quarantine side %q is in the quarantine", st.To)
				assert.True(t, inside(st.To, q+kind), "to %q", st.To)
				dirs := map[string]string{"plugin": filepath.Join(content, "plugins"), "mu-plugin": filepath.Join(content, "mu-plugins"),
					"dropin": content, "theme": filepath.Join(content, "themes")}
				assert.Equal(t, filepath.Join(dirs[kind], name), st.From, "a rename's site side is where the site keeps its kind")
			case journal.OpMkdir:
				assert.True(t, st.Path == strings.TrimSuffix(q, "/") || inside(st.Path, strings.TrimSuffix(q, "/")), "mkdir %q", st.Path)
			case journal.OpHelper:
				assert.True(t, inside(st.Path, root) && strings.HasPrefix(filepath.Base(st.Path), "wpfix-"), "helper %q", st.Path)
				p, err := j.HelperPath(st)
				assert.NoError(t, err)
				assert.Equal(t, st.Path, p)
			case journal.OpTheme:
				assert.True(t, journal.IsMinimalTheme(st.Name), "theme %q", st.Name)
				assert.Equal(t, filepath.Join(content, "themes", st.Name), s.ThemePath(st.Name), "a minimal theme is in the site's themes folder")
				assert.True(t, inside(s.ThemePath(st.Name), filepath.Join(content, "themes")), "theme %q", st.Name)
			case journal.OpOption:
				assert.True(t, slices.Contains(journal.ProtectedOptions, st.Name) || (st.Network && st.Name == "active_sitewide_plugins"), "option %q", st.Name)
			default:
				t.Errorf("a step of op %q was read", st.Op)
			}
		}
	})
}
