// Package sshconfig reads OpenSSH client configuration (ssh_config(5)) and
// answers the settings it gives one host, as OpenSSH does: lines in order,
// Host and Match lines deciding which lines after them apply, the first
// obtained value of each keyword winning (IdentityFile adds up), Include
// read where it stands, up to 16 deep, and the files read a second time
// when a Match asks for "final" or "canonical".
//
// It knows nothing of SSH connections. A caller puts in first what it
// already knows (the user and port a target names, the flags), with
// [Settings.Set], so the files cannot override it; then reads the files with
// [Settings.ReadFile]; then asks with [Settings.Get] and [Settings.Values] and
// fills in its own defaults for what nobody gave. A setting nobody gave stays
// unset until then, so a default never beats the config.
//
// [Parse] splits a file into its directives (keyword and arguments, as
// OpenSSH's argv_split reads them) and [Format] writes them back;
// [ExpandPath] and [ExpandTokens] expand ~ and the % tokens in a value.
//
// remote/ssh-config.md says which keywords and Match criteria wpfix
// evaluates and how remote merges them with its flags and defaults.
package sshconfig
