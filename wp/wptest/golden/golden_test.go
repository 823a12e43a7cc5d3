package golden

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestUpdate: -update writes the file, in a folder made for it, and the
// comparison that follows passes; without it the file is only read.
func TestUpdate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "new", "report.golden.json")
	defer func(was bool) { *update = was }(*update)
	*update = true
	got := AssertJSON(t, path, map[string]int{"b": 2, "a": 1})
	assert.Equal(t, "{\n  \"a\": 1,\n  \"b\": 2\n}\n", string(got))

	*update = false
	Assert(t, path, got)
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, got, b)
}
