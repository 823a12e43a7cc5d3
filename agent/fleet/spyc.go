package fleet

import (
	"regexp"
	"strings"
)

// WP-CLI reads its config with Spyc, which takes @prod: and [@a, @b]
// unquoted. YAML reserves @ (it cannot start a plain scalar), so a YAML
// parser refuses the files WP-CLI's own documentation shows. quoteAliases
// puts double quotes around each @name where a YAML token starts, for a
// second reading of a file YAML refused as it is. Lines are kept, so
// errors still name the right line; @ inside values (deploy@web1),
// quotes, comments and block scalars is left alone.

// aliasToken is an alias name at the start of a token.
var aliasToken = regexp.MustCompile(`^@[A-Za-z0-9_.-]*`)

// blockScalar ends a line whose value is a block scalar (| or >).
var blockScalar = regexp.MustCompile(`(^|[:\-?]\s+)[|>][0-9+-]*\s*(#.*)?$`)

func quoteAliases(src []byte) []byte {
	if !strings.Contains(string(src), "@") {
		return src
	}
	lines := strings.Split(string(src), "\n")
	blockIndent := -1 // inside a block scalar more indented than this
	for n, line := range lines {
		indent := len(line) - len(strings.TrimLeft(line, " "))
		if blockIndent >= 0 {
			if strings.TrimSpace(line) == "" || indent > blockIndent {
				continue
			}
			blockIndent = -1
		}
		lines[n] = quoteLine(line)
		if blockScalar.MatchString(strings.TrimRight(line, " \t\r")) {
			blockIndent = indent
		}
	}
	return []byte(strings.Join(lines, "\n"))
}

// quoteLine quotes the @names that start a token on one line.
func quoteLine(line string) string {
	if !strings.Contains(line, "@") {
		return line
	}
	var b strings.Builder
	atStart := true
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == ' ' || c == '\t':
			b.WriteByte(c)
			continue
		case atStart && c == '@':
			name := aliasToken.FindString(line[i:])
			b.WriteString(`"` + name + `"`)
			i += len(name) - 1
			atStart = false
			continue
		case c == '#' && (i == 0 || line[i-1] == ' ' || line[i-1] == '\t'):
			b.WriteString(line[i:])
			return b.String()
		case atStart && (c == '"' || c == '\''):
			end := i + 1
			for end < len(line) && line[end] != c {
				if c == '"' && line[end] == '\\' {
					end++
				}
				end++
			}
			end = min(end+1, len(line))
			b.WriteString(line[i:end])
			i = end - 1
			atStart = false
			continue
		}
		b.WriteByte(c)
		next := byte(' ')
		if i+1 < len(line) {
			next = line[i+1]
		}
		switch {
		case c == '[' || c == '{' || c == ',':
			atStart = true
		case (c == '-' || c == '?' || c == ':') && (next == ' ' || next == '\t') && (atStart || c == ':'):
			atStart = true
		default:
			atStart = false
		}
	}
	return b.String()
}
