package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wpfix/wpfix/remote"
)

// heldHost counts the reads that reach the host, and may hold each
// one until release is closed.
type heldHost struct {
	remote.Host
	reads   atomic.Int64
	release chan struct{}
}

func (h *heldHost) wait(ctx context.Context) error {
	h.reads.Add(1)
	if h.release == nil {
		return nil
	}
	select {
	case <-h.release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (h *heldHost) ReadFile(ctx context.Context, p string) ([]byte, error) {
	if err := h.wait(ctx); err != nil {
		return nil, err
	}
	return h.Host.ReadFile(ctx, p)
}

func (h *heldHost) Lstat(ctx context.Context, p string) (fs.FileInfo, error) {
	if err := h.wait(ctx); err != nil {
		return nil, err
	}
	return h.Host.Lstat(ctx, p)
}

func (h *heldHost) ReadTail(ctx context.Context, p string, n int64) ([]byte, int64, error) {
	if err := h.wait(ctx); err != nil {
		return nil, 0, err
	}
	return h.Host.ReadTail(ctx, p, n)
}

func (h *heldHost) Exec(ctx context.Context, args []string, stdin io.Reader) ([]byte, error) {
	if err := h.wait(ctx); err != nil {
		return nil, err
	}
	return h.Host.Exec(ctx, args, stdin)
}

func TestReadCache(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	small := filepath.Join(dir, "small.log")
	big := filepath.Join(dir, "big.log")
	require.NoError(t, os.WriteFile(small, []byte("one\ntwo\n"), 0o644))
	require.NoError(t, os.WriteFile(big, []byte(strings.Repeat("x", readCacheEntry+1)), 0o644))

	for _, tc := range []struct {
		name  string
		do    func(c *readCache) error
		reads int64 // what reached the host
	}{
		{"the same file read by many is read once", func(c *readCache) error {
			for range 5 {
				b, err := c.ReadFile(ctx, small)
				if err != nil || string(b) != "one\ntwo\n" {
					return err
				}
			}
			return nil
		}, 1},
		{"each caller's answer is its own to change", func(c *readCache) error {
			b, err := c.ReadFile(ctx, small)
			if err != nil {
				return err
			}
			b[0] = 'X'
			if b, err = c.ReadFile(ctx, small); err != nil || string(b) != "one\ntwo\n" {
				return fmt.Errorf("the second reader got %q, %v", b, err)
			}
			return nil
		}, 1},
		{"a missing file's answer is shared too", func(c *readCache) error {
			for range 3 {
				if _, err := c.Lstat(ctx, filepath.Join(dir, "none")); !errors.Is(err, fs.ErrNotExist) {
					return fmt.Errorf("want not exist, got %v", err)
				}
			}
			return nil
		}, 1},
		{"other tails of one file are other reads", func(c *readCache) error {
			for _, n := range []int64{4, 64, 4} {
				if _, _, err := c.ReadTail(ctx, small, n); err != nil {
					return err
				}
			}
			return nil
		}, 2},
		{"a large answer is not kept", func(c *readCache) error {
			for range 2 {
				if _, err := c.ReadFile(ctx, big); err != nil {
					return err
				}
			}
			return nil
		}, 2},
		{"a program runs once for the same arguments and input", func(c *readCache) error {
			for _, in := range []string{"a", "a", "b"} {
				out, err := c.Exec(ctx, []string{"cat"}, strings.NewReader(in))
				if err != nil || string(out) != in {
					return err
				}
			}
			return nil
		}, 2},
		{"a write forgets what was read", func(c *readCache) error {
			if _, err := c.ReadFile(ctx, small); err != nil {
				return err
			}
			if err := c.WriteFile(ctx, filepath.Join(dir, "other"), []byte("z"), 0o644); err != nil {
				return err
			}
			_, err := c.ReadFile(ctx, small)
			return err
		}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := &heldHost{Host: remote.NewLocal()}
			c := newReadCache(h)
			require.NoError(t, tc.do(c))
			assert.Equal(t, tc.reads, h.reads.Load())
		})
	}
}

// TestReadCacheInFlight: sites asking at once share one read; a caller
// whose deadline ends while it reads leaves the others to ask again, not
// with its error.
func TestReadCacheInFlight(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "php-error.log")
	require.NoError(t, os.WriteFile(f, []byte("line\n"), 0o644))

	t.Run("shared while in flight", func(t *testing.T) {
		h := &heldHost{Host: remote.NewLocal(), release: make(chan struct{})}
		c := newReadCache(h)
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				b, err := c.ReadFile(context.Background(), f)
				assert.NoError(t, err)
				assert.Equal(t, "line\n", string(b))
			})
		}
		require.Eventually(t, func() bool { return h.reads.Load() == 1 }, 5*time.Second, time.Millisecond)
		time.Sleep(20 * time.Millisecond) // the others are waiting, not reading
		close(h.release)
		wg.Wait()
		assert.Equal(t, int64(1), h.reads.Load())
	})

	t.Run("an abandoned read is asked again", func(t *testing.T) {
		h := &heldHost{Host: remote.NewLocal(), release: make(chan struct{})}
		c := newReadCache(h)
		short, cancel := context.WithCancel(context.Background())
		first := make(chan error, 1)
		go func() {
			_, err := c.ReadFile(short, f)
			first <- err
		}()
		require.Eventually(t, func() bool { return h.reads.Load() == 1 }, 5*time.Second, time.Millisecond)
		second := make(chan []byte, 1)
		go func() {
			b, err := c.ReadFile(context.Background(), f)
			assert.NoError(t, err)
			second <- b
		}()
		time.Sleep(20 * time.Millisecond)
		cancel()
		assert.ErrorIs(t, <-first, context.Canceled)
		require.Eventually(t, func() bool { return h.reads.Load() == 2 }, 5*time.Second, time.Millisecond)
		close(h.release)
		assert.Equal(t, "line\n", string(<-second))
	})
}
