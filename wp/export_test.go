package wp

// ClientOptionFile is the option file holding the password while a DB
// reached through the host's mysql client is open, "" otherwise.
func ClientOptionFile(db *DB) string {
	if c, ok := db.q.(*clientQuerier); ok {
		return c.defaults
	}
	return ""
}
