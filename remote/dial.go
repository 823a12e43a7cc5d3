package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/user"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
)

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
//     ProxyJump, UserKnownHostsFile, IdentityAgent, IdentitiesOnly, and
//     the algorithm lists (KexAlgorithms, Ciphers, MACs, HostKeyAlgorithms,
//     PubkeyAcceptedAlgorithms, with OpenSSH's +, ^ and -);
//  4. the defaults: the local user, port 22, ~/.ssh/id_ed25519, id_ecdsa
//     and id_rsa (those that exist), ~/.ssh/known_hosts, $SSH_AUTH_SOCK,
//     and OpenSSH 9's algorithms, none of them SHA-1 but hmac-sha1.
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
	signers := acceptedSigners(keys.signers, h.algorithms.pubKeys)
	cfg := &ssh.ClientConfig{
		Config: ssh.Config{
			KeyExchanges: h.algorithms.kex,
			Ciphers:      h.algorithms.ciphers,
			MACs:         h.algorithms.macs,
		},
		User:              h.user,
		Auth:              []ssh.AuthMethod{ssh.PublicKeysCallback(func() ([]ssh.Signer, error) { return signers, nil })},
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
	if aerr := algorithmRefused(err, h.alias, h); aerr != nil {
		return nil, aerr
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
