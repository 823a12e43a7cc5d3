package logsig

import (
	"path"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/wpfix/wpfix/wp"
)

// Line is one line of a log, classified.
type Line struct {
	// Time is parsed from the line's timestamp; zero if it has none.
	Time time.Time `json:"time,omitzero"`
	// Text is the raw line, less a trailing newline. Callers sanitize it
	// before printing: it is whatever the log holds.
	Text string `json:"text"`
	// Signature is the id of the signature that matched, "" when none did;
	// Category, Severity and Summary are that signature's.
	Signature string `json:"signature,omitempty"`
	Category  string `json:"category,omitempty"`
	Severity  string `json:"severity,omitempty"`
	Summary   string `json:"summary,omitempty"`
	// Blames is the plugin, must-use plugin, theme or drop-in that the first
	// extension path in the line points at (a referrer's paths aside); nil
	// when there is none. Its Name is one path element: never empty, "." or
	// "..", and without a "/".
	Blames *wp.Extension `json:"blames,omitempty"`
	// Count is how many lines this one stands for: 1 from Classify, more
	// after Fold.
	Count int `json:"count"`
}

// signature is one compiled row of the table.
type signature struct {
	id, category, severity, summary string
	logs                            uint8 // bit per logFormat; 0: any
	needles                         []int // match: ids of its substrings in the matcher
	re                              *regexp.Regexp
	reNeedle                        int // the regexp's required literal, -1 if none
}

// Classifier names log lines by signature and blames the extension their
// paths point at. It is safe for concurrent use.
type Classifier struct {
	sigs    []signature
	needles []string
	ac      *acMatcher
	anchors []anchor
}

// NewClassifier returns a classifier with the built-in signatures and those
// of each extra TOML fragment (the schema is at the top of
// signatures.toml). A fragment's signatures are tried before the built-in
// ones, a later fragment's before an earlier's; one whose id is already
// known replaces the known one, and is tried where its fragment is. A
// fragment that cannot be used is a *SignatureError
// naming the fragment, the line and the signature where it can.
func NewClassifier(extra ...[]byte) (*Classifier, error) {
	var specs []signatureSpec
	for i := len(extra); i >= 1; i-- {
		s, err := parseSignatures(extra[i-1], i)
		if err != nil {
			return nil, err
		}
		specs = mergeSpecs(specs, s)
	}
	builtin, err := parseSignatures(builtinSignatures, 0)
	if err != nil {
		return nil, err
	}
	specs = mergeSpecs(specs, builtin)

	c := &Classifier{anchors: []anchor{{"/wp-content/", anchorContent}, {"('/", anchorContent}}}
	index := map[string]int{}
	needle := func(s string) int {
		if i, ok := index[s]; ok {
			return i
		}
		index[s] = len(c.needles)
		c.needles = append(c.needles, s)
		return len(c.needles) - 1
	}
	for _, sp := range specs {
		sig := signature{id: sp.ID, category: sp.Category, severity: sp.Severity, summary: sp.Summary,
			logs: sp.logs, re: sp.re, reNeedle: -1}
		for _, m := range sp.Match {
			sig.needles = append(sig.needles, needle(m))
		}
		if sp.re != nil {
			if lit := sp.literal; lit != "" {
				sig.reNeedle = needle(lit)
			}
		}
		c.sigs = append(c.sigs, sig)
	}
	keys := make([]string, len(c.needles))
	for i, n := range c.needles {
		keys[i] = n[:min(len(n), acKeyLen)]
	}
	c.ac = newACMatcher(keys)
	return c, nil
}

// mergeSpecs appends more to specs, leaving out those whose id specs already
// has: the earlier one wins.
func mergeSpecs(specs, more []signatureSpec) []signatureSpec {
	for _, s := range more {
		if !slices.ContainsFunc(specs, func(o signatureSpec) bool { return o.ID == s.ID }) {
			specs = append(specs, s)
		}
	}
	return specs
}

// SignatureIDs lists the ids of the classifier's signatures, in the order
// they are tried.
func (c *Classifier) SignatureIDs() []string {
	ids := make([]string, len(c.sigs))
	for i, s := range c.sigs {
		ids[i] = s.id
	}
	return ids
}

// WithDirs returns a copy of c that also attributes paths under relocated
// folders: WP_PLUGIN_DIR, WPMU_PLUGIN_DIR, a theme root and WP_CONTENT_DIR,
// as absolute paths. Empty ones are left out; paths under a wp-content
// folder are always attributed.
func (c *Classifier) WithDirs(pluginDir, muPluginDir, themeDir, contentDir string) *Classifier {
	cc := *c
	cc.anchors = slices.Clone(c.anchors)
	for _, d := range []struct {
		dir  string
		kind anchorKind
	}{{contentDir, anchorContent}, {pluginDir, anchorPlugins}, {muPluginDir, anchorMUPlugins}, {themeDir, anchorThemes}} {
		if d.dir == "" {
			continue
		}
		dir := path.Clean(d.dir)
		if dir == "/" || dir == "." || !strings.HasPrefix(dir, "/") {
			continue
		}
		cc.anchors = append(cc.anchors, anchor{dir + "/", d.kind})
	}
	return &cc
}

// Classify classifies one line of a log: its time, the first signature that
// matches and the extension its paths blame.
func (c *Classifier) Classify(line string) Line {
	line = strings.TrimRight(line, "\r\n")
	l := Line{Text: line, Count: 1}
	t, format, _ := parsePrefix(line)
	l.Time = t

	var small [8]uint64
	hits := small[:]
	if n := (len(c.needles) + 63) / 64; n > len(small) {
		hits = make([]uint64, n)
	}
	if c.ac.scan(line, hits) {
		for i := range c.sigs {
			s := &c.sigs[i]
			if s.logs != 0 && format != formatUnknown && s.logs&(1<<format) == 0 {
				continue
			}
			if c.matches(s, line, hits) {
				l.Signature, l.Category, l.Severity, l.Summary = s.id, s.category, s.severity, s.summary
				break
			}
		}
	} else {
		// No needle's key is in the line: only a regexp without a literal
		// can match.
		for i := range c.sigs {
			s := &c.sigs[i]
			if s.re == nil || s.reNeedle >= 0 {
				continue
			}
			if s.logs != 0 && format != formatUnknown && s.logs&(1<<format) == 0 {
				continue
			}
			if s.re.MatchString(line) {
				l.Signature, l.Category, l.Severity, l.Summary = s.id, s.category, s.severity, s.summary
				break
			}
		}
	}
	if e, ok := c.blame(line); ok {
		l.Blames = &e
	}
	return l
}

// matches reports whether s matches line, given the needle keys found in it.
func (c *Classifier) matches(s *signature, line string, hits []uint64) bool {
	has := func(id int) bool {
		if hits[id>>6]&(1<<(id&63)) == 0 {
			return false
		}
		n := c.needles[id]
		return len(n) <= acKeyLen || strings.Contains(line, n)
	}
	if s.re != nil {
		if s.reNeedle >= 0 && !has(s.reNeedle) {
			return false
		}
		return s.re.MatchString(line)
	}
	for _, id := range s.needles {
		if has(id) {
			return true
		}
	}
	return false
}
