package php

import (
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

// Value is a PHP value, such as WordPress stores in an option: null, a bool,
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

// Strval returns v as PHP's (string) cast converts it, with php.ini's
// default precision of 14 digits for a float: null and false give "",
// true gives "1". An array or an opaque value, which PHP does not convert
// (it writes "Array" with a warning, or fails), gives "".
func Strval(v Value) string {
	switch v.kind {
	case KindString:
		return v.s
	case KindFloat:
		return formatPHPFloat(v.f, 14) // php.ini's precision
	case KindInt:
		return strconv.FormatInt(v.i, 10)
	case KindBool:
		if v.b {
			return "1"
		}
	}
	return ""
}

// Boolval reports whether PHP takes v as true in a condition, as its
// (bool) cast does: null, false, 0, 0.0, "", "0" and an empty array are
// false. An opaque value counts as true, as an object or enum case does.
func Boolval(v Value) bool {
	switch v.kind {
	case KindBool:
		return v.b
	case KindInt:
		return v.i != 0
	case KindFloat:
		return v.f != 0
	case KindString:
		return v.s != "" && v.s != "0"
	case KindArray:
		return len(v.entries) > 0
	case KindOpaque:
		return true
	}
	return false
}
