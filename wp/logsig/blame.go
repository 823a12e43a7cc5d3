package logsig

import (
	"strings"

	"github.com/wpfix/wpfix/wp"
)

type anchorKind uint8

const (
	anchorContent anchorKind = iota // what follows is relative to wp-content
	anchorPlugins
	anchorMUPlugins
	anchorThemes
)

// anchor is a string after which a path names an extension: "/wp-content/",
// "('/" (WordPress's backtrace summaries name files relative to
// wp-content), and relocated folders.
type anchor struct {
	s    string
	kind anchorKind
}

// pathEnd holds the bytes that end a file or folder name in a log line.
var pathEnd = func() (t [256]bool) {
	for _, c := range []byte("/ \t\r\n'\"()[]{}<>:;,|`\\?#&=*") {
		t[c] = true
	}
	return t
}()

// referrerMarks start the referrer nginx and Apache append to a line: a
// page the client names, not what the server ran, so no path after one is
// blamed.
var referrerMarks = []string{", referrer: \"", ", referer: "}

// blame returns the extension of the leftmost extension path in line, left
// of any referrer.
func (c *Classifier) blame(line string) (wp.Extension, bool) {
	e, at := c.firstExtension(line)
	for _, mark := range referrerMarks {
		if at < 0 {
			break
		}
		if r := strings.Index(line, mark); r >= 0 && at >= r {
			line = line[:r]
			e, at = c.firstExtension(line)
		}
	}
	return e, at >= 0
}

// firstExtension returns the extension of the leftmost extension path in
// line and where it starts, -1 if there is none.
func (c *Classifier) firstExtension(line string) (wp.Extension, int) {
	best, found := -1, wp.Extension{}
	for _, a := range c.anchors {
		from := 0
		for {
			i := strings.Index(line[from:], a.s)
			if i < 0 {
				break
			}
			i += from
			if best >= 0 && i >= best {
				break
			}
			if e, ok := resolvePath(a.kind, line[i+len(a.s):]); ok {
				best, found = i, e
				break
			}
			from = i + 1
		}
	}
	return found, best
}

// resolvePath names the extension that rest, a path relative to the folder
// the anchor kind names, belongs to.
func resolvePath(kind anchorKind, rest string) (wp.Extension, bool) {
	if kind == anchorContent {
		switch {
		case strings.HasPrefix(rest, "plugins/"):
			kind, rest = anchorPlugins, rest[len("plugins/"):]
		case strings.HasPrefix(rest, "mu-plugins/"):
			kind, rest = anchorMUPlugins, rest[len("mu-plugins/"):]
		case strings.HasPrefix(rest, "themes/"):
			kind, rest = anchorThemes, rest[len("themes/"):]
		}
	}
	j := 0
	for j < len(rest) && !pathEnd[rest[j]] {
		j++
	}
	name := rest[:j]
	folder := j < len(rest) && rest[j] == '/'
	if name == "" || name == "." || name == ".." {
		return wp.Extension{}, false
	}
	phpFile := !folder && len(name) > len(".php") && strings.HasSuffix(name, ".php")
	switch kind {
	case anchorPlugins:
		if folder || phpFile {
			return wp.Extension{Kind: wp.KindPlugin, Name: name}, true
		}
	case anchorMUPlugins:
		if folder || phpFile {
			return wp.Extension{Kind: wp.KindMUPlugin, Name: name}, true
		}
	case anchorThemes:
		if folder {
			return wp.Extension{Kind: wp.KindTheme, Name: name}, true
		}
	case anchorContent:
		if phpFile && wp.IsDropin(name) {
			return wp.Extension{Kind: wp.KindDropin, Name: name}, true
		}
	}
	return wp.Extension{}, false
}
