package remote

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"slices"
	"strings"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// keyring is the keys offered to one host, in order: ssh-agent's, then
// the identity files', each key once.
type keyring struct {
	signers []ssh.Signer
	offered []string // for messages: "2 keys from ssh-agent", file names
	locked  []string // key files skipped for want of a passphrase
}

func (d *sshDialer) keys(h *sshHost) (*keyring, error) {
	r := &keyring{}
	type fileKey struct {
		path   string
		pub    ssh.PublicKey // nil when locked in a way that hides it
		signer ssh.Signer    // nil when locked and there is no prompt
	}
	var files []fileKey
	for _, f := range h.identities {
		s, pub, err := d.loadIdentity(f)
		switch {
		case errors.Is(err, errNeedsPassphrase):
			files = append(files, fileKey{path: f.path, pub: pub})
		case err != nil:
			return nil, err
		case s != nil:
			files = append(files, fileKey{f.path, pub, s})
		}
	}
	marshal := func(k ssh.PublicKey) string {
		if k == nil {
			return ""
		}
		return string(k.Marshal())
	}

	seen := map[string]bool{}
	if h.agentSocket != "" {
		if conn, err := net.Dial("unix", h.agentSocket); err != nil {
			d.log.Debug("ssh: ssh-agent not reachable", "socket", h.agentSocket, "err", err)
		} else {
			d.closers = append(d.closers, conn)
			signers, err := agent.NewClient(conn).Signers()
			if err != nil {
				d.log.Debug("ssh: ssh-agent lists no keys", "err", err)
			}
			n := 0
			for _, s := range signers {
				key := marshal(s.PublicKey())
				// IdentitiesOnly: only the agent's copies of the identity files.
				if h.identitiesOnly && !slices.ContainsFunc(files, func(f fileKey) bool { return marshal(f.pub) == key }) {
					continue
				}
				seen[key] = true
				r.signers = append(r.signers, s)
				n++
			}
			if n > 0 {
				r.offered = append(r.offered, fmt.Sprintf("%d key(s) from ssh-agent", n))
			}
		}
	}
	for _, f := range files {
		switch {
		case f.pub != nil && seen[marshal(f.pub)]:
		case f.signer == nil:
			r.locked = append(r.locked, f.path)
		default:
			seen[marshal(f.pub)] = true
			r.signers = append(r.signers, f.signer)
			r.offered = append(r.offered, f.path)
		}
	}
	d.log.Debug("ssh: keys to offer", "host", h.alias, "keys", r.offered, "need_passphrase", r.locked)
	return r, nil
}

// refused says that the server turned every key down, which keys those
// were, and what to do about a key that needs a passphrase.
func (r *keyring) refused(user string, err error) error {
	msg := fmt.Sprintf("the server refused user %s with the keys %s", user, strings.Join(r.offered, ", "))
	if len(r.offered) == 0 {
		msg = fmt.Sprintf("no key to log in as %s: no ssh-agent key and no identity file found (give one with -i)", user)
	}
	if len(r.locked) > 0 {
		msg = fmt.Sprintf("%s; key %s needs a passphrase: load it with ssh-add or run wpfix on a terminal",
			msg, strings.Join(r.locked, ", "))
	}
	return &authError{msg: msg, err: err}
}

// authError is a refused login; its message says more than the
// handshake's error, which it wraps.
type authError struct {
	msg string
	err error
}

func (e *authError) Error() string { return e.msg }
func (e *authError) Unwrap() error { return e.err }

// errNeedsPassphrase is a key that needs a passphrase when there is no
// prompt to ask for it.
var errNeedsPassphrase = errors.New("the key needs a passphrase")

// loadIdentity reads a private key file and returns a signer and the
// public key. A key with a passphrase gets a signer that asks for it when
// the server accepts the key, or errNeedsPassphrase (and the public key,
// if the file shows it) when there is no prompt. A default file that does
// not exist returns nothing.
func (d *sshDialer) loadIdentity(f identityFile) (ssh.Signer, ssh.PublicKey, error) {
	b, err := os.ReadFile(f.path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) && !f.explicit {
			return nil, nil, nil
		}
		return nil, nil, fmt.Errorf("identity file: %w", err)
	}
	s, err := ssh.ParsePrivateKey(b)
	if err == nil {
		return s, s.PublicKey(), nil
	}
	var missing *ssh.PassphraseMissingError
	if !errors.As(err, &missing) {
		if f.explicit {
			return nil, nil, fmt.Errorf("identity file %s: %w", f.path, err)
		}
		d.log.Warn("ssh: skipping an unreadable identity file", "file", f.path, "err", err)
		return nil, nil, nil
	}
	pub := missing.PublicKey
	if pub == nil {
		// An old PEM key hides its public half; ssh-keygen writes it beside.
		if b, err := os.ReadFile(f.path + ".pub"); err == nil {
			pub, _, _, _, _ = ssh.ParseAuthorizedKey(b)
		}
	}
	k := &lockedKey{path: f.path, pem: b, pub: pub, prompt: d.o.Prompt}
	switch {
	case d.o.Prompt == nil:
		return nil, pub, errNeedsPassphrase
	case pub == nil:
		s, err := k.unlock()
		if err != nil {
			return nil, nil, err
		}
		return s, s.PublicKey(), nil
	}
	return k, pub, nil
}

// lockedKey is a private key with a passphrase, asked for only when the
// server accepts the key and a signature is due, as OpenSSH does.
type lockedKey struct {
	path   string
	pem    []byte
	pub    ssh.PublicKey
	prompt func(question string) ([]byte, error)
	signer ssh.AlgorithmSigner
	err    error // why it could not be unlocked
}

func (k *lockedKey) PublicKey() ssh.PublicKey { return k.pub }

func (k *lockedKey) Sign(rand io.Reader, data []byte) (*ssh.Signature, error) {
	s, err := k.unlock()
	if err != nil {
		return nil, err
	}
	return s.Sign(rand, data)
}

func (k *lockedKey) SignWithAlgorithm(rand io.Reader, data []byte, algorithm string) (*ssh.Signature, error) {
	s, err := k.unlock()
	if err != nil {
		return nil, err
	}
	return s.SignWithAlgorithm(rand, data, algorithm)
}

// unlock asks for the passphrase, three times at most.
func (k *lockedKey) unlock() (ssh.AlgorithmSigner, error) {
	if k.signer != nil || k.err != nil {
		return k.signer, k.err
	}
	k.err = fmt.Errorf("key %s: wrong passphrase, three times", k.path)
	for range 3 {
		pass, err := k.prompt(fmt.Sprintf("Enter passphrase for key '%s': ", k.path))
		if err != nil {
			k.err = fmt.Errorf("read the passphrase of key %s: %w", k.path, err)
			break
		}
		raw, err := ssh.ParseRawPrivateKeyWithPassphrase(k.pem, pass)
		clear(pass)
		if errors.Is(err, x509.IncorrectPasswordError) {
			continue
		}
		if err != nil {
			k.err = fmt.Errorf("key %s: %w", k.path, err)
			break
		}
		s, err := ssh.NewSignerFromKey(raw)
		if err != nil {
			k.err = fmt.Errorf("key %s: %w", k.path, err)
			break
		}
		as, ok := s.(ssh.AlgorithmSigner)
		if !ok {
			k.err = fmt.Errorf("key %s: %T cannot choose its signature algorithm", k.path, s)
			break
		}
		k.signer, k.err, k.pem = as, nil, nil
		break
	}
	return k.signer, k.err
}
