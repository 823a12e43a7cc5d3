package agent

import (
	"context"
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

// TestFollow follows a log as it grows, is truncated, and is rotated (moved
// away and made anew), and sees every complete line once.
func TestFollow(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "error.log")
	require.NoError(t, os.WriteFile(log, []byte("old line, not shown\n"), 0o644))
	s := &Site{Host: remote.NewLocal()}

	var mu sync.Mutex
	var got []string
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Follow(ctx, s, []server.LogFile{{Path: log}}, nil, 20*time.Millisecond, func(_ server.LogFile, l logsig.Line) {
			mu.Lock()
			got = append(got, l.Text)
			mu.Unlock()
		})
	}()
	wait := func(n int) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for time.Now().Before(deadline) {
			mu.Lock()
			k := len(got)
			mu.Unlock()
			if k >= n {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Fatalf("saw %d lines, want %d: %q", len(got), n, got)
	}
	appendTo := func(p, text string) {
		f, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o644)
		require.NoError(t, err)
		f.WriteString(text)
		f.Close()
	}

	time.Sleep(60 * time.Millisecond) // Follow has taken the starting size
	appendTo(log, "one\ntw")
	time.Sleep(60 * time.Millisecond)
	appendTo(log, "o\n")
	wait(2)
	require.NoError(t, os.Truncate(log, 0)) // truncated in place, as copytruncate does
	time.Sleep(60 * time.Millisecond)
	appendTo(log, "three\n")
	wait(3)
	require.NoError(t, os.Rename(log, log+".1")) // rotated
	time.Sleep(60 * time.Millisecond)
	appendTo(log, "four\n")
	wait(4)
	cancel()
	require.NoError(t, <-done)
	assert.Equal(t, []string{"one", "two", "three", "four"}, got)
}

// TestTailLines reads the last lines of a log larger than the first window.
func TestTailLines(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "big.log")
	f, err := os.Create(log)
	require.NoError(t, err)
	for i := range 20000 {
		f.WriteString("line " + time.Duration(i).String() + " of a log that is long enough\n")
	}
	f.Close()
	s := &Site{Host: remote.NewLocal()}
	lines, err := tailLines(context.Background(), s, log, 3000)
	require.NoError(t, err)
	require.Len(t, lines, 3000)
	assert.Equal(t, "line 19.999µs of a log that is long enough", lines[2999])
	assert.Equal(t, "line 17µs of a log that is long enough", lines[0])
	empty := filepath.Join(dir, "empty.log")
	require.NoError(t, os.WriteFile(empty, nil, 0o644))
	lines, err = tailLines(context.Background(), s, empty, 10)
	require.NoError(t, err)
	assert.Empty(t, lines)
}
