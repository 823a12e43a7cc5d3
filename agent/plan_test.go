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
	assert.Len(t, lines, 3, "the sentence, then one line a candidate: %q", plan)
	assert.Equal(t, "  plugin slider", lines[1])
	assert.Equal(t, "  plugin evil\ufffd  plugin fake\ufffd\ufffd", lines[2])
}
