<?php
define( 'DB_NAME', 'wp' );
define( 'DB_USER', 'wp' );
define( 'DB_PASSWORD', 'd1r-pw' );
define( 'DB_HOST', 'localhost' );
define( 'WP_CONTENT_DIR', __DIR__ . '/content' );
define( 'WP_PLUGIN_DIR', WP_CONTENT_DIR . '/extensions' );
define( 'WP_CONTENT_URL', 'https://example.com/content' );
define( 'UPLOADS', 'content/uploads' );
define( 'WP_TEMP_DIR', dirname( __FILE__ ) . '/tmp' );
define( 'WP_LANG_DIR', __DIR__ );
$table_prefix = 'wp_';
if ( ! defined( 'ABSPATH' ) ) {
	define( 'ABSPATH', dirname( __FILE__ ) . '/wordpress/' );
}
require_once ABSPATH . 'wp-settings.php';
