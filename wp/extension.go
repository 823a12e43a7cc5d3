package wp

import "strings"

// Extension kinds: what WordPress loads besides its core, as wpfix reports
// them.
const (
	KindPlugin   = "plugin"
	KindMUPlugin = "mu-plugin"
	KindDropin   = "dropin"
	KindTheme    = "theme"
)

// Extension names a piece of code WordPress loads: a plugin folder (or
// file, for a single-file plugin), a must-use plugin or drop-in file name,
// or a theme's stylesheet (its folder).
type Extension struct {
	Kind string `json:"kind"`
	Name string `json:"name"`
}

// String is the kind and the name, for people: "plugin slider-pro".
func (e Extension) String() string { return e.Kind + " " + e.Name }

// Valid reports whether e is of a known kind with a name that is a single
// path element, as wpfix reports extensions.
func (e Extension) Valid() bool {
	switch e.Kind {
	case KindPlugin, KindMUPlugin, KindDropin, KindTheme:
	default:
		return false
	}
	return LocalPath(e.Name) == nil && !strings.Contains(e.Name, "/")
}
