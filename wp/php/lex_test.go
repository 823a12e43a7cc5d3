package php

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// tok is a token as TestLex writes it: its kind, text and whether it is a
// literal.
type tok struct {
	kind TokenKind
	text string
	lit  bool
}

func TestLex(t *testing.T) {
	tests := []struct {
		name string
		src  string
		php  bool
		want []tok
	}{
		{"no tag", "<html>define('A', 1);</html>", false, nil},
		{"phpx is not a tag", "<?phpx define('A', 1);", false, nil},
		{"define", "<?php define( 'A', 1 );", true, []tok{
			{TokenIdent, "define", false}, {TokenOp, "(", false}, {TokenString, "A", true}, {TokenOp, ",", false},
			{TokenNumber, "1", true}, {TokenOp, ")", false}, {TokenOp, ";", false}}},
		{"inline HTML around short echo", "a<?= $x ?>b", true, []tok{{TokenVar, "$x", false}, {TokenClose, "?>", false}}},
		{"comments", "<?php // a\n# b\n/* c */ #[Attr]", true, []tok{{TokenOp, "#[", false}, {TokenIdent, "Attr", false}, {TokenOp, "]", false}}},
		{"line comment ends at ?>", "<?php // x ?> y <?php z", true, []tok{{TokenClose, "?>", false}, {TokenIdent, "z", false}}},
		{"single-quoted escapes", `<?php 'it\'s \\ \n'`, true, []tok{{TokenString, `it's \ \n`, true}}},
		{"double-quoted escapes", `<?php "\x41\101\u{263A}\t\q"`, true, []tok{{TokenString, "AA☺\t\\q", true}}},
		{"interpolation", `<?php "pa$$word {$x}"`, true, []tok{{TokenString, "", false}}},
		{"bad unicode escape", `<?php "\u{110000}"`, true, []tok{{TokenString, "", false}}},
		{"unterminated", `<?php 'abc`, true, []tok{{TokenString, "", false}}},
		{"heredoc", "<?php $a = <<<EOT\ndefine('A', 1);\nEOT;", true, []tok{
			{TokenVar, "$a", false}, {TokenOp, "=", false}, {TokenString, "", false}, {TokenOp, ";", false}}},
		{"nowdoc", "<?php <<<'X'\n  x\n  X\n", true, []tok{{TokenString, "", false}}},
		{"backticks", "<?php `ls`", true, []tok{{TokenString, "", false}}},
		{"numbers", "<?php 0x2A 0b101 0o17 0755 1_000 1.5e3 .5 9223372036854775808", true, []tok{
			{TokenNumber, "0x2A", true}, {TokenNumber, "0b101", true}, {TokenNumber, "0o17", true}, {TokenNumber, "0755", true},
			{TokenNumber, "1_000", true}, {TokenNumber, "1.5e3", true}, {TokenNumber, ".5", true},
			{TokenNumber, "9223372036854775808", true}}},
		{"numbers PHP rejects", "<?php 1__0 0789 1_", true, []tok{
			{TokenNumber, "1__0", false}, {TokenNumber, "0789", false}, {TokenNumber, "1_", false}}},
		{"operators", "<?php $a?->b ??= c::d", true, []tok{
			{TokenVar, "$a", false}, {TokenOp, "?->", false}, {TokenIdent, "b", false}, {TokenOp, "??=", false},
			{TokenIdent, "c", false}, {TokenOp, "::", false}, {TokenIdent, "d", false}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			toks, php := Lex([]byte(tt.src))
			assert.Equal(t, tt.php, php)
			var got []tok
			for _, k := range toks {
				got = append(got, tok{k.Kind, k.Text, k.Lit})
			}
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestLiteral(t *testing.T) {
	lit := func(src string) (Value, bool) {
		toks, _ := Lex([]byte("<?php " + src))
		return Literal(toks)
	}
	tests := []struct {
		src  string
		want Value
		ok   bool
	}{
		{"'x'", String("x"), true},
		{`"a\tb"`, String("a\tb"), true},
		{"42", Int(42), true},
		{"-42", Int(-42), true},
		{"+0x10", Int(16), true},
		{"- 1.5", Float(-1.5), true},
		{"0755", Int(0o755), true},
		{"9223372036854775808", Float(9223372036854775808), true},
		{"TRUE", Bool(true), true},
		{`\false`, Bool(false), true},
		{"Null", Null(), true},
		{`"$x"`, Value{}, false},
		{"'a' . 'b'", Value{}, false},
		{"getenv('X')", Value{}, false},
		{"-'x'", Value{}, false},
		{"0789", Value{}, false},
		{"__DIR__", Value{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			v, ok := lit(tt.src)
			assert.Equal(t, tt.ok, ok)
			assert.Equal(t, tt.want, v)
		})
	}
}

// FuzzLex checks Lex never panics and its tokens are in order, inside the
// source, with the text of names, variables, operators and numbers as the
// source spells them.
func FuzzLex(f *testing.F) {
	for _, s := range []string{"<?php define('A', 1);", "a<?= $x ?>b<?php /* c", `<?php "\u{1F600}\x41\101$x"`,
		"<?php <<<X\nx\nX;", "<?php <<<'Y'\n", "<?php 0x 0b2 1e 1_000.5_0 .5e-3", "<?php #[A] // ?> b"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		toks, php := Lex(src)
		if !php && len(toks) > 0 {
			t.Fatalf("tokens without PHP code: %v", toks)
		}
		at := 0
		for _, k := range toks {
			if k.Start < at || k.End <= k.Start || k.End > len(src) {
				t.Fatalf("token %+v out of place (after %d, source of %d bytes)", k, at, len(src))
			}
			at = k.End
			switch k.Kind {
			case TokenIdent, TokenVar, TokenOp, TokenNumber, TokenClose:
				if k.Text != string(src[k.Start:k.End]) {
					t.Fatalf("token %+v spells %q", k, src[k.Start:k.End])
				}
			case TokenString:
				if !k.Lit && k.Text != "" {
					t.Fatalf("a string that is not a literal has text: %+v", k)
				}
			default:
				t.Fatalf("token %+v of no kind", k)
			}
			if v, ok := k.Value(); ok != k.Lit {
				t.Fatalf("token %+v: Value %v, %v", k, v, ok)
			}
		}
	})
}
