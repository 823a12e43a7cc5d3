package wptest

// PHP bodies for plugins that break the front end's pages while the
// status stays 200: what a probe sees only in the body.
const (
	// EmptyPage throws every front-end page away, as a minifier or page
	// cache plugin that fails does: an output buffer started on
	// template_redirect whose callback returns nothing. WordPress answers
	// 200, text/html, with an empty body: the white screen of death.
	// wp-login.php, wp-admin and the REST API never reach
	// template_redirect and are left whole.
	EmptyPage = `add_action( 'template_redirect', function () {
	ob_start( function () { return ''; } );
} );`
	// CutOffPage stops every themed page in its footer: with display_errors
	// off it prints a paragraph, then calls a function that does not exist.
	// The output has started, so WordPress's fatal-error handler stays
	// silent on the front end and the status stays 200; the page ends
	// there, before its </body></html>.
	CutOffPage = `add_action( 'wp_footer', function () {
	ini_set( 'display_errors', '0' );
	echo '<p>wptest: the page stops here</p>';
	flush();
	wptest_this_function_does_not_exist();
} );`
)

// Breakages of the page, not the status (Break knows them).
const (
	// BreakEmptyPage: an active plugin empties every front-end page (200,
	// empty body).
	BreakEmptyPage Breakage = "empty-page"
	// BreakCutOff: an active plugin stops every themed page with a fatal
	// error after the output started, display_errors off (200, no
	// </html>).
	BreakCutOff Breakage = "cut-off"
)

// pagePlugins are the plugins of the page breakages.
var pagePlugins = map[Breakage]Plugin{
	BreakEmptyPage: {Slug: "wptest-empty-page", Body: EmptyPage},
	BreakCutOff:    {Slug: "wptest-cut-off", Body: CutOffPage},
}
