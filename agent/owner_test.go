package agent

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wpfix/wpfix/remote"
	"github.com/wpfix/wpfix/remote/sshtest"
	"github.com/wpfix/wpfix/wp"
)

// plainHost is the local host seen only through Host, which cannot start
// a program as another user: a host where wpfix cannot act as the owner.
type plainHost struct{ remote.Host }

// ownedSite is a site folder (docroot and wp-content) owned by the test's
// site user, reached as root through h.
func ownedSite(t *testing.T, h remote.Host) *Site {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: the case is a root run over a site another user owns")
	}
	_, uid, gid := sshtest.SiteUser(t)
	root := filepath.Join(t.TempDir(), "www")
	content := filepath.Join(root, "wp-content")
	require.NoError(t, os.MkdirAll(filepath.Join(content, "plugins"), 0o755))
	for _, d := range []string{root, content, filepath.Join(content, "plugins")} {
		require.NoError(t, os.Chown(d, uid, gid))
	}
	require.NoError(t, os.WriteFile(filepath.Join(root, "wp-config.php"), []byte("<?php\n"), 0o640))
	return &Site{Host: h, WP: &wp.Site{Host: h, Root: root, ContentDir: content,
		PluginDir: filepath.Join(content, "plugins"), MUPluginDir: filepath.Join(content, "mu-plugins"),
		ThemeDir: filepath.Join(content, "themes")}}
}

// TestActAsOwnerImpossible: where wpfix cannot act as the site's owner,
// a root run still reads the site, refuses its first change with the
// reason and the way out (--as-root) as bad input, and makes nothing;
// with AsRoot it goes on as root.
func TestActAsOwnerImpossible(t *testing.T) {
	ctx := context.Background()
	s := ownedSite(t, plainHost{remote.NewLocal()})
	actAsOwner(ctx, s, Options{})
	_, err := s.Host.ReadFile(ctx, filepath.Join(s.WP.Root, "wp-config.php"))
	require.NoError(t, err, "reads go on")
	_, err = lockSite(ctx, s, "wpfix test", false)
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrBadInput)
	assert.ErrorIs(t, err, remote.ErrCannotSwitch)
	assert.ErrorContains(t, err, "--as-root")
	assert.ErrorContains(t, err, "cannot start a program as another user")
	assert.NoDirExists(t, filepath.Join(s.WP.ContentDir, ".wpfix"), "nothing made")

	s = ownedSite(t, plainHost{remote.NewLocal()})
	actAsOwner(ctx, s, Options{AsRoot: true})
	l, err := lockSite(ctx, s, "wpfix test", false)
	require.NoError(t, err, "--as-root goes on as root")
	require.NoError(t, l.Release(ctx))
}

// TestActAsOwner: with sftp-server there, the site's changes are the
// owner's; a site root owns, or a run as the owner, is left as it is.
func TestActAsOwner(t *testing.T) {
	ctx := context.Background()
	s := ownedSite(t, remote.NewLocal())
	actAsOwner(ctx, s, Options{})
	t.Cleanup(func() { s.Host.Close() })
	_, uid, _ := sshtest.SiteUser(t)
	got, err := remote.UID(ctx, s.Host)
	require.NoError(t, err)
	assert.Equal(t, uid, got)
	assert.Same(t, s.Host, s.WP.Host, "the install reads and writes through the same host")

	s = ownedSite(t, remote.NewLocal())
	require.NoError(t, os.Chown(s.WP.Root, 0, 0))
	actAsOwner(ctx, s, Options{})
	_, local := s.Host.(*remote.Local)
	assert.True(t, local, "a site root owns is root's to change")
}
