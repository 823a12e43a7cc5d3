package php

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCasts checks Strval and Boolval on each kind of value.
func TestCasts(t *testing.T) {
	tests := []struct {
		name string
		in   Value
		str  string
		b    bool
	}{
		{"null", Null(), "", false},
		{"false", Bool(false), "", false},
		{"true", Bool(true), "1", true},
		{"zero", Int(0), "0", false},
		{"negative", Int(-7), "-7", true},
		{"float zero", Float(0), "0", false},
		{"negative zero", Float(math.Copysign(0, -1)), "-0", false},
		{"float", Float(0.1 + 0.2), "0.3", true},
		{"big float", Float(1e25), "1.0E+25", true},
		{"empty string", String(""), "", false},
		{"string zero", String("0"), "0", false},
		{"string 0.0", String("0.0"), "0.0", true},
		{"string", String("wp_"), "wp_", true},
		{"empty array", Array(), "", false},
		{"array", ListOf("a"), "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.str, Strval(tt.in))
			assert.Equal(t, tt.b, Boolval(tt.in))
		})
	}
}

// TestFloatToStringMatchesPHP checks Strval on floats, which wp-config
// fields use, against PHP's (string) cast (php.ini's precision, 14).
func TestFloatToStringMatchesPHP(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	var floats []float64
	for range 2000 {
		floats = append(floats, randomFloat(rng))
	}
	var prog strings.Builder
	prog.WriteString("<?php\n$v = [\n")
	for _, f := range floats {
		prog.WriteString(phpExpr(Float(f)) + ",\n")
	}
	prog.WriteString("];\nforeach ($v as $x) { echo (string) $x, \"\\n\"; }\n")
	out := strings.Split(strings.TrimSuffix(string(runPHP(t, prog.String())), "\n"), "\n")
	require.Len(t, out, len(floats))
	for i, f := range floats {
		assert.Equal(t, out[i], Strval(Float(f)), "%v", f)
	}
}
