// Package phptest holds what the tests of package php and of the packages
// that read PHP with it (wp's wp-config.php parser) check values with: the
// php CLI as the oracle, the same comparison of a parsed value with PHP's,
// and the same random string literals to parse.
//
// It does not import php, so that php's own tests can use it: AssertSameValue
// takes any type with php.Value's AsFloat method.
//
// phptest must not be used outside tests.
package phptest

import (
	"math"
	"math/rand/v2"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// CLI returns the path of the php CLI, the oracle of the tests that
// compare with PHP; without it the test is skipped.
func CLI(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("php")
	if err != nil {
		t.Skip("the php CLI is not installed; it is this test's oracle")
	}
	return p
}

// A Value is a php.Value, as far as AssertSameValue needs one.
type Value interface {
	AsFloat() (float64, bool)
}

// AssertSameValue checks that got is want; floats are compared bit for bit.
func AssertSameValue[V Value](t testing.TB, want, got V, msg ...any) {
	t.Helper()
	if wf, ok := want.AsFloat(); ok {
		gf, ok := got.AsFloat()
		if assert.True(t, ok, msg...) {
			assert.Equal(t, math.Float64bits(wf), math.Float64bits(gf), msg...)
		}
		return
	}
	assert.Equal(t, want, got, msg...)
}

// RandomBytes returns a random string of up to maxLen pieces that PHP's
// string literals treat specially.
func RandomBytes(rng *rand.Rand, maxLen int) string {
	alphabet := []string{"a", "Z", "0", "7", " ", "'", `"`, `\`, "$", "{", "}", "\n", "\t", "x", "u", "é", "☕", "\x00", "\xff", "?>", "//", "#", "/*"}
	var b strings.Builder
	for range rng.IntN(maxLen + 1) {
		b.WriteString(alphabet[rng.IntN(len(alphabet))])
	}
	return b.String()
}
