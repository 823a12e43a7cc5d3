// Package agent makes wpfix's decisions: it probes a site over HTTP, keeps
// the journal of every change and restores from it, bisects plugins,
// must-use plugins, drop-ins and the theme to find what breaks a site, and
// builds the reports that cmd/wpfix prints. It reaches sites only through
// package wp (and wp through remote); it never parses flags or prints.
//
// The package is empty until the bisect issue lands; it exists so the
// layout, and the direction of imports (cmd → agent → wp → remote), is
// fixed from the start.
package agent
