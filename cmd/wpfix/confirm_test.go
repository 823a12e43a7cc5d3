package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestConfirm(t *testing.T) {
	for _, c := range []struct {
		in   string
		want bool
	}{
		{"y\n", true}, {"yes\n", true}, {" Y \n", true}, {"n\n", false}, {"\n", false}, {"", false}, {"sure\n", false},
	} {
		var out bytes.Buffer
		got, err := confirm(&out, strings.NewReader(c.in), "plan with \x1b[31mcolour")
		assert.NoError(t, err)
		assert.Equal(t, c.want, got, "answer %q", c.in)
		assert.Contains(t, out.String(), "Proceed? [y/N]")
		assert.NotContains(t, out.String(), "\x1b", "the plan is cleaned before it is shown")
	}
}
