package server_test

import (
	"context"
	"io/fs"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wpfix/wpfix/remote"
	"github.com/wpfix/wpfix/wp"
	"github.com/wpfix/wpfix/wp/server"
	"github.com/wpfix/wpfix/wp/wptest"
)

// statsHost records the paths Stat is asked for.
type statsHost struct {
	remote.Host
	mu    sync.Mutex
	asked []string
}

func (h *statsHost) Stat(ctx context.Context, p string) (fs.FileInfo, error) {
	h.mu.Lock()
	h.asked = append(h.asked, p)
	h.mu.Unlock()
	return h.Host.Stat(ctx, p)
}

// TestServedLogs: on a server with several sites, each with its own nginx
// error_log, ServedLogs lists a site's own log and never looks at the
// others' (which SiteLogs lists, as not serving the site): a check of a
// hundred sites on one server costs each site its own logs, not all of
// them.
func TestServedLogs(t *testing.T) {
	f := wptest.NewFleet(t, wptest.FleetOptions{Sites: 3})
	ctx := context.Background()
	h := &statsHost{Host: remote.NewLocal()}
	st, err := server.ReadStack(ctx, h)
	require.NoError(t, err)
	site, err := wp.Find(ctx, h, f.Sites[0].Root, wp.Options{})
	require.NoError(t, err)
	others := []string{f.Sites[1].Name, f.Sites[2].Name}
	ofOthers := func(paths []string) (n int) {
		for _, p := range paths {
			for _, o := range others {
				if strings.Contains(p, "/"+o+"/") {
					n++
				}
			}
		}
		return n
	}
	pathsOf := func(logs []server.LogFile) (out []string) {
		for _, l := range logs {
			out = append(out, l.Path)
		}
		return out
	}

	all, _, err := st.SiteLogs(ctx, siteOf(site))
	require.NoError(t, err)
	assert.Equal(t, 2, ofOthers(pathsOf(all)), "SiteLogs lists the other sites' logs too: %v", pathsOf(all))

	h.mu.Lock()
	h.asked = nil
	h.mu.Unlock()
	served, _, err := st.ServedLogs(ctx, siteOf(site))
	require.NoError(t, err)
	require.NotEmpty(t, served)
	for _, l := range served {
		assert.True(t, l.ServesSite, "%s", l.Path)
	}
	assert.Contains(t, pathsOf(served), f.Sites[0].NginxErrorLog)
	assert.Zero(t, ofOthers(pathsOf(served)), "%v", pathsOf(served))
	assert.Zero(t, ofOthers(h.asked), "the other sites' logs were looked at: %v", h.asked)
}
