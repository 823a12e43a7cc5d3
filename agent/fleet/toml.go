package fleet

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// keyKind is the TOML type a key takes.
type keyKind int

const (
	kindString keyKind = iota
	kindStrings
	kindInt
	kindBool
)

// siteKey is a key of a [[site]] table.
type siteKey struct {
	name    string
	kind    keyKind
	perSite bool // not in [defaults]: why, when someone puts it there
	whyOwn  string
}

// siteKeys are the keys of a [[site]] table, in the order the errors list
// them.
var siteKeys = []siteKey{
	{name: "name", perSite: true, whyOwn: "names are unique"},
	{name: "target", perSite: true, whyOwn: "each site has its own"},
	{name: "url", perSite: true, whyOwn: "each site has its own"},
	{name: "resolve"},
	{name: "probe", kind: kindStrings},
	{name: "tags", kind: kindStrings},
	{name: "user"},
	{name: "port", kind: kindInt},
	{name: "identity"},
	{name: "known_hosts"},
	{name: "accept_new_host_key", kind: kindBool},
}

func knownKeys() string {
	names := make([]string, len(siteKeys))
	for i, k := range siteKeys {
		names[i] = k.name
	}
	return strings.Join(names, ", ")
}

func lookupKey(name string) (siteKey, bool) {
	for _, k := range siteKeys {
		if k.name == name {
			return k, true
		}
	}
	return siteKey{}, false
}

// ParseTOML reads a TOML inventory: [defaults], then [[site]] tables.
// file names it in errors, and relative paths in it are taken from its
// folder. Errors are *InventoryError.
func ParseTOML(file string, src []byte) (*Inventory, error) {
	var raw map[string]any
	if _, err := toml.Decode(string(src), &raw); err != nil {
		return nil, tomlSyntaxError(file, err)
	}
	layout := scanTOML(src)
	dir, home := fileDirs(file)
	inv := &Inventory{File: file}

	top := sortedKeys(raw, layout.root.keys)
	for _, k := range top {
		if k != "defaults" && k != "site" {
			return nil, &InventoryError{File: file, Line: layout.root.keys[k], Field: k,
				Msg: "unknown key: an inventory holds a [defaults] table and [[site]] tables"}
		}
	}

	type setting struct {
		key   string
		value any
		line  int
	}
	var defaults []setting
	if v, ok := raw["defaults"]; ok {
		m, ok := v.(map[string]any)
		line := layout.root.keys["defaults"]
		if !ok {
			return nil, &InventoryError{File: file, Line: line, Field: "defaults",
				Msg: fmt.Sprintf("must be a table ([defaults]), not %s", tomlType(v))}
		}
		lines := map[string]int{}
		if layout.defaults != nil {
			lines, line = layout.defaults.keys, layout.defaults.line
		}
		for _, k := range sortedKeys(m, lines) {
			l := lines[k]
			if l == 0 {
				l = line
			}
			sk, known := lookupKey(k)
			switch {
			case !known:
				return nil, &InventoryError{File: file, Line: l, Field: "defaults." + k,
					Msg: "unknown key (known: " + knownKeys() + ")"}
			case sk.perSite:
				return nil, &InventoryError{File: file, Line: l, Field: "defaults." + k,
					Msg: "cannot be a default: " + sk.whyOwn}
			}
			if _, err := checkKind(sk, m[k]); err != nil {
				return nil, &InventoryError{File: file, Line: l, Field: "defaults." + k, Msg: err.Error()}
			}
			defaults = append(defaults, setting{k, m[k], l})
		}
	}

	var tables []map[string]any
	if v, ok := raw["site"]; ok {
		line := layout.root.keys["site"]
		switch v := v.(type) {
		case []map[string]any:
			tables = v
		case []any:
			for _, e := range v {
				m, ok := e.(map[string]any)
				if !ok {
					return nil, &InventoryError{File: file, Line: line, Field: "site",
						Msg: fmt.Sprintf("must hold tables ([[site]]); it holds %s", tomlType(e))}
				}
				tables = append(tables, m)
			}
		default:
			return nil, &InventoryError{File: file, Line: line, Field: "site",
				Msg: fmt.Sprintf("must be [[site]] tables, not %s (write [[site]], with two brackets)", tomlType(v))}
		}
	}

	// The lines of the n-th site, when the scan found as many [[site]]
	// headers as the decoder found sites; else the line of "site".
	siteLines := func(n int) (int, map[string]int) {
		if len(layout.sites) == len(tables) {
			return layout.sites[n].line, layout.sites[n].keys
		}
		return layout.root.keys["site"], map[string]int{}
	}

	seen := map[string]int{}
	for n, m := range tables {
		line, keyLines := siteLines(n)
		sp := &spec{line: line, lines: map[string]int{}, own: map[string]bool{}, fields: map[string]string{}}
		for _, d := range defaults {
			sk, _ := lookupKey(d.key)
			v, _ := checkKind(sk, d.value)
			setSpec(sp, d.key, v)
			sp.lines[d.key], sp.fields[d.key] = d.line, "defaults."+d.key
		}
		// The name, or the target it defaults to, names the site in the
		// errors about its other keys.
		if s, ok := m["name"].(string); ok {
			sp.name = s
		} else if s, ok := m["target"].(string); ok {
			sp.name = s
		}
		for _, k := range sortedKeys(m, keyLines) {
			l := keyLines[k]
			if l == 0 {
				l = line
			}
			fail := func(msg string) error {
				name := sp.name
				if k == "name" {
					name = ""
				}
				return &InventoryError{File: file, Line: l, Site: name, Field: k, Msg: msg}
			}
			sk, known := lookupKey(k)
			if !known {
				return nil, fail("unknown key (known: " + knownKeys() + ")")
			}
			v, err := checkKind(sk, m[k])
			if err != nil {
				return nil, fail(err.Error())
			}
			if (k == "name" || k == "target") && v == "" {
				return nil, fail("is empty")
			}
			setSpec(sp, k, v)
			sp.lines[k], sp.own[k] = l, true
			delete(sp.fields, k)
		}
		if _, ok := m["name"]; !ok {
			sp.name = ""
		}
		s, err := build(file, dir, home, sp)
		if err != nil {
			return nil, err
		}
		if prev, dup := seen[s.Name]; dup {
			if sp.own["name"] {
				return nil, &InventoryError{File: file, Line: sp.fieldLine("name"), Field: "name",
					Msg: fmt.Sprintf("%q is the name of the site at line %d too: give each site its own name", s.Name, prev)}
			}
			return nil, &InventoryError{File: file, Line: sp.fieldLine("target"), Field: "target",
				Msg: fmt.Sprintf("names this site, which has no name, and the site at line %d is named %q too: give each site its own name", prev, s.Name)}
		}
		seen[s.Name] = s.Line
		inv.Sites = append(inv.Sites, s)
	}
	return inv, nil
}

// checkKind returns v as the Go type of k's kind, or says what is wrong.
func checkKind(k siteKey, v any) (any, error) {
	switch k.kind {
	case kindString:
		if s, ok := v.(string); ok {
			return s, nil
		}
		return nil, fmt.Errorf("must be a string, not %s", tomlType(v))
	case kindStrings:
		var out []string
		switch v := v.(type) {
		case []string:
			return slices.Clone(v), nil
		case []any:
			for _, e := range v {
				s, ok := e.(string)
				if !ok {
					return nil, fmt.Errorf("must be a list of strings; it holds %s", tomlType(e))
				}
				out = append(out, s)
			}
			return out, nil
		}
		return nil, fmt.Errorf("must be a list of strings, like [\"a\", \"b\"], not %s", tomlType(v))
	case kindInt:
		if n, ok := v.(int64); ok {
			if n < 1 || n > 65535 {
				return nil, fmt.Errorf("%d is not a port: want a number from 1 to 65535", n)
			}
			return int(n), nil
		}
		return nil, fmt.Errorf("must be a number, not %s", tomlType(v))
	case kindBool:
		if b, ok := v.(bool); ok {
			return b, nil
		}
		return nil, fmt.Errorf("must be true or false, not %s", tomlType(v))
	}
	return nil, errors.New("unknown kind")
}

// setSpec sets the field of sp that key names to v, of its kind.
func setSpec(sp *spec, key string, v any) {
	switch key {
	case "name":
		sp.name = v.(string)
	case "target":
		sp.target = v.(string)
	case "url":
		sp.url = v.(string)
	case "resolve":
		sp.resolve = v.(string)
	case "probe":
		sp.probe = v.([]string)
	case "tags":
		sp.tags = v.([]string)
	case "user":
		sp.user = v.(string)
	case "port":
		sp.port = v.(int)
	case "identity":
		sp.identity = v.(string)
	case "known_hosts":
		sp.knownHosts = v.(string)
	case "accept_new_host_key":
		sp.acceptNew = v.(bool)
	}
}

// tomlType names the TOML type of a decoded value, for errors.
func tomlType(v any) string {
	switch v := v.(type) {
	case string:
		return "a string " + strconv.Quote(v)
	case int64:
		return "the number " + strconv.FormatInt(v, 10)
	case float64:
		return "a float"
	case bool:
		return "a boolean"
	case []any, []map[string]any, []string:
		return "a list"
	case map[string]any:
		return "a table"
	}
	return "a date or time"
}

// sortedKeys returns the keys of m in the order of their lines, then by
// name, so that the first error of a file is always the same one.
func sortedKeys[V any](m map[string]V, lines map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		if la, lb := lines[a], lines[b]; la != lb {
			return la - lb
		}
		return strings.Compare(a, b)
	})
	return keys
}

// lineRE finds the line in a decoder error that is not a ParseError.
var lineRE = regexp.MustCompile(`line (\d+)`)

// tomlSyntaxError turns the decoder's error into an *InventoryError.
func tomlSyntaxError(file string, err error) error {
	var pe toml.ParseError
	if errors.As(err, &pe) {
		return &InventoryError{File: file, Line: pe.Position.Line, Msg: "TOML: " + pe.Message}
	}
	ie := &InventoryError{File: file, Msg: strings.TrimPrefix(err.Error(), "toml: ")}
	if m := lineRE.FindStringSubmatch(err.Error()); m != nil {
		ie.Line, _ = strconv.Atoi(m[1])
	}
	return ie
}
