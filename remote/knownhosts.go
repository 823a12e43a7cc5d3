package remote

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// ErrUnknownHostKey reports that known_hosts holds no key for a host, and
// the key was not accepted: the user must check its fingerprint and trust
// it first.
var ErrUnknownHostKey = errors.New("host key unknown")

// ErrHostKeyChanged reports that a host offers a key other than the one
// known_hosts holds for it. It is always refused: the connection may be
// intercepted.
var ErrHostKeyChanged = errors.New("host key changed")

// hostKeyCheck verifies a host's key against known_hosts and records a new
// one when told to. err keeps the refusal, which the handshake would
// otherwise bury in its own wording.
type hostKeyCheck struct {
	db         ssh.HostKeyCallback
	record     string // the file new keys go to; "" when there is none
	accept     bool
	algorithms []string // host key algorithms allowed for the keys known for the host
	log        *slog.Logger
	err        error
}

func (d *sshDialer) hostKeyCheck(h *sshHost, addr string) (*hostKeyCheck, error) {
	var existing []string
	for _, f := range h.knownHosts {
		if _, err := os.Stat(f); err == nil {
			existing = append(existing, f)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("known_hosts: %w", err)
		}
	}
	db, err := knownhosts.New(existing...)
	if err != nil {
		return nil, fmt.Errorf("known_hosts: %w", err)
	}
	k := &hostKeyCheck{db: db, accept: d.o.AcceptNewHostKey, log: d.log}
	if len(h.knownHosts) > 0 {
		k.record = h.knownHosts[0]
	}
	h.knownTypes = knownKeyTypes(db, addr)
	k.algorithms = narrowHostKeys(h.algorithms.hostKeys, h.knownTypes)
	if len(k.algorithms) == 0 {
		return nil, fmt.Errorf("known_hosts holds for %s only keys of type %s, and HostKeyAlgorithms allows none of them "+
			"(it allows %s); if you trust the host, allow one in ssh_config: `Host %s` then `HostKeyAlgorithms +%s`",
			addr, strings.Join(h.knownTypes, ","), strings.Join(h.algorithms.hostKeys, ","), h.alias, strings.Join(h.knownTypes, ","))
	}
	return k, nil
}

// throwawayKey is a key no known_hosts holds, to ask which keys it holds
// for a host.
var throwawayKey = sync.OnceValue(func() ssh.PublicKey {
	pub, _, err := ed25519.GenerateKey(nil)
	if err != nil {
		panic(err)
	}
	k, err := ssh.NewPublicKey(pub)
	if err != nil {
		panic(err)
	}
	return k
})

// knownKeyTypes returns the types of the keys db holds for addr (ssh-rsa,
// ssh-ed25519, …), or nil when it holds none. The handshake asks only for
// the host key algorithms of these types: otherwise it may pick one whose
// key known_hosts lacks — RSA, say, for a host known by its ed25519 key —
// and then report a changed key.
func knownKeyTypes(db ssh.HostKeyCallback, addr string) []string {
	var ke *knownhosts.KeyError
	if !errors.As(db(addr, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 22}, throwawayKey()), &ke) {
		return nil
	}
	var types []string
	for _, w := range ke.Want {
		if t := w.Key.Type(); !slices.Contains(types, t) {
			types = append(types, t)
		}
	}
	return types
}

// verify is the ssh.HostKeyCallback.
func (k *hostKeyCheck) verify(hostname string, remote net.Addr, key ssh.PublicKey) error {
	err := k.db(hostname, remote, key)
	var ke *knownhosts.KeyError
	var re *knownhosts.RevokedError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &re):
		k.err = fmt.Errorf("host key revoked: %s:%d marks the %s key %s as revoked", re.Revoked.Filename, re.Revoked.Line,
			keyTypeName(key), ssh.FingerprintSHA256(key))
	case errors.As(err, &ke) && len(ke.Want) > 0:
		w := ke.Want[0]
		host := knownhosts.Normalize(hostname)
		k.err = fmt.Errorf("%w: %s now offers the %s key %s, but %s:%d holds another for it; someone may be "+
			"intercepting the connection (a man-in-the-middle attack), or the host key was replaced: check with the "+
			"host's administrator, then remove the old key with `ssh-keygen -f %s -R '%s'`",
			ErrHostKeyChanged, host, keyTypeName(key), ssh.FingerprintSHA256(key), w.Filename, w.Line, w.Filename, host)
	case errors.As(err, &ke) && k.accept && k.record != "":
		if err := recordHostKey(k.record, hostname, key); err != nil {
			k.err = fmt.Errorf("record the host key: %w", err)
			break
		}
		k.log.Info("ssh: permanently added the host key to known_hosts", "host", knownhosts.Normalize(hostname),
			"type", keyTypeName(key), "fingerprint", ssh.FingerprintSHA256(key), "file", k.record)
		return nil
	case errors.As(err, &ke):
		k.err = k.unknown(hostname, key)
	default:
		k.err = fmt.Errorf("known_hosts: %w", err)
	}
	return k.err
}

// unknown says that a host's key is unknown, and how to trust it.
func (k *hostKeyCheck) unknown(hostname string, key ssh.PublicKey) error {
	host, port, _ := net.SplitHostPort(hostname)
	if k.record == "" {
		return fmt.Errorf("%w: %s offers the %s key %s, and there is no known_hosts file to trust it in (UserKnownHostsFile none): pass --known-hosts FILE",
			ErrUnknownHostKey, knownhosts.Normalize(hostname), keyTypeName(key), ssh.FingerprintSHA256(key))
	}
	scan := "ssh-keyscan " + host
	if port != "22" {
		scan = "ssh-keyscan -p " + port + " " + host
	}
	return fmt.Errorf("%w: %s offers the %s key %s, which %s does not hold; if that is the server's fingerprint, "+
		"trust it with `%s >> %s` or --accept-new-host-key",
		ErrUnknownHostKey, knownhosts.Normalize(hostname), keyTypeName(key), ssh.FingerprintSHA256(key),
		k.record, scan, k.record)
}

// keyTypeName names a key's type as OpenSSH's messages do: ED25519, RSA,
// ECDSA.
func keyTypeName(key ssh.PublicKey) string {
	t := key.Type()
	switch {
	case t == ssh.KeyAlgoRSA:
		return "RSA"
	case strings.HasPrefix(t, "ecdsa-"):
		return "ECDSA"
	case t == ssh.KeyAlgoED25519:
		return "ED25519"
	}
	return t
}

// recordHostKey appends a known_hosts line for addr, creating the file
// (0600) and its directory (0700) if missing.
func recordHostKey(file, addr string, key ssh.PublicKey) error {
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(file, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	line := knownhosts.Line([]string{knownhosts.Normalize(addr)}, key) + "\n"
	if fi, err := f.Stat(); err == nil && fi.Size() > 0 {
		last := make([]byte, 1)
		if _, err := f.ReadAt(last, fi.Size()-1); err == nil && last[0] != '\n' {
			line = "\n" + line
		}
	}
	if _, err := f.WriteString(line); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
