package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestConfigFile: the example config file parses, [heal] and [[notify]]
// included; a key wpfix does not know, or a [[notify]] that is neither a
// URL nor email, is an error naming the file.
func TestConfigFile(t *testing.T) {
	c, err := readConfig(filepath.Join("..", "..", "configs", "wpfix.example.toml"))
	require.NoError(t, err)
	assert.Equal(t, 3, c.Heal.Confirm)
	assert.Equal(t, 10*time.Second, time.Duration(c.Heal.ConfirmInterval))
	assert.Equal(t, 6*time.Hour, time.Duration(c.Heal.Remind))
	require.Len(t, c.Notify, 2)
	assert.Contains(t, c.Notify[0].URL, "hooks.slack.com")
	assert.Equal(t, []string{"admin@example.com"}, c.Notify[1].Email)

	for _, tt := range []struct{ name, body, want string }{
		{"unknown table", "[hael]\nconfirm = 2\n", `unknown key "hael"`},
		{"unknown key", "[heal]\nconfirms = 2\n", `unknown key "heal.confirms"`},
		{"neither", "[[notify]]\nfrom = \"a@b.c\"\n", "[[notify]] #1: give either url or email"},
		{"both", "[[notify]]\nurl = \"https://x.test/\"\nemail = [\"a@b.c\"]\n", "give either url or email"},
		{"bad duration", "[heal]\nremind = \"soon\"\n", "remind"},
		{"bad signature", "[[signature]]\nid = \"x\"\n", `signature "x"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := filepath.Join(t.TempDir(), "wpfix.toml")
			require.NoError(t, os.WriteFile(f, []byte(tt.body), 0o600))
			_, err := readConfig(f)
			require.Error(t, err)
			assert.ErrorContains(t, err, f)
			assert.ErrorContains(t, err, tt.want)
		})
	}
}
