package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wpfix/wpfix/wp/logsig"
)

// wpfixBin is the binary under test, built once by TestMain.
var wpfixBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "wpfix-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	wpfixBin, err = buildWpfix(dir)
	code := 1
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
	} else {
		code = runTests(m)
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

// buildWpfix builds this package as a static binary (CGO_ENABLED=0) into dir,
// passing extra arguments to go build.
func buildWpfix(dir string, extra ...string) (string, error) {
	bin := filepath.Join(dir, "wpfix")
	args := append([]string{"build", "-o", bin}, extra...)
	cmd := exec.Command("go", append(args, ".")...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go %s: %w\n%s", strings.Join(cmd.Args[1:], " "), err, out)
	}
	return bin, nil
}

type result struct {
	code           int
	stdout, stderr string
}

// runWpfix runs bin with args and returns how it ended.
func runWpfix(t *testing.T, bin string, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		require.NoError(t, err, "run wpfix %v", args)
	}
	return result{code: cmd.ProcessState.ExitCode(), stdout: stdout.String(), stderr: stderr.String()}
}

// versionLine matches `wpfix version` of a binary built without -ldflags.
var versionLine = regexp.MustCompile(`^wpfix \S+ \(([0-9a-f]{40}(, modified)?, )?go1\.\S+, ` +
	regexp.QuoteMeta(runtime.GOOS+"/"+runtime.GOARCH) + `\)\n$`)

// assertUsageError checks that stderr holds one wpfix: line, the hint to
// run help, and nothing from cobra itself.
func assertUsageError(t *testing.T, r result, want string) {
	t.Helper()
	assert.Empty(t, r.stdout)
	lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
	require.Len(t, lines, 2, "stderr: %q", r.stderr)
	assert.Regexp(t, `^wpfix: `+regexp.QuoteMeta(want), lines[0])
	assert.Regexp(t, `^Run 'wpfix( \w+)? --help' for usage\.$`, lines[1])
	assert.NotContains(t, r.stderr, "Error:")
	assert.NotContains(t, r.stderr, "Usage:")
}

func TestCLI(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		code  int
		check func(t *testing.T, r result)
	}{
		{"version", []string{"version"}, 0, func(t *testing.T, r result) {
			assert.Regexp(t, versionLine, r.stdout)
			assert.Contains(t, r.stdout, "wpfix devel (") // no -ldflags, not go install
			assert.Empty(t, r.stderr)
		}},
		{"version --json", []string{"version", "--json"}, 0, func(t *testing.T, r result) {
			var got map[string]any
			require.NoError(t, json.Unmarshal([]byte(r.stdout), &got), "stdout: %q", r.stdout)
			for _, key := range []string{"version", "commit", "modified", "go", "os", "arch"} {
				assert.Contains(t, got, key)
			}
			assert.Len(t, got, 6)
			assert.Equal(t, "devel", got["version"])
			assert.Equal(t, runtime.GOOS, got["os"])
			assert.Equal(t, runtime.GOARCH, got["arch"])
			assert.IsType(t, false, got["modified"])
			assert.Empty(t, r.stderr)
		}},
		{"-q version prints nothing", []string{"-q", "version"}, 0, func(t *testing.T, r result) {
			assert.Empty(t, r.stdout)
			assert.Empty(t, r.stderr)
		}},
		{"-q --json still prints", []string{"version", "-q", "--json"}, 0, func(t *testing.T, r result) {
			assert.Contains(t, r.stdout, `"version"`)
		}},
		{"-q keeps errors", []string{"-q", "info", "/nonexistent/wpfix-no-site"}, 3, func(t *testing.T, r result) {
			assert.Empty(t, r.stdout)
			assert.Contains(t, r.stderr, "wpfix: ")
		}},
		{"--version", []string{"--version"}, 0, func(t *testing.T, r result) {
			assert.Regexp(t, versionLine, r.stdout)
		}},
		{"--help", []string{"--help"}, 0, func(t *testing.T, r result) {
			assert.Contains(t, r.stdout, "WordPress")
			assert.Regexp(t, `(?m)^\s+version\s+Print the version of wpfix$`, r.stdout)
			assert.Regexp(t, `(?m)^\s+completion\s+Print the script that makes bash, zsh or fish complete`, r.stdout)
			assert.Regexp(t, `(?m)^\s+-v, --verbose\s`, r.stdout, "-v is --verbose, not --version")
			assert.Regexp(t, `(?m)^\s+info\s+Show what WordPress at TARGET runs`, r.stdout)
			assert.Empty(t, r.stderr)
		}},
		{"no arguments prints help", nil, 0, func(t *testing.T, r result) {
			assert.Contains(t, r.stdout, "Available Commands:")
		}},
		{"version --help", []string{"version", "--help"}, 0, func(t *testing.T, r result) {
			assert.Contains(t, r.stdout, "--json")
		}},
		{"unknown command", []string{"verison"}, 2, func(t *testing.T, r result) {
			assertUsageError(t, r, `unknown command "verison" for "wpfix"`)
		}},
		{"unknown flag", []string{"--bogus"}, 2, func(t *testing.T, r result) {
			assertUsageError(t, r, "unknown flag: --bogus")
		}},
		{"unknown flag of a command", []string{"version", "--bogus"}, 2, func(t *testing.T, r result) {
			assertUsageError(t, r, "unknown flag: --bogus")
			assert.Contains(t, r.stderr, "Run 'wpfix version --help'")
		}},
		{"extra argument", []string{"version", "now"}, 2, func(t *testing.T, r result) {
			assertUsageError(t, r, `unknown command "now" for "wpfix version"`)
		}},
		{"bad input is no usage mistake", []string{"info", "/etc/ssh"}, 2, func(t *testing.T, r result) {
			assert.Regexp(t, `^wpfix: no wp-load.php in /etc/ssh`, r.stderr)
			assert.NotContains(t, r.stderr, "--help", "no hint to read the usage when the command line was right")
			assert.Equal(t, 1, strings.Count(r.stderr, "\n"), "one line: %q", r.stderr)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runWpfix(t, wpfixBin, tt.args...)
			assert.Equal(t, tt.code, r.code, "stderr: %q", r.stderr)
			tt.check(t, r)
		})
	}
}

func TestVersionFromLdflags(t *testing.T) {
	bin, err := buildWpfix(t.TempDir(), "-ldflags", "-X main.version=v9.9.9")
	require.NoError(t, err)

	r := runWpfix(t, bin, "version")
	assert.Equal(t, 0, r.code)
	assert.Regexp(t, `^wpfix v9\.9\.9 \(`, r.stdout)

	r = runWpfix(t, bin, "version", "--json")
	var got buildInfo
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &got))
	assert.Equal(t, "v9.9.9", got.Version)
}

func TestNewBuildInfo(t *testing.T) {
	const commit = "0123456789abcdef0123456789abcdef01234567"
	vcs := func(revision, modified string) []debug.BuildSetting {
		return []debug.BuildSetting{{Key: "vcs.revision", Value: revision}, {Key: "vcs.modified", Value: modified}}
	}
	tests := []struct {
		name     string
		linked   string
		bi       *debug.BuildInfo
		want     buildInfo
		wantLine string
	}{
		{
			name:     "ldflags beat go install",
			linked:   "v1.2.3",
			bi:       &debug.BuildInfo{Main: debug.Module{Version: "v1.0.0"}},
			want:     buildInfo{Version: "v1.2.3"},
			wantLine: "wpfix v1.2.3 (go1.26.8, linux/amd64)",
		},
		{
			name:     "go install at a version",
			bi:       &debug.BuildInfo{Main: debug.Module{Version: "v1.0.0"}},
			want:     buildInfo{Version: "v1.0.0"},
			wantLine: "wpfix v1.0.0 (go1.26.8, linux/amd64)",
		},
		{
			name:     "go build outside version control",
			bi:       &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}},
			want:     buildInfo{Version: "devel"},
			wantLine: "wpfix devel (go1.26.8, linux/amd64)",
		},
		{
			name:     "no build info",
			want:     buildInfo{Version: "devel"},
			wantLine: "wpfix devel (go1.26.8, linux/amd64)",
		},
		{
			name:     "clean checkout",
			linked:   "v1.2.3",
			bi:       &debug.BuildInfo{Settings: vcs(commit, "false")},
			want:     buildInfo{Version: "v1.2.3", Commit: commit},
			wantLine: "wpfix v1.2.3 (" + commit + ", go1.26.8, linux/amd64)",
		},
		{
			name:     "modified checkout",
			bi:       &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs(commit, "true")},
			want:     buildInfo{Version: "devel", Commit: commit, Modified: true},
			wantLine: "wpfix devel (" + commit + ", modified, go1.26.8, linux/amd64)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := newBuildInfo(tt.linked, tt.bi)
			assert.Equal(t, runtime.Version(), got.Go)
			assert.Equal(t, runtime.GOOS, got.OS)
			assert.Equal(t, runtime.GOARCH, got.Arch)

			// The runtime fields vary by machine; fix them to compare the rest.
			got.Go, got.OS, got.Arch = "go1.26.8", "linux", "amd64"
			tt.want.Go, tt.want.OS, tt.want.Arch = "go1.26.8", "linux", "amd64"
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.wantLine, got.String())
		})
	}
}

func TestExitCode(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"success", nil, exitOK},
		{"cobra's complaint about the command line", errors.New(`unknown command "x" for "wpfix"`), exitUsage},
		{"a command's own error", &runError{errors.New("write /dev/stdout: broken pipe")}, exitFailure},
		{"a command's own error, wrapped", fmt.Errorf("version: %w", &runError{errors.New("boom")}), exitFailure},
		{"a report's verdict: still broken", &runError{verdict(true)}, exitFailure},
		{"a usage error", &runError{usageErrorf("--define %q: want NAME=VALUE", "X")}, exitUsage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, exitCode(tt.err))
		})
	}
}

// TestExampleConfig: the example config file loads as --config and its
// signatures name the lines they are written for.
func TestExampleConfig(t *testing.T) {
	g := &globalOptions{Config: filepath.Join("..", "..", "configs", "wpfix.example.toml")}
	sigs, err := g.signatures()
	require.NoError(t, err)
	cl, err := logsig.NewClassifier(sigs...)
	require.NoError(t, err)
	assert.Equal(t, "shop-gateway-timeout",
		cl.Classify("[23-Nov-2026 00:00:00 UTC] PHP Warning:  PaymentGateway: timeout after 30s in /var/www/wp-content/plugins/shop/pay.php on line 9").Signature)
	assert.Equal(t, "shop-cron-overlap", cl.Classify("[23-Nov-2026 00:00:00 UTC] import-cron: run 12 started while run 11 still running").Signature)
}
