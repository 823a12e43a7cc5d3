package fleet

import (
	"testing"

	"github.com/BurntSushi/toml"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// trickyTOML are files whose lines a naive scan would get wrong.
var trickyTOML = []string{
	"[[site]]\r\nname = \"a\"\r\ntarget = \"h:/a\"\r\n[[site]]\r\nname = \"b\"\r\n",
	"[[site]]\nurl = \"\"\"\n[[site]]\nname = \\\"\"\" x\n\"\"\"\nname = \"a\"\n[[site]]\ntarget = 'x'\n",
	"[[site]]\nidentity = '''\n\"\"\"\n[[site]]\n'''\nport = 1\n\n[[site]]\nport = 2\n",
	"[[site]]\nprobe = [ # [[site]] in a comment\n  \"/a/\", # \"\n  [\"nested\"],\n]\ntags = []\n[[site]]  # header comment\nname = \"b\"\n",
	"[[site]]\n\"quoted.key\" = 1\n'lit' = 2\nssh.port = 3\n\"a\\\"b\" = 4\n[site.sub]\nx = 1\n[[site]]\ny = { z = [1, \"]\"] }\n",
	"[defaults]\nidentity = \"#not a comment\"\nprobe = [\n\"/x/\"]\n[defaults.sub]\nk = 1\n[[site]]\ntarget = \"h:/x\"\n",
	"site = [\n  { name = \"a\" },\n  { name = \"b\" },\n]\ndefaults.identity = \"x\"\n",
	"[[ site ]]\nname = \"a\"\n[[\"site\"]]\nname = \"b\"\n['site'.extra]\nk = 'v'\n",
	"title = \"\"\"multi\nline \\\n  [[site]] continued\"\"\"\n[[site]]\nname = 'a'\n",
}

// TestScanTOMLLayout: for each tricky file, the scan finds the tables the
// decoder finds, each with its keys (checkLayout), and the lines are right.
func TestScanTOMLLayout(t *testing.T) {
	for i, src := range trickyTOML {
		var raw map[string]any
		_, err := toml.Decode(src, &raw)
		require.NoError(t, err, "case %d is valid TOML", i)
		checkLayout(t, []byte(src))
	}
	l := scanTOML([]byte(trickyTOML[2]))
	require.Len(t, l.sites, 2)
	assert.Equal(t, 1, l.sites[0].line)
	assert.Equal(t, 6, l.sites[0].keys["port"], "after the multi-line literal")
	assert.Equal(t, 8, l.sites[1].line)
	l = scanTOML([]byte(trickyTOML[4]))
	assert.Equal(t, map[string]int{"quoted.key": 2, "lit": 3, "ssh": 4, `a"b`: 5, "sub": 6}, l.sites[0].keys)
	assert.Equal(t, map[string]int{"y": 9}, l.sites[1].keys)
}
