package agent

import (
	"context"
	"fmt"
	"io/fs"

	"github.com/wpfix/wpfix/remote"
)

// actAsOwner makes s's changes as the site's owner when wpfix runs as root
// and the docroot belongs to another user, the VPS admin's cron job: the
// run can then do nothing to the site that its user could not do, and
// leaves no file that user cannot manage (remote.AsUser). When that is
// impossible (no sftp-server on the host), reads go on as root, which
// follows no symlink of the site's out of it, and every change is refused
// with the reason, unless Options.AsRoot says to make them as root.
func actAsOwner(ctx context.Context, s *Site, o Options) {
	fi, err := s.Host.Lstat(ctx, s.WP.Root)
	if err != nil {
		return // Find has just read it: its own errors will say
	}
	uid, gid, ok := remote.Owner(fi)
	if !ok || uid == 0 {
		return
	}
	self, err := remote.UID(ctx, s.Host)
	if err != nil {
		s.logger().Debug("cannot tell which user wpfix runs as; acting as that user", "err", err)
		return
	}
	if self != 0 {
		return // the site's user, or one with no more rights than it was given
	}
	owner := remote.User{UID: uid, GID: gid}
	if o.AsRoot {
		s.logger().Info("the site belongs to another user; its changes are made as root (--as-root)", "owner", owner.String())
		return
	}
	dirs := []string{s.WP.Root, s.WP.ContentDir, s.WP.PluginDir, s.WP.MUPluginDir, s.WP.ThemeDir}
	h, err := remote.AsUser(ctx, s.Host, owner, dirs)
	if err != nil {
		s.logger().Info("cannot act as the site's owner: changes are refused", "owner", owner.String(), "err", err)
		h = &refuseChanges{Host: s.Host, why: fmt.Errorf(
			"wpfix runs as root and %s belongs to %s, so it makes the site's changes as that user; here it cannot (%w): run wpfix as that user, or pass --as-root to make them as root (what it creates is then root's)",
			s.WP.Root, owner, err)}
	} else {
		s.logger().Debug("acting as the site's owner", "owner", owner.String())
	}
	s.Host, s.WP.Host = h, h
}

// refuseChanges is a Host that reads but refuses every change, saying why.
type refuseChanges struct {
	remote.Host
	why error
}

func (r *refuseChanges) refuse(op, p string) error {
	return &remote.OpError{Op: op, Host: r.Name(), Path: p, Err: r.why}
}

func (r *refuseChanges) WriteFile(_ context.Context, p string, _ []byte, _ fs.FileMode) error {
	return r.refuse("write", p)
}
func (r *refuseChanges) Rename(_ context.Context, oldpath, _ string) error {
	return r.refuse("rename", oldpath)
}
func (r *refuseChanges) Remove(_ context.Context, p string) error { return r.refuse("remove", p) }
func (r *refuseChanges) Mkdir(_ context.Context, p string, _ fs.FileMode) error {
	return r.refuse("mkdir", p)
}
