package journal_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wpfix/wpfix/agent/journal"
	"github.com/wpfix/wpfix/remote"
	"github.com/wpfix/wpfix/remote/proctest"
)

// TestDenyFilesApache runs a real Apache with mod_php over a docroot
// whose .wpfix the lock made, owned, as on a shared host, by the user
// Apache and PHP run as (so the folder's 0700 keeps nothing out; the
// .htaccess alone must): a quarantined plugin's PHP is not run (403), not
// even with its own .htaccess granting access, nor the journal served,
// while the same PHP in wp-content/plugins runs (200) and, with the
// .htaccess removed, the quarantined one would too. Apache 2.4 is tried
// alone and with mod_access_compat (Debian's default, where "Deny from
// all" is understood too). The 2.2 branch of the .htaccess cannot be run
// here: Apache 2.4 without mod_authz_core answers every request 500
// (AH00025 "couldn't check user"), and no Apache 2.2 is packaged.
func TestDenyFilesApache(t *testing.T) {
	bin := proctest.Require(t, "apache2-bin", "apache2")
	const mods = "/usr/lib/apache2/modules/"
	if _, err := os.Stat(mods + "libphp8.2.so"); err != nil {
		t.Skip("needs mod_php (libapache2-mod-php8.2) to run a quarantined plugin's PHP")
	}
	for _, tc := range []struct {
		name string
		auth string
	}{
		{"apache-2.4", "LoadModule authz_core_module " + mods + "mod_authz_core.so\n"},
		{"apache-2.4-access-compat", "LoadModule authz_core_module " + mods + "mod_authz_core.so\n" +
			"LoadModule access_compat_module " + mods + "mod_access_compat.so\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			w := proctest.NewWorkdir(t, "wpfix-deny")
			root := w.Path("www")
			content := filepath.Join(root, "wp-content")
			php := "<?php echo 'ran';\n"
			for _, f := range []string{"plugins/x/x.php", ".wpfix/quarantine/plugin/x/x.php", ".wpfix/quarantine/plugin/y/y.php"} {
				p := filepath.Join(content, f)
				require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
				require.NoError(t, os.WriteFile(p, []byte(php), 0o644))
			}
			// A plugin's own .htaccess that opens its folder to everyone.
			grant := "<IfModule mod_authz_core.c>\nRequire all granted\n</IfModule>\n<IfModule !mod_authz_core.c>\nOrder allow,deny\nAllow from all\n</IfModule>\n"
			require.NoError(t, os.WriteFile(filepath.Join(content, ".wpfix/quarantine/plugin/y/.htaccess"), []byte(grant), 0o644))
			require.NoError(t, os.WriteFile(filepath.Join(content, ".wpfix/journal"), []byte(`{"version":2}`), 0o600))
			require.NoError(t, os.Chmod(filepath.Join(content, journal.StateDir), 0o700))

			user := ""
			if os.Geteuid() == 0 {
				user = "User nobody\nGroup nogroup\n"
				out, err := exec.Command("chown", "-R", "nobody:nogroup", root).CombinedOutput()
				require.NoError(t, err, "%s", out)
			}
			// The lock checks the folder (owned by the docroot's owner) and
			// writes the deny files into it, as a run would.
			s := journal.Site{Host: remote.NewLocal(), ContentDir: content}
			l, err := journal.Acquire(ctx, s, "wpfix bisect", false)
			require.NoError(t, err)
			require.NoError(t, l.Release(ctx))
			if os.Geteuid() == 0 {
				for name := range journal.DenyFiles {
					require.NoError(t, os.Lchown(filepath.Join(content, journal.StateDir, name), 65534, 65534))
				}
			}

			port := proctest.FreePort(t)
			w.WriteFile("apache2.conf", fmt.Sprintf(`# wpfix deny-files test
LoadModule mpm_prefork_module %[1]smod_mpm_prefork.so
LoadModule php_module %[1]slibphp8.2.so
LoadModule dir_module %[1]smod_dir.so
%[2]sServerName localhost
Listen 127.0.0.1:%[3]d
PidFile %[4]s
Mutex file:%[5]s default
DefaultRuntimeDir %[5]s
ErrorLog %[5]s/error.log
%[6]sDocumentRoot %[7]s
DirectoryIndex index.php
<Directory %[7]s>
	AllowOverride All
</Directory>
<FilesMatch "\.php$">
	SetHandler application/x-httpd-php
</FilesMatch>
`, mods, tc.auth, port, w.Path("apache2.pid"), w.Dir, user, root), 0o644)
			cmd := exec.Command(bin, "-d", w.Dir, "-f", "apache2.conf", "-DFOREGROUND")
			p := w.Start("apache2", cmd)
			proctest.WaitReady(t, p, 20*time.Second, proctest.DialReady("tcp", fmt.Sprintf("127.0.0.1:%d", port)))

			get := func(path string) (int, string) {
				resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d%s", port, path))
				require.NoError(t, err)
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				return resp.StatusCode, string(b)
			}
			code, body := get("/wp-content/plugins/x/x.php")
			require.Equal(t, 200, code, "PHP runs in this Apache: %s\n%s", body, proctest.Tail(w.Path("error.log"), 10))
			require.Equal(t, "ran", body)
			for _, path := range []string{
				"/wp-content/.wpfix/quarantine/plugin/x/x.php",
				"/wp-content/.wpfix/quarantine/plugin/y/y.php", // its own .htaccess grants all
				"/wp-content/.wpfix/journal",
				"/wp-content/.wpfix/",
				"/wp-content/.wpfix/.htaccess",
			} {
				code, body := get(path)
				assert.Equal(t, 403, code, "%s: %s", path, body)
				assert.NotContains(t, body, "ran", path)
			}

			require.NoError(t, os.Remove(filepath.Join(content, journal.StateDir, ".htaccess")))
			code, body = get("/wp-content/.wpfix/quarantine/plugin/x/x.php")
			assert.Equal(t, 200, code, "without the .htaccess the quarantined PHP would run: what denies it is the .htaccess")
			assert.Equal(t, "ran", body)
		})
	}
}
