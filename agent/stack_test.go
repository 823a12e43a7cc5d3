package agent

import (
	"context"
	"io/fs"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wpfix/wpfix/remote"
	"github.com/wpfix/wpfix/wp"
	"github.com/wpfix/wpfix/wp/wptest"
)

// countingHost counts what is read through a Host: directory listings and
// file reads (ReadFile, or ReadHead of more than a byte: a log's existence
// check reads one), by path.
type countingHost struct {
	remote.Host
	mu    sync.Mutex
	lists map[string]int
	reads map[string]int
}

func newCountingHost(h remote.Host) *countingHost {
	return &countingHost{Host: h, lists: map[string]int{}, reads: map[string]int{}}
}

func (h *countingHost) ReadDir(ctx context.Context, p string) ([]fs.FileInfo, error) {
	h.mu.Lock()
	h.lists[p]++
	h.mu.Unlock()
	return h.Host.ReadDir(ctx, p)
}

func (h *countingHost) ReadFile(ctx context.Context, p string) ([]byte, error) {
	h.mu.Lock()
	h.reads[p]++
	h.mu.Unlock()
	return h.Host.ReadFile(ctx, p)
}

func (h *countingHost) ReadHead(ctx context.Context, p string, n int64) ([]byte, error) {
	if n > 1 {
		h.mu.Lock()
		h.reads[p]++
		h.mu.Unlock()
	}
	return h.Host.ReadHead(ctx, p, n)
}

// TestDiagnoseReadsStackOnce runs one diagnose of a real stack, whose nginx
// and php-fpm masters are found in /proc, through a Host that counts: the
// process list is read once, and each server config file once, though both
// the logs and the limits are read from them.
func TestDiagnoseReadsStackOnce(t *testing.T) {
	t.Parallel()
	st := wptest.NewStack(t, wptest.Options{})
	ctx := context.Background()
	h := newCountingHost(remote.NewLocal())
	target, err := remote.ParseTarget(st.Root)
	require.NoError(t, err)
	s := &Site{Target: target, Host: h}
	s.WP, err = wp.Find(ctx, h, st.Root, wp.Options{})
	require.NoError(t, err)
	s.DB, err = s.WP.OpenDB(ctx)
	require.NoError(t, err)
	t.Cleanup(func() { s.DB.Close() })

	rep, err := Diagnose(ctx, s, DiagnoseOptions{Probe: ProbeOptions{URL: st.URL}})
	require.NoError(t, err)
	require.Empty(t, rep.Notes, "the limits and the logs were read")

	assert.Equal(t, 1, h.lists["/proc"], "the process list is read once")
	dir := filepath.Dir(st.NginxErrorLog)
	for _, name := range []string{"nginx.conf", "php-fpm.conf", "php.ini"} {
		assert.Equal(t, 1, h.reads[filepath.Join(dir, name)], "%s is read once", name)
	}
	for p, n := range h.reads {
		if strings.HasPrefix(p, dir+"/") && (strings.HasSuffix(p, ".conf") || strings.HasSuffix(p, ".ini")) {
			assert.Equal(t, 1, n, "%s is read once", p)
		}
	}
}
