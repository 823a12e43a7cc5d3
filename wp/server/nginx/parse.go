package nginx

import (
	"strings"

	"github.com/wpfix/wpfix/wp/server/conf"
)

// directive is one directive of an nginx config: its name and
// arguments, where it is, and the directives of its block if it has one.
type directive struct {
	name  string
	args  []string
	file  string
	line  int
	block []directive
}

// token is a word, or one of ";", "{", "}" (quoted false).
type token struct {
	text   string
	quoted bool
	line   int
}

// lex splits a config as ngx_conf_read_token does: words separated
// by spaces, ";" "{" "}" on their own, "#" comments from the start of a
// word to the end of the line, "…" and '…' quotes, backslash escapes.
func lex(src []byte) []token {
	var toks []token
	line := 1
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == '\n':
			line++
			i++
		case c == ' ' || c == '\t' || c == '\r':
			i++
		case c == '#':
			for i < len(src) && src[i] != '\n' {
				i++
			}
		case c == ';' || c == '{' || c == '}':
			toks = append(toks, token{text: string(c), line: line})
			i++
		case c == '"' || c == '\'':
			start := line
			var b strings.Builder
			for i++; i < len(src) && src[i] != c; {
				if src[i] == '\n' {
					line++
				}
				i = lexChar(&b, src, i)
			}
			i++ // the closing quote
			toks = append(toks, token{text: b.String(), quoted: true, line: start})
		default:
			var b strings.Builder
			for i < len(src) && !strings.ContainsRune(" \t\r\n;{}", rune(src[i])) {
				i = lexChar(&b, src, i)
			}
			toks = append(toks, token{text: b.String(), line: line})
		}
	}
	return toks
}

// lexChar copies the character at src[i] to b, or the escape starting
// there as nginx does: \" \' \\ \t \r \n become the character they name,
// any other backslash stays with the character after it. It returns the
// index after what it read.
func lexChar(b *strings.Builder, src []byte, i int) int {
	if src[i] != '\\' || i+1 >= len(src) || src[i+1] == '\n' {
		b.WriteByte(src[i])
		return i + 1
	}
	switch c := src[i+1]; c {
	case '"', '\'', '\\':
		b.WriteByte(c)
	case 't':
		b.WriteByte('\t')
	case 'r':
		b.WriteByte('\r')
	case 'n':
		b.WriteByte('\n')
	default:
		b.WriteByte('\\')
		b.WriteByte(c)
	}
	return i + 2
}

// parseNginx reads a config into directives. It is lenient where nginx
// would refuse to start: words without a ";" at the end of the file are
// dropped, a stray "}" is ignored, blocks left open are closed.
func parse(src []byte, file string) []directive {
	stack := []frame{{}}
	var cur *directive
	for _, t := range lex(src) {
		top := &stack[len(stack)-1]
		switch {
		case !t.quoted && t.text == ";":
			if cur != nil {
				top.dirs = append(top.dirs, *cur)
				cur = nil
			}
		case !t.quoted && t.text == "{":
			owner := directive{file: file, line: t.line}
			if cur != nil {
				owner = *cur
				cur = nil
			}
			stack = append(stack, frame{owner: owner})
		case !t.quoted && t.text == "}":
			cur = nil
			if len(stack) > 1 {
				done := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				stack[len(stack)-1].dirs = append(stack[len(stack)-1].dirs, done.close())
			}
		case cur == nil:
			cur = &directive{name: t.text, file: file, line: t.line}
		default:
			cur.args = append(cur.args, t.text)
		}
	}
	for len(stack) > 1 {
		done := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		stack[len(stack)-1].dirs = append(stack[len(stack)-1].dirs, done.close())
	}
	return stack[0].dirs
}

// frame is a block being read: the directive that opened it and what
// is in it so far.
type frame struct {
	owner directive
	dirs  []directive
}

// close returns the owner with its block, empty but not nil when the
// block is: a block is there even with nothing in it.
func (f frame) close() directive {
	f.owner.block = f.dirs
	if f.owner.block == nil {
		f.owner.block = []directive{}
	}
	return f.owner
}

// loader reads a config and splices its includes in place.
type loader struct {
	files      *conf.Files
	confPrefix string // the main config's folder: includes are relative to it
	reads      int
	warnings   []conf.Warning
}

// load reads file and the files it includes; from is the include that
// names it, nil for the main config. A file that cannot be read is a
// warning at the include (nginx would not start with it).
func (l *loader) load(file string, depth int, from *directive) []directive {
	if l.reads >= conf.MaxFiles || depth > conf.MaxIncludeDepth {
		return nil
	}
	l.reads++
	src, err := l.files.ReadFile(file)
	if err != nil {
		w := conf.Warning{File: file, Message: "could not be read: " + conf.Reason(err)}
		if from != nil {
			w = conf.Warning{File: from.file, Line: from.line, Directive: "include",
				Message: file + " could not be read: " + conf.Reason(err)}
		}
		l.warnings = append(l.warnings, w)
		return nil
	}
	return l.expand(parse(src, file), depth)
}

func (l *loader) expand(dirs []directive, depth int) []directive {
	var out []directive
	for _, d := range dirs {
		if d.name == "include" && len(d.args) == 1 && d.block == nil {
			p := conf.Resolve(l.confPrefix, d.args[0])
			names := []string{p}
			if conf.HasMeta(p) {
				names = l.files.Glob(p)
			}
			for _, n := range names {
				out = append(out, l.load(n, depth+1, &d)...)
			}
			continue
		}
		if d.block != nil {
			d.block = l.expand(d.block, depth)
		}
		out = append(out, d)
	}
	return out
}
