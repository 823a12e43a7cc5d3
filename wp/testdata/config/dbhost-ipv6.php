<?php
define( 'DB_NAME', 'wp' );
define( 'DB_USER', 'wp' );
define( 'DB_PASSWORD', '' );
define( 'DB_HOST', '[::1]:3307' );
$table_prefix = 'wp_';
