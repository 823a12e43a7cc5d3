// Package remote reaches a machine: files (a head and a tail without the
// rest, an atomic write), programs run from an argument list and network
// dials from the machine, through one small Host interface with a Local and
// an SSH implementation (Open picks one for a Target). It knows nothing of
// WordPress. A Host may also say whether its writes are durable
// (Durabler): an SSH host whose SFTP server lacks fsync@openssh.com is not.
//
// The files, one job each: host.go (Host, Durabler, errors), target.go
// (parsing targets), local.go and ssh.go (the two Hosts), open.go (Open),
// and the SSH login: dial.go (the dialer, the ProxyJump chain, the
// handshake), resolve.go (merging the target, the flags, ssh_config and the
// defaults for one hop), knownhosts.go (host key checking, accept-new,
// host key algorithms) and keys.go (ssh-agent, identity files, passphrase
// prompts). ssh-config.md in this folder says how an SSH target's settings
// are resolved.
//
// Below it: remote/sshconfig reads ssh_config files and knows nothing of
// connections; remote/sshtest (a real OpenSSH sshd) and remote/proctest
// (real daemons for tests) serve the tests only.
package remote
