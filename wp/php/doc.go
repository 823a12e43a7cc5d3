// Package php models what wpfix reads of PHP without running it: PHP's
// values (Value, built with Null, Bool, Int, Float, String, Array and List)
// with serialize and unserialize byte for byte as PHP writes them
// (Serialize, Unserialize, IsSerialized) and PHP's casts of them (Strval,
// Boolval), and a lexer for PHP source (Lex, Literal) that finds calls and
// assignments past comments, strings, heredocs and inline HTML and reads
// string and number literals as PHP does.
//
// It knows nothing of WordPress: package wp reads wp-config.php and options
// with it. Every parser here is fuzzed, and checked against the php CLI
// when it is installed.
package php
