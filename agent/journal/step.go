package journal

import "encoding/json"

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
	// Name, Old, OldSet, New and Network are an option's (OpOption).
	Name    string `json:"name,omitempty"`
	Old     string `json:"old,omitempty"`
	OldSet  bool   `json:"old_set,omitempty"`
	New     string `json:"new,omitempty"`
	Network bool   `json:"network,omitempty"`
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
// quarantine folder, a helper file): restore leaves it for Finish.
func (s *Step) Housekeeping() bool { return s.Op == OpMkdir || s.Op == OpHelper }
