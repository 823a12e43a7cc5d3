package journal_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wpfix/wpfix/agent/journal"
	"github.com/wpfix/wpfix/agent/journal/journaltest"
	"github.com/wpfix/wpfix/remote"
)

// trustSite is a site laid out as WordPress does, with its plugins
// relocated outside wp-content (WP_PLUGIN_DIR), as some hosts do.
func trustSite(t *testing.T) journal.Site {
	t.Helper()
	dir := t.TempDir()
	root := filepath.Join(dir, "site")
	content := filepath.Join(root, "wp-content")
	s := journal.Site{Host: remote.NewLocal(), Root: root, ContentDir: content,
		PluginDir: filepath.Join(dir, "shared-plugins"), MUPluginDir: filepath.Join(content, "mu-plugins"),
		ThemeDir: filepath.Join(content, "themes"), Options: journaltest.NewMemOptions(map[string]string{})}
	require.NoError(t, os.MkdirAll(s.Dir(), 0o700))
	return s
}

// writeJournal writes a journal of the given steps, with the usual
// snapshot.
func writeJournal(t *testing.T, s journal.Site, steps ...map[string]any) {
	t.Helper()
	for i, st := range steps {
		st["seq"] = i + 1
		if st["state"] == nil {
			st["state"] = "done"
		}
	}
	b, err := json.Marshal(map[string]any{"version": 2, "snapshot": []map[string]any{{"name": "template", "value": "x", "exists": true}}, "steps": steps})
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(s.Dir(), "journal"), b, 0o600))
}

// TestReadAcceptsLayout: the steps wpfix writes for each kind, in the
// site's own layout, are read, with the paths rebuilt from that layout.
func TestReadAcceptsLayout(t *testing.T) {
	s := trustSite(t)
	q := filepath.Join(s.Dir(), "quarantine")
	writeJournal(t, s,
		map[string]any{"op": "helper", "path": filepath.Join(s.Root, "wpfix-flush-0123456789abcdef.php"), "url": "http://elsewhere.invalid/x", "token": "t"},
		map[string]any{"op": "helper", "path": filepath.Join(s.Root, "wpfix-0123456789abcdef.php")},
		map[string]any{"op": "mkdir", "path": q},
		map[string]any{"op": "mkdir", "path": q + "/plugin/"},
		map[string]any{"op": "rename", "from": filepath.Join(s.PluginDir, "slider"), "to": filepath.Join(q, "plugin", "slider")},
		map[string]any{"op": "rename", "from": filepath.Join(s.PluginDir, "hello.php"), "to": filepath.Join(q, "plugin", "hello.php")},
		map[string]any{"op": "rename", "from": filepath.Join(s.MUPluginDir, "mu.php"), "to": filepath.Join(q, "mu-plugin", "mu.php")},
		map[string]any{"op": "rename", "from": filepath.Join(s.ContentDir, "object-cache.php"), "to": filepath.Join(q, "dropin", "object-cache.php")},
		map[string]any{"op": "rename", "from": filepath.Join(s.ThemeDir, "mytheme") + "/.", "to": filepath.Join(q, "theme", "mytheme")},
		map[string]any{"op": "option", "name": "stylesheet", "old": "a", "old_set": true, "new": "b"},
		map[string]any{"op": "option", "name": "active_sitewide_plugins", "network": true, "new": "a:0:{}"},
	)
	j, err := journal.Read(t.Context(), s)
	require.NoError(t, err)
	steps := j.Pending()
	require.Len(t, steps, 11)
	assert.Equal(t, q+"/plugin", steps[3].Path, "cleaned")
	assert.Equal(t, filepath.Join(s.ThemeDir, "mytheme"), steps[8].From, "cleaned")
	p, err := j.HelperPath(steps[0])
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(s.Root, "wpfix-flush-0123456789abcdef.php"), p)
}

// TestReadRefusesPlanted: a journal with one step or snapshot entry that
// wpfix would not write for this site is refused whole, saying which step
// and why, and nothing is changed.
func TestReadRefusesPlanted(t *testing.T) {
	s0 := trustSite(t)
	q := filepath.Join(s0.Dir(), "quarantine")
	good := map[string]any{"op": "mkdir", "path": q}
	tests := []struct {
		name string
		step map[string]any
		want string
	}{
		{"rename from /etc", map[string]any{"op": "rename", "from": "/etc/passwd", "to": filepath.Join(q, "plugin", "passwd")},
			`step 2 renames "/etc/passwd", which is not where this site keeps the plugin passwd`},
		{"rename into /etc/profile.d", map[string]any{"op": "rename", "from": filepath.Join(s0.ContentDir, "uploads", "x.sh"), "to": "/etc/profile.d/x.sh"},
			`to "/etc/profile.d/x.sh", which is not a quarantine path of this site`},
		{"rename out of the quarantine by ..", map[string]any{"op": "rename", "from": filepath.Join(s0.PluginDir, "a"), "to": q + "/plugin/../../../../etc"},
			"which is not a quarantine path of this site"},
		{"rename a nested name", map[string]any{"op": "rename", "from": filepath.Join(s0.PluginDir, "a", "b"), "to": filepath.Join(q, "plugin", "a", "b")},
			`"a/b" is not a single file or folder name`},
		{"rename of an unknown kind", map[string]any{"op": "rename", "from": "/root/x", "to": filepath.Join(q, "root", "x")},
			`"root" is not a kind of extension wpfix turns off`},
		{"rename of a drop-in that is none", map[string]any{"op": "rename", "from": filepath.Join(s0.ContentDir, "uploads"), "to": filepath.Join(q, "dropin", "uploads")},
			`"uploads" is not one of WordPress's drop-ins`},
		{"rename of a relative path", map[string]any{"op": "rename", "from": "plugins/a", "to": ".wpfix/quarantine/plugin/a"},
			"which is not a quarantine path of this site"},
		{"mkdir in /root", map[string]any{"op": "mkdir", "path": "/root/.ssh"},
			`step 2 makes the folder "/root/.ssh", which is not one of wpfix's own`},
		{"mkdir of wp-content", map[string]any{"op": "mkdir", "path": s0.ContentDir},
			"which is not one of wpfix's own"},
		{"mkdir of another quarantine folder", map[string]any{"op": "mkdir", "path": filepath.Join(q, "etc")},
			"which is not one of wpfix's own"},
		{"helper in /etc", map[string]any{"op": "helper", "path": "/etc/wpfix-flush-0123456789abcdef.php"},
			`places "/etc/wpfix-flush-0123456789abcdef.php", which is not a wpfix helper file of this site`},
		{"helper named otherwise", map[string]any{"op": "helper", "path": filepath.Join(s0.Root, "wp-config.php")},
			"which is not a wpfix helper file of this site"},
		{"legacy create of /etc/cron.d", map[string]any{"op": "create", "path": "/etc/cron.d/x", "to": "http://127.0.0.1/", "new": "t"},
			"which is not a wpfix helper file of this site"},
		{"option siteurl", map[string]any{"op": "option", "name": "siteurl", "old": "http://evil.invalid", "old_set": true},
			`writes the option "siteurl", which is not one wpfix writes`},
		{"network option but template", map[string]any{"op": "option", "name": "template", "network": true},
			`writes the option "template", which is not one wpfix writes`},
		{"unknown op", map[string]any{"op": "exec", "path": "/bin/sh"}, `has the unknown operation "exec"`},
		{"unknown state", map[string]any{"op": "mkdir", "path": q, "state": "weird"}, `has the unknown state "weird"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := trustSite(t)
			// Rebase the case's paths onto this site.
			var fix func(v any) any
			fix = func(v any) any {
				if str, ok := v.(string); ok {
					return strings.ReplaceAll(str, filepath.Dir(s0.Root), filepath.Dir(s.Root))
				}
				return v
			}
			step := map[string]any{}
			for k, v := range tt.step {
				step[k] = fix(v)
			}
			writeJournal(t, s, map[string]any{"op": good["op"], "path": fix(good["path"])}, step)
			file := filepath.Join(s.Dir(), "journal")
			before, err := os.ReadFile(file)
			require.NoError(t, err)
			j, err := journal.Read(t.Context(), s)
			require.Error(t, err)
			assert.Nil(t, j)
			assert.ErrorIs(t, err, journal.ErrUntrusted)
			assert.Contains(t, err.Error(), strings.ReplaceAll(tt.want, filepath.Dir(s0.Root), filepath.Dir(s.Root)))
			assert.Contains(t, err.Error(), "refused; nothing was changed")
			after, err := os.ReadFile(file)
			require.NoError(t, err)
			assert.Equal(t, before, after, "the journal is left as it is")
		})
	}
	t.Run("snapshot of another option", func(t *testing.T) {
		s := trustSite(t)
		b := `{"version":2,"snapshot":[{"name":"default_role","value":"administrator","exists":true}],"steps":[]}`
		require.NoError(t, os.WriteFile(filepath.Join(s.Dir(), "journal"), []byte(b), 0o600))
		_, err := journal.Read(t.Context(), s)
		assert.ErrorIs(t, err, journal.ErrUntrusted)
		assert.Contains(t, err.Error(), `its snapshot holds the option "default_role", which is not one wpfix writes`)
	})
}

// TestReadRefusesFiles: a journal that is not a regular file of a sane
// size is refused at once, without reading it: a symlink (to /dev/zero,
// which would exhaust memory), a FIFO (which would hang), a file over
// MaxSize, a directory.
func TestReadRefusesFiles(t *testing.T) {
	tests := []struct {
		name string
		make func(t *testing.T, file string)
		want string
	}{
		{"symlink to /dev/zero", func(t *testing.T, file string) { require.NoError(t, os.Symlink("/dev/zero", file)) },
			"is a symbolic link, not a regular file"},
		{"symlink to a real journal", func(t *testing.T, file string) {
			real := filepath.Join(t.TempDir(), "journal")
			require.NoError(t, os.WriteFile(real, []byte(`{"version":2}`), 0o600))
			require.NoError(t, os.Symlink(real, file))
		}, "is a symbolic link, not a regular file"},
		{"FIFO", func(t *testing.T, file string) { require.NoError(t, syscall.Mkfifo(file, 0o600)) },
			"is a named pipe (FIFO), not a regular file"},
		{"huge", func(t *testing.T, file string) {
			f, err := os.Create(file)
			require.NoError(t, err)
			require.NoError(t, f.Truncate(journal.MaxSize+1))
			require.NoError(t, f.Close())
		}, "holds 16777217 bytes, more than the 16777216 a journal may"},
		{"directory", func(t *testing.T, file string) { require.NoError(t, os.Mkdir(file, 0o700)) },
			"is a directory, not a regular file"},
		{"not JSON", func(t *testing.T, file string) { require.NoError(t, os.WriteFile(file, []byte("#!/bin/sh\n"), 0o600)) },
			"it is not a wpfix journal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := trustSite(t)
			file := filepath.Join(s.Dir(), "journal")
			tt.make(t, file)
			done := make(chan error, 1)
			go func() { _, err := journal.Read(t.Context(), s); done <- err }()
			select {
			case err := <-done:
				require.Error(t, err)
				assert.ErrorIs(t, err, journal.ErrUntrusted)
				assert.Contains(t, err.Error(), "the journal "+file+" cannot be trusted: it "+strings.TrimPrefix(tt.want, "it "))
				assert.Contains(t, err.Error(), "nothing was changed")
			case <-time.After(10 * time.Second):
				t.Fatal("Read hung on the journal")
			}
			_, err := os.Lstat(file)
			assert.NoError(t, err, "the journal is left where it is")
		})
	}
}

// TestFinishLeavesForeignTemps: Finish removes the journal's own temporary
// files and nothing else of that name: a symlink or a FIFO named like one
// is left alone.
func TestFinishLeavesForeignTemps(t *testing.T) {
	ctx := t.Context()
	s := trustSite(t)
	j, err := journal.Open(ctx, s)
	require.NoError(t, err)
	target := filepath.Join(t.TempDir(), "precious")
	require.NoError(t, os.WriteFile(target, []byte("x"), 0o600))
	own := filepath.Join(s.Dir(), ".journal.wpfix-tmp-aaaaaa")
	link := filepath.Join(s.Dir(), ".journal.wpfix-tmp-bbbbbb")
	require.NoError(t, os.WriteFile(own, nil, 0o600))
	require.NoError(t, os.Symlink(target, link))
	require.NoError(t, j.Finish(ctx))
	assert.NoFileExists(t, own)
	_, err = os.Lstat(link)
	assert.NoError(t, err, "the link is not wpfix's")
	assert.FileExists(t, target)
}

// TestRecordRefuses: the journal will not record a step restore would
// refuse, so wpfix never makes a change it could not put back.
func TestRecordRefuses(t *testing.T) {
	ctx := t.Context()
	s := trustSite(t)
	j, err := journal.Open(ctx, s)
	require.NoError(t, err)
	outside := filepath.Join(t.TempDir(), "x")
	require.NoError(t, os.WriteFile(outside, nil, 0o600))
	_, err = j.Rename(ctx, outside, filepath.Join(s.Dir(), "quarantine", "plugin", "x"), "test")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "which is not where this site keeps the plugin x")
	assert.FileExists(t, outside)
	err = j.Mkdir(ctx, filepath.Join(t.TempDir(), "y"), "test")
	assert.Error(t, err)
	_, err = j.SetOption(ctx, "siteurl", "http://evil.invalid", "test")
	assert.Error(t, err)
	assert.Empty(t, j.Pending())
	require.NoError(t, j.Finish(ctx))
}
