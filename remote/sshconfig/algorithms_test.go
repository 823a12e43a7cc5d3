package sshconfig_test

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wpfix/wpfix/remote/proctest"
	"github.com/wpfix/wpfix/remote/sshconfig"
)

func TestAlgorithmList(t *testing.T) {
	all := []string{"a-sha256", "b-sha256", "c-sha1", "d-sha1", "e"}
	defaults := []string{"b-sha256", "a-sha256"}
	for _, tc := range []struct {
		name, value string
		want        []string
		err         string
	}{
		{"unset is the defaults", "", []string{"b-sha256", "a-sha256"}, ""},
		{"plus appends", "+c-sha1", []string{"b-sha256", "a-sha256", "c-sha1"}, ""},
		{"plus a pattern appends in the order all has", "+*-sha1", []string{"b-sha256", "a-sha256", "c-sha1", "d-sha1"}, ""},
		{"caret prepends", "^d-sha1,e", []string{"d-sha1", "e", "b-sha256", "a-sha256"}, ""},
		{"caret a default moves it first", "^a-sha256", []string{"a-sha256", "b-sha256"}, ""},
		{"minus removes", "-b-*", []string{"a-sha256"}, ""},
		{"minus of what is not there", "-c-sha1", []string{"b-sha256", "a-sha256"}, ""},
		{"a list replaces", "d-sha1,a-sha256", []string{"d-sha1", "a-sha256"}, ""},
		{"unknown names add nothing", "x-sha512,e", []string{"e"}, ""},
		{"only unknown names", "x-sha512", nil, "names no algorithm"},
		{"minus everything", "-*", nil, "removes every"},
		{"negation", "a-sha256,!b-sha256", nil, "negated"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := sshconfig.AlgorithmList(tc.value, defaults, all)
			if tc.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

// TestAlgorithmListMatchesOpenSSH assembles lists with OpenSSH's own
// defaults (`ssh -G` with no config) and algorithms (`ssh -Q`) and checks
// them against what `ssh -G` makes of the same ssh_config lines.
func TestAlgorithmListMatchesOpenSSH(t *testing.T) {
	sshBin := proctest.Require(t, "openssh-client", "ssh")
	t.Setenv("HOME", t.TempDir())
	g := func(config string) map[string]string {
		t.Helper()
		file := writeFile(t, filepath.Join(t.TempDir(), "config"), config)
		out, err := exec.Command(sshBin, "-G", "-F", file, "web").Output()
		require.NoError(t, err, "ssh -G with\n%s", config)
		m := map[string]string{}
		for _, line := range strings.Split(string(out), "\n") {
			k, v, _ := strings.Cut(line, " ")
			m[k] = v
		}
		return m
	}
	q := func(what string) []string {
		t.Helper()
		out, err := exec.Command(sshBin, "-Q", what).Output()
		require.NoError(t, err, "ssh -Q %s", what)
		return strings.Fields(string(out))
	}
	defaults := g("")
	for _, tc := range []struct {
		keyword, query, value string
	}{
		{"kexalgorithms", "kex", "+diffie-hellman-group14-sha1"},
		{"kexalgorithms", "kex", "^diffie-hellman-group14-sha1,diffie-hellman-group1-sha1"},
		{"kexalgorithms", "kex", "-diffie-hellman-group*,ecdh-sha2-nistp521"},
		{"kexalgorithms", "kex", "curve25519-sha256,diffie-hellman-group14-sha1"},
		{"macs", "mac", "-hmac-sha1*"},
		{"macs", "mac", "+hmac-md5"},
		{"ciphers", "cipher", "^aes256-gcm@openssh.com"},
		{"hostkeyalgorithms", "HostKeyAlgorithms", "+ssh-rsa"},
		{"hostkeyalgorithms", "HostKeyAlgorithms", "ssh-ed25519*,rsa-sha2-*"},
		{"hostkeyalgorithms", "HostKeyAlgorithms", "^ssh-rsa,ssh-ed25519"},
		{"pubkeyacceptedalgorithms", "PubkeyAcceptedAlgorithms", "+ssh-rsa*"},
		{"pubkeyacceptedalgorithms", "PubkeyAcceptedAlgorithms", "-*-cert-v01@openssh.com,sk-*"},
	} {
		t.Run(tc.keyword+" "+tc.value, func(t *testing.T) {
			want := g("Host web\n  " + tc.keyword + " " + tc.value + "\n")[tc.keyword]
			got, err := sshconfig.AlgorithmList(tc.value, strings.Split(defaults[tc.keyword], ","), q(tc.query))
			require.NoError(t, err)
			assert.Equal(t, want, strings.Join(got, ","))
		})
	}
}

// FuzzAlgorithmList checks what holds for any value: a list without error
// is not empty, holds only names of all, each once, and "" gives the
// defaults.
func FuzzAlgorithmList(f *testing.F) {
	all := []string{"curve25519-sha256", "diffie-hellman-group14-sha1", "ssh-rsa", "rsa-sha2-256", "hmac-sha1"}
	defaults := []string{"rsa-sha2-256", "curve25519-sha256"}
	for _, s := range []string{"", "+ssh-rsa", "^*sha1", "-rsa-*", "ssh-*,!x", "+", "-", "^,", "*", "?"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, value string) {
		got, err := sshconfig.AlgorithmList(value, defaults, all)
		if err != nil {
			return
		}
		require.NotEmpty(t, got)
		seen := map[string]bool{}
		for _, a := range got {
			require.Contains(t, all, a)
			require.False(t, seen[a], "%q twice", a)
			seen[a] = true
		}
		if value == "" {
			require.Equal(t, defaults, got)
		}
	})
}
