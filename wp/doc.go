// Package wp understands a WordPress install seen through a remote.Host:
// where it is (Find), what wp-config.php says without running it
// (ParseConfig), its database reached through the host (OpenDB), options and
// PHP serialization, the inventory of plugins, must-use plugins, drop-ins and
// themes, and the classification of its log lines (Classifier). What the
// host's web servers configure for it (its logs, its limits) is package
// wp/server's; the host's processes, disk and memory are remote/sysinfo's.
// It does not probe over HTTP or decide anything; that is package agent's
// job.
//
// wp/wptest runs a real WordPress stack for the tests.
package wp
