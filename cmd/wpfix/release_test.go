package main

import (
	"bytes"
	"debug/elf"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMakeRelease runs make release in a clean clone of this checkout's
// HEAD and checks what it ships: a static, stripped binary for linux/amd64
// and linux/arm64, named with git describe, SHA256SUMS that verify them, and
// a version command that names the commit. Then make build in an export of
// the same commit with no git history (a tarball) names the commit given.
func TestMakeRelease(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: make release cross-builds wpfix twice from a fresh clone, a minute or two on 2 cores")
	}
	for _, tool := range []string{"git", "make", "sha256sum", "tar"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("make release needs %s, not found: %v", tool, err)
		}
	}
	top, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		t.Skipf("not in a git checkout (a tarball?): make release names its binaries from git: %v", err)
	}
	if status := git(t, "", "status", "--porcelain", "--untracked-files=no"); status != "" {
		t.Logf("uncommitted changes are not part of this test, which builds a clone of HEAD:\n%s", status)
	}

	clone := filepath.Join(t.TempDir(), "wpfix")
	git(t, "", "clone", "--quiet", "--no-checkout", strings.TrimSpace(string(top)), clone)
	head := git(t, "", "rev-parse", "HEAD")
	git(t, clone, "checkout", "--quiet", "--detach", head)
	version := git(t, clone, "describe", "--tags", "--always", "--dirty")
	require.NotContains(t, version, "dirty", "a fresh clone has no changes")

	runMake(t, clone, "release")
	dist := filepath.Join(clone, "dist")
	bins := map[string]string{} // GOARCH → binary
	for _, arch := range []string{"amd64", "arm64"} {
		bins[arch] = filepath.Join(dist, "wpfix-"+version+"-linux-"+arch)
		require.FileExists(t, bins[arch])
	}

	t.Run("SHA256SUMS", func(t *testing.T) {
		sums, err := os.ReadFile(filepath.Join(dist, "SHA256SUMS"))
		require.NoError(t, err)
		var listed []string
		for _, line := range strings.Split(strings.TrimSpace(string(sums)), "\n") {
			require.Regexp(t, `^[0-9a-f]{64}  wpfix-\S+$`, line)
			listed = append(listed, strings.Fields(line)[1])
		}
		sort.Strings(listed)
		assert.Equal(t, []string{filepath.Base(bins["amd64"]), filepath.Base(bins["arm64"])}, listed)
		cmd := exec.Command("sha256sum", "-c", "SHA256SUMS")
		cmd.Dir = dist
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s", out)
		assert.Equal(t, 2, strings.Count(string(out), ": OK\n"), "%s", out)
	})

	t.Run("ELF", func(t *testing.T) {
		machines := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}
		for arch, bin := range bins {
			f, err := elf.Open(bin)
			require.NoError(t, err)
			defer f.Close()
			assert.Equal(t, machines[arch], f.Machine, arch)
			for _, p := range f.Progs {
				assert.NotEqual(t, elf.PT_INTERP, p.Type, "%s: static, no dynamic loader", arch)
				assert.NotEqual(t, elf.PT_DYNAMIC, p.Type, "%s: static, no dynamic section", arch)
			}
			for _, s := range f.Sections {
				assert.NotEqual(t, ".symtab", s.Name, "%s: stripped (-s)", arch)
				assert.False(t, strings.HasPrefix(s.Name, ".debug") || strings.HasPrefix(s.Name, ".zdebug"),
					"%s: no DWARF (-w): %s", arch, s.Name)
			}
			b, err := os.ReadFile(bin)
			require.NoError(t, err)
			assert.False(t, bytes.Contains(b, []byte(clone)), "%s: -trimpath leaves no path of the build folder", arch)
			fi, err := os.Stat(bin)
			require.NoError(t, err)
			t.Logf("%s: %d bytes (%.1f MiB)", filepath.Base(bin), fi.Size(), float64(fi.Size())/(1<<20))
		}
	})

	t.Run("version", func(t *testing.T) {
		bin, ok := bins[runtime.GOARCH]
		if runtime.GOOS != "linux" || !ok {
			t.Skipf("the release binaries do not run on %s/%s", runtime.GOOS, runtime.GOARCH)
		}
		assertVersion(t, bin, version, head)
	})

	t.Run("tarball", func(t *testing.T) {
		// git archive is what a release tarball holds: the files, no .git.
		src := filepath.Join(t.TempDir(), "wpfix-"+version)
		require.NoError(t, os.Mkdir(src, 0o755))
		cmd := exec.Command("sh", "-c", `git archive --format=tar HEAD | tar -x -C "$1"`, "sh", src)
		cmd.Dir = clone
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s", out)
		require.NoDirExists(t, filepath.Join(src, ".git"))
		if runtime.GOOS != "linux" {
			t.Skipf("checks a native build's version; this is %s", runtime.GOOS)
		}
		runMake(t, src, "build", "VERSION=v0.0.0-tarball", "COMMIT="+head)
		assertVersion(t, filepath.Join(src, "wpfix"), "v0.0.0-tarball", head)
	})
}

// assertVersion checks that bin's version command names version and the
// full commit hash, unmodified, in its line and in its JSON.
func assertVersion(t *testing.T, bin, version, commit string) {
	t.Helper()
	r := runWpfix(t, bin, "version")
	require.Equal(t, 0, r.code, "stderr: %q", r.stderr)
	assert.Regexp(t, `^`+regexp.QuoteMeta("wpfix "+version+" ("+commit+", go")+`1\.\S+, `+
		regexp.QuoteMeta(runtime.GOOS+"/"+runtime.GOARCH)+`\)\n$`, r.stdout)

	r = runWpfix(t, bin, "version", "--json")
	require.Equal(t, 0, r.code, "stderr: %q", r.stderr)
	var got buildInfo
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &got), "stdout: %q", r.stdout)
	assert.Equal(t, version, got.Version)
	assert.Equal(t, commit, got.Commit)
	assert.False(t, got.Modified)
	assert.Equal(t, runtime.GOOS, got.OS)
	assert.Equal(t, runtime.GOARCH, got.Arch)
}

// git runs git in dir ("" for this package's folder) and returns its output,
// trimmed.
func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		require.NoError(t, err, "git %s: %s", strings.Join(args, " "), exit.Stderr)
	}
	require.NoError(t, err, "git %s", strings.Join(args, " "))
	return strings.TrimSpace(string(out))
}

// runMake runs make with args in dir, with none of the variables an outer make
// (make test) would pass down, so the Makefile's own VERSION and COMMIT hold.
func runMake(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("make", args...)
	cmd.Dir = dir
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch name {
		case "MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "GOOS", "GOARCH":
			continue
		}
		cmd.Env = append(cmd.Env, kv)
	}
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "make %s in %s:\n%s", strings.Join(args, " "), dir, out)
}

// TestWithCommit: the commit linked by make wins over the one the go command
// recorded, and brings its own modified flag.
func TestWithCommit(t *testing.T) {
	const recorded, linked = "0123456789abcdef0123456789abcdef01234567", "89abcdef0123456789abcdef0123456789abcdef"
	vcs := buildInfo{Version: "v1.2.3", Commit: recorded, Modified: true}
	tests := []struct {
		name             string
		commit, modified string
		want             buildInfo
	}{
		{"nothing linked: what the go command recorded", "", "", vcs},
		{"linked, clean", linked, "false", buildInfo{Version: "v1.2.3", Commit: linked}},
		{"linked, modified", linked, "true", buildInfo{Version: "v1.2.3", Commit: linked, Modified: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, vcs.withCommit(tt.commit, tt.modified))
		})
	}
}
