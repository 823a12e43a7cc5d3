// Package sshtest runs a real OpenSSH sshd on loopback for tests, in the
// manner of net/http/httptest: NewServer returns a running server with its
// own host key, user key, known_hosts file and config, and stops it when the
// test ends. A real sshd, not an in-process one, because real hosts differ
// from pkg/sftp's Go server in ways that matter (rename semantics,
// extensions, forwarding policy). It must not be used outside tests.
package sshtest

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/wpfix/wpfix/remote/proctest"
)

// Options changes how the server is configured.
type Options struct {
	// DisableForwarding turns off TCP and unix-socket forwarding on the
	// server, as many shared hosts do.
	DisableForwarding bool
	// Root lets root in instead of the test user, as a VPS admin's
	// connection would; the tests must run as root. The test user
	// (SiteUser) then owns the sites.
	Root bool
}

// Server is a running sshd that lets one test user in with one key.
type Server struct {
	// Addr is the listening address, "127.0.0.1:PORT".
	Addr string
	// Host is the listening IP, "127.0.0.1".
	Host string
	// Port is the listening TCP port.
	Port int
	// User is the login name of the test user.
	User string
	// UID and GID are the test user's ids, for chowning a docroot to it.
	UID, GID int
	// KeyFile is the user's private key file (OpenSSH PEM, 0600, no
	// passphrase), for clients that read keys from disk.
	KeyFile string
	// Signer is the same key as KeyFile.
	Signer ssh.Signer
	// HostKey is the server's public host key.
	HostKey ssh.PublicKey
	// KnownHostsFile is a known_hosts file holding exactly this server's
	// host key for [127.0.0.1]:PORT.
	KnownHostsFile string
	// Dir is the server's work directory (config, keys, pid file, log).
	Dir string
	// LogFile is sshd's log (LogLevel VERBOSE), the first place to look
	// when a login is refused.
	LogFile string

	proc *proctest.Process
}

// systemUser is the account the server lets in when the tests run as root.
const systemUser = "wpfixtest"

// NewServer starts sshd on a free loopback port and returns once it accepts
// logins. It is stopped, by pid, when the test ends.
func NewServer(t testing.TB, opts Options) *Server {
	t.Helper()
	sshd := proctest.Require(t, "openssh-server", "sshd")
	w := proctest.NewWorkdir(t, "sshtest")
	s := &Server{Host: "127.0.0.1", Port: proctest.FreePort(t), Dir: w.Dir}
	s.Addr = net.JoinHostPort(s.Host, strconv.Itoa(s.Port))
	s.User, s.UID, s.GID = testUser(t)
	if opts.Root {
		if os.Geteuid() != 0 {
			t.Skip("sshtest: a server that lets root in needs the tests to run as root")
		}
		s.User, s.UID, s.GID = "root", 0, 0
	}

	hostSigner, hostKeyFile := writeKey(t, w, "host_ed25519")
	s.HostKey = hostSigner.PublicKey()
	s.Signer, s.KeyFile = writeKey(t, w, "user_ed25519")
	authorizedKeys := w.WriteFile("authorized_keys", string(ssh.MarshalAuthorizedKey(s.Signer.PublicKey())), 0o644)
	line := knownhosts.Line([]string{knownhosts.Normalize(s.Addr)}, s.HostKey)
	s.KnownHostsFile = w.WriteFile("known_hosts", line+"\n", 0o644)

	if os.Geteuid() == 0 {
		// sshd refuses to start as root without its privilege-separation
		// directory, which Debian creates only from the service unit.
		if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
			t.Fatalf("sshtest: %v", err)
		}
	}
	forwarding := "yes"
	if opts.DisableForwarding {
		forwarding = "no"
	}
	config := []string{
		"ListenAddress " + s.Addr,
		"HostKey " + hostKeyFile,
		"PidFile " + w.Path("sshd.pid"),
		"AuthorizedKeysFile " + authorizedKeys,
		"StrictModes no",
		"UsePAM no",
		"PasswordAuthentication no",
		"KbdInteractiveAuthentication no",
		"PubkeyAuthentication yes",
		"AllowUsers " + s.User,
		"PermitRootLogin prohibit-password",
		"Subsystem sftp internal-sftp",
		"LogLevel VERBOSE",
		"AllowTcpForwarding " + forwarding,
		"AllowStreamLocalForwarding " + forwarding,
	}
	if opts.DisableForwarding {
		config = append(config, "DisableForwarding yes")
	}
	configFile := w.WriteFile("sshd_config", strings.Join(config, "\n")+"\n", 0o644)

	s.proc = w.Start("sshd", exec.Command(sshd, "-D", "-e", "-f", configFile))
	s.LogFile = s.proc.Log
	// sshd accepts TCP before it could log anyone in on a bad config, so
	// only a whole handshake with the user key says it is ready.
	cfg := s.ClientConfig(t)
	proctest.WaitReady(t, s.proc, 10*time.Second, func(ctx context.Context) error {
		return handshake(ctx, s.Addr, cfg)
	})
	return s
}

// ClientConfig returns a config that logs in as User with Signer and
// verifies the host key against KnownHostsFile.
func (s *Server) ClientConfig(t testing.TB) *ssh.ClientConfig {
	t.Helper()
	hostKeys, err := knownhosts.New(s.KnownHostsFile)
	if err != nil {
		t.Fatalf("sshtest: %v", err)
	}
	return &ssh.ClientConfig{
		User:            s.User,
		Auth:            []ssh.AuthMethod{ssh.PublicKeys(s.Signer)},
		HostKeyCallback: hostKeys,
		Timeout:         10 * time.Second,
	}
}

// Dial connects and logs in with ClientConfig. The client is closed when
// the test ends.
func (s *Server) Dial(t testing.TB) *ssh.Client {
	t.Helper()
	c, err := ssh.Dial("tcp", s.Addr, s.ClientConfig(t))
	if err != nil {
		t.Fatalf("sshtest: dial %s: %v; sshd's log:\n%s", s.Addr, err, proctest.Tail(s.LogFile, 2000))
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// SFTP opens an SFTP session over a new Dial'd client. It is closed when
// the test ends.
func (s *Server) SFTP(t testing.TB) *sftp.Client {
	t.Helper()
	c, err := sftp.NewClient(s.Dial(t))
	if err != nil {
		t.Fatalf("sshtest: sftp on %s: %v; sshd's log:\n%s", s.Addr, err, proctest.Tail(s.LogFile, 2000))
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// handshake logs in to addr and closes the connection, giving up when ctx
// ends.
func handshake(ctx context.Context, addr string, cfg *ssh.ClientConfig) error {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	c, chans, reqs, err := ssh.NewClientConn(conn, addr, cfg)
	if err != nil {
		return err
	}
	return ssh.NewClient(c, chans, reqs).Close()
}

// NewKey generates an ed25519 key that no server knows, and returns it as
// a signer and in OpenSSH PEM form, for a key file.
func NewKey(t testing.TB) (ssh.Signer, []byte) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatalf("sshtest: generate a key: %v", err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatalf("sshtest: marshal a key: %v", err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatalf("sshtest: signer of a key: %v", err)
	}
	return signer, pem.EncodeToMemory(block)
}

// writeKey generates an ed25519 key, writes it in OpenSSH PEM form with
// mode 0600 (sshd refuses host keys others can read) and returns it.
func writeKey(t testing.TB, w *proctest.Workdir, name string) (ssh.Signer, string) {
	t.Helper()
	signer, key := NewKey(t)
	return signer, w.WriteFile(name, string(key), 0o600)
}

// SiteUser returns the account that owns a test's sites: wpfixtest when
// running as root, else the current user.
func SiteUser(t testing.TB) (name string, uid, gid int) {
	t.Helper()
	return testUser(t)
}

// testUser returns the account the server lets in: the system user
// wpfixtest when running as root (created on first use), otherwise the
// current user, the only one a non-root sshd can log in.
func testUser(t testing.TB) (name string, uid, gid int) {
	t.Helper()
	var u *user.User
	var err error
	if os.Geteuid() == 0 {
		u, err = ensureSystemUser(t)
	} else {
		u, err = user.Current()
	}
	if err != nil {
		t.Fatalf("sshtest: test user: %v", err)
	}
	uid, err = strconv.Atoi(u.Uid)
	if err != nil {
		t.Fatalf("sshtest: uid of %s: %v", u.Username, err)
	}
	gid, err = strconv.Atoi(u.Gid)
	if err != nil {
		t.Fatalf("sshtest: gid of %s: %v", u.Username, err)
	}
	return u.Username, uid, gid
}

// ensureSystemUser creates the wpfixtest account if it is missing. Test
// binaries run in parallel, so creation is serialized with a lock file and
// the account looked up again once the lock is held.
func ensureSystemUser(t testing.TB) (*user.User, error) {
	if u, err := user.Lookup(systemUser); err == nil {
		return u, nil
	}
	useradd := proctest.Require(t, "passwd", "useradd")
	f, err := os.OpenFile("/tmp/sshtest-useradd.lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		return nil, fmt.Errorf("lock %s: %w", f.Name(), err)
	}
	defer syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	if u, err := user.Lookup(systemUser); err == nil {
		return u, nil
	}
	// -p '*': with UsePAM no, sshd refuses an account whose password field
	// starts with "!" as locked, and useradd's default is "!".
	out, err := exec.Command(useradd, "--system", "--no-create-home", "--home-dir", "/nonexistent",
		"--shell", "/bin/sh", "-p", "*", systemUser).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("useradd %s: %v: %s", systemUser, err, out)
	}
	return user.Lookup(systemUser)
}
