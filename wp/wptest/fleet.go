package wptest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"database/sql"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"text/template"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/wpfix/wpfix/remote/proctest"
	"github.com/wpfix/wpfix/remote/sshtest"
	"github.com/wpfix/wpfix/wp"
)

// FleetOptions configure a Fleet.
type FleetOptions struct {
	// Sites is how many WordPress sites the fleet runs (default 1).
	Sites int
	// Servers is how many sshd servers of remote/sshtest's stand in front
	// of the sites, as the hosts an agency logs in to: site i belongs to
	// server i % Servers. 0 starts none.
	Servers int
	// Owner owns every docroot and runs the PHP pool, when the tests run
	// as root. With Servers it defaults to the servers' user, the one
	// wpfix logs in as; without, everything runs as the current user.
	Owner string
	// MaxChildren is the one php-fpm pool's pm.max_children (default 8).
	MaxChildren int
	// Opcache turns PHP's opcache on, as Options.Opcache: a page costs
	// what it costs on a production host, but a PHP file changed after its
	// first request is not seen (break the sites before a probe).
	Opcache bool
	// TLS makes every site also answer HTTPS on a port of its own
	// (FleetSite.HTTPSURL), with a certificate for 127.0.0.1 signed by the
	// fleet's own CA (Fleet.CAFile, Fleet.Roots), valid 90 days.
	TLS bool
	// CertDaysLeft sets, with TLS, the days until site i's certificate
	// expires, for an expiring (a few days) or expired (0 or fewer) one.
	CertDaysLeft map[int]int
}

// Fleet is many WordPress sites on one stack: one MariaDB, one php-fpm
// pool and one nginx, with a server block on a loopback port of its own
// and a database and database user of its own for each site, and sshd
// servers in front of them. Its fields are read-only.
type Fleet struct {
	// Sites are the sites, in order; Sites[i].Name is SiteName(i).
	Sites []*FleetSite
	// Servers are the sshd servers, each letting in the user that owns
	// the sites (Host, Port, User, KeyFile, KnownHostsFile for an
	// inventory). Empty with FleetOptions.Servers 0.
	Servers []*sshtest.Server
	// Dir is the fleet's work directory; the sites live in Dir/sites.
	Dir string
	// StartTime is how long NewFleet took, servers included.
	StartTime time.Duration
	// Options are the options the fleet was started with, defaults filled in.
	Options FleetOptions
	// CAFile is the PEM file of the CA that signed the sites'
	// certificates, and Roots a pool holding it; with FleetOptions.TLS.
	CAFile string
	Roots  *x509.CertPool

	root *sql.DB // MariaDB's root, over its socket
}

// FleetSite is one site of a Fleet. The embedded Stack's fields describe
// it (URL, Root, ContentDir, PluginDir, DBName, DBUser …) and its helpers
// (AddPlugin, ActivatePlugins, Option, SetOption, Get, RunWordPress) work
// on it alone. NginxErrorLog and PHPErrorLog are the site's own (its
// server block's error_log, and PHP's error_log set by it); FPMLog is the
// pool's. The processes are shared by the whole fleet: StopPHP stops PHP
// for every site (StartPHP starts it again), while StopDatabase is this
// site's own (see there; Stack.StopDatabase would stop the shared
// MariaDB). WordPress's core and bundled theme and plugin files are hard
// links shared by every site (cp -al): write a changed copy and rename it
// over one, or call Unshare first, rather than write into it in place.
// wp-config.php is each site's own file.
type FleetSite struct {
	*Stack
	// Name is the site's name, SiteName(Index), e.g. "site007".
	Name string
	// Index is the site's position in Fleet.Sites.
	Index int
	// Blogname is the site's title, "Fleet " + Name, shown on its pages.
	Blogname string
	// HTTPSURL is the site's HTTPS address, "https://127.0.0.1:PORT", with
	// FleetOptions.TLS, else "". WordPress's home stays URL, so a page
	// there may redirect to URL; the handshake shows the certificate.
	HTTPSURL string
	// CertNotAfter is when the site's certificate expires, with TLS.
	CertNotAfter time.Time
	// CertFile and KeyFile are the site's certificate and key (PEM),
	// outside its docroot.
	CertFile, KeyFile string
	// Server is the index in Fleet.Servers of the server the site is
	// reached through, -1 when the fleet has none.
	Server int

	fleet *Fleet
}

// SiteName is the name of a fleet's i-th site.
func SiteName(i int) string { return fmt.Sprintf("site%03d", i) }

// The breakages only a FleetSite's Break knows: a healthy page, but a
// site as a careful check reports it.
const (
	// BreakWPDebug turns WP_DEBUG on in wp-config.php, as an admin
	// debugging production and forgetting it does.
	BreakWPDebug Breakage = "wp-debug"
	// BreakHugeAutoload adds an autoloaded option of HugeOptionSize bytes,
	// HugeOptionName, loaded on every request.
	BreakHugeAutoload Breakage = "huge-autoload"
	// BreakUploadsPHP puts a PHP file, UploadsPHPFile, in the uploads
	// folder, where only media belong: a backdoor's place.
	BreakUploadsPHP Breakage = "uploads-php"
	// BreakDatabase locks the site's database user out of the shared
	// MariaDB, as a stopped database leaves the site: WordPress answers
	// 500 "Error establishing a database connection"; the other sites
	// keep theirs. See FleetSite.StopDatabase.
	BreakDatabase Breakage = "database"
)

// FleetBreakages lists the breakages only FleetSite.Break knows.
var FleetBreakages = []Breakage{BreakWPDebug, BreakHugeAutoload, BreakUploadsPHP, BreakDatabase}

const (
	// HugeOptionName is BreakHugeAutoload's option.
	HugeOptionName = "wptest_huge_option"
	// HugeOptionSize is its size in bytes: past the 800 KB of autoloaded
	// options at which WordPress's Site Health warns.
	HugeOptionSize = 2 << 20
	// UploadsPHPFile is BreakUploadsPHP's file, relative to ContentDir.
	UploadsPHPFile = "uploads/2026/01/wptest-shell.php"
)

// NewFleet starts a fleet and installs its sites. The first is installed
// by WordPress's own installer; the others are clones of it, their tables
// copied in SQL and their siteurl, home and blogname set, as a host's
// staging copy is made, which is what makes 100 sites cheap. Everything
// is stopped, and its files removed, when the test ends.
func NewFleet(t testing.TB, o FleetOptions) *Fleet {
	t.Helper()
	start := time.Now()
	if o.Sites <= 0 {
		o.Sites = 1
	}
	if o.MaxChildren == 0 {
		o.MaxChildren = 8
	}
	f := &Fleet{Options: o}
	for range o.Servers {
		f.Servers = append(f.Servers, sshtest.NewServer(t, sshtest.Options{}))
	}
	if o.Owner == "" && len(f.Servers) > 0 {
		o.Owner = f.Servers[0].User
		f.Options.Owner = o.Owner
	}

	bin := requireBinaries(t)
	w := proctest.NewWorkdir(t, "wptest-fleet")
	f.Dir = w.Dir
	base := &Stack{
		NginxErrorLog: w.Path("nginx-error.log"),
		FPMLog:        w.Path("php-fpm.log"),
		SlowLog:       w.Path("php-fpm-slow.log"),
		PHPErrorLog:   w.Path("php-error.log"),
		DBSocket:      w.Path("mysqld.sock"),
		TablePrefix:   "wp_",
		AdminUser:     "admin",
		AdminPassword: randomHex(t, 8),
		Options: Options{MaxChildren: o.MaxChildren, Opcache: o.Opcache, RequestTerminateTimeout: 30 * time.Second,
			FastCGIReadTimeout: 60 * time.Second, Owner: o.Owner, TablePrefix: "wp_"},
		dir: w,
		php: bin.php,
		uid: os.Getuid(),
		gid: os.Getgid(),
	}
	runUser, runGroup := base.resolveOwner(t)
	dbPort := proctest.FreePort(t)
	for i := range o.Sites {
		f.Sites = append(f.Sites, f.newSite(t, base, i, dbPort))
	}
	first := f.Sites[0].Stack
	// The docroots are made while MariaDB starts and site 0 is installed:
	// site 0's as soon as it can, the others' after it.
	firstRoot, docroots := make(chan error, 1), make(chan error, 1)
	linked := make(chan struct{})
	go func() {
		defer close(linked)
		docroots <- f.makeDocroots(firstRoot)
	}()
	t.Cleanup(func() { <-linked }) // before the work directory goes
	base.DBName, base.DBUser, base.DBPassword = first.DBName, first.DBUser, first.DBPassword
	base.startMariaDB(t, bin, dbPort)
	first.db = base.db
	f.openRoot(t)

	if err := <-firstRoot; err != nil {
		t.Fatalf("wptest: the fleet's docroots: %v", err)
	}
	base.writePHPConfig(t, bin)
	for _, s := range f.Sites {
		for _, log := range []string{s.NginxErrorLog, s.PHPErrorLog} {
			if err := os.WriteFile(log, nil, 0o644); err != nil {
				t.Fatalf("wptest: %v", err)
			}
			s.chown(t, log)
		}
	}
	base.startFPM(t, bin, runUser, runGroup)
	base.restartFPM = func(t testing.TB) {
		base.startFPM(t, bin, runUser, runGroup)
		for _, s := range f.Sites {
			s.fpm = base.fpm
		}
	}
	if o.TLS {
		f.writeCerts(t)
	}
	f.startNginx(t, bin, base, runUser, runGroup)
	first.install(t)
	first.chown(t, first.Root)
	f.cloneSites(t)
	if err := <-docroots; err != nil {
		t.Fatalf("wptest: the fleet's docroots: %v", err)
	}
	for _, s := range f.Sites[1:] {
		s.chown(t, filepath.Join(s.Root, "wp-config.php"))
	}
	for _, s := range f.Sites {
		s.maria, s.fpm, s.nginx, s.restartFPM = base.maria, base.fpm, base.nginx, base.restartFPM
		s.Version = first.Version
	}
	f.StartTime = time.Since(start)
	return f
}

// newSite lays out site i's names, paths, port and database credentials.
func (f *Fleet) newSite(t testing.TB, base *Stack, i, dbPort int) *FleetSite {
	t.Helper()
	name := SiteName(i)
	st := *base
	dir := base.dir.Path("sites", name)
	st.Root = filepath.Join(dir, "www")
	st.ContentDir = filepath.Join(st.Root, "wp-content")
	st.PluginDir = filepath.Join(st.ContentDir, "plugins")
	st.MUPluginDir = filepath.Join(st.ContentDir, "mu-plugins")
	st.ThemeDir = filepath.Join(st.ContentDir, "themes")
	st.DebugLog = filepath.Join(st.ContentDir, "debug.log")
	st.NginxErrorLog = filepath.Join(dir, "nginx-error.log")
	st.PHPErrorLog = filepath.Join(dir, "php-error.log")
	st.URL = fmt.Sprintf("http://127.0.0.1:%d", proctest.FreePort(t))
	st.DBName = "wptest_" + name
	st.DBUser = "wp_" + name
	st.DBPassword = randomHex(t, 12)
	st.DBHost = fmt.Sprintf("127.0.0.1:%d", dbPort)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("wptest: %v", err)
	}
	s := &FleetSite{Stack: &st, Name: name, Index: i, Blogname: "Fleet " + name, Server: -1, fleet: f}
	if n := len(f.Servers); n > 0 {
		s.Server = i % n
	}
	if f.Options.TLS {
		s.HTTPSURL = fmt.Sprintf("https://127.0.0.1:%d", proctest.FreePort(t))
		s.CertFile, s.KeyFile = filepath.Join(dir, "tls", "cert.pem"), filepath.Join(dir, "tls", "key.pem")
	}
	return s
}

// openRoot connects to MariaDB as root, raises its connection limit for a
// hundred sites' workers and test connections, and makes its commits and
// table creation cheap (no fsync a commit, no file a table): a test's
// data need not survive a crash.
func (f *Fleet) openRoot(t testing.TB) {
	t.Helper()
	root, err := sql.Open("mysql", "root@unix("+f.Sites[0].DBSocket+")/")
	if err != nil {
		t.Fatalf("wptest: %v", err)
	}
	t.Cleanup(func() { root.Close() })
	f.root = root
	for _, q := range []string{"SET GLOBAL max_connections = 2000",
		"SET GLOBAL innodb_flush_log_at_trx_commit = 0", "SET GLOBAL innodb_file_per_table = OFF"} {
		if _, err := root.Exec(q); err != nil {
			t.Fatalf("wptest: %s: %v", q, err)
		}
	}
}

// DB returns a connection to the shared MariaDB as root, which reads every
// site's database also after BreakDatabase.
func (f *Fleet) DB() *sql.DB { return f.root }

// ServerOf returns the server a site is reached through, nil without one.
func (f *Fleet) ServerOf(s *FleetSite) *sshtest.Server {
	if s.Server < 0 {
		return nil
	}
	return f.Servers[s.Server]
}

// renderConfig writes the site's wp-config.php: a production site's, with
// WP_DEBUG off.
func (s *FleetSite) renderConfig() error {
	type salt struct{ Name, Value string }
	var salts []salt
	for _, n := range []string{"AUTH_KEY", "SECURE_AUTH_KEY", "LOGGED_IN_KEY", "NONCE_KEY",
		"AUTH_SALT", "SECURE_AUTH_SALT", "LOGGED_IN_SALT", "NONCE_SALT"} {
		salts = append(salts, salt{n, randHex(32)})
	}
	return render(wpConfig, filepath.Join(s.Root, "wp-config.php"), map[string]any{
		"DBName": s.DBName, "DBUser": s.DBUser, "DBPassword": s.DBPassword, "DBHost": s.DBHost,
		"TablePrefix": s.TablePrefix, "Salts": salts, "Production": true,
	})
}

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails (crypto/rand since Go 1.24)
	return hex.EncodeToString(b)
}

// makeDocroots copies WordPress into site 0's docroot and makes the
// others from it as cp -al does, a few at a time, each with a
// wp-config.php of its own, sending site 0's outcome on firstRoot first.
// It runs while MariaDB starts and site 0 installs: nothing in it may use
// the test's T.
func (f *Fleet) makeDocroots(firstRoot chan<- error) error {
	first := f.Sites[0]
	list, err := first.makeFirstDocroot()
	firstRoot <- err
	if err != nil {
		return err
	}
	return f.each(func(s *FleetSite) error {
		if s.Index == 0 {
			return nil
		}
		if err := s.linkDocroot(first.Root, list); err != nil {
			return fmt.Errorf("link %s's docroot: %w", s.Name, err)
		}
		if err := s.renderConfig(); err != nil {
			return fmt.Errorf("write %s's wp-config.php: %w", s.Name, err)
		}
		return nil
	})
}

// makeFirstDocroot copies WordPress into site 0's docroot, with its
// wp-config.php, and lists what the others link.
func (s *FleetSite) makeFirstDocroot() ([]treeEntry, error) {
	if err := copyTree(WordPressSource, s.Root); err != nil {
		return nil, fmt.Errorf("copy WordPress into %s: %w", s.Root, err)
	}
	if err := os.MkdirAll(s.MUPluginDir, 0o755); err != nil {
		return nil, err
	}
	if err := s.renderConfig(); err != nil {
		return nil, fmt.Errorf("write %s's wp-config.php: %w", s.Name, err)
	}
	list, err := listTree(s.Root)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", s.Root, err)
	}
	return list, nil
}

// each runs fn for every site, four at a time, and returns their errors.
func (f *Fleet) each(fn func(s *FleetSite) error) error {
	sem := make(chan struct{}, 4)
	var wg sync.WaitGroup
	errs := make([]error, len(f.Sites))
	for i, s := range f.Sites {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			errs[i] = fn(s)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// cloneSites gives sites 1… copies of site 0's database, and every site
// its own address and title.
func (f *Fleet) cloneSites(t testing.TB) {
	t.Helper()
	first := f.Sites[0]
	tables, err := f.tables(first.DBName)
	if err != nil {
		t.Fatalf("wptest: list %s's tables: %v", first.DBName, err)
	}
	err = f.each(func(s *FleetSite) error {
		if s.Index == 0 {
			return f.setSite(first, first)
		}
		return f.cloneDB(s, first, tables)
	})
	if err != nil {
		t.Fatalf("wptest: clone the fleet's sites: %v", err)
	}
	for _, s := range f.Sites[1:] {
		s.db = s.openDB(t)
	}
}

func (f *Fleet) tables(db string) ([]string, error) {
	rows, err := f.root.Query("SELECT table_name FROM information_schema.tables WHERE table_schema = ? ORDER BY table_name", db)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		names = append(names, n)
	}
	return names, rows.Err()
}

// cloneDB creates s's database and user and copies first's tables into it.
func (f *Fleet) cloneDB(s, first *FleetSite, tables []string) error {
	qs := []string{"CREATE DATABASE `" + s.DBName + "` CHARACTER SET utf8mb4"}
	for _, host := range []string{"127.0.0.1", "localhost"} {
		qs = append(qs, fmt.Sprintf("CREATE USER '%s'@'%s' IDENTIFIED BY '%s'", s.DBUser, host, s.DBPassword),
			fmt.Sprintf("GRANT ALL ON `%s`.* TO '%s'@'%s'", s.DBName, s.DBUser, host))
	}
	for _, tb := range tables {
		qs = append(qs, fmt.Sprintf("CREATE TABLE `%s`.`%s` LIKE `%s`.`%s`", s.DBName, tb, first.DBName, tb),
			fmt.Sprintf("INSERT INTO `%s`.`%s` SELECT * FROM `%s`.`%s`", s.DBName, tb, first.DBName, tb))
	}
	for _, q := range qs {
		if _, err := f.root.Exec(q); err != nil {
			return fmt.Errorf("clone %s: %s: %w", s.Name, q, err)
		}
	}
	return f.setSite(s, first)
}

// setSite gives a cloned database its own address and title.
func (f *Fleet) setSite(s, first *FleetSite) error {
	opts := "`" + s.DBName + "`.`" + s.TablePrefix + "options`"
	for name, v := range map[string]string{"siteurl": s.URL, "home": s.URL, "blogname": s.Blogname} {
		if _, err := f.root.Exec("UPDATE "+opts+" SET option_value = ? WHERE option_name = ?", v, name); err != nil {
			return fmt.Errorf("set %s's %s: %w", s.Name, name, err)
		}
	}
	posts := "`" + s.DBName + "`.`" + s.TablePrefix + "posts`"
	if _, err := f.root.Exec("UPDATE "+posts+" SET guid = REPLACE(guid, ?, ?)", first.URL+"/", s.URL+"/"); err != nil {
		return fmt.Errorf("set %s's guids: %w", s.Name, err)
	}
	return nil
}

// openDB connects to the site's database as its own user, one idle
// connection kept: a hundred sites share one MariaDB.
func (s *FleetSite) openDB(t testing.TB) *sql.DB {
	t.Helper()
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.Net, cfg.Addr, cfg.DBName = s.DBUser, s.DBPassword, "unix", s.DBSocket, s.DBName
	db, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		t.Fatalf("wptest: %v", err)
	}
	db.SetMaxIdleConns(1)
	t.Cleanup(func() { db.Close() })
	return db
}

// treeEntry is a path in site 0's docroot, relative to it.
type treeEntry struct {
	rel string
	dir bool
}

// listTree lists the docroot at src, parents before children, but
// wp-config.php, which each site writes.
func listTree(src string) ([]treeEntry, error) {
	var list []treeEntry
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if rel != "." && rel != "wp-config.php" {
			list = append(list, treeEntry{rel, d.IsDir()})
		}
		return nil
	})
	return list, err
}

// linkDocroot makes s's docroot from src's entries as cp -al does:
// directories of its own (owned by the site's owner), files hard-linked.
func (s *FleetSite) linkDocroot(src string, list []treeEntry) error {
	chown := os.Geteuid() == 0 && s.Options.Owner != ""
	dirs := []string{s.Root}
	if err := os.MkdirAll(s.Root, 0o755); err != nil {
		return err
	}
	for _, e := range list {
		target := filepath.Join(s.Root, e.rel)
		if !e.dir {
			if err := os.Link(filepath.Join(src, e.rel), target); err != nil {
				return err
			}
			continue
		}
		if err := os.Mkdir(target, 0o755); err != nil {
			return err
		}
		dirs = append(dirs, target)
	}
	if chown {
		for _, d := range dirs {
			if err := os.Lchown(d, s.uid, s.gid); err != nil {
				return err
			}
		}
	}
	return nil
}

// Unshare gives the site a copy of its own of a file shared with the
// other sites by a hard link (rel is relative to Root), so that it can
// be written in place.
func (s *FleetSite) Unshare(t testing.TB, rel string) {
	t.Helper()
	p := filepath.Join(s.Root, rel)
	tmp := p + ".wptest-unshare"
	if err := copyFile(p, tmp); err != nil {
		t.Fatalf("wptest: unshare %s: %v", p, err)
	}
	if err := os.Rename(tmp, p); err != nil {
		t.Fatalf("wptest: unshare %s: %v", p, err)
	}
	s.chown(t, p)
}

// Break breaks the site in the named way and returns the culprits, as
// Stack.Break does; the fleet's own breakages (FleetBreakages) have none,
// their cause being no extension.
func (s *FleetSite) Break(t testing.TB, b Breakage) []wp.Extension {
	t.Helper()
	switch b {
	case BreakWPDebug:
		p := filepath.Join(s.Root, "wp-config.php")
		c, err := os.ReadFile(p)
		if err != nil {
			t.Fatalf("wptest: %v", err)
		}
		on := strings.Replace(string(c), "define( 'WP_DEBUG', false );", "define( 'WP_DEBUG', true );", 1)
		if on == string(c) {
			t.Fatalf("wptest: %s: WP_DEBUG is not off in %s", s.Name, p)
		}
		s.writeFile(t, p, on)
	case BreakHugeAutoload:
		value := strings.Repeat("wptest-huge-autoloaded-option ", HugeOptionSize/30+1)[:HugeOptionSize]
		_, err := s.fleet.root.Exec("INSERT INTO `"+s.DBName+"`.`"+s.TablePrefix+"options` (option_name, option_value, autoload) VALUES (?, ?, 'yes')",
			HugeOptionName, value)
		if err != nil {
			t.Fatalf("wptest: %s: add %s: %v", s.Name, HugeOptionName, err)
		}
	case BreakUploadsPHP:
		s.writeFile(t, filepath.Join(s.ContentDir, UploadsPHPFile), "<?php\n// Left by wptest's BreakUploadsPHP.\necho 'wptest';\n")
		s.chown(t, filepath.Join(s.ContentDir, "uploads"))
	case BreakDatabase:
		s.StopDatabase(t)
	default:
		return s.Stack.Break(t, b)
	}
	return nil
}

// StopDatabase locks the site's database user out of the shared MariaDB
// and ends its connections: the site can no more reach its database, as
// when its database server is stopped, while the other sites keep theirs.
// StartDatabase lets it in again.
func (s *FleetSite) StopDatabase(t testing.TB) {
	t.Helper()
	s.lockDB(t, "LOCK")
	rows, err := s.fleet.root.Query("SELECT id FROM information_schema.processlist WHERE user = ?", s.DBUser)
	if err != nil {
		t.Fatalf("wptest: %s: list its database connections: %v", s.Name, err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatalf("wptest: %v", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	for _, id := range ids {
		s.fleet.root.Exec(fmt.Sprintf("KILL %d", id)) // gone already is fine
	}
}

// StartDatabase undoes StopDatabase.
func (s *FleetSite) StartDatabase(t testing.TB) {
	t.Helper()
	s.lockDB(t, "UNLOCK")
}

func (s *FleetSite) lockDB(t testing.TB, how string) {
	t.Helper()
	for _, host := range []string{"127.0.0.1", "localhost"} {
		q := fmt.Sprintf("ALTER USER '%s'@'%s' ACCOUNT %s", s.DBUser, host, how)
		if _, err := s.fleet.root.Exec(q); err != nil {
			t.Fatalf("wptest: %s: %s: %v", s.Name, q, err)
		}
	}
}

// startNginx starts the one nginx, a server block a site.
func (f *Fleet) startNginx(t testing.TB, bin binaries, base *Stack, runUser, runGroup string) {
	t.Helper()
	type site struct {
		Port, TLSPort                             string
		Root, ErrorLog, PHPLog, CertFile, KeyFile string
	}
	var sites []site
	for _, s := range f.Sites {
		sites = append(sites, site{Port: strings.TrimPrefix(s.URL, "http://127.0.0.1:"), Root: s.Root,
			ErrorLog: s.NginxErrorLog, PHPLog: s.PHPErrorLog,
			TLSPort: strings.TrimPrefix(s.HTTPSURL, "https://127.0.0.1:"), CertFile: s.CertFile, KeyFile: s.KeyFile})
	}
	conf := base.dir.Path("nginx.conf")
	if err := render(fleetNginxConf, conf, map[string]any{
		"Dir": base.dir.Dir, "ErrorLog": base.NginxErrorLog, "User": runUser, "Group": runGroup,
		"Sites": sites, "Socket": base.dir.Path("php-fpm.sock"),
		"ReadTimeout": int(base.Options.FastCGIReadTimeout / time.Second),
	}); err != nil {
		t.Fatalf("wptest: %v", err)
	}
	if err := os.MkdirAll(base.dir.Path("nginx"), 0o755); err != nil {
		t.Fatalf("wptest: %v", err)
	}
	cmd := exec.Command(bin.nginx, "-p", base.dir.Path("nginx"), "-c", conf, "-e", base.NginxErrorLog)
	base.nginx = base.dir.Start("nginx", cmd)
	last := f.Sites[len(f.Sites)-1]
	proctest.WaitReady(t, base.nginx, 20*time.Second, proctest.DialReady("tcp", strings.TrimPrefix(last.URL, "http://")))
}

// String names the site and its address, for a test's messages.
func (s *FleetSite) String() string { return s.Name + " " + s.URL }

// fleetNginxConf is nginxConf's http block with a server a site, each
// with its own port, docroot, error log and PHP error_log.
var fleetNginxConf = template.Must(template.New("fleet-nginx.conf").Parse(`# wptest fleet nginx
daemon off;
master_process on;
worker_processes 1;
worker_rlimit_nofile 8192;
pid {{.Dir}}/nginx.pid;
error_log {{.ErrorLog}} notice;
{{if .User}}user {{.User}} {{.Group}};
{{end}}
events { worker_connections 2048; }

http {
` + nginxHTTP + `{{range .Sites}}
	server {
		listen 127.0.0.1:{{.Port}};
{{if .TLSPort}}		listen 127.0.0.1:{{.TLSPort}} ssl;
		ssl_certificate {{.CertFile}};
		ssl_certificate_key {{.KeyFile}};
{{end}}		server_name _;
		root {{.Root}};
		index index.php;
		error_log {{.ErrorLog}} notice;
		location / {
			try_files $uri $uri/ /index.php?$args;
		}
		location ~ \.php$ {
			try_files $uri =404;
			fastcgi_pass unix:{{$.Socket}};
			fastcgi_index index.php;
			fastcgi_read_timeout {{$.ReadTimeout}}s;
			fastcgi_param PHP_ADMIN_VALUE "error_log={{.PHPLog}}";
` + fastcgiParams + `		}
	}
{{end}}}
`))

// writeCerts makes the fleet's CA and a certificate for each site, valid
// 90 days or as CertDaysLeft says.
func (f *Fleet) writeCerts(t testing.TB) {
	t.Helper()
	now := time.Now()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("wptest: generate the fleet's CA key: %v", err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "wptest fleet CA"},
		NotBefore:             now.Add(-24 * time.Hour),
		NotAfter:              now.Add(10 * 365 * 24 * time.Hour),
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatalf("wptest: make the fleet's CA: %v", err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatalf("wptest: %v", err)
	}
	f.CAFile = filepath.Join(f.Dir, "ca.pem")
	if err := os.WriteFile(f.CAFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o644); err != nil {
		t.Fatalf("wptest: %v", err)
	}
	f.Roots = x509.NewCertPool()
	f.Roots.AddCert(ca)
	for _, s := range f.Sites {
		days := 90
		if d, ok := f.Options.CertDaysLeft[s.Index]; ok {
			days = d
		}
		s.CertNotAfter = now.Add(time.Duration(days) * 24 * time.Hour).Truncate(time.Second)
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatalf("wptest: generate %s's key: %v", s.Name, err)
		}
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(int64(s.Index) + 2),
			Subject:      pkix.Name{CommonName: s.Name + ".fleet.test"},
			DNSNames:     []string{s.Name + ".fleet.test"},
			IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
			NotBefore:    s.CertNotAfter.Add(-90 * 24 * time.Hour),
			NotAfter:     s.CertNotAfter,
			KeyUsage:     x509.KeyUsageDigitalSignature,
			ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			t.Fatalf("wptest: make %s's certificate: %v", s.Name, err)
		}
		keyDER, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			t.Fatalf("wptest: %v", err)
		}
		if err := os.MkdirAll(filepath.Dir(s.CertFile), 0o700); err != nil {
			t.Fatalf("wptest: %v", err)
		}
		if err := os.WriteFile(s.CertFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
			t.Fatalf("wptest: %v", err)
		}
		if err := os.WriteFile(s.KeyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
			t.Fatalf("wptest: %v", err)
		}
	}
}
