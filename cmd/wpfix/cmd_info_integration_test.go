package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wpfix/wpfix/remote/sshtest"
	"github.com/wpfix/wpfix/wp/wptest"
)

// runAs runs the wpfix binary with HOME set to home, as a user whose
// ~/.ssh is the test's own, with no ssh-agent and no terminal.
func runAs(t *testing.T, home string, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(wpfixBin, args...)
	cmd.Env = append(os.Environ(), "HOME="+home, "SSH_AUTH_SOCK=")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		require.NoError(t, err)
	}
	return result{code: cmd.ProcessState.ExitCode(), stdout: stdout.String(), stderr: stderr.String()}
}

// infoJSON is the part of `wpfix info --json` the tests read.
type infoJSON struct {
	Target           string `json:"target"`
	Root             string `json:"root"`
	WordPressVersion string `json:"wordpress_version"`
	SiteURL          string `json:"siteurl"`
	Template         string `json:"template"`
	Stylesheet       string `json:"stylesheet"`
	Plugins          []struct {
		Name   string `json:"name"`
		File   string `json:"file"`
		Active bool   `json:"active"`
	} `json:"plugins"`
	MUPlugins []string `json:"mu_plugins"`
	Dropins   []struct {
		File string `json:"file"`
	} `json:"dropins"`
	Database map[string]string `json:"database"`
}

func TestInfo(t *testing.T) {
	t.Parallel()
	srv := sshtest.NewServer(t, sshtest.Options{})
	st := wptest.NewStack(t, wptest.Options{Owner: srv.User})
	st.ActivatePlugins(t, st.AddPlugin(t, wptest.Plugin{Slug: "wptest-folder", Name: "Folder \x1b[31mPlugin"}))
	st.AddMUPlugin(t, "wptest-mu.php", "")
	st.AddDropin(t, "object-cache.php", "")
	var parent string
	st.OptionValue(t, "template", &parent)
	st.AddChildTheme(t, "wptest-child", parent, "")
	st.ActivateTheme(t, parent, "wptest-child")

	home := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(home, ".ssh"), 0o700))
	port := strconv.Itoa(srv.Port)
	sshTarget := srv.User + "@" + srv.Host + ":" + st.Root
	sshFlags := []string{"-i", srv.KeyFile, "-p", port, "--known-hosts", srv.KnownHostsFile}
	alias := "Host web1\n  HostName " + srv.Host + "\n  Port " + port + "\n  User " + srv.User +
		"\n  IdentityFile " + srv.KeyFile + "\n  UserKnownHostsFile " + srv.KnownHostsFile + "\n"
	require.NoError(t, os.WriteFile(filepath.Join(home, ".ssh", "config"), []byte(alias), 0o600))

	for _, c := range []struct {
		name string
		args []string
	}{
		{"local", []string{"info", st.Root, "--json"}},
		{"ssh, flags after the target", append([]string{"info", sshTarget, "--json"}, sshFlags...)},
		{"ssh, flags before the target", append(append([]string{"--json"}, sshFlags...), "info", sshTarget)},
		{"ssh://", []string{"info", "ssh://" + srv.User + "@" + srv.Host + ":" + port + st.Root, "--json",
			"-i", srv.KeyFile, "--known-hosts", srv.KnownHostsFile}},
		{"ssh_config alias", []string{"info", "web1:" + filepath.Dir(st.Root), "--json"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := runAs(t, home, c.args...)
			require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
			var in infoJSON
			require.NoError(t, json.Unmarshal([]byte(r.stdout), &in), r.stdout)
			assert.Equal(t, st.Root, in.Root)
			assert.Equal(t, st.Version, in.WordPressVersion)
			assert.Equal(t, st.URL, in.SiteURL)
			assert.Equal(t, "wptest-child", in.Stylesheet)
			assert.Equal(t, parent, in.Template)
			active := map[string]bool{}
			for _, p := range in.Plugins {
				active[p.Name] = p.Active
			}
			assert.Equal(t, map[string]bool{"akismet": false, "wptest-folder": true}, active)
			assert.Equal(t, []string{"wptest-mu.php"}, in.MUPlugins)
			require.Len(t, in.Dropins, 1)
			assert.Equal(t, "object-cache.php", in.Dropins[0].File)
			assert.Equal(t, "wordpress", in.Database["user"])
			assert.NotContains(t, r.stdout, st.DBPassword, "never the password")
		})
	}

	t.Run("text", func(t *testing.T) {
		r := runAs(t, home, "info", st.Root)
		require.Equal(t, 0, r.code, r.stderr)
		t.Logf("wpfix info %s:\n%s", st.Root, r.stdout)
		assert.Contains(t, r.stdout, "WordPress "+st.Version+" at "+st.Root+" on local")
		assert.Regexp(t, `(?m)^  active\s+wptest-folder\s+Folder \x{FFFD}\[31mPlugin 1\.0\.0$`, r.stdout)
		assert.NotContains(t, r.stdout, "\x1b", "no escape sequence from a plugin header reaches the terminal")
		assert.Contains(t, r.stdout, "wptest-child (child of "+parent+")")
		assert.NotContains(t, r.stdout, st.DBPassword)
	})

	t.Run("errors", func(t *testing.T) {
		for _, c := range []struct {
			name string
			args []string
			code int
			want string
		}{
			{"not WordPress", []string{"info", st.PluginDir}, 2, "no wp-load.php in " + st.PluginDir},
			{"bad target", []string{"info", "user@host:relative/path"}, 2, "is not absolute"},
			{"bad define", []string{"info", st.Root, "--define", "NOVALUE"}, 2, `--define "NOVALUE": want NAME=VALUE`},
			{"no target", []string{"info"}, 2, "wpfix info needs TARGET"},
			{"unknown host key", []string{"info", sshTarget, "-i", srv.KeyFile, "-p", port}, 3,
				"--accept-new-host-key"},
			{"unreachable host", []string{"info", "ssh://" + srv.User + "@127.0.0.1:1" + st.Root, "-i", srv.KeyFile,
				"--known-hosts", srv.KnownHostsFile}, 3, "127.0.0.1:1"},
		} {
			t.Run(c.name, func(t *testing.T) {
				r := runAs(t, home, c.args...)
				assert.Equal(t, c.code, r.code, "stderr: %s", r.stderr)
				assert.Contains(t, r.stderr, c.want)
				assert.True(t, strings.HasPrefix(r.stderr, "wpfix: "), r.stderr)
				assert.Empty(t, r.stdout)
			})
		}
	})

	t.Run("accept new host key", func(t *testing.T) {
		kh := filepath.Join(t.TempDir(), "known_hosts")
		args := []string{"info", sshTarget, "-i", srv.KeyFile, "-p", port, "--known-hosts", kh, "--json"}
		r := runAs(t, home, args...)
		assert.Equal(t, 3, r.code, "refused without the flag: %s", r.stderr)
		r = runAs(t, home, append(args, "--accept-new-host-key")...)
		require.Equal(t, 0, r.code, r.stderr)
		b, err := os.ReadFile(kh)
		require.NoError(t, err)
		assert.Contains(t, string(b), "[127.0.0.1]:"+port+" ssh-ed25519 ")
		r = runAs(t, home, args...)
		assert.Equal(t, 0, r.code, "known from now on: %s", r.stderr)
	})
}
