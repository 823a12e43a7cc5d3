package php

import (
	"math"
	"strconv"
	"strings"
)

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
