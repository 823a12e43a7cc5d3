package agent

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/wpfix/wpfix/wp"
	"github.com/wpfix/wpfix/wp/logsig"
	"github.com/wpfix/wpfix/wp/server"
)

// LogsOptions say which lines of which logs to show.
type LogsOptions struct {
	// Lines is how many of the last lines of each log (default 50).
	Lines int
	// Since drops lines older than this; 0 keeps all.
	Since time.Duration
	// Files are more logs to read (--log), besides the ones found.
	Files []string
	// Signatures are TOML fragments adding log signatures.
	Signatures [][]byte
	// Now is the clock, for tests; zero means time.Now.
	Now time.Time
	// All keeps the logs of servers that do not serve this site too
	// (other sites' vhosts and pools on the same machine).
	All bool
	// Stack is the host's web stack already read (ReadStack); nil reads it.
	Stack *server.Stack
}

// LogSection is what one log holds.
type LogSection struct {
	File  server.LogFile `json:"file"`
	Lines []logsig.Line  `json:"lines"`
	// Error says why the log could not be read; its lines are then empty.
	Error string `json:"error,omitempty"`
}

// LogsReport is the result of wpfix logs.
type LogsReport struct {
	Target string       `json:"target"`
	Logs   []LogSection `json:"logs"`
	// Blames counts, over every log, the extensions the classified lines
	// point at, most blamed first.
	Blames []Blame `json:"blames,omitempty"`
}

// Blame is an extension and how many classified lines point at it.
type Blame struct {
	wp.Extension
	Lines int `json:"lines"`
}

// maxTailWindow bounds how far from its end a log is read: a 2 GB log costs
// no more than a small one.
const maxTailWindow = 8 << 20

// Logs finds the site's logs and reads the end of each, classified.
func Logs(ctx context.Context, s *Site, o LogsOptions) (*LogsReport, error) {
	if o.Lines <= 0 {
		o.Lines = 50
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	cl, err := classifier(s, o.Signatures)
	if err != nil {
		return nil, err
	}
	files, err := logFiles(ctx, s, o.Stack, o.Files, o.All)
	if err != nil {
		return nil, err
	}
	rep := &LogsReport{Target: s.Target.String()}
	blames := map[wp.Extension]int{}
	// The tails are read side by side (over SSH each is a few round
	// trips), then classified in the files' order.
	tails := make([][]string, len(files))
	errs := make([]error, len(files))
	var wg sync.WaitGroup
	for i, f := range files {
		wg.Go(func() { tails[i], errs[i] = tailLines(ctx, s, f.Path, o.Lines) })
	}
	wg.Wait()
	for i, f := range files {
		sec := LogSection{File: f}
		lines, err := tails[i], errs[i]
		if err != nil {
			sec.Error = err.Error()
		}
		var classified []logsig.Line
		var last time.Time
		for _, l := range lines {
			c := cl.Classify(l)
			if c.Time.IsZero() {
				c.Time = last // a continuation, such as a stack trace line
			} else {
				last = c.Time
			}
			if o.Since > 0 && !c.Time.IsZero() && c.Time.Before(o.Now.Add(-o.Since)) {
				continue
			}
			classified = append(classified, c)
		}
		sec.Lines = logsig.Fold(classified)
		for _, l := range sec.Lines {
			if l.Blames != nil && l.Signature != "" {
				blames[*l.Blames] += max(l.Count, 1)
			}
		}
		rep.Logs = append(rep.Logs, sec)
	}
	for e, n := range blames {
		rep.Blames = append(rep.Blames, Blame{Extension: e, Lines: n})
	}
	sort.Slice(rep.Blames, func(i, j int) bool {
		if rep.Blames[i].Lines != rep.Blames[j].Lines {
			return rep.Blames[i].Lines > rep.Blames[j].Lines
		}
		return rep.Blames[i].String() < rep.Blames[j].String()
	})
	return rep, nil
}

// classifier is the signature table plus the user's fragments, aware of
// the site's folders (which may be relocated).
func classifier(s *Site, signatures [][]byte) (*logsig.Classifier, error) {
	cl, err := logsig.NewClassifier(signatures...)
	if err != nil {
		return nil, badInput(err)
	}
	if s.WP != nil {
		cl = cl.WithDirs(s.WP.PluginDir, s.WP.MUPluginDir, s.WP.ThemeDir, s.WP.ContentDir)
	}
	return cl, nil
}

// logFiles is what the stack's site view finds (read now when st is nil)
// plus the extra files named, each once: only the logs known to serve this
// site, unless all, or unless none is known to (a server whose config
// wpfix could not match to the site).
func logFiles(ctx context.Context, s *Site, st *server.Stack, extra []string, all bool) ([]server.LogFile, error) {
	var err error
	if st == nil {
		if st, err = ReadStack(ctx, s); err != nil {
			return nil, err
		}
	}
	list := st.ServedLogs
	if all {
		list = st.SiteLogs
	}
	found, warnings, err := list(ctx, siteOf(s))
	if err != nil {
		return nil, err
	}
	logWarnings(s, "site log", warnings)
	for _, p := range extra {
		if slices.ContainsFunc(found, func(f server.LogFile) bool { return f.Path == p }) {
			continue
		}
		fi, err := s.Host.Stat(ctx, p)
		if err != nil {
			return nil, badInput(fmt.Errorf("--log %s: %w", p, err))
		}
		found = append(found, server.LogFile{Path: p, Kind: "given", Source: "--log", Size: fi.Size()})
	}
	return found, nil
}

// tailLines returns the last n lines of a log, read from its end: the
// window doubles until it holds n lines, the start of the file, or
// maxTailWindow bytes.
func tailLines(ctx context.Context, s *Site, path string, n int) ([]string, error) {
	window := int64(64 << 10)
	for {
		tail, size, err := s.Host.ReadTail(ctx, path, window)
		if err != nil {
			return nil, err
		}
		whole := int64(len(tail)) >= size
		body := bytes.TrimRight(tail, "\n")
		lines := strings.Split(string(body), "\n")
		if !whole {
			lines = lines[1:] // the first is cut off by the window
		}
		if len(lines) >= n || whole || window >= maxTailWindow {
			if len(body) == 0 {
				return nil, nil
			}
			return lines[max(len(lines)-n, 0):], nil
		}
		window *= 4
	}
}

// Follow prints new lines of the logs as they come, classified, until ctx
// ends. It follows a log across truncation and rotation: a log that
// shrinks is read again from its start. A log that was no symlink when the
// following began and is one now is dropped with a warning: the site's
// user may swap its debug.log for a link to a file only root may read
// while a root run follows it (SiteLogs refused such a link at the start).
func Follow(ctx context.Context, s *Site, files []server.LogFile, signatures [][]byte, every time.Duration,
	emit func(server.LogFile, logsig.Line)) error {
	cl, err := classifier(s, signatures)
	if err != nil {
		return err
	}
	offset := map[string]int64{}
	partial := map[string]string{}
	wasLink := map[string]bool{}
	for _, f := range files {
		if fi, err := s.Host.Stat(ctx, f.Path); err == nil {
			offset[f.Path] = fi.Size()
		}
		if fi, err := s.Host.Lstat(ctx, f.Path); err == nil {
			wasLink[f.Path] = fi.Mode()&fs.ModeSymlink != 0
		}
	}
	log := s.logger()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		for i := 0; i < len(files); i++ {
			f := files[i]
			if fi, err := s.Host.Lstat(ctx, f.Path); err == nil && fi.Mode()&fs.ModeSymlink != 0 && !wasLink[f.Path] {
				log.Warn("site log", "file", f.Path, "problem", "it became a symlink while followed; wpfix stops following it")
				files = slices.Delete(slices.Clone(files), i, i+1)
				i--
				continue
			}
			chunk, err := newBytes(ctx, s, f.Path, offset, partial)
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return err
			}
			if len(chunk) == 0 {
				continue
			}
			lines := strings.Split(partial[f.Path]+string(chunk), "\n")
			partial[f.Path] = lines[len(lines)-1] // an unfinished line waits for its end
			for _, l := range lines[:len(lines)-1] {
				emit(f, cl.Classify(l))
			}
		}
	}
}

// newBytes reads what a log gained since offset[path], stat first so that
// only new bytes cross the connection. A log that shrank was truncated or
// rotated: it is read again from its start. A log that is gone for now
// (rotated away) starts again at 0 when it comes back.
func newBytes(ctx context.Context, s *Site, path string, offset map[string]int64, partial map[string]string) ([]byte, error) {
	fi, err := s.Host.Stat(ctx, path)
	if errors.Is(err, fs.ErrNotExist) {
		offset[path], partial[path] = 0, ""
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	off := offset[path]
	if fi.Size() < off {
		off, partial[path] = 0, ""
	}
	want := fi.Size() - off
	for try := 0; want > 0 && try < 3; try++ {
		tail, size, err := s.Host.ReadTail(ctx, path, min(want, maxTailWindow))
		if err != nil {
			return nil, err
		}
		if size < off { // truncated between the stat and the read
			off, partial[path] = 0, ""
		}
		grown := size - off
		if grown <= int64(len(tail)) || grown > maxTailWindow {
			offset[path] = size
			return tail[max(int64(len(tail))-grown, 0):], nil
		}
		want = grown // it grew while we read: read the whole gain
	}
	return nil, nil
}

// LogHints reads the end of the site's logs and returns the extensions the
// recent classified lines blame, most blamed first: bisect tries them
// before searching.
func LogHints(ctx context.Context, s *Site, since time.Duration, signatures [][]byte) []wp.Extension {
	rep, err := Logs(ctx, s, LogsOptions{Lines: 500, Since: since, Signatures: signatures})
	if err != nil {
		return nil
	}
	var hints []wp.Extension
	for _, b := range rep.Blames {
		hints = append(hints, b.Extension)
	}
	return hints
}
