// Package wp understands a WordPress install seen through a remote.Host:
// where it is, what wp-config.php says, its database options, plugins,
// must-use plugins, drop-ins and themes, its logs and PHP limits. It does not
// probe over HTTP or decide anything; that is package agent's job.
//
// Today only wp/wptest, the real test stack, exists; the reader of an
// install comes with its own issue.
package wp
