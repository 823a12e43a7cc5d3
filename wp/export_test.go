package wp

import "testing"

// ClientOptionFile is the option file holding the password while a DB
// reached through the host's mysql client is open, "" otherwise.
func ClientOptionFile(db *DB) string {
	if c, ok := db.q.(*clientQuerier); ok {
		return c.defaults
	}
	return ""
}

// AssertGolden is assertGolden, for the package's external tests: one
// -update flag and one way to compare with a golden file.
func AssertGolden(t *testing.T, golden, test string, v any) []byte {
	t.Helper()
	return assertGolden(t, golden, test, v)
}
