package wp

import (
	_ "embed"
	"errors"
	"fmt"
	"path"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/BurntSushi/toml"
)

// LogLine is one line of a log, classified.
type LogLine struct {
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
	Blames *Extension `json:"blames,omitempty"`
	// Count is how many lines this one stands for: 1 from Classify, more
	// after Fold.
	Count int `json:"count"`
}

// Signature categories and severities, as signatures.toml uses them.
var (
	signatureCategories = []string{"upstream", "php-fpm", "php", "database", "disk"}
	signatureSeverities = []string{"fatal", "error", "warning"}
)

//go:embed signatures.toml
var builtinSignatures []byte

// SignatureError is a signature, or a fragment of signatures, that cannot be
// used: a TOML error, an unknown key, a bad value or a regexp that does not
// compile.
type SignatureError struct {
	// Fragment is 0 for the built-in table, n for the n-th extra fragment
	// given to NewClassifier.
	Fragment int
	// Line is the line of the fragment the error is on, when known.
	Line int
	// ID is the signature's id, or "#n" (its place in the fragment) when it
	// has none.
	ID  string
	Err error
}

func (e *SignatureError) Error() string {
	var b strings.Builder
	b.WriteString("log signatures")
	if e.Fragment == 0 {
		b.WriteString(" (built in)")
	} else {
		fmt.Fprintf(&b, " (fragment %d)", e.Fragment)
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, ", line %d", e.Line)
	}
	if e.ID != "" {
		fmt.Fprintf(&b, ", signature %q", e.ID)
	}
	return b.String() + ": " + e.Err.Error()
}

func (e *SignatureError) Unwrap() error { return e.Err }

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
func (c *Classifier) Classify(line string) LogLine {
	line = strings.TrimRight(line, "\r\n")
	l := LogLine{Text: line, Count: 1}
	t, format, _ := parseLogPrefix(line)
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

// ---- signatures ----------------------------------------------------------

// signatureSpec is a signature as a TOML fragment gives it, checked.
type signatureSpec struct {
	ID, Category, Severity, Summary string
	Logs                            []string
	Match                           []string
	Regexp                          string

	logs    uint8
	re      *regexp.Regexp
	literal string
}

var signatureID = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// parseSignatures reads one fragment; fragment numbers it for errors.
func parseSignatures(src []byte, fragment int) ([]signatureSpec, error) {
	var doc struct {
		Signature []map[string]any `toml:"signature"`
	}
	md, err := toml.Decode(string(src), &doc)
	if err != nil {
		se := &SignatureError{Fragment: fragment, Err: err}
		var pe toml.ParseError
		if errors.As(err, &pe) {
			se.Line = pe.Position.Line
			se.ID = idAround(src, pe.Position.Line)
			se.Err = errors.New(pe.Message)
		}
		return nil, se
	}
	if und := md.Undecoded(); len(und) > 0 {
		return nil, &SignatureError{Fragment: fragment, Err: fmt.Errorf("unknown key %q (the file holds [[signature]] tables only)", und[0].String())}
	}
	var specs []signatureSpec
	seen := map[string]bool{}
	for i, m := range doc.Signature {
		sp, err := checkSignature(m)
		if err != nil {
			id := sp.ID
			if id == "" {
				id = fmt.Sprintf("#%d", i+1)
			}
			return nil, &SignatureError{Fragment: fragment, ID: id, Err: err}
		}
		if seen[sp.ID] {
			return nil, &SignatureError{Fragment: fragment, ID: sp.ID, Err: errors.New("the id is used twice in the fragment")}
		}
		seen[sp.ID] = true
		specs = append(specs, sp)
	}
	return specs, nil
}

// idAround returns the id of the [[signature]] table that holds line, if
// its id line comes before it.
func idAround(src []byte, line int) string {
	lines := strings.Split(string(src), "\n")
	for i := min(line, len(lines)) - 1; i >= 0; i-- {
		l := strings.TrimSpace(lines[i])
		if strings.HasPrefix(l, "[[") {
			break
		}
		if v, ok := strings.CutPrefix(l, "id"); ok {
			v = strings.TrimSpace(v)
			if v, ok = strings.CutPrefix(v, "="); ok {
				return strings.Trim(strings.TrimSpace(v), `"'`)
			}
		}
	}
	return ""
}

// checkSignature turns one [[signature]] table into a spec, or says what is
// wrong with it. The spec's ID is set whenever the table has a string id.
func checkSignature(m map[string]any) (signatureSpec, error) {
	var sp signatureSpec
	str := func(key string, dst *string) error {
		v, ok := m[key]
		if !ok {
			return nil
		}
		s, ok := v.(string)
		if !ok {
			return fmt.Errorf("%s must be a string, not %T", key, v)
		}
		*dst = s
		return nil
	}
	list := func(key string, dst *[]string) error {
		v, ok := m[key]
		if !ok {
			return nil
		}
		items, ok := v.([]any)
		if !ok {
			return fmt.Errorf("%s must be a list of strings, not %T", key, v)
		}
		for _, it := range items {
			s, ok := it.(string)
			if !ok {
				return fmt.Errorf("%s must be a list of strings; it holds a %T", key, it)
			}
			*dst = append(*dst, s)
		}
		return nil
	}
	if err := str("id", &sp.ID); err != nil {
		return sp, err
	}
	for key := range m {
		switch key {
		case "id", "category", "severity", "summary", "logs", "match", "regexp":
		default:
			return sp, fmt.Errorf("unknown key %q (known: id, category, severity, summary, logs, match, regexp)", key)
		}
	}
	for _, err := range []error{str("category", &sp.Category), str("severity", &sp.Severity),
		str("summary", &sp.Summary), str("regexp", &sp.Regexp), list("logs", &sp.Logs), list("match", &sp.Match)} {
		if err != nil {
			return sp, err
		}
	}
	switch {
	case sp.ID == "":
		return sp, errors.New("id is missing")
	case !signatureID.MatchString(sp.ID):
		return sp, errors.New("id must be 1 to 64 lower case letters, digits, '.', '_' or '-'")
	case !slices.Contains(signatureCategories, sp.Category):
		return sp, fmt.Errorf("category %q is not one of %s", sp.Category, strings.Join(signatureCategories, ", "))
	case !slices.Contains(signatureSeverities, sp.Severity):
		return sp, fmt.Errorf("severity %q is not one of %s", sp.Severity, strings.Join(signatureSeverities, ", "))
	case strings.TrimSpace(sp.Summary) == "":
		return sp, errors.New("summary is missing")
	case len(sp.Match) > 0 && sp.Regexp != "":
		return sp, errors.New("give match or regexp, not both")
	case len(sp.Match) == 0 && sp.Regexp == "":
		return sp, errors.New("give match (a list of substrings) or regexp")
	case slices.Contains(sp.Match, ""):
		return sp, errors.New("match holds an empty string, which would match every line")
	}
	for _, name := range sp.Logs {
		f := slices.Index(formatNames[:], name)
		if f <= int(formatUnknown) {
			return sp, fmt.Errorf("logs: %q is not one of %s", name, strings.Join(formatNames[1:], ", "))
		}
		sp.logs |= 1 << f
	}
	if sp.Regexp != "" {
		re, err := regexp.Compile(sp.Regexp)
		if err != nil {
			return sp, fmt.Errorf("regexp: %w", err)
		}
		if re.MatchString("") {
			return sp, fmt.Errorf("regexp %q matches an empty line, so every line", sp.Regexp)
		}
		sp.re = re
		if parsed, err := syntax.Parse(sp.Regexp, syntax.Perl); err == nil {
			sp.literal = requiredLiteral(parsed)
		}
	}
	return sp, nil
}

// requiredLiteral returns the longest case-sensitive literal that every
// match of re contains, "" if it cannot tell.
func requiredLiteral(re *syntax.Regexp) string {
	switch re.Op {
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase != 0 {
			return ""
		}
		return string(re.Rune)
	case syntax.OpCapture, syntax.OpPlus:
		return requiredLiteral(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return requiredLiteral(re.Sub[0])
		}
	case syntax.OpConcat:
		best := ""
		for _, s := range re.Sub {
			if l := requiredLiteral(s); len(l) > len(best) {
				best = l
			}
		}
		return best
	}
	return ""
}

// ---- substring search ----------------------------------------------------

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

// ---- attribution ---------------------------------------------------------

type anchorKind uint8

const (
	anchorContent anchorKind = iota // what follows is relative to wp-content
	anchorPlugins
	anchorMUPlugins
	anchorThemes
)

// anchor is a string after which a path names an extension: "/wp-content/",
// "('/" (WordPress's backtrace summaries name files relative to
// wp-content), and relocated folders.
type anchor struct {
	s    string
	kind anchorKind
}

// pathEnd holds the bytes that end a file or folder name in a log line.
var pathEnd = func() (t [256]bool) {
	for _, c := range []byte("/ \t\r\n'\"()[]{}<>:;,|`\\?#&=*") {
		t[c] = true
	}
	return t
}()

// referrerMarks start the referrer nginx and Apache append to a line: a
// page the client names, not what the server ran, so no path after one is
// blamed.
var referrerMarks = []string{", referrer: \"", ", referer: "}

// blame returns the extension of the leftmost extension path in line, left
// of any referrer.
func (c *Classifier) blame(line string) (Extension, bool) {
	e, at := c.firstExtension(line)
	for _, mark := range referrerMarks {
		if at < 0 {
			break
		}
		if r := strings.Index(line, mark); r >= 0 && at >= r {
			line = line[:r]
			e, at = c.firstExtension(line)
		}
	}
	return e, at >= 0
}

// firstExtension returns the extension of the leftmost extension path in
// line and where it starts, -1 if there is none.
func (c *Classifier) firstExtension(line string) (Extension, int) {
	best, found := -1, Extension{}
	for _, a := range c.anchors {
		from := 0
		for {
			i := strings.Index(line[from:], a.s)
			if i < 0 {
				break
			}
			i += from
			if best >= 0 && i >= best {
				break
			}
			if e, ok := resolvePath(a.kind, line[i+len(a.s):]); ok {
				best, found = i, e
				break
			}
			from = i + 1
		}
	}
	return found, best
}

// resolvePath names the extension that rest, a path relative to the folder
// the anchor kind names, belongs to.
func resolvePath(kind anchorKind, rest string) (Extension, bool) {
	if kind == anchorContent {
		switch {
		case strings.HasPrefix(rest, "plugins/"):
			kind, rest = anchorPlugins, rest[len("plugins/"):]
		case strings.HasPrefix(rest, "mu-plugins/"):
			kind, rest = anchorMUPlugins, rest[len("mu-plugins/"):]
		case strings.HasPrefix(rest, "themes/"):
			kind, rest = anchorThemes, rest[len("themes/"):]
		}
	}
	j := 0
	for j < len(rest) && !pathEnd[rest[j]] {
		j++
	}
	name := rest[:j]
	folder := j < len(rest) && rest[j] == '/'
	if name == "" || name == "." || name == ".." {
		return Extension{}, false
	}
	phpFile := !folder && len(name) > len(".php") && strings.HasSuffix(name, ".php")
	switch kind {
	case anchorPlugins:
		if folder || phpFile {
			return Extension{Kind: KindPlugin, Name: name}, true
		}
	case anchorMUPlugins:
		if folder || phpFile {
			return Extension{Kind: KindMUPlugin, Name: name}, true
		}
	case anchorThemes:
		if folder {
			return Extension{Kind: KindTheme, Name: name}, true
		}
	case anchorContent:
		if phpFile && slices.ContainsFunc(dropinKinds, func(d struct{ File, Description, LoadedWhen string }) bool {
			return d.File == name
		}) {
			return Extension{Kind: KindDropin, Name: name}, true
		}
	}
	return Extension{}, false
}

// ---- time ----------------------------------------------------------------

// logFormat is the kind of log a line's timestamp tells.
type logFormat uint8

const (
	formatUnknown logFormat = iota
	formatNginx
	formatApache
	formatFPM
	formatPHP
	formatMariaDB
)

// formatNames are the names signatures.toml's logs key uses.
var formatNames = [...]string{"", "nginx", "apache", "php-fpm", "php", "mariadb"}

// ParseLogTime parses the timestamp a log line starts with: nginx's
// "2026/11/23 00:09:45", php-fpm's "[23-Nov-2026 00:09:45]", PHP's and
// WordPress's "[23-Nov-2026 00:10:39 UTC]" (any zone name PHP writes),
// Apache's "[Mon Nov 23 00:00:00.123456 2026]", MariaDB's "2026-11-23
// 1:00:33" and MySQL's "2026-11-23T01:00:33.123456Z". A time without a zone
// is in time.Local.
func ParseLogTime(line string) (time.Time, bool) {
	t, _, n := parseLogPrefix(line)
	return t, n > 0
}

// parseLogPrefix returns the line's time, its format and the length of its
// timestamp (0 when it has none). A php-fpm line without a time
// ("NOTICE: PHP message: ...") has formatFPM and length 0.
func parseLogPrefix(s string) (time.Time, logFormat, int) {
	if len(s) < 19 {
		return time.Time{}, fpmLevelFormat(s), 0
	}
	switch {
	case s[0] == '[' && len(s) >= 22 && s[3] == '-' && s[7] == '-':
		return parseBracketed(s)
	case s[0] == '[' && len(s) >= 26 && s[4] == ' ' && s[8] == ' ':
		return parseApache(s)
	case s[4] == '/' && s[7] == '/' && s[10] == ' ':
		y, ok1 := digits(s[0:4])
		mo, ok2 := digits(s[5:7])
		d, ok3 := digits(s[8:10])
		h, mi, sec, ok4 := clock(s[11:19])
		if t, ok := mkTime(y, mo, d, h, mi, sec, 0, time.Local); ok && ok1 && ok2 && ok3 && ok4 {
			return t, formatNginx, 19
		}
	case s[4] == '-' && s[7] == '-' && (s[10] == ' ' || s[10] == 'T'):
		return parseISO(s)
	}
	return time.Time{}, fpmLevelFormat(s), 0
}

// fpmLevelFormat tells php-fpm's undecorated lines, which start with a
// level and no time.
func fpmLevelFormat(s string) logFormat {
	for _, p := range []string{"NOTICE: ", "WARNING: ", "ERROR: ", "ALERT: "} {
		if strings.HasPrefix(s, p) {
			return formatFPM
		}
	}
	return formatUnknown
}

// parseBracketed parses "[23-Nov-2026 00:09:45]" (php-fpm, with optional
// microseconds) and "[23-Nov-2026 00:10:39 UTC]" (PHP).
func parseBracketed(s string) (time.Time, logFormat, int) {
	d, ok1 := digits(s[1:3])
	mo := month(s[4:7])
	y, ok2 := digits(s[8:12])
	if !ok1 || !ok2 || mo == 0 || s[12] != ' ' {
		return time.Time{}, formatUnknown, 0
	}
	h, mi, sec, ok := clock(s[13:21])
	if !ok {
		return time.Time{}, formatUnknown, 0
	}
	i := 21
	ns, i := fraction(s, i)
	switch {
	case i < len(s) && s[i] == ']':
		if t, ok := mkTime(y, mo, d, h, mi, sec, ns, time.Local); ok {
			return t, formatFPM, i + 1
		}
	case i < len(s) && s[i] == ' ':
		end := strings.IndexByte(s[i+1:min(len(s), i+1+maxZoneLen+1)], ']')
		if end <= 0 {
			break
		}
		loc := zone(s[i+1 : i+1+end])
		if loc == nil {
			loc = time.Local
		}
		if t, ok := mkTime(y, mo, d, h, mi, sec, ns, loc); ok {
			return t, formatPHP, i + 1 + end + 1
		}
	}
	return time.Time{}, formatUnknown, 0
}

// parseApache parses "[Mon Nov 23 00:00:00.123456 2026]".
func parseApache(s string) (time.Time, logFormat, int) {
	mo := month(s[5:8])
	d, ok1 := digitsPadded(s[9:11])
	if mo == 0 || !ok1 || s[11] != ' ' {
		return time.Time{}, formatUnknown, 0
	}
	h, mi, sec, ok := clock(s[12:20])
	if !ok {
		return time.Time{}, formatUnknown, 0
	}
	ns, i := fraction(s, 20)
	if i+6 > len(s) || s[i] != ' ' || s[i+5] != ']' {
		return time.Time{}, formatUnknown, 0
	}
	y, ok2 := digits(s[i+1 : i+5])
	if t, ok := mkTime(y, mo, d, h, mi, sec, ns, time.Local); ok && ok2 {
		return t, formatApache, i + 6
	}
	return time.Time{}, formatUnknown, 0
}

// parseISO parses MariaDB's "2026-11-23  1:00:33" (hour padded with a
// space) and "2026-11-23 01:00:33", and the ISO form of MySQL 8 and others,
// "2026-11-23T01:00:33.123456Z" (a zone of Z or ±hh:mm; none is local).
func parseISO(s string) (time.Time, logFormat, int) {
	y, ok1 := digits(s[0:4])
	mo, ok2 := digits(s[5:7])
	d, ok3 := digits(s[8:10])
	if !ok1 || !ok2 || !ok3 {
		return time.Time{}, formatUnknown, 0
	}
	h, ok4 := digitsPadded(s[11:13])
	if s[10] == 'T' {
		h, ok4 = digits(s[11:13])
	}
	mi, ok5 := digits(s[14:16])
	sec, ok6 := digits(s[17:19])
	if !ok4 || !ok5 || !ok6 || s[13] != ':' || s[16] != ':' || h > 23 || mi > 59 || sec > 59 {
		return time.Time{}, formatUnknown, 0
	}
	if s[10] == ' ' {
		if t, ok := mkTime(y, mo, d, h, mi, sec, 0, time.Local); ok {
			return t, formatMariaDB, 19
		}
		return time.Time{}, formatUnknown, 0
	}
	ns, i := fraction(s, 19)
	loc := time.Local
	switch {
	case i < len(s) && s[i] == 'Z':
		loc, i = time.UTC, i+1
	case i+6 <= len(s) && (s[i] == '+' || s[i] == '-') && s[i+3] == ':':
		oh, ok1 := digits(s[i+1 : i+3])
		om, ok2 := digits(s[i+4 : i+6])
		if !ok1 || !ok2 || oh > 23 || om > 59 {
			return time.Time{}, formatUnknown, 0
		}
		off := oh*3600 + om*60
		if s[i] == '-' {
			off = -off
		}
		loc, i = time.FixedZone("", off), i+6
	}
	if t, ok := mkTime(y, mo, d, h, mi, sec, ns, loc); ok {
		return t, formatUnknown, i
	}
	return time.Time{}, formatUnknown, 0
}

func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, len(s) > 0
}

// digitsPadded is digits for a two-digit field that may be padded with a
// space (" 1").
func digitsPadded(s string) (int, bool) {
	if len(s) == 2 && s[0] == ' ' {
		return digits(s[1:])
	}
	return digits(s)
}

// clock parses "15:04:05".
func clock(s string) (h, m, sec int, ok bool) {
	if len(s) != 8 || s[2] != ':' || s[5] != ':' {
		return 0, 0, 0, false
	}
	h, ok1 := digits(s[0:2])
	m, ok2 := digits(s[3:5])
	sec, ok3 := digits(s[6:8])
	return h, m, sec, ok1 && ok2 && ok3 && h < 24 && m < 60 && sec < 60
}

// fraction parses an optional ".123456" at s[i:], returning nanoseconds
// and the index after it.
func fraction(s string, i int) (int, int) {
	if i >= len(s) || s[i] != '.' {
		return 0, i
	}
	j, ns, scale := i+1, 0, 100000000
	for j < len(s) && s[j] >= '0' && s[j] <= '9' {
		if scale > 0 {
			ns += int(s[j]-'0') * scale
			scale /= 10
		}
		j++
	}
	if j == i+1 {
		return 0, i
	}
	return ns, j
}

var months = [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

func month(s string) int {
	for i, m := range months {
		if s == m {
			return i + 1
		}
	}
	return 0
}

// mkTime builds a time from fields, refusing those time.Date would
// normalize (30 Feb, month 13).
func mkTime(y, mo, d, h, mi, s, ns int, loc *time.Location) (time.Time, bool) {
	if mo < 1 || mo > 12 || d < 1 || d > 31 {
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(mo), d, h, mi, s, ns, loc)
	if t.Day() != d {
		return time.Time{}, false
	}
	return t, true
}

// maxZoneLen bounds a zone name PHP writes (America/Argentina/ComodRivadavia
// is the longest in the tz database).
const maxZoneLen = 40

var zones struct {
	sync.Mutex
	m map[string]*time.Location // nil: not a zone
}

// zone returns the location PHP's zone name stands for, nil if none; names
// are loaded once and remembered (a bounded number of them).
func zone(name string) *time.Location {
	switch name {
	case "UTC", "Z", "GMT":
		return time.UTC
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '/' || c == '_' || c == '-' || c == '+') {
			return nil
		}
	}
	if name == "" || name[0] == '/' || strings.Contains(name, "..") {
		return nil
	}
	zones.Lock()
	defer zones.Unlock()
	if loc, ok := zones.m[name]; ok {
		return loc
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		loc = nil
	}
	if zones.m == nil {
		zones.m = map[string]*time.Location{}
	}
	if len(zones.m) < 256 {
		zones.m[name] = loc
	}
	return loc
}

// ---- folding -------------------------------------------------------------

// Fold folds repeats into one line: lines with the same signature, blame
// and text once numbers, hex, pids, client ports and timestamps are masked.
// The folded line keeps the latest Time and Text, the sum of the Counts,
// and the place of its latest occurrence, so lines stay in time order.
func Fold(lines []LogLine) []LogLine {
	type group struct {
		line LogLine
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
	out := make([]LogLine, 0, len(groups))
	for i, k := range order {
		if g := groups[k]; g.last == i {
			out = append(out, g.line)
		}
	}
	return out
}

// foldKey is what makes two lines repeats of each other.
func foldKey(l LogLine) string {
	var b strings.Builder
	b.WriteString(l.Signature)
	b.WriteByte(0)
	if l.Blames != nil {
		b.WriteString(l.Blames.Kind)
		b.WriteByte(' ')
		b.WriteString(l.Blames.Name)
	}
	b.WriteByte(0)
	_, _, n := parseLogPrefix(l.Text)
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
