<?php
// Makes an installed WordPress a subdirectory multisite network, as
// wp-admin/network.php does: php network.php DOCROOT URL. Run by wptest
// with the stack's own php.ini before wp-config.php says MULTISITE.
[$_, $root, $url] = $argv;
$parts = parse_url($url);
$host = $parts['host'] . (isset($parts['port']) ? ':' . $parts['port'] : '');
$_SERVER['HTTP_HOST'] = $host;
$_SERVER['REQUEST_URI'] = '/wp-admin/network.php';
$_SERVER['SERVER_PROTOCOL'] = 'HTTP/1.1';
define('WP_INSTALLING_NETWORK', true);
require $root . '/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/upgrade.php';
require_once ABSPATH . 'wp-admin/includes/network.php';
wp_set_current_user(1);
// the network's tables get their names, as wp-admin/network.php gives them
foreach ($wpdb->tables('ms_global') as $table => $prefixed) {
	$wpdb->$table = $prefixed;
}
install_network();
$r = populate_network(1, $host, 'admin@example.test', 'wptest network', '/', false);
if (is_wp_error($r)) {
	fwrite(STDERR, 'populate_network: ' . $r->get_error_message() . "\n");
	exit(1);
}
echo "ok\n";
