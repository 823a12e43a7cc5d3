package wp

import "context"

// ClientQuery runs q through the host's mysql client when db is reached
// that way; ok is false otherwise.
func ClientQuery(ctx context.Context, db *DB, q string) (rows [][]string, ok bool, err error) {
	c, ok := db.q.(*clientQuerier)
	if !ok {
		return nil, false, nil
	}
	rows, err = c.query(ctx, q)
	return rows, true, err
}

// ClientOptionPrefix begins the name of the client's option files.
const ClientOptionPrefix = clientOptionPrefix

// ClientOptionDir is the folder the client's option files go in, "" when
// db is not reached through the client.
func ClientOptionDir(db *DB) string {
	if c, ok := db.q.(*clientQuerier); ok {
		return c.dir
	}
	return ""
}
