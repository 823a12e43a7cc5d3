package logsig_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wpfix/wpfix/wp/logsig"
)

// TestFold checks which lines fold together.
func TestFold(t *testing.T) {
	cl := goldenClassifier(t)
	classify := func(lines ...string) []logsig.Line {
		var out []logsig.Line
		for _, l := range lines {
			out = append(out, cl.Classify(l))
		}
		return out
	}
	reset := func(ts, conn, port string) string {
		return ts + " [error] 9158#9158: *" + conn + " recv() failed (104: Connection reset by peer) while reading response header from upstream, client: 127.0.0.1:" + port + ", server: _, request: \"GET / HTTP/1.1\""
	}
	t.Run("repeats differing in numbers fold, keeping the latest", func(t *testing.T) {
		in := classify(
			reset("2026/11/23 01:36:14", "5", "40001"),
			"2026/11/23 01:36:14 [notice] 9157#9157: start worker processes",
			reset("2026/11/23 01:36:15", "8", "40002"),
			reset("2026/11/23 01:36:16", "12", "40003"),
		)
		out := logsig.Fold(in)
		require.Len(t, out, 2)
		assert.Equal(t, "", out[0].Signature)
		assert.Equal(t, 1, out[0].Count)
		assert.Equal(t, "nginx-upstream-reset", out[1].Signature)
		assert.Equal(t, 3, out[1].Count)
		assert.Equal(t, in[3].Text, out[1].Text)
		assert.True(t, in[3].Time.Equal(out[1].Time))
	})
	t.Run("hex, pids and durations are masked", func(t *testing.T) {
		out := logsig.Fold(classify(
			"[23-Nov-2026 01:36:14] WARNING: [pool www] child 9156 exited on signal 9 (SIGKILL) after 1.390662 seconds from start",
			"[24-Nov-2026 03:00:00] WARNING: [pool www] child 12 exited on signal 9 (SIGKILL) after 0.045253 seconds from start",
			"[23-Nov-2026 01:36:14 UTC] PHP Fatal error:  Uncaught Error: object at 0x7ffd5e8c in /w/wp-content/plugins/a/a.php:8",
			"[23-Nov-2026 01:36:15 UTC] PHP Fatal error:  Uncaught Error: object at 0xdeadbeef in /w/wp-content/plugins/a/a.php:9",
		))
		require.Len(t, out, 2)
		assert.Equal(t, 2, out[0].Count)
		assert.Equal(t, 2, out[1].Count)
	})
	t.Run("a different blame, signature or word does not fold", func(t *testing.T) {
		out := logsig.Fold(classify(
			"[23-Nov-2026 01:36:14 UTC] PHP Fatal error:  Uncaught Error: boom in /w/wp-content/plugins/a/a.php:8",
			"[23-Nov-2026 01:36:14 UTC] PHP Fatal error:  Uncaught Error: boom in /w/wp-content/plugins/b/a.php:8",
			"[23-Nov-2026 01:36:14 UTC] PHP Fatal error:  Uncaught Error: bang in /w/wp-content/plugins/a/a.php:8",
			"[23-Nov-2026 01:36:14 UTC] PHP Parse error:  boom in /w/wp-content/plugins/a/a.php:8",
		))
		assert.Len(t, out, 4)
	})
	t.Run("counts add up across folds", func(t *testing.T) {
		once := logsig.Fold(classify(reset("2026/11/23 01:36:14", "5", "1"), reset("2026/11/23 01:36:15", "6", "2")))
		require.Len(t, once, 1)
		twice := logsig.Fold(append(once, classify(reset("2026/11/23 01:36:16", "7", "3"))...))
		require.Len(t, twice, 1)
		assert.Equal(t, 3, twice[0].Count)
	})
	t.Run("empty", func(t *testing.T) {
		assert.Empty(t, logsig.Fold(nil))
	})
}
