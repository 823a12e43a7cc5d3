<?php
define( 'DB_NAME', 'guarded' );
define( 'WP_DEBUG', true );

// Later, guarded defines: PHP keeps the first value.
if ( ! defined( 'WP_DEBUG' ) ) {
	define( 'WP_DEBUG', false );
}
if (!defined('WP_MEMORY_LIMIT')) { define('WP_MEMORY_LIMIT', '512M'); }
if ( !defined( "WP_MAX_MEMORY_LIMIT" ) )
	define( "WP_MAX_MEMORY_LIMIT", '1G' );
defined( 'DISALLOW_FILE_MODS' ) || define( 'DISALLOW_FILE_MODS', true );
defined( 'WP_POST_REVISIONS' ) or define( 'WP_POST_REVISIONS', 5 );
\define( 'FS_METHOD', 'direct' );
$table_prefix = 'first_';
$table_prefix = 'second_';

// An unguarded redefinition is a PHP warning, and the first value stays.
define( 'DB_NAME', 'ignored' );
