package wp_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wpfix/wpfix/remote"
	"github.com/wpfix/wpfix/wp"
	"github.com/wpfix/wpfix/wp/wptest"
)

func TestServerName(t *testing.T) {
	for in, want := range map[string]string{
		"10.11.6-MariaDB-0+deb12u1": "MariaDB 10.11",
		"5.5.5-10.6.18-MariaDB-log": "MariaDB 10.6",
		"11.4.2-MariaDB":            "MariaDB 11.4",
		"8.0.36":                    "MySQL 8.0",
		"8.0.36-0ubuntu0.22.04.1":   "MySQL 8.0",
		"5.7.44-log":                "MySQL 5.7",
		"":                          "MySQL",
	} {
		assert.Equal(t, want, wp.ServerName(in), in)
	}
}

// TestParseCron reads a cron option as WordPress 6 stores it: a recurring
// event, two single events of one hook with the same arguments, one with
// other arguments, and the "version" entry.
func TestParseCron(t *testing.T) {
	raw := `a:3:{i:1700000100;a:1:{s:16:"wp_version_check";a:1:{s:32:"40cd750bba9870f18aada2478b24840a";a:3:{s:8:"schedule";s:10:"twicedaily";s:4:"args";a:0:{}s:8:"interval";i:43200;}}}` +
		`i:1700000200;a:1:{s:3:"dup";a:2:{s:32:"b3a1f7c4d2e5f60718293a4b5c6d7e8f";a:2:{s:8:"schedule";b:0;s:4:"args";a:1:{i:0;i:7;}}s:32:"00000000000000000000000000000000";a:2:{s:8:"schedule";b:0;s:4:"args";a:1:{i:0;i:8;}}}}` +
		`s:7:"version";i:2;}`
	events, err := wp.ParseCron(raw)
	require.NoError(t, err)
	assert.Equal(t, []wp.CronEvent{
		{Time: 1700000100, Hook: "wp_version_check", Key: "40cd750bba9870f18aada2478b24840a", Schedule: "twicedaily"},
		{Time: 1700000200, Hook: "dup", Key: "b3a1f7c4d2e5f60718293a4b5c6d7e8f"},
		{Time: 1700000200, Hook: "dup", Key: "00000000000000000000000000000000"},
	}, events)

	events, err = wp.ParseCron("")
	require.NoError(t, err)
	assert.Empty(t, events)
	_, err = wp.ParseCron("not serialized")
	assert.ErrorContains(t, err, "option cron")
	_, err = wp.ParseCron(`s:3:"abc";`)
	assert.ErrorContains(t, err, "want an array")
}

// TestCheckDBOnStack: the helpers on a real database. The autoload size
// counts every value WordPress loads on each request, those of 6.6 and
// later too, and none of those it does not.
func TestCheckDBOnStack(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	st := wptest.NewStack(t, wptest.Options{})
	site, err := wp.Find(ctx, remote.NewLocal(), st.Root, wp.Options{})
	require.NoError(t, err)
	db, err := site.OpenDB(ctx)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })

	size0, n0, err := db.AutoloadSize(ctx)
	require.NoError(t, err)
	assert.Positive(t, size0)
	for i, autoload := range []string{"yes", "on", "auto-on", "auto", "no", "off", "auto-off"} {
		_, err := st.DB().Exec("INSERT INTO `"+st.TablePrefix+"options` (option_name, option_value, autoload) VALUES (?, ?, ?)",
			fmt.Sprint("wptest_autoload_", i), strings.Repeat("x", 1000), autoload)
		require.NoError(t, err)
	}
	size, n, err := db.AutoloadSize(ctx)
	require.NoError(t, err)
	assert.Equal(t, size0+4000, size)
	assert.Equal(t, n0+4, n)

	v, err := db.ServerVersion(ctx)
	require.NoError(t, err)
	assert.Regexp(t, `^MariaDB \d+\.\d+$`, wp.ServerName(v), v)

	plugin := st.AddPlugin(t, wptest.Plugin{Slug: "wptest-counted"})
	st.ActivatePlugins(t, plugin)
	active, err := db.ActivePlugins(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{plugin}, active)

	st.RunWordPress(t, `wp_schedule_single_event( time() + 3600, 'wptest_dup', array( 7 ) );
wp_schedule_single_event( time() + 7200, 'wptest_dup', array( 7 ) );`)
	events, err := db.CronEvents(ctx)
	require.NoError(t, err)
	var dup []wp.CronEvent
	for _, e := range events {
		if e.Hook == "wptest_dup" {
			dup = append(dup, e)
		}
	}
	require.Len(t, dup, 2)
	assert.Equal(t, dup[0].Key, dup[1].Key, "the same arguments, the same key")
	assert.Less(t, dup[0].Time, dup[1].Time)
}
