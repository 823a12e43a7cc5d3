package conf

import (
	"errors"
	"io/fs"
	"path"
	"sort"
	"strings"
	"sync"
)

// Limits on reading a server's config and the files it includes.
const (
	// MaxFiles bounds the files read for one server.
	MaxFiles = 256
	// MaxIncludeDepth bounds includes within includes.
	MaxIncludeDepth = 16
	// MaxBytes bounds what is read of one config file.
	MaxBytes = 4 << 20
	// maxGlob bounds the matches of one pattern.
	maxGlob = 1000
)

// headReader is a file system that can read the start of a file without
// reading the rest, as remote.FS can over SSH (remote.HeadFS): a config
// file is read only up to MaxBytes, however large it is.
type headReader interface {
	ReadHead(name string, n int64) ([]byte, error)
}

// Files reads config files by their absolute paths on the host through an
// io/fs view of it (remote.FS, or an fstest.MapFS or os.DirFS standing in
// for the host's /). Each file is read once: a file read again, by another
// include or another server's reader, is served from memory, so one look
// at a host reads each config once. Files is safe for concurrent use.
type Files struct {
	fsys  fs.FS
	mu    sync.Mutex
	cache map[string]readResult
}

type readResult struct {
	data []byte
	err  error
}

// NewFiles reads through fsys, whose root is the host's "/".
func NewFiles(fsys fs.FS) *Files {
	return &Files{fsys: fsys, cache: map[string]readResult{}}
}

// name turns an absolute host path into an fs name.
func name(p string) string {
	p = strings.TrimPrefix(path.Clean(p), "/")
	if p == "" {
		return "."
	}
	return p
}

// ReadFile returns a file's content, at most MaxBytes of it.
func (f *Files) ReadFile(p string) ([]byte, error) {
	p = path.Clean(p)
	f.mu.Lock()
	r, ok := f.cache[p]
	f.mu.Unlock()
	if ok {
		return r.data, r.err
	}
	if !path.IsAbs(p) {
		r.err = &fs.PathError{Op: "read", Path: p, Err: fs.ErrInvalid}
	} else if h, ok := f.fsys.(headReader); ok {
		r.data, r.err = h.ReadHead(name(p), MaxBytes)
	} else {
		r.data, r.err = fs.ReadFile(f.fsys, name(p))
		if len(r.data) > MaxBytes {
			r.data = r.data[:MaxBytes]
		}
	}
	f.mu.Lock()
	f.cache[p] = r
	f.mu.Unlock()
	return r.data, r.err
}

// IsDir reports whether p is a directory (following symlinks).
func (f *Files) IsDir(p string) bool {
	fi, err := fs.Stat(f.fsys, name(p))
	return err == nil && fi.IsDir()
}

// Glob returns the paths matching an absolute shell pattern, sorted,
// leaving out names that start with a dot unless the pattern's component
// does (as glob(3) does for nginx, Apache and php-fpm). It lists a
// directory only where a component has a wildcard; a pattern without one
// returns itself when it exists. A bad pattern matches nothing.
func (f *Files) Glob(pattern string) []string {
	if !path.IsAbs(pattern) {
		return nil
	}
	if !HasMeta(pattern) {
		if _, err := fs.Stat(f.fsys, name(pattern)); err != nil {
			return nil
		}
		return []string{path.Clean(pattern)}
	}
	paths := []string{"/"}
	comps := strings.Split(strings.Trim(path.Clean(pattern), "/"), "/")
	for _, comp := range comps {
		var next []string
		for _, dir := range paths {
			if !HasMeta(comp) {
				next = append(next, path.Join(dir, comp))
				continue
			}
			list, err := fs.ReadDir(f.fsys, name(dir))
			if err != nil {
				continue
			}
			for _, e := range list {
				if strings.HasPrefix(e.Name(), ".") && !strings.HasPrefix(comp, ".") {
					continue
				}
				if ok, err := path.Match(comp, e.Name()); ok && err == nil && len(next) < maxGlob {
					next = append(next, path.Join(dir, e.Name()))
				}
			}
		}
		paths = next
	}
	out := paths
	if !HasMeta(comps[len(comps)-1]) {
		// the last names were joined, not listed: keep those that exist
		out = nil
		for _, p := range paths {
			if _, err := fs.Stat(f.fsys, name(p)); err == nil {
				out = append(out, p)
			}
		}
	}
	sort.Strings(out)
	return out
}

// Reason is why a read failed, without the layers of wrapping that repeat
// the path: "no such file or directory", "permission denied".
func Reason(err error) string {
	for {
		var pe *fs.PathError
		if errors.As(err, &pe) && pe.Err != nil {
			err = pe.Err
			continue
		}
		if u := errors.Unwrap(err); u != nil {
			err = u
			continue
		}
		return err.Error()
	}
}
