package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wpfix/wpfix/agent"
	"github.com/wpfix/wpfix/wp/server"
	"github.com/wpfix/wpfix/wp/wptest"
)

// appendTo adds text at the end of a file.
func appendTo(t *testing.T, p, text string) {
	t.Helper()
	f, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString(text)
	require.NoError(t, err)
	require.NoError(t, f.Close())
}

// TestConfigWarnings changes the configs of a running stack as an admin
// may without reloading: nginx's includes a file that is not there (and,
// run as root, one the SSH user may not read), the pool sets a value
// php-fpm refuses. wpfix logs -v says which file could not be read and
// why, and limits --json has the warnings in its report; the logs and
// limits are read as before.
func TestConfigWarnings(t *testing.T) {
	t.Parallel()
	b := newBisectSite(t, wptest.Options{})
	dir := filepath.Dir(b.st.NginxErrorLog)
	nginxConf, fpmConf := filepath.Join(dir, "nginx.conf"), filepath.Join(dir, "php-fpm.conf")
	missing := filepath.Join(dir, "missing.conf")
	appendTo(t, nginxConf, "include "+missing+";\n")
	private := filepath.Join(dir, "private.conf")
	if os.Geteuid() == 0 {
		require.NoError(t, os.WriteFile(private, []byte("# root's\n"), 0o600))
		appendTo(t, nginxConf, "include "+private+";\n")
	}
	appendTo(t, fpmConf, "pm.max_requests = lots\n")

	r := b.run(t, "logs", "-v", "-n", "5")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stderr, "file="+nginxConf+" line=", "-v says which file could not be read, and why")
	assert.Contains(t, r.stderr, `directive=include problem="`+missing+` could not be read: `)
	assert.Contains(t, r.stderr, "file="+fpmConf+" line=")
	assert.Contains(t, r.stderr, `problem="php-fpm refuses the value \"lots\" of pool wptest"`)
	if os.Geteuid() == 0 {
		assert.Contains(t, r.stderr, `problem="`+private+` could not be read: permission denied"`)
	}
	assert.Contains(t, r.stdout, b.st.NginxErrorLog, "the logs are found as before")

	r = b.run(t, "limits", "--json", "--no-http")
	require.NotEqual(t, 2, r.code, r.stderr)
	var rep agent.LimitsReport
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &rep), r.stdout)
	var raw struct {
		Warnings []map[string]any `json:"warnings"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &raw))
	require.NotEmpty(t, raw.Warnings)
	assert.ElementsMatch(t, []string{"file", "line", "directive", "message"}, keys(raw.Warnings[0]), "each warning's keys")

	byDirective := map[string][]server.Warning{}
	for _, w := range rep.Warnings {
		byDirective[w.Directive] = append(byDirective[w.Directive], w)
	}
	if assert.NotEmpty(t, byDirective["include"]) {
		w := byDirective["include"][0]
		assert.Equal(t, nginxConf, w.File)
		assert.Positive(t, w.Line)
		assert.True(t, strings.HasPrefix(w.Message, missing+" could not be read: "), w.Message)
	}
	require.Len(t, byDirective["pm.max_requests"], 1)
	refused := byDirective["pm.max_requests"][0]
	assert.Equal(t, fpmConf, refused.File)
	if os.Geteuid() == 0 {
		assert.Len(t, byDirective["include"], 2, "the unreadable include too")
	}
	require.NotEmpty(t, rep.Pools)
	assert.Equal(t, server.Setting{Value: "lots", File: fpmConf, Line: refused.Line},
		rep.Pools[0].Invalid["pm.max_requests"], "the refused value, as before")
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
