package agent

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestThemeTarget: the theme is switched to an installed default theme
// that is neither the active theme nor its parent; with none, "" (wpfix's
// minimal theme).
func TestThemeTarget(t *testing.T) {
	tests := []struct {
		name                 string
		stylesheet, template string
		defaults             []string
		want                 string
	}{
		{"another default", "mytheme", "mytheme", []string{"twentytwentythree", "twentytwentytwo"}, "twentytwentythree"},
		{"the active default skipped", "twentytwentythree", "twentytwentythree", []string{"twentytwentythree", "twentytwentytwo"}, "twentytwentytwo"},
		{"the parent skipped", "child", "twentytwentythree", []string{"twentytwentythree", "twentytwentytwo"}, "twentytwentytwo"},
		{"only the parent", "child", "twentytwentythree", []string{"twentytwentythree"}, ""},
		{"only the active one", "twentytwentythree", "twentytwentythree", []string{"twentytwentythree"}, ""},
		{"none installed", "mytheme", "mytheme", nil, ""},
		{"a child of a default, another default", "child", "twentytwentytwo", []string{"twentytwentytwo", "twentytwentyfour"}, "twentytwentyfour"},
		{"never wpfix's own", "mytheme", "mytheme", []string{"wpfix-minimal-0123456789abcdef"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, themeTarget(tt.stylesheet, tt.template, tt.defaults))
		})
	}
}

// TestSettleUntried: no verdict says the cause is outside the extensions
// while a candidate could not be tried; a culprit found stands.
func TestSettleUntried(t *testing.T) {
	outside := "the site fails with every candidate turned off: the cause is " + outsideClaim + " (PHP, php-fpm, the web server, the database …)"
	tests := []struct {
		name    string
		verdict string
		untried []string
		want    string
	}{
		{"all tried", VerdictNotExtension, nil, VerdictNotExtension},
		{"theme untried", VerdictNotExtension, []string{"theme mytheme"}, VerdictInconclusive},
		{"culprit found besides", VerdictCulpritFound, []string{"theme mytheme"}, VerdictCulpritFound},
		{"already inconclusive", VerdictInconclusive, []string{"theme mytheme"}, VerdictInconclusive},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &Report{Verdict: tt.verdict, Notes: []string{"another note", outside}}
			r.settleUntried(tt.untried)
			assert.Equal(t, tt.want, r.Verdict)
			if tt.verdict != VerdictNotExtension || len(tt.untried) == 0 {
				assert.Equal(t, []string{"another note", outside}, r.Notes, "notes untouched")
				return
			}
			assert.Contains(t, r.Notes, "another note")
			for _, n := range r.Notes {
				assert.NotContains(t, n, outsideClaim, "no note claims the cause is outside the extensions")
			}
			assert.True(t, strings.Contains(strings.Join(r.Notes, "\n"), "could be tried (theme mytheme)"), "the note names what was not tried: %v", r.Notes)
			assert.True(t, r.StillBroken(false))
		})
	}
}

// TestMinimalThemeFiles: the minimal theme is a theme WordPress loads (a
// Theme Name header, no parent) whose page is whole and runs the hooks
// any theme runs.
func TestMinimalThemeFiles(t *testing.T) {
	assert.Contains(t, minimalStyle, "\nTheme Name: wpfix minimal theme\n")
	assert.NotContains(t, minimalStyle, "Template:")
	for _, want := range []string{"<!DOCTYPE html>", "<html ", "wp_head();", "the_content();", "wp_footer();", "</body>\n</html>\n"} {
		assert.Contains(t, minimalIndex, want)
	}
	assert.True(t, htmlClosed([]byte(minimalIndex)), "the page closes its </html>")
}
