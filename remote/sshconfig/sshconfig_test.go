package sshconfig_test

import (
	"bytes"
	"log/slog"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wpfix/wpfix/remote/proctest"
	"github.com/wpfix/wpfix/remote/sshconfig"
)

func TestParse(t *testing.T) {
	type directive struct {
		Key  string
		Args []string
	}
	for _, tc := range []struct {
		name, text string
		want       []directive
		err        string
	}{
		{"blank and comments", "\n  # a comment\n\t\n", nil, ""},
		{"blanks", "Host web1 web2\n\tPort\t2200  \r\n", []directive{{"Host", []string{"web1", "web2"}}, {"Port", []string{"2200"}}}, ""},
		{"equals", "Port=22\nUser = deploy\nHostName= a", []directive{{"Port", []string{"22"}}, {"User", []string{"deploy"}}, {"HostName", []string{"a"}}}, ""},
		{"quotes", `IdentityFile "/keys/my key" 'it''s' ""`, []directive{{"IdentityFile", []string{"/keys/my key", "its", ""}}}, ""},
		{"escapes", `Host a\ b \"c \\d e\f`, []directive{{"Host", []string{"a b", `"c`, `\d`, `e\f`}}}, ""},
		{"comment after an argument", "User deploy # who\nPort 22#not a comment", []directive{{"User", []string{"deploy"}}, {"Port", []string{"22#not", "a", "comment"}}}, ""},
		{"empty keyword", "= x\nPort 1", []directive{{"Port", []string{"1"}}}, ""},
		{"unterminated quote", "Host web1\n  User \"deploy\n", []directive{{"Host", []string{"web1"}}}, "f:2: unterminated quote"},
		{"no value", "Host web1\n  Port\nUser x\n", []directive{{"Host", []string{"web1"}}}, "f:2: Port needs a value"},
		{"only a comment as value", "Port # none\n", nil, "f:1: Port needs a value"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lines, err := sshconfig.Parse("f", []byte(tc.text))
			if tc.err == "" {
				require.NoError(t, err)
			} else {
				require.EqualError(t, err, tc.err)
			}
			var got []directive
			for _, l := range lines {
				assert.Equal(t, "f", l.File)
				got = append(got, directive{l.Key, l.Args})
			}
			assert.Equal(t, tc.want, got)

			again, err := sshconfig.Parse("g", []byte(sshconfig.Format(lines)))
			require.NoError(t, err, "Format writes what Parse reads")
			require.Len(t, again, len(lines))
			for i := range again {
				assert.Equal(t, lines[i].Key, again[i].Key)
				assert.Equal(t, lines[i].Args, again[i].Args)
			}
		})
	}
}

// TestSettings checks first-value-wins: a value Set before the files beats
// them, an earlier block beats a later one, IdentityFile adds up, and what
// nobody gave stays unset.
func TestSettings(t *testing.T) {
	home := t.TempDir()
	config := writeFile(t, filepath.Join(home, "config"), `
Host web1
    Port 2200
    User cfguser
    IdentityFile ~/.ssh/a
    ProxyCommand nc %h %p
Host *
    Port 22
    User other
    IdentityFile ~/.ssh/b
    ProxyJump bastion
`)
	for _, tc := range []struct {
		name  string
		set   map[string]string
		get   map[string]string
		files []string
	}{
		{"config alone", nil,
			map[string]string{"port": "2200", "user": "cfguser", "proxycommand": "nc", "proxyjump": "", "hostname": ""},
			[]string{"~/.ssh/a", "~/.ssh/b"}},
		{"set beats config", map[string]string{"Port": "1", "user": "flag", "IdentityFile": "/flag", "proxyjump": "j"},
			map[string]string{"port": "1", "user": "flag", "proxycommand": "", "proxyjump": "j"},
			[]string{"/flag", "~/.ssh/a", "~/.ssh/b"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := sshconfig.New(sshconfig.Host{Alias: "web1", LocalUser: "me", Home: home})
			for k, v := range tc.set {
				s.Set(k, v)
			}
			require.NoError(t, s.ReadFile(config))
			for k, v := range tc.get {
				assert.Equal(t, v, s.Get(k), k)
			}
			assert.Equal(t, tc.files, s.Values("IdentityFile"))
			assert.Nil(t, s.Values("userknownhostsfile"), "unset until the caller's defaults")
		})
	}
}

func TestReadFile(t *testing.T) {
	home := t.TempDir()
	ssh := filepath.Join(home, ".ssh")
	writeFile(t, filepath.Join(ssh, "deep"), "Include deep\n")
	writeFile(t, filepath.Join(ssh, "conf.d", "b.conf"), "Host *\n  User b\n")
	writeFile(t, filepath.Join(ssh, "conf.d", "a.conf"), "Host web1\n  User a\n  Port 1\n")
	for _, tc := range []struct {
		name, file, config string
		home               string
		user               string
		err                string
	}{
		{"none", "none", "User x\n", home, "", ""},
		{"default missing", "", "", home, "", ""},
		{"default", "", "User x\n", home, "x", ""},
		{"no home", "", "User x\n", "", "", ""},
		{"named missing", filepath.Join(home, "missing"), "", home, "", "ssh_config: open " + filepath.Join(home, "missing") + ": no such file or directory"},
		{"include in order, relative to ~/.ssh", "", "Include conf.d/*.conf\n", home, "a", ""},
		{"include applies from where it stands", "", "Host *\n  User first\nInclude conf.d/*.conf\n", home, "first", ""},
		{"include nested too deep", "", "Include deep\n", home, "", ":1: Include nested more than 16 deep"},
		{"bad include pattern", "", "Include [\n", home, "", `Include "[": syntax error in pattern`},
		{"include of ~user", "", "Include ~root/x\n", home, "", `Include "~root/x": ~user is not supported`},
		{"match needs an argument", "", "Match host\n", home, "", "config:1: Match host needs an argument"},
		{"unknown match", "", "Match colour blue\n  Port 1\n", home, "", `config:1: unsupported Match criterion "colour"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			os.Remove(filepath.Join(ssh, "config"))
			if tc.config != "" {
				writeFile(t, filepath.Join(ssh, "config"), tc.config)
			}
			s := sshconfig.New(sshconfig.Host{Alias: "web1", LocalUser: "me", Home: tc.home})
			err := s.ReadFile(tc.file)
			if tc.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.user, s.Get("user"))
		})
	}
}

// TestMatchNotEvaluated checks that Match exec, localnetwork and tagged
// count as false and are logged: wpfix runs no command from ssh_config.
func TestMatchNotEvaluated(t *testing.T) {
	config := writeFile(t, filepath.Join(t.TempDir(), "config"),
		"Match exec true\n  User a\nMatch !localnetwork 10.0.0.0/8\n  Port 1\n")
	var logs bytes.Buffer
	s := sshconfig.New(sshconfig.Host{Alias: "web1", Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	require.NoError(t, s.ReadFile(config))
	assert.Equal(t, "", s.Get("user"))
	assert.Equal(t, "1", s.Get("port"))
	assert.Contains(t, logs.String(), "criterion=exec")
	assert.Contains(t, logs.String(), "criterion=localnetwork")
}

func TestExpand(t *testing.T) {
	tokens := map[byte]string{'h': "web1", 'p': "22"}
	for _, tc := range []struct {
		name, in, home, want, err string
	}{
		{"plain", "/keys/a", "/home/me", "/keys/a", ""},
		{"tilde", "~/.ssh/%h_%p", "/home/me", "/home/me/.ssh/web1_22", ""},
		{"lone tilde", "~", "/home/me", "/home/me", ""},
		{"percent", "a%%b", "", "a%b", ""},
		{"no home", "~/x", "", "", `IdentityFile "~/x": no home directory for ~ (set HOME)`},
		{"tilde user", "~root/x", "/home/me", "", `IdentityFile "~root/x": ~user is not supported; write the path`},
		{"unknown token", "~/.ssh/%C", "/home/me", "", `IdentityFile "/home/me/.ssh/%C": token %C is not supported here`},
		{"lone percent", "a%", "/home/me", "", `IdentityFile "a%": a lone % at the end`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := sshconfig.ExpandPath(tc.in, "IdentityFile", tc.home, tokens)
			if tc.err != "" {
				require.EqualError(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

// TestMatchesOpenSSH reads configs that use patterns, Match, Include and
// first-value-wins, and checks the result against what OpenSSH's own
// `ssh -G` makes of the same config. The defaults filled in at the end are
// remote's (the alias in lower case, the local user, port 22).
func TestMatchesOpenSSH(t *testing.T) {
	sshBin := proctest.Require(t, "openssh-client", "ssh")
	home := t.TempDir()
	t.Setenv("HOME", home)
	local := localUser(t)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "inc.conf"), "Host web1\n  Port 1111\n")
	writeFile(t, filepath.Join(dir, "inc2.conf"), "Host *\n  Port 3333\n")

	for _, tc := range []struct {
		name   string
		config string
		hosts  []string // [user@]alias
		port   int      // the -p flag
	}{
		{"first value wins", "Host web*\n  Port 2201\n  User first\nHost web1\n  Port 2202\n  User second\n  HostName web1.example.com\n",
			[]string{"web1", "web2", "db1"}, 0},
		{"question mark is one character", "Host web?\n  Port 1111\nHost *\n  Port 2222\n",
			[]string{"web", "web1", "web12"}, 0},
		{"negation", "Host *.example.com !db.example.com\n  User app\n",
			[]string{"www.example.com", "db.example.com"}, 0},
		{"case", "Host WEB1\n  Port 1111\n", []string{"WEB1", "web1"}, 0},
		{"hostname token", "Host *.prod\n  HostName %h.example.com\n", []string{"a.prod", "b"}, 0},
		{"match", "Host web\n  HostName real.example.com\nMatch host real.example.com\n  Port 2300\n" +
			"Match originalhost web user deploy\n  User ignored\nMatch user root,deploy !localuser nobody\n  ProxyJump bastion\n",
			[]string{"web", "deploy@web", "other@web"}, 0},
		{"match final", "Host web\n  HostName real.example\nHost real.example\n  Port 1111\nMatch final\n  User x\n",
			[]string{"web"}, 0},
		{"include", "Include " + dir + "/inc.conf\nHost *\n  Port 2222\n", []string{"web1", "web2"}, 0},
		{"include in a block that does not apply", "Host other\n  Include " + dir + "/inc2.conf\nHost *\n  User u\n",
			[]string{"web1", "other"}, 0},
		{"flag beats config", "Host web1\n  Port 1111\n", []string{"web1", "u@web1"}, 2000},
		{"proxy jump", "Host a\n  ProxyJump j1,u@j2:2222\nHost b\n  ProxyJump none\nHost *\n  ProxyJump j3\n",
			[]string{"a", "b", "c"}, 0},
		{"equals quotes comments", "Host = web1 # the web server\n  Port=1111\n  User \"deploy\" # who\n  HostName 'w1'\n",
			[]string{"web1"}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			config := writeFile(t, filepath.Join(t.TempDir(), "config"), tc.config)
			for _, host := range tc.hosts {
				args := []string{"-G", "-F", config}
				if tc.port != 0 {
					args = append(args, "-p", strconv.Itoa(tc.port))
				}
				out, err := exec.Command(sshBin, append(args, host)...).Output()
				require.NoError(t, err, "ssh -G %s", host)
				want := sshG(string(out))

				alias := host
				s := sshconfig.New(sshconfig.Host{Alias: alias, LocalUser: local, Home: home})
				if u, a, ok := strings.Cut(host, "@"); ok {
					alias = a
					s = sshconfig.New(sshconfig.Host{Alias: alias, LocalUser: local, Home: home})
					s.Set("user", u)
				}
				if tc.port != 0 {
					s.Set("port", strconv.Itoa(tc.port))
				}
				require.NoError(t, s.ReadFile(config), host)
				got := map[string]string{"hostname": strings.ToLower(alias), "user": local, "port": "22", "proxyjump": ""}
				if v := s.Get("hostname"); v != "" {
					got["hostname"], err = sshconfig.ExpandTokens(v, "HostName", map[byte]string{'h': alias})
					require.NoError(t, err)
				}
				for _, k := range []string{"user", "port", "proxyjump"} {
					if v := s.Get(k); v != "" && !strings.EqualFold(v, "none") {
						got[k] = v
					}
				}
				assert.Equal(t, want, got, "%s in\n%s", host, tc.config)
			}
		})
	}
}

// sshG picks the settings compared from `ssh -G` output.
func sshG(out string) map[string]string {
	m := map[string]string{"proxyjump": ""}
	for _, line := range strings.Split(out, "\n") {
		k, v, _ := strings.Cut(line, " ")
		switch k {
		case "hostname", "user", "port":
			m[k] = v
		case "proxyjump":
			if v != "none" {
				m[k] = v
			}
		}
	}
	return m
}

func localUser(t *testing.T) string {
	t.Helper()
	u, err := user.Current()
	require.NoError(t, err)
	return u.Username
}

// writeFile writes a file (0600), creating its directory (0700), and
// returns its path.
func writeFile(t *testing.T, path, content string) string {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o700))
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	return path
}
