package server_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wpfix/wpfix/wp"
	"github.com/wpfix/wpfix/wp/server"
	"github.com/wpfix/wpfix/wp/wptest"
)

// TestServerLimits reads a running stack's limits from its running
// servers, locally and over SSH: the php-fpm pool behind nginx's
// fastcgi_pass with the stack's pm settings, the PHP values of the php.ini
// beside its config, and nginx's fastcgi_read_timeout for the site.
func TestServerLimits(t *testing.T) {
	for _, r := range reaches[:2] {
		t.Run(r.Name, func(t *testing.T) {
			t.Parallel()
			st, h := r.Open(t, wptest.Options{MaxChildren: 3, RequestTerminateTimeout: 10 * time.Second})
			ctx := context.Background()
			site, err := wp.Find(ctx, h, st.Root, wp.Options{})
			require.NoError(t, err)
			start := time.Now()
			stack, err := server.ReadStack(ctx, site.Host)
			require.NoError(t, err)
			cfg := stack.Limits(site.Root)
			t.Logf("Limits on %s: %d pools, %d timeouts in %v", h.Name(), len(cfg.Pools), len(cfg.Web),
				time.Since(start).Round(time.Millisecond))
			for _, p := range cfg.Pools {
				t.Logf("  pool %v %s (%s) listen %s: pm %s, max_children %d, terminate %v", p.ServesSite, p.Name, p.Master,
					p.Listen, p.PM.Value, p.MaxChildren, p.RequestTerminateTimeout)
			}
			for _, w := range cfg.Web {
				t.Logf("  web %v %s %s %v (%s)", w.ServesSite, w.Master, w.Directive, w.Value, w.Source)
			}

			// other tests' stacks may run beside this one: theirs do not serve the site
			require.NotEmpty(t, cfg.Pools)
			pool := cfg.Pools[0]
			require.True(t, pool.ServesSite, "the stack's pool serves the site, and comes first")
			for _, p := range cfg.Pools[1:] {
				assert.False(t, p.ServesSite, "only one pool serves the site: %s of %s", p.Name, p.Master)
			}
			dir := stackDir(st)
			assert.Equal(t, "wptest", pool.Name)
			assert.Equal(t, filepath.Join(dir, "php-fpm.conf"), pool.Config)
			assert.Equal(t, filepath.Join(dir, "php-fpm.sock"), pool.Listen)
			assert.Contains(t, pool.Master, "php-fpm master, pid ")
			assert.Equal(t, "dynamic", pool.PM.Value)
			assert.Equal(t, 3, pool.MaxChildren)
			assert.Equal(t, 0, pool.MaxRequests, "never recycled")
			assert.Equal(t, 10*time.Second, pool.RequestTerminateTimeout)
			assert.Contains(t, pool.Sources["pm.max_children"], filepath.Join(dir, "php-fpm.conf")+" line ")
			assert.Empty(t, pool.Invalid)
			ini := filepath.Join(dir, "php.ini")
			assert.Equal(t, "128M", pool.PHP["memory_limit"].Value)
			assert.Contains(t, pool.PHP["memory_limit"].Source(), ini+" line ")
			assert.Equal(t, "30", pool.PHP["max_execution_time"].Value)
			assert.Contains(t, pool.PHP["max_execution_time"].Source(), ini+" line ")
			assert.Equal(t, server.Setting{Value: "8M"}, pool.PHP["post_max_size"], "PHP's default")

			var serving []server.WebTimeout
			for _, w := range cfg.Web {
				if w.ServesSite {
					serving = append(serving, w)
				}
			}
			require.Len(t, serving, 1, "the one fastcgi_pass of the stack's server block")
			w := serving[0]
			assert.Equal(t, "nginx", w.Server)
			assert.Equal(t, "fastcgi_read_timeout", w.Directive)
			assert.Equal(t, 60*time.Second, w.Value)
			assert.Contains(t, w.Source, filepath.Join(dir, "nginx.conf")+" line ")
			assert.Contains(t, w.Master, "nginx master, pid ")

			cancelled, cancel := context.WithCancel(ctx)
			cancel()
			_, err = server.ReadStack(cancelled, site.Host)
			assert.ErrorIs(t, err, context.Canceled)
		})
	}
}
