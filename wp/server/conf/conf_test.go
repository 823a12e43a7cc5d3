package conf_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wpfix/wpfix/remote"
	"github.com/wpfix/wpfix/wp/server/conf"
)

func TestFCGITarget(t *testing.T) {
	for in, want := range map[string]conf.Target{
		"unix:/run/php/x.sock":   "unix:/run/php/x.sock",
		"/run/php/../php/x.sock": "unix:/run/php/x.sock",
		"127.0.0.1:9000":         "tcp:127.0.0.1:9000",
		"localhost:9000":         "tcp:127.0.0.1:9000",
		"[::1]:9000":             "tcp:127.0.0.1:9000",
		"9000":                   "tcp:*:9000",
		"[::]:9000":              "tcp:*:9000",
		"0.0.0.0:9000":           "tcp:*:9000",
		"php.internal:9000":      "tcp:php.internal:9000",
		"$backend":               "",
		"php-upstream":           "",
		"unix:relative.sock":     "",
		"host:99999":             "",
	} {
		got, ok := conf.ParseTarget(in)
		assert.Equal(t, want, got, in)
		assert.Equal(t, want != "", ok, in)
	}
	for _, c := range []struct {
		target, listen conf.Target
		want           bool
	}{
		{"unix:/a.sock", "unix:/a.sock", true},
		{"unix:/a.sock", "unix:/b.sock", false},
		{"tcp:127.0.0.1:9000", "tcp:*:9000", true},
		{"tcp:127.0.0.1:9000", "tcp:127.0.0.1:9000", true},
		{"tcp:127.0.0.1:9000", "tcp:127.0.0.1:9001", false},
		{"tcp:10.0.0.2:9000", "tcp:127.0.0.1:9000", false},
		{"tcp:127.0.0.1:9000", "unix:/a.sock", false},
	} {
		assert.Equal(t, c.want, c.target.Reaches(c.listen), "%s → %s", c.target, c.listen)
	}
}

func TestRootMatch(t *testing.T) {
	for _, c := range []struct {
		name    string
		roots   []string
		docroot string
		want    []bool
	}{
		{"exact", []string{"/var/www/a", "/var/www/b"}, "/var/www/a", []bool{true, false}},
		{"exact beats above", []string{"/var/www", "/var/www/a/"}, "/var/www/a", []bool{false, true}},
		{"closest above", []string{"/", "/var/www", "/var/www/a", "/var"}, "/var/www/a/blog", []bool{false, false, true, false}},
		{"a sibling with a common prefix", []string{"/var/www/a"}, "/var/www/ab", []bool{false}},
		{"unknown", []string{"", "/srv"}, "/var/www/a", []bool{false, false}},
		{"same root twice", []string{"/a", "/a"}, "/a", []bool{true, true}},
	} {
		t.Run(c.name, func(t *testing.T) {
			assert.Equal(t, c.want, conf.RootMatch(c.roots, c.docroot))
		})
	}
}

// TestHostGlob expands patterns through a Host as nginx's, Apache's and
// php-fpm's glob(3) do.
func TestHostGlob(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"a/x/one.conf", "a/y/two.conf", "a/y/.hidden.conf", "a/y/three.txt", "a/.z/four.conf", "b.conf"} {
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(dir, f)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, f), nil, 0o644))
	}
	files := conf.NewFiles(remote.FS(context.Background(), remote.NewLocal()))
	assert.Equal(t, []string{dir + "/a/x/one.conf", dir + "/a/y/two.conf"}, files.Glob(dir+"/a/*/*.conf"))
	assert.Equal(t, []string{dir + "/a/y/.hidden.conf"}, files.Glob(dir+"/a/y/.*.conf"))
	assert.Equal(t, []string{dir + "/b.conf"}, files.Glob(dir+"/b.conf"))
	assert.Empty(t, files.Glob(dir+"/missing.conf"))
	assert.Empty(t, files.Glob(dir+"/nothing/*.conf"))
	assert.Empty(t, files.Glob(dir+"/a/[.conf"), "a bad pattern matches nothing")
	assert.Empty(t, files.Glob("relative/*.conf"))
}

// TestSettingJSON: a Setting is written as the reports always had it,
// {"value", "source"} with the source left out when empty; PHP values keep
// an empty source and say "admin"; both read back.
func TestSettingJSON(t *testing.T) {
	for _, c := range []struct {
		name string
		v    any
		want string
	}{
		{"set", conf.Setting{Value: "dynamic", File: "/etc/www.conf", Line: 9}, `{"value":"dynamic","source":"/etc/www.conf line 9"}`},
		{"unset", conf.Setting{}, `{"value":""}`},
		{"a place", conf.Setting{Value: "256M", File: "/var/www/wp-config.php"}, `{"value":"256M","source":"/var/www/wp-config.php"}`},
		{"no file", conf.Setting{Value: "128M", Origin: "PHP under the web server"}, `{"value":"128M","source":"PHP under the web server"}`},
		{"php values", conf.PHPValues{"memory_limit": {Value: "512M", File: "/p.conf", Line: 14, Admin: true}, "max_input_vars": {Value: "1000"}},
			`{"max_input_vars":{"value":"1000","source":""},"memory_limit":{"value":"512M","admin":true,"source":"/p.conf line 14"}}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			b, err := json.Marshal(c.v)
			require.NoError(t, err)
			assert.Equal(t, c.want, string(b))
			back := reflect.New(reflect.TypeOf(c.v))
			require.NoError(t, json.Unmarshal(b, back.Interface()))
			assert.Equal(t, c.v, back.Elem().Interface())
		})
	}
	assert.Equal(t, "/a.conf line 3: include: /b.conf could not be read: permission denied",
		conf.Warning{File: "/a.conf", Line: 3, Directive: "include", Message: "/b.conf could not be read: permission denied"}.String())
}
