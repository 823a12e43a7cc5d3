package php

import (
	"math/big"
	"strconv"
	"strings"
)

// Literal returns the value of an expression, given as its tokens, that is
// a single literal: a string without interpolation, a number (with a
// sign), true, false or null (in any case, with or without a leading \).
// It reports false for any other expression, whose value only running PHP
// could tell.
func Literal(toks []Token) (Value, bool) {
	if len(toks) == 2 && toks[0].Kind == TokenOp {
		switch toks[0].Text {
		case `\`:
			if toks[1].Kind == TokenIdent {
				return Literal(toks[1:])
			}
		case "-", "+":
			t := toks[1]
			v, ok := t.Value()
			if t.Kind != TokenNumber || !ok {
				return Value{}, false
			}
			if toks[0].Text == "+" {
				return v, true
			}
			if i, ok := v.AsInt(); ok {
				return Int(-i), true
			}
			f, _ := v.AsFloat()
			return Float(-f), true
		}
		return Value{}, false
	}
	if len(toks) != 1 {
		return Value{}, false
	}
	switch t := toks[0]; t.Kind {
	case TokenString, TokenNumber:
		return t.Value()
	case TokenIdent:
		switch strings.ToLower(t.Text) {
		case "true":
			return Bool(true), true
		case "false":
			return Bool(false), true
		case "null":
			return Null(), true
		}
	}
	return Value{}, false
}

// Value returns the value of a literal string or number token, and false
// for any other token.
func (t Token) Value() (Value, bool) {
	switch {
	case !t.Lit:
		return Value{}, false
	case t.Kind == TokenString:
		return String(t.Text), true
	case t.Kind == TokenNumber:
		return numberValue(t.Text)
	}
	return Value{}, false
}

// numberValue returns the value of a number token's text, and false for
// one that PHP rejects (misplaced _, 8 or 9 in octal).
func numberValue(text string) (Value, bool) {
	base, digits := 10, text
	if len(text) > 2 && text[0] == '0' {
		switch text[1] | 0x20 {
		case 'x':
			base, digits = 16, text[2:]
		case 'b':
			base, digits = 2, text[2:]
		case 'o':
			base, digits = 8, text[2:]
		}
	}
	float := base == 10 && strings.ContainsAny(text, ".eE")
	if digits == "" || digits[0] == '_' || digits[len(digits)-1] == '_' || strings.Contains(digits, "__") {
		return Value{}, false
	}
	if low := strings.ToLower(digits); base == 10 && (strings.Contains(low, "_.") || strings.Contains(low, "._") ||
		strings.Contains(low, "_e") || strings.Contains(low, "e_")) {
		return Value{}, false
	}
	digits = strings.ReplaceAll(digits, "_", "")
	if float {
		f, err := strconv.ParseFloat(digits, 64)
		if err != nil && !isRangeError(err) {
			return Value{}, false
		}
		return Float(f), true
	}
	if base == 10 && len(digits) > 1 && digits[0] == '0' {
		base = 8 // legacy octal: 0755
		digits = digits[1:]
	}
	if i, err := strconv.ParseInt(digits, base, 64); err == nil {
		return Int(i), true
	} else if !isRangeError(err) {
		return Value{}, false
	}
	n, ok := new(big.Int).SetString(digits, base)
	if !ok {
		return Value{}, false
	}
	f, _ := new(big.Float).SetInt(n).Float64()
	return Float(f), true
}
