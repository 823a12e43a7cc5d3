<?php
define( 'DB_NAME', 'o\'brien_wp' );
define( 'DB_USER', "say \"hi\"" );
define( 'DB_PASSWORD', 'it\'s \\ a \n single \\\' mess\\' );
define( 'DB_HOST', 'db.internal' );
define( 'WINDOWS_PATH', 'C:\xampp\htdocs\wp' );
define( 'TRAILING_BACKSLASH', 'ends with \\' );
define( "NAME'S", 'an odd name' );
define( 'MIXED', "it's" );
$table_prefix = 'o\'_';
