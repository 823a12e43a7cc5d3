package logsig

import (
	_ "embed"
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"
)

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

// Error names the fragment, line and signature where they are known.
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

// Unwrap returns what is wrong with the signature.
func (e *SignatureError) Unwrap() error { return e.Err }

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
	// Every key of a [[signature]] table is decoded (and checked by
	// checkSignature); other tables of the file are its reader's, wpfix's
	// config loader, which refuses the keys it does not know.
	_ = md
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
