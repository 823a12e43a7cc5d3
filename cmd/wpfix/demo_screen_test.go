package main

import (
	"io"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// screen is what a terminal shows of a program's output, kept as lines of
// text: a carriage return goes back to the line's start, CSI K erases to
// its end (CSI 2K the whole line), a backspace steps back, other escape
// sequences move nothing the demo needs and are dropped. Each line is
// written to w, with its newline, when it ends. The demo renders wpfix's
// terminal output through it when its own output is not a terminal (the
// README, the test log), so a progress bar that redraws itself shows as
// what was left on the screen, not as its control characters.
type screen struct {
	w       io.Writer
	line    []rune
	col     int
	partial []byte // an incomplete UTF-8 sequence or escape sequence
}

func (s *screen) Write(p []byte) (int, error) {
	b := append(s.partial, p...)
	s.partial = nil
	for len(b) > 0 {
		switch c := b[0]; {
		case c == '\x1b':
			n, complete := escapeLen(b)
			if !complete {
				s.partial = append([]byte(nil), b...)
				return len(p), nil
			}
			s.escape(b[:n])
			b = b[n:]
		case c == '\n':
			s.line = append(s.line, '\n')
			if _, err := io.WriteString(s.w, string(s.line)); err != nil {
				return 0, err
			}
			s.line, s.col = s.line[:0], 0
			b = b[1:]
		case c == '\r':
			s.col = 0
			b = b[1:]
		case c == '\b':
			s.col = max(s.col-1, 0)
			b = b[1:]
		case c < ' ' && c != '\t', c == 0x7f:
			b = b[1:] // a bell and the like show nothing
		default:
			if !utf8.FullRune(b) {
				s.partial = append([]byte(nil), b...)
				return len(p), nil
			}
			r, n := utf8.DecodeRune(b)
			s.put(r)
			b = b[n:]
		}
	}
	return len(p), nil
}

// put writes r at the cursor, over what was there.
func (s *screen) put(r rune) {
	for len(s.line) < s.col {
		s.line = append(s.line, ' ')
	}
	if s.col < len(s.line) {
		s.line[s.col] = r
	} else {
		s.line = append(s.line, r)
	}
	s.col++
}

// escape applies one escape sequence: only the line erasures change what
// the demo shows.
func (s *screen) escape(seq []byte) {
	if len(seq) < 3 || seq[1] != '[' || seq[len(seq)-1] != 'K' {
		return
	}
	switch string(seq[2 : len(seq)-1]) {
	case "", "0":
		s.line = s.line[:min(s.col, len(s.line))]
	case "1":
		for i := 0; i < min(s.col, len(s.line)); i++ {
			s.line[i] = ' '
		}
	case "2":
		s.line = s.line[:0]
	}
}

// escapeLen is the length of the escape sequence b starts with (ESC, or
// ESC [ parameters and a final byte), and whether b holds all of it.
func escapeLen(b []byte) (int, bool) {
	if len(b) < 2 {
		return 0, false
	}
	if b[1] != '[' {
		return 2, true
	}
	for i := 2; i < len(b); i++ {
		if b[i] >= 0x40 && b[i] <= 0x7e {
			return i + 1, true
		}
	}
	return 0, false
}

// Close writes the last line if it did not end, as the shell's next prompt
// would start below it.
func (s *screen) Close() error {
	if len(s.line) == 0 {
		return nil
	}
	_, err := s.Write([]byte("\n"))
	return err
}

func TestScreen(t *testing.T) {
	tests := []struct {
		name   string
		chunks []string
		want   string
	}{
		{"plain lines", []string{"one\n", "two\n"}, "one\ntwo\n"},
		{"a terminal's CR LF", []string{"one\r\ntwo\r\n"}, "one\ntwo\n"},
		{"CR LF split between reads", []string{"one\r", "\ntwo\r\n"}, "one\ntwo\n"},
		{"a progress bar redrawn, then erased", []string{
			"\rchecking [   ] 0/1\x1b[K", "\rchecking [===] 1/1\x1b[K", "\r\x1b[K", "SITE  STATE\n"},
			"SITE  STATE\n"},
		{"a shorter redraw leaves the end without an erase", []string{"abcdef\rxy\n"}, "xycdef\n"},
		{"erase to the start and the whole line", []string{"abcdef\b\b\x1b[1Kz\n", "gone\x1b[2Kkept\n"}, "    zf\n    kept\n"},
		{"an escape sequence split between reads", []string{"ab\x1b", "[", "Kc\n"}, "abc\n"},
		{"colour is dropped", []string{"\x1b[31mred\x1b[0m\n"}, "red\n"},
		{"UTF-8 split between reads", []string{"caf\xc3", "\xa9\n"}, "café\n"},
		{"a prompt answered, echoed", []string{"Proceed? [y/N] ", "y\r\n"}, "Proceed? [y/N] y\n"},
		{"an unended last line is ended", []string{"last"}, "last\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			s := &screen{w: &b}
			for _, c := range tt.chunks {
				n, err := s.Write([]byte(c))
				require.NoError(t, err)
				require.Equal(t, len(c), n)
			}
			require.NoError(t, s.Close())
			assert.Equal(t, tt.want, b.String())
		})
	}
}
