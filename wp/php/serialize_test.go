package php

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wpfix/wpfix/wp/php/phptest"
)

func TestUnserialize(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Value
	}{
		{"null", `N;`, Null()},
		{"true", `b:1;`, Bool(true)},
		{"false", `b:0;`, Bool(false)},
		{"int", `i:42;`, Int(42)},
		{"negative int", `i:-7;`, Int(-7)},
		{"zero", `i:0;`, Int(0)},
		{"max int", `i:9223372036854775807;`, Int(math.MaxInt64)},
		{"min int", `i:-9223372036854775808;`, Int(math.MinInt64)},
		{"float", `d:0.1;`, Float(0.1)},
		{"integral float", `d:1;`, Float(1)},
		{"exponent float", `d:1.0E+25;`, Float(1e25)},
		{"infinity", `d:INF;`, Float(math.Inf(1))},
		{"negative infinity", `d:-INF;`, Float(math.Inf(-1))},
		{"negative zero", `d:-0;`, Float(math.Copysign(0, -1))},
		{"empty string", `s:0:"";`, String("")},
		{"string", `s:5:"hello";`, String("hello")},
		{"string with quotes and semicolons", `s:6:"a";"b}";`, String(`a";"b}`)},
		{"multibyte string, length in bytes", `s:12:"naïve café";`, String("naïve café")},
		{"emoji", `s:3:"☕";`, String("☕")},
		{"binary string", "s:3:\"\x00\xff\n\";", String("\x00\xff\n")},
		{"empty array", `a:0:{}`, List()},
		{"active_plugins", `a:2:{i:0;s:19:"akismet/akismet.php";i:1;s:9:"hello.php";}`, ListOf("akismet/akismet.php", "hello.php")},
		{"active_sitewide_plugins", `a:2:{s:19:"akismet/akismet.php";i:1700000000;s:9:"hello.php";i:1700000001;}`,
			Array(Entry{StringKey("akismet/akismet.php"), Int(1700000000)}, Entry{StringKey("hello.php"), Int(1700000001)})},
		{"nested", `a:2:{s:1:"a";a:1:{i:0;a:0:{}}s:1:"b";N;}`,
			Array(Entry{StringKey("a"), List(List())}, Entry{StringKey("b"), Null()})},
		{"keys out of order", `a:2:{i:5;b:1;i:-1;b:0;}`, Array(Entry{IntKey(5), Bool(true)}, Entry{IntKey(-1), Bool(false)})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := Unserialize([]byte(tt.in))
			require.NoError(t, err)
			phptest.AssertSameValue(t, tt.want, v)
			assert.Equal(t, tt.in, string(Serialize(v)), "round trip")
			assert.Equal(t, tt.in, string(Serialize(tt.want)), "serialize")
			// WordPress's is_serialized does not know d:INF; or d:-INF;.
			assert.Equal(t, !strings.Contains(tt.in, "INF"), IsSerialized(tt.in))
		})
	}
}

// TestUnserializeKeepsText checks that what PHP reads but does not write
// today still round-trips byte for byte.
func TestUnserializeKeepsText(t *testing.T) {
	for _, in := range []string{
		`d:0.10000000000000001;`, // PHP before 7.1 wrote 17 digits
		`d:1.0E+25;`, `d:1e25;`, `d:.5;`, `d:5.;`, `d:+1.5;`, `d:-1.5e-7;`, `d:1E400;`, `d:NAN;`,
		`a:1:{s:1:"5";i:1;}`,              // a numeric string key, as other serializers write it
		`O:8:"stdClass":1:{s:1:"x";i:1;}`, // objects are kept opaque
		`a:2:{i:0;O:8:"stdClass":0:{}i:1;r:2;}`,
		`a:2:{i:0;i:1;i:1;R:2;}`,
		`E:7:"Suit:Up";`,
		`C:11:"ArrayObject":21:{x:i:0;a:0:{};m:a:0:{}}`,
		"O:1:\"A\":2:{s:4:\"\x00*\x00b\";i:2;s:4:\"\x00A\x00c\";a:1:{i:0;i:1;}}",
		`O:12:"Foo\Bar_Baz9":0:{}`,
	} {
		t.Run(in, func(t *testing.T) {
			v, err := Unserialize([]byte(in))
			require.NoError(t, err)
			assert.Equal(t, in, string(Serialize(v)))
		})
	}
	v, err := Unserialize([]byte(`a:1:{s:1:"5";i:1;}`))
	require.NoError(t, err)
	got, ok := v.Get(IntKey(5))
	assert.True(t, ok, "PHP's $v[5] finds the key \"5\"")
	assert.Equal(t, Int(1), got)
	v, err = Unserialize([]byte(`O:8:"stdClass":0:{}`))
	require.NoError(t, err)
	assert.Equal(t, KindOpaque, v.Kind())
}

func TestUnserializeRejects(t *testing.T) {
	tests := []struct{ name, in string }{
		{"empty", ``},
		{"trailing garbage", `i:1;x`},
		{"trailing space", `i:1; `},
		{"two values", `N;N;`},
		{"string too long", `s:6:"hello";`},
		{"string too short", `s:4:"hello";`},
		{"string length past the end", `s:99:"hello";`},
		{"string without closing quote", `s:5:"hello`},
		{"string without semicolon", `s:5:"hello"`},
		{"string length in characters", `s:10:"naïve café";`},
		{"count too high", `a:2:{i:0;i:1;}`},
		{"count too low", `a:1:{i:0;i:1;i:1;i:2;}`},
		{"unclosed array", `a:1:{i:0;i:1;`},
		{"huge count", `a:99999999999999999999:{}`},
		{"duplicate int key", `a:2:{i:0;i:1;i:0;i:2;}`},
		{"duplicate key as string and int", `a:2:{i:5;i:1;s:1:"5";i:2;}`},
		{"array key not int or string", `a:1:{d:1;i:1;}`},
		{"array key null", `a:1:{N;i:1;}`},
		{"int with plus", `i:+5;`},
		{"int with leading zero", `i:007;`},
		{"negative zero int", `i:-0;`},
		{"int out of range", `i:9223372036854775808;`},
		{"int empty", `i:;`},
		{"length with leading zero", `s:03:"abc";`},
		{"negative length", `s:-1:"";`},
		{"bool 2", `b:2;`},
		{"float word", `d:abc;`},
		{"float hex", `d:0x10;`},
		{"float empty", `d:;`},
		{"float dot", `d:.;`},
		{"float lowercase inf", `d:inf;`},
		{"float without semicolon", `d:1.5`},
		{"unknown type", `x:1;`},
		{"old escaped string", `S:1:"\61";`},
		{"object bad class", `O:3:"a b":0:{}`},
		{"object count too high", `O:8:"stdClass":1:{}`},
		{"custom object data too long", `C:3:"Foo":99:{}`},
		{"enum without case", `E:4:"Suit";`},
		{"reference zero", `r:0;`},
		{"reference without semicolon", `R:1`},
		{"null without semicolon", `N`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Unserialize([]byte(tt.in))
			var ue *UnserializeError
			require.ErrorAs(t, err, &ue)
			assert.GreaterOrEqual(t, ue.Offset, 0)
			assert.LessOrEqual(t, ue.Offset, len(tt.in))
		})
	}
}

func TestUnserializeDepth(t *testing.T) {
	nest := func(n int) string {
		return strings.Repeat("a:1:{i:0;", n) + "N;" + strings.Repeat("}", n)
	}
	v, err := Unserialize([]byte(nest(MaxDepth)))
	require.NoError(t, err)
	assert.Equal(t, nest(MaxDepth), string(Serialize(v)))
	_, err = Unserialize([]byte(nest(MaxDepth + 1)))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "nested deeper")
	// A million opening brackets fail fast, without a stack blowup.
	_, err = Unserialize([]byte(strings.Repeat("a:1:{i:0;", 1_000_000)))
	require.Error(t, err)
}

func TestValueHelpers(t *testing.T) {
	v, err := Unserialize([]byte(`a:2:{i:0;s:19:"akismet/akismet.php";i:1;s:9:"hello.php";}`))
	require.NoError(t, err)
	plugins, err := StringList(v)
	require.NoError(t, err)
	assert.Equal(t, []string{"akismet/akismet.php", "hello.php"}, plugins)
	assert.True(t, v.IsList())
	assert.Equal(t, 2, v.Len())

	gaps, err := Unserialize([]byte(`a:2:{i:0;s:1:"a";i:3;s:1:"b";}`))
	require.NoError(t, err)
	plugins, err = StringList(gaps)
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "b"}, plugins, "keys with gaps are still a list to WordPress")
	assert.False(t, gaps.IsList())

	_, err = StringList(String("x"))
	assert.ErrorContains(t, err, "have string")
	_, err = StringList(List(String("a"), Int(1)))
	assert.ErrorContains(t, err, `have int at key "1"`)

	sitewide, err := Unserialize([]byte(`a:2:{s:19:"akismet/akismet.php";i:1700000000;s:9:"hello.php";i:1700000001;}`))
	require.NoError(t, err)
	m, err := IntMap(sitewide)
	require.NoError(t, err)
	assert.Equal(t, map[string]int64{"akismet/akismet.php": 1700000000, "hello.php": 1700000001}, m)
	_, err = IntMap(ListOf("a"))
	assert.ErrorContains(t, err, `have string at key "0"`)
	_, err = IntMap(Null())
	assert.ErrorContains(t, err, "have null")

	// Removing one entry keeps the others in order, as the agent does to
	// deactivate a network plugin.
	var kept []Entry
	for _, e := range sitewide.Entries() {
		if e.Key != StringKey("akismet/akismet.php") {
			kept = append(kept, e)
		}
	}
	assert.Equal(t, `a:1:{s:9:"hello.php";i:1700000001;}`, Array(kept...).String())

	assert.Equal(t, `a:0:{}`, string(Serialize(ListOf())))
	assert.Equal(t, "N;", Value{}.String(), "the zero Value is null")
}

func TestArrayIsPHPArray(t *testing.T) {
	a := Array(
		Entry{StringKey("x"), Int(1)},
		Entry{StringKey("5"), Int(2)}, // "5" is the int key 5
		Entry{StringKey("05"), Int(3)},
		Entry{StringKey("x"), Int(4)}, // replaces x's value in place
		Entry{IntKey(5), Int(5)},
	)
	assert.Equal(t, `a:3:{s:1:"x";i:4;i:5;i:5;s:2:"05";i:3;}`, a.String())
	got, ok := a.Get(StringKey("5"))
	assert.True(t, ok)
	assert.Equal(t, Int(5), got)
	_, ok = a.Get(IntKey(6))
	assert.False(t, ok)
	k := StringKey("-12")
	i, isInt := k.Int()
	assert.True(t, isInt)
	assert.Equal(t, int64(-12), i)
	assert.False(t, StringKey("-0").normal() == IntKey(0))
	assert.True(t, StringKey("9223372036854775808").IsString(), "too big for an int")
	assert.Equal(t, "x", StringKey("x").String())
	assert.Equal(t, "7", IntKey(7).String())
}

func TestValueAccessors(t *testing.T) {
	b, ok := Bool(true).AsBool()
	assert.True(t, b && ok)
	_, ok = Int(1).AsBool()
	assert.False(t, ok)
	i, ok := Int(-3).AsInt()
	assert.True(t, ok)
	assert.Equal(t, int64(-3), i)
	f, ok := Float(2.5).AsFloat()
	assert.True(t, ok)
	assert.Equal(t, 2.5, f)
	s, ok := String("x").AsString()
	assert.True(t, ok)
	assert.Equal(t, "x", s)
	_, ok = Null().AsString()
	assert.False(t, ok)
	assert.Nil(t, Int(1).Entries())
	assert.Equal(t, "opaque", KindOpaque.String())
	assert.Equal(t, "Kind(9)", Kind(9).String())
}

func TestValueJSON(t *testing.T) {
	v, err := Unserialize([]byte(`a:6:{i:0;N;i:1;b:1;i:2;d:INF;i:3;d:1.5;i:4;a:1:{s:1:"k";s:1:"v";}i:5;O:8:"stdClass":0:{}}`))
	require.NoError(t, err)
	j, err := json.Marshal(v)
	require.NoError(t, err)
	assert.JSONEq(t, `[null, true, "INF", 1.5, {"k": "v"}, "O:8:\"stdClass\":0:{}"]`, string(j))
}

func TestIsSerialized(t *testing.T) {
	yes := []string{`N;`, ` N; `, `b:0;`, `b:1;`, `i:42;`, `i:-1;`, `d:1.5;`, `d:1.0E+25;`, `s:0:"";`, `s:5:"hello";`,
		`a:0:{}`, `a:1:{i:0;i:1;}`, `O:8:"stdClass":0:{}`, `E:7:"Suit:Up";`, "\ns:1:\"x\";\n",
		`i:1.2.3;`, `s:9:"x";`} // the shape only, as WordPress checks
	no := []string{``, `N`, `x`, `abc`, `b:0`, `i:x;`, `s:5:"hello"`, `s:5:hello;`, `a:{}`, `C:3:"Foo":0:{}`, `r:1;`,
		`i:1;}`, `hello world`, `a:b:{}`, `s:5:"hello";x`, `d:INF;`, `d:NAN;`}
	for _, s := range yes {
		assert.True(t, IsSerialized(s), "%q", s)
	}
	for _, s := range no {
		assert.False(t, IsSerialized(s), "%q", s)
	}
}

// runPHP runs a PHP program with php -n and returns its standard output.
func runPHP(t *testing.T, program string) []byte {
	t.Helper()
	php := phptest.CLI(t)
	file := filepath.Join(t.TempDir(), "oracle.php")
	require.NoError(t, os.WriteFile(file, []byte(program), 0o644))
	cmd := exec.Command(php, "-n", "-d", "memory_limit=1G", file)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "php: %s", stderr.String())
	return out
}

// TestIsSerializedMatchesWordPress compares IsSerialized with WordPress's
// own is_serialized, taken from the installed wp-includes/functions.php.
func TestIsSerializedMatchesWordPress(t *testing.T) {
	src, err := os.ReadFile("/usr/share/wordpress/wp-includes/functions.php")
	if errors.Is(err, os.ErrNotExist) {
		t.Skip("WordPress is not installed at /usr/share/wordpress (Debian's wordpress package); it is this test's oracle")
	}
	require.NoError(t, err)
	fn := regexp.MustCompile(`(?s)\nfunction is_serialized\( .*?\n}\n`).Find(src)
	require.NotNil(t, fn, "is_serialized not found in functions.php")

	rng := rand.New(rand.NewPCG(3, 4))
	inputs := []string{}
	pieces := []string{"N", ";", ":", "s", "a", "i", "b", "d", "O", "E", "C", "0", "5", "12", ".", "E", "+", "-", `"`, "{", "}", " ", "\n", "\x00", "x", "INF"}
	for range 5000 {
		var b strings.Builder
		for range rng.IntN(10) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		inputs = append(inputs, b.String())
	}
	rv := rand.New(rand.NewPCG(5, 6))
	for range 500 {
		inputs = append(inputs, string(Serialize(randomValue(rv, 2))))
	}
	var prog strings.Builder
	prog.WriteString("<?php\n" + string(fn) + "\n$in = json_decode(base64_decode('")
	j, err := json.Marshal(base64All(inputs))
	require.NoError(t, err)
	prog.WriteString(base64.StdEncoding.EncodeToString(j))
	prog.WriteString("'));\nforeach ($in as $s) { echo is_serialized(base64_decode($s)) ? '1' : '0'; }\n")
	out := runPHP(t, prog.String())
	require.Len(t, out, len(inputs))
	for i, s := range inputs {
		assert.Equal(t, out[i] == '1', IsSerialized(s), "%q", s)
	}
}

func base64All(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = base64.StdEncoding.EncodeToString([]byte(s))
	}
	return out
}

// randomValue returns a random PHP value nested at most depth deep.
func randomValue(rng *rand.Rand, depth int) Value {
	k := rng.IntN(7)
	if depth == 0 && k == 6 {
		k = 5
	}
	switch k {
	case 0:
		return Null()
	case 1:
		return Bool(rng.IntN(2) == 0)
	case 2:
		return Int([]int64{0, 1, -1, math.MaxInt64, math.MinInt64, rng.Int64(), -rng.Int64N(1000), rng.Int64N(1 << 20)}[rng.IntN(8)])
	case 3:
		return Float(randomFloat(rng))
	case 4, 5:
		return String(phptest.RandomBytes(rng, 20))
	}
	var entries []Entry
	for range rng.IntN(5) {
		var key Key
		switch rng.IntN(3) {
		case 0:
			key = IntKey(rng.Int64N(10) - 2)
		case 1:
			key = StringKey([]string{"", "5", "05", "-3", "-0", "x", "akismet/akismet.php", "naïve", "\x00*\x00p"}[rng.IntN(9)])
		default:
			key = StringKey(phptest.RandomBytes(rng, 8))
		}
		entries = append(entries, Entry{key, randomValue(rng, depth-1)})
	}
	if rng.IntN(3) == 0 {
		values := make([]Value, len(entries))
		for i, e := range entries {
			values[i] = e.Value
		}
		return List(values...)
	}
	return Array(entries...)
}

func randomFloat(rng *rand.Rand) float64 {
	switch rng.IntN(8) {
	case 0:
		return math.Float64frombits(rng.Uint64())
	case 1:
		return float64(rng.Int64N(1_000_000)) / math.Pow10(rng.IntN(8))
	case 2:
		return math.Pow10(rng.IntN(40)-20) * float64(1+rng.IntN(9))
	case 3:
		return []float64{0, math.Copysign(0, -1), math.Inf(1), math.Inf(-1), math.NaN(), math.MaxFloat64, math.SmallestNonzeroFloat64, 1e15, 1e16, 1e17, 1e-4, 1e-5, 0.1, 1.0 / 3}[rng.IntN(14)]
	case 4:
		return rng.NormFloat64() * math.Pow10(rng.IntN(30)-15)
	}
	return rng.Float64() * float64(rng.IntN(1000))
}

// phpExpr writes v as a PHP expression that evaluates to it exactly.
func phpExpr(v Value) string {
	switch v.Kind() {
	case KindBool:
		b, _ := v.AsBool()
		return strconv.FormatBool(b)
	case KindInt:
		i, _ := v.AsInt()
		if i == math.MinInt64 {
			return "PHP_INT_MIN"
		}
		return strconv.FormatInt(i, 10)
	case KindFloat:
		f, _ := v.AsFloat()
		var b [8]byte
		binary.BigEndian.PutUint64(b[:], math.Float64bits(f))
		return fmt.Sprintf(`unpack("E", hex2bin("%s"))[1]`, hex.EncodeToString(b[:]))
	case KindString:
		s, _ := v.AsString()
		return phpBytes(s)
	case KindArray:
		var b strings.Builder
		b.WriteString("[")
		for _, e := range v.Entries() {
			if e.Key.IsString() {
				b.WriteString(phpBytes(e.Key.String()))
			} else {
				b.WriteString(phpExpr(Int(must(e.Key.Int()))))
			}
			b.WriteString(" => ")
			b.WriteString(phpExpr(e.Value))
			b.WriteString(", ")
		}
		b.WriteString("]")
		return b.String()
	}
	return "null"
}

func must(i int64, _ bool) int64 { return i }

func phpBytes(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		fmt.Fprintf(&b, `\x%02x`, s[i])
	}
	b.WriteByte('"')
	return b.String()
}

// TestSerializeMatchesPHP builds random values, has PHP serialize them,
// and checks that Serialize writes the same bytes and that Unserialize
// reads PHP's bytes back to them.
func TestSerializeMatchesPHP(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	var values []Value
	for range 3000 {
		values = append(values, Float(randomFloat(rng)))
	}
	for range 1000 {
		values = append(values, randomValue(rng, 3))
	}
	var prog strings.Builder
	prog.WriteString("<?php\n$v = [\n")
	for _, v := range values {
		prog.WriteString(phpExpr(v) + ",\n")
	}
	prog.WriteString("];\nforeach ($v as $x) { echo base64_encode(serialize($x)), \"\\n\"; }\n")
	out := strings.Split(strings.TrimSuffix(string(runPHP(t, prog.String())), "\n"), "\n")
	require.Len(t, out, len(values))
	for i, v := range values {
		want, err := base64.StdEncoding.DecodeString(out[i])
		require.NoError(t, err)
		if !assert.Equal(t, string(want), string(Serialize(v)), "value %d: %s", i, phpExpr(v)) {
			continue
		}
		back, err := Unserialize(want)
		if assert.NoError(t, err) {
			assert.Equal(t, string(want), string(Serialize(back)))
		}
	}
}

// TestUnserializeMatchesPHP has PHP serialize objects, enums, references
// and old float texts, and checks that Unserialize keeps them exactly.
func TestUnserializeMatchesPHP(t *testing.T) {
	out := runPHP(t, `<?php
class A { public $a = 1; protected $b = 2; private $c = [1]; }
enum Suit: string { case Hearts = 'H'; }
$o = new stdClass; $o->x = "naïve";
$a = [1]; $a[1] = &$a[0];
$values = [new A, Suit::Hearts, [$o, $o], $a, new ArrayObject([1, 2]), ['nested' => ['o' => $o]], 1.0, -0.0, 0.1 + 0.2];
foreach ($values as $v) { echo base64_encode(serialize($v)), "\n"; }
ini_set('serialize_precision', 17);
echo base64_encode(serialize([0.1, 1/3, 1e100])), "\n";
`)
	for _, line := range strings.Fields(string(out)) {
		b, err := base64.StdEncoding.DecodeString(line)
		require.NoError(t, err)
		v, err := Unserialize(b)
		require.NoError(t, err, "%q", b)
		assert.Equal(t, string(b), string(Serialize(v)))
	}
}

func FuzzUnserialize(f *testing.F) {
	for _, s := range []string{
		`N;`, `b:1;`, `i:-5;`, `d:0.1;`, `d:1.0E+25;`, `d:NAN;`, `s:3:"abc";`, `s:2:"☕";`,
		`a:2:{i:0;s:19:"akismet/akismet.php";i:1;s:9:"hello.php";}`,
		`a:1:{s:1:"k";a:1:{i:0;d:-0;}}`, `O:8:"stdClass":1:{s:1:"x";i:1;}`, `E:7:"Suit:Up";`, `r:1;`,
		`C:11:"ArrayObject":21:{x:i:0;a:0:{};m:a:0:{}}`, `a:1:{s:1:"5";i:1;}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		IsSerialized(string(b))
		v, err := Unserialize(b)
		if err != nil {
			var ue *UnserializeError
			if !errors.As(err, &ue) || ue.Offset < 0 || ue.Offset > len(b) {
				t.Fatalf("bad error %v", err)
			}
			return
		}
		if got := Serialize(v); string(got) != string(b) {
			t.Fatalf("round trip: %q became %q", b, got)
		}
		if _, err := json.Marshal(v); err != nil {
			t.Fatalf("json: %v", err)
		}
	})
}
