package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wpfix/wpfix/agent/journal"
	"github.com/wpfix/wpfix/wp/wptest"
)

// TestDiagnoseStateDirServed: bisect leaves a culprit disabled, so
// wp-content/.wpfix holds a journal and a quarantine. Behind nginx without
// a dot-deny rule diagnose finds the journal served and says how to deny
// it; with `location ~ /\. { deny all; }` it finds the folder denied and
// says nothing. With the journal moved away, the quarantine alone is
// judged by a name that exists nowhere (403 under .wpfix against 404
// beside it). With nothing left to protect, nothing is checked.
func TestDiagnoseStateDirServed(t *testing.T) {
	for _, tc := range []struct {
		name   string
		deny   bool
		served bool
		status int
	}{
		{"nginx without a dot-deny rule", false, true, 200},
		{"nginx with location ~ /\\. deny all", true, false, 403},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := newBisectSite(t, wptest.Options{DenyDotFiles: tc.deny})
			b.st.Break(t, wptest.BreakFatal)
			r := b.run(t, "bisect", "--json", "--scope", "plugins")
			require.Equal(t, 0, r.code, r.stderr)
			dir := filepath.Join(b.st.ContentDir, journal.StateDir)
			require.FileExists(t, filepath.Join(dir, "journal"))

			r, rep := diagnose(t, b)
			require.Equal(t, 0, r.code, r.stderr)
			require.NotNil(t, rep.StateDir, "a journal and a quarantine are there: %s", r.stdout)
			assert.Equal(t, []string{"journal", "quarantine"}, rep.StateDir.Holds)
			assert.Empty(t, rep.StateDir.Error)
			assert.Equal(t, b.st.URL+"/wp-content/.wpfix/journal", rep.StateDir.URL)
			assert.Equal(t, tc.status, rep.StateDir.Status, rep.StateDir.Evidence)
			assert.Equal(t, tc.served, rep.StateDir.Served, rep.StateDir.Evidence)
			if tc.served {
				require.Contains(t, causeIDs(rep), "wpfix-dir-served")
				for _, c := range rep.Causes {
					if c.ID == "wpfix-dir-served" {
						assert.Contains(t, c.Title, "its journal can be read by anyone, and the PHP it quarantines run")
						assert.Contains(t, c.Next, "location ~ /\\. { deny all; }")
						assert.Contains(t, c.Evidence[0], "status 200 and the journal's content")
					}
				}
				r = b.run(t, "diagnose")
				assert.Contains(t, r.stdout, "is served over HTTP")
				assert.Contains(t, r.stdout, "location ~ /\\. { deny all; }")
			} else {
				assert.NotContains(t, causeIDs(rep), "wpfix-dir-served")
			}

			// The quarantine alone: a name that is nowhere.
			aside := filepath.Join(b.st.Root, "..", "journal-aside")
			require.NoError(t, os.Rename(filepath.Join(dir, "journal"), aside))
			_, rep = diagnose(t, b)
			require.NoError(t, os.Rename(aside, filepath.Join(dir, "journal")))
			require.NotNil(t, rep.StateDir)
			assert.Equal(t, []string{"quarantine"}, rep.StateDir.Holds)
			assert.Equal(t, tc.served, rep.StateDir.Served, rep.StateDir.Evidence)
			if tc.served {
				assert.Equal(t, 404, rep.StateDir.Status, rep.StateDir.Evidence)
				assert.Contains(t, rep.StateDir.Evidence, "nothing denies the folder")
				assert.Contains(t, causeIDs(rep), "wpfix-dir-served")
			} else {
				assert.Equal(t, 403, rep.StateDir.Status, rep.StateDir.Evidence)
				assert.Contains(t, rep.StateDir.Evidence, "gives 404: the server denies the folder")
				assert.NotContains(t, causeIDs(rep), "wpfix-dir-served")
			}

			// Restored: nothing to protect, nothing checked.
			r = b.run(t, "restore")
			require.Equal(t, 0, r.code, r.stderr)
			_, rep = diagnose(t, b)
			assert.Nil(t, rep.StateDir)
			assert.NotContains(t, causeIDs(rep), "wpfix-dir-served")
		})
	}
}
