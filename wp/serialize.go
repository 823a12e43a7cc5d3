package wp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Kind is the type of a PHP value.
type Kind uint8

// The kinds of PHP value that Unserialize models. KindNull is the zero
// Kind, so the zero Value is PHP's null.
const (
	KindNull   Kind = iota // null
	KindBool               // true or false
	KindInt                // a 64-bit integer
	KindFloat              // a double, with the text it was written as
	KindString             // a byte string
	KindArray              // an ordered map with int and string keys
	// KindOpaque is a serialized object (O: or C:), enum case (E:) or
	// back-reference (r: or R:), kept as its serialized bytes: it round-trips
	// but has no model. WordPress core's own options hold none.
	KindOpaque
)

var kindNames = [...]string{"null", "bool", "int", "float", "string", "array", "opaque"}

// String returns the kind's name: "null", "bool", "int", "float", "string",
// "array" or "opaque".
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Value is a PHP value as WordPress stores it in an option: null, a bool,
// an int, a float, a byte string, an array (an ordered map) or an opaque
// serialized object. The zero Value is null. Values are immutable: build
// them with Null, Bool, Int, Float, String, Array, List and ListOf, or get
// them from Unserialize, whose result re-serializes to the same bytes.
type Value struct {
	kind    Kind
	b       bool
	i       int64
	f       float64
	s       string // a string's bytes, a float's text, an opaque value's serialized bytes
	entries []Entry
}

// Key is a PHP array key: an int or a string.
type Key struct {
	s     string
	i     int64
	isStr bool
}

// Entry is one key and value of a PHP array.
type Entry struct {
	Key   Key
	Value Value
}

// IntKey returns the int array key i.
func IntKey(i int64) Key { return Key{i: i} }

// StringKey returns the array key PHP uses for s: as in a PHP array, a
// string that is a decimal int in canonical form ("5", "-3", not "05")
// becomes that int key, so StringKey("5") == IntKey(5).
func StringKey(s string) Key {
	if i, ok := phpIntString(s); ok {
		return IntKey(i)
	}
	return Key{s: s, isStr: true}
}

// IsString reports whether k is a string key.
func (k Key) IsString() bool { return k.isStr }

// Int returns k's value and true if k is an int key.
func (k Key) Int() (int64, bool) { return k.i, !k.isStr }

// String returns the key as text: an int key in decimal, a string key as is.
func (k Key) String() string {
	if k.isStr {
		return k.s
	}
	return strconv.FormatInt(k.i, 10)
}

// normal returns the key PHP would use for k: Unserialize keeps a string key
// such as "5" as written, but PHP, and Get, treat it as the int key 5.
func (k Key) normal() Key {
	if k.isStr {
		return StringKey(k.s)
	}
	return k
}

// phpIntString reports whether s is a decimal int as PHP writes it, which a
// PHP array turns into an int key, and returns that int.
func phpIntString(s string) (int64, bool) {
	d := strings.TrimPrefix(s, "-")
	if d == "" || len(d) > 19 || (d[0] == '0' && (len(d) > 1 || len(s) > 1)) {
		return 0, false
	}
	for i := 0; i < len(d); i++ {
		if d[i] < '0' || d[i] > '9' {
			return 0, false
		}
	}
	i, err := strconv.ParseInt(s, 10, 64)
	return i, err == nil
}

// Null returns PHP's null, the zero Value.
func Null() Value { return Value{} }

// Bool returns a PHP bool.
func Bool(b bool) Value { return Value{kind: KindBool, b: b} }

// Int returns a PHP int.
func Int(i int64) Value { return Value{kind: KindInt, i: i} }

// Float returns a PHP float, to be serialized as PHP 7.1 and later write it
// (serialize_precision -1: the shortest text that reads back the same).
func Float(f float64) Value { return Value{kind: KindFloat, f: f, s: phpFloatText(f)} }

// String returns a PHP string holding the bytes of s.
func String(s string) Value { return Value{kind: KindString, s: s} }

// Array returns a PHP array of the entries in order. As in PHP, a later
// entry with the same key as an earlier one replaces its value in place.
func Array(entries ...Entry) Value {
	out := make([]Entry, 0, len(entries))
	index := make(map[Key]int, len(entries))
	for _, e := range entries {
		k := e.Key.normal()
		if i, ok := index[k]; ok {
			out[i].Value = e.Value
			continue
		}
		index[k] = len(out)
		out = append(out, Entry{Key: k, Value: e.Value})
	}
	return Value{kind: KindArray, entries: out}
}

// List returns a PHP list: an array of the values with keys 0, 1, 2...
func List(values ...Value) Value {
	entries := make([]Entry, len(values))
	for i, v := range values {
		entries[i] = Entry{Key: IntKey(int64(i)), Value: v}
	}
	return Value{kind: KindArray, entries: entries}
}

// ListOf returns a PHP list of strings, the shape of the active_plugins
// option.
func ListOf(strs ...string) Value {
	values := make([]Value, len(strs))
	for i, s := range strs {
		values[i] = String(s)
	}
	return List(values...)
}

// Kind returns v's kind.
func (v Value) Kind() Kind { return v.kind }

// AsBool returns v's value and true if v is a bool.
func (v Value) AsBool() (bool, bool) { return v.b, v.kind == KindBool }

// AsInt returns v's value and true if v is an int.
func (v Value) AsInt() (int64, bool) { return v.i, v.kind == KindInt }

// AsFloat returns v's value and true if v is a float.
func (v Value) AsFloat() (float64, bool) { return v.f, v.kind == KindFloat }

// AsString returns v's bytes and true if v is a string.
func (v Value) AsString() (string, bool) {
	if v.kind != KindString {
		return "", false
	}
	return v.s, true
}

// Len returns the number of entries of an array, and 0 for other kinds.
func (v Value) Len() int { return len(v.entries) }

// Entries returns a copy of an array's entries in order, and nil for other
// kinds.
func (v Value) Entries() []Entry { return slices.Clone(v.entries) }

// Get returns the value of an array's entry with key k, as PHP's $v[k]
// finds it.
func (v Value) Get(k Key) (Value, bool) {
	k = k.normal()
	for _, e := range v.entries {
		if e.Key.normal() == k {
			return e.Value, true
		}
	}
	return Value{}, false
}

// IsList reports whether v is an array whose keys are 0, 1, 2... in order,
// as PHP's array_is_list does.
func (v Value) IsList() bool {
	if v.kind != KindArray {
		return false
	}
	for i, e := range v.entries {
		if n, ok := e.Key.normal().Int(); !ok || n != int64(i) {
			return false
		}
	}
	return true
}

// String returns v serialized, as PHP's serialize writes it.
func (v Value) String() string { return string(Serialize(v)) }

// MarshalJSON shows v as JSON, for reports: null, bools, numbers and
// strings as such (a non-finite float as the string "INF", "-INF" or
// "NAN"), a list as a JSON array, another array as a JSON object in key
// order, an opaque value as the string of its serialized bytes. It is for
// reading, not a round trip: use Serialize to store.
func (v Value) MarshalJSON() ([]byte, error) { return v.appendJSON(nil) }

func (v Value) appendJSON(b []byte) ([]byte, error) {
	switch v.kind {
	case KindNull:
		return append(b, "null"...), nil
	case KindBool:
		return strconv.AppendBool(b, v.b), nil
	case KindInt:
		return strconv.AppendInt(b, v.i, 10), nil
	case KindFloat:
		if math.IsInf(v.f, 0) || math.IsNaN(v.f) {
			return appendJSONString(b, v.s)
		}
		return strconv.AppendFloat(b, v.f, 'g', -1, 64), nil
	case KindString, KindOpaque:
		return appendJSONString(b, v.s)
	case KindArray:
		list := v.IsList()
		open, close := byte('{'), byte('}')
		if list {
			open, close = '[', ']'
		}
		b = append(b, open)
		for i, e := range v.entries {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if !list {
				if b, err = appendJSONString(b, e.Key.String()); err != nil {
					return nil, err
				}
				b = append(b, ':')
			}
			if b, err = e.Value.appendJSON(b); err != nil {
				return nil, err
			}
		}
		return append(b, close), nil
	}
	return nil, fmt.Errorf("marshal PHP value: unknown kind %v", v.kind)
}

func appendJSONString(b []byte, s string) ([]byte, error) {
	j, err := json.Marshal(s)
	return append(b, j...), err
}

// StringList returns the strings of an array of strings in order, such as
// the active_plugins option. Its keys are not checked: WordPress reads the
// option with foreach, so a list with gaps in its keys is still a list.
func StringList(v Value) ([]string, error) {
	if v.kind != KindArray {
		return nil, fmt.Errorf("want an array of strings, have %v", v.kind)
	}
	out := make([]string, 0, len(v.entries))
	for _, e := range v.entries {
		s, ok := e.Value.AsString()
		if !ok {
			return nil, fmt.Errorf("want an array of strings, have %v at key %q", e.Value.kind, e.Key.String())
		}
		out = append(out, s)
	}
	return out, nil
}

// IntMap returns an array whose values are ints as a map from key (as text)
// to value, such as the multisite option active_sitewide_plugins (plugin
// file → activation time). The map has no order; for the order, range over
// v.Entries().
func IntMap(v Value) (map[string]int64, error) {
	if v.kind != KindArray {
		return nil, fmt.Errorf("want an array of ints, have %v", v.kind)
	}
	out := make(map[string]int64, len(v.entries))
	for _, e := range v.entries {
		i, ok := e.Value.AsInt()
		if !ok {
			return nil, fmt.Errorf("want an array of ints, have %v at key %q", e.Value.kind, e.Key.String())
		}
		out[e.Key.String()] = i
	}
	return out, nil
}

// Serialize returns v as PHP's serialize writes it. A Value from
// Unserialize serializes to the bytes it was read from.
func Serialize(v Value) []byte { return appendSerialized(nil, v) }

func appendSerialized(b []byte, v Value) []byte {
	switch v.kind {
	case KindBool:
		if v.b {
			return append(b, "b:1;"...)
		}
		return append(b, "b:0;"...)
	case KindInt:
		b = append(b, "i:"...)
		return append(strconv.AppendInt(b, v.i, 10), ';')
	case KindFloat:
		b = append(b, "d:"...)
		return append(append(b, v.s...), ';')
	case KindString:
		return appendSerializedString(b, v.s)
	case KindArray:
		b = append(b, "a:"...)
		b = strconv.AppendInt(b, int64(len(v.entries)), 10)
		b = append(b, ":{"...)
		for _, e := range v.entries {
			if e.Key.isStr {
				b = appendSerializedString(b, e.Key.s)
			} else {
				b = append(b, "i:"...)
				b = append(strconv.AppendInt(b, e.Key.i, 10), ';')
			}
			b = appendSerialized(b, e.Value)
		}
		return append(b, '}')
	case KindOpaque:
		return append(b, v.s...)
	}
	return append(b, "N;"...)
}

func appendSerializedString(b []byte, s string) []byte {
	b = append(b, "s:"...)
	b = strconv.AppendInt(b, int64(len(s)), 10)
	b = append(b, ':', '"')
	b = append(b, s...)
	return append(b, '"', ';')
}

// phpFloatText formats f as PHP's serialize does with serialize_precision
// -1: the shortest digits that read back as f.
func phpFloatText(f float64) string { return formatPHPFloat(f, -1) }

// formatPHPFloat formats f as PHP's php_gcvt does with precision digits,
// or with the shortest digits that read back as f for precision -1 (as
// serialize_precision -1, and then up to 17 digits): fixed notation unless
// the decimal exponent is below -4 or at least the precision, then as
// 1.0E+25.
func formatPHPFloat(f float64, precision int) string {
	switch {
	case math.IsNaN(f):
		return "NAN"
	case math.IsInf(f, 1):
		return "INF"
	case math.IsInf(f, -1):
		return "-INF"
	case f == 0:
		if math.Signbit(f) {
			return "-0"
		}
		return "0"
	}
	var b []byte
	if f < 0 {
		b = append(b, '-')
		f = -f
	}
	ndigit := precision
	if precision < 0 {
		ndigit = 17
	}
	prec := precision - 1 // digits after the point
	if precision < 0 {
		prec = -1
	}
	e := strconv.FormatFloat(f, 'e', prec, 64) // d.ddde±XX
	mant, exp, _ := strings.Cut(e, "e")
	digits := strings.TrimRight(strings.Replace(mant, ".", "", 1), "0")
	if digits == "" {
		digits = "0"
	}
	x, _ := strconv.Atoi(exp)
	decpt := x + 1 // digits are 0.DIGITS × 10^decpt
	switch {
	case decpt < -3 || decpt > ndigit:
		b = append(b, digits[0], '.')
		if len(digits) > 1 {
			b = append(b, digits[1:]...)
		} else {
			b = append(b, '0')
		}
		b = append(b, 'E')
		if x < 0 {
			b = append(b, '-')
			x = -x
		} else {
			b = append(b, '+')
		}
		b = strconv.AppendInt(b, int64(x), 10)
	case decpt <= 0:
		b = append(b, "0."...)
		b = append(b, strings.Repeat("0", -decpt)...)
		b = append(b, digits...)
	default:
		if len(digits) <= decpt {
			b = append(b, digits...)
			b = append(b, strings.Repeat("0", decpt-len(digits))...)
		} else {
			b = append(b, digits[:decpt]...)
			b = append(b, '.')
			b = append(b, digits[decpt:]...)
		}
	}
	return string(b)
}

// MaxDepth is how deeply arrays and objects may nest in what Unserialize
// reads, as PHP's unserialize_max_depth default.
const MaxDepth = 4096

// UnserializeError says where and why Unserialize rejected its input.
type UnserializeError struct {
	Offset int    // byte offset of the problem in the input
	Reason string // what is wrong there
}

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
