package php

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// MaxDepth is how deeply arrays and objects may nest in what Unserialize
// reads, as PHP's unserialize_max_depth default.
const MaxDepth = 4096

// UnserializeError says where and why Unserialize rejected its input.
type UnserializeError struct {
	Offset int    // byte offset of the problem in the input
	Reason string // what is wrong there
}

// Error says where in the input and what is wrong.
func (e *UnserializeError) Error() string {
	return fmt.Sprintf("unserialize PHP value: at byte %d: %s", e.Offset, e.Reason)
}

// Unserialize reads one PHP-serialized value that fills all of b: what
// WordPress stores in an option or meta value. It accepts what PHP's
// serialize writes: ints, string lengths and counts in canonical decimal
// (no sign, no leading zeros), distinct array keys, floats in any form PHP
// reads (their text is kept, so old "0.10000000000000001" values round
// trip). Objects, enums and references are kept opaque (KindOpaque). So
// Serialize(v) returns b exactly. Arrays and objects may nest MaxDepth
// deep.
func Unserialize(b []byte) (Value, error) {
	p := &unserializer{b: b}
	v, err := p.value()
	if err != nil {
		return Value{}, err
	}
	if p.pos != len(b) {
		return Value{}, p.fail("trailing bytes after the value")
	}
	return v, nil
}

type unserializer struct {
	b     []byte
	pos   int
	depth int
}

func (p *unserializer) fail(format string, args ...any) error {
	return &UnserializeError{Offset: p.pos, Reason: fmt.Sprintf(format, args...)}
}

// expect consumes s or fails.
func (p *unserializer) expect(s string) error {
	if !bytes.HasPrefix(p.b[p.pos:], []byte(s)) {
		if p.pos >= len(p.b) {
			return p.fail("unexpected end, want %q", s)
		}
		return p.fail("want %q", s)
	}
	p.pos += len(s)
	return nil
}

// digits consumes an optional '-' (if signed) and decimal digits in
// canonical form and returns them.
func (p *unserializer) digits(signed bool) (string, error) {
	start := p.pos
	if signed && p.pos < len(p.b) && p.b[p.pos] == '-' {
		p.pos++
	}
	d := p.pos
	for p.pos < len(p.b) && p.b[p.pos] >= '0' && p.b[p.pos] <= '9' {
		p.pos++
	}
	s := string(p.b[start:p.pos])
	switch {
	case p.pos == d:
		p.pos = start
		return "", p.fail("want a number")
	case p.b[d] == '0' && (p.pos-d > 1 || d > start):
		p.pos = start
		return "", p.fail("number %q not in canonical form", s)
	}
	return s, nil
}

func (p *unserializer) int() (int64, error) {
	start := p.pos
	s, err := p.digits(true)
	if err != nil {
		return 0, err
	}
	i, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		p.pos = start
		return 0, p.fail("int %s out of range", s)
	}
	return i, nil
}

// length reads a length or count, which cannot exceed the input's size.
func (p *unserializer) length() (int, error) {
	start := p.pos
	s, err := p.digits(false)
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(s)
	if err != nil || n > len(p.b) {
		p.pos = start
		return 0, p.fail("length %s larger than the input", s)
	}
	return n, nil
}

// quoted reads n bytes between double quotes.
func (p *unserializer) quoted(n int) (string, error) {
	if err := p.expect(`"`); err != nil {
		return "", err
	}
	if len(p.b)-p.pos < n {
		return "", p.fail("string of %d bytes runs past the end", n)
	}
	s := string(p.b[p.pos : p.pos+n])
	p.pos += n
	if err := p.expect(`"`); err != nil {
		return "", err
	}
	return s, nil
}

func (p *unserializer) value() (Value, error) {
	if p.pos >= len(p.b) {
		return Value{}, p.fail("unexpected end, want a value")
	}
	start := p.pos
	switch p.b[p.pos] {
	case 'N':
		return Value{}, p.expect("N;")
	case 'b':
		switch {
		case bytes.HasPrefix(p.b[p.pos:], []byte("b:0;")):
			p.pos += 4
			return Bool(false), nil
		case bytes.HasPrefix(p.b[p.pos:], []byte("b:1;")):
			p.pos += 4
			return Bool(true), nil
		}
		return Value{}, p.fail(`want "b:0;" or "b:1;"`)
	case 'i':
		p.pos++
		if err := p.expect(":"); err != nil {
			return Value{}, err
		}
		i, err := p.int()
		if err != nil {
			return Value{}, err
		}
		return Int(i), p.expect(";")
	case 'd':
		p.pos++
		if err := p.expect(":"); err != nil {
			return Value{}, err
		}
		end := bytes.IndexByte(p.b[p.pos:], ';')
		if end < 0 {
			return Value{}, p.fail("float without ';'")
		}
		text := string(p.b[p.pos : p.pos+end])
		f, ok := parsePHPFloat(text)
		if !ok {
			return Value{}, p.fail("bad float %q", text)
		}
		p.pos += end + 1
		return Value{kind: KindFloat, f: f, s: text}, nil
	case 's':
		s, err := p.string()
		return String(s), err
	case 'a':
		return p.array()
	case 'O', 'C':
		if err := p.object(); err != nil {
			return Value{}, err
		}
		return Value{kind: KindOpaque, s: string(p.b[start:p.pos])}, nil
	case 'E':
		p.pos++
		if err := p.expect(":"); err != nil {
			return Value{}, err
		}
		n, err := p.length()
		if err != nil {
			return Value{}, err
		}
		if err := p.expect(":"); err != nil {
			return Value{}, err
		}
		name, err := p.quoted(n)
		if err != nil {
			return Value{}, err
		}
		if c := strings.IndexByte(name, ':'); c <= 0 || c == len(name)-1 {
			p.pos = start
			return Value{}, p.fail("enum %q is not Class:Case", name)
		}
		if err := p.expect(";"); err != nil {
			return Value{}, err
		}
		return Value{kind: KindOpaque, s: string(p.b[start:p.pos])}, nil
	case 'r', 'R':
		p.pos++
		if err := p.expect(":"); err != nil {
			return Value{}, err
		}
		if n, err := p.length(); err != nil {
			return Value{}, err
		} else if n == 0 {
			p.pos = start
			return Value{}, p.fail("reference to value 0")
		}
		if err := p.expect(";"); err != nil {
			return Value{}, err
		}
		return Value{kind: KindOpaque, s: string(p.b[start:p.pos])}, nil
	}
	return Value{}, p.fail("unknown type %q", p.b[p.pos])
}

func (p *unserializer) string() (string, error) {
	if err := p.expect("s:"); err != nil {
		return "", err
	}
	n, err := p.length()
	if err != nil {
		return "", err
	}
	if err := p.expect(":"); err != nil {
		return "", err
	}
	s, err := p.quoted(n)
	if err != nil {
		return "", err
	}
	return s, p.expect(";")
}

// key reads an array key or object property name: i: or s:.
func (p *unserializer) key() (Key, error) {
	if p.pos < len(p.b) {
		switch p.b[p.pos] {
		case 'i':
			p.pos++
			if err := p.expect(":"); err != nil {
				return Key{}, err
			}
			i, err := p.int()
			if err != nil {
				return Key{}, err
			}
			return IntKey(i), p.expect(";")
		case 's':
			s, err := p.string()
			return Key{s: s, isStr: true}, err
		}
	}
	return Key{}, p.fail("want an int or string key")
}

// members reads n keys and values up to the closing brace of an array or
// object, rejecting keys that PHP would take as equal.
func (p *unserializer) members(n int) ([]Entry, error) {
	p.depth++
	if p.depth > MaxDepth {
		return nil, p.fail("nested deeper than %d", MaxDepth)
	}
	// Each entry takes at least 6 bytes ("i:0;N;"), so a count cannot
	// make us allocate more than the input's size.
	entries := make([]Entry, 0, min(n, (len(p.b)-p.pos)/6))
	seen := make(map[Key]bool, cap(entries))
	for range n {
		at := p.pos
		k, err := p.key()
		if err != nil {
			return nil, err
		}
		nk := k.normal()
		if seen[nk] {
			p.pos = at
			return nil, p.fail("duplicate key %q", k.String())
		}
		seen[nk] = true
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		entries = append(entries, Entry{Key: k, Value: v})
	}
	p.depth--
	return entries, p.expect("}")
}

func (p *unserializer) array() (Value, error) {
	if err := p.expect("a:"); err != nil {
		return Value{}, err
	}
	n, err := p.length()
	if err != nil {
		return Value{}, err
	}
	if err := p.expect(":{"); err != nil {
		return Value{}, err
	}
	entries, err := p.members(n)
	if err != nil {
		return Value{}, err
	}
	return Value{kind: KindArray, entries: entries}, nil
}

// object checks an O: object (class name, properties) or a C: object
// (class name, opaque data of a given length) and consumes it.
func (p *unserializer) object() error {
	custom := p.b[p.pos] == 'C'
	p.pos++
	if err := p.expect(":"); err != nil {
		return err
	}
	n, err := p.length()
	if err != nil {
		return err
	}
	if err := p.expect(":"); err != nil {
		return err
	}
	at := p.pos
	class, err := p.quoted(n)
	if err != nil {
		return err
	}
	if !validClassName(class) {
		p.pos = at
		return p.fail("bad class name %q", class)
	}
	if err := p.expect(":"); err != nil {
		return err
	}
	if n, err = p.length(); err != nil {
		return err
	}
	if err := p.expect(":{"); err != nil {
		return err
	}
	if custom {
		if len(p.b)-p.pos < n {
			return p.fail("object data of %d bytes runs past the end", n)
		}
		p.pos += n
		return p.expect("}")
	}
	_, err = p.members(n)
	return err
}

// validClassName reports whether s is a PHP class name, possibly
// namespaced, as PHP's unserialize accepts it.
func validClassName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '_' && c != '\\' && c < 0x80 && !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// parsePHPFloat reads the text of a serialized float as PHP's unserialize
// does: NAN, INF, -INF, or a decimal number with an optional sign, point
// and exponent.
func parsePHPFloat(s string) (float64, bool) {
	switch s {
	case "NAN":
		return math.NaN(), true
	case "INF":
		return math.Inf(1), true
	case "-INF":
		return math.Inf(-1), true
	}
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	intDigits := countDigits(s[i:])
	i += intDigits
	fracDigits := 0
	if i < len(s) && s[i] == '.' {
		i++
		fracDigits = countDigits(s[i:])
		i += fracDigits
	}
	if intDigits == 0 && fracDigits == 0 {
		return 0, false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		n := countDigits(s[i:])
		if n == 0 {
			return 0, false
		}
		i += n
	}
	if i != len(s) {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !isRangeError(err) {
		return 0, false
	}
	return f, true // out of range: ±Inf or 0, as PHP's zend_strtod
}

func isRangeError(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

func countDigits(s string) int {
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return n
}

// IsSerialized reports whether s looks like a PHP-serialized value, as
// WordPress's is_serialized( $data, true ) decides before maybe_unserialize
// unserializes an option. It checks the shape only; Unserialize checks the
// rest.
func IsSerialized(s string) bool {
	s = strings.Trim(s, " \t\n\r\x00\x0b")
	if s == "N;" {
		return true
	}
	if len(s) < 4 || s[1] != ':' {
		return false
	}
	if last := s[len(s)-1]; last != ';' && last != '}' {
		return false
	}
	switch token := s[0]; token {
	case 's':
		if s[len(s)-2] != '"' {
			return false
		}
		fallthrough
	case 'a', 'O', 'E':
		// ^token:[0-9]+:
		n := countDigits(s[2:])
		return n > 0 && 2+n < len(s) && s[2+n] == ':'
	case 'b', 'i', 'd':
		// ^token:[0-9.E+-]+;$
		body := s[2 : len(s)-1]
		if body == "" || s[len(s)-1] != ';' {
			return false
		}
		for i := 0; i < len(body); i++ {
			if !strings.ContainsRune("0123456789.E+-", rune(body[i])) {
				return false
			}
		}
		return true
	}
	return false
}
