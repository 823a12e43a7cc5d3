package wp

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/wpfix/wpfix/wp/php"
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
	Value php.Value `json:"value"`
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
			debug = php.Strval(k.Value) == "development"
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
func (c *Config) set(name string, v php.Value) {
	if f, ok := configStrings[name]; ok {
		*f(c) = php.Strval(v)
	}
	if f, ok := configBools[name]; ok && (name != "WP_DEBUG_DISPLAY" || v.Kind() != php.KindNull) {
		b := php.Boolval(v)
		*f(c) = &b
	}
	switch name {
	case "DB_PASSWORD":
		c.DBPassword = Secret(php.Strval(v))
	case "WP_DEBUG_LOG":
		c.DebugLog = debugLog(v)
	}
}

// debugLog decides WP_DEBUG_LOG's meaning as wp_debug_mode does.
func debugLog(v php.Value) string {
	if s := strings.ToLower(php.Strval(v)); s == "true" || s == "1" {
		return DebugLogDefault
	}
	if s, ok := v.AsString(); ok && php.Boolval(v) {
		return s // a path; '' and '0' are false to WordPress's if ( $log_path )
	}
	return ""
}

// parsedConfig is what the parser found, secrets included.
type parsedConfig struct {
	constants   map[string]Constant
	unresolved  []Unresolved
	tablePrefix string
}

func parseConfigSource(src []byte) (*parsedConfig, error) {
	toks, isPHP := php.Lex(src)
	if !isPHP {
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
	toks             []php.Token
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
		case t.Kind == php.TokenIdent && strings.EqualFold(t.Text, "define") && p.isDefine(i):
			p.define(i)
		case t.Kind == php.TokenVar && t.Text == "$table_prefix" && !p.isOp(i-1, "->", "?->", "::", "$"):
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
		case t.Kind == php.TokenClose:
			open = open[:0] // ?> ends any statement
		case opening(t) != "":
			open = append(open, i)
		case closing(t) && len(open) > 0:
			o := open[len(open)-1]
			open = open[:len(open)-1]
			if opening(p.toks[o]) == t.Text {
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
		case t.Kind == php.TokenClose || t.Kind == php.TokenOp && (t.Text == ";" || t.Text == ",") || closing(t):
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
func opening(t php.Token) string {
	if t.Kind != php.TokenOp {
		return ""
	}
	switch t.Text {
	case "(":
		return ")"
	case "[", "#[":
		return "]"
	case "{":
		return "}"
	}
	return ""
}

func closing(t php.Token) bool {
	return t.Kind == php.TokenOp && (t.Text == ")" || t.Text == "]" || t.Text == "}")
}

// isOp reports whether token i is one of the operators ops.
func (p *configParser) isOp(i int, ops ...string) bool {
	return i >= 0 && i < len(p.toks) && p.toks[i].Kind == php.TokenOp && slices.Contains(ops, p.toks[i].Text)
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
		if prev > 0 && p.toks[prev-1].Kind == php.TokenIdent && p.toks[prev-1].End == p.toks[prev].Start {
			return false // Some\Namespace\define()
		}
		prev--
	}
	if p.isOp(prev, "::") {
		return prev > 0 && p.toks[prev-1].Kind == php.TokenIdent && strings.EqualFold(p.toks[prev-1].Text, "Config")
	}
	if p.isOp(prev, "->", "?->") {
		return false
	}
	if prev >= 0 && p.toks[prev].Kind == php.TokenIdent {
		switch strings.ToLower(p.toks[prev].Text) {
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
	toks []php.Token
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
		case t.Kind == php.TokenOp && t.Text == ",":
			args = append(args, p.argument(from, e))
			from = e + 1
		default: // ;, ?>, a bracket never closed or never opened
			return nil, false
		}
	}
}

func (p *configParser) argument(from, to int) argument {
	a := argument{toks: p.toks[from:to]}
	if len(a.toks) > 2 && a.toks[0].Kind == php.TokenIdent && a.toks[1].Kind == php.TokenOp && a.toks[1].Text == ":" {
		a.name, a.toks = a.toks[0].Text, a.toks[2:]
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
	if len(nameArg.toks) != 1 || nameArg.toks[0].Kind != php.TokenString || !nameArg.toks[0].Lit {
		return // a name only running PHP could tell
	}
	name := nameArg.toks[0].Text
	if p.seen[name] || len(valueArg.toks) == 0 {
		return // PHP ignores a second define of a name
	}
	p.seen[name] = true
	line := p.line(p.toks[i].Start)
	if v, ok := php.Literal(valueArg.toks); ok {
		p.out.constants[name] = Constant{Value: v, Line: line}
		return
	}
	p.out.unresolved = append(p.out.unresolved, Unresolved{Name: name, Line: line, Expr: p.expr(valueArg.toks, isSecretName(name))})
}

// assignPrefix records the assignment to $table_prefix at token i, if it is
// one.
func (p *configParser) assignPrefix(i int) {
	if i+1 >= len(p.toks) || p.toks[i+1].Kind != php.TokenOp {
		return
	}
	op := p.toks[i+1].Text
	if op != "=" && op != ".=" && op != "??=" {
		return
	}
	end := p.end[i+2]
	rhs := p.toks[i+2 : end]
	if len(rhs) == 0 {
		return
	}
	if v, ok := php.Literal(rhs); ok && op == "=" {
		p.out.tablePrefix = php.Strval(v)
		p.prefixUnresolved = nil
		return
	}
	expr := p.expr(rhs, false)
	if op != "=" {
		expr = p.expr(p.toks[i:end], false)
	}
	p.out.tablePrefix = ""
	p.prefixUnresolved = &Unresolved{Name: "$table_prefix", Line: p.line(p.toks[i].Start), Expr: expr}
}

// maxExpr is how much of an expression's source Unresolved.Expr keeps.
const maxExpr = 500

// expr returns the source text of toks, cut after maxExpr bytes with "…".
// For a secret, the literals in it are shown as '[REDACTED]', except those
// that are the first argument of a call or an index, such as the name in
// getenv('DB_PASSWORD').
func (p *configParser) expr(toks []php.Token, secret bool) string {
	first, last := toks[0], toks[len(toks)-1]
	var b []byte
	if !secret {
		b = p.src[first.Start:min(last.End, first.Start+maxExpr+1)]
	} else {
		at := first.Start
		for j, t := range toks {
			if len(b) > maxExpr {
				break
			}
			if t.Kind != php.TokenString && t.Kind != php.TokenNumber {
				continue
			}
			if j > 0 && toks[j-1].Kind == php.TokenOp && (toks[j-1].Text == "(" || toks[j-1].Text == "[") {
				continue
			}
			b = append(b, p.src[at:t.Start]...)
			b = append(b, "'"+redacted+"'"...)
			at = t.End
		}
		if len(b) <= maxExpr {
			b = append(b, p.src[at:last.End]...)
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
