package remote

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/pem"
	"net"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/wpfix/wpfix/remote/sshtest"
)

// sha1Server is an in-process SSH server that speaks only what OpenSSH
// before 7.2 spoke: the key exchange diffie-hellman-group14-sha1, ssh-rsa
// (SHA-1) host key signatures, aes128-ctr with hmac-sha1, and (for the
// client's key) ssh-rsa signatures only.
type sha1Server struct {
	addr    string
	hostKey ssh.PublicKey
	logins  chan string // the algorithms negotiated, once a login succeeds
}

func newSHA1Server(t *testing.T, userKey ssh.PublicKey) *sha1Server {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	signer, err := ssh.NewSignerFromKey(key)
	require.NoError(t, err)
	hostSigner, err := ssh.NewSignerWithAlgorithms(signer.(ssh.AlgorithmSigner), []string{ssh.KeyAlgoRSA})
	require.NoError(t, err)
	cfg := &ssh.ServerConfig{
		Config: ssh.Config{
			KeyExchanges: []string{ssh.InsecureKeyExchangeDH14SHA1},
			Ciphers:      []string{ssh.CipherAES128CTR},
			MACs:         []string{ssh.HMACSHA1},
		},
		PublicKeyAuthAlgorithms: []string{ssh.KeyAlgoRSA},
		PublicKeyCallback: func(_ ssh.ConnMetadata, k ssh.PublicKey) (*ssh.Permissions, error) {
			if string(k.Marshal()) != string(userKey.Marshal()) {
				return nil, assert.AnError
			}
			return nil, nil
		},
	}
	cfg.AddHostKey(hostSigner)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	s := &sha1Server{addr: l.Addr().String(), hostKey: signer.PublicKey(), logins: make(chan string, 8)}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				sc, chans, reqs, err := ssh.NewServerConn(c, cfg)
				if err != nil {
					return
				}
				a := sc.Conn.(ssh.AlgorithmsConnMetadata).Algorithms()
				s.logins <- a.KeyExchange + " " + a.HostKey + " " + a.Read.Cipher + " " + a.Read.MAC
				go ssh.DiscardRequests(reqs)
				for ch := range chans {
					ch.Reject(ssh.Prohibited, "no channels here")
				}
			}()
		}
	}()
	return s
}

// TestDialSHA1Server: a server that offers only SHA-1 algorithms is
// refused by default, with an error that names what it offers and the
// ssh_config line that allows it, and accepted once ssh_config allows it.
func TestDialSHA1Server(t *testing.T) {
	home := dialHome(t)
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	block, err := ssh.MarshalPrivateKey(key, "")
	require.NoError(t, err)
	keyFile := writeTestFile(t, filepath.Join(home, ".ssh", "id_rsa"), string(pem.EncodeToMemory(block)), 0o600)
	userKey, err := ssh.NewPublicKey(&key.PublicKey)
	require.NoError(t, err)

	s := newSHA1Server(t, userKey)
	known := writeTestFile(t, filepath.Join(home, "known_hosts"),
		knownhosts.Line([]string{knownhosts.Normalize(s.addr)}, s.hostKey)+"\n", 0o600)
	host, port, _ := net.SplitHostPort(s.addr)
	tgt := Target{User: "u", Host: host, Path: "/"}
	_, err = net.LookupPort("tcp", port)
	require.NoError(t, err)
	tgt.Port, _ = parsePort(port)

	allowAll := "  KexAlgorithms +diffie-hellman-group14-sha1\n  HostKeyAlgorithms +ssh-rsa\n  PubkeyAcceptedAlgorithms +ssh-rsa\n"
	for _, tc := range []struct {
		name   string
		config string // the lines under Host 127.0.0.1
		accept bool   // known_hosts empty, --accept-new-host-key
		want   []string
		logged string
	}{
		{name: "refused by default", want: []string{"key exchanges diffie-hellman-group14-sha1",
			"like OpenSSH 9", "`Host 127.0.0.1` then `KexAlgorithms +diffie-hellman-group14-sha1`"}},
		{name: "ssh-rsa host key refused", config: "  KexAlgorithms +diffie-hellman-group14-sha1\n",
			want: []string{"host key algorithms ssh-rsa", "keys of type ssh-rsa", "allow rsa-sha2-512,rsa-sha2-256",
				"`HostKeyAlgorithms +ssh-rsa`"}},
		{name: "ssh-rsa host key refused for a new host", config: "  KexAlgorithms +diffie-hellman-group14-sha1\n",
			accept: true, want: []string{"host key algorithms ssh-rsa", "like OpenSSH 9", "`HostKeyAlgorithms +ssh-rsa`"}},
		{name: "ssh-rsa signature for the user key refused",
			config: "  KexAlgorithms +diffie-hellman-group14-sha1\n  HostKeyAlgorithms +ssh-rsa\n",
			want:   []string{`server only supports "ssh-rsa"`, "`PubkeyAcceptedAlgorithms +ssh-rsa`"}},
		{name: "hmac-sha1 removed by ssh_config", config: allowAll + "  MACs -hmac-sha1\n",
			want: []string{"MACs hmac-sha1", "ssh_config's MACs allows only hmac-sha2-256-etm@openssh.com"}},
		{name: "allowed by ssh_config", config: allowAll,
			logged: "diffie-hellman-group14-sha1 ssh-rsa aes128-ctr hmac-sha1"},
		{name: "allowed by ssh_config for a new host", config: allowAll, accept: true,
			logged: "diffie-hellman-group14-sha1 ssh-rsa aes128-ctr hmac-sha1"},
		{name: "a later ssh_config line does not override an earlier one",
			config: "  KexAlgorithms curve25519-sha256\n" + allowAll, want: []string{"ssh_config's KexAlgorithms (curve25519-sha256; the first one read wins) allows only curve25519-sha256",
				"add diffie-hellman-group14-sha1 to that line"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			config := writeTestFile(t, filepath.Join(t.TempDir(), "config"), "Host 127.0.0.1\n"+tc.config, 0o600)
			o := Options{Identity: keyFile, KnownHosts: known, ConfigFile: config}
			if tc.accept {
				o.KnownHosts, o.AcceptNewHostKey = filepath.Join(t.TempDir(), "known_hosts"), true
			}
			c, err := dialSSH(dialContext(t), tgt, o)
			if tc.logged != "" {
				require.NoError(t, err)
				c.Close()
				assert.Equal(t, tc.logged, <-s.logins)
				return
			}
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrAlgorithmRefused)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
			t.Logf("%s: %v", tc.name, err)
		})
	}
}

// TestDialAlgorithmsOpenSSH checks what is negotiated with a real OpenSSH
// sshd by default (no SHA-1 anywhere), and that ssh_config's lists reach
// the handshake: a list that leaves only ssh-rsa, which sshd 9 refuses,
// fails with an error saying what the server offers and what ssh_config
// allows.
func TestDialAlgorithmsOpenSSH(t *testing.T) {
	dialHome(t)
	s := sshtest.NewServer(t, sshtest.Options{})
	for _, tc := range []struct {
		name, config string
		kex, cipher  string // negotiated
		err          []string
	}{
		{name: "defaults", kex: "curve25519-sha256", cipher: "chacha20-poly1305@openssh.com"},
		{name: "ciphers and kex from ssh_config", config: "  Ciphers ^aes256-gcm@openssh.com\n  KexAlgorithms ecdh-sha2-nistp384\n",
			kex: "ecdh-sha2-nistp384", cipher: "aes256-gcm@openssh.com"},
		{name: "only ssh-rsa", config: "  HostKeyAlgorithms ssh-rsa\n",
			err: []string{"known_hosts holds for", "only keys of type ssh-ed25519", "HostKeyAlgorithms allows none of them"}},
		{name: "only sha1 kex", config: "  KexAlgorithms diffie-hellman-group14-sha1\n",
			err: []string{"the server offers only the key exchanges", "curve25519-sha256",
				"ssh_config's KexAlgorithms allows only diffie-hellman-group14-sha1"}},
		{name: "a name wpfix does not implement", config: "  KexAlgorithms sntrup761x25519-sha512@openssh.com\n",
			err: []string{"ssh_config KexAlgorithms", "names no algorithm wpfix knows"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			config := writeTestFile(t, filepath.Join(t.TempDir(), "config"), "Host 127.0.0.1\n"+tc.config, 0o600)
			c, err := dialSSH(dialContext(t), serverTarget(s), Options{Identity: s.KeyFile, KnownHosts: s.KnownHostsFile, ConfigFile: config})
			if tc.err != nil {
				require.Error(t, err)
				for _, w := range tc.err {
					assert.Contains(t, err.Error(), w)
				}
				t.Logf("%v", err)
				return
			}
			require.NoError(t, err)
			defer c.Close()
			a := c.Conn.(ssh.AlgorithmsConnMetadata).Algorithms()
			assert.Equal(t, tc.kex, a.KeyExchange)
			assert.Equal(t, tc.cipher, a.Write.Cipher)
			assert.Equal(t, ssh.KeyAlgoED25519, a.HostKey)
			assert.Equal(t, s.User, whoami(t, c))
		})
	}
}
