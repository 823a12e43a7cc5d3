package remote_test

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wpfix/wpfix/remote"
)

// TestFS checks the io/fs view of the local host with fstest.TestFS, over
// a folder of this test's own, and what it adds: ReadHead, and names that
// are the host's paths without the leading slash.
func TestFS(t *testing.T) {
	dir := t.TempDir()
	for name, data := range map[string]string{"a.conf": "one\n", "sub/b.conf": "two\n", "sub/deeper/c.ini": "x=1\n"} {
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644))
	}
	fsys := remote.FS(context.Background(), remote.NewLocal())
	sub, err := fs.Sub(fsys, strings.TrimPrefix(dir, "/"))
	require.NoError(t, err)
	require.NoError(t, fstest.TestFS(sub, "a.conf", "sub/b.conf", "sub/deeper/c.ini"))

	b, err := fs.ReadFile(fsys, strings.TrimPrefix(dir, "/")+"/sub/b.conf")
	require.NoError(t, err)
	assert.Equal(t, "two\n", string(b))
	head, err := fsys.(remote.HeadFS).ReadHead(strings.TrimPrefix(dir, "/")+"/a.conf", 2)
	require.NoError(t, err)
	assert.Equal(t, "on", string(head))
	_, err = fs.Stat(fsys, strings.TrimPrefix(dir, "/")+"/missing")
	assert.ErrorIs(t, err, fs.ErrNotExist)
	_, err = fs.ReadFile(fsys, "/etc/passwd")
	assert.ErrorIs(t, err, fs.ErrInvalid, "an fs name has no leading slash")
	fi, err := fs.Stat(fsys, ".")
	require.NoError(t, err)
	assert.True(t, fi.IsDir(), "the host's /")
}
