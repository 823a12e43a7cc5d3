package remote

import (
	"log/slog"
)

// Target is where a site is: a local path, or a path on an SSH host.
//
//	/var/www/site                      local
//	user@host:/var/www/site            SSH, scp style; host may be an alias in ~/.ssh/config
//	ssh://user@host:2222/var/www/site  SSH, URL style
type Target struct {
	// User and Port are empty and 0 when the target does not say them: then
	// flags, ~/.ssh/config and defaults decide, in that order.
	User string
	Host string // "" for a local target
	Port int
	Path string
}

// Local reports whether the target is on this machine.
func (t Target) Local() bool { return t.Host == "" }

// Options say how to reach an SSH host. Each value left zero is taken from
// ~/.ssh/config, then from OpenSSH's defaults: ssh-config.md in this
// folder gives the order.
type Options struct {
	// Identity is a private key file (-i).
	Identity string
	// Port is the SSH port (-p).
	Port int
	// KnownHosts is the known_hosts file (--known-hosts), replacing
	// UserKnownHostsFile and ~/.ssh/known_hosts.
	KnownHosts string
	// AcceptNewHostKey records the key of a host not yet in known_hosts
	// and trusts it, as OpenSSH's StrictHostKeyChecking=accept-new does. A
	// changed key is refused whatever this says.
	AcceptNewHostKey bool
	// ConfigFile is the ssh_config to read; "" means ~/.ssh/config, and
	// "none" reads none.
	ConfigFile string
	// Prompt asks for a key's passphrase on a terminal. When nil, a key
	// with a passphrase is an error that says to load it into ssh-agent.
	Prompt func(question string) ([]byte, error)
	// Logger receives notable steps (host key recorded, keys tried) at
	// debug and info level; nil discards them.
	Logger *slog.Logger
}
