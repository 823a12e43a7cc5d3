package conf

import (
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"

	"github.com/wpfix/wpfix/wp/php"
)

// KindPHP is the kind of PHP's own error_log (php.ini, a pool's
// php_value[error_log], a .user.ini).
const KindPHP = "php"

// INIFile is a file in PHP's INI format as read: its entries, in order.
type INIFile struct {
	Name    string
	Entries []php.INIEntry
}

// ReadINI reads ini files in the order PHP reads them. A file that is not
// there is left out, as PHP leaves it; one that is there but cannot be
// read is left out with a warning.
func ReadINI(files *Files, names []string) ([]INIFile, []Warning) {
	var out []INIFile
	var warnings []Warning
	for _, n := range names {
		b, err := files.ReadFile(n)
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				warnings = append(warnings, Warning{File: n, Message: "could not be read: " + Reason(err)})
			}
			continue
		}
		out = append(out, INIFile{Name: n, Entries: php.ParseINI(b)})
	}
	return out, warnings
}

// INISettings returns the setting in effect of each of keys after the
// ini files in order: the last one. [PATH=…] and [HOST=…] sections, which
// apply to some scripts only, are left out.
func INISettings(inis []INIFile, keys []string) map[string]Setting {
	out := map[string]Setting{}
	for _, ini := range inis {
		for _, e := range ini.Entries {
			u := strings.ToUpper(e.Section)
			if !slices.Contains(keys, e.Key) || strings.HasPrefix(u, "PATH=") || strings.HasPrefix(u, "HOST=") {
				continue
			}
			out[e.Key] = Setting{Value: e.Value, File: ini.Name, Line: e.Line}
		}
	}
	return out
}

// INILog returns the error_log in effect after the ini files, relative to
// docroot, PHP's working directory for the site's scripts. ok is false
// when none is set, it is empty or it goes to syslog.
func INILog(inis []INIFile, docroot string) (LogFile, bool) {
	r, ok := INISettings(inis, []string{"error_log"})["error_log"]
	if !ok {
		return LogFile{}, false
	}
	return LogFile{Path: Resolve(docroot, r.Value), Kind: KindPHP,
		Source: fmt.Sprintf("error_log in %s line %d", r.File, r.Line)}, r.Value != "" && !IsSyslog(r.Value)
}
