package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// flagLine is a flag's line in --help: "  -i, --identity FILE   SSH …".
var flagLine = regexp.MustCompile(`^\s+(-\w, )?--\S+.*\S {2,}\S`)

// renderMan renders a man page as plain text with groff, one paragraph a
// line (a line length no text reaches), and returns it with the warnings
// groff printed (-ww: all of them).
func renderMan(t *testing.T, groff, page string) (text, warnings string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(groff, "-man", "-Tutf8", "-ww", "-rLL=2000n", "-P-cbou", page)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), "groff %s: %s", page, stderr.String())
	return stdout.String(), stderr.String()
}

// words is s with every run of blanks one space and the dashes groff
// prints for \- and - made ASCII, so that text filled into lines of
// another length compares equal.
func words(s string) string {
	s = strings.NewReplacer("\u2010", "-", "\u2212", "-", "\u2011", "-").Replace(s)
	return strings.Join(strings.Fields(s), " ")
}

func TestManPages(t *testing.T) {
	groff := requireProgram(t, "groff")
	dir := t.TempDir()
	r := runWpfix(t, wpfixBin, "__man", dir)
	require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
	assert.Empty(t, r.stdout)

	root := newRootCommand()
	cmds := manCommands(root)
	var want []string
	for _, c := range cmds {
		want = append(want, manPageName(c)+".1")
	}
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	assert.ElementsMatch(t, want, got, "one page per command, none for hidden ones")
	assert.Contains(t, got, "wpfix.1")
	assert.Contains(t, got, "wpfix-bisect.1")
	assert.NotContains(t, got, "wpfix-__man.1")

	for _, c := range cmds {
		name := manPageName(c)
		t.Run(name, func(t *testing.T) {
			page := filepath.Join(dir, name+".1")
			text, warnings := renderMan(t, groff, page)
			assert.Empty(t, warnings, "groff -ww warns")
			flat := words(text)

			assert.Contains(t, flat, "NAME "+name+" - "+words(c.Short))
			if c.Runnable() {
				assert.Contains(t, flat, "SYNOPSIS "+words(c.UseLine()), "the usage line")
			} else {
				assert.Contains(t, flat, "SYNOPSIS "+c.CommandPath()+" [command]")
			}
			if c.Long != "" {
				assert.Contains(t, flat, words(c.Long), "the Long text, word for word")
			}
			if c.Example != "" {
				assert.Contains(t, flat, "EXAMPLES "+words(c.Example))
			}
			// every flag line of --help, both columns
			args := append(strings.Fields(c.CommandPath())[1:], "--help")
			help := runWpfix(t, wpfixBin, args...)
			require.Equal(t, 0, help.code)
			n := 0
			for _, line := range strings.Split(help.stdout, "\n") {
				if !flagLine.MatchString(line) {
					continue
				}
				names, usage, _ := strings.Cut(strings.TrimSpace(line), "  ")
				assert.Contains(t, flat, words(names)+" "+words(usage), "the flag of --help: %q", line)
				n++
			}
			assert.Positive(t, n, "--help lists flags")
			if c.HasParent() {
				assert.Contains(t, flat, "SEE ALSO "+manPageName(c.Parent())+"(1)")
			}
		})
	}

	// the root's page lists the commands and the exit codes
	text, _ := renderMan(t, groff, filepath.Join(dir, "wpfix.1"))
	flat := words(text)
	for _, c := range root.Commands() {
		if c.IsAvailableCommand() {
			assert.Contains(t, flat, manPageName(c)+"(1) "+words(c.Short))
		}
	}
	for _, e := range exitStatuses {
		assert.Contains(t, flat, fmt.Sprintf("%d %s", e.code, words(e.meaning)))
	}
	assert.Contains(t, flat, "EXIT STATUS 0 The site is healthy")
}

// TestManPagesWithMan reads each page with man-db's man, as a user would
// (man -l), with its warnings on.
func TestManPagesWithMan(t *testing.T) {
	man := requireProgram(t, "man")
	dir := t.TempDir()
	require.NoError(t, writeManPages(newRootCommand(), dir, "test"))
	pages, err := filepath.Glob(filepath.Join(dir, "*.1"))
	require.NoError(t, err)
	require.NotEmpty(t, pages)
	for _, page := range pages {
		var stdout, stderr bytes.Buffer
		cmd := exec.Command(man, "--warnings", "-E", "UTF-8", "-l", page)
		cmd.Env = append(os.Environ(), "MANPAGER=cat", "PAGER=cat", "MANWIDTH=80")
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		require.NoError(t, cmd.Run(), "man -l %s: %s", page, stderr.String())
		assert.Empty(t, stderr.String(), "man --warnings -l %s", page)
		assert.Contains(t, stdout.String(), "NAME")
		assert.Contains(t, stdout.String(), "test")
	}
}

// TestRoffText checks that text roff would read as requests, escapes or
// characters it has no glyph for comes out of groff as written.
func TestRoffText(t *testing.T) {
	groff := requireProgram(t, "groff")
	tests := []struct {
		name, text string
	}{
		{"a leading dot", ".SH not a section\nand a line"},
		{"a leading quote", "'br is text"},
		{"backslashes", `C:\new \fB not bold \\ two`},
		{"dashes", "--flag -x a-b"},
		{"non-ASCII", "post sizes … and \u00e9t\u00e9"},
		{"an indented block keeps its dot", "intro:\n\n  .hidden\n  - item\n    continued\n\nafter"},
		{"a tab", "a\tb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var page bytes.Buffer
			c := &cobra.Command{Use: "x", Short: "s", Long: tt.text, Run: func(*cobra.Command, []string) {}}
			require.NoError(t, writeManPage(&page, c, "v"))
			file := filepath.Join(t.TempDir(), "x.1")
			require.NoError(t, os.WriteFile(file, page.Bytes(), 0o644))
			text, warnings := renderMan(t, groff, file)
			assert.Empty(t, warnings)
			assert.Contains(t, words(text), "DESCRIPTION "+words(tt.text)+" ", "page:\n%s", page.String())
		})
	}
}
