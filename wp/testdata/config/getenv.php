<?php
// Values from the environment: nothing to resolve without running PHP.
define( 'DB_NAME', getenv( 'WORDPRESS_DB_NAME' ) );
define( 'DB_USER', getenv('WORDPRESS_DB_USER') ?: 'wordpress' );
define( 'DB_PASSWORD', getenv( 'WORDPRESS_DB_PASSWORD' ) ?: 'fallback-secret' );
define( 'DB_HOST', $_ENV['DB_HOST'] ?? 'mysql:3306' );
define( 'DB_CHARSET', 'utf8mb4' );
define( 'WP_DEBUG', (bool) getenv( 'WP_DEBUG' ) );
define( 'WP_HOME', 'https://' . $_SERVER['HTTP_HOST'] );
define( 'NONCE_KEY', getenv( 'NONCE_KEY' ) );
$table_prefix = getenv( 'TABLE_PREFIX' ) ?: 'wp_';
