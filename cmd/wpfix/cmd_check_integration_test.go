package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wpfix/wpfix/remote/proctest"
	"github.com/wpfix/wpfix/remote/sshtest"
	"github.com/wpfix/wpfix/wp/wptest"
)

// fleetJSON is the part of check's JSON report the tests read.
type fleetJSON struct {
	Version int `json:"version"`
	Summary struct {
		Sites, Healthy, Unhealthy, Unreachable int
	} `json:"summary"`
	Sites []struct {
		Name   string `json:"name"`
		State  string `json:"state"`
		Status int    `json:"status"`
		Error  string `json:"error"`
		Checks []struct {
			ID, Status, Message string
		} `json:"checks"`
		Fix *struct {
			State string `json:"state"`
		} `json:"fix"`
	} `json:"sites"`
}

// TestCheckFleet: an agency's inventory of four sites over SSH — two on
// one server (a healthy one and one whose plugin kills its worker), one on
// a server that does not answer, one path that is not WordPress — checked
// at once, read-only, with one SSH connection for the server's two sites;
// the report in JSON and Prometheus; --fix heals the broken one; a bad
// inventory is exit 2 naming file and line.
func TestCheckFleet(t *testing.T) {
	srv := sshtest.NewServer(t, sshtest.Options{})
	good := wptest.NewStack(t, wptest.Options{Owner: srv.User})
	bad := wptest.NewStack(t, wptest.Options{Owner: srv.User})
	bad.Break(t, wptest.BreakKillWorker)
	dead := proctest.FreePort(t)
	dir := t.TempDir()
	inv := filepath.Join(dir, "sites.toml")
	body := `[defaults]
identity = "` + srv.KeyFile + `"
known_hosts = "` + srv.KnownHostsFile + `"
port = ` + strconv.Itoa(srv.Port) + `

[[site]]
name = "good"
target = "` + srv.User + "@" + srv.Host + ":" + good.Root + `"
tags = ["eu"]

[[site]]
name = "bad"
target = "` + srv.User + "@" + srv.Host + ":" + bad.Root + `"
tags = ["eu"]

[[site]]
name = "dead"
target = "ssh://` + srv.User + "@127.0.0.1:" + strconv.Itoa(dead) + `/var/www"

[[site]]
name = "notwp"
target = "` + srv.User + "@" + srv.Host + ":" + dir + `"
`
	require.NoError(t, os.WriteFile(inv, []byte(body), 0o644))
	home := t.TempDir()
	before := sshLogins(t, srv)

	r := runAs(t, home, "check", "--inventory", inv, "--format", "json")
	require.Equal(t, 1, r.code, "stderr: %s", r.stderr)
	var rep fleetJSON
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &rep), r.stdout)
	assert.Equal(t, 1, rep.Version)
	assert.Equal(t, 4, rep.Summary.Sites)
	assert.Equal(t, 1, rep.Summary.Healthy)
	assert.Equal(t, 1, rep.Summary.Unhealthy)
	assert.Equal(t, 2, rep.Summary.Unreachable)
	states := map[string]string{}
	for _, s := range rep.Sites {
		states[s.Name] = s.State
	}
	assert.Equal(t, map[string]string{"good": "healthy", "bad": "unhealthy", "dead": "unreachable", "notwp": "unreachable"}, states)
	assert.Equal(t, "dead", rep.Sites[0].Name, "worst first (unreachable, then by name)")
	ids := map[string]bool{}
	for _, s := range rep.Sites {
		if s.Name == "good" {
			for _, c := range s.Checks {
				ids[c.ID] = true
			}
		}
	}
	for _, id := range []string{"probe", "database", "versions", "journal", "recovery-mode", "logs", "limits", "disk", "debug", "autoload", "uploads-php", "cron", "plugins"} {
		assert.True(t, ids[id], "check %s ran", id)
	}
	assert.Equal(t, before+1, sshLogins(t, srv), "one connection for the server's three sites")
	assert.NoDirExists(t, filepath.Join(bad.ContentDir, ".wpfix"), "read-only: no journal, no lock")
	assert.Equal(t, 502, bad.Get(t, "/").Status)

	prom := filepath.Join(dir, "wpfix.prom")
	r = runAs(t, home, "check", "--inventory", inv, "--tag", "eu", "--format", "prometheus", "--output", prom)
	require.Equal(t, 1, r.code, "stderr: %s", r.stderr)
	metrics, err := os.ReadFile(prom)
	require.NoError(t, err)
	assert.Contains(t, string(metrics), `wpfix_site_up{site="good"} 1`)
	assert.Contains(t, string(metrics), `wpfix_site_up{site="bad"} 0`)
	assert.NotContains(t, string(metrics), `site="dead"`, "--tag eu")

	r = runAs(t, home, "check", "--inventory", inv, "--tag", "eu", "--fix", "--format", "json")
	require.Equal(t, 0, r.code, "stdout: %s\nstderr: %s", r.stdout, r.stderr)
	rep = fleetJSON{}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &rep), r.stdout)
	for _, s := range rep.Sites {
		if s.Name == "bad" {
			require.NotNil(t, s.Fix)
			assert.Equal(t, "fixed", s.Fix.State)
		}
	}
	assert.Equal(t, 200, bad.Get(t, "/").Status, "--fix healed it")

	badInv := filepath.Join(dir, "bad.toml")
	require.NoError(t, os.WriteFile(badInv, []byte("[[site]]\nname = \"x\"\ntarget = \"a@b:/c\"\ncolour = \"red\"\n"), 0o644))
	r = runAs(t, home, "check", "--inventory", badInv)
	assert.Equal(t, 2, r.code, r.stderr)
	assert.Contains(t, r.stderr, badInv+":4")
	assert.Contains(t, r.stderr, "colour")
}

// sshLogins counts the logins the server accepted so far.
func sshLogins(t *testing.T, srv *sshtest.Server) int {
	b, err := os.ReadFile(srv.LogFile)
	require.NoError(t, err)
	return strings.Count(string(b), "Accepted publickey")
}
