<?php
// Everything in double quotes, as some hosts' installers write it.
define("DB_NAME", "blog");
define("DB_USER", "blog_user");
define("DB_PASSWORD", "tab\there \"quoted\" \\ back \$dollar \x41\101\u{e9} \q");
define("DB_HOST", "127.0.0.1:3307");
define("DB_CHARSET", "utf8");
define("DB_COLLATE", "");
define("WP_MEMORY_LIMIT", "256M");
define("GREETING", "Hello,\nWorld");
define("LITERAL_DOLLAR", "costs $5 or $ 6");
define("INTERPOLATED", "home is $HOME");
define("BRACED", "{$x} and ${y}");
$table_prefix = "wp2_";
define("WP_DEBUG", true);
define("WP_DEBUG_DISPLAY", false);
require_once ABSPATH . "wp-settings.php";
