package agent

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/wpfix/wpfix/agent/fleet"
	"github.com/wpfix/wpfix/remote/proctest"
	"github.com/wpfix/wpfix/remote/sshtest"
	"github.com/wpfix/wpfix/wp/wptest"
)

// TestCheckFleetHostile: a server whose host key changed, and a site whose
// web server accepts and never answers, stop none of the others, and the
// run ends within their deadlines; a cancelled run ends at once with the
// sites checked so far.
func TestCheckFleetHostile(t *testing.T) {
	srv := sshtest.NewServer(t, sshtest.Options{})
	st := wptest.NewStack(t, wptest.Options{Owner: srv.User})
	// a known_hosts that holds another key for the server: a changed key
	signer, _ := sshtest.NewKey(t)
	changed := filepath.Join(t.TempDir(), "known_hosts")
	require.NoError(t, os.WriteFile(changed, []byte(knownhosts.Line([]string{knownhosts.Normalize(srv.Addr)}, signer.PublicKey())+"\n"), 0o600))
	// a web server that accepts and says nothing
	hung := proctest.ServeLoopback(t, func(c net.Conn) { time.Sleep(time.Minute); c.Close() })
	target := srv.User + "@" + srv.Host + ":" + st.Root
	sites := []fleet.Site{
		{Name: "good", Target: target, SSH: fleet.SSH{Port: srv.Port, Identity: srv.KeyFile, KnownHosts: srv.KnownHostsFile}},
		{Name: "changed-key", Target: target, SSH: fleet.SSH{Port: srv.Port, Identity: srv.KeyFile, KnownHosts: changed}},
		{Name: "hung", Target: target, URL: "http://" + hung.String() + "/",
			SSH: fleet.SSH{Port: srv.Port, Identity: srv.KeyFile, KnownHosts: srv.KnownHostsFile}},
	}
	start := time.Now()
	rep := CheckFleet(t.Context(), sites, FleetOptions{Probe: ProbeOptions{Timeout: time.Second}, SiteTimeout: 20 * time.Second})
	took := time.Since(start)
	states := map[string]string{}
	for _, s := range rep.Sites {
		states[s.Name] = s.State
		t.Logf("%s: %s %s", s.Name, s.State, s.Error)
	}
	assert.Equal(t, map[string]string{"good": SiteHealthy, "changed-key": SiteUnreachable, "hung": SiteUnhealthy}, states)
	for _, s := range rep.Sites {
		if s.Name == "changed-key" {
			assert.Contains(t, s.Error, "host key")
		}
	}
	assert.Less(t, took, 20*time.Second, "bounded by the probe's timeout, not the hung server")
	assert.Equal(t, 1, rep.Summary.Healthy)

	// cancelled as soon as the first site is done
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	many := append(append([]fleet.Site{}, sites[0]), sites[2], sites[2], sites[2])
	for i := range many {
		many[i].Name = "s" + strconv.Itoa(i)
	}
	start = time.Now()
	rep = CheckFleet(ctx, many, FleetOptions{Concurrency: 1, Probe: ProbeOptions{Timeout: 10 * time.Second},
		Progress: func(*SiteCheck) { cancel() }})
	assert.True(t, rep.Interrupted)
	assert.Less(t, len(rep.Sites), len(many), "the sites not reached are not reported")
	assert.Less(t, time.Since(start), 15*time.Second, "ends promptly")
}
