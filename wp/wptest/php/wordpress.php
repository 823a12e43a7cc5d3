<?php
// Runs PHP code inside WordPress, with wp-admin's plugin functions, as a
// page of wp-admin such as plugins.php runs them:
//   php wordpress.php DOCROOT URL < CODE
// CODE (no opening tag) is read from standard input; what it prints is the
// output. Run by wptest with the stack's own php.ini, as the site's owner.
[$_, $root, $url] = $argv;
$parts = parse_url($url);
$_SERVER['HTTP_HOST'] = $parts['host'] . (isset($parts['port']) ? ':' . $parts['port'] : '');
$_SERVER['REQUEST_URI'] = '/wp-admin/plugins.php';
$_SERVER['SERVER_PROTOCOL'] = 'HTTP/1.1';
$wptest_code = stream_get_contents(STDIN);
require $root . '/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/plugin.php';
eval($wptest_code);
