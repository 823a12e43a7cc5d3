package wp

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"path"
	"regexp"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/wpfix/wpfix/remote"
	"github.com/wpfix/wpfix/wp/php"
)

// DB is a site's database, reached from its host: over SSH the database
// on the remote machine's loopback or unix socket is reached through the
// same connection, or, where the server refuses forwarding, through the
// host's own mysql client.
type DB struct {
	// Via says how the database is reached, for reports: "tcp
	// 127.0.0.1:3306", "unix /run/mysqld/mysqld.sock", or that plus " (mysql
	// client on the host)".
	Via string

	// prefix is the table prefix of the blog whose options the DB reads
	// and writes; base is $table_prefix, the network's tables' (blogs,
	// sitemeta). They differ only for a subsite (ForBlog).
	prefix, base string
	siteID       string
	q            querier
}

// querier runs SQL with ? placeholders for string arguments.
type querier interface {
	query(ctx context.Context, q string, args ...string) ([][]string, error)
	exec(ctx context.Context, q string, args ...string) error
	close() error
}

// defaultSockets are where MySQL and MariaDB put their socket, after what
// PHP itself is configured with.
var defaultSockets = []string{"/run/mysqld/mysqld.sock", "/var/run/mysqld/mysqld.sock",
	"/var/lib/mysql/mysql.sock", "/tmp/mysql.sock"}

var prefixRE = regexp.MustCompile(`^[A-Za-z0-9_]+$`)

// OpenDB connects to the site's database with the credentials of
// wp-config.php. Errors say which user on which server failed, never the
// password.
func (s *Site) OpenDB(ctx context.Context) (*DB, error) {
	var c [4]string
	for i, name := range []string{"DB_NAME", "DB_USER", "DB_PASSWORD", "DB_HOST"} {
		v, ok, err := s.Constant(name)
		if err != nil {
			return nil, err
		}
		if !ok && name != "DB_PASSWORD" {
			return nil, fmt.Errorf("%s defines no %s", s.ConfigFile, name)
		}
		c[i] = v
	}
	name, user, pass, host := c[0], c[1], Secret(c[2]), c[3]
	prefix, err := s.TablePrefix()
	if err != nil {
		return nil, err
	}
	if !prefixRE.MatchString(prefix) {
		return nil, fmt.Errorf("$table_prefix in %s is %q: only letters, digits and _ are allowed", s.ConfigFile, prefix)
	}
	addr, err := ParseDBHost(host)
	if err != nil {
		return nil, fmt.Errorf("DB_HOST in %s: %w", s.ConfigFile, err)
	}
	if addr.Network == "unix" && addr.Addr == "" {
		if addr.Addr, err = s.defaultSocket(ctx); err != nil {
			return nil, err
		}
	}
	db := &DB{Via: addr.Network + " " + addr.Addr, prefix: prefix, base: prefix, siteID: "1"}
	if v, ok, _ := s.Constant("SITE_ID_CURRENT_SITE"); ok && v != "" {
		db.siteID = v
	}
	who := fmt.Sprintf("database %s as %s at %s on %s", name, user, db.Via, s.Host.Name())
	charset, _, _ := s.Constant("DB_CHARSET")

	q, err := openDriver(ctx, s.Host, addr, name, user, pass, charset)
	if errors.Is(err, remote.ErrForwardingRefused) {
		q, err = openClient(ctx, s.Host, addr, name, user, pass, charset)
		db.Via += " (mysql client on the host)"
		who += " with its mysql client"
	}
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", who, err)
	}
	db.q = q
	return db, nil
}

// defaultSocket finds the socket "localhost" means, the way PHP would: its
// mysqli and pdo_mysql default_socket settings, then the usual places.
func (s *Site) defaultSocket(ctx context.Context) (string, error) {
	var candidates []string
	out, err := s.Host.Exec(ctx, []string{"php", "-r",
		`echo ini_get("mysqli.default_socket"), "\n", ini_get("pdo_mysql.default_socket"), "\n";`}, nil)
	if err == nil {
		for _, l := range strings.Split(string(out), "\n") {
			if l = strings.TrimSpace(l); l != "" {
				candidates = append(candidates, l)
			}
		}
	}
	candidates = append(candidates, defaultSockets...)
	for _, p := range candidates {
		if fi, err := s.Host.Stat(ctx, p); err == nil && fi.Mode()&fs.ModeSocket != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("DB_HOST in %s means the local MySQL socket, but none is on %s (looked at %s); give DB_HOST with --define",
		s.ConfigFile, s.Host.Name(), strings.Join(candidates, ", "))
}

// Close closes the connection.
func (d *DB) Close() error { return d.q.close() }

// Prefix is the table prefix.
func (d *DB) Prefix() string { return d.prefix }

// Option returns an option's value, byte for byte as stored (serialized
// values stay serialized), and whether it exists.
func (d *DB) Option(ctx context.Context, name string) (string, bool, error) {
	rows, err := d.q.query(ctx, "SELECT option_value FROM `"+d.prefix+"options` WHERE option_name = ?", name)
	if err != nil {
		return "", false, fmt.Errorf("read option %s: %w", name, err)
	}
	if len(rows) == 0 {
		return "", false, nil
	}
	return rows[0][0], true, nil
}

// Options returns several options at once, byte for byte as stored; one
// that does not exist is missing from the map.
func (d *DB) Options(ctx context.Context, names ...string) (map[string]string, error) {
	if len(names) == 0 {
		return map[string]string{}, nil
	}
	marks := strings.TrimSuffix(strings.Repeat("?, ", len(names)), ", ")
	rows, err := d.q.query(ctx, "SELECT option_name, option_value FROM `"+d.prefix+"options` WHERE option_name IN ("+marks+")", names...)
	if err != nil {
		return nil, fmt.Errorf("read options %s from %soptions: %w", strings.Join(names, ", "), d.prefix, err)
	}
	m := make(map[string]string, len(rows))
	for _, r := range rows {
		if len(r) == 2 {
			m[r[0]] = r[1]
		}
	}
	return m, nil
}

// SetOption stores an option's value, byte for byte, adding it (autoloaded,
// as add_option does) when it does not exist.
func (d *DB) SetOption(ctx context.Context, name, value string) error {
	err := d.q.exec(ctx, "INSERT INTO `"+d.prefix+"options` (option_name, option_value, autoload) VALUES (?, ?, 'yes') "+
		"ON DUPLICATE KEY UPDATE option_value = VALUES(option_value)", name, value)
	if err != nil {
		return fmt.Errorf("write option %s: %w", name, err)
	}
	return nil
}

// DeleteOption removes an option, as delete_option does.
func (d *DB) DeleteOption(ctx context.Context, name string) error {
	if err := d.q.exec(ctx, "DELETE FROM `"+d.prefix+"options` WHERE option_name = ?", name); err != nil {
		return fmt.Errorf("delete option %s: %w", name, err)
	}
	return nil
}

// PausedExtensions returns what WordPress's recovery mode has paused, by
// kind ("plugin", "theme"), extension and the error that paused it, from
// every recovery session's option.
func (d *DB) PausedExtensions(ctx context.Context) (map[string]map[string]string, error) {
	rows, err := d.q.query(ctx, "SELECT option_value FROM `"+d.prefix+"options` WHERE option_name LIKE ?", "%\\_paused\\_extensions")
	if err != nil {
		return nil, fmt.Errorf("read paused extensions: %w", err)
	}
	out := map[string]map[string]string{}
	for _, r := range rows {
		v, err := php.Unserialize([]byte(r[0]))
		if err != nil {
			continue // not WordPress's: nothing to report
		}
		for _, kind := range v.Entries() {
			for _, ext := range kind.Value.Entries() {
				msg := ""
				if m, ok := ext.Value.Get(php.StringKey("message")); ok {
					msg, _ = m.AsString()
				}
				if out[kind.Key.String()] == nil {
					out[kind.Key.String()] = map[string]string{}
				}
				out[kind.Key.String()][ext.Key.String()] = msg
			}
		}
	}
	return out, nil
}

// SiteOption returns a network option of a multisite install (sitemeta of
// the current network), and whether it exists.
func (d *DB) SiteOption(ctx context.Context, key string) (string, bool, error) {
	rows, err := d.q.query(ctx, "SELECT meta_value FROM `"+d.base+"sitemeta` WHERE meta_key = ? AND site_id = ? ORDER BY meta_id LIMIT 1",
		key, d.siteID)
	if err != nil {
		return "", false, fmt.Errorf("read network option %s: %w", key, err)
	}
	if len(rows) == 0 {
		return "", false, nil
	}
	return rows[0][0], true, nil
}

// SetSiteOption stores a network option of a multisite install.
func (d *DB) SetSiteOption(ctx context.Context, key, value string) error {
	err := d.q.exec(ctx, "UPDATE `"+d.base+"sitemeta` SET meta_value = ? WHERE meta_key = ? AND site_id = ?", value, key, d.siteID)
	if err != nil {
		return fmt.Errorf("write network option %s: %w", key, err)
	}
	return nil
}

// driverQuerier talks MySQL's protocol over a connection the host dials.
type driverQuerier struct{ db *sql.DB }

func openDriver(ctx context.Context, h remote.Host, addr DBAddress, name, user string, pass Secret, charset string) (querier, error) {
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.DBName = user, pass.Reveal(), name
	cfg.Net, cfg.Addr = addr.Network, addr.Addr
	cfg.Timeout = 10 * time.Second
	cfg.DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error) {
		return h.Dial(ctx, network, addr)
	}
	cs := connCharset(charset)
	if err := cfg.Apply(mysql.Charset(cs, "")); err != nil {
		return nil, err
	}
	// Arguments are quoted by the driver rather than sent with a prepared
	// statement: one round trip a query instead of three (prepare, execute,
	// close), which over SSH to a distant server is most of a query's
	// cost. The driver's quoting is safe in these character sets; in the
	// multibyte ones it refuses (GBK, SJIS, Big5 …), statements stay.
	cfg.InterpolateParams = interpolateSafe[cs]
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, err
	}
	db := sql.OpenDB(connector)
	db.SetMaxOpenConns(2)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, unwrapDial(err)
	}
	return driverQuerier{db}, nil
}

// interpolateSafe are the connection character sets in which the driver's
// own quoting of arguments is safe: each byte of a quote or a backslash is
// that character, never part of a longer one.
var interpolateSafe = map[string]bool{
	"utf8mb4": true, "utf8": true, "utf8mb3": true, "latin1": true, "ascii": true, "binary": true,
}

// connCharset is the connection character set: WordPress's DB_CHARSET, so
// that values come back byte for byte as WordPress stored them.
func connCharset(c string) string {
	if c == "" || c == "utf8" {
		return "utf8mb4"
	}
	return c
}

// unwrapDial keeps the host's own dial error, which names the host and the
// address, out of the driver's wrapping.
func unwrapDial(err error) error {
	var oe *remote.OpError
	if errors.As(err, &oe) {
		return oe
	}
	return err
}

func (d driverQuerier) query(ctx context.Context, q string, args ...string) ([][]string, error) {
	rows, err := d.db.QueryContext(ctx, q, anys(args)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var out [][]string
	for rows.Next() {
		raw := make([]sql.RawBytes, len(cols))
		ptrs := make([]any, len(cols))
		for i := range raw {
			ptrs[i] = &raw[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		row := make([]string, len(cols))
		for i, b := range raw {
			row[i] = string(b)
		}
		out = append(out, row)
	}
	return out, rows.Err()
}

func (d driverQuerier) exec(ctx context.Context, q string, args ...string) error {
	_, err := d.db.ExecContext(ctx, q, anys(args)...)
	return err
}

func (d driverQuerier) close() error { return d.db.Close() }

func anys(args []string) []any {
	a := make([]any, len(args))
	for i, s := range args {
		a[i] = s
	}
	return a
}

// clientQuerier runs the host's mysql (or mariadb) client, for servers that
// refuse forwarding. The password goes into an option file, never onto a
// command line, where any user of the host could read it. Arguments travel
// as hex literals, so no value is ever quoted into SQL, and results come
// back in batch mode, whose escapes are undone.
//
// The option file lives only as long as one query: the same shell that
// runs the client makes it (0600, a fresh random name in the host's
// temporary folder, made with O_EXCL), fills it from its standard input and
// removes it when the client ends, however it ends but kill -9. A query
// that fails or is cancelled (its shell killed) has its file removed from
// here. What is left after that (the shell killed with the connection gone,
// the host crashing) is swept by the next opening of a database through the
// client on that host, by any wpfix command, restore included: every
// wpfix-db.* file of the same user older than a minute. A query's client
// reads the file as it starts, within milliseconds, so a file a minute old
// serves no query any more, not even a concurrent run's.
//
// Why there rather than in the site's .wpfix folder: the commands that
// change nothing (info, diagnose, limits) must leave no .wpfix, that folder
// belongs to the site's user and may be served by the web server, and the
// temporary folder is cleared at boot on most hosts; the password never
// outlives a query there but for the kill -9 of the shell itself.
type clientQuerier struct {
	h   remote.Host
	bin string
	dir string // where the option files go: the host's $TMPDIR, else /tmp
	ini Secret // the option file's lines, the password among them
}

// clientOptionPrefix begins the name of every option file the client
// fallback makes, which is how the sweep knows them.
const clientOptionPrefix = "wpfix-db."

// clientSweepScript prints the folder the option files go in, after
// removing from it the option files older than a minute that belong to the
// same user: those of queries whose shell was killed. It never follows a
// link (find -type f does not) and never descends.
const clientSweepScript = `d=${TMPDIR:-/tmp}
find "$d" -maxdepth 1 -type f -name '` + clientOptionPrefix + `*' -user "$(id -u)" -mmin +1 -exec rm -f {} + 2>/dev/null
printf '%s\n' "$d"`

// clientQueryScript runs one query: $0 is the client, $1 the option file
// to make. Standard input is the option file's lines, an empty line, then
// the SQL, which the client reads. The file is removed when the client ends
// or the shell is told to stop.
const clientQueryScript = `f=$1
trap 'rm -f "$f"' EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 141' PIPE
trap 'exit 143' TERM
umask 077
set -C
: >"$f" || exit 125
while IFS= read -r l && [ -n "$l" ]; do printf '%s\n' "$l"; done >>"$f" || exit 125
"$0" --defaults-extra-file="$f" --batch --skip-column-names`

var charsetRE = regexp.MustCompile(`^[A-Za-z0-9_]+$`)

func openClient(ctx context.Context, h remote.Host, addr DBAddress, name, user string, pass Secret, charset string) (querier, error) {
	var bin string
	for _, b := range []string{"mariadb", "mysql"} {
		if _, err := h.Exec(ctx, []string{b, "--version"}, nil); err == nil {
			bin = b
			break
		}
	}
	if bin == "" {
		return nil, fmt.Errorf("the SSH server refuses forwarding and %s has no mysql client to fall back on: %w",
			h.Name(), remote.ErrForwardingRefused)
	}
	// Unquoted in the option file: a line break would add options of
	// the site's choosing (plugin-dir, default-auth: code the client loads).
	if cs := connCharset(charset); !charsetRE.MatchString(cs) {
		return nil, fmt.Errorf("DB_CHARSET is %q: only letters, digits and _ are allowed", charset)
	}
	out, err := h.Exec(ctx, []string{"sh", "-c", clientSweepScript}, nil)
	dir := strings.TrimSpace(string(out))
	if err != nil || !strings.HasPrefix(dir, "/") {
		return nil, fmt.Errorf("find the temporary folder for the client's option file on %s: %w", h.Name(), errOr(err, dir))
	}
	var ini strings.Builder
	ini.WriteString("[client]\n")
	fmt.Fprintf(&ini, "user=%s\npassword=%s\n", optionQuote(user), optionQuote(pass.Reveal()))
	if addr.Network == "unix" {
		fmt.Fprintf(&ini, "socket=%s\n", optionQuote(addr.Addr))
	} else {
		hst, port, err := net.SplitHostPort(addr.Addr)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(&ini, "host=%s\nport=%s\nprotocol=tcp\n", optionQuote(hst), port)
	}
	fmt.Fprintf(&ini, "database=%s\ndefault-character-set=%s\n", optionQuote(name), connCharset(charset))
	c := &clientQuerier{h: h, bin: bin, dir: dir, ini: Secret(ini.String())}
	if _, err := c.query(ctx, "SELECT 1"); err != nil {
		return nil, err
	}
	return c, nil
}

// errOr is err, or else an error saying what came instead of a folder.
func errOr(err error, got string) error {
	if err != nil {
		return err
	}
	return fmt.Errorf("got %q", got)
}

// optionQuote quotes a value for a MySQL option file.
func optionQuote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\r", `\r`, "\t", `\t`)
	return `"` + r.Replace(s) + `"`
}

// bind replaces each ? in q with its argument as a hex literal.
func bind(q string, args []string) (string, error) {
	var b strings.Builder
	for _, r := range q {
		if r != '?' {
			b.WriteRune(r)
			continue
		}
		if len(args) == 0 {
			return "", errors.New("more placeholders than arguments")
		}
		if args[0] == "" {
			b.WriteString("''")
		} else {
			b.WriteString("X'" + hex.EncodeToString([]byte(args[0])) + "'")
		}
		args = args[1:]
	}
	if len(args) > 0 {
		return "", errors.New("more arguments than placeholders")
	}
	return b.String(), nil
}

func (c *clientQuerier) run(ctx context.Context, q string, args []string) ([]byte, error) {
	sqlText, err := bind(q, args)
	if err != nil {
		return nil, err
	}
	var name [12]byte
	if _, err := rand.Read(name[:]); err != nil {
		return nil, err
	}
	file := path.Join(c.dir, clientOptionPrefix+hex.EncodeToString(name[:]))
	out, err := c.h.Exec(ctx, []string{"sh", "-c", clientQueryScript, c.bin, file},
		strings.NewReader(c.ini.Reveal()+"\n"+sqlText+";\n"))
	if err != nil {
		// A shell killed on cancel left its file: remove it now, as the
		// same user that made it.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		c.h.Exec(rctx, []string{"rm", "-f", "--", file}, nil)
		cancel()
	}
	var ee *remote.ExitError
	if errors.As(err, &ee) {
		return nil, fmt.Errorf("%s: %s", c.bin, strings.TrimSpace(string(lastLine(ee.Stderr))))
	}
	return out, err
}

func lastLine(b []byte) []byte {
	b = bytes.TrimSpace(b)
	if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
		return b[i+1:]
	}
	return b
}

func (c *clientQuerier) query(ctx context.Context, q string, args ...string) ([][]string, error) {
	out, err := c.run(ctx, q, args)
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, nil
	}
	var rows [][]string
	for _, line := range strings.Split(strings.TrimSuffix(string(out), "\n"), "\n") {
		var row []string
		for _, f := range strings.Split(line, "\t") {
			row = append(row, unescapeBatch(f))
		}
		rows = append(rows, row)
	}
	return rows, nil
}

func (c *clientQuerier) exec(ctx context.Context, q string, args ...string) error {
	_, err := c.run(ctx, q, args)
	return err
}

// close has nothing to do: no option file outlives its query.
func (c *clientQuerier) close() error { return nil }

// unescapeBatch undoes the mysql client's batch-mode escapes: \n, \t, \\
// and \0.
func unescapeBatch(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		i++
		switch s[i] {
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case '0':
			b.WriteByte(0)
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}
