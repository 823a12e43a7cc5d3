<?php
$note = 'define( "DB_NAME", "in_a_string" );';
$other = "define('DB_USER', 'in_a_double_string');";
$doc = <<<EOT
define( 'DB_PASSWORD', 'in_a_heredoc' );
EOT;
$now = <<<'NOW'
    define( 'DB_HOST', 'in_a_nowdoc' );
    NOW;
$obj->define( 'DB_CHARSET', 'a_method' );
Foo::define( 'DB_COLLATE', 'a_static_method' );
function define_things() {}
define( 'DB_NAME', 'real' );
define( 'WELCOME', <<<TXT
Hello
TXT
);
?>
<p>define( 'DB_USER', 'inline_html' );</p>
<?php
define( 'DB_USER', 'after_html' );
$table_prefix = 'wp_'?>
