package wptest

import (
	"os"
	"path/filepath"
	"strings"
	"text/template"
)

// The stack's own configuration files. Nothing of the system's services or
// default configs is read: nginx gets -c and -e, php-fpm -y and -c with
// PHP_INI_SCAN_DIR empty, MariaDB --no-defaults.

var phpINI = template.Must(template.New("php.ini").Parse(`; wptest php.ini: extensions are listed here, no conf.d is scanned.
{{range .Extensions}}extension={{.}}
{{end}}
memory_limit = 128M
max_execution_time = 30
error_reporting = E_ALL
display_errors = Off
log_errors = On
error_log = {{.ErrorLog}}
sendmail_path = /bin/true
{{if .Opcache}}zend_extension=opcache
opcache.enable = 1
opcache.validate_timestamps = 0
; a fleet's sites are each their own copy of core to opcache (hard links
; are cached by path): room for a hundred of them
opcache.memory_consumption = 1024
opcache.interned_strings_buffer = 64
opcache.max_accelerated_files = 100000
{{else}}opcache.enable = 0
{{end}}opcache.enable_cli = 0
date.timezone = UTC
`))

var fpmConf = template.Must(template.New("php-fpm.conf").Parse(`; wptest php-fpm
[global]
pid = {{.Dir}}/php-fpm.pid
error_log = {{.FPMLog}}
log_level = notice
daemonize = no

[wptest]
{{if .User}}user = {{.User}}
group = {{.Group}}
{{end}}listen = {{.Socket}}
listen.mode = 0666
pm = dynamic
pm.max_children = {{.MaxChildren}}
pm.start_servers = 1
pm.min_spare_servers = 1
pm.max_spare_servers = {{.MaxChildren}}
request_terminate_timeout = {{.TerminateSeconds}}s
catch_workers_output = yes
decorate_workers_output = no
{{if .SlowlogSeconds}}slowlog = {{.SlowLog}}
request_slowlog_timeout = {{.SlowlogSeconds}}s
{{end}}{{range .PoolSettings}}{{.}}
{{end}}`))

// nginxHTTP opens nginx's http block: logs and temporary files in the
// stack's own folder, and the few types a WordPress page needs.
const nginxHTTP = `	access_log {{.Dir}}/nginx-access.log;
	client_body_temp_path {{.Dir}}/nginx/body;
	fastcgi_temp_path {{.Dir}}/nginx/fastcgi;
	proxy_temp_path {{.Dir}}/nginx/proxy;
	uwsgi_temp_path {{.Dir}}/nginx/uwsgi;
	scgi_temp_path {{.Dir}}/nginx/scgi;
	types {
		text/html html; text/css css; application/javascript js; application/json json;
		image/png png; image/jpeg jpg; image/svg+xml svg; image/gif gif;
	}
	default_type application/octet-stream;
`

// fastcgiParams are the FastCGI parameters every PHP location passes,
// those of Debian's fastcgi_params (the stack reads nothing of /etc).
const fastcgiParams = `			fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;
			fastcgi_param QUERY_STRING $query_string;
			fastcgi_param REQUEST_METHOD $request_method;
			fastcgi_param CONTENT_TYPE $content_type;
			fastcgi_param CONTENT_LENGTH $content_length;
			fastcgi_param SCRIPT_NAME $fastcgi_script_name;
			fastcgi_param REQUEST_URI $request_uri;
			fastcgi_param DOCUMENT_URI $document_uri;
			fastcgi_param DOCUMENT_ROOT $document_root;
			fastcgi_param SERVER_PROTOCOL $server_protocol;
			fastcgi_param REQUEST_SCHEME $scheme;
			fastcgi_param GATEWAY_INTERFACE CGI/1.1;
			fastcgi_param SERVER_SOFTWARE nginx/$nginx_version;
			fastcgi_param REMOTE_ADDR $remote_addr;
			fastcgi_param REMOTE_PORT $remote_port;
			fastcgi_param SERVER_ADDR $server_addr;
			fastcgi_param SERVER_PORT $server_port;
			fastcgi_param SERVER_NAME $server_name;
			fastcgi_param HTTP_HOST $http_host;
			fastcgi_param REDIRECT_STATUS 200;
`

var nginxConf = template.Must(template.New("nginx.conf").Parse(`# wptest nginx
daemon off;
master_process on;
worker_processes 1;
pid {{.Dir}}/nginx.pid;
error_log {{.ErrorLog}} notice;
{{if .User}}user {{.User}} {{.Group}};
{{end}}
events { worker_connections 256; }

http {
` + nginxHTTP + `
	server {
		listen 127.0.0.1:{{.Port}};
		server_name _;
		root {{.Root}};
		index index.php;
{{if .DenyDotFiles}}
		location ~ /\. {
			deny all;
		}
{{end}}
{{if .Multisite}}
		# a subdirectory network: /shop/wp-admin/… is /wp-admin/…, as
		# WordPress's own nginx rules for multisite have it
		if (!-e $request_filename) {
			rewrite /wp-admin$ $scheme://$host$uri/ permanent;
			rewrite ^(/[^/]+)?(/wp-.*) $2 last;
			rewrite ^(/[^/]+)?(/.*\.php) $2 last;
		}
{{end}}
		location / {
			try_files $uri $uri/ /index.php?$args;
		}
		location ~ \.php$ {
			try_files $uri =404;
			fastcgi_pass unix:{{.Socket}};
			fastcgi_index index.php;
			fastcgi_read_timeout {{.ReadTimeout}}s;
` + fastcgiParams + `		}
	}
}
`))

var wpConfig = template.Must(template.New("wp-config.php").Parse(`<?php
/**
 * The base configuration for WordPress (written by wptest).
 */

// ** Database settings ** //
define( 'DB_NAME', '{{.DBName}}' );
define( 'DB_USER', '{{.DBUser}}' );
define( 'DB_PASSWORD', '{{.DBPassword}}' );
define( 'DB_HOST', '{{.DBHost}}' );
define( 'DB_CHARSET', 'utf8mb4' );
define( 'DB_COLLATE', '' );

/** Authentication unique keys and salts. */
{{range .Salts}}define( '{{.Name}}', '{{.Value}}' );
{{end}}
$table_prefix = '{{.TablePrefix}}';
{{if .Network}}
/** A subdirectory multisite network. */
define( 'MULTISITE', true );
define( 'SUBDOMAIN_INSTALL', false );
define( 'DOMAIN_CURRENT_SITE', '{{.Network}}' );
define( 'PATH_CURRENT_SITE', '/' );
define( 'SITE_ID_CURRENT_SITE', 1 );
define( 'BLOG_ID_CURRENT_SITE', 1 );
{{end}}
{{if .Production}}/** Production: no debugging. */
define( 'WP_DEBUG', false );
{{else}}/** Debugging: log to wp-content/debug.log, never to the page. */
define( 'WP_DEBUG', true );
define( 'WP_DEBUG_LOG', true );
define( 'WP_DEBUG_DISPLAY', false );
{{end}}
/** A test site on loopback: no outbound HTTP, no cron requests to itself, no updates. */
define( 'WP_HTTP_BLOCK_EXTERNAL', true );
define( 'DISABLE_WP_CRON', true );
define( 'AUTOMATIC_UPDATER_DISABLED', true );

/* That's all, stop editing! Happy publishing. */

/** Absolute path to the WordPress directory. */
if ( ! defined( 'ABSPATH' ) ) {
	define( 'ABSPATH', __DIR__ . '/' );
}

/** Sets up WordPress vars and included files. */
require_once ABSPATH . 'wp-settings.php';
`))

// render writes a template's output to path.
func render(tpl *template.Template, path string, data any) error {
	var b strings.Builder
	if err := tpl.Execute(&b, data); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}
