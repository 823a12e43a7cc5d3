package main

import (
	"encoding/json"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/wpfix/wpfix/remote/proctest"
	"github.com/wpfix/wpfix/remote/sshtest"
	"github.com/wpfix/wpfix/wp/wptest"
)

// TestCheckHundred: issue 14's agency run through the binary: 100 sites on
// four SSH servers, with named breaks among them, one server that does not
// answer, one whose host key changed, one site that never answers. Every
// site's state and the checks that tell it are right, each server is
// logged into once, and nothing is changed on any site.
func TestCheckHundred(t *testing.T) {
	const n = 100
	f := wptest.NewFleet(t, wptest.FleetOptions{Sites: n, Servers: 4, TLS: true, CertDaysLeft: map[int]int{8: 5}})
	t.Logf("100 sites up in %s", f.StartTime.Round(time.Millisecond))
	home := t.TempDir()
	// production sites let search engines in (WordPress's installer was
	// told not to, as for a test site)
	for _, s := range f.Sites {
		_, err := f.DB().Exec("UPDATE `" + s.DBName + "`.`" + s.TablePrefix + "options` SET option_value = '1' WHERE option_name = 'blog_public'")
		require.NoError(t, err)
	}
	site := func(i int) *wptest.FleetSite { return f.Sites[i] }
	target := func(s *wptest.FleetSite) string {
		return f.ServerOf(s).User + "@" + f.ServerOf(s).Host + ":" + s.Root
	}
	flagsOf := func(s *wptest.FleetSite) []string {
		srv := f.ServerOf(s)
		return []string{"-i", srv.KeyFile, "-p", strconv.Itoa(srv.Port), "--known-hosts", srv.KnownHostsFile}
	}

	site(1).Break(t, wptest.BreakKillWorker)
	site(2).Break(t, wptest.BreakFatal)
	site(3).Break(t, wptest.BreakDatabase)
	site(4).Break(t, wptest.BreakKillWorker)
	r := runAs(t, home, append([]string{"bisect", "--yes", target(site(4))}, flagsOf(site(4))...)...)
	require.Equal(t, 0, r.code, "an earlier bisect leaves a culprit disabled: %s", r.stderr)
	site(5).Break(t, wptest.BreakWPDebug)
	site(6).Break(t, wptest.BreakHugeAutoload)
	site(7).Break(t, wptest.BreakUploadsPHP)
	// site 8's certificate expires in 5 days (FleetOptions.CertDaysLeft)
	hung := proctest.ServeLoopback(t, func(c net.Conn) { time.Sleep(time.Minute); c.Close() })
	deadPort := proctest.FreePort(t)
	signer, _ := sshtest.NewKey(t)
	changed := filepath.Join(t.TempDir(), "known_hosts")
	srv10 := f.ServerOf(site(10))
	require.NoError(t, os.WriteFile(changed, []byte(knownhosts.Line([]string{knownhosts.Normalize(srv10.Addr)}, signer.PublicKey())+"\n"), 0o600))

	var inv strings.Builder
	for i, s := range f.Sites {
		srv := f.ServerOf(s)
		inv.WriteString("[[site]]\nname = \"" + s.Name + "\"\ntarget = \"" + target(s) + "\"\n")
		port, kh := srv.Port, srv.KnownHostsFile
		switch i {
		case 8:
			inv.WriteString("url = \"" + s.HTTPSURL + "\"\n")
		case 9:
			port = deadPort
		case 10:
			kh = changed
		case 11:
			inv.WriteString("url = \"http://" + hung.String() + "/\"\n")
		}
		inv.WriteString("port = " + strconv.Itoa(port) + "\nidentity = \"" + srv.KeyFile + "\"\nknown_hosts = \"" + kh + "\"\n\n")
	}
	invFile := filepath.Join(t.TempDir(), "sites.toml")
	require.NoError(t, os.WriteFile(invFile, []byte(inv.String()), 0o644))

	before := map[string]map[string]string{}
	for _, s := range f.Sites {
		before[s.Name] = contentState(t, f, s)
	}
	logins := make([]int, len(f.Servers))
	for i, srv := range f.Servers {
		logins[i] = sshLogins(t, srv)
	}

	// 16 WordPress pages at once from one php-fpm pool without opcache, on
	// two cores shared with everything else, may take seconds each: the
	// timeout leaves room for that; the hung site still costs it only once.
	start := time.Now()
	r = runAsEnv(t, home, []string{"SSL_CERT_FILE=" + f.CAFile},
		"check", "--inventory", invFile, "--format", "json", "--timeout", "10s", "--concurrency", "16")
	took := time.Since(start)
	require.Equal(t, 1, r.code, "stderr: %s", r.stderr)
	t.Logf("check of %d sites: %s (%.1f sites/s)", n, took.Round(time.Millisecond), float64(n)/took.Seconds())
	var rep fleetJSON
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &rep), r.stdout)
	require.Equal(t, n, rep.Summary.Sites)
	want := map[string]struct{ state, check, status string }{
		site(1).Name:  {"unhealthy", "probe", "error"},
		site(2).Name:  {"unhealthy", "probe", "error"},
		site(3).Name:  {"unhealthy", "database", "error"},
		site(4).Name:  {"healthy", "journal", "warning"},
		site(5).Name:  {"healthy", "debug", "warning"},
		site(6).Name:  {"healthy", "autoload", "warning"},
		site(7).Name:  {"healthy", "uploads-php", "warning"},
		site(8).Name:  {"healthy", "tls", "warning"},
		site(9).Name:  {"unreachable", "", ""},
		site(10).Name: {"unreachable", "", ""},
		site(11).Name: {"unhealthy", "probe", "error"},
	}
	for _, s := range rep.Sites {
		w, special := want[s.Name]
		if !special {
			assert.Equal(t, "healthy", s.State, "%s: %+v", s.Name, s.Checks)
			for _, c := range s.Checks {
				if c.ID == "logs" && strings.Contains(c.Message, "fpm-child-killed") {
					// the fleet's sites share one php-fpm pool and its log:
					// the workers sites 1 and 4 had killed are in every
					// site's log, as on a host whose sites share a pool
					assert.Equal(t, "warning", c.Status)
					continue
				}
				assert.Equal(t, "ok", c.Status, "%s: %s: %s", s.Name, c.ID, c.Message)
			}
			continue
		}
		assert.Equal(t, w.state, s.State, "%s: %s %+v", s.Name, s.Error, s.Checks)
		for _, c := range s.Checks {
			if c.ID == w.check {
				assert.Equal(t, w.status, c.Status, "%s: %s: %s", s.Name, c.ID, c.Message)
			}
		}
	}
	for i, srv := range f.Servers {
		assert.Equal(t, logins[i]+1, sshLogins(t, srv), "server %d: one connection for its sites", i)
	}
	for _, s := range f.Sites {
		assert.Equal(t, before[s.Name], contentState(t, f, s), "%s: nothing changed", s.Name)
	}

	// --shard over 1..5: every site in exactly one shard
	seen := map[string]int{}
	for i := 1; i <= 5; i++ {
		r := runAsEnv(t, home, []string{"SSL_CERT_FILE=" + f.CAFile}, "check", "--inventory", invFile, "--format", "json",
			"--timeout", "3s", "--shard", strconv.Itoa(i)+"/5")
		var part fleetJSON
		require.NoError(t, json.Unmarshal([]byte(r.stdout), &part), "shard %d: %s", i, r.stderr)
		for _, s := range part.Sites {
			seen[s.Name]++
		}
	}
	assert.Len(t, seen, n, "every site in a shard")
	for name, k := range seen {
		assert.Equal(t, 1, k, "%s in exactly one shard", name)
	}

	// --fix: the sites broken by an extension are fixed and notified; the
	// others (a locked-out database, a site that never answers) are not
	// changed
	hooks := newReceiver(t)
	cfg := filepath.Join(t.TempDir(), "wpfix.toml")
	require.NoError(t, os.WriteFile(cfg, []byte("[[notify]]\nurl = \""+hooks.URL+"/json\"\n"), 0o644))
	fixed := []*wptest.FleetSite{site(1), site(2), site(3), site(11), site(20)}
	for _, s := range fixed {
		before[s.Name] = contentState(t, f, s)
	}
	r = runAsEnv(t, home, []string{"SSL_CERT_FILE=" + f.CAFile}, "check", "--inventory", invFile, "--format", "json",
		"--timeout", "3s", "--fix", "--config", cfg, site(1).Name, site(2).Name, site(3).Name, site(11).Name, site(20).Name)
	rep = fleetJSON{}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &rep), "stdout: %s\nstderr: %s", r.stdout, r.stderr)
	fixes := map[string]string{}
	for _, s := range rep.Sites {
		if s.Fix != nil {
			fixes[s.Name] = s.Fix.State
		}
	}
	assert.Equal(t, map[string]string{site(1).Name: "fixed", site(2).Name: "fixed", site(3).Name: "broken", site(11).Name: "broken"}, fixes,
		"a fix for each site whose probe fails; site020 is healthy")
	events := map[string]string{}
	for _, e := range hooks.got("/json") {
		events[e["site"].(string)] = e["event"].(string)
	}
	assert.Equal(t, "fixed", events[target(site(1))])
	assert.Equal(t, "fixed", events[target(site(2))])
	assert.Equal(t, 200, site(1).Get(t, "/").Status)
	assert.Equal(t, 200, site(2).Get(t, "/").Status)
	for _, s := range []*wptest.FleetSite{site(3), site(11), site(20)} {
		// heal keeps its own state in .wpfix (heal.json): not the site's
		now := contentState(t, f, s)
		for p := range now {
			if strings.Contains(p, "/"+".wpfix") {
				delete(now, p)
			}
		}
		assert.Empty(t, diffFiles(before[s.Name], now), "%s: not changed by --fix", s.Name)
		assert.NoFileExists(t, filepath.Join(s.ContentDir, ".wpfix", "journal"), "%s: no change left", s.Name)
	}
}

// contentState is what check must not change on a fleet site: wp-content's
// files (but logs) and the options WordPress rewrites.
func contentState(t *testing.T, f *wptest.Fleet, s *wptest.FleetSite) map[string]string {
	t.Helper()
	m := map[string]string{}
	for p, d := range fileTree(t, s.ContentDir) {
		if !strings.HasSuffix(p, ".log") {
			m[p] = d
		}
	}
	for _, o := range []string{"active_plugins", "template", "stylesheet", "cron"} {
		var v string
		// as root: one site's database user is locked out
		err := f.DB().QueryRow("SELECT option_value FROM `"+s.DBName+"`.`"+s.TablePrefix+"options` WHERE option_name = ?", o).Scan(&v)
		require.NoError(t, err, "%s: option %s", s.Name, o)
		m["option "+o] = v
	}
	return m
}

// runAsEnv is runAs with more environment.
func runAsEnv(t *testing.T, home string, env []string, args ...string) result {
	t.Helper()
	var stdout, stderr strings.Builder
	cmd := exec.Command(wpfixBin, args...)
	cmd.Env = append(append(os.Environ(), "HOME="+home, "SSH_AUTH_SOCK="), env...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		require.NoError(t, err)
	}
	return result{code: cmd.ProcessState.ExitCode(), stdout: stdout.String(), stderr: stderr.String()}
}
