<?php # a hash comment right after the tag
/* define( 'DB_NAME', 'in_a_block_comment' ); */
// define( 'DB_NAME', 'in_a_line_comment' );
# define( 'DB_NAME', 'in_a_hash_comment' );
/**
 * define( 'DB_USER', 'in_a_docblock' );
 */
define( /* name: */ 'DB_NAME' /* still going */ , // value on the next line
	'real_db' # the real one
);
define
(
	'DB_USER'
	,
	'real_user'
)
;
define(/**/'DB_PASSWORD',/**/'pw'/**/);//define('DB_HOST','commented');
define( 'DB_HOST', 'localhost:/var/run/mysqld/mysqld.sock' ); /* define('WP_DEBUG', true); */
// A comment that ends the PHP block ?> <?php
define( 'WP_DEBUG', FALSE );
/*
define( 'WP_DEBUG', true );
define( 'WP_CACHE', true );
*/
$table_prefix /* the prefix */ = /* is */ 'wp_' /* done */;
//$table_prefix = 'old_';
