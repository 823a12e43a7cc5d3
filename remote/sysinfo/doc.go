// Package sysinfo reads facts about a machine through a remote.Host: its
// running processes (from /proc, Linux), the free space and inodes of the
// filesystem holding a path (the host's df -P) and its memory
// (/proc/meminfo). It knows nothing of WordPress or web servers; it says
// what the machine says, and its parsers take any input.
package sysinfo
