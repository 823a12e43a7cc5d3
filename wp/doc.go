// Package wp understands a WordPress install seen through a remote.Host:
// where it is (Find), what wp-config.php says without running it
// (ParseConfig) and where its DB_HOST leads (ParseDBHost), its database
// reached through the host (OpenDB) and the options in it, and the
// inventory of plugins, must-use plugins, drop-ins and themes (Extension
// names one of them). It does not probe over HTTP or decide anything; that
// is package agent's job.
//
// For now it also finds the site's logs (FindLogs), the limits its
// servers' configs put on it (ServerLimits) and its host's free disk and
// memory (DiskSpace, HostMemory).
//
// Below it: wp/php holds PHP's value model (serialize and unserialize) and
// a lexer for PHP source, which know nothing of WordPress; wp/logsig
// classifies log lines by signature and blames the extension they point
// at; wp/wptest runs a real WordPress stack for the tests.
package wp
