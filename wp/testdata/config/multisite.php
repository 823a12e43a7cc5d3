<?php
define( 'DB_NAME', 'network' );
define( 'DB_USER', 'network' );
define( 'DB_PASSWORD', 'network-pw' );
define( 'DB_HOST', 'db.example.com' );
$table_prefix = 'wpms_';

/* Multisite */
define( 'WP_ALLOW_MULTISITE', true );
define( 'MULTISITE', true );
define( 'SUBDOMAIN_INSTALL', false );
define( 'DOMAIN_CURRENT_SITE', 'network.example.com' );
define( 'PATH_CURRENT_SITE', '/' );
define( 'SITE_ID_CURRENT_SITE', 1 );
define( 'BLOG_ID_CURRENT_SITE', 1 );
define( 'WP_CACHE', true ); // Added by WP Super Cache

/* That's all, stop editing! Happy publishing. */
require_once ABSPATH . 'wp-settings.php';
