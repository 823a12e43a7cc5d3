// Package wp understands a WordPress install seen through a remote.Host:
// where it is (Find), what wp-config.php says without running it
// (ParseConfig) and where its DB_HOST leads (ParseDBHost), its database
// reached through the host (OpenDB) and the options in it, and the
// inventory of plugins, must-use plugins, drop-ins and themes (Extension
// names one of them). It does not probe over HTTP or decide anything; that
// is package agent's job.
//
// Below it: wp/php holds PHP's value model (serialize and unserialize), a
// lexer for PHP source and PHP's INI reading, which know nothing of
// WordPress; wp/logsig classifies log lines by signature and blames the
// extension they point at; wp/server reads what the host's running web
// servers and php-fpm configure for a site (its logs, its limits, each
// value with its file and line, and warnings as data), once per host;
// wp/wptest runs a real WordPress stack for the tests. The host's
// processes, disk and memory are remote/sysinfo's.
package wp
