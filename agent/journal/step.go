package journal

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/wpfix/wpfix/wp"
)

// Op is what a step changes. Each op has its own fields in Step; the
// others stay empty.
type Op string

// The operations a journal records.
const (
	// OpMkdir made the directory Path.
	OpMkdir Op = "mkdir"
	// OpRename moved From to To.
	OpRename Op = "rename"
	// OpOption set the option Name from Old (OldSet: it existed) to New;
	// Network for a multisite network option.
	OpOption Op = "option"
	// OpHelper placed a temporary, token-guarded PHP file at Path, served
	// at URL, which answers only the token whose SHA-256 is TokenHash.
	// Token, when kept, lets restore request it once more after a crash;
	// undoing the step removes the file.
	OpHelper Op = "helper"
)

// legacyCreate is how releases before the typed operations wrote a helper
// file: op "create", its URL in To and its token in New (To empty for the
// limits helper). Such a step is read as an OpHelper.
const legacyCreate Op = "create"

// State is where a step is between being planned and being undone.
type State string

// Step states. A step is written to the journal, synced, before its change
// is made (Planned), and marked after (Done); undoing goes through Undoing
// to Undone. Restore trusts no state without looking: it checks the files
// or writes the old value again, so a crash at any point between two
// writes is recovered.
const (
	Planned State = "planned"
	Done    State = "done"
	Undoing State = "undoing"
	Undone  State = "undone"
)

// Step is one change to a site.
type Step struct {
	Seq   int   `json:"seq"`
	State State `json:"state"`
	Op    Op    `json:"op"`
	// Path is the directory (OpMkdir) or the file (OpHelper).
	Path string `json:"path,omitempty"`
	// From and To are a rename's (OpRename).
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`
	// Name, Old, OldSet, New and Network are an option's (OpOption);
	// Name is also a minimal theme's folder name (OpTheme).
	Name    string `json:"name,omitempty"`
	Old     string `json:"old,omitempty"`
	OldSet  bool   `json:"old_set,omitempty"`
	New     string `json:"new,omitempty"`
	Network bool   `json:"network,omitempty"`
	// Blog is the site of a multisite network whose option it is (0: the
	// main site, or a single site).
	Blog int `json:"blog,omitempty"`
	// URL is where a helper file is served (OpHelper), without its token.
	URL string `json:"url,omitempty"`
	// Token is the secret a helper file asks for (OpHelper), kept only
	// when restore is to request the helper after a crash (the object
	// cache flusher); the file itself holds only its SHA-256.
	Token string `json:"token,omitempty"`
	// TokenHash is the hex SHA-256 of a helper file's token (OpHelper), as
	// the file holds it: what ties the file on disk to this step. Helpers
	// journaled before the typed operations have none.
	TokenHash string `json:"token_hash,omitempty"`
	// Why says what the change is for, for people reading the journal.
	Why string `json:"why,omitempty"`
}

// UnmarshalJSON reads a step, also as the releases before the typed
// operations wrote it (see legacyCreate).
func (s *Step) UnmarshalJSON(b []byte) error {
	type plain Step
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*s = Step(p)
	if s.Op == legacyCreate {
		s.Op = OpHelper
		if s.URL == "" {
			s.URL, s.To = s.To, ""
		}
		if s.Token == "" {
			s.Token, s.New = s.New, ""
		}
	}
	return nil
}

// Housekeeping reports a step that only makes room for the others (a
// quarantine folder, a helper file, wpfix's minimal theme): restore leaves
// it for Finish.
func (s *Step) Housekeeping() bool { return s.Op == OpMkdir || s.Op == OpHelper || s.Op == OpTheme }

// ErrUntrusted marks a journal wpfix refuses to act on: not a regular file,
// larger than MaxSize, not JSON, or holding a step or an option snapshot
// that is not one wpfix writes for this site. A journal sits in a folder
// the site's user can write, and restore often runs as root: it is a
// record to check, never a program to run. Nothing is changed when a
// journal is refused, and it is left as it is for a person to read.
var ErrUntrusted = errors.New("the journal cannot be trusted")

// untrustedError is an ErrUntrusted naming the journal and saying why.
type untrustedError struct {
	file, why string
}

func (e *untrustedError) Error() string {
	what := "the journal"
	if path.Base(e.file) != "journal" {
		what = "wpfix's state file"
	}
	return fmt.Sprintf("%s %s cannot be trusted: %s: refused; nothing was changed, and it is left as it is for a person to read", what, e.file, e.why)
}

func (e *untrustedError) Is(target error) bool { return target == ErrUntrusted }

// networkOption is the one network option wpfix snapshots and writes
// back, on multisite.
const networkOption = "active_sitewide_plugins"

// writable reports whether wpfix writes the option: the protected options,
// and on multisite the network's active plugins. No other name from a
// journal is written back.
func writable(name string, network bool) bool {
	if network {
		return name == networkOption
	}
	return slices.Contains(ProtectedOptions, name)
}

// helperName is the shape of a helper file's name: wpfix-<purpose>-<16
// hex digits>.php; releases before purposes wrote wpfix-<hex>.php.
var helperName = regexp.MustCompile(`^wpfix-(?:[a-z]+-)?[0-9a-f]{16}\.php$`)

// HelperName names a helper file for purpose ("limits", "flush") from 8
// random bytes: the only names a journal's helper steps may carry.
func HelperName(purpose string, random []byte) string {
	return "wpfix-" + purpose + "-" + hex.EncodeToString(random) + ".php"
}

// kindDir is where the site keeps extensions of kind, as WordPress lays
// them out: plugins (folders and single files) in PluginDir, must-use
// plugins in MUPluginDir, drop-ins in ContentDir, themes in ThemeDir.
func (s Site) kindDir(kind string) (string, bool) {
	switch kind {
	case wp.KindPlugin:
		return s.pluginDir(), true
	case wp.KindMUPlugin:
		return s.muPluginDir(), true
	case wp.KindDropin:
		return path.Clean(s.ContentDir), true
	case wp.KindTheme:
		return s.themeDir(), true
	}
	return "", false
}

// checkName checks an extension's name as the journal may hold it: one
// local path element, and for a must-use plugin or a drop-in the file
// WordPress would load.
func checkName(kind, name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, `/\`+"\x00") || !filepath.IsLocal(name) {
		return fmt.Errorf("%q is not a single file or folder name", name)
	}
	switch {
	case kind == wp.KindMUPlugin && !strings.HasSuffix(name, ".php"):
		return fmt.Errorf("%q is not a must-use plugin's file name (*.php)", name)
	case kind == wp.KindDropin && !wp.IsDropin(name):
		return fmt.Errorf("%q is not one of WordPress's drop-ins", name)
	}
	return nil
}

// target is where a step acts, rebuilt from the site's layout and the
// step's kind and name: restore touches these paths and no other.
type target struct {
	// from and to are a rename's: the extension's place in the site and
	// its place in the quarantine.
	from, to string
	// path is a mkdir's folder, a helper's file, or a minimal theme's
	// folder.
	path string
}

// rebuild checks a step against the site's layout and returns the paths it
// acts on, rebuilt from the site rather than taken from the step. Steps of
// format versions 1 and 2 carry paths only: the kind and name are derived
// from them, and the step accepted only when the rebuilt paths equal the
// recorded ones. The error says what the step does and why it is refused.
func (s Site) rebuild(st *Step) (target, error) {
	switch st.State {
	case Planned, Done, Undoing, Undone:
	default:
		return target{}, fmt.Errorf("has the unknown state %q", st.State)
	}
	q := s.quarantine()
	switch st.Op {
	case OpRename:
		notQuarantine := fmt.Errorf("renames %q to %q, which is not a quarantine path of this site (%s/KIND/NAME)", st.From, st.To, q)
		to := path.Clean(st.To)
		rest, ok := strings.CutPrefix(to, q+"/")
		if !ok || !path.IsAbs(st.To) {
			return target{}, notQuarantine
		}
		kind, name, _ := strings.Cut(rest, "/")
		dir, known := s.kindDir(kind)
		if !known {
			return target{}, fmt.Errorf("renames %q to %q, and %q is not a kind of extension wpfix turns off", st.From, st.To, kind)
		}
		if err := checkName(kind, name); err != nil {
			return target{}, fmt.Errorf("renames %q to %q, and %w", st.From, st.To, err)
		}
		t := target{from: path.Join(dir, name), to: path.Join(q, kind, name)}
		if !path.IsAbs(st.From) || path.Clean(st.From) != t.from {
			return target{}, fmt.Errorf("renames %q, which is not where this site keeps the %s %s (%s)", st.From, kind, name, t.from)
		}
		return t, nil
	case OpMkdir:
		p := path.Clean(st.Path)
		if path.IsAbs(st.Path) && p == q {
			return target{path: q}, nil
		}
		if kind, ok := strings.CutPrefix(p, q+"/"); ok && path.IsAbs(st.Path) {
			if _, known := s.kindDir(kind); known {
				return target{path: path.Join(q, kind)}, nil
			}
		}
		return target{}, fmt.Errorf("makes the folder %q, which is not one of wpfix's own under %s", st.Path, s.Dir())
	case OpHelper:
		root := s.root()
		p := path.Clean(st.Path)
		if root == "" || !path.IsAbs(st.Path) || path.Dir(p) != root || !helperName.MatchString(path.Base(p)) {
			return target{}, fmt.Errorf("places %q, which is not a wpfix helper file of this site (%s/wpfix-PURPOSE-HEX.php)", st.Path, orDash(root))
		}
		return target{path: path.Join(root, path.Base(p))}, nil
	case OpTheme:
		return s.rebuildTheme(st)
	case OpOption:
		if st.Blog < 0 || (st.Blog > 0 && (st.Network || s.Blogs == nil)) {
			return target{}, fmt.Errorf("writes the option %q of blog %d, which is not a site of this install", st.Name, st.Blog)
		}
		if !writable(st.Name, st.Network) {
			return target{}, fmt.Errorf("writes the option %q, which is not one wpfix writes (%s)", st.Name, strings.Join(append(slices.Clone(ProtectedOptions), networkOption), ", "))
		}
		return target{}, nil
	}
	return target{}, fmt.Errorf("has the unknown operation %q", st.Op)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
