package wp

import (
	"fmt"
	"io"
	"log/slog"
)

// redacted is what a Secret shows of itself everywhere but Reveal.
const redacted = "[REDACTED]"

// Secret is a value that must not reach a log, an error or a report, such as
// wp-config.php's DB_PASSWORD. Printed with any fmt verb, logged with
// log/slog, or marshalled as JSON or text, it shows "[REDACTED]"; Reveal
// gives the value to the one place that needs it, the database driver.
//
// fmt can only call methods on values it can reach through exported
// fields: a Secret in an unexported struct field printed with %v shows its
// value, and so does the pointer verb %p, which fmt answers without asking
// the value. encoding/json writes a map key of a string type as is. Keep
// Secrets in exported fields and out of map keys.
type Secret string

// Reveal returns the secret's value. Call it only where the value is used,
// never to print or log it.
func (s Secret) Reveal() string { return string(s) }

// String returns "[REDACTED]".
func (s Secret) String() string { return redacted }

// GoString returns "[REDACTED]", for %#v.
func (s Secret) GoString() string { return redacted }

// Format implements fmt.Formatter: every verb formats "[REDACTED]" (%#v
// as GoString), so that a verb meant for numbers, such as %d, does not
// show the value in its error text as fmt otherwise would.
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		io.WriteString(f, s.GoString())
		return
	}
	fmt.Fprintf(f, fmt.FormatString(f, verb), redacted)
}

// LogValue implements slog.LogValuer, so log/slog shows "[REDACTED]".
func (s Secret) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalJSON encodes the secret as the JSON string "[REDACTED]".
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// MarshalText returns "[REDACTED]", for encoders that use
// encoding.TextMarshaler (XML, TOML).
func (s Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }
