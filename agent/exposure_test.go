package agent

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestStateDirCause: a served .wpfix is a cause that says what can be
// read or run and how to deny it, ranked as a warning: a working site's
// diagnose still ends healthy. A denied folder is no cause.
func TestStateDirCause(t *testing.T) {
	for _, tc := range []struct {
		name  string
		check StateDirCheck
		title string // "" for no cause
	}{
		{"journal served", StateDirCheck{Holds: []string{"journal"}, Served: true}, "its journal can be read by anyone"},
		{"journal and quarantine served", StateDirCheck{Holds: []string{"journal", "quarantine"}, Served: true},
			"its journal can be read by anyone, and the PHP it quarantines run"},
		{"quarantine served", StateDirCheck{Holds: []string{"quarantine"}, Served: true}, "the PHP it quarantines can be run by anyone"},
		{"denied", StateDirCheck{Holds: []string{"journal"}, Status: 403}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.check.Dir, tc.check.Evidence = "/var/www/site/wp-content/.wpfix", "GET …: status 200"
			r := &DiagnoseReport{Healthy: true, DB: DBCheck{Reachable: true}, StateDir: &tc.check}
			r.Causes = rankCauses(r, "site")
			if tc.title == "" {
				assert.Empty(t, r.Causes)
				return
			}
			if assert.Len(t, r.Causes, 1) {
				c := r.Causes[0]
				assert.Equal(t, "wpfix-dir-served", c.ID)
				assert.Contains(t, c.Title, "/var/www/site/wp-content/.wpfix is served over HTTP: "+tc.title)
				assert.Contains(t, c.Next, "location ~ /\\. { deny all; }")
				assert.Equal(t, []string{"GET …: status 200"}, c.Evidence)
			}
			assert.False(t, r.Failed(), "a warning, not a failure")
		})
	}
}
