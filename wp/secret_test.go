package wp

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
)

const hunter2 = "hunter2"

func TestSecretReveal(t *testing.T) {
	assert.Equal(t, hunter2, Secret(hunter2).Reveal())
}

func TestSecretFmt(t *testing.T) {
	s := Secret(hunter2)
	holder := struct {
		Password Secret
		Ptr      *Secret
	}{s, &s}
	tests := []struct {
		format string
		arg    any
		want   string
	}{
		{"%v", s, "[REDACTED]"},
		{"%s", s, "[REDACTED]"},
		{"%q", s, `"[REDACTED]"`},
		{"%+v", s, "[REDACTED]"},
		{"%#v", s, "[REDACTED]"},
		{"%x", s, "5b52454441435445445d"}, // hex of "[REDACTED]"
		{"%X", s, "5B52454441435445445D"},
		{"%d", s, "%!d(string=[REDACTED])"},
		{"%c", s, "%!c(string=[REDACTED])"},
		{"%10.3s", s, "       [RE"},
		{"%v", &s, "[REDACTED]"},
		{"%v", []Secret{s}, "[[REDACTED]]"},
		{"%v", map[string]Secret{"pw": s}, "map[pw:[REDACTED]]"},
		{"%+v", holder, "{Password:[REDACTED] Ptr:"},
		{"%#v", holder, "Password:[REDACTED]"},
		{"%T", s, "wp.Secret"},
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			got := fmt.Sprintf(tt.format, tt.arg)
			assert.Contains(t, got, tt.want)
			assert.NotContains(t, got, hunter2)
		})
	}
	assert.Equal(t, "[REDACTED]", fmt.Sprint(s))
	assert.Equal(t, "[REDACTED]\n", fmt.Sprintln(s))
	assert.NotContains(t, fmt.Errorf("connect as %v: %w", s, errors.New("denied")).Error(), hunter2)
}

// TestSecretLimits pins the limits the doc comment states: fmt cannot
// call a method on an unexported field, nor does it for %p, and JSON
// writes a map key of a string type as is.
func TestSecretLimits(t *testing.T) {
	holder := struct{ password Secret }{Secret(hunter2)}
	assert.Contains(t, fmt.Sprintf("%v", holder), hunter2)
	assert.Contains(t, fmt.Sprintf("%p", Secret(hunter2)), hunter2)
	j, err := json.Marshal(map[Secret]int{hunter2: 1})
	assert.NoError(t, err)
	assert.Contains(t, string(j), hunter2)
}

func TestSecretSlog(t *testing.T) {
	for name, newHandler := range map[string]func(*bytes.Buffer) slog.Handler{
		"json": func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
		"text": func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
	} {
		t.Run(name, func(t *testing.T) {
			var b bytes.Buffer
			log := slog.New(newHandler(&b))
			s := Secret(hunter2)
			log.Info("connect", "password", s)
			log.Info("connect", slog.Any("password", s))
			log.Info("connect", "config", struct{ DBPassword Secret }{s})
			log.Info("connect", slog.Group("db", "password", s))
			log.With("password", s).Info("connect")
			assert.NotContains(t, b.String(), hunter2)
			assert.Contains(t, b.String(), "[REDACTED]")
		})
	}
	var b bytes.Buffer
	slog.New(slog.NewJSONHandler(&b, nil)).Info("connect", "password", Secret(hunter2))
	var rec map[string]any
	assert.NoError(t, json.Unmarshal(b.Bytes(), &rec))
	assert.Equal(t, "[REDACTED]", rec["password"])
}

func TestSecretMarshal(t *testing.T) {
	s := Secret(hunter2)
	for _, v := range []any{s, &s, struct{ P Secret }{s}, map[string]Secret{"p": s}, []Secret{s}} {
		j, err := json.Marshal(v)
		assert.NoError(t, err)
		assert.NotContains(t, string(j), hunter2)
		assert.Contains(t, string(j), `"[REDACTED]"`)
	}
	j, err := json.Marshal(Secret(""))
	assert.NoError(t, err)
	assert.Equal(t, `"[REDACTED]"`, string(j), "even an empty secret is not told apart")

	type login struct {
		P Secret `xml:"p,attr"`
		Q Secret `xml:"q"`
	}
	x, err := xml.Marshal(login{s, s})
	assert.NoError(t, err)
	assert.Equal(t, `<login p="[REDACTED]"><q>[REDACTED]</q></login>`, string(x))
}
