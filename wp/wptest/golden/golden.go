// Package golden compares what a test produced with a golden file under
// testdata, in the spirit of net/http/httptest: one -update flag, defined
// here once for every test binary that imports the package, rewrites the
// files instead of failing (go test ./wp -run TestConfigGolden -update).
//
// golden must not be used outside tests.
package golden

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// Assert compares got with the golden file at path; under -update it
// writes got there first, making the file's folder if need be.
func Assert(t testing.TB, path string, got []byte) {
	t.Helper()
	if *update {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -run '%s' -update in this package to write it", t.Name())
	assert.Equal(t, string(want), string(got))
}

// AssertJSON is Assert for v as indented JSON with a final newline; it
// returns that JSON, for checks of what the file holds.
func AssertJSON(t testing.TB, path string, v any) []byte {
	t.Helper()
	got, err := json.MarshalIndent(v, "", "  ")
	require.NoError(t, err)
	got = append(got, '\n')
	Assert(t, path, got)
	return got
}
