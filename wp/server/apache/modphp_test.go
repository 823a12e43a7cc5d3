package apache

import (
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wpfix/wpfix/wp/server/conf"
)

// TestModPHPLogs: mod_php's php.ini names a log that serves the site when
// Apache serves it and sends its PHP to no FastCGI server; sent to php-fpm,
// the site's PHP errors are not mod_php's.
func TestModPHPLogs(t *testing.T) {
	const docroot = "/var/www/site"
	vhost := func(handler string) string {
		return "<VirtualHost *:80>\nDocumentRoot " + docroot + "\nErrorLog /var/log/apache2/site.log\n" + handler + "</VirtualHost>\n"
	}
	for _, c := range []struct {
		name, handler string
		serves        bool
	}{
		{"mod_php", "", true},
		{"php-fpm", "<FilesMatch \\.php$>\nSetHandler \"proxy:unix:/run/php/php8.2-fpm.sock|fcgi://localhost\"\n</FilesMatch>\n", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			fsys := fstest.MapFS{
				"etc/apache2/apache2.conf":    {Data: []byte("ErrorLog /var/log/apache2/error.log\n" + vhost(c.handler))},
				"etc/php/8.2/apache2/php.ini": {Data: []byte("[PHP]\nerror_log = /var/log/php/mod_php.log\n")},
			}
			res := Read(conf.NewFiles(fsys), Cmd{bin: "/usr/sbin/apache2", Who: "apache2 master, pid 1"}).Logs(docroot)
			require.Len(t, res.PHPLogs, 1)
			l := res.PHPLogs[0]
			assert.Equal(t, "/var/log/php/mod_php.log", l.Path)
			assert.Contains(t, l.Source, "/etc/php/8.2/apache2/php.ini")
			assert.Contains(t, l.Source, "(php.ini of mod_php)")
			assert.Equal(t, c.serves, l.ServesSite)
			for _, other := range res.Logs {
				assert.NotEqual(t, l.Path, other.Path, "mod_php's log comes after php-fpm's, not among Apache's own")
			}
		})
	}
}
