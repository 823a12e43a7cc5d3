<?php
// Installs WordPress without a browser: php install.php DOCROOT URL ADMIN_PASSWORD.
// Run by wptest with the stack's own php.ini; it is not copied into the docroot.
[$_, $root, $url, $pass] = $argv;
$parts = parse_url($url);
$_SERVER['HTTP_HOST'] = $parts['host'] . (isset($parts['port']) ? ':' . $parts['port'] : '');
$_SERVER['REQUEST_URI'] = '/';
$_SERVER['SERVER_PROTOCOL'] = 'HTTP/1.1';
define('WP_INSTALLING', true);
require $root . '/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/upgrade.php';
$r = wp_install('wptest', 'admin', 'admin@example.test', false, '', $pass);
if (is_wp_error($r) || empty($r['user_id'])) {
	fwrite(STDERR, "wp_install failed\n");
	exit(1);
}
update_option('siteurl', $url);
update_option('home', $url);
echo json_encode(['version' => $GLOBALS['wp_version'], 'template' => get_option('template')]), "\n";
