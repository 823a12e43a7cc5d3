package notify

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	_ "embed"
	"encoding/pem"
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

//go:embed testdata/smtpd.py
var smtpdScript string

// smtpServer is a real SMTP server (aiosmtpd) on loopback.
type smtpServer struct {
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
func requireAiosmtpd(t *testing.T) string {
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

// startSMTP starts aiosmtpd: with user != "", STARTTLS (a self-signed cert
// made here) is required before anything, and AUTH by user and password.
func startSMTP(t *testing.T, user, password string) *smtpServer {
	t.Helper()
	py := requireAiosmtpd(t)
	w := proctest.NewWorkdir(t, "notify-smtp")
	s := &smtpServer{Port: proctest.FreePort(t), Dir: w.Path("mail"), w: w}
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
func (s *smtpServer) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port)) }

// Messages returns the messages received so far, oldest first.
func (s *smtpServer) Messages(t *testing.T) []string {
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
func (s *smtpServer) AuthLog() string {
	b, _ := os.ReadFile(filepath.Join(s.Dir, "auth.log"))
	return string(b)
}

// Output is the server's own output, for failure messages.
func (s *smtpServer) Output() string { return proctest.Tail(s.p.Log, 4000) }

// selfSigned writes cert.pem and key.pem for 127.0.0.1 and localhost.
func selfSigned(t *testing.T, w *proctest.Workdir) (certFile, keyFile string) {
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

// waitMessages waits until n messages have arrived.
func (s *smtpServer) waitMessages(t *testing.T, n int) []string {
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
