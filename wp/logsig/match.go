package logsig

// acKeyLen bounds the keys the automaton looks for: a needle longer than
// that is looked for by its first acKeyLen bytes, then checked whole. Short
// keys keep the automaton small enough to stay in cache.
const acKeyLen = 12

// acMatcher is an Aho-Corasick automaton over the needles' keys: one pass
// over a line finds every key in it.
type acMatcher struct {
	class  [256]uint16 // byte → column; 0 for bytes no key holds
	ncol   int
	delta  []int32   // row*ncol+col → next row*ncol, ^(row*ncol) when that row has outputs
	outs   [][]int32 // by row: the keys that end there
	nstate int
}

func newACMatcher(keys []string) *acMatcher {
	m := &acMatcher{ncol: 1}
	for _, k := range keys {
		for i := 0; i < len(k); i++ {
			if m.class[k[i]] == 0 {
				m.class[k[i]] = uint16(m.ncol)
				m.ncol++
			}
		}
	}
	// The trie.
	children := []map[uint16]int32{{}}
	outs := [][]int32{nil}
	for id, k := range keys {
		s := int32(0)
		for i := 0; i < len(k); i++ {
			col := m.class[k[i]]
			next, ok := children[s][col]
			if !ok {
				next = int32(len(children))
				children = append(children, map[uint16]int32{})
				outs = append(outs, nil)
				children[s][col] = next
			}
			s = next
		}
		outs[s] = append(outs[s], int32(id))
	}
	// Failure links, breadth first, folded into a full transition table.
	n := len(children)
	m.nstate = n
	next := make([]int32, n*m.ncol) // state numbers for now
	fail := make([]int32, n)
	queue := []int32{}
	for col := 0; col < m.ncol; col++ {
		if c, ok := children[0][uint16(col)]; ok {
			next[col] = c
			queue = append(queue, c)
		}
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		outs[s] = append(outs[s], outs[fail[s]]...)
		for col := 0; col < m.ncol; col++ {
			if c, ok := children[s][uint16(col)]; ok {
				fail[c] = next[int(fail[s])*m.ncol+col]
				next[int(s)*m.ncol+col] = c
				queue = append(queue, c)
			} else {
				next[int(s)*m.ncol+col] = next[int(fail[s])*m.ncol+col]
			}
		}
	}
	m.outs = outs
	m.delta = make([]int32, len(next))
	for i, t := range next {
		v := t * int32(m.ncol)
		if len(outs[t]) > 0 {
			v = ^v
		}
		m.delta[i] = v
	}
	return m
}

// scan sets the bit of every key found in s and reports whether any was.
func (m *acMatcher) scan(s string, hits []uint64) bool {
	delta, class := m.delta, &m.class
	found := false
	row := int32(0)
	for i := 0; i < len(s); i++ {
		v := delta[row+int32(class[s[i]])]
		if v < 0 {
			v = ^v
			for _, id := range m.outs[v/int32(m.ncol)] {
				hits[id>>6] |= 1 << (id & 63)
			}
			found = true
		}
		row = v
	}
	return found
}
