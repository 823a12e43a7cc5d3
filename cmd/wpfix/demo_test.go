package main

import (
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wpfix/wpfix/remote/sshtest"
	"github.com/wpfix/wpfix/wp/wptest"
)

// TestDemo is what `make demo` shows: a throwaway WordPress site with
// twelve plugins, one of which kills its PHP worker; nginx answers 502;
// wpfix bisect finds the plugin over SSH and leaves the site healthy.
func TestDemo(t *testing.T) {
	srv := sshtest.NewServer(t, sshtest.Options{})
	st := wptest.NewStack(t, wptest.Options{Owner: srv.User})
	var files []string
	for _, slug := range []string{"contact-form", "seo-tools", "gallery", "cache-helper", "social-share",
		"backup-pro", "slider", "analytics", "forms-extra", "shop-addons", "newsletter"} {
		files = append(files, st.AddPlugin(t, wptest.Plugin{Slug: slug}))
	}
	st.ActivatePlugins(t, files...)
	st.Break(t, wptest.BreakKillWorker)
	r := st.Get(t, "/")
	t.Logf("the site %s answers %d (%s): broken", st.URL, r.Status, r.Header.Get("Server"))
	require.Equal(t, 502, r.Status)

	target := srv.User + "@" + srv.Host + ":" + st.Root
	args := []string{"bisect", target, "-i", srv.KeyFile, "-p", strconv.Itoa(srv.Port), "--known-hosts",
		srv.KnownHostsFile, "--verbose"}
	t.Logf("$ wpfix %s", strings.Join(args, " "))
	res := runAs(t, t.TempDir(), args...)
	t.Logf("wpfix's progress (stderr):\n%s", res.stderr)
	t.Logf("wpfix's report (stdout):\n%s", res.stdout)
	require.Equal(t, 0, res.code)
	assert.Contains(t, res.stdout, "Culprit: plugin wptest-kill-worker")

	r = st.Get(t, "/")
	t.Logf("the site answers %d again", r.Status)
	assert.Equal(t, 200, r.Status)
}
