package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wpfix/wpfix/wp/wptest"
)

// TestLogsSymlinkedDebugLog: the site's user points its debug.log at a
// root-only file, and its .user.ini's error_log at another; `wpfix logs`
// run as root on the site never prints them, and -v says why each was
// skipped. The site's own logs are still read.
func TestLogsSymlinkedDebugLog(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the attack is a root run reading what the site's user links to: run as root")
	}
	t.Parallel()
	b := newBisectSite(t, wptest.Options{})
	secretDir := t.TempDir() // 0700, root's
	secret := filepath.Join(secretDir, "secret")
	require.NoError(t, os.WriteFile(secret, []byte("[01-Dec-2026 00:00:00 UTC] PHP Fatal error:  SECRET-ROOT-LINE in /x.php on line 1\n"), 0o600))
	other := filepath.Join(secretDir, "other")
	require.NoError(t, os.WriteFile(other, []byte("[01-Dec-2026 00:00:00 UTC] PHP Warning:  OTHER-ROOT-LINE in /x.php on line 1\n"), 0o600))

	// What the site's user can do: replace its debug.log with a symlink,
	// name any file in its .user.ini.
	require.NoError(t, os.Remove(b.st.DebugLog))
	require.NoError(t, os.Symlink(secret, b.st.DebugLog))
	require.NoError(t, os.Lchown(b.st.DebugLog, b.srv.UID, b.srv.GID))
	ini := filepath.Join(b.st.Root, ".user.ini")
	require.NoError(t, os.WriteFile(ini, []byte("error_log = "+other+"\n"), 0o644))
	require.NoError(t, os.Chown(ini, b.srv.UID, b.srv.GID))
	cpanel := filepath.Join(b.st.Root, "error_log")
	require.NoError(t, os.WriteFile(cpanel, []byte("[01-Dec-2026 00:00:00 UTC] PHP Warning:  SITE-OWN-LINE in /x.php on line 1\n"), 0o644))
	require.NoError(t, os.Chown(cpanel, b.srv.UID, b.srv.GID))

	for _, args := range [][]string{{"logs", "-n", "100"}, {"logs", "-n", "100", "--json"}} {
		r := runAs(t, b.home, append(args, "-v", b.st.Root)...)
		require.Equal(t, 0, r.code, r.stderr)
		for _, out := range []string{r.stdout, r.stderr} {
			assert.NotContains(t, out, "SECRET-ROOT-LINE", "%v", args)
			assert.NotContains(t, out, "OTHER-ROOT-LINE", "%v", args)
		}
		assert.Contains(t, r.stdout, "SITE-OWN-LINE", "the site's own error_log is read")
		assert.Contains(t, r.stderr, b.st.DebugLog+" is a symlink inside the site's folders")
		assert.Contains(t, r.stderr, "does not own (uid 0)")
	}
	b2, err := os.ReadFile(secret)
	require.NoError(t, err)
	assert.Contains(t, string(b2), "SECRET-ROOT-LINE", "the root file is as it was")
}
