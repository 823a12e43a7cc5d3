<?php
// Reads or writes one WordPress option the way WordPress stores it, without
// loading WordPress (whose plugins may be the broken ones under test):
//   php option.php get NAME        prints the value, unserialized, as JSON
//   php option.php set NAME JSON   stores the JSON value, arrays PHP-serialized
// The database comes from WPTEST_DB_* environment variables.
$db = new mysqli('localhost', getenv('WPTEST_DB_USER'), getenv('WPTEST_DB_PASSWORD'),
	getenv('WPTEST_DB_NAME'), 0, getenv('WPTEST_DB_SOCKET'));
$table = getenv('WPTEST_TABLE_PREFIX') . 'options';
$cmd = $argv[1];
$name = $argv[2];
if ($cmd === 'get') {
	$st = $db->prepare("SELECT option_value FROM `$table` WHERE option_name = ?");
	$st->bind_param('s', $name);
	$st->execute();
	$row = $st->get_result()->fetch_row();
	if ($row === null) {
		echo "null\n";
		exit(0);
	}
	$v = @unserialize($row[0]);
	echo json_encode(($v === false && $row[0] !== 'b:0;') ? $row[0] : $v), "\n";
	exit(0);
}
if ($cmd === 'set') {
	$v = json_decode($argv[3], true);
	$s = (is_array($v) || is_object($v)) ? serialize($v) : (string) $v;
	$st = $db->prepare("INSERT INTO `$table` (option_name, option_value, autoload) VALUES (?, ?, 'yes')
		ON DUPLICATE KEY UPDATE option_value = VALUES(option_value)");
	$st->bind_param('ss', $name, $s);
	$st->execute();
	exit(0);
}
fwrite(STDERR, "usage: option.php get NAME | set NAME JSON\n");
exit(2);
