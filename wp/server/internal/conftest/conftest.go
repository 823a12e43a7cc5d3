// Package conftest holds what the tests of the web stack's config readers
// share: a file system that serves the fuzzer's input as every file, the
// seeding of fuzzers from the config trees under wp/server/testdata, the
// checks that hold for any list of logs, and the table checks of each
// reader's ParseCmd and ParseDuration. It is for tests only.
package conftest

import (
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/wpfix/wpfix/wp/server/conf"
)

// FuzzFS serves Data as every file, and every name ending in "dir" as a
// folder holding "a.conf" and "dir", so includes recurse as far as the
// readers' limits let them. Reads counts the files read.
type FuzzFS struct {
	Data  []byte
	Reads *int
}

// Open opens name: a folder or Data.
func (f FuzzFS) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	if name == "." || strings.HasSuffix(name, "dir") {
		m := fstest.MapFS{"a.conf": {Data: f.Data}, "dir": {Mode: fs.ModeDir}}
		return m.Open(".")
	}
	*f.Reads++
	m := fstest.MapFS{"f": {Data: f.Data, ModTime: time.Time{}}}
	return m.Open("f")
}

// Files reads data as every file.
func Files(data []byte, reads *int) *conf.Files {
	return conf.NewFiles(FuzzFS{Data: data, Reads: reads})
}

// Tree reads a config tree under wp/server/testdata (dir, from the test's
// package folder) as the host's "/".
func Tree(t testing.TB, dir string) *conf.Files {
	t.Helper()
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	return conf.NewFiles(os.DirFS(abs))
}

// Seed adds every file under dir whose path matches.
func Seed(f *testing.F, dir string, match func(name string) bool) {
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && match(p) {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			f.Add(b)
		}
		return err
	})
	if err != nil {
		f.Fatal(err)
	}
}

// CheckLogs checks what a config reader returns for any input: a bounded
// number of reads, clean absolute paths, a kind and a source for each.
func CheckLogs(t testing.TB, logs []conf.LogFile, reads int) {
	t.Helper()
	if reads > conf.MaxFiles+16 {
		t.Fatalf("read %d files", reads)
	}
	for _, l := range logs {
		if !path.IsAbs(l.Path) || path.Clean(l.Path) != l.Path {
			t.Fatalf("log path %q is not clean and absolute", l.Path)
		}
		if l.Source == "" || l.Kind == "" {
			t.Fatalf("log %+v without kind or source", l)
		}
	}
}

// A CmdCase is a process's command line and what a reader's ParseCmd makes
// of it: the Cmd, and whether it is that server's master at all.
type CmdCase[C any] struct {
	Name string
	Args []string
	Want C
	OK   bool
}

// CheckParseCmd checks parse, a reader's ParseCmd, against each case, one
// subtest a case.
func CheckParseCmd[C any](t *testing.T, parse func(args []string) (C, bool), cases []CmdCase[C]) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			got, ok := parse(c.Args)
			assert.Equal(t, c.OK, ok)
			assert.Equal(t, c.Want, got)
		})
	}
}

// CheckDurations checks parse, a reader's ParseDuration, against the
// durations it must read (valid) and the errors, as errors.Is sees them, it
// must give for what the server refuses (invalid).
func CheckDurations(t *testing.T, parse func(string) (time.Duration, error), valid map[string]time.Duration, invalid map[string]error) {
	t.Helper()
	for in, want := range valid {
		got, err := parse(in)
		if assert.NoError(t, err, in) {
			assert.Equal(t, want, got, in)
		}
	}
	for in, want := range invalid {
		_, err := parse(in)
		assert.ErrorIs(t, err, want, in)
	}
}
