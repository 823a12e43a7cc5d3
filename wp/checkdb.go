package wp

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/wpfix/wpfix/wp/php"
)

// AutoloadValues are the values of the options table's autoload column
// that WordPress loads on every request: "yes" before 6.6, "on", "auto-on"
// and "auto" since (wp_autoload_values_to_autoload).
var AutoloadValues = []string{"yes", "on", "auto-on", "auto"}

// AutoloadSize is the size in bytes of the options WordPress loads on every
// request (AutoloadValues), and how many there are, as WP-CLI doctor's
// autoload-options-size counts them.
func (d *DB) AutoloadSize(ctx context.Context) (size int64, count int, err error) {
	marks := strings.TrimSuffix(strings.Repeat("?,", len(AutoloadValues)), ",")
	rows, err := d.q.query(ctx, "SELECT COALESCE(SUM(LENGTH(option_value)), 0), COUNT(*) FROM `"+d.prefix+
		"options` WHERE autoload IN ("+marks+")", AutoloadValues...)
	if err != nil {
		return 0, 0, fmt.Errorf("read the size of the autoloaded options: %w", err)
	}
	if len(rows) != 1 || len(rows[0]) != 2 {
		return 0, 0, fmt.Errorf("read the size of the autoloaded options: %d rows", len(rows))
	}
	if size, err = strconv.ParseInt(rows[0][0], 10, 64); err != nil {
		return 0, 0, fmt.Errorf("read the size of the autoloaded options: %w", err)
	}
	if count, err = strconv.Atoi(rows[0][1]); err != nil {
		return 0, 0, fmt.Errorf("read the number of autoloaded options: %w", err)
	}
	return size, count, nil
}

// ServerVersion is what the database server says it is (SELECT VERSION()),
// such as "10.11.6-MariaDB-0+deb12u1" or "8.0.36".
func (d *DB) ServerVersion(ctx context.Context) (string, error) {
	rows, err := d.q.query(ctx, "SELECT VERSION()")
	if err != nil {
		return "", fmt.Errorf("read the database server's version: %w", err)
	}
	if len(rows) != 1 || len(rows[0]) != 1 {
		return "", fmt.Errorf("read the database server's version: %d rows", len(rows))
	}
	return rows[0][0], nil
}

// ServerName shortens a ServerVersion to product and major.minor:
// "MariaDB 10.11", "MySQL 8.0".
func ServerName(version string) string {
	product := "MySQL"
	if strings.Contains(strings.ToLower(version), "mariadb") {
		product = "MariaDB"
		// MariaDB 10 before 11 answered "5.5.5-10.x.y-MariaDB" to old clients.
		version = strings.TrimPrefix(version, "5.5.5-")
	}
	num, _, _ := strings.Cut(version, "-")
	parts := strings.SplitN(num, ".", 3)
	if len(parts) >= 2 {
		num = parts[0] + "." + parts[1]
	}
	if num == "" {
		return product
	}
	return product + " " + num
}

// ActivePlugins is the active_plugins option: the plugin files active on
// this site ("folder/file.php" or "file.php").
func (d *DB) ActivePlugins(ctx context.Context) ([]string, error) {
	raw, _, err := d.Option(ctx, "active_plugins")
	if err != nil {
		return nil, err
	}
	return stringListOption("active_plugins", raw)
}

// CronEvent is one scheduled event of WordPress's cron option.
type CronEvent struct {
	// Time is when it is due, in Unix seconds.
	Time int64
	// Hook is the action it runs; Key the MD5 of its serialized arguments,
	// which, with Hook, tells one event from another.
	Hook, Key string
	// Schedule is a recurring event's ("hourly", "daily" …), "" for a
	// single event.
	Schedule string
}

// CronEvents reads the cron option (absent: no events).
func (d *DB) CronEvents(ctx context.Context) ([]CronEvent, error) {
	raw, ok, err := d.Option(ctx, "cron")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, nil
	}
	return ParseCron(raw)
}

// ParseCron reads the cron option as WordPress stores it: timestamp =>
// hook => md5(serialize(args)) => {schedule, args, interval}, plus its
// "version" entry. Entries that are not so are skipped, as WordPress's
// _get_cron_array skips them.
func ParseCron(raw string) ([]CronEvent, error) {
	if raw == "" {
		return nil, nil
	}
	v, err := php.Unserialize([]byte(raw))
	if err != nil {
		return nil, fmt.Errorf("option cron: %w", err)
	}
	if v.Kind() != php.KindArray {
		return nil, fmt.Errorf("option cron: want an array, have %v", v.Kind())
	}
	var out []CronEvent
	for _, at := range v.Entries() {
		ts, isInt := at.Key.Int()
		if !isInt || at.Value.Kind() != php.KindArray {
			continue // "version"
		}
		for _, hook := range at.Value.Entries() {
			if hook.Value.Kind() != php.KindArray {
				continue
			}
			for _, ev := range hook.Value.Entries() {
				e := CronEvent{Time: ts, Hook: hook.Key.String(), Key: ev.Key.String()}
				if s, ok := ev.Value.Get(php.StringKey("schedule")); ok {
					e.Schedule, _ = s.AsString()
				}
				out = append(out, e)
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time < out[j].Time })
	return out, nil
}
