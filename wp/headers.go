package wp

import (
	"regexp"
	"strings"
	"sync"
)

// headerBytes is how much of a file WordPress reads for its headers.
const headerBytes = 8 << 10

var (
	headerMu sync.Mutex
	headerRE = map[string]*regexp.Regexp{}
	// cleanupRE is _cleanup_header_comment: a value ends where a comment
	// closes or PHP ends.
	cleanupRE = regexp.MustCompile(`[ \t\n\v\f\r]*(?:\*/|\?>).*`)
)

func headerPattern(name string) *regexp.Regexp {
	headerMu.Lock()
	defer headerMu.Unlock()
	re, ok := headerRE[name]
	if !ok {
		re = regexp.MustCompile(`(?mi)^(?:[ \t]*<\?php)?[ \t/*#@]*` + regexp.QuoteMeta(name) + `:(.*)$`)
		headerRE[name] = re
	}
	return re
}

// ParseHeaders reads named headers ("Plugin Name", "Version", "Template"
// …) from the start of a plugin or theme file the way WordPress's
// get_file_data does: only the first 8 KiB count, a header is the first
// line that names it after optional comment characters, and its value ends
// at a closing comment or "?>". A missing header is "".
func ParseHeaders(data []byte, names ...string) map[string]string {
	if len(data) > headerBytes {
		data = data[:headerBytes]
	}
	text := strings.ReplaceAll(string(data), "\r", "\n")
	out := make(map[string]string, len(names))
	for _, n := range names {
		m := headerPattern(n).FindStringSubmatch(text)
		// PHP tests the match for truth: "" and "0" count as no header.
		if m == nil || m[1] == "" || m[1] == "0" {
			out[n] = ""
			continue
		}
		out[n] = strings.Trim(cleanupRE.ReplaceAllString(m[1], ""), " \t\n\r\x00\x0b")
	}
	return out
}
