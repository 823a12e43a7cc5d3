// Package remote reaches a machine: files, a file's tail, programs run from
// an argument list and network dials from the machine, through one small
// Host interface with a local and an SSH implementation. It knows nothing
// of WordPress.
//
// Today only its test helpers exist: remote/proctest (real daemons for
// tests) and remote/sshtest (a real OpenSSH sshd). Host comes with its own
// issue.
package remote
