package fleet

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"

	"github.com/wpfix/wpfix/remote"
)

// addSeeds adds the files of testdata/inventory that end in ext.
func addSeeds(f *testing.F, ext string, more ...string) {
	files, _ := filepath.Glob("testdata/inventory/*" + ext)
	files = append(files, more...)
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// checkInventory is what holds of any input: an error is an
// *InventoryError on a line of the file; an accepted inventory's sites
// have targets that parse and names that are unique.
func checkInventory(t *testing.T, src []byte, inv *Inventory, err error) {
	// YAML counts a lone \r as a line break too: an upper bound.
	lines := strings.Count(string(src), "\n") + strings.Count(string(src), "\r") + 1
	if err != nil {
		var ie *InventoryError
		if !errors.As(err, &ie) || !errors.Is(err, ErrInventory) {
			t.Fatalf("error %v (%T) is not an *InventoryError", err, err)
		}
		if ie.Line < 0 || ie.Line > lines+1 {
			t.Fatalf("error on line %d of a %d-line file: %v", ie.Line, lines, err)
		}
		return
	}
	seen := map[string]bool{}
	for _, s := range inv.Sites {
		if seen[s.Name] {
			t.Fatalf("name %q twice", s.Name)
		}
		seen[s.Name] = true
		if err := checkName(s.Name); err != nil {
			t.Fatalf("name %q accepted: %v", s.Name, err)
		}
		tgt, err := remote.ParseTarget(s.Target)
		if err != nil {
			t.Fatalf("site %q: target %q accepted but does not parse: %v", s.Name, s.Target, err)
		}
		if tgt.String() != s.Target {
			t.Fatalf("site %q: target %q is not as remote writes it (%q)", s.Name, s.Target, tgt.String())
		}
		if s.Line < 1 || s.Line > lines {
			t.Fatalf("site %q on line %d of a %d-line file", s.Name, s.Line, lines)
		}
	}
}

// FuzzTOMLInventory: ParseTOML never panics, and what it accepts can be
// used (go test ./agent/fleet -fuzz FuzzTOMLInventory).
func FuzzTOMLInventory(f *testing.F) {
	addSeeds(f, ".toml", "../../configs/sites.example.toml")
	for _, src := range trickyTOML {
		f.Add([]byte(src))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		inv, err := ParseTOML("fuzz.toml", src)
		checkInventory(t, src, inv, err)
		checkLayout(t, src)
	})
}

// checkLayout: where the decoder finds [[site]] tables, the scan that
// gives the lines finds as many, each with every key the decoder found in
// it, and [defaults] likewise; so an error names the line of its key.
func checkLayout(t *testing.T, src []byte) {
	var raw map[string]any
	if _, err := toml.Decode(string(src), &raw); err != nil {
		return
	}
	l := scanTOML(src)
	if sites, ok := raw["site"].([]map[string]any); ok && len(l.sites) > 0 {
		if len(l.sites) != len(sites) {
			t.Fatalf("the scan found %d [[site]] tables, the decoder %d", len(l.sites), len(sites))
		}
		for n, m := range sites {
			for k := range m {
				if _, ok := l.sites[n].keys[k]; !ok {
					t.Fatalf("site %d: key %q not found by the scan (found %v)", n+1, k, l.sites[n].keys)
				}
			}
		}
	}
	if d, ok := raw["defaults"].(map[string]any); ok && l.defaults != nil {
		for k := range d {
			if _, ok := l.defaults.keys[k]; !ok {
				t.Fatalf("defaults: key %q not found by the scan (found %v)", k, l.defaults.keys)
			}
		}
	}
	for k := range raw {
		if _, ok := l.root.keys[k]; !ok {
			t.Fatalf("top-level key %q not found by the scan (found %v)", k, l.root.keys)
		}
	}
}

// FuzzAliases: ParseAliases never panics, and what it accepts can be used
// (go test ./agent/fleet -fuzz FuzzAliases).
func FuzzAliases(f *testing.F) {
	addSeeds(f, ".yml")
	f.Fuzz(func(t *testing.T, src []byte) {
		if len(src) > 64<<10 {
			return // YAML's own limits are not what is tested here
		}
		inv, err := ParseAliases("fuzz.yml", src)
		checkInventory(t, src, inv, err)
		if q := quoteAliases(src); strings.Count(string(q), "\n") != strings.Count(string(src), "\n") {
			t.Fatalf("quoting changed the lines: %q → %q", src, q)
		}
	})
}
