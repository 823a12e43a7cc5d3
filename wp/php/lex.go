package php

import (
	"bytes"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The lexer knows just enough of PHP's tokens to find calls and
// assignments in code, past comments, strings and inline HTML: it is not a
// PHP parser, and it never fails (what it cannot read becomes an operator
// token of one byte, or a string that is not a literal).

// TokenKind is the kind of a Token.
type TokenKind uint8

// The kinds of Token that Lex returns.
const (
	TokenIdent  TokenKind = iota + 1 // a name: define, true, getenv, __DIR__
	TokenVar                         // $name
	TokenString                      // '...', "...", `...`, a heredoc or nowdoc
	TokenNumber                      // 42, 0x2A, 1.5e3
	TokenOp                          // an operator or punctuation
	TokenClose                       // ?>, which ends a statement
)

// Token is one token of PHP code.
type Token struct {
	// Start and End are the token's byte offsets in the source.
	Start, End int
	// Text is a name, an operator, a number's text or a literal string's
	// value; "" for a string that is not a literal.
	Text string
	// Kind is what the token is: a name, a variable, a string, a number,
	// an operator or ?>.
	Kind TokenKind
	// Lit is true for a string without interpolation and for a number PHP
	// accepts: a token whose Value is known without running PHP.
	Lit bool
}

// ops are PHP's operators of more than one byte, longest first; any other
// byte is an operator of its own.
var ops = []string{
	"===", "!==", "<=>", "**=", "...", "<<=", ">>=", "??=", "?->",
	"==", "!=", "<>", "<=", ">=", "=>", "->", "::", "++", "--", "+=", "-=", "*=", "/=",
	".=", "%=", "&=", "|=", "^=", "&&", "||", "??", "<<", ">>", "**", "#[",
}

type lexer struct {
	src  []byte
	pos  int
	toks []Token
}

// Lex returns the tokens of the PHP code in src, past inline HTML,
// comments and whitespace, and whether src has any PHP code (a <?php or <?=
// tag) at all.
func Lex(src []byte) ([]Token, bool) {
	l := &lexer{src: src, toks: make([]Token, 0, len(src)/4)} // wp-config.php has a token every 4-8 bytes
	php := false
	for l.pos < len(src) {
		at, n := openTag(src[l.pos:])
		if at < 0 {
			break
		}
		php = true
		l.pos += at + n
		l.code()
	}
	return l.toks, php
}

// openTag finds the first <?php (followed by a space or the end) or <?= in
// inline HTML and returns its offset and length.
func openTag(b []byte) (int, int) {
	for off := 0; ; {
		i := bytes.Index(b[off:], []byte("<?"))
		if i < 0 {
			return -1, 0
		}
		i += off
		rest := b[i+2:]
		switch {
		case len(rest) > 0 && rest[0] == '=':
			return i, 3
		case len(rest) >= 3 && strings.EqualFold(string(rest[:3]), "php") && (len(rest) == 3 || isSpace(rest[3])):
			return i, 5
		}
		off = i + 2
	}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func isLabelStart(c byte) bool {
	return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c >= 0x80
}

func isLabel(c byte) bool { return isLabelStart(c) || '0' <= c && c <= '9' }

func (l *lexer) emit(kind TokenKind, start int, text string, lit bool) {
	l.toks = append(l.toks, Token{Kind: kind, Start: start, End: l.pos, Text: text, Lit: lit})
}

func (l *lexer) peek(off int) byte {
	if l.pos+off < len(l.src) {
		return l.src[l.pos+off]
	}
	return 0
}

// code lexes PHP code up to ?> or the end.
func (l *lexer) code() {
	src := l.src
	for l.pos < len(src) {
		start, c := l.pos, src[l.pos]
		switch {
		case isSpace(c) || c == '\f' || c == '\v':
			l.pos++
		case c == '?' && l.peek(1) == '>':
			l.pos += 2
			l.emit(TokenClose, start, "?>", false)
			if l.peek(0) == '\n' {
				l.pos++
			} else if l.peek(0) == '\r' && l.peek(1) == '\n' {
				l.pos += 2
			}
			return
		case c == '#' && l.peek(1) != '[' || c == '/' && l.peek(1) == '/':
			l.lineComment()
		case c == '/' && l.peek(1) == '*':
			if end := bytes.Index(src[l.pos+2:], []byte("*/")); end >= 0 {
				l.pos += 2 + end + 2
			} else {
				l.pos = len(src)
			}
		case c == '\'':
			l.singleQuoted()
		case c == '"':
			l.doubleQuoted()
		case c == '`':
			l.pos++
			for l.pos < len(src) && src[l.pos] != '`' {
				if src[l.pos] == '\\' {
					l.pos++
				}
				l.pos++
			}
			l.pos = min(l.pos+1, len(src))
			l.emit(TokenString, start, "", false)
		case c == '<' && l.heredoc():
		case c == '$' && isLabelStart(l.peek(1)):
			l.pos++
			for l.pos < len(src) && isLabel(src[l.pos]) {
				l.pos++
			}
			l.emit(TokenVar, start, string(src[start:l.pos]), false)
		case isLabelStart(c):
			for l.pos < len(src) && isLabel(src[l.pos]) {
				l.pos++
			}
			l.emit(TokenIdent, start, string(src[start:l.pos]), false)
		case '0' <= c && c <= '9' || c == '.' && '0' <= l.peek(1) && l.peek(1) <= '9':
			l.number()
		default:
			op := string(c)
			for _, o := range ops {
				if bytes.HasPrefix(src[l.pos:], []byte(o)) {
					op = o
					break
				}
			}
			l.pos += len(op)
			l.emit(TokenOp, start, op, false)
		}
	}
}

// lineComment skips a // or # comment, which ends at a newline or at ?>.
func (l *lexer) lineComment() {
	for l.pos < len(l.src) && l.src[l.pos] != '\n' {
		if l.src[l.pos] == '?' && l.peek(1) == '>' {
			return
		}
		l.pos++
	}
}

// singleQuoted lexes a '...' string, where only \' and \\ are escapes.
func (l *lexer) singleQuoted() {
	start := l.pos
	var b []byte
	for l.pos++; l.pos < len(l.src); l.pos++ {
		c := l.src[l.pos]
		switch {
		case c == '\\' && (l.peek(1) == '\'' || l.peek(1) == '\\'):
			l.pos++
			b = append(b, l.src[l.pos])
		case c == '\'':
			l.pos++
			l.emit(TokenString, start, string(b), true)
			return
		default:
			b = append(b, c)
		}
	}
	l.emit(TokenString, start, "", false) // unterminated
}

// doubleQuoted lexes a "..." string with PHP's escapes. One with
// interpolation ($var, {$expr}, ${expr}) is not a literal.
func (l *lexer) doubleQuoted() {
	start := l.pos
	var b []byte
	lit := true
	for l.pos++; l.pos < len(l.src); {
		c := l.src[l.pos]
		switch {
		case c == '"':
			l.pos++
			if !lit {
				l.emit(TokenString, start, "", false)
			} else {
				l.emit(TokenString, start, string(b), true)
			}
			return
		case c == '\\':
			var ok bool
			if b, ok = l.escape(b); !ok {
				lit = false
			}
		case c == '$' && (isLabelStart(l.peek(1)) || l.peek(1) == '{'), c == '{' && l.peek(1) == '$':
			lit = false
			b = append(b, c)
			l.pos++
		default:
			b = append(b, c)
			l.pos++
		}
	}
	l.emit(TokenString, start, "", false) // unterminated
}

// simpleEscapes are the one-letter escapes of a double-quoted string.
var simpleEscapes = map[byte]byte{'n': '\n', 't': '\t', 'r': '\r', 'v': '\v', 'e': 0x1b, 'f': '\f', '\\': '\\', '$': '$', '"': '"'}

// escape decodes the escape sequence at l.pos in a double-quoted string,
// appending it to b. It reports false for one that is a PHP compile error
// (a bad \u{...}).
func (l *lexer) escape(b []byte) ([]byte, bool) {
	n := l.peek(1)
	l.pos += 2
	if e, ok := simpleEscapes[n]; ok {
		return append(b, e), true
	}
	switch {
	case n == 0 && l.pos > len(l.src):
		l.pos = len(l.src)
		return append(b, '\\'), true
	case '0' <= n && n <= '7':
		v := int(n - '0')
		for k := 0; k < 2 && '0' <= l.peek(0) && l.peek(0) <= '7'; k++ {
			v = v*8 + int(l.peek(0)-'0')
			l.pos++
		}
		return append(b, byte(v)), true // PHP wraps \400 and above to a byte
	case n == 'x' && hexDigit(l.peek(0)) >= 0:
		v := hexDigit(l.peek(0))
		l.pos++
		if d := hexDigit(l.peek(0)); d >= 0 {
			v = v*16 + d
			l.pos++
		}
		return append(b, byte(v)), true
	case n == 'u' && l.peek(0) == '{':
		end := l.pos + 1
		for end < len(l.src) && hexDigit(l.src[end]) >= 0 {
			end++
		}
		digits := string(l.src[l.pos+1 : end])
		if end >= len(l.src) || l.src[end] != '}' {
			return b, false // PHP: invalid UTF-8 codepoint escape sequence
		}
		l.pos = end + 1
		cp, err := strconv.ParseUint(digits, 16, 32)
		if err != nil || cp > 0x10FFFF {
			return b, false
		}
		return appendUTF8(b, rune(cp)), true
	}
	return append(b, '\\', n), true
}

// appendUTF8 encodes r as PHP's \u{} does: UTF-8, surrogates included.
func appendUTF8(b []byte, r rune) []byte {
	if r >= 0xD800 && r <= 0xDFFF {
		return append(b, byte(0xE0|r>>12), byte(0x80|(r>>6)&0x3F), byte(0x80|r&0x3F))
	}
	return utf8.AppendRune(b, r)
}

func hexDigit(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// heredoc lexes a heredoc or nowdoc at l.pos, if there is one. Neither is
// taken as a literal.
func (l *lexer) heredoc() bool {
	src, start := l.src, l.pos
	i := l.pos + 3
	if !bytes.HasPrefix(src[l.pos:], []byte("<<<")) {
		return false
	}
	for i < len(src) && (src[i] == ' ' || src[i] == '\t') {
		i++
	}
	quote := byte(0)
	if i < len(src) && (src[i] == '\'' || src[i] == '"') {
		quote = src[i]
		i++
	}
	from := i
	if i >= len(src) || !isLabelStart(src[i]) {
		return false
	}
	for i < len(src) && isLabel(src[i]) {
		i++
	}
	label := string(src[from:i])
	if quote != 0 {
		if i >= len(src) || src[i] != quote {
			return false
		}
		i++
	}
	if i < len(src) && src[i] == '\r' {
		i++
	}
	if i >= len(src) || src[i] != '\n' {
		return false
	}
	// The body ends at a line holding the label, maybe indented, followed
	// by something that is not part of a name.
	for i < len(src) {
		i++ // past the '\n'
		j := i
		for j < len(src) && (src[j] == ' ' || src[j] == '\t') {
			j++
		}
		if bytes.HasPrefix(src[j:], []byte(label)) && (j+len(label) == len(src) || !isLabel(src[j+len(label)])) {
			l.pos = j + len(label)
			l.emit(TokenString, start, "", false)
			return true
		}
		nl := bytes.IndexByte(src[i:], '\n')
		if nl < 0 {
			break
		}
		i += nl
	}
	l.pos = len(src)
	l.emit(TokenString, start, "", false) // unterminated
	return true
}

// number lexes an int or float literal as PHP does: decimal, 0x hex, 0b
// binary, 0o or leading-0 octal, with _ between digits; an int too large
// for 64 bits becomes a float.
func (l *lexer) number() {
	src, start := l.src, l.pos
	digitsOf := func(ok func(byte) bool) {
		for l.pos < len(src) && (ok(src[l.pos]) || src[l.pos] == '_') {
			l.pos++
		}
	}
	isDec := func(c byte) bool { return '0' <= c && c <= '9' }
	base := 10
	if src[l.pos] == '0' {
		switch l.peek(1) | 0x20 {
		case 'x':
			base = 16
		case 'b':
			base = 2
		case 'o':
			base = 8
		}
		if d := hexDigit(l.peek(2)); d < 0 || d >= base {
			base = 10 // "0x" alone is 0 and a name
		}
	}
	if base != 10 {
		l.pos += 2
		digitsOf(func(c byte) bool { return hexDigit(c) >= 0 && hexDigit(c) < base })
	} else {
		digitsOf(isDec)
		if l.peek(0) == '.' && (l.pos > start || isDec(l.peek(1))) {
			l.pos++
			digitsOf(isDec)
		}
		if c := l.peek(0) | 0x20; c == 'e' {
			k := 1
			if l.peek(1) == '+' || l.peek(1) == '-' {
				k = 2
			}
			if isDec(l.peek(k)) {
				l.pos += k
				digitsOf(isDec)
			}
		}
	}
	text := string(src[start:l.pos])
	_, ok := numberValue(text)
	l.emit(TokenNumber, start, text, ok)
}
