// Package logsig says what a line of a web server, php-fpm, PHP, WordPress
// or database log means: a Classifier matches each line against a table of
// signatures (signatures.toml, embedded, plus the user's TOML fragments),
// blames the plugin, must-use plugin, theme or drop-in its paths point at,
// and reads its timestamp (ParseTime); Fold folds the repeats.
//
// It works on lines it is given and never reads a file: finding a site's
// logs and reading them is for its callers. The files hold one job each:
// classify.go the Classifier, signatures.go the table and its checks,
// match.go the Aho-Corasick prefilter over the signatures' substrings,
// blame.go the extension a path points at, logtime.go the timestamps and
// fold.go the folding.
package logsig
