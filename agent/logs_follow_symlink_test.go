package agent

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wpfix/wpfix/remote"
	"github.com/wpfix/wpfix/wp/logsig"
	"github.com/wpfix/wpfix/wp/server"
)

// TestFollowSwappedForSymlink: while a log is followed, it is replaced by
// a symlink to another file (as a site's user can do to its debug.log
// under a root run): Follow stops following it and says why, and never
// prints a line of the file the link points to. The other log is still
// followed.
func TestFollowSwappedForSymlink(t *testing.T) {
	dir := t.TempDir()
	debug := filepath.Join(dir, "debug.log")
	other := filepath.Join(dir, "other.log")
	secret := filepath.Join(t.TempDir(), "secret")
	for _, f := range []string{debug, other} {
		require.NoError(t, os.WriteFile(f, nil, 0o644))
	}
	require.NoError(t, os.WriteFile(secret, []byte("SECRET one\n"), 0o600))
	var logBuf syncBuffer
	s := &Site{Host: remote.NewLocal(), Log: slog.New(slog.NewTextHandler(&logBuf, nil))}

	var mu sync.Mutex
	var got []string
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Follow(ctx, s, []server.LogFile{{Path: debug}, {Path: other}}, nil, 20*time.Millisecond,
			func(_ server.LogFile, l logsig.Line) {
				mu.Lock()
				got = append(got, l.Text)
				mu.Unlock()
			})
	}()
	time.Sleep(60 * time.Millisecond)
	require.NoError(t, os.Remove(debug))
	require.NoError(t, os.Symlink(secret, debug))
	f, err := os.OpenFile(secret, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	f.WriteString("SECRET two\n")
	f.Close()
	time.Sleep(100 * time.Millisecond)
	require.NoError(t, os.WriteFile(other, []byte("still followed\n"), 0o644))
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n > 0 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	require.NoError(t, <-done)
	assert.Equal(t, []string{"still followed"}, got)
	assert.Contains(t, logBuf.String(), "became a symlink while followed")
}

// syncBuffer is a bytes.Buffer safe for a logger and a test to share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
