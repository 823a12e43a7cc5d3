package remote

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/wpfix/wpfix/remote/sshconfig"
)

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
	algorithms     sshAlgorithms
	// knownTypes are the key types known_hosts holds for the host, set
	// when the host key check is prepared; nil when it holds none.
	knownTypes []string
}

// identityFile is a private key file to offer. An explicit one (-i) must
// exist; the others are skipped when missing, as OpenSSH does.
type identityFile struct {
	path     string
	explicit bool
}

// resolve merges the target, the options, ssh_config and the defaults for
// one hop (see dialSSH for the order).
func (d *sshDialer) resolve(hop sshHop, isTarget bool, jumps []string, jumpsSet bool) (*sshHost, error) {
	c := sshconfig.New(sshconfig.Host{Alias: hop.alias, LocalUser: d.localUser, Home: d.home, Logger: d.log})
	// What the target and the flags say goes in first: the config's
	// first-value-wins rule then cannot override it.
	if hop.user != "" {
		c.Set("user", hop.user)
	}
	if hop.port != 0 {
		c.Set("port", strconv.Itoa(hop.port))
	} else if isTarget && d.o.Port != 0 {
		c.Set("port", strconv.Itoa(d.o.Port))
	}
	explicit := isTarget && d.o.Identity != ""
	if explicit {
		c.Set("identityfile", d.o.Identity)
	}
	if d.o.KnownHosts != "" {
		c.Set("userknownhostsfile", d.o.KnownHosts)
	}
	if jumpsSet {
		c.Set("proxyjump", strings.Join(jumps, ","))
	}
	if err := c.ReadFile(d.o.ConfigFile); err != nil {
		return nil, err
	}

	h := &sshHost{alias: hop.alias, hostName: strings.ToLower(hop.alias), port: 22, user: d.localUser}
	if v := c.Get("hostname"); v != "" {
		hn, err := sshconfig.ExpandTokens(v, "HostName", map[byte]string{'h': hop.alias})
		if err != nil {
			return nil, err
		}
		h.hostName = hn
	}
	if v := c.Get("port"); v != "" {
		p, err := parsePort(v)
		if err != nil {
			return nil, fmt.Errorf("ssh_config Port: %w", err)
		}
		h.port = p
	}
	if v := c.Get("user"); v != "" {
		h.user = v
	}
	// The tokens OpenSSH expands in file names, as far as wpfix knows them.
	tokens := map[byte]string{'d': d.home, 'h': h.hostName, 'n': hop.alias, 'p': strconv.Itoa(h.port),
		'r': h.user, 'u': d.localUser, 'i': strconv.Itoa(os.Getuid())}
	if lh, err := os.Hostname(); err == nil {
		tokens['L'], _, _ = strings.Cut(lh, ".")
		tokens['l'] = lh
	}

	files := c.Values("identityfile")
	if len(files) == 0 && d.home != "" {
		for _, name := range []string{"id_ed25519", "id_ecdsa", "id_rsa"} {
			h.identities = append(h.identities, identityFile{path: filepath.Join(d.home, ".ssh", name)})
		}
	}
	seen := map[string]bool{}
	for i, f := range files {
		p, err := sshconfig.ExpandPath(f, "IdentityFile", d.home, tokens)
		if err != nil {
			return nil, err
		}
		if !seen[p] {
			seen[p] = true
			h.identities = append(h.identities, identityFile{path: p, explicit: explicit && i == 0})
		}
	}

	known := c.Values("userknownhostsfile")
	if known == nil {
		if d.home == "" {
			return nil, errors.New("no home directory for ~/.ssh/known_hosts: set HOME or pass --known-hosts")
		}
		h.knownHosts = []string{filepath.Join(d.home, ".ssh", "known_hosts")}
	} else if !(len(known) == 1 && strings.EqualFold(known[0], "none")) {
		for _, f := range known {
			p, err := sshconfig.ExpandPath(f, "UserKnownHostsFile", d.home, tokens)
			if err != nil {
				return nil, err
			}
			h.knownHosts = append(h.knownHosts, p)
		}
	}

	if v := c.Get("proxycommand"); v != "" && !strings.EqualFold(v, "none") {
		return nil, fmt.Errorf("ssh_config sets ProxyCommand %q, which wpfix does not run: use ProxyJump", v)
	}
	if v := c.Get("proxyjump"); v != "" && !strings.EqualFold(v, "none") {
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

	switch v := c.Get("identityagent"); {
	case v == "" || v == "SSH_AUTH_SOCK":
		h.agentSocket = os.Getenv("SSH_AUTH_SOCK")
	case strings.EqualFold(v, "none"):
	case strings.HasPrefix(v, "$"):
		h.agentSocket = os.Getenv(strings.Trim(v[1:], "{}"))
	default:
		p, err := sshconfig.ExpandPath(v, "IdentityAgent", d.home, tokens)
		if err != nil {
			return nil, err
		}
		h.agentSocket = p
	}
	h.identitiesOnly = strings.EqualFold(c.Get("identitiesonly"), "yes")
	algos, err := resolveAlgorithms(c.Get)
	if err != nil {
		return nil, err
	}
	h.algorithms = algos
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
