<?php
define( 'DB_NAME', 'wp' );
define( 'DB_USER', 'wp' );
define( 'DB_PASSWORD', 'Sock3t-pw!' );
define( 'DB_HOST', ':/run/mysqld/mysqld.sock' );
$table_prefix = 'wp_';
