package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// completionHome is a home folder whose ~/.ssh/config names hosts the way
// people write them: aliases, a wildcard block, a negation, an Include.
func completionHome(t *testing.T) string {
	t.Helper()
	home := t.TempDir()
	writeTestFile(t, filepath.Join(home, ".ssh", "config"), `# hosts
Host web1 web2
    HostName 203.0.113.7
Host *.example !bad.example web?
    User deploy
Include conf.d/*.conf
Match host db1
    Port 2222
`)
	writeTestFile(t, filepath.Join(home, ".ssh", "conf.d", "db.conf"), "Host=db1\n")
	return home
}

func writeTestFile(t *testing.T, name, text string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(name), 0o755))
	require.NoError(t, os.WriteFile(name, []byte(text), 0o644))
}

// completed is cobra's answer to `wpfix __complete ARGS…`: the words
// (without descriptions) and the directive.
type completed struct {
	words     []string
	directive cobra.ShellCompDirective
	stderr    string
}

// complete runs `wpfix __complete args…` in dir with HOME=home and no
// WP-CLI config but what dir holds; it must end within a few seconds,
// since a TAB that hangs is a bug.
func complete(t *testing.T, home, dir string, args ...string) completed {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, wpfixBin, append([]string{"__complete"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "HOME="+home, "WP_CLI_CONFIG_PATH="+filepath.Join(home, "no-wp-cli.yml"))
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), "wpfix __complete %q: %s", args, stderr.String())
	lines := strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n")
	last := lines[len(lines)-1]
	require.True(t, strings.HasPrefix(last, ":"), "directive line: %q", stdout.String())
	d, err := strconv.Atoi(last[1:])
	require.NoError(t, err)
	var words []string
	for _, l := range lines[:len(lines)-1] {
		w, _, _ := strings.Cut(l, "\t")
		words = append(words, w)
	}
	return completed{words: words, directive: cobra.ShellCompDirective(d), stderr: stderr.String()}
}

// assertQuiet checks that the completion printed nothing on standard error
// but cobra's own trace of the directive, which the scripts throw away.
func assertQuiet(t *testing.T, c completed) {
	t.Helper()
	for _, l := range strings.Split(strings.TrimSpace(c.stderr), "\n") {
		assert.True(t, l == "" || strings.HasPrefix(l, "Completion ended with directive:"), "stderr: %q", c.stderr)
	}
}

const (
	hostDirective = cobra.ShellCompDirectiveNoSpace | cobra.ShellCompDirectiveNoFileComp
	noFiles       = cobra.ShellCompDirectiveNoFileComp
	dirs          = cobra.ShellCompDirectiveFilterDirs
)

func TestCompleteTargets(t *testing.T) {
	home := completionHome(t)
	other := filepath.Join(t.TempDir(), "ssh_config")
	writeTestFile(t, other, "Host other1 web9\n")
	cwd := t.TempDir()

	tests := []struct {
		name      string
		args      []string
		want      []string
		directive cobra.ShellCompDirective
	}{
		{"aliases that start with the word", []string{"bisect", "we"}, []string{"web1:", "web2:"}, hostDirective},
		{"every alias, Include'd ones too, no pattern", []string{"bisect", ""}, []string{"web1:", "web2:", "db1:"}, hostDirective},
		{"user@ kept", []string{"diagnose", "deploy@w"}, []string{"deploy@web1:", "deploy@web2:"}, hostDirective},
		{"ssh:// URL", []string{"info", "ssh://deploy@d"}, []string{"ssh://deploy@db1/"}, hostDirective},
		{"no path on the host: completion never connects", []string{"bisect", "web1:/var/w"}, nil, noFiles},
		{"absolute path: folders", []string{"bisect", "/var/w"}, nil, dirs},
		{"relative path: folders", []string{"logs", "./si"}, nil, dirs},
		{"home path: folders", []string{"logs", "~/si"}, nil, dirs},
		{"path with a slash: folders", []string{"restore", "sites/a"}, nil, dirs},
		{"no alias: folders", []string{"heal", "zz"}, nil, dirs},
		{"one TARGET only", []string{"info", "web1:/var/www", ""}, nil, noFiles},
		{"after flags", []string{"bisect", "--dry-run", "-y", "web"}, []string{"web1:", "web2:"}, hostDirective},
		{"--ssh-config FILE replaces ~/.ssh/config", []string{"--ssh-config", other, "limits", ""}, []string{"other1:", "web9:"}, hostDirective},
		{"--ssh-config after the command", []string{"limits", "--ssh-config=" + other, "w"}, []string{"web9:"}, hostDirective},
		{"--ssh-config none", []string{"--ssh-config", "none", "limits", "we"}, nil, dirs},
		{"check takes aliases too", []string{"check", "web"}, []string{"web1:", "web2:"}, hostDirective},
		{"check's many TARGETs", []string{"check", "web1:/a", "web"}, []string{"web1:", "web2:"}, hostDirective},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := complete(t, home, cwd, tt.args...)
			assert.Equal(t, tt.want, c.words)
			assert.Equal(t, tt.directive, c.directive)
			assertQuiet(t, c)
		})
	}
}

func TestCompleteCommandsAndFlags(t *testing.T) {
	home, cwd := t.TempDir(), t.TempDir()
	tests := []struct {
		name      string
		args      []string
		want      []string // all of them, in this order
		has       []string // among others
		hasNot    []string
		directive cobra.ShellCompDirective
	}{
		{name: "commands", args: []string{""},
			has:    []string{"bisect", "check", "completion", "diagnose", "heal", "info", "limits", "logs", "restore", "version"},
			hasNot: []string{"__man", "__complete"}, directive: noFiles},
		{name: "shells, no PowerShell", args: []string{"completion", ""}, want: []string{"bash", "zsh", "fish"}, directive: noFiles},
		{name: "flags of a command", args: []string{"bisect", "--d"}, has: []string{"--dry-run", "--define"}, directive: noFiles},
		{name: "--format", args: []string{"check", "--format", ""}, want: []string{"text", "json", "prometheus"}, directive: noFiles},
		{name: "--format=", args: []string{"check", "--format=p"}, want: []string{"prometheus"}, directive: noFiles},
		{name: "--scope list", args: []string{"bisect", "--scope", "plugins,"}, want: []string{"plugins,mu-plugins", "plugins,dropins", "plugins,theme"}, directive: noFiles},
		{name: "--scope kind", args: []string{"bisect", "--scope", "mu"}, want: []string{"mu-plugins"}, directive: noFiles},
		{name: "a FILE flag: files", args: []string{"info", "--identity", ""}, directive: cobra.ShellCompDirectiveDefault},
		{name: "--inventory: TOML and YAML files", args: []string{"check", "--inventory", ""}, want: []string{"toml", "yml", "yaml"}, directive: cobra.ShellCompDirectiveFilterFileExt},
		{name: "a number: nothing", args: []string{"info", "--port", ""}, directive: noFiles},
		{name: "a duration: nothing", args: []string{"heal", "--pause", ""}, directive: noFiles},
		{name: "a URL: nothing", args: []string{"heal", "--url", ""}, directive: noFiles},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := complete(t, home, cwd, tt.args...)
			if tt.want != nil || (tt.has == nil && tt.hasNot == nil) {
				assert.Equal(t, tt.want, c.words)
			}
			for _, w := range tt.has {
				assert.Contains(t, c.words, w)
			}
			for _, w := range tt.hasNot {
				assert.NotContains(t, c.words, w)
			}
			assert.Equal(t, tt.directive, c.directive)
			assertQuiet(t, c)
		})
	}
}

func TestCompleteCheckInventory(t *testing.T) {
	home := t.TempDir()
	dir := t.TempDir()
	inv := filepath.Join(dir, "sites.toml")
	writeTestFile(t, inv, `[[site]]
name = "acme"
target = "deploy@web1:/var/www/acme"
tags = ["shop", "eu"]

[[site]]
name = "beta"
target = "/var/www/beta"
tags = ["eu"]
`)
	bad := filepath.Join(dir, "bad.toml")
	writeTestFile(t, bad, "[[site]]\nname = \n")
	fifo := filepath.Join(dir, "fifo.toml")
	require.NoError(t, syscall.Mkfifo(fifo, 0o644))
	// a project whose wp-cli.yml check reads when no --inventory is given
	project := filepath.Join(dir, "project", "sub")
	writeTestFile(t, filepath.Join(dir, "project", "wp-cli.yml"), `@prod:
  ssh: deploy@web1/var/www/a
@staging:
  ssh: deploy@web2/var/www/b
@shops: [@prod, @staging]
`)
	require.NoError(t, os.MkdirAll(project, 0o755))
	empty := t.TempDir()

	tests := []struct {
		name      string
		dir       string
		args      []string
		want      []string
		directive cobra.ShellCompDirective
	}{
		{"--tag", empty, []string{"check", "--inventory", inv, "--tag", ""}, []string{"eu", "shop"}, noFiles},
		{"--tag prefix", empty, []string{"check", "--inventory", inv, "--tag", "s"}, []string{"shop"}, noFiles},
		{"--tag once", empty, []string{"check", "--inventory", inv, "--tag", "eu", "--tag", ""}, []string{"shop"}, noFiles},
		{"site names", empty, []string{"check", "--inventory", inv, ""}, []string{"acme", "beta"}, noFiles},
		{"a site once", empty, []string{"check", "--inventory", inv, "acme", ""}, []string{"beta"}, noFiles},
		{"@tags", empty, []string{"check", "--inventory", inv, "@"}, []string{"@eu", "@shop"}, noFiles},
		{"WP-CLI config: groups are tags", project, []string{"check", "--tag", ""}, []string{"shops"}, noFiles},
		{"WP-CLI config: aliases are sites", project, []string{"check", "p"}, []string{"prod"}, noFiles},
		{"no inventory", empty, []string{"check", "--tag", ""}, nil, noFiles},
		{"a bad inventory: nothing, no message", empty, []string{"check", "--inventory", bad, "--tag", ""}, nil, noFiles},
		{"a missing inventory", empty, []string{"check", "--inventory", filepath.Join(dir, "nope.toml"), "--tag", ""}, nil, noFiles},
		{"a FIFO is not read: no hang", empty, []string{"check", "--inventory", fifo, "--tag", ""}, nil, noFiles},
		{"an ssh_config FIFO is not read", empty, []string{"check", "--ssh-config", fifo, "web"}, nil, dirs},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := complete(t, home, tt.dir, tt.args...)
			assert.Equal(t, tt.want, c.words)
			assert.Equal(t, tt.directive, c.directive)
			assertQuiet(t, c)
		})
	}
}

func TestSSHHosts(t *testing.T) {
	home := t.TempDir()
	writeTestFile(t, filepath.Join(home, ".ssh", "config"), `Host a b
Include ~/.ssh/loop sub/*
Host "quoted name" a
Host c*
Host unterminated "x
Host after-error
`)
	// an Include of itself stops at OpenSSH's depth, each alias once
	writeTestFile(t, filepath.Join(home, ".ssh", "loop"), "Host looped\nInclude loop\n")
	writeTestFile(t, filepath.Join(home, ".ssh", "sub", "1"), "Host s1 !s2\n")
	abs := filepath.Join(t.TempDir(), "abs")
	writeTestFile(t, abs, "Host abs1\nInclude "+filepath.Join(home, ".ssh", "sub", "1")+"\n")

	tests := []struct {
		name, file string
		home       string
		want       []string
	}{
		{"~/.ssh/config", "", home, []string{"a", "b", "looped", "s1"}},
		{"--ssh-config FILE", abs, home, []string{"abs1", "s1"}},
		{"none", "none", home, nil},
		{"no home", "", "", nil},
		{"missing file", filepath.Join(home, "missing"), home, nil},
		{"a folder", home, home, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, sshHosts(tt.file, tt.home))
		})
	}
}

// requireBashCompletion returns bash and the bash-completion script cobra's
// bash script needs (its _get_comp_words_by_ref), or skips when they are
// not installed (fails under CI, where make test installs them).
func requireBashCompletion(t *testing.T) (bash, lib string) {
	bash = requireProgram(t, "bash")
	lib = "/usr/share/bash-completion/bash_completion"
	if _, err := os.Stat(lib); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("bash-completion is not installed (%s)", lib)
		}
		t.Skipf("bash-completion is not installed (%s): apt-get install bash-completion", lib)
	}
	return bash, lib
}

// inPath is the environment with wpfixBin first in PATH, as the scripts
// call wpfix by name, and HOME=home.
func inPath(home string) []string {
	return append(os.Environ(), "PATH="+filepath.Dir(wpfixBin)+":"+os.Getenv("PATH"), "HOME="+home,
		"WP_CLI_CONFIG_PATH="+filepath.Join(home, "no-wp-cli.yml"))
}

func TestBashCompletion(t *testing.T) {
	bash, lib := requireBashCompletion(t)
	home := completionHome(t)
	inv := filepath.Join(t.TempDir(), "sites.toml")
	writeTestFile(t, inv, "[[site]]\nname = \"acme\"\ntarget = \"/var/www/acme\"\ntags = [\"eu\", \"shop\"]\n")
	folder := filepath.Join(filepath.Dir(inv), "site-folder")
	require.NoError(t, os.Mkdir(folder, 0o755))

	// simulate is what readline does on TAB: set the words and the cursor,
	// call the function `complete -p` names, print COMPREPLY
	const simulate = `source "$1"
source <(wpfix completion bash)
complete -p wpfix
shift
COMP_LINE="$*"
COMP_POINT=${#COMP_LINE}
COMP_WORDS=("$@")
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
COMP_TYPE=9
__start_wpfix 2>/dev/null
printf 'reply:%s\n' "${COMPREPLY[@]}"
`
	tests := []struct {
		name  string
		words []string
		want  []string
	}{
		{"aliases", []string{"wpfix", "bisect", "we"}, []string{"web1:", "web2:"}},
		{"the Include'd alias", []string{"wpfix", "info", "d"}, []string{"db1:"}},
		{"user@", []string{"wpfix", "diagnose", "deploy@db"}, []string{"deploy@db1:"}},
		{"commands", []string{"wpfix", "bi"}, []string{"bisect"}},
		{"shells", []string{"wpfix", "completion", "f"}, []string{"fish"}},
		{"check --tag", []string{"wpfix", "check", "--inventory", inv, "--tag", ""}, []string{"eu", "shop"}},
		{"a folder", []string{"wpfix", "info", folder[:len(folder)-3]}, []string{folder}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			cmd := exec.Command(bash, append([]string{"-c", simulate, "bash", lib}, tt.words...)...)
			cmd.Env = inPath(home)
			cmd.Dir = t.TempDir()
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			require.NoError(t, cmd.Run(), "stderr: %s", stderr.String())
			out := stdout.String()
			assert.Contains(t, out, "complete -o default -F __start_wpfix wpfix\n")
			var got []string
			for _, l := range strings.Split(out, "\n") {
				if r, ok := strings.CutPrefix(l, "reply:"); ok && r != "" {
					got = append(got, r)
				}
			}
			assert.ElementsMatch(t, tt.want, got, "stdout: %s", out)
			assert.NotContains(t, out, "*.example")
		})
	}
}

func TestZshCompletionScript(t *testing.T) {
	zsh := requireProgram(t, "zsh")
	for _, args := range [][]string{{"completion", "zsh"}, {"completion", "zsh", "--no-descriptions"}} {
		r := runWpfix(t, wpfixBin, args...)
		require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
		assert.Contains(t, r.stdout, "#compdef wpfix")
		cmd := exec.Command(zsh, "-n")
		cmd.Stdin = strings.NewReader(r.stdout)
		out, err := cmd.CombinedOutput()
		assert.NoError(t, err, "zsh -n: %s", out)
	}
}

func TestFishCompletion(t *testing.T) {
	fish := requireProgram(t, "fish")
	home := completionHome(t)
	r := runWpfix(t, wpfixBin, "completion", "fish")
	require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
	script := filepath.Join(t.TempDir(), "wpfix.fish")
	require.NoError(t, os.WriteFile(script, []byte(r.stdout), 0o644))

	out, err := exec.Command(fish, "-n", script).CombinedOutput()
	require.NoError(t, err, "fish -n: %s", out)

	// fish's complete -C completes a command line as a TAB would
	cmd := exec.Command(fish, "--no-config", "-c", `source $argv[1]; complete -C"wpfix bisect we"; complete -C"wpfix completion "`, script)
	cmd.Env = append(inPath(home), "XDG_CONFIG_HOME="+t.TempDir(), "XDG_DATA_HOME="+t.TempDir())
	cmd.Dir = t.TempDir()
	out, err = cmd.CombinedOutput()
	require.NoError(t, err, "fish: %s", out)
	var got []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		w, _, _ := strings.Cut(l, "\t")
		got = append(got, w)
	}
	assert.ElementsMatch(t, []string{"web1:", "web2:", "bash", "zsh", "fish"}, got, "fish: %s", out)
}

func TestCompletionCommand(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout []string
		stderr string
	}{
		{"bash", []string{"completion", "bash"}, 0, []string{"# bash completion V2 for wpfix", "__start_wpfix"}, ""},
		{"fish", []string{"completion", "fish"}, 0, []string{"complete -c wpfix"}, ""},
		{"-q silences reports, not the script", []string{"-q", "completion", "bash"}, 0, []string{"__start_wpfix"}, ""},
		{"help says how to install", []string{"completion", "--help"}, 0,
			[]string{"/etc/bash_completion.d/wpfix", "_wpfix", "~/.config/fish/completions/wpfix.fish", "never connects"}, ""},
		{"no PowerShell", []string{"completion", "powershell"}, 2, nil, `wpfix: invalid argument "powershell" for "wpfix completion"`},
		{"a shell is needed", []string{"completion"}, 2, nil, "wpfix: wpfix completion needs a shell: bash, zsh or fish"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runWpfix(t, wpfixBin, tt.args...)
			assert.Equal(t, tt.code, r.code, "stderr: %s", r.stderr)
			for _, s := range tt.stdout {
				assert.Contains(t, r.stdout, s)
			}
			if tt.stderr != "" {
				assert.Contains(t, r.stderr, tt.stderr)
			} else {
				assert.Empty(t, r.stderr)
			}
			assert.NotContains(t, r.stdout, "powershell")
		})
	}
}
