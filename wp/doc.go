// Package wp understands a WordPress install seen through a remote.Host:
// where it is (Find), what wp-config.php says without running it
// (ParseConfig), its database reached through the host (OpenDB), options and
// PHP serialization, the inventory of plugins, must-use plugins, drop-ins and
// themes, its logs (FindLogs, Classifier), the limits its servers' configs
// put on it (ServerLimits) and its host's free disk and memory (DiskSpace,
// HostMemory). It does not probe over HTTP or decide anything; that is
// package agent's job.
//
// wp/wptest runs a real WordPress stack for the tests.
package wp
