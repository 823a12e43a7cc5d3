package agent

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/wpfix/wpfix/wp"
)

// TestPlanOneALine: the confirmation plan lists one candidate a line, and
// a name with a line break in it (a folder name is the site's to choose)
// cannot add a line that looks like another candidate.
func TestPlanOneALine(t *testing.T) {
	b := &bisection{
		site: &Site{WP: &wp.Site{ContentDir: "/var/www/site/wp-content"}},
		cands: []*candidate{
			{Extension: wp.Extension{Kind: wp.KindPlugin, Name: "slider"}},
			{Extension: wp.Extension{Kind: wp.KindPlugin, Name: "evil\n  plugin fake\r\u2028"}},
		},
		defaultTheme: "twentytwentythree",
	}
	plan := b.plan()
	lines := strings.Split(plan, "\n")
	assert.Len(t, lines, 8, "two lines of the sentence, one a candidate, then where things go: %q", plan)
	assert.Equal(t, "  plugin slider", lines[2])
	assert.Equal(t, "  plugin evil\ufffd  plugin fake\ufffd\ufffd", lines[3])
	assert.True(t, strings.HasPrefix(lines[4], "Plugins, must-use plugins"), lines[4])
	assert.Equal(t, "  /var/www/site/wp-content/.wpfix", lines[7])
	for _, l := range lines {
		assert.LessOrEqual(t, len(l), 90, "a line a terminal shows whole: %q", l)
	}
}
