package remote

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"golang.org/x/crypto/ssh"

	"github.com/wpfix/wpfix/remote/sshconfig"
)

// ErrAlgorithmRefused reports that the server offers, for one part of
// the handshake (key exchange, host key, cipher, MAC), only algorithms
// wpfix does not offer: by default the SHA-1 ones OpenSSH 9 no longer
// offers either. The user may allow them for the host in ssh_config.
var ErrAlgorithmRefused = errors.New("no common SSH algorithm")

// The algorithms OpenSSH's client offers by default (ssh_config(5) of
// OpenSSH 9.9, whose KexAlgorithms puts mlkem768x25519-sha256 first as
// OpenSSH 10 does), in its order. Those golang.org/x/crypto/ssh does not
// implement are dropped when the lists are assembled. None uses SHA-1 but
// the MAC hmac-sha1, which OpenSSH 9 still offers by default, last: an HMAC
// does not rest on SHA-1's broken collision resistance, and it is chosen
// only by a server that has no AEAD cipher and no SHA-2 MAC.
var (
	opensshKex = []string{
		"mlkem768x25519-sha256", "sntrup761x25519-sha512", "sntrup761x25519-sha512@openssh.com",
		"curve25519-sha256", "curve25519-sha256@libssh.org",
		"ecdh-sha2-nistp256", "ecdh-sha2-nistp384", "ecdh-sha2-nistp521",
		"diffie-hellman-group-exchange-sha256", "diffie-hellman-group16-sha512",
		"diffie-hellman-group18-sha512", "diffie-hellman-group14-sha256",
	}
	opensshCiphers = []string{
		"chacha20-poly1305@openssh.com", "aes128-ctr", "aes192-ctr", "aes256-ctr",
		"aes128-gcm@openssh.com", "aes256-gcm@openssh.com",
	}
	opensshMACs = []string{
		"umac-64-etm@openssh.com", "umac-128-etm@openssh.com",
		"hmac-sha2-256-etm@openssh.com", "hmac-sha2-512-etm@openssh.com", "hmac-sha1-etm@openssh.com",
		"umac-64@openssh.com", "umac-128@openssh.com", "hmac-sha2-256", "hmac-sha2-512", "hmac-sha1",
	}
	// opensshKeyAlgorithms is the default of both HostKeyAlgorithms and
	// PubkeyAcceptedAlgorithms.
	opensshKeyAlgorithms = []string{
		"ssh-ed25519-cert-v01@openssh.com",
		"ecdsa-sha2-nistp256-cert-v01@openssh.com", "ecdsa-sha2-nistp384-cert-v01@openssh.com",
		"ecdsa-sha2-nistp521-cert-v01@openssh.com",
		"sk-ssh-ed25519-cert-v01@openssh.com", "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com",
		"rsa-sha2-512-cert-v01@openssh.com", "rsa-sha2-256-cert-v01@openssh.com",
		"ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
		"sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com",
		"rsa-sha2-512", "rsa-sha2-256",
	}
)

// sshAlgorithms are the algorithms offered to one host.
type sshAlgorithms struct {
	kex, ciphers, macs, hostKeys, pubKeys []string
	// given holds the values ssh_config gave, by keyword as
	// algorithmSettings spells it.
	given map[string]string
}

// algorithmSetting is one ssh_config algorithm keyword: OpenSSH's default
// for it, and every algorithm golang.org/x/crypto/ssh implements for it,
// SHA-1 ones included.
type algorithmSetting struct {
	keyword  string
	defaults []string
	all      func(a, insecure ssh.Algorithms) []string
	set      func(s *sshAlgorithms, list []string)
}

var algorithmSettings = []algorithmSetting{
	{"KexAlgorithms", opensshKex,
		func(a, i ssh.Algorithms) []string {
			// x/crypto offers the libssh.org alias with curve25519-sha256
			// but does not list it.
			return slices.Concat(a.KeyExchanges, []string{"curve25519-sha256@libssh.org"}, i.KeyExchanges)
		},
		func(s *sshAlgorithms, l []string) { s.kex = l }},
	{"Ciphers", opensshCiphers,
		func(a, i ssh.Algorithms) []string { return slices.Concat(a.Ciphers, i.Ciphers) },
		func(s *sshAlgorithms, l []string) { s.ciphers = l }},
	{"MACs", opensshMACs,
		func(a, i ssh.Algorithms) []string { return slices.Concat(a.MACs, i.MACs) },
		func(s *sshAlgorithms, l []string) { s.macs = l }},
	{"HostKeyAlgorithms", opensshKeyAlgorithms,
		func(a, i ssh.Algorithms) []string { return slices.Concat(a.HostKeys, i.HostKeys) },
		func(s *sshAlgorithms, l []string) { s.hostKeys = l }},
	{"PubkeyAcceptedAlgorithms", opensshKeyAlgorithms,
		func(a, i ssh.Algorithms) []string { return slices.Concat(a.PublicKeyAuths, i.PublicKeyAuths) },
		func(s *sshAlgorithms, l []string) { s.pubKeys = l }},
}

// resolveAlgorithms assembles the algorithm lists from ssh_config's values
// (get returns "" for a keyword not given) as OpenSSH does: OpenSSH's
// defaults, changed by "+", "^", "-" or replaced by a list. Only what
// golang.org/x/crypto/ssh implements is kept.
func resolveAlgorithms(get func(keyword string) string) (sshAlgorithms, error) {
	out := sshAlgorithms{given: map[string]string{}}
	sup, insecure := ssh.SupportedAlgorithms(), ssh.InsecureAlgorithms()
	for _, s := range algorithmSettings {
		all := s.all(sup, insecure)
		value := get(s.keyword)
		if s.keyword == "PubkeyAcceptedAlgorithms" && value == "" {
			value = get("PubkeyAcceptedKeyTypes") // its name before OpenSSH 8.5
		}
		if value != "" {
			out.given[s.keyword] = value
		}
		defaults := slices.DeleteFunc(slices.Clone(s.defaults), func(a string) bool { return !slices.Contains(all, a) })
		list, err := sshconfig.AlgorithmList(value, defaults, all)
		if err != nil {
			return out, fmt.Errorf("ssh_config %s: %w", s.keyword, err)
		}
		s.set(&out, list)
	}
	return out, nil
}

// keyFormat is the key type an algorithm signs with: ssh-rsa for the RSA
// signature algorithms, the algorithm itself otherwise.
func keyFormat(algo string) string {
	switch algo {
	case ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSASHA512:
		return ssh.KeyAlgoRSA
	}
	return algo
}

// narrowHostKeys keeps the host key algorithms allowed whose key type is
// one of known (the types known_hosts holds for the host; nil for none
// known, which keeps them all), in the order allowed gives.
func narrowHostKeys(allowed, known []string) []string {
	if known == nil {
		return allowed
	}
	var out []string
	for _, a := range allowed {
		if slices.Contains(known, keyFormat(a)) {
			out = append(out, a)
		}
	}
	return out
}

// acceptedSigners restricts each signer to the signature algorithms
// PubkeyAcceptedAlgorithms allows for its key, and drops a signer none of
// whose algorithms is allowed, as OpenSSH skips such a key. Without this,
// golang.org/x/crypto/ssh signs with ssh-rsa (SHA-1) for a server that does
// not say which algorithms it accepts.
func acceptedSigners(signers []ssh.Signer, accepted []string) []ssh.Signer {
	var out []ssh.Signer
	for _, s := range signers {
		t := s.PublicKey().Type()
		var algos []string
		for _, a := range accepted {
			if keyFormat(a) == t {
				algos = append(algos, a)
			}
		}
		if len(algos) == 0 {
			continue
		}
		if t == ssh.KeyAlgoRSA {
			as, ok := s.(ssh.AlgorithmSigner)
			if !ok {
				if slices.Contains(algos, ssh.KeyAlgoRSA) {
					out = append(out, s)
				}
				continue
			}
			ms, err := ssh.NewSignerWithAlgorithms(as, algos)
			if err != nil {
				continue
			}
			s = ms
		}
		out = append(out, s)
	}
	return out
}

// algorithmRefused turns the handshake's failure to agree on algorithms
// into an error that names what the server offers and the ssh_config line
// that would allow it, or returns nil when err is not that failure. alias
// is the host as the user named it.
func algorithmRefused(err error, alias string, h *sshHost) error {
	var ne *ssh.AlgorithmNegotiationError
	if !errors.As(err, &ne) {
		if strings.Contains(err.Error(), "no common public key signature algorithm") {
			// x/crypto says it in words only: the server takes only
			// signatures PubkeyAcceptedAlgorithms leaves out.
			return fmt.Errorf("%w: %v; if it is ssh-rsa (SHA-1), which wpfix, like OpenSSH 9, does not use by default, "+
				"and you trust the server, allow it for this host in ssh_config: `Host %s` then `PubkeyAcceptedAlgorithms +ssh-rsa`",
				ErrAlgorithmRefused, strings.TrimPrefix(err.Error(), "ssh: handshake failed: "), alias)
		}
		return nil
	}
	keyword, what := "", ne.What
	switch {
	case ne.What == "key exchange":
		keyword, what = "KexAlgorithms", "key exchanges"
	case ne.What == "host key":
		keyword, what = "HostKeyAlgorithms", "host key algorithms"
	case strings.Contains(ne.What, "cipher"):
		keyword, what = "Ciphers", "ciphers"
	case strings.Contains(ne.What, "MAC"):
		keyword, what = "MACs", "MACs"
	}
	peer, ours := realAlgorithms(ne.RequestedAlgorithms), strings.Join(realAlgorithms(ne.SupportedAlgorithms), ",")
	offered := strings.Join(peer, ",")
	var s *algorithmSetting
	for i := range algorithmSettings {
		if algorithmSettings[i].keyword == keyword {
			s = &algorithmSettings[i]
		}
	}
	if s == nil {
		return fmt.Errorf("%w: the server offers only the %s %s, and wpfix offers %s", ErrAlgorithmRefused,
			what, offered, ours)
	}
	all := s.all(ssh.SupportedAlgorithms(), ssh.InsecureAlgorithms())
	var known []string
	for _, a := range peer {
		if slices.Contains(all, a) {
			known = append(known, a)
		}
	}
	if len(known) == 0 {
		return fmt.Errorf("%w: the server offers only the %s %s, none of which wpfix implements", ErrAlgorithmRefused, what, offered)
	}
	if keyword == "HostKeyAlgorithms" && len(h.knownTypes) > 0 {
		return fmt.Errorf("%w: the server offers only the host key algorithms %s, and known_hosts holds for it "+
			"keys of type %s, which allow %s; if the server cannot use a SHA-2 signature (rsa-sha2-256) and you trust it, "+
			"allow one for this host in ssh_config: `Host %s` then `HostKeyAlgorithms +%s`",
			ErrAlgorithmRefused, offered, strings.Join(h.knownTypes, ","), ours,
			alias, strings.Join(known, ","))
	}
	if v := h.algorithms.given[keyword]; v != "" && !slices.ContainsFunc(known, func(a string) bool { return slices.Contains(s.defaults, a) }) {
		return fmt.Errorf("%w: the server offers only the %s %s, and ssh_config's %s (%s; the first one read wins) allows only %s; "+
			"if you trust the server, add %s to that line", ErrAlgorithmRefused, what, offered, keyword, v, ours, strings.Join(known, ","))
	}
	if slices.ContainsFunc(known, func(a string) bool { return slices.Contains(s.defaults, a) }) {
		// The defaults would do: the user's ssh_config narrowed them.
		return fmt.Errorf("%w: the server offers only the %s %s, and ssh_config's %s allows only %s",
			ErrAlgorithmRefused, what, offered, keyword, ours)
	}
	return fmt.Errorf("%w: the server offers only the %s %s, which wpfix, like OpenSSH 9, does not offer by default "+
		"(SHA-1 is broken); if the server cannot be upgraded and you trust it, allow them for this host in ssh_config "+
		"(~/.ssh/config, or the file --ssh-config names): `Host %s` then `%s +%s`",
		ErrAlgorithmRefused, what, offered, alias, keyword, strings.Join(known, ","))
}

// realAlgorithms drops from a KEXINIT list the pseudo-algorithms that
// announce protocol extensions (ext-info-c, kex-strict-…).
func realAlgorithms(list []string) []string {
	var out []string
	for _, a := range list {
		if !strings.HasPrefix(a, "ext-info-") && !strings.HasPrefix(a, "kex-strict-") {
			out = append(out, a)
		}
	}
	return out
}
