<?php
// WordPress takes 'true' and '1', in any case, as true: wp-content/debug.log.
define( 'WP_DEBUG', 'yes' );
define( 'WP_DEBUG_LOG', 'TRUE' );
define( 'WP_CACHE', 0 );
$table_prefix = 'wp_';
