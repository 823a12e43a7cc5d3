package wp

import (
	"bytes"
	"errors"
	"fmt"
	"math/big"
	"net"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ErrNotPHP is returned by ParseConfig for input that has no <?php tag,
// so it cannot be a wp-config.php.
var ErrNotPHP = errors.New("not a PHP file")

// DebugLogDefault is Config.DebugLog when WP_DEBUG_LOG is true (or "1",
// "true" in any case): WordPress then logs to WP_CONTENT_DIR/debug.log.
const DebugLogDefault = "true"

// Config is what a wp-config.php defines, read without running it. A string
// field is "" and a *bool field nil when its constant is not defined by a
// literal: either not defined (WordPress's default applies later) or
// defined by an expression, which is then listed in Unresolved. Constants
// holds every literal define.
type Config struct {
	// DBName is DB_NAME.
	DBName string `json:"db_name"`
	// DBUser is DB_USER.
	DBUser string `json:"db_user"`
	// DBPassword is DB_PASSWORD; it prints as [REDACTED].
	DBPassword Secret `json:"db_password"`
	// DBHost is DB_HOST as written: a host, host:port, [v6]:port or
	// host:/socket. ParseDBHost says where it leads.
	DBHost string `json:"db_host"`
	// DBCharset is DB_CHARSET.
	DBCharset string `json:"db_charset"`
	// DBCollate is DB_COLLATE.
	DBCollate string `json:"db_collate"`
	// TablePrefix is $table_prefix, from its last assignment.
	TablePrefix string `json:"table_prefix"`
	// Debug is WP_DEBUG, read as PHP reads it in a condition.
	Debug *bool `json:"debug"`
	// DebugLog is where WP_DEBUG_LOG sends PHP's errors, decided as
	// WordPress's wp_debug_mode does: "" for off (false, null, '' or not
	// defined), DebugLogDefault ("true") for WP_CONTENT_DIR/debug.log, or
	// else the path given. WordPress honours it only when WP_DEBUG is on;
	// DebugLogFile applies that rule.
	DebugLog string `json:"debug_log"`
	// DebugDisplay is WP_DEBUG_DISPLAY. nil when not defined (WordPress
	// then shows errors when WP_DEBUG is on) and also when defined as null
	// (WordPress then leaves php.ini's display_errors alone): Constants
	// tells the two apart.
	DebugDisplay *bool `json:"debug_display"`
	// MemoryLimit is WP_MEMORY_LIMIT, such as "256M".
	MemoryLimit string `json:"memory_limit"`
	// MaxMemoryLimit is WP_MAX_MEMORY_LIMIT, the limit in wp-admin.
	MaxMemoryLimit string `json:"max_memory_limit"`
	// ContentDir is WP_CONTENT_DIR, the wp-content folder when moved.
	ContentDir string `json:"content_dir"`
	// PluginDir is WP_PLUGIN_DIR, the plugins folder when moved.
	PluginDir string `json:"plugin_dir"`
	// Multisite is MULTISITE: the install is a network.
	Multisite *bool `json:"multisite"`
	// Cache is WP_CACHE: WordPress loads the advanced-cache.php drop-in.
	Cache *bool `json:"cache"`

	// Constants holds every constant defined by a literal, by name. The
	// values of secrets (DB_PASSWORD, the keys and salts: any name with
	// PASSWORD, PASSWD, SECRET, TOKEN, SALT, LICENSE, LICENCE or PRIVATE in
	// it, or ending in _KEY or _PASS) are not kept here: such a Constant
	// is Redacted, with a null Value.
	Constants map[string]Constant `json:"constants"`
	// Unresolved lists, in source order, the constants (and
	// $table_prefix) whose values are expressions that only running PHP
	// could tell: getenv() calls, __DIR__ . '/x', concatenations,
	// variables, strings with "$interpolation". A secret's literals in
	// Expr are shown as '[REDACTED]'.
	Unresolved []Unresolved `json:"unresolved"`
}

// Constant is a constant defined by a literal in wp-config.php.
type Constant struct {
	// Value is the literal: a string, int, float, bool or null.
	Value Value `json:"value"`
	// Line is the 1-based line of its define.
	Line int `json:"line"`
	// Redacted is true for a secret, whose Value is not kept.
	Redacted bool `json:"redacted,omitempty"`
}

// Unresolved is a constant, or $table_prefix, whose value is an expression.
type Unresolved struct {
	// Name is the constant's name, or "$table_prefix".
	Name string `json:"name"`
	// Line is the 1-based line of its define or assignment.
	Line int `json:"line"`
	// Expr is the expression's source text, such as getenv('DB_HOST'),
	// cut with "…" after 500 bytes.
	Expr string `json:"expr"`
}

// DebugLogFile returns the file WordPress sends PHP's errors to under this
// config, as wp_debug_mode decides: "" when WP_DEBUG is off or WP_DEBUG_LOG
// is, contentDir/debug.log for DebugLogDefault, else DebugLog (a relative
// path is relative to PHP's working directory). contentDir is
// WP_CONTENT_DIR, or ABSPATH/wp-content by default. A WP_DEBUG that is not
// defined counts as on only when WP_ENVIRONMENT_TYPE is defined as
// "development"; the WP_ENVIRONMENT_TYPE environment variable is not seen.
// When WP_DEBUG or WP_DEBUG_LOG is Unresolved, the answer is "".
func (c *Config) DebugLogFile(contentDir string) string {
	debug := c.Debug != nil && *c.Debug
	if c.Debug == nil && !c.unresolved("WP_DEBUG") {
		if k, ok := c.Constants["WP_ENVIRONMENT_TYPE"]; ok {
			debug = phpString(k.Value) == "development"
		}
	}
	switch {
	case !debug || c.DebugLog == "":
		return ""
	case c.DebugLog == DebugLogDefault:
		return strings.TrimSuffix(contentDir, "/") + "/debug.log"
	}
	return c.DebugLog
}

// unresolved reports whether name is in c.Unresolved.
func (c *Config) unresolved(name string) bool {
	return slices.ContainsFunc(c.Unresolved, func(u Unresolved) bool { return u.Name == name })
}

// Fields of Config set from a constant, by name: a table, not a chain.
var (
	configStrings = map[string]func(*Config) *string{
		"DB_NAME":             func(c *Config) *string { return &c.DBName },
		"DB_USER":             func(c *Config) *string { return &c.DBUser },
		"DB_HOST":             func(c *Config) *string { return &c.DBHost },
		"DB_CHARSET":          func(c *Config) *string { return &c.DBCharset },
		"DB_COLLATE":          func(c *Config) *string { return &c.DBCollate },
		"WP_MEMORY_LIMIT":     func(c *Config) *string { return &c.MemoryLimit },
		"WP_MAX_MEMORY_LIMIT": func(c *Config) *string { return &c.MaxMemoryLimit },
		"WP_CONTENT_DIR":      func(c *Config) *string { return &c.ContentDir },
		"WP_PLUGIN_DIR":       func(c *Config) *string { return &c.PluginDir },
	}
	configBools = map[string]func(*Config) **bool{
		"WP_DEBUG":         func(c *Config) **bool { return &c.Debug },
		"WP_DEBUG_DISPLAY": func(c *Config) **bool { return &c.DebugDisplay },
		"MULTISITE":        func(c *Config) **bool { return &c.Multisite },
		"WP_CACHE":         func(c *Config) **bool { return &c.Cache },
	}
)

// secretWords mark a constant's value as a secret when its name contains
// one of them.
var secretWords = []string{"PASSWORD", "PASSWD", "SECRET", "TOKEN", "SALT", "LICENSE", "LICENCE", "PRIVATE"}

// isSecretName reports whether a constant's value must not be shown.
func isSecretName(name string) bool {
	u := strings.ToUpper(name)
	for _, w := range secretWords {
		if strings.Contains(u, w) {
			return true
		}
	}
	return strings.HasSuffix(u, "_KEY") || strings.HasSuffix(u, "_PASS") || u == "KEY"
}

// ParseConfig reads a wp-config.php without running it: its define() calls
// (also those guarded by if ( ! defined( ... ) ); the first define of a
// name wins, as in PHP), Bedrock's Config::define() calls, and its
// $table_prefix assignment (the last wins). A define in a branch counts as
// if it ran: the first one in the file wins.
// Defines in comments, strings and heredocs are not calls and are ignored.
// A value that is not a literal is listed in Config.Unresolved and never
// stops the parse. ParseConfig fails only for input without a <?php tag
// (ErrNotPHP); a missing DB_NAME is for the caller to report.
func ParseConfig(src []byte) (*Config, error) {
	raw, err := parseConfigSource(src)
	if err != nil {
		return nil, err
	}
	c := &Config{Constants: make(map[string]Constant, len(raw.constants)), Unresolved: raw.unresolved}
	for name, k := range raw.constants {
		c.set(name, k.Value)
		if isSecretName(name) {
			k = Constant{Line: k.Line, Redacted: true}
		}
		c.Constants[name] = k
	}
	c.TablePrefix = raw.tablePrefix
	return c, nil
}

// set sets the field of c that the constant name feeds, if any.
func (c *Config) set(name string, v Value) {
	if f, ok := configStrings[name]; ok {
		*f(c) = phpString(v)
	}
	if f, ok := configBools[name]; ok && (name != "WP_DEBUG_DISPLAY" || v.kind != KindNull) {
		b := phpTruthy(v)
		*f(c) = &b
	}
	switch name {
	case "DB_PASSWORD":
		c.DBPassword = Secret(phpString(v))
	case "WP_DEBUG_LOG":
		c.DebugLog = debugLog(v)
	}
}

// debugLog decides WP_DEBUG_LOG's meaning as wp_debug_mode does.
func debugLog(v Value) string {
	if s := strings.ToLower(phpString(v)); s == "true" || s == "1" {
		return DebugLogDefault
	}
	if s, ok := v.AsString(); ok && phpTruthy(v) {
		return s // a path; '' and '0' are false to WordPress's if ( $log_path )
	}
	return ""
}

// phpString converts a literal to a string as PHP's (string) cast does.
func phpString(v Value) string {
	switch v.kind {
	case KindString:
		return v.s
	case KindFloat:
		return formatPHPFloat(v.f, 14) // php.ini's precision
	case KindInt:
		return strconv.FormatInt(v.i, 10)
	case KindBool:
		if v.b {
			return "1"
		}
	}
	return ""
}

// phpTruthy reports whether PHP takes a literal as true in a condition.
func phpTruthy(v Value) bool {
	switch v.kind {
	case KindBool:
		return v.b
	case KindInt:
		return v.i != 0
	case KindFloat:
		return v.f != 0
	case KindString:
		return v.s != "" && v.s != "0"
	}
	return false
}

// parsedConfig is what the parser found, secrets included.
type parsedConfig struct {
	constants   map[string]Constant
	unresolved  []Unresolved
	tablePrefix string
}

func parseConfigSource(src []byte) (*parsedConfig, error) {
	toks, php := lexPHP(src)
	if !php {
		return nil, fmt.Errorf("parse wp-config.php: %w: no <?php tag", ErrNotPHP)
	}
	p := &configParser{src: src, toks: toks, out: &parsedConfig{constants: map[string]Constant{}, unresolved: []Unresolved{}}, seen: map[string]bool{}}
	for i, c := range src {
		if c == '\n' {
			p.newlines = append(p.newlines, i)
		}
	}
	p.parse()
	if p.prefixUnresolved != nil {
		p.out.unresolved = append(p.out.unresolved, *p.prefixUnresolved)
	}
	sort.SliceStable(p.out.unresolved, func(i, j int) bool { return p.out.unresolved[i].Line < p.out.unresolved[j].Line })
	return p.out, nil
}

type configParser struct {
	src              []byte
	toks             []token
	newlines         []int // offsets of '\n', for line numbers
	match            []int // for a bracket token, the index of its pair, or -1
	end              []int // for a token, the index where the expression it starts ends
	out              *parsedConfig
	seen             map[string]bool // constants defined, by a literal or not
	prefixUnresolved *Unresolved     // the last $table_prefix assignment, when not a literal
}

func (p *configParser) parse() {
	p.index()
	for i, t := range p.toks {
		switch {
		case t.kind == tokIdent && strings.EqualFold(t.text, "define") && p.isDefine(i):
			p.define(i)
		case t.kind == tokVar && t.text == "$table_prefix" && !p.isOp(i-1, "->", "?->", "::", "$"):
			p.assignPrefix(i)
		}
	}
}

// line returns the 1-based line of the byte at offset pos.
func (p *configParser) line(pos int) int { return sort.SearchInts(p.newlines, pos) + 1 }

// index pairs the bracket tokens and finds where each expression ends, so
// that reading a call or an assignment skips over brackets without
// scanning them again: input of nested or unclosed calls takes linear time.
func (p *configParser) index() {
	n := len(p.toks)
	p.match = make([]int, n)
	var open []int
	for i, t := range p.toks {
		p.match[i] = -1
		switch {
		case t.kind == tokClose:
			open = open[:0] // ?> ends any statement
		case opening(t) != "":
			open = append(open, i)
		case closing(t) && len(open) > 0:
			o := open[len(open)-1]
			open = open[:len(open)-1]
			if opening(p.toks[o]) == t.text {
				p.match[o], p.match[i] = i, o
			}
		}
	}
	// end[i] is the first token at or after i, outside brackets that open
	// at or after i, that ends an expression: ; , ?> a closing bracket, or
	// an opening one that is never closed.
	p.end = make([]int, n+1)
	p.end[n] = n
	for i := n - 1; i >= 0; i-- {
		t := p.toks[i]
		switch {
		case t.kind == tokClose || t.kind == tokOp && (t.text == ";" || t.text == ",") || closing(t):
			p.end[i] = i
		case opening(t) != "" && p.match[i] >= 0:
			p.end[i] = p.end[p.match[i]+1]
		case opening(t) != "":
			p.end[i] = i
		default:
			p.end[i] = p.end[i+1]
		}
	}
}

// opening returns the bracket that closes t, if t opens one.
func opening(t token) string {
	if t.kind != tokOp {
		return ""
	}
	switch t.text {
	case "(":
		return ")"
	case "[", "#[":
		return "]"
	case "{":
		return "}"
	}
	return ""
}

func closing(t token) bool {
	return t.kind == tokOp && (t.text == ")" || t.text == "]" || t.text == "}")
}

// isOp reports whether token i is one of the operators ops.
func (p *configParser) isOp(i int, ops ...string) bool {
	return i >= 0 && i < len(p.toks) && p.toks[i].kind == tokOp && slices.Contains(ops, p.toks[i].text)
}

// isDefine reports whether the name at token i, "define", is a call of
// PHP's define: followed by "(" and not a method, a declaration or new. A
// call of Config::define counts too: Roots' WPConfig, used by Bedrock,
// defines its constants when the config calls Config::apply().
func (p *configParser) isDefine(i int) bool {
	if !p.isOp(i+1, "(") {
		return false
	}
	prev := i - 1
	if p.isOp(prev, `\`) {
		if prev > 0 && p.toks[prev-1].kind == tokIdent && p.toks[prev-1].end == p.toks[prev].start {
			return false // Some\Namespace\define()
		}
		prev--
	}
	if p.isOp(prev, "::") {
		return prev > 0 && p.toks[prev-1].kind == tokIdent && strings.EqualFold(p.toks[prev-1].text, "Config")
	}
	if p.isOp(prev, "->", "?->") {
		return false
	}
	if prev >= 0 && p.toks[prev].kind == tokIdent {
		switch strings.ToLower(p.toks[prev].text) {
		case "function", "fn", "new", "const":
			return false
		}
	}
	return true
}

// argument is one argument of a call: its tokens, and its name if given
// as name: value.
type argument struct {
	name string
	toks []token
}

// callArgs splits the arguments of the call whose "(" is token open. It
// fails for a call that does not close, or holds a ";" or ?> outside
// brackets.
func (p *configParser) callArgs(open int) ([]argument, bool) {
	close := p.match[open]
	if close < 0 {
		return nil, false
	}
	var args []argument
	for from := open + 1; ; {
		e := p.end[from]
		switch t := p.toks[e]; {
		case e == close:
			if e > from || len(args) > 0 {
				args = append(args, p.argument(from, e))
			}
			return args, true
		case t.kind == tokOp && t.text == ",":
			args = append(args, p.argument(from, e))
			from = e + 1
		default: // ;, ?>, a bracket never closed or never opened
			return nil, false
		}
	}
}

func (p *configParser) argument(from, to int) argument {
	a := argument{toks: p.toks[from:to]}
	if len(a.toks) > 2 && a.toks[0].kind == tokIdent && a.toks[1].kind == tokOp && a.toks[1].text == ":" {
		a.name, a.toks = a.toks[0].text, a.toks[2:]
	}
	return a
}

// define records the define() call at token i.
func (p *configParser) define(i int) {
	args, ok := p.callArgs(i + 1)
	if !ok || len(args) < 2 {
		return
	}
	nameArg, valueArg := args[0], args[1]
	for _, a := range args {
		switch a.name {
		case "constant_name":
			nameArg = a
		case "value":
			valueArg = a
		}
	}
	if len(nameArg.toks) != 1 || nameArg.toks[0].kind != tokString || !nameArg.toks[0].lit {
		return // a name only running PHP could tell
	}
	name := nameArg.toks[0].text
	if p.seen[name] || len(valueArg.toks) == 0 {
		return // PHP ignores a second define of a name
	}
	p.seen[name] = true
	line := p.line(p.toks[i].start)
	if v, ok := literal(valueArg.toks); ok {
		p.out.constants[name] = Constant{Value: v, Line: line}
		return
	}
	p.out.unresolved = append(p.out.unresolved, Unresolved{Name: name, Line: line, Expr: p.expr(valueArg.toks, isSecretName(name))})
}

// assignPrefix records the assignment to $table_prefix at token i, if it is
// one.
func (p *configParser) assignPrefix(i int) {
	if i+1 >= len(p.toks) || p.toks[i+1].kind != tokOp {
		return
	}
	op := p.toks[i+1].text
	if op != "=" && op != ".=" && op != "??=" {
		return
	}
	end := p.end[i+2]
	rhs := p.toks[i+2 : end]
	if len(rhs) == 0 {
		return
	}
	if v, ok := literal(rhs); ok && op == "=" {
		p.out.tablePrefix = phpString(v)
		p.prefixUnresolved = nil
		return
	}
	expr := p.expr(rhs, false)
	if op != "=" {
		expr = p.expr(p.toks[i:end], false)
	}
	p.out.tablePrefix = ""
	p.prefixUnresolved = &Unresolved{Name: "$table_prefix", Line: p.line(p.toks[i].start), Expr: expr}
}

// maxExpr is how much of an expression's source Unresolved.Expr keeps.
const maxExpr = 500

// expr returns the source text of toks, cut after maxExpr bytes with "…".
// For a secret, the literals in it are shown as '[REDACTED]', except those
// that are the first argument of a call or an index, such as the name in
// getenv('DB_PASSWORD').
func (p *configParser) expr(toks []token, secret bool) string {
	first, last := toks[0], toks[len(toks)-1]
	var b []byte
	if !secret {
		b = p.src[first.start:min(last.end, first.start+maxExpr+1)]
	} else {
		at := first.start
		for j, t := range toks {
			if len(b) > maxExpr {
				break
			}
			if t.kind != tokString && t.kind != tokNumber {
				continue
			}
			if j > 0 && toks[j-1].kind == tokOp && (toks[j-1].text == "(" || toks[j-1].text == "[") {
				continue
			}
			b = append(b, p.src[at:t.start]...)
			b = append(b, "'"+redacted+"'"...)
			at = t.end
		}
		if len(b) <= maxExpr {
			b = append(b, p.src[at:last.end]...)
		}
	}
	if len(b) <= maxExpr {
		return string(b)
	}
	b = b[:maxExpr]
	for len(b) > 0 && !utf8.Valid(b[max(0, len(b)-3):]) {
		b = b[:len(b)-1] // do not cut a character in two
	}
	return string(b) + "…"
}

// literal returns the value of an expression that is a single literal: a
// string without interpolation, a number (with a sign), true, false or
// null (in any case, with or without a leading \).
func literal(toks []token) (Value, bool) {
	if len(toks) == 2 && toks[0].kind == tokOp {
		switch toks[0].text {
		case `\`:
			if toks[1].kind == tokIdent {
				return literal(toks[1:])
			}
		case "-", "+":
			t := toks[1]
			v, ok := t.value()
			if t.kind != tokNumber || !ok {
				return Value{}, false
			}
			if toks[0].text == "+" {
				return v, true
			}
			if i, ok := v.AsInt(); ok {
				return Int(-i), true
			}
			f, _ := v.AsFloat()
			return Float(-f), true
		}
		return Value{}, false
	}
	if len(toks) != 1 {
		return Value{}, false
	}
	switch t := toks[0]; t.kind {
	case tokString, tokNumber:
		return t.value()
	case tokIdent:
		switch strings.ToLower(t.text) {
		case "true":
			return Bool(true), true
		case "false":
			return Bool(false), true
		case "null":
			return Null(), true
		}
	}
	return Value{}, false
}

// The PHP lexer: just enough of PHP's tokens to find define() calls and
// assignments in code, past comments, strings and inline HTML.

type tokKind uint8

const (
	tokIdent  tokKind = iota + 1 // a name: define, true, getenv, __DIR__
	tokVar                       // $name
	tokString                    // '...', "...", `...`, a heredoc or nowdoc
	tokNumber                    // 42, 0x2A, 1.5e3
	tokOp                        // an operator or punctuation
	tokClose                     // ?>, which ends a statement
)

type token struct {
	start, end int    // byte offsets in the source
	text       string // a name, an operator, a number's text, a literal string's value
	kind       tokKind
	lit        bool // a string without interpolation, or a number PHP accepts
}

// value returns the value of a literal string or number token.
func (t token) value() (Value, bool) {
	switch {
	case !t.lit:
		return Value{}, false
	case t.kind == tokString:
		return String(t.text), true
	case t.kind == tokNumber:
		return numberValue(t.text)
	}
	return Value{}, false
}

// ops are PHP's operators of more than one byte, longest first; any other
// byte is an operator of its own.
var ops = []string{
	"===", "!==", "<=>", "**=", "...", "<<=", ">>=", "??=", "?->",
	"==", "!=", "<>", "<=", ">=", "=>", "->", "::", "++", "--", "+=", "-=", "*=", "/=",
	".=", "%=", "&=", "|=", "^=", "&&", "||", "??", "<<", ">>", "**", "#[",
}

type lexer struct {
	src  []byte
	pos  int
	toks []token
}

// lexPHP returns the tokens of the PHP code in src, and whether src has
// any PHP code (a <?php or <?= tag) at all.
func lexPHP(src []byte) ([]token, bool) {
	l := &lexer{src: src, toks: make([]token, 0, len(src)/4)} // wp-config.php has a token every 4-8 bytes
	php := false
	for l.pos < len(src) {
		at, n := openTag(src[l.pos:])
		if at < 0 {
			break
		}
		php = true
		l.pos += at + n
		l.code()
	}
	return l.toks, php
}

// openTag finds the first <?php (followed by a space or the end) or <?= in
// inline HTML and returns its offset and length.
func openTag(b []byte) (int, int) {
	for off := 0; ; {
		i := bytes.Index(b[off:], []byte("<?"))
		if i < 0 {
			return -1, 0
		}
		i += off
		rest := b[i+2:]
		switch {
		case len(rest) > 0 && rest[0] == '=':
			return i, 3
		case len(rest) >= 3 && strings.EqualFold(string(rest[:3]), "php") && (len(rest) == 3 || isSpace(rest[3])):
			return i, 5
		}
		off = i + 2
	}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func isLabelStart(c byte) bool {
	return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c >= 0x80
}

func isLabel(c byte) bool { return isLabelStart(c) || '0' <= c && c <= '9' }

func (l *lexer) emit(kind tokKind, start int, text string, lit bool) {
	l.toks = append(l.toks, token{kind: kind, start: start, end: l.pos, text: text, lit: lit})
}

func (l *lexer) peek(off int) byte {
	if l.pos+off < len(l.src) {
		return l.src[l.pos+off]
	}
	return 0
}

// code lexes PHP code up to ?> or the end.
func (l *lexer) code() {
	src := l.src
	for l.pos < len(src) {
		start, c := l.pos, src[l.pos]
		switch {
		case isSpace(c) || c == '\f' || c == '\v':
			l.pos++
		case c == '?' && l.peek(1) == '>':
			l.pos += 2
			l.emit(tokClose, start, "?>", false)
			if l.peek(0) == '\n' {
				l.pos++
			} else if l.peek(0) == '\r' && l.peek(1) == '\n' {
				l.pos += 2
			}
			return
		case c == '#' && l.peek(1) != '[' || c == '/' && l.peek(1) == '/':
			l.lineComment()
		case c == '/' && l.peek(1) == '*':
			if end := bytes.Index(src[l.pos+2:], []byte("*/")); end >= 0 {
				l.pos += 2 + end + 2
			} else {
				l.pos = len(src)
			}
		case c == '\'':
			l.singleQuoted()
		case c == '"':
			l.doubleQuoted()
		case c == '`':
			l.pos++
			for l.pos < len(src) && src[l.pos] != '`' {
				if src[l.pos] == '\\' {
					l.pos++
				}
				l.pos++
			}
			l.pos = min(l.pos+1, len(src))
			l.emit(tokString, start, "", false)
		case c == '<' && l.heredoc():
		case c == '$' && isLabelStart(l.peek(1)):
			l.pos++
			for l.pos < len(src) && isLabel(src[l.pos]) {
				l.pos++
			}
			l.emit(tokVar, start, string(src[start:l.pos]), false)
		case isLabelStart(c):
			for l.pos < len(src) && isLabel(src[l.pos]) {
				l.pos++
			}
			l.emit(tokIdent, start, string(src[start:l.pos]), false)
		case '0' <= c && c <= '9' || c == '.' && '0' <= l.peek(1) && l.peek(1) <= '9':
			l.number()
		default:
			op := string(c)
			for _, o := range ops {
				if bytes.HasPrefix(src[l.pos:], []byte(o)) {
					op = o
					break
				}
			}
			l.pos += len(op)
			l.emit(tokOp, start, op, false)
		}
	}
}

// lineComment skips a // or # comment, which ends at a newline or at ?>.
func (l *lexer) lineComment() {
	for l.pos < len(l.src) && l.src[l.pos] != '\n' {
		if l.src[l.pos] == '?' && l.peek(1) == '>' {
			return
		}
		l.pos++
	}
}

// singleQuoted lexes a '...' string, where only \' and \\ are escapes.
func (l *lexer) singleQuoted() {
	start := l.pos
	var b []byte
	for l.pos++; l.pos < len(l.src); l.pos++ {
		c := l.src[l.pos]
		switch {
		case c == '\\' && (l.peek(1) == '\'' || l.peek(1) == '\\'):
			l.pos++
			b = append(b, l.src[l.pos])
		case c == '\'':
			l.pos++
			l.emit(tokString, start, string(b), true)
			return
		default:
			b = append(b, c)
		}
	}
	l.emit(tokString, start, "", false) // unterminated
}

// doubleQuoted lexes a "..." string with PHP's escapes. One with
// interpolation ($var, {$expr}, ${expr}) is not a literal.
func (l *lexer) doubleQuoted() {
	start := l.pos
	var b []byte
	lit := true
	for l.pos++; l.pos < len(l.src); {
		c := l.src[l.pos]
		switch {
		case c == '"':
			l.pos++
			if !lit {
				l.emit(tokString, start, "", false)
			} else {
				l.emit(tokString, start, string(b), true)
			}
			return
		case c == '\\':
			var ok bool
			if b, ok = l.escape(b); !ok {
				lit = false
			}
		case c == '$' && (isLabelStart(l.peek(1)) || l.peek(1) == '{'), c == '{' && l.peek(1) == '$':
			lit = false
			b = append(b, c)
			l.pos++
		default:
			b = append(b, c)
			l.pos++
		}
	}
	l.emit(tokString, start, "", false) // unterminated
}

// simpleEscapes are the one-letter escapes of a double-quoted string.
var simpleEscapes = map[byte]byte{'n': '\n', 't': '\t', 'r': '\r', 'v': '\v', 'e': 0x1b, 'f': '\f', '\\': '\\', '$': '$', '"': '"'}

// escape decodes the escape sequence at l.pos in a double-quoted string,
// appending it to b. It reports false for one that is a PHP compile error
// (a bad \u{...}).
func (l *lexer) escape(b []byte) ([]byte, bool) {
	n := l.peek(1)
	l.pos += 2
	if e, ok := simpleEscapes[n]; ok {
		return append(b, e), true
	}
	switch {
	case n == 0 && l.pos > len(l.src):
		l.pos = len(l.src)
		return append(b, '\\'), true
	case '0' <= n && n <= '7':
		v := int(n - '0')
		for k := 0; k < 2 && '0' <= l.peek(0) && l.peek(0) <= '7'; k++ {
			v = v*8 + int(l.peek(0)-'0')
			l.pos++
		}
		return append(b, byte(v)), true // PHP wraps \400 and above to a byte
	case n == 'x' && hexDigit(l.peek(0)) >= 0:
		v := hexDigit(l.peek(0))
		l.pos++
		if d := hexDigit(l.peek(0)); d >= 0 {
			v = v*16 + d
			l.pos++
		}
		return append(b, byte(v)), true
	case n == 'u' && l.peek(0) == '{':
		end := l.pos + 1
		for end < len(l.src) && hexDigit(l.src[end]) >= 0 {
			end++
		}
		digits := string(l.src[l.pos+1 : end])
		if end >= len(l.src) || l.src[end] != '}' {
			return b, false // PHP: invalid UTF-8 codepoint escape sequence
		}
		l.pos = end + 1
		cp, err := strconv.ParseUint(digits, 16, 32)
		if err != nil || cp > 0x10FFFF {
			return b, false
		}
		return appendUTF8(b, rune(cp)), true
	}
	return append(b, '\\', n), true
}

// appendUTF8 encodes r as PHP's \u{} does: UTF-8, surrogates included.
func appendUTF8(b []byte, r rune) []byte {
	if r >= 0xD800 && r <= 0xDFFF {
		return append(b, byte(0xE0|r>>12), byte(0x80|(r>>6)&0x3F), byte(0x80|r&0x3F))
	}
	return utf8.AppendRune(b, r)
}

func hexDigit(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// heredoc lexes a heredoc or nowdoc at l.pos, if there is one. Neither is
// taken as a literal.
func (l *lexer) heredoc() bool {
	src, start := l.src, l.pos
	i := l.pos + 3
	if !bytes.HasPrefix(src[l.pos:], []byte("<<<")) {
		return false
	}
	for i < len(src) && (src[i] == ' ' || src[i] == '\t') {
		i++
	}
	quote := byte(0)
	if i < len(src) && (src[i] == '\'' || src[i] == '"') {
		quote = src[i]
		i++
	}
	from := i
	if i >= len(src) || !isLabelStart(src[i]) {
		return false
	}
	for i < len(src) && isLabel(src[i]) {
		i++
	}
	label := string(src[from:i])
	if quote != 0 {
		if i >= len(src) || src[i] != quote {
			return false
		}
		i++
	}
	if i < len(src) && src[i] == '\r' {
		i++
	}
	if i >= len(src) || src[i] != '\n' {
		return false
	}
	// The body ends at a line holding the label, maybe indented, followed
	// by something that is not part of a name.
	for i < len(src) {
		i++ // past the '\n'
		j := i
		for j < len(src) && (src[j] == ' ' || src[j] == '\t') {
			j++
		}
		if bytes.HasPrefix(src[j:], []byte(label)) && (j+len(label) == len(src) || !isLabel(src[j+len(label)])) {
			l.pos = j + len(label)
			l.emit(tokString, start, "", false)
			return true
		}
		nl := bytes.IndexByte(src[i:], '\n')
		if nl < 0 {
			break
		}
		i += nl
	}
	l.pos = len(src)
	l.emit(tokString, start, "", false) // unterminated
	return true
}

// number lexes an int or float literal as PHP does: decimal, 0x hex, 0b
// binary, 0o or leading-0 octal, with _ between digits; an int too large
// for 64 bits becomes a float.
func (l *lexer) number() {
	src, start := l.src, l.pos
	digitsOf := func(ok func(byte) bool) {
		for l.pos < len(src) && (ok(src[l.pos]) || src[l.pos] == '_') {
			l.pos++
		}
	}
	isDec := func(c byte) bool { return '0' <= c && c <= '9' }
	base := 10
	if src[l.pos] == '0' {
		switch l.peek(1) | 0x20 {
		case 'x':
			base = 16
		case 'b':
			base = 2
		case 'o':
			base = 8
		}
		if d := hexDigit(l.peek(2)); d < 0 || d >= base {
			base = 10 // "0x" alone is 0 and a name
		}
	}
	if base != 10 {
		l.pos += 2
		digitsOf(func(c byte) bool { return hexDigit(c) >= 0 && hexDigit(c) < base })
	} else {
		digitsOf(isDec)
		if l.peek(0) == '.' && (l.pos > start || isDec(l.peek(1))) {
			l.pos++
			digitsOf(isDec)
		}
		if c := l.peek(0) | 0x20; c == 'e' {
			k := 1
			if l.peek(1) == '+' || l.peek(1) == '-' {
				k = 2
			}
			if isDec(l.peek(k)) {
				l.pos += k
				digitsOf(isDec)
			}
		}
	}
	text := string(src[start:l.pos])
	_, ok := numberValue(text)
	l.emit(tokNumber, start, text, ok)
}

// numberValue returns the value of a number token's text, and false for
// one that PHP rejects (misplaced _, 8 or 9 in octal).
func numberValue(text string) (Value, bool) {
	base, digits := 10, text
	if len(text) > 2 && text[0] == '0' {
		switch text[1] | 0x20 {
		case 'x':
			base, digits = 16, text[2:]
		case 'b':
			base, digits = 2, text[2:]
		case 'o':
			base, digits = 8, text[2:]
		}
	}
	float := base == 10 && strings.ContainsAny(text, ".eE")
	if digits == "" || digits[0] == '_' || digits[len(digits)-1] == '_' || strings.Contains(digits, "__") {
		return Value{}, false
	}
	if low := strings.ToLower(digits); base == 10 && (strings.Contains(low, "_.") || strings.Contains(low, "._") ||
		strings.Contains(low, "_e") || strings.Contains(low, "e_")) {
		return Value{}, false
	}
	digits = strings.ReplaceAll(digits, "_", "")
	if float {
		f, err := strconv.ParseFloat(digits, 64)
		if err != nil && !isRangeError(err) {
			return Value{}, false
		}
		return Float(f), true
	}
	if base == 10 && len(digits) > 1 && digits[0] == '0' {
		base = 8 // legacy octal: 0755
		digits = digits[1:]
	}
	if i, err := strconv.ParseInt(digits, base, 64); err == nil {
		return Int(i), true
	} else if !isRangeError(err) {
		return Value{}, false
	}
	n, ok := new(big.Int).SetString(digits, base)
	if !ok {
		return Value{}, false
	}
	f, _ := new(big.Float).SetInt(n).Float64()
	return Float(f), true
}

// DBAddress is where the database server listens, as PHP's mysqli reaches
// it from DB_HOST.
type DBAddress struct {
	// Network is "tcp" or "unix".
	Network string
	// Addr is host:port for "tcp", and the socket's path for "unix"; ""
	// means PHP's default socket (mysqli.default_socket, or the path PHP
	// was built with), which the caller must find.
	Addr string
}

// String returns the address as network:addr, e.g. "tcp:db:3306",
// "unix:/run/mysqld/mysqld.sock" or "unix:(default socket)".
func (a DBAddress) String() string {
	if a.Network == "unix" && a.Addr == "" {
		return "unix:(default socket)"
	}
	return a.Network + ":" + a.Addr
}

// DefaultDBPort is MySQL's port, mysqli.default_port's default.
const DefaultDBPort = 3306

// ErrBadDBHost is wrapped by ParseDBHost's errors.
var ErrBadDBHost = errors.New("bad DB_HOST")

// ParseDBHost says where DB_HOST leads, as WordPress's
// wpdb::parse_db_host splits it and PHP's mysqli (mysqlnd) then connects:
//
//	db.example.com, db:3307, 10.0.0.5:3307    tcp, port 3306 by default
//	::1, [::1], [::1]:3307                     tcp to an IPv6 address
//	localhost, LOCALHOST                       unix, PHP's default socket (Addr "")
//	localhost:/run/mysqld/mysqld.sock          unix, that socket
//	:/run/mysqld/mysqld.sock                   unix, that socket
//	localhost:3307                             unix, PHP's default socket
//
// mysqlnd reaches "localhost" through a Unix socket whatever the port, so
// localhost:3307 ignores the port: to reach a server on port 3307 over TCP,
// DB_HOST must say 127.0.0.1:3307. Likewise a socket path after a host
// other than localhost is ignored (PHP uses TCP). Where WordPress would
// silently drop what it cannot read (a port that is not a number, text
// after the address), and for an empty DB_HOST (PHP would fall back to
// mysqli.default_host), ParseDBHost fails with an error wrapping
// ErrBadDBHost.
func ParseDBHost(s string) (DBAddress, error) {
	bad := func(why string) (DBAddress, error) {
		return DBAddress{}, fmt.Errorf("%w %q: %s", ErrBadDBHost, s, why)
	}
	if s == "" {
		return bad("empty")
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] == 0x7f {
			return bad("has spaces or control characters")
		}
	}
	host, socket, hasSocket := s, "", false
	if i := strings.Index(s, ":/"); i >= 0 {
		host, socket, hasSocket = s[:i], s[i+1:], true
	}
	var port string
	switch {
	case strings.Count(host, ":") > 1: // IPv6, maybe [bracketed]:port
		if h, ok := strings.CutPrefix(host, "["); ok {
			inner, rest, closed := strings.Cut(h, "]")
			if !closed {
				return bad("no ] after the IPv6 address")
			}
			host = inner
			if rest != "" {
				p, ok := strings.CutPrefix(rest, ":")
				if !ok || p == "" {
					return bad("want [address]:port")
				}
				port = p
			}
		}
		if strings.Trim(host, "0123456789abcdefABCDEF:") != "" || net.ParseIP(host) == nil {
			return bad("not an IPv6 address")
		}
	default:
		var hasPort bool
		host, port, hasPort = strings.Cut(host, ":")
		if hasPort && port == "" {
			return bad("empty port")
		}
		if strings.ContainsAny(host, "/[]@") {
			return bad("not a host name")
		}
	}
	n := DefaultDBPort
	if port != "" {
		p, err := strconv.Atoi(port)
		if err != nil || p < 0 || p > 65535 || strings.ContainsAny(port, "+-") {
			return bad("port " + strconv.Quote(port) + " is not a number from 0 to 65535")
		}
		if p != 0 { // mysqli takes port 0 as mysqli.default_port
			n = p
		}
	}
	if host == "" || strings.EqualFold(host, "localhost") {
		if hasSocket && len(socket) > 1 {
			return DBAddress{Network: "unix", Addr: socket}, nil
		}
		if hasSocket {
			return bad("empty socket path")
		}
		return DBAddress{Network: "unix"}, nil
	}
	return DBAddress{Network: "tcp", Addr: net.JoinHostPort(host, strconv.Itoa(n))}, nil
}
