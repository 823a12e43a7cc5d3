// Package notifytest runs a real SMTP server (Debian's aiosmtpd) on
// loopback for tests of wpfix's email notices: STARTTLS required before
// anything, AUTH by a user and password, messages saved as files.
package notifytest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	_ "embed"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wpfix/wpfix/remote/proctest"
)

//go:embed smtpd.py
var smtpdScript string

// SMTPServer is a real SMTP server (aiosmtpd) on loopback.
type SMTPServer struct {
	Port     int
	Dir      string // where messages arrive
	CertFile string // the self-signed cert, to trust
	w        *proctest.Workdir
	p        *proctest.Process
}

// requireAiosmtpd returns the path of a python3 that imports aiosmtpd
// (Debian's /usr/bin/python3 first: a pyenv python3 on PATH lacks Debian's
// modules), or skips (fails under CI=true) when python3-aiosmtpd is not
// installed.
func requireAiosmtpd(t testing.TB) string {
	t.Helper()
	cands := []string{"/usr/bin/python3"}
	if p, err := exec.LookPath("python3"); err == nil {
		cands = append(cands, p)
	}
	for _, py := range cands {
		if exec.Command(py, "-c", "import aiosmtpd.controller").Run() == nil {
			return py
		}
	}
	msg := "python3-aiosmtpd not installed (no python3 imports aiosmtpd); run: sudo apt-get install -y python3-aiosmtpd"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// NewSMTPServer starts aiosmtpd: with user != "", STARTTLS (a self-signed cert
// made here) is required before anything, and AUTH by user and password.
func NewSMTPServer(t testing.TB, user, password string) *SMTPServer {
	t.Helper()
	py := requireAiosmtpd(t)
	w := proctest.NewWorkdir(t, "notify-smtp")
	s := &SMTPServer{Port: proctest.FreePort(t), Dir: w.Path("mail"), w: w}
	require.NoError(t, os.Mkdir(s.Dir, 0o755))
	script := w.WriteFile("smtpd.py", smtpdScript, 0o644)
	args := []string{script, strconv.Itoa(s.Port), s.Dir}
	if user != "" {
		s.CertFile, _ = selfSigned(t, w)
		pwFile := w.WriteFile("password", password, 0o600)
		args = append(args, "--tls", s.CertFile, w.Path("key.pem"), "--user", user, "--password-file", pwFile)
	}
	s.p = w.Start("aiosmtpd", exec.Command(py, args...))
	proctest.WaitReady(t, s.p, 30*time.Second, proctest.DialReady("tcp", s.Addr()))
	return s
}

// Addr is host:port.
func (s *SMTPServer) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port)) }

// Messages returns the messages received so far, oldest first.
func (s *SMTPServer) Messages(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(s.Dir, "*.eml"))
	require.NoError(t, err)
	sort.Slice(files, func(i, j int) bool {
		a, _ := os.Stat(files[i])
		b, _ := os.Stat(files[j])
		return a.ModTime().Before(b.ModTime())
	})
	var out []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		out = append(out, string(b))
	}
	return out
}

// AuthLog is what the server wrote of each AUTH attempt.
func (s *SMTPServer) AuthLog() string {
	b, _ := os.ReadFile(filepath.Join(s.Dir, "auth.log"))
	return string(b)
}

// Output is the server's own output, for failure messages.
func (s *SMTPServer) Output() string { return proctest.Tail(s.p.Log, 4000) }

// selfSigned writes cert.pem and key.pem for 127.0.0.1 and localhost.
func selfSigned(t testing.TB, w *proctest.Workdir) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "wpfix notify test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	pk, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	certFile = w.WriteFile("cert.pem", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), 0o644)
	keyFile = w.WriteFile("key.pem", string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk})), 0o600)
	return certFile, keyFile
}

// WaitMessages waits until n messages have arrived.
func (s *SMTPServer) WaitMessages(t testing.TB, n int) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		if m := s.Messages(t); len(m) >= n {
			return m
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%d messages arrived, want %d; the server said:\n%s", len(s.Messages(t)), n, s.Output())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Msmtprc writes a config for msmtp, a real sendmail-compatible program,
// that relays to s with STARTTLS and AUTH as user, owned by uid (msmtp
// reads a password only from its user's 0600 file), and returns its path.
func (s *SMTPServer) Msmtprc(t testing.TB, user, password string, uid, gid int) string {
	t.Helper()
	conf := s.w.WriteFile("msmtprc", fmt.Sprintf(`defaults
tls on
tls_starttls on
tls_trust_file %s
account default
host 127.0.0.1
port %d
from site@example.org
auth on
user %s
password %s
`, s.CertFile, s.Port, user, password), 0o600)
	if err := os.Chown(conf, uid, gid); err != nil {
		t.Fatalf("notifytest: %v", err)
	}
	return conf
}
