package sshconfig

import (
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// FuzzParse checks that Parse never panics, that what it accepts is
// stable (Format writes it back so that Parse reads the same directives,
// and the same settings follow from them), and that reading the settings
// of a host from it never panics. Include reads from a map of two files,
// not from the disk.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"",
		"# only a comment\n",
		"Host web1\n  HostName 10.0.0.1\n  Port 2200\n  User deploy\n",
		"Host *.example.com !db.example.com\n  User app\nHost *\n  Port 22\n",
		"Host = web1 # the web server\n  Port=1111\n  User \"deploy\" # who\n  HostName 'w1'\n",
		"Host web\n  HostName real.example\nMatch host real.example user root,deploy !localuser nobody\n  ProxyJump bastion\n",
		"Match final\n  User x\nMatch canonical all\n  Port 1\n",
		"Match exec \"true\" localnetwork 10.0.0.0/8\n  Port 1\n",
		"Include inc\nHost *\n  IdentityFile ~/.ssh/%h_%r\n  IdentityFile %d/id\n",
		"Host other\n  Include /home/.ssh/*\nHost *\n  ProxyJump j1,u@j2:2222\n",
		"Include config\n",
		"Host web1\n  User \"deploy\n",
		"Host web1\n  Port\n",
		"Host a\\ b \"c d\" 'e\\'f' g\\\\h\n  HostName %h.%%\n",
		"Match colour blue\n",
		"=x\n\tHost\t\t*\r\n",
	} {
		f.Add(seed)
	}
	const home = "/home"
	f.Fuzz(func(t *testing.T, text string) {
		lines, err := Parse("config", []byte(text))
		if err == nil {
			again, err := Parse("formatted", []byte(Format(lines)))
			if err != nil {
				t.Fatalf("Parse(Format(%q)): %v\nformatted: %q", text, err, Format(lines))
			}
			if !sameDirectives(lines, again) {
				t.Fatalf("Parse(Format(%q)) = %+v, want %+v", text, again, lines)
			}
			if Format(again) != Format(lines) {
				t.Fatalf("Format is not stable for %q", text)
			}
		}

		files := map[string]string{
			home + "/.ssh/config": text,
			home + "/.ssh/inc":    "Host *\n  Port 1\n  Include config\n",
		}
		read := func(config string) (map[string][]string, error) {
			files[home+"/.ssh/config"] = config
			s := New(Host{Alias: "web1", LocalUser: "me", Home: home})
			s.readFile = func(name string) ([]byte, error) {
				b, ok := files[name]
				if !ok {
					return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
				}
				return []byte(b), nil
			}
			s.glob = func(pattern string) ([]string, error) {
				if _, err := filepath.Match(pattern, ""); err != nil {
					return nil, err
				}
				var out []string
				for name := range files {
					if ok, _ := filepath.Match(pattern, name); ok {
						out = append(out, name)
					}
				}
				slices.Sort(out)
				return out, nil
			}
			s.stat = func(name string) (fs.FileInfo, error) { return nil, nil }
			start := time.Now()
			err := s.ReadFile("")
			if d := time.Since(start); d > 5*time.Second {
				t.Fatalf("reading %q took %v", config, d)
			}
			return s.vals, err
		}
		vals, err := read(text)
		if lines == nil || err != nil || strings.Contains(strings.ToLower(text), "include") {
			return // an Include of config reads the text itself, not its formatted copy
		}
		formatted, err := read(Format(lines))
		if err != nil {
			t.Fatalf("reading Format(%q): %v", text, err)
		}
		if !equalVals(vals, formatted) {
			t.Fatalf("settings of %q: %q, of its formatted copy: %q", text, vals, formatted)
		}
	})
}

// sameDirectives compares keywords and arguments, not where they are.
func sameDirectives(a, b []Line) bool {
	return slices.EqualFunc(a, b, func(x, y Line) bool { return x.Key == y.Key && slices.Equal(x.Args, y.Args) })
}

func equalVals(a, b map[string][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || !slices.Equal(v, w) {
			return false
		}
	}
	return true
}
