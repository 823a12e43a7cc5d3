// Package remote reaches a machine: files (a head and a tail without the
// rest, an atomic write), programs run from an argument list and network
// dials from the machine, through one small Host interface with a Local and
// an SSH implementation (Open picks one for a Target). It knows nothing of
// WordPress.
//
// ssh-config.md in this folder says how an SSH target's settings are
// resolved. remote/sshtest (a real OpenSSH sshd) and remote/proctest (real
// daemons for tests) serve the tests only.
package remote
