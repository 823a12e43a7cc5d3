package remote

import (
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
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

// maxJumps bounds the ProxyJump chain, so that a loop in ssh_config
// (a jumps through b, b through a) ends in an error.
const maxJumps = 8

// dialSSH connects and logs in to the SSH host of t.
//
// Each setting is taken from the first of these that gives it, as OpenSSH
// does:
//
//  1. the target: user@ and :port;
//  2. the options, that is the flags: Port (-p), Identity (-i, tried before
//     any IdentityFile of the config), KnownHosts (--known-hosts, replacing
//     UserKnownHostsFile);
//  3. the ssh_config file (o.ConfigFile; "" is ~/.ssh/config, "none" none),
//     where the first value of a keyword among the Host and Match blocks
//     that apply wins: HostName, User, Port, IdentityFile (cumulative),
//     ProxyJump, UserKnownHostsFile, IdentityAgent, IdentitiesOnly;
//  4. the defaults: the local user, port 22, ~/.ssh/id_ed25519, id_ecdsa
//     and id_rsa (those that exist), ~/.ssh/known_hosts, $SSH_AUTH_SOCK.
//
// A value stays unset until the end, so a default never beats the config.
// Every ProxyJump hop is resolved through the config in turn, with no
// flags but KnownHosts. remote/ssh-config.md says the same at length.
//
// The host key must be in known_hosts; with o.AcceptNewHostKey an unknown
// one is recorded, a changed one is refused whatever the options say. ctx
// bounds the TCP connection and the SSH handshake, including the time a
// passphrase prompt waits.
func dialSSH(ctx context.Context, t Target, o Options) (*ssh.Client, error) {
	if t.Local() {
		return nil, fmt.Errorf("connect %s: not an SSH target", t)
	}
	d := newSSHDialer(o)
	defer d.close()
	return d.connect(ctx, sshHop{alias: t.Host, user: t.User, port: t.Port}, true, nil, false, 0)
}

// sshDialer holds what the hops of one connection share.
type sshDialer struct {
	o         Options
	log       *slog.Logger
	home      string // "" when unknown
	localUser string
	closers   []io.Closer // ssh-agent connections, closed once logged in
}

func newSSHDialer(o Options) *sshDialer {
	d := &sshDialer{o: o, log: o.Logger}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	d.home, _ = os.UserHomeDir()
	if u, err := user.Current(); err == nil {
		d.localUser = u.Username
	} else {
		d.localUser = os.Getenv("USER")
	}
	return d
}

func (d *sshDialer) close() {
	for _, c := range d.closers {
		c.Close()
	}
}

// sshHop names a host to log in to as a target or a ProxyJump entry says
// it: an alias or address, and maybe a user and port.
type sshHop struct {
	alias string
	user  string
	port  int
}

// sshHost is where and how to log in to one host, once the target, the
// options, ssh_config and the defaults are merged.
type sshHost struct {
	alias          string
	hostName       string
	port           int
	user           string
	identities     []identityFile
	knownHosts     []string // new keys are recorded in the first
	proxyJump      []string // hops, nearest first; nil to connect directly
	agentSocket    string   // "" for no agent
	identitiesOnly bool
}

// identityFile is a private key file to offer. An explicit one (-i) must
// exist; the others are skipped when missing, as OpenSSH does.
type identityFile struct {
	path     string
	explicit bool
}

// connect logs in to hop, through its ProxyJump hops. jumps, when set,
// replaces the hop's own ProxyJump, as ssh -J does for the hops OpenSSH
// chains.
func (d *sshDialer) connect(ctx context.Context, hop sshHop, isTarget bool, jumps []string, jumpsSet bool, depth int) (*ssh.Client, error) {
	if depth > maxJumps {
		return nil, fmt.Errorf("connect %s: more than %d ProxyJump hops; is there a loop in ssh_config?", hop.alias, maxJumps)
	}
	h, err := d.resolve(hop, isTarget, jumps, jumpsSet)
	if err != nil {
		return nil, fmt.Errorf("connect %s: %w", hop.alias, err)
	}
	addr := net.JoinHostPort(h.hostName, strconv.Itoa(h.port))
	d.log.Debug("ssh: resolved host", "host", h.alias, "addr", addr, "user", h.user,
		"identity_files", h.identities, "known_hosts", h.knownHosts, "proxy_jump", h.proxyJump)

	var via *ssh.Client
	if n := len(h.proxyJump); n > 0 {
		jh, err := parseJumpHop(h.proxyJump[n-1])
		if err != nil {
			return nil, fmt.Errorf("connect %s: %w", hop.alias, err)
		}
		// The last hop is reached through the others; the first one
		// alone follows its own ProxyJump, if it has one.
		via, err = d.connect(ctx, jh, false, h.proxyJump[:n-1], n > 1, depth+1)
		if err != nil {
			return nil, fmt.Errorf("connect %s through %s: %w", hop.alias, jh.alias, err)
		}
	}
	client, err := d.login(ctx, h, addr, via)
	if err != nil {
		if via != nil {
			via.Close()
		}
		return nil, fmt.Errorf("connect %s (%s): %w", hop.alias, addr, err)
	}
	if via != nil {
		go func() {
			client.Wait()
			via.Close()
		}()
	}
	return client, nil
}

// login opens the TCP connection, directly or through via, checks the host
// key and authenticates.
func (d *sshDialer) login(ctx context.Context, h *sshHost, addr string, via *ssh.Client) (*ssh.Client, error) {
	check, err := d.hostKeyCheck(h, addr)
	if err != nil {
		return nil, err
	}
	keys, err := d.keys(h)
	if err != nil {
		return nil, err
	}
	cfg := &ssh.ClientConfig{
		User:              h.user,
		Auth:              []ssh.AuthMethod{ssh.PublicKeysCallback(func() ([]ssh.Signer, error) { return keys.signers, nil })},
		HostKeyCallback:   check.verify,
		HostKeyAlgorithms: check.algorithms,
	}

	var conn net.Conn
	if via != nil {
		conn, err = via.DialContext(ctx, "tcp", addr)
		var open *ssh.OpenChannelError
		if errors.As(err, &open) && open.Reason == ssh.Prohibited {
			return nil, fmt.Errorf("%w (%s): the jump host %s must allow TCP forwarding (AllowTcpForwarding)",
				ErrForwardingRefused, open.Message, h.proxyJump[len(h.proxyJump)-1])
		}
	} else {
		var nd net.Dialer
		conn, err = nd.DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		return nil, err
	}
	client, err := handshake(ctx, conn, addr, cfg)
	switch {
	case err == nil:
		return client, nil
	case check.err != nil:
		return nil, check.err
	case ctx.Err() != nil:
		return nil, ctx.Err()
	}
	for _, s := range keys.signers {
		if k, ok := s.(*lockedKey); ok && k.err != nil {
			return nil, k.err
		}
	}
	if strings.Contains(err.Error(), "unable to authenticate") {
		return nil, keys.refused(h.user, err)
	}
	return nil, err
}

// handshake runs the SSH handshake on conn within ctx: the connection's
// deadline is ctx's while it runs, and conn is closed if ctx is cancelled
// (a connection through a jump host has no deadlines).
func handshake(ctx context.Context, conn net.Conn, addr string, cfg *ssh.ClientConfig) (*ssh.Client, error) {
	dl, hasDeadline := ctx.Deadline()
	if hasDeadline {
		conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	c, chans, reqs, err := ssh.NewClientConn(conn, addr, cfg)
	if !stop() {
		if err == nil {
			c.Close()
		}
		return nil, ctx.Err()
	}
	if err != nil {
		if hasDeadline && errors.Is(err, os.ErrDeadlineExceeded) {
			// The connection's deadline is ctx's, whose own timer may
			// not have fired yet.
			<-ctx.Done()
			return nil, ctx.Err()
		}
		return nil, err
	}
	conn.SetDeadline(time.Time{})
	return ssh.NewClient(c, chans, reqs), nil
}

// resolve merges the target, the options, ssh_config and the defaults for
// one hop (see dialSSH for the order).
func (d *sshDialer) resolve(hop sshHop, isTarget bool, jumps []string, jumpsSet bool) (*sshHost, error) {
	c := &configRun{alias: hop.alias, localUser: d.localUser, home: d.home, vals: map[string][]string{}, log: d.log}
	// What the target and the flags say goes in first: the config's
	// first-value-wins rule then cannot override it.
	if hop.user != "" {
		c.vals["user"] = []string{hop.user}
	}
	if hop.port != 0 {
		c.vals["port"] = []string{strconv.Itoa(hop.port)}
	} else if isTarget && d.o.Port != 0 {
		c.vals["port"] = []string{strconv.Itoa(d.o.Port)}
	}
	explicit := isTarget && d.o.Identity != ""
	if explicit {
		c.vals["identityfile"] = []string{d.o.Identity}
	}
	if d.o.KnownHosts != "" {
		c.vals["userknownhostsfile"] = []string{d.o.KnownHosts}
	}
	if jumpsSet {
		c.vals["proxyjump"] = []string{strings.Join(jumps, ",")}
	}
	if err := c.read(d.o.ConfigFile); err != nil {
		return nil, err
	}

	h := &sshHost{alias: hop.alias, hostName: strings.ToLower(hop.alias), port: 22, user: d.localUser}
	if v := c.first("hostname"); v != "" {
		hn, err := expandTokens(v, "HostName", map[byte]string{'h': hop.alias})
		if err != nil {
			return nil, err
		}
		h.hostName = hn
	}
	if v := c.first("port"); v != "" {
		p, err := parsePort(v)
		if err != nil {
			return nil, fmt.Errorf("ssh_config Port: %w", err)
		}
		h.port = p
	}
	if v := c.first("user"); v != "" {
		h.user = v
	}
	// The tokens OpenSSH expands in file names, as far as wpfix knows them.
	tokens := map[byte]string{'d': d.home, 'h': h.hostName, 'n': hop.alias, 'p': strconv.Itoa(h.port),
		'r': h.user, 'u': d.localUser, 'i': strconv.Itoa(os.Getuid())}
	if lh, err := os.Hostname(); err == nil {
		tokens['L'], _, _ = strings.Cut(lh, ".")
		tokens['l'] = lh
	}

	files := c.vals["identityfile"]
	if len(files) == 0 && d.home != "" {
		for _, name := range []string{"id_ed25519", "id_ecdsa", "id_rsa"} {
			h.identities = append(h.identities, identityFile{path: filepath.Join(d.home, ".ssh", name)})
		}
	}
	seen := map[string]bool{}
	for i, f := range files {
		p, err := expandPath(f, "IdentityFile", d.home, tokens)
		if err != nil {
			return nil, err
		}
		if !seen[p] {
			seen[p] = true
			h.identities = append(h.identities, identityFile{path: p, explicit: explicit && i == 0})
		}
	}

	known := c.vals["userknownhostsfile"]
	if known == nil {
		if d.home == "" {
			return nil, errors.New("no home directory for ~/.ssh/known_hosts: set HOME or pass --known-hosts")
		}
		h.knownHosts = []string{filepath.Join(d.home, ".ssh", "known_hosts")}
	} else if !(len(known) == 1 && strings.EqualFold(known[0], "none")) {
		for _, f := range known {
			p, err := expandPath(f, "UserKnownHostsFile", d.home, tokens)
			if err != nil {
				return nil, err
			}
			h.knownHosts = append(h.knownHosts, p)
		}
	}

	if v := c.first("proxycommand"); v != "" && !strings.EqualFold(v, "none") {
		return nil, fmt.Errorf("ssh_config sets ProxyCommand %q, which wpfix does not run: use ProxyJump", v)
	}
	if v := c.first("proxyjump"); v != "" && !strings.EqualFold(v, "none") {
		for _, j := range strings.Split(v, ",") {
			if j = strings.TrimSpace(j); j == "" {
				return nil, fmt.Errorf("ssh_config ProxyJump %q: empty hop", v)
			}
			if _, err := parseJumpHop(j); err != nil {
				return nil, err
			}
			h.proxyJump = append(h.proxyJump, j)
		}
	}

	switch v := c.first("identityagent"); {
	case v == "" || v == "SSH_AUTH_SOCK":
		h.agentSocket = os.Getenv("SSH_AUTH_SOCK")
	case strings.EqualFold(v, "none"):
	case strings.HasPrefix(v, "$"):
		h.agentSocket = os.Getenv(strings.Trim(v[1:], "{}"))
	default:
		p, err := expandPath(v, "IdentityAgent", d.home, tokens)
		if err != nil {
			return nil, err
		}
		h.agentSocket = p
	}
	h.identitiesOnly = strings.EqualFold(c.first("identitiesonly"), "yes")
	return h, nil
}

// parseJumpHop reads one ProxyJump entry: [user@]host[:port], or the same
// as an ssh:// URL.
func parseJumpHop(s string) (sshHop, error) {
	spec := s
	if len(spec) < 6 || !strings.EqualFold(spec[:6], "ssh://") {
		spec = "ssh://" + spec
	}
	if strings.Contains(spec[6:], "/") {
		return sshHop{}, fmt.Errorf("ProxyJump entry %q: want [user@]host[:port]", s)
	}
	t, err := parseURLTarget(spec + "/")
	if err != nil {
		return sshHop{}, fmt.Errorf("ProxyJump entry %q: %w", s, err)
	}
	return sshHop{alias: t.Host, user: t.User, port: t.Port}, nil
}

// expandPath expands a leading ~ to the home directory, then OpenSSH's %
// tokens, in a file name.
func expandPath(s, keyword, home string, tokens map[byte]string) (string, error) {
	if s == "~" || strings.HasPrefix(s, "~/") {
		if home == "" {
			return "", fmt.Errorf("%s %q: no home directory for ~ (set HOME)", keyword, s)
		}
		s = home + s[1:]
	} else if strings.HasPrefix(s, "~") {
		return "", fmt.Errorf("%s %q: ~user is not supported; write the path", keyword, s)
	}
	return expandTokens(s, keyword, tokens)
}

// expandTokens replaces %% and the %x tokens given in s.
func expandTokens(s, keyword string, tokens map[byte]string) (string, error) {
	if !strings.Contains(s, "%") {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b.WriteByte(s[i])
			continue
		}
		if i++; i == len(s) {
			return "", fmt.Errorf("%s %q: a lone %% at the end", keyword, s)
		}
		if s[i] == '%' {
			b.WriteByte('%')
			continue
		}
		v, ok := tokens[s[i]]
		if !ok {
			return "", fmt.Errorf("%s %q: token %%%c is not supported here", keyword, s, s[i])
		}
		b.WriteString(v)
	}
	return b.String(), nil
}

// hostKeyCheck verifies a host's key against known_hosts and records a new
// one when told to. err keeps the refusal, which the handshake would
// otherwise bury in its own wording.
type hostKeyCheck struct {
	db         ssh.HostKeyCallback
	record     string // the file new keys go to; "" when there is none
	accept     bool
	algorithms []string // host key algorithms of the keys known for the host
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
	k.algorithms = knownAlgorithms(db, addr)
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

// knownAlgorithms returns the host key algorithms of the keys db holds for
// addr, or nil (any) when it holds none. Without this, the handshake may
// pick an algorithm whose key known_hosts lacks — RSA, say, for a host
// known by its ed25519 key — and then report a changed key.
func knownAlgorithms(db ssh.HostKeyCallback, addr string) []string {
	var ke *knownhosts.KeyError
	if !errors.As(db(addr, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 22}, throwawayKey()), &ke) {
		return nil
	}
	var algos []string
	for _, w := range ke.Want {
		add := []string{w.Key.Type()}
		if w.Key.Type() == ssh.KeyAlgoRSA {
			add = []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA}
		}
		for _, a := range add {
			if !slices.Contains(algos, a) {
				algos = append(algos, a)
			}
		}
	}
	return algos
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

// configRun reads ssh_config for one host as OpenSSH does: lines in order,
// Host and Match lines deciding which of the lines after them apply, and
// the first value of each keyword winning (IdentityFile adds up instead).
// Like OpenSSH it reads the files again, for Match final and canonical,
// when a Match asks for it.
type configRun struct {
	alias     string // the host as the user named it
	localUser string
	home      string
	vals      map[string][]string // lower-case keyword → arguments
	final     bool                // the second reading
	wantFinal bool
	log       *slog.Logger
}

// maxIncludeDepth is OpenSSH's limit on nested Include directives.
const maxIncludeDepth = 16

// read reads the config file the options name: "" for ~/.ssh/config,
// which may be missing, or "none" for none.
func (c *configRun) read(name string) error {
	switch {
	case strings.EqualFold(name, "none"):
		return nil
	case name == "":
		if c.home == "" {
			return nil
		}
		name = filepath.Join(c.home, ".ssh", "config")
		if _, err := os.Stat(name); errors.Is(err, fs.ErrNotExist) {
			return nil
		}
	}
	for {
		active := true
		if err := c.file(name, &active, false, 0); err != nil {
			return err
		}
		if !c.wantFinal || c.final {
			return nil
		}
		c.final = true
	}
}

// file applies one config file. active says whether the lines read apply
// to the host; an Include reads its files with the same flag and puts it
// back after, and one inside a block that does not apply (neverMatch)
// applies nothing.
func (c *configRun) file(name string, active *bool, neverMatch bool, depth int) error {
	b, err := os.ReadFile(name)
	if err != nil {
		return fmt.Errorf("ssh_config: %w", err)
	}
	for n, line := range strings.Split(string(b), "\n") {
		where := fmt.Sprintf("%s:%d", name, n+1)
		key, args, err := splitConfigLine(line)
		if err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		if key == "" {
			continue
		}
		if len(args) == 0 {
			return fmt.Errorf("%s: %s needs a value", where, key)
		}
		switch key = strings.ToLower(key); key {
		case "host":
			*active = !neverMatch && matchPatterns(c.host(), args)
		case "match":
			ok, err := c.match(args, where)
			if err != nil {
				return fmt.Errorf("%s: %w", where, err)
			}
			*active = !neverMatch && ok
		case "include":
			if depth >= maxIncludeDepth {
				return fmt.Errorf("%s: Include nested more than %d deep", where, maxIncludeDepth)
			}
			for _, pattern := range args {
				p, err := expandPath(pattern, "Include", c.home, nil)
				if err != nil {
					return fmt.Errorf("%s: %w", where, err)
				}
				if !filepath.IsAbs(p) {
					p = filepath.Join(c.home, ".ssh", p)
				}
				matches, err := filepath.Glob(p)
				if err != nil {
					return fmt.Errorf("%s: Include %q: %w", where, pattern, err)
				}
				outer := *active
				for _, m := range matches {
					if err := c.file(m, active, neverMatch || !outer, depth+1); err != nil {
						return err
					}
					*active = outer
				}
			}
		default:
			if *active {
				c.set(key, args)
			}
		}
	}
	return nil
}

// set records a keyword's arguments unless an earlier line gave it.
func (c *configRun) set(key string, args []string) {
	switch key {
	case "identityfile":
		c.vals[key] = append(c.vals[key], args[0])
		return
	case "proxyjump", "proxycommand":
		// Either one excludes the other: the first given wins.
		if c.vals["proxyjump"] != nil || c.vals["proxycommand"] != nil {
			return
		}
	}
	if _, ok := c.vals[key]; !ok {
		c.vals[key] = args
	}
}

// first returns the first argument given for key, or "".
func (c *configRun) first(key string) string {
	if v := c.vals[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// host is the name Host lines and Match host test: the alias, or on the
// final reading the HostName it leads to, as OpenSSH does.
func (c *configRun) host() string {
	if !c.final {
		return c.alias
	}
	return c.hostName()
}

// hostName is the HostName given so far, or the alias.
func (c *configRun) hostName() string {
	if v := c.first("hostname"); v != "" {
		if hn, err := expandTokens(v, "HostName", map[byte]string{'h': c.alias}); err == nil {
			return strings.ToLower(hn)
		}
	}
	return strings.ToLower(c.alias)
}

// match evaluates the criteria of a Match line; all must hold.
func (c *configRun) match(args []string, where string) (bool, error) {
	result := true
	for i := 0; i < len(args); i++ {
		crit := strings.ToLower(args[i])
		negate := strings.HasPrefix(crit, "!")
		crit = strings.TrimPrefix(crit, "!")
		var ok bool
		switch crit {
		case "all":
			ok = true
		case "canonical", "final":
			c.wantFinal = true
			ok = c.final
		case "host", "originalhost", "user", "localuser", "exec", "localnetwork", "tagged":
			if i+1 == len(args) {
				return false, fmt.Errorf("Match %s needs an argument", crit)
			}
			i++
			list := strings.Split(args[i], ",")
			switch crit {
			case "host":
				ok = matchPatterns(c.hostName(), lowerAll(list))
			case "originalhost":
				ok = matchPatterns(strings.ToLower(c.alias), lowerAll(list))
			case "user":
				u := c.first("user")
				if u == "" {
					u = c.localUser
				}
				ok = matchPatterns(u, list)
			case "localuser":
				ok = matchPatterns(c.localUser, list)
			default:
				// wpfix runs no commands from ssh_config.
				c.log.Info("ssh: ssh_config Match criterion not evaluated; it counts as false", "where", where, "criterion", crit)
			}
		default:
			return false, fmt.Errorf("unsupported Match criterion %q", args[i])
		}
		result = result && ok != negate
	}
	return result, nil
}

func lowerAll(list []string) []string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = strings.ToLower(s)
	}
	return out
}

// matchPatterns reports whether s matches one of patterns and none of the
// negated ones (!pattern), as OpenSSH's Host lines and Match lists do.
func matchPatterns(s string, patterns []string) bool {
	matched := false
	for _, p := range patterns {
		if neg, ok := strings.CutPrefix(p, "!"); ok {
			if wildMatch(neg, s) {
				return false
			}
		} else if wildMatch(p, s) {
			matched = true
		}
	}
	return matched
}

// wildMatch matches s against an ssh_config pattern, where * stands for
// any run of characters and ? for exactly one.
func wildMatch(pattern, s string) bool {
	px, sx := 0, 0
	nextPx, nextSx := 0, 0
	for px < len(pattern) || sx < len(s) {
		if px < len(pattern) {
			switch c := pattern[px]; c {
			case '*':
				nextPx, nextSx = px, sx+1
				px++
				continue
			case '?':
				if sx < len(s) {
					px++
					sx++
					continue
				}
			default:
				if sx < len(s) && s[sx] == c {
					px++
					sx++
					continue
				}
			}
		}
		if 0 < nextSx && nextSx <= len(s) {
			px, sx = nextPx, nextSx
			continue
		}
		return false
	}
	return true
}

// splitConfigLine splits an ssh_config line into its keyword and
// arguments: "Keyword arg…" or "Keyword=arg…"; arguments are split at
// blanks, may be quoted with " or ', and a # at the start of one ends the
// line, as OpenSSH reads them.
func splitConfigLine(line string) (key string, args []string, err error) {
	line = strings.TrimSpace(line)
	if line == "" || line[0] == '#' {
		return "", nil, nil
	}
	end := strings.IndexAny(line, " \t=")
	if end < 0 {
		return line, nil, nil
	}
	key, rest := line[:end], strings.TrimLeft(line[end:], " \t")
	if strings.HasPrefix(rest, "=") {
		rest = strings.TrimLeft(rest[1:], " \t")
	}
	var arg strings.Builder
	inArg := false
	var quote byte
	for i := 0; i < len(rest); i++ {
		ch := rest[i]
		switch {
		case quote == 0 && (ch == ' ' || ch == '\t'):
			if inArg {
				args = append(args, arg.String())
				arg.Reset()
				inArg = false
			}
		case quote == 0 && ch == '#' && !inArg:
			return key, args, nil
		case ch == '\\' && i+1 < len(rest) && (strings.IndexByte(`"'\`, rest[i+1]) >= 0 || quote == 0 && rest[i+1] == ' '):
			i++
			arg.WriteByte(rest[i])
			inArg = true
		case quote == 0 && (ch == '"' || ch == '\''):
			quote, inArg = ch, true
		case ch == quote:
			quote = 0
		default:
			arg.WriteByte(ch)
			inArg = true
		}
	}
	if quote != 0 {
		return "", nil, errors.New("unterminated quote")
	}
	if inArg {
		args = append(args, arg.String())
	}
	return key, args, nil
}
