// Package wptest runs a real WordPress stack for tests, in the spirit of
// net/http/httptest: MariaDB, php-fpm, nginx and WordPress from Debian's
// packages, under one temp dir, on free loopback ports, several side by side.
// Nothing of the system's own services or default configs is used. Helpers
// install plugins, must-use plugins, drop-ins and themes, and break the site
// in named, real ways: a worker killed by a signal answers a real 502 from
// nginx, not a mock of one. A Reach opens a stack with the Host to read it
// through: the local host, or SSH to a server of remote/sshtest's.
//
// wptest must not be used outside tests.
package wptest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/wpfix/wpfix/remote/proctest"
)

// WordPressSource is where Debian's wordpress package puts WordPress.
const WordPressSource = "/usr/share/wordpress"

// Packages are the Debian packages the stack needs.
var Packages = []string{"nginx", "php-fpm", "php-cli", "php-mysql", "mariadb-server", "mariadb-client",
	"wordpress", "wordpress-theme-twentytwentythree", "wordpress-theme-twentytwentytwo"}

// Options configure a Stack. The zero value is a working stack.
type Options struct {
	// MaxChildren is php-fpm's pm.max_children (default 4).
	MaxChildren int
	// RequestTerminateTimeout is php-fpm's request_terminate_timeout, the
	// wall time after which the pool kills a worker (default 30s).
	RequestTerminateTimeout time.Duration
	// Owner is the user that owns the docroot and that the PHP pool runs as,
	// like the site user of a shared host. It takes effect only when the
	// tests run as root; by default everything runs as the current user.
	Owner string
	// TablePrefix is WordPress's $table_prefix (default "wp_").
	TablePrefix string
	// ContentTmpfs, when not 0, gives wp-content a filesystem of its own:
	// a tmpfs of this many bytes (WordPress's own wp-content takes some
	// 10 MB), which a test fills with FillDisk (a disk that fills mid-run).
	// It needs root; without, the test is skipped.
	ContentTmpfs int64
	// Opcache turns PHP's opcache on under php-fpm with
	// opcache.validate_timestamps=0, as tuned production hosts run it: a
	// script once compiled is never looked at on disk again.
	Opcache bool
	// DBSocket makes wp-config.php reach MariaDB by its unix socket
	// ("localhost:/path/to/mysqld.sock") instead of TCP.
	DBSocket bool
	// FastCGIReadTimeout is nginx's fastcgi_read_timeout for PHP, the time
	// after which nginx gives up on a worker with 504 (default 60s).
	FastCGIReadTimeout time.Duration
	// SlowlogTimeout turns on the pool's slowlog: php-fpm writes the PHP
	// backtrace of a request running longer than this to Stack.SlowLog.
	SlowlogTimeout time.Duration
	// PoolSettings are more lines for the php-fpm pool's section, such as
	// "php_admin_value[memory_limit] = 64M".
	PoolSettings []string
	// DenyDotFiles adds `location ~ /\. { deny all; }` to nginx's server
	// block, first among its locations, as a careful host does: every path
	// with a component starting with a dot (.wpfix, .git, .htaccess) is
	// answered 403.
	DenyDotFiles bool
	// Multisite makes the install a subdirectory multisite network, its
	// main site at URL; AddSite adds a site to it.
	Multisite bool
}

// Stack is a running WordPress site. Its fields are read-only.
type Stack struct {
	// URL is the site's address, "http://127.0.0.1:PORT", also its siteurl and home.
	URL string
	// Root is the WordPress docroot, where wp-load.php and wp-config.php are.
	Root string
	// ContentDir, PluginDir, MUPluginDir and ThemeDir are WordPress's folders.
	ContentDir, PluginDir, MUPluginDir, ThemeDir string
	// DBName, DBUser, DBPassword and DBHost are what wp-config.php holds;
	// DBSocket is MariaDB's unix socket.
	DBName, DBUser, DBPassword, DBHost, DBSocket string
	// TablePrefix is $table_prefix.
	TablePrefix string
	// NginxErrorLog, FPMLog, PHPErrorLog and DebugLog are the logs: nginx's
	// error.log, php-fpm's own log (with the workers' output), PHP's
	// error_log and WordPress's wp-content/debug.log.
	NginxErrorLog, FPMLog, PHPErrorLog, DebugLog string
	// SlowLog is the pool's slowlog, written with Options.SlowlogTimeout.
	SlowLog string
	// AdminUser and AdminPassword log in to wp-admin.
	AdminUser, AdminPassword string
	// Version is the WordPress version installed.
	Version string
	// Options are the options the stack was started with, defaults filled in.
	Options Options

	dir   *proctest.Workdir
	php   string // php CLI binary
	db    *sql.DB
	nginx *proctest.Process
	fpm   *proctest.Process
	// restartFPM starts php-fpm again as NewStack did.
	restartFPM func(t testing.TB)
	maria      *proctest.Process
	uid        int
	gid        int
}

type binaries struct {
	nginx, fpm, php, mariadbd, installDB string
}

func requireBinaries(t testing.TB) binaries {
	t.Helper()
	var b binaries
	b.nginx = proctest.Require(t, "nginx", "nginx")
	b.fpm = proctest.Require(t, "php-fpm", fpmNames()...)
	b.php = proctest.Require(t, "php-cli", "php")
	b.mariadbd = proctest.Require(t, "mariadb-server", "mariadbd", "mysqld")
	b.installDB = proctest.Require(t, "mariadb-server", "mariadb-install-db", "mysql_install_db")
	if _, err := os.Stat(filepath.Join(WordPressSource, "wp-load.php")); err != nil {
		proctest.Require(t, "wordpress", "wordpress-is-missing-"+WordPressSource)
	}
	themes, _ := filepath.Glob(filepath.Join(WordPressSource, "wp-content/themes/twenty*"))
	if len(themes) == 0 {
		proctest.Require(t, "wordpress-theme-twentytwentythree", "wordpress-has-no-default-theme")
	}
	return b
}

// fpmNames lists php-fpm binaries, newest version first (Debian names them
// php-fpmX.Y).
func fpmNames() []string {
	m, _ := filepath.Glob("/usr/sbin/php-fpm*")
	sort.Sort(sort.Reverse(sort.StringSlice(m)))
	names := []string{"php-fpm"}
	for _, p := range m {
		names = append([]string{filepath.Base(p)}, names...)
	}
	return names
}

// NewStack starts a stack and installs WordPress. It is stopped, and its
// files removed, when the test ends.
func NewStack(t testing.TB, opts Options) *Stack {
	t.Helper()
	bin := requireBinaries(t)
	if opts.MaxChildren == 0 {
		opts.MaxChildren = 4
	}
	if opts.RequestTerminateTimeout == 0 {
		opts.RequestTerminateTimeout = 30 * time.Second
	}
	if opts.FastCGIReadTimeout == 0 {
		opts.FastCGIReadTimeout = 60 * time.Second
	}
	if opts.TablePrefix == "" {
		opts.TablePrefix = "wp_"
	}
	w := proctest.NewWorkdir(t, "wptest")
	s := &Stack{
		Root:          w.Path("www"),
		DBName:        "wordpress",
		DBUser:        "wordpress",
		DBPassword:    randomHex(t, 12),
		DBSocket:      w.Path("mysqld.sock"),
		TablePrefix:   opts.TablePrefix,
		NginxErrorLog: w.Path("nginx-error.log"),
		FPMLog:        w.Path("php-fpm.log"),
		SlowLog:       w.Path("php-fpm-slow.log"),
		PHPErrorLog:   w.Path("php-error.log"),
		AdminUser:     "admin",
		AdminPassword: randomHex(t, 8),
		Options:       opts,
		dir:           w,
		php:           bin.php,
		uid:           os.Getuid(),
		gid:           os.Getgid(),
	}
	s.ContentDir = filepath.Join(s.Root, "wp-content")
	s.PluginDir = filepath.Join(s.ContentDir, "plugins")
	s.MUPluginDir = filepath.Join(s.ContentDir, "mu-plugins")
	s.ThemeDir = filepath.Join(s.ContentDir, "themes")
	s.DebugLog = filepath.Join(s.ContentDir, "debug.log")
	httpPort, dbPort := proctest.FreePort(t), proctest.FreePort(t)
	s.URL = fmt.Sprintf("http://127.0.0.1:%d", httpPort)
	s.DBHost = fmt.Sprintf("127.0.0.1:%d", dbPort)
	if opts.DBSocket {
		s.DBHost = "localhost:" + s.DBSocket
	}

	runUser, runGroup := s.resolveOwner(t)
	if opts.ContentTmpfs > 0 {
		MountTmpfs(t, s.ContentDir, opts.ContentTmpfs)
	}
	s.startMariaDB(t, bin, dbPort)
	if err := copyTree(WordPressSource, s.Root); err != nil {
		t.Fatalf("wptest: copy WordPress: %v", err)
	}
	s.writeWPConfig(t, "")
	s.writePHPConfig(t, bin)
	s.startFPM(t, bin, runUser, runGroup)
	s.restartFPM = func(t testing.TB) { s.startFPM(t, bin, runUser, runGroup) }
	s.startNginx(t, bin, httpPort, runUser, runGroup)
	s.install(t)
	if opts.Multisite {
		s.installNetwork(t)
	}
	if err := os.MkdirAll(s.MUPluginDir, 0o755); err != nil {
		t.Fatalf("wptest: %v", err)
	}
	s.chown(t, s.Root)
	return s
}

// resolveOwner decides who runs the PHP pool and nginx's workers: the Owner
// when running as root, else root itself (nginx and php-fpm then need to be
// told it is meant). Not as root, both run as the current user and get no
// user directive.
func (s *Stack) resolveOwner(t testing.TB) (userName, group string) {
	t.Helper()
	if os.Geteuid() != 0 {
		return "", ""
	}
	if s.Options.Owner == "" {
		return "root", "root"
	}
	u, err := user.Lookup(s.Options.Owner)
	if err != nil {
		t.Fatalf("wptest: owner %q: %v", s.Options.Owner, err)
	}
	g, err := user.LookupGroupId(u.Gid)
	if err != nil {
		t.Fatalf("wptest: group of owner %q: %v", s.Options.Owner, err)
	}
	s.uid, _ = strconv.Atoi(u.Uid)
	s.gid, _ = strconv.Atoi(u.Gid)
	return u.Username, g.Name
}

func (s *Stack) startMariaDB(t testing.TB, bin binaries, port int) {
	t.Helper()
	data := s.dir.Path("mysql")
	// A tmpdir of its own: stacks bootstrapping side by side collide on
	// MariaDB's temporary tables in a shared /tmp.
	tmp := s.dir.Path("mysql-tmp")
	if err := os.Mkdir(tmp, 0o700); err != nil {
		t.Fatalf("wptest: %v", err)
	}
	common := []string{"--no-defaults", "--datadir=" + data, "--tmpdir=" + tmp, "--innodb-log-file-size=4M",
		"--innodb-buffer-pool-size=16M", "--skip-name-resolve"}
	if os.Geteuid() == 0 {
		common = append(common, "--user=root")
	}
	install := exec.Command(bin.installDB, append(common, "--auth-root-authentication-method=normal",
		"--skip-test-db")...)
	if out, err := install.CombinedOutput(); err != nil {
		t.Fatalf("wptest: mariadb-install-db: %v\n%s", err, out)
	}
	cmd := exec.Command(bin.mariadbd, append(common, "--socket="+s.DBSocket, "--port="+strconv.Itoa(port),
		"--bind-address=127.0.0.1", "--pid-file="+s.dir.Path("mysqld.pid"),
		"--log-error="+s.dir.Path("mysqld.err"), "--max-connections=200")...)
	s.maria = s.dir.Start("mariadbd", cmd)
	root, err := sql.Open("mysql", "root@unix("+s.DBSocket+")/")
	if err != nil {
		t.Fatalf("wptest: %v", err)
	}
	t.Cleanup(func() { root.Close() })
	proctest.WaitReady(t, s.maria, 30*time.Second, func(ctx context.Context) error {
		if err := root.PingContext(ctx); err != nil {
			return fmt.Errorf("%w (log: %s)", err, proctest.Tail(s.dir.Path("mysqld.err"), 500))
		}
		return nil
	})
	for _, q := range []string{
		"CREATE DATABASE `" + s.DBName + "` CHARACTER SET utf8mb4",
		fmt.Sprintf("CREATE USER '%s'@'127.0.0.1' IDENTIFIED BY '%s'", s.DBUser, s.DBPassword),
		fmt.Sprintf("CREATE USER '%s'@'localhost' IDENTIFIED BY '%s'", s.DBUser, s.DBPassword),
		fmt.Sprintf("GRANT ALL ON `%s`.* TO '%s'@'127.0.0.1'", s.DBName, s.DBUser),
		fmt.Sprintf("GRANT ALL ON `%s`.* TO '%s'@'localhost'", s.DBName, s.DBUser),
	} {
		if _, err := root.Exec(q); err != nil {
			t.Fatalf("wptest: %s: %v", q, err)
		}
	}
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.Net, cfg.Addr, cfg.DBName = s.DBUser, s.DBPassword, "unix", s.DBSocket, s.DBName
	s.db, err = sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		t.Fatalf("wptest: %v", err)
	}
	t.Cleanup(func() { s.db.Close() })
}

// writeWPConfig writes wp-config.php; network, when not "", makes it a
// multisite network's on that domain.
func (s *Stack) writeWPConfig(t testing.TB, network string) {
	t.Helper()
	type salt struct{ Name, Value string }
	var salts []salt
	for _, n := range []string{"AUTH_KEY", "SECURE_AUTH_KEY", "LOGGED_IN_KEY", "NONCE_KEY",
		"AUTH_SALT", "SECURE_AUTH_SALT", "LOGGED_IN_SALT", "NONCE_SALT"} {
		salts = append(salts, salt{n, randomHex(t, 32)})
	}
	err := render(wpConfig, filepath.Join(s.Root, "wp-config.php"), map[string]any{
		"DBName": s.DBName, "DBUser": s.DBUser, "DBPassword": s.DBPassword, "DBHost": s.DBHost,
		"TablePrefix": s.TablePrefix, "Salts": salts, "Network": network,
	})
	if err != nil {
		t.Fatalf("wptest: write wp-config.php: %v", err)
	}
}

// phpExtensions are loaded when the php8.x packages ship them; mysqlnd must
// come before mysqli.
var phpExtensions = []string{"mysqlnd", "mysqli", "posix", "ctype", "fileinfo", "iconv", "tokenizer",
	"exif", "gd", "mbstring", "xml", "dom", "simplexml", "curl", "intl", "zip"}

func (s *Stack) writePHPConfig(t testing.TB, bin binaries) {
	t.Helper()
	out, err := exec.Command(bin.php, "-n", "-r", "echo PHP_EXTENSION_DIR;").Output()
	if err != nil {
		t.Fatalf("wptest: find PHP's extension dir: %v", err)
	}
	var exts []string
	for _, e := range phpExtensions {
		if _, err := os.Stat(filepath.Join(string(out), e+".so")); err == nil {
			exts = append(exts, e)
		}
	}
	if err := render(phpINI, s.dir.Path("php.ini"), map[string]any{
		"Extensions": exts, "ErrorLog": s.PHPErrorLog, "Opcache": s.Options.Opcache,
	}); err != nil {
		t.Fatalf("wptest: %v", err)
	}
	for _, log := range []string{s.PHPErrorLog, s.FPMLog, s.SlowLog} {
		if err := os.WriteFile(log, nil, 0o644); err != nil {
			t.Fatalf("wptest: %v", err)
		}
		s.chown(t, log)
	}
}

// phpEnv is the environment for every PHP process of the stack: no conf.d
// of the system is scanned.
func phpEnv() []string {
	return append(os.Environ(), "PHP_INI_SCAN_DIR=")
}

func (s *Stack) startFPM(t testing.TB, bin binaries, runUser, runGroup string) {
	t.Helper()
	conf := s.dir.Path("php-fpm.conf")
	if err := render(fpmConf, conf, map[string]any{
		"Dir": s.dir.Dir, "FPMLog": s.FPMLog, "User": runUser, "Group": runGroup,
		"Socket": s.dir.Path("php-fpm.sock"), "MaxChildren": s.Options.MaxChildren,
		"TerminateSeconds": int(s.Options.RequestTerminateTimeout.Round(time.Second) / time.Second),
		"PoolSettings":     s.Options.PoolSettings,
		"SlowLog":          s.SlowLog,
		"SlowlogSeconds":   int(s.Options.SlowlogTimeout.Round(time.Second) / time.Second),
	}); err != nil {
		t.Fatalf("wptest: %v", err)
	}
	args := []string{"-F", "-y", conf, "-c", s.dir.Path("php.ini"), "-p", s.dir.Dir}
	if runUser == "root" {
		args = append(args, "-R")
	}
	cmd := exec.Command(bin.fpm, args...)
	cmd.Env = phpEnv()
	s.fpm = s.dir.Start("php-fpm", cmd)
	proctest.WaitReady(t, s.fpm, 20*time.Second, proctest.DialReady("unix", s.dir.Path("php-fpm.sock")))
}

func (s *Stack) startNginx(t testing.TB, bin binaries, port int, runUser, runGroup string) {
	t.Helper()
	conf := s.dir.Path("nginx.conf")
	if err := render(nginxConf, conf, map[string]any{
		"Dir": s.dir.Dir, "ErrorLog": s.NginxErrorLog, "User": runUser, "Group": runGroup,
		"Port": port, "Root": s.Root, "Socket": s.dir.Path("php-fpm.sock"),
		"ReadTimeout":  int(s.Options.FastCGIReadTimeout.Round(time.Second) / time.Second),
		"DenyDotFiles": s.Options.DenyDotFiles, "Multisite": s.Options.Multisite,
	}); err != nil {
		t.Fatalf("wptest: %v", err)
	}
	if err := os.MkdirAll(s.dir.Path("nginx"), 0o755); err != nil {
		t.Fatalf("wptest: %v", err)
	}
	cmd := exec.Command(bin.nginx, "-p", s.dir.Path("nginx"), "-c", conf, "-e", s.NginxErrorLog)
	s.nginx = s.dir.Start("nginx", cmd)
	proctest.WaitReady(t, s.nginx, 20*time.Second, proctest.DialReady("tcp", fmt.Sprintf("127.0.0.1:%d", port)))
}

// install runs WordPress's own installer (wp_install) from the CLI.
func (s *Stack) install(t testing.TB) {
	t.Helper()
	script := s.dir.WriteFile("install.php", mustAsset("php/install.php"), 0o644)
	cmd := exec.Command(s.php, "-c", s.dir.Path("php.ini"), script, s.Root, s.URL, s.AdminPassword)
	cmd.Env = phpEnv()
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("wptest: install WordPress: %v\n%s%s", err, out, exitStderr(err))
	}
	var res struct{ Version string }
	if err := json.Unmarshal(lastLine(out), &res); err != nil {
		t.Fatalf("wptest: install WordPress: unexpected output %q", out)
	}
	s.Version = res.Version
}

// chown gives path (recursively) to the stack's owner, when there is one.
func (s *Stack) chown(t testing.TB, path string) {
	t.Helper()
	if os.Geteuid() != 0 || s.Options.Owner == "" {
		return
	}
	err := filepath.WalkDir(path, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, s.uid, s.gid)
	})
	if err != nil {
		t.Fatalf("wptest: chown %s: %v", path, err)
	}
}

// DB returns a connection to the site's database as WordPress's own user.
func (s *Stack) DB() *sql.DB { return s.db }

// StopDatabase kills MariaDB, as a crashed or stopped database server
// leaves a site.
func (s *Stack) StopDatabase() { s.maria.Stop() }

// StopPHP kills php-fpm: nginx then answers 502 for every PHP request, a
// failure outside WordPress.
func (s *Stack) StopPHP() { s.fpm.Stop() }

// StartPHP starts php-fpm again after StopPHP, as an admin restarting it
// would.
func (s *Stack) StartPHP(t testing.TB) {
	t.Helper()
	os.Remove(s.dir.Path("php-fpm.sock"))
	s.restartFPM(t)
}

// Response is what the site answered to a GET.
type Response struct {
	Status   int
	Header   http.Header
	Body     string
	Duration time.Duration
}

// Get requests path (e.g. "/" or "/wp-login.php") from the site. A
// connection error fails the test: nginx is expected to answer, even if
// only with 502.
func (s *Stack) Get(t testing.TB, path string) Response {
	t.Helper()
	client := &http.Client{
		Timeout: 90 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	start := time.Now()
	resp, err := client.Get(s.URL + path)
	if err != nil {
		t.Fatalf("wptest: GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("wptest: GET %s: read body: %v", path, err)
	}
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: string(body), Duration: time.Since(start)}
}

// Option returns an option's raw value as stored in the database (serialized
// values stay serialized), and whether it exists.
func (s *Stack) Option(t testing.TB, name string) (string, bool) {
	t.Helper()
	var v string
	err := s.db.QueryRow("SELECT option_value FROM `"+s.TablePrefix+"options` WHERE option_name = ?", name).Scan(&v)
	if err == sql.ErrNoRows {
		return "", false
	}
	if err != nil {
		t.Fatalf("wptest: read option %s: %v", name, err)
	}
	return v, true
}

// OptionValue decodes an option the way WordPress does (maybe_unserialize)
// into v, through PHP's own unserialize.
func (s *Stack) OptionValue(t testing.TB, name string, v any) {
	t.Helper()
	out := s.optionPHP(t, "get", name)
	if err := json.Unmarshal(out, v); err != nil {
		t.Fatalf("wptest: decode option %s %q: %v", name, out, err)
	}
}

// SetOption stores v as option name; arrays and maps are serialized by PHP's
// own serialize, as update_option would.
func (s *Stack) SetOption(t testing.TB, name string, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("wptest: encode option %s: %v", name, err)
	}
	s.optionPHP(t, "set", name, string(b))
}

func (s *Stack) optionPHP(t testing.TB, args ...string) []byte {
	t.Helper()
	script := s.dir.Path("option.php")
	if _, err := os.Stat(script); err != nil {
		s.dir.WriteFile("option.php", mustAsset("php/option.php"), 0o644)
	}
	cmd := exec.Command(s.php, append([]string{"-c", s.dir.Path("php.ini"), script}, args...)...)
	cmd.Env = append(phpEnv(), "WPTEST_DB_SOCKET="+s.DBSocket, "WPTEST_DB_USER="+s.DBUser,
		"WPTEST_DB_PASSWORD="+s.DBPassword, "WPTEST_DB_NAME="+s.DBName, "WPTEST_TABLE_PREFIX="+s.TablePrefix)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("wptest: option.php %s: %v\n%s%s", strings.Join(args, " "), err, out, exitStderr(err))
	}
	return out
}

func randomHex(t testing.TB, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("wptest: %v", err)
	}
	return hex.EncodeToString(b)
}

func exitStderr(err error) string {
	if ee, ok := err.(*exec.ExitError); ok {
		return string(ee.Stderr)
	}
	return ""
}

func lastLine(b []byte) []byte {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return []byte(lines[len(lines)-1])
}

// copyTree copies WordPress into dst as a normal, self-contained docroot:
// symlinks (Debian links bundled libraries to /usr/share) are followed and
// copied as files; Debian's own wp-config.php and .htaccess are left out.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if rel == "wp-config.php" || rel == ".htaccess" {
			return nil
		}
		target := filepath.Join(dst, rel)
		fi, err := os.Stat(p) // follows symlinks
		if err != nil {
			return err
		}
		if fi.IsDir() {
			if d.Type()&fs.ModeSymlink != 0 {
				return copyTree(p, target)
			}
			return os.MkdirAll(target, 0o755)
		}
		return copyFile(p, target)
	})
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
