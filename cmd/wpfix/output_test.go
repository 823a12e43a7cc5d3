package main

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSize: disk and memory are written as PHP writes sizes, in whole MiB,
// as the findings beside them are.
func TestSize(t *testing.T) {
	for _, c := range []struct {
		n    int64
		want string
	}{
		{0, "0"}, {100 << 10, "100K"}, {1000, "1K"}, {600 << 10, "1M"}, {1536 << 20, "1536M"}, {20 << 30, "20G"},
		{20<<30 + 100<<10, "20G"}, {4<<30 + 300<<20, "4396M"},
	} {
		assert.Equal(t, c.want, size(c.n), "size(%d)", c.n)
	}
}

// TestWriteJSON: one value and a newline, on one line or indented.
func TestWriteJSON(t *testing.T) {
	v := map[string]any{"a": 1, "b": "<x>"}
	var line, indented bytes.Buffer
	require.NoError(t, writeJSON(&line, v, jsonLine))
	require.NoError(t, writeJSON(&indented, v, jsonIndented))
	assert.Equal(t, "{\"a\":1,\"b\":\"\\u003cx\\u003e\"}\n", line.String())
	assert.Equal(t, "{\n  \"a\": 1,\n  \"b\": \"\\u003cx\\u003e\"\n}\n", indented.String())
}
