package fleet

import (
	"strconv"
	"strings"
)

// BurntSushi/toml (v1.6.0) keeps the line of each key to itself: MetaData
// has no exported position, and the ParseError of a valid file does not
// exist. So the lines an error names are found by a scan of the file,
// after the decoder has accepted it: the table headers and the first
// segment of each key, outside strings and multi-line values.

// tomlTable is a table of a TOML file as the scan finds it.
type tomlTable struct {
	path  []string       // nil for the root table
	array bool           // [[path]]
	line  int            // of the header; 1 for the root
	keys  map[string]int // the first segment of each key → its first line
}

// tomlLayout is where the tables and keys of a TOML file are.
type tomlLayout struct {
	root     *tomlTable
	defaults *tomlTable   // [defaults], or nil
	sites    []*tomlTable // each [[site]], with its sub-tables' names as keys
}

// scanTOML finds the tables and keys of src, which the decoder accepted.
func scanTOML(src []byte) tomlLayout {
	root := &tomlTable{line: 1, keys: map[string]int{}}
	tables := []*tomlTable{root}
	cur := root
	var st scanState
	for i, line := range strings.Split(string(src), "\n") {
		n := i + 1
		rest := line
		if st.neutral() {
			trimmed := strings.TrimLeft(line, " \t")
			switch {
			case strings.HasPrefix(trimmed, "["):
				array := strings.HasPrefix(trimmed, "[[")
				h := trimmed[1:]
				if array {
					h = h[1:]
				}
				path, after := scanKey(h)
				cur = &tomlTable{path: path, array: array, line: n, keys: map[string]int{}}
				tables = append(tables, cur)
				rest = strings.TrimPrefix(strings.TrimLeft(after, " \t"), "]")
				if array {
					rest = strings.TrimPrefix(rest, "]")
				}
			case trimmed != "" && trimmed[0] != '#':
				path, after := scanKey(trimmed)
				if len(path) > 0 {
					if _, ok := cur.keys[path[0]]; !ok {
						cur.keys[path[0]] = n
					}
				}
				if eq := strings.IndexByte(after, '='); eq >= 0 {
					rest = after[eq+1:]
				} else {
					rest = ""
				}
			default:
				rest = ""
			}
		}
		st.scan(rest)
	}
	return arrange(tables)
}

// arrange finds [defaults] and the [[site]] tables, and files the
// sub-tables ([site.x], [defaults.x]) under their table as key x.
func arrange(tables []*tomlTable) tomlLayout {
	l := tomlLayout{root: tables[0]}
	file := func(owner, t *tomlTable) {
		if _, ok := owner.keys[t.path[1]]; !ok {
			owner.keys[t.path[1]] = t.line
		}
	}
	for _, t := range tables[1:] {
		switch {
		case len(t.path) == 1 && t.path[0] == "defaults" && !t.array:
			if l.defaults == nil {
				l.defaults = t
			}
		case len(t.path) == 1 && t.path[0] == "site" && t.array:
			l.sites = append(l.sites, t)
		// A sub-table belongs to [defaults], or to the last [[site]]
		// so far, whatever tables come between.
		case len(t.path) > 1 && t.path[0] == "defaults" && l.defaults != nil:
			file(l.defaults, t)
		case len(t.path) > 1 && t.path[0] == "site" && len(l.sites) > 0:
			file(l.sites[len(l.sites)-1], t)
		}
		if len(t.path) > 0 {
			if _, ok := l.root.keys[t.path[0]]; !ok {
				l.root.keys[t.path[0]] = t.line
			}
		}
	}
	return l
}

// scanKey reads a dotted key (bare, "basic" or 'literal' segments) at the
// start of s, and returns its segments and what follows it.
func scanKey(s string) (path []string, rest string) {
	for {
		s = strings.TrimLeft(s, " \t")
		if s == "" {
			return path, s
		}
		var seg string
		switch s[0] {
		case '"':
			end := 1
			for end < len(s) && s[end] != '"' {
				if s[end] == '\\' {
					end++
				}
				end++
			}
			seg, s = unescapeKey(s[1:min(end, len(s))]), s[min(end+1, len(s)):]
		case '\'':
			end := strings.IndexByte(s[1:], '\'')
			if end < 0 {
				return append(path, s[1:]), ""
			}
			seg, s = s[1:1+end], s[2+end:]
		default:
			end := 0
			for end < len(s) && isBareKeyByte(s[end]) {
				end++
			}
			if end == 0 {
				return path, s
			}
			seg, s = s[:end], s[end:]
		}
		path = append(path, seg)
		s = strings.TrimLeft(s, " \t")
		if !strings.HasPrefix(s, ".") {
			return path, s
		}
		s = s[1:]
	}
}

func isBareKeyByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// unescapeKey undoes the escapes of a "basic" key, as TOML writes them:
// \b \t \n \f \r \e \" \\ \xHH \uHHHH \UHHHHHHHH.
func unescapeKey(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 >= len(s) {
			b.WriteByte(s[i])
			continue
		}
		i++
		switch c := s[i]; c {
		case 'b':
			b.WriteByte('\b')
		case 't':
			b.WriteByte('\t')
		case 'n':
			b.WriteByte('\n')
		case 'f':
			b.WriteByte('\f')
		case 'r':
			b.WriteByte('\r')
		case 'e':
			b.WriteByte(0x1b)
		case 'x', 'u', 'U':
			n := map[byte]int{'x': 2, 'u': 4, 'U': 8}[c]
			if i+1+n <= len(s) {
				if r, err := strconv.ParseUint(s[i+1:i+1+n], 16, 32); err == nil {
					b.WriteRune(rune(r))
					i += n
					continue
				}
			}
			b.WriteByte('\\')
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// scanState is where a scan is inside a value that may span lines.
type scanState struct {
	multi string // `"""` or `'''` inside a multi-line string
	depth int    // open [ and {
}

func (st *scanState) neutral() bool { return st.multi == "" && st.depth <= 0 }

// scan moves the state over one line's worth of value text.
func (st *scanState) scan(s string) {
	for i := 0; i < len(s); i++ {
		if st.multi != "" {
			end := closeMulti(s[i:], st.multi)
			if end < 0 {
				return
			}
			st.multi = ""
			i += end - 1
			continue
		}
		switch c := s[i]; c {
		case '#':
			return
		case '[', '{':
			st.depth++
		case ']', '}':
			st.depth--
		case '"', '\'':
			if strings.HasPrefix(s[i:], strings.Repeat(string(c), 3)) {
				st.multi = strings.Repeat(string(c), 3)
				i += 2
				continue
			}
			j := i + 1
			for j < len(s) && s[j] != c {
				if c == '"' && s[j] == '\\' {
					j++
				}
				j++
			}
			i = j
		}
	}
}

// closeMulti returns the index just past the delimiter that closes a
// multi-line string in s (and the up to two quotes that may end its
// content), or -1 when the string goes on past s.
func closeMulti(s, delim string) int {
	for i := 0; i < len(s); i++ {
		if delim == `"""` && s[i] == '\\' {
			i++
			continue
		}
		if strings.HasPrefix(s[i:], delim) {
			end := i + 3
			for k := 0; k < 2 && end < len(s) && s[end] == delim[0]; k++ {
				end++
			}
			return end
		}
	}
	return -1
}
