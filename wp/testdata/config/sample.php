<?php
/**
 * The base configuration for WordPress
 *
 * The shape of wp-config-sample.php as WordPress ships it, filled in the
 * way an installer would.
 *
 * @package WordPress
 */

// ** Database settings - You can get this info from your web host ** //
/** The name of the database for WordPress */
define( 'DB_NAME', 'shop_wp' );

/** Database username */
define( 'DB_USER', 'shop' );

/** Database password */
define( 'DB_PASSWORD', 'c0rrect horse' );

/** Database hostname */
define( 'DB_HOST', 'localhost' );

/** Database charset to use in creating database tables. */
define( 'DB_CHARSET', 'utf8mb4' );

/** The database collate type. Don't change this if in doubt. */
define( 'DB_COLLATE', '' );

/**#@+
 * Authentication unique keys and salts.
 *
 * @since 2.6.0
 */
define( 'AUTH_KEY',         'v]8H!x|Ha{w,u6 T~3tf+u)<5VtW^2pX-k[6O' );
define( 'SECURE_AUTH_KEY',  'qn9=kI(8^@<Q%!]2jKXr$y*dx|Ae4m,H|Lz_P' );
define( 'LOGGED_IN_KEY',    '4=E`@(Za|wbM+;G/@}-q7Lm<Ai#9U?f9R*e4' );
define( 'NONCE_KEY',        'yB~f|f9cL.ytZ/DeMS+5p[8kx+Yl1r0%k=Pw' );
define( 'AUTH_SALT',        ' bu^G>m$Bq1d#s;pR,b)B[RsgkAn@Sy.Gl@=' );
define( 'SECURE_AUTH_SALT', 'Y.Y3]8AJz.b|`Jt@C@ku/IW0hTa7b9~>D?1n' );
define( 'LOGGED_IN_SALT',   'W>2bbOKTcFg|>dRo%xV%6p]xPg2S-qzxXQ!m' );
define( 'NONCE_SALT',       '_Ux5A|<%1Kj=:R.]4B%t5F{4M$ZG=ne<,HC9' );

/**#@-*/

/**
 * WordPress database table prefix.
 *
 * You can have multiple installations in one database if you give each
 * a unique prefix. Only numbers, letters, and underscores please!
 */
$table_prefix = 'wp_';

/**
 * For developers: WordPress debugging mode.
 *
 * @link https://wordpress.org/support/article/debugging-in-wordpress/
 */
define( 'WP_DEBUG', false );

/* Add any custom values between this line and the "stop editing" line. */



/* That's all, stop editing! Happy publishing. */

/** Absolute path to the WordPress directory. */
if ( ! defined( 'ABSPATH' ) ) {
	define( 'ABSPATH', __DIR__ . '/' );
}

/** Sets up WordPress vars and included files. */
require_once ABSPATH . 'wp-settings.php';
