package main

import (
	"bytes"
	"io"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wpfix/wpfix/wp/wptest/golden"
)

// assertGolden renders a report with print, the function its command
// prints it with, and compares the text with testdata/NAME.golden
// (go test ./cmd/wpfix -run Golden -update rewrites the files).
func assertGolden(t *testing.T, name string, print func(io.Writer) error) {
	t.Helper()
	var got bytes.Buffer
	require.NoError(t, print(&got))
	golden.Assert(t, filepath.Join("testdata", name+".golden"), got.Bytes())
}

// assertGoldens checks each report of cases against testdata/DIR/NAME.golden,
// and that DIR holds no golden file that no case writes.
func assertGoldens(t *testing.T, dir string, cases map[string]func(io.Writer) error) {
	t.Helper()
	for _, name := range slices.Sorted(maps.Keys(cases)) {
		t.Run(name, func(t *testing.T) { assertGolden(t, dir+"/"+name, cases[name]) })
	}
	files, err := filepath.Glob(filepath.Join("testdata", dir, "*.golden"))
	require.NoError(t, err)
	var names []string
	for _, f := range files {
		names = append(names, strings.TrimSuffix(filepath.Base(f), ".golden"))
	}
	assert.ElementsMatch(t, slices.Collect(maps.Keys(cases)), names, "testdata/%s: a golden file per case", dir)
}
