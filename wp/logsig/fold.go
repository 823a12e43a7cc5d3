package logsig

import "strings"

// Fold folds repeats into one line: lines with the same signature, blame
// and text once numbers, hex, pids, client ports and timestamps are masked.
// The folded line keeps the latest Time and Text, the sum of the Counts,
// and the place of its latest occurrence, so lines stay in time order.
func Fold(lines []Line) []Line {
	type group struct {
		line Line
		last int
	}
	groups := map[string]*group{}
	order := make([]string, len(lines))
	for i, l := range lines {
		k := foldKey(l)
		order[i] = k
		n := max(l.Count, 1)
		g, ok := groups[k]
		if !ok {
			l.Count = n
			groups[k] = &group{line: l, last: i}
			continue
		}
		n += g.line.Count
		if !l.Time.Before(g.line.Time) || l.Time.IsZero() {
			g.line.Time, g.line.Text = l.Time, l.Text
		}
		g.line.Count, g.last = n, i
	}
	out := make([]Line, 0, len(groups))
	for i, k := range order {
		if g := groups[k]; g.last == i {
			out = append(out, g.line)
		}
	}
	return out
}

// foldKey is what makes two lines repeats of each other.
func foldKey(l Line) string {
	var b strings.Builder
	b.WriteString(l.Signature)
	b.WriteByte(0)
	if l.Blames != nil {
		b.WriteString(l.Blames.Kind)
		b.WriteByte(' ')
		b.WriteString(l.Blames.Name)
	}
	b.WriteByte(0)
	_, _, n := parsePrefix(l.Text)
	maskNumbers(&b, l.Text[n:])
	return b.String()
}

// maskNumbers writes s with every word that holds a digit and is a number
// (decimal, hex, 0x-hex) replaced by '#': pids, ports, times, addresses,
// request counters.
func maskNumbers(b *strings.Builder, s string) {
	isWord := func(c byte) bool {
		return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
	}
	for i := 0; i < len(s); {
		if !isWord(s[i]) {
			b.WriteByte(s[i])
			i++
			continue
		}
		j := i
		for j < len(s) && isWord(s[j]) {
			j++
		}
		w := s[i:j]
		if isNumberWord(w) {
			b.WriteByte('#')
		} else {
			b.WriteString(w)
		}
		i = j
	}
}

func isNumberWord(w string) bool {
	digit := false
	if len(w) > 2 && w[0] == '0' && (w[1] == 'x' || w[1] == 'X') {
		w, digit = w[2:], true
	}
	for i := 0; i < len(w); i++ {
		c := w[i]
		switch {
		case c >= '0' && c <= '9':
			digit = true
		case c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F':
		default:
			return false
		}
	}
	return digit
}
