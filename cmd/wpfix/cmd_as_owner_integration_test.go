package main

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wpfix/wpfix/remote/sshtest"
	"github.com/wpfix/wpfix/wp"
	"github.com/wpfix/wpfix/wp/wptest"
)

// The VPS admin's cron job of issue 11: root runs wpfix on a site that
// belongs to its own user. wpfix makes the site's changes as that user, so
// it can do nothing the user could not, and leaves nothing the user cannot
// manage — locally, and over SSH logged in as root.

// rootRun runs wpfix as root on b's site, locally or over SSH as root.
type rootRun func(t *testing.T, args ...string) result

func rootRuns(b *bisectSite) map[string]func(t *testing.T) rootRun {
	return map[string]func(t *testing.T) rootRun{
		"local": func(t *testing.T) rootRun {
			return func(t *testing.T, args ...string) result {
				return runAs(t, b.home, append(args, b.st.Root)...)
			}
		},
		"ssh as root": func(t *testing.T) rootRun {
			srv := sshtest.NewServer(t, sshtest.Options{Root: true})
			return func(t *testing.T, args ...string) result {
				return runAs(t, b.home, append(args, "root@"+srv.Host+":"+b.st.Root, "-i", srv.KeyFile,
					"-p", strconv.Itoa(srv.Port), "--known-hosts", srv.KnownHostsFile)...)
			}
		},
	}
}

// ownersUnder maps every file under dir to its owner, as "uid:gid".
func ownersUnder(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	for p, desc := range fileTree(t, dir) {
		m[p] = strings.Fields(desc)[1]
	}
	return m
}

// TestRootActsAsOwner: a root bisect leaves the culprit disabled with
// every file it made (.wpfix, the journal, the quarantine) the site user's,
// and no file of root's anywhere in the docroot; restore puts the site
// back as it was, owners and all.
func TestRootActsAsOwner(t *testing.T) {
	requireRoot(t)
	for _, name := range []string{"local", "ssh as root"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := newBisectSite(t, wptest.Options{})
			run := rootRuns(b)[name](t)
			culprits := b.st.Break(t, wptest.BreakFatal)
			before := b.state(t)
			owners := ownersUnder(t, b.st.Root)
			site := strconv.Itoa(b.srv.UID) + ":" + strconv.Itoa(b.srv.GID)

			r := run(t, "bisect", "--json")
			require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
			rep := parseReport(t, r)
			assert.Equal(t, "culprit_found", rep.Verdict)
			assert.ElementsMatch(t, culprits, rep.LeftDisabled)
			state := filepath.Join(b.st.ContentDir, ".wpfix")
			require.DirExists(t, filepath.Join(state, "quarantine"))
			require.FileExists(t, filepath.Join(state, "journal"))
			for p, owner := range ownersUnder(t, b.st.Root) {
				if was, ok := owners[p]; ok {
					assert.Equal(t, was, owner, "%s keeps its owner", p)
				} else {
					assert.Equal(t, site, owner, "%s, made by wpfix, is the site user's", p)
				}
			}

			r = run(t, "restore")
			require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
			b.assertAsBefore(t, before, "restore leaves every file (and its owner) and option as before")
			b.assertNoTrace(t)
			assert.Equal(t, owners, ownersUnder(t, b.st.Root), "nothing in the docroot changed owner")
		})
	}
}

// TestRootActsAsOwnerRefused: a culprit whose folder is root's cannot be
// moved by the site's user (a folder that changes parent needs write
// permission on itself), so a root bisect cannot disable it as that user:
// it says so, names --as-root, and leaves the site as it was. With
// --as-root it is disabled, and restore brings it back.
func TestRootActsAsOwnerRefused(t *testing.T) {
	requireRoot(t)
	b := newBisectSite(t, wptest.Options{})
	culprits := b.st.Break(t, wptest.BreakFatal)
	require.Len(t, culprits, 1)
	require.Equal(t, wp.KindPlugin, culprits[0].Kind)
	dir := filepath.Join(b.st.ContentDir, "plugins", culprits[0].Name)
	chownAll(t, dir, 0, 0)
	before := b.state(t)

	r := runAs(t, b.home, "bisect", b.st.Root)
	assert.NotEqual(t, 0, r.code, "stdout: %s", r.stdout)
	assert.Contains(t, r.stderr, "permission denied (wpfix acts as uid "+strconv.Itoa(b.srv.UID)+", who owns the site")
	assert.Contains(t, r.stderr, "--as-root")
	b.assertAsBefore(t, before, "the site as it was")
	b.assertNoTrace(t, "nothing of wpfix left")

	r = runAs(t, b.home, "bisect", "--json", "--as-root", b.st.Root)
	require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
	assert.Equal(t, culprits, parseReport(t, r).LeftDisabled)
	assert.Equal(t, 200, b.st.Get(t, "/").Status)
	r = runAs(t, b.home, "restore", "--as-root", b.st.Root)
	require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
	b.assertAsBefore(t, before, "restore --as-root puts it back")
	b.assertNoTrace(t)
}
