<?php
define( 'DB_NAME', 'wp' );
define( 'WP_DEBUG', true );
define( 'WP_DEBUG_LOG', '/var/log/wordpress/site-debug.log' );
define( 'WP_DEBUG_DISPLAY', null );
define( 'SCRIPT_DEBUG', true );
$table_prefix = 'wp_';
