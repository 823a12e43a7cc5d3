package fleet

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wpfix/wpfix/remote"
	"github.com/wpfix/wpfix/wp/wptest/golden"
)

// testHome is the home folder the tests expand "~/" to.
const testHome = "/home/agent"

// render writes what Load made of an inventory: its sites and warnings
// as JSON, or its error with the place the error names, with the test's
// folder written $DIR so the files hold no machine's paths.
func render(t *testing.T, inv *Inventory, err error) []byte {
	t.Helper()
	dir, derr := filepath.Abs("testdata/inventory")
	require.NoError(t, derr)
	if err != nil {
		var ie *InventoryError
		require.ErrorAs(t, err, &ie, "every inventory error is an *InventoryError")
		require.ErrorIs(t, err, ErrInventory)
		out, jerr := json.MarshalIndent(ie, "", "  ")
		require.NoError(t, jerr)
		return []byte("error: " + err.Error() + "\n" + string(out) + "\n")
	}
	out, jerr := json.MarshalIndent(inv, "", "  ")
	require.NoError(t, jerr)
	return []byte(strings.ReplaceAll(string(out), dir, "$DIR") + "\n")
}

// TestInventoryGolden reads each file under testdata/inventory, the good
// (good-*) and the bad (bad-*), and compares what it made of it with its
// .golden file: the sites, or the exact error with file, line and field
// (go test ./agent/fleet -run Golden -update rewrites them).
func TestInventoryGolden(t *testing.T) {
	t.Setenv("HOME", testHome)
	files, err := filepath.Glob("testdata/inventory/*")
	require.NoError(t, err)
	n := 0
	for _, file := range files {
		ext := filepath.Ext(file)
		if ext == ".golden" {
			continue
		}
		n++
		name := strings.TrimSuffix(filepath.Base(file), ext) + ext
		t.Run(name, func(t *testing.T) {
			inv, err := Load(file)
			if strings.HasPrefix(name, "bad-") {
				require.Error(t, err, "a bad inventory is refused")
				var ie *InventoryError
				require.ErrorAs(t, err, &ie)
				if name != "bad-inherited-error.yml" {
					assert.Equal(t, file, ie.File, "the error names the file")
				} else {
					assert.Equal(t, "testdata/inventory/bad-docker.yml", ie.File, "the error names the inherited file it is in")
				}
				assert.Positive(t, ie.Line, "the error names the line")
			} else {
				require.NoError(t, err)
				for _, s := range inv.Sites {
					_, perr := remote.ParseTarget(s.Target)
					assert.NoError(t, perr, "site %s: its target parses", s.Name)
				}
			}
			golden.Assert(t, strings.TrimSuffix(file, ext)+strings.ReplaceAll(ext, ".", "-")+".golden", render(t, inv, err))
		})
	}
	require.Greater(t, n, 40, "the cases are there")
}

// TestExampleInventory reads configs/sites.example.toml, so the example
// the docs point to always parses, and checks what its comments promise.
func TestExampleInventory(t *testing.T) {
	t.Setenv("HOME", testHome)
	inv, err := Load("../../configs/sites.example.toml")
	require.NoError(t, err)
	require.Len(t, inv.Sites, 4)
	exampleDir, err := filepath.Abs("../../configs")
	require.NoError(t, err)

	acme := inv.Sites[0]
	assert.Equal(t, "acme", acme.Name)
	assert.Equal(t, "deploy@web1:/var/www/acme", acme.Target, "the default user goes into a target that gives none")
	assert.Equal(t, "https://acme.example", acme.URL)
	assert.Equal(t, "203.0.113.7", acme.Resolve)
	assert.Equal(t, []string{"/", "/shop/"}, acme.Probe, "a site's list replaces the default's")
	assert.Equal(t, []string{"shop", "eu"}, acme.Tags)
	assert.Equal(t, SSH{Identity: testHome + "/.ssh/agency_ed25519", KnownHosts: testHome + "/.ssh/known_hosts"}, acme.SSH)

	bistro := inv.Sites[1]
	assert.Equal(t, "ssh://deploy@web2.example:2222/srv/bistro/public", bistro.Target)
	assert.Equal(t, []string{"/wp-login.php"}, bistro.Probe, "the default's list")

	ceramics := inv.Sites[2]
	assert.Equal(t, "ceramics@203.0.113.20:/var/www/html", ceramics.Target)
	assert.Equal(t, SSH{Port: 2200, Identity: filepath.Join(exampleDir, "keys/ceramics_ed25519"),
		KnownHosts: testHome + "/.ssh/known_hosts", AcceptNewHostKey: true}, ceramics.SSH)

	intranet := inv.Sites[3]
	assert.Equal(t, "/var/www/intranet", intranet.Target)
	assert.Equal(t, SSH{}, intranet.SSH, "a local site takes no SSH defaults")
	assert.Equal(t, "../../configs/sites.example.toml", intranet.File)
	assert.Positive(t, intranet.Line)
}

// TestInventoryErrorLines: the line of an error about a key is the key's
// own, in the n-th [[site]], past multi-line strings and arrays.
func TestInventoryErrorLines(t *testing.T) {
	src := "[[site]]\ntarget = \"h:/a\"\nidentity = '''\n[[site]]\nport = \"x\"\n'''\n\n[[site]]\n" +
		"name = \"b\"\ntarget = \"h:/b\"\nprobe = [\n  \"/x/\",\n]\nport = \"22\"\n"
	_, err := ParseTOML("s.toml", []byte(src))
	var ie *InventoryError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, InventoryError{File: "s.toml", Line: 14, Site: "b", Field: "port",
		Msg: `must be a number, not a string "22"`}, *ie)
	assert.Equal(t, `s.toml:14: site "b": port: must be a number, not a string "22"`, err.Error())
}

// TestLoadFile: a file that cannot be read is an inventory error too,
// naming the file.
func TestLoadFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "missing.toml"))
	require.ErrorIs(t, err, ErrInventory)
	assert.Contains(t, err.Error(), "missing.toml: cannot read the inventory: no such file or directory")

	big := filepath.Join(t.TempDir(), "big.toml")
	require.NoError(t, os.WriteFile(big, make([]byte, maxInventory+1), 0o600))
	_, err = Load(big)
	require.ErrorIs(t, err, ErrInventory)
	assert.Contains(t, err.Error(), "larger than")
}

// TestAdHoc: a target from the command line is named as written.
func TestAdHoc(t *testing.T) {
	s, err := AdHoc("ssh://deploy@web1:22/var/www/acme/")
	require.NoError(t, err)
	assert.Equal(t, Site{Name: "ssh://deploy@web1:22/var/www/acme/", Target: "ssh://deploy@web1:22/var/www/acme"}, s)
	_, err = AdHoc("deploy@web1")
	assert.Error(t, err)
	assert.False(t, errors.Is(err, ErrInventory))
}
