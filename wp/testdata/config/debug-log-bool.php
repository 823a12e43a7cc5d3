<?php
define( 'DB_NAME', 'wp' );
define( 'WP_DEBUG', 1 );
define( 'WP_DEBUG_LOG', true );
define( 'WP_DEBUG_DISPLAY', false );
@ini_set( 'display_errors', 0 );
$table_prefix = 'wp_';
