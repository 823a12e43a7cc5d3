package agent

import (
	"bytes"
	"context"
	"io"
	"io/fs"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/wpfix/wpfix/remote"
)

// readCache is a Host for a read-only run over the many sites of one
// server (wpfix check): a read that several sites make — the host's PHP
// CLI asked for its settings, /proc/meminfo, a server log that serves
// them all, the usual places of a server that is not running — goes to
// the server once, and its answer is shared, also while it is in flight.
// Over a link with 50 ms between wpfix and the server, each read saved is
// a round trip or more, for every site but the first.
//
// What is shared is only what the server answered, never a judgment:
// each site still decides for itself whether a file may be trusted (a
// symlink, an owner). An answer is what the first asker got, a moment
// before the others would have: no staler than a run that reads the sites
// one after another. A write through the cache passes through and forgets
// every answer, and Forget does it by hand (after a fix made over another
// connection).
//
// Each caller gets its own copy of an answer's bytes and lists, which it
// may change. Answers larger than readCacheEntry are shared while in flight but not
// kept, and no more than readCacheBudget bytes are kept in all: a site's
// huge log costs its own reading, not the run's memory.
type readCache struct {
	remote.Host

	mu    sync.Mutex
	calls map[string]*cachedCall
	kept  int
}

// The cache's bounds.
const (
	readCacheEntry  = 1 << 20
	readCacheBudget = 64 << 20
)

// cachedCall is one read, done or in flight.
type cachedCall struct {
	done chan struct{}
	val  any
	size int
	err  error
	// abandoned: the caller's context ended while it read, so the error
	// says nothing of the host; a waiting caller asks again.
	abandoned bool
}

func newReadCache(h remote.Host) *readCache {
	return &readCache{Host: h, calls: map[string]*cachedCall{}}
}

// do returns the answer to key, reading it with read when no other caller
// has or is.
func (c *readCache) do(ctx context.Context, key string, read func() (val any, size int, err error)) (any, error) {
	for {
		c.mu.Lock()
		if cl, ok := c.calls[key]; ok {
			c.mu.Unlock()
			select {
			case <-cl.done:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			if cl.abandoned {
				continue
			}
			return cl.val, cl.err
		}
		cl := &cachedCall{done: make(chan struct{})}
		c.calls[key] = cl
		c.mu.Unlock()

		cl.val, cl.size, cl.err = read()
		c.mu.Lock()
		switch {
		case cl.err != nil && ctx.Err() != nil:
			cl.abandoned = true
			delete(c.calls, key)
		case cl.size > readCacheEntry || c.kept+cl.size > readCacheBudget:
			delete(c.calls, key)
		default:
			c.kept += cl.size
		}
		c.mu.Unlock()
		close(cl.done)
		return cl.val, cl.err
	}
}

// Forget drops every answer kept.
func (c *readCache) Forget() {
	c.mu.Lock()
	defer c.mu.Unlock()
	// Calls in flight finish for their own callers; later callers read
	// again.
	c.calls = map[string]*cachedCall{}
	c.kept = 0
}

func (c *readCache) Stat(ctx context.Context, p string) (fs.FileInfo, error) {
	v, err := c.do(ctx, "stat\x00"+p, func() (any, int, error) {
		fi, err := c.Host.Stat(ctx, p)
		return fi, len(p), err
	})
	fi, _ := v.(fs.FileInfo)
	return fi, err
}

func (c *readCache) Lstat(ctx context.Context, p string) (fs.FileInfo, error) {
	v, err := c.do(ctx, "lstat\x00"+p, func() (any, int, error) {
		fi, err := c.Host.Lstat(ctx, p)
		return fi, len(p), err
	})
	fi, _ := v.(fs.FileInfo)
	return fi, err
}

func (c *readCache) ReadDir(ctx context.Context, p string) ([]fs.FileInfo, error) {
	v, err := c.do(ctx, "readdir\x00"+p, func() (any, int, error) {
		list, err := c.Host.ReadDir(ctx, p)
		return list, 100 * len(list), err
	})
	list, _ := v.([]fs.FileInfo)
	return slices.Clone(list), err
}

func (c *readCache) ReadFile(ctx context.Context, p string) ([]byte, error) {
	v, err := c.do(ctx, "read\x00"+p, func() (any, int, error) {
		b, err := c.Host.ReadFile(ctx, p)
		return b, len(b), err
	})
	b, _ := v.([]byte)
	return bytes.Clone(b), err
}

func (c *readCache) ReadHead(ctx context.Context, p string, n int64) ([]byte, error) {
	v, err := c.do(ctx, "head\x00"+strconv.FormatInt(n, 10)+"\x00"+p, func() (any, int, error) {
		b, err := c.Host.ReadHead(ctx, p, n)
		return b, len(b), err
	})
	b, _ := v.([]byte)
	return bytes.Clone(b), err
}

// tailAnswer is what ReadTail returns.
type tailAnswer struct {
	tail []byte
	size int64
}

func (c *readCache) ReadTail(ctx context.Context, p string, n int64) ([]byte, int64, error) {
	v, err := c.do(ctx, "tail\x00"+strconv.FormatInt(n, 10)+"\x00"+p, func() (any, int, error) {
		b, size, err := c.Host.ReadTail(ctx, p, n)
		return tailAnswer{b, size}, len(b), err
	})
	a, _ := v.(tailAnswer)
	return bytes.Clone(a.tail), a.size, err
}

// execAnswer is what Exec returns.
type execAnswer struct{ out []byte }

// Exec shares the run of a program with the same arguments and the same
// standard input: the host's php asked for its settings by every site.
func (c *readCache) Exec(ctx context.Context, args []string, stdin io.Reader) ([]byte, error) {
	var in []byte
	if stdin != nil {
		b, err := io.ReadAll(io.LimitReader(stdin, readCacheEntry+1))
		if err != nil {
			return nil, err
		}
		if len(b) > readCacheEntry {
			return c.Host.Exec(ctx, args, io.MultiReader(bytes.NewReader(b), stdin))
		}
		in = b
	}
	key := "exec\x00" + strings.Join(args, "\x00") + "\x00\x00" + string(in)
	v, err := c.do(ctx, key, func() (any, int, error) {
		var r io.Reader
		if stdin != nil {
			r = bytes.NewReader(in)
		}
		out, err := c.Host.Exec(ctx, args, r)
		return execAnswer{out}, len(out) + len(key), err
	})
	a, _ := v.(execAnswer)
	return bytes.Clone(a.out), err
}

func (c *readCache) WriteFile(ctx context.Context, p string, data []byte, perm fs.FileMode) error {
	c.Forget()
	return c.Host.WriteFile(ctx, p, data, perm)
}

func (c *readCache) Rename(ctx context.Context, oldpath, newpath string) error {
	c.Forget()
	return c.Host.Rename(ctx, oldpath, newpath)
}

func (c *readCache) Remove(ctx context.Context, p string) error {
	c.Forget()
	return c.Host.Remove(ctx, p)
}

func (c *readCache) Mkdir(ctx context.Context, p string, perm fs.FileMode) error {
	c.Forget()
	return c.Host.Mkdir(ctx, p, perm)
}
