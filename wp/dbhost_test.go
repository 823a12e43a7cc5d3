package wp

import (
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseDBHost(t *testing.T) {
	tests := []struct {
		in      string
		network string
		addr    string
	}{
		{"localhost", "unix", ""},
		{"LocalHost", "unix", ""},
		{"localhost:3307", "unix", ""}, // mysqlnd ignores the port for localhost
		{"localhost:/var/run/mysqld/mysqld.sock", "unix", "/var/run/mysqld/mysqld.sock"},
		{":/tmp/mysql.sock", "unix", "/tmp/mysql.sock"},
		{"localhost:3307:/tmp/mysql.sock", "unix", "/tmp/mysql.sock"},
		{":3307", "unix", ""}, // no host: mysqli's default host, localhost
		{"db", "tcp", "db:3306"},
		{"db.example.com", "tcp", "db.example.com:3306"},
		{"db.example.com:3307", "tcp", "db.example.com:3307"},
		{"127.0.0.1", "tcp", "127.0.0.1:3306"},
		{"127.0.0.1:3307", "tcp", "127.0.0.1:3307"},
		{"127.0.0.1:0", "tcp", "127.0.0.1:3306"}, // 0 is mysqli.default_port
		{"127.0.0.1:03307", "tcp", "127.0.0.1:3307"},
		{"10.0.0.5:/tmp/mysql.sock", "tcp", "10.0.0.5:3306"}, // a socket is only for localhost
		{"::1", "tcp", "[::1]:3306"},
		{"[::1]", "tcp", "[::1]:3306"},
		{"[::1]:3307", "tcp", "[::1]:3307"},
		{"fe80::1:2", "tcp", "[fe80::1:2]:3306"},
		{"[2001:db8::5]:33060", "tcp", "[2001:db8::5]:33060"},
		{"my_db-1", "tcp", "my_db-1:3306"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			a, err := ParseDBHost(tt.in)
			require.NoError(t, err)
			assert.Equal(t, DBAddress{Network: tt.network, Addr: tt.addr}, a)
		})
	}
	for _, in := range []string{"", ":", "db:", "db:abc", "db:3306x", "db:-1", "db:+1", "db:65536", "db:99999999999999999999",
		"[::1", "[::1]:", "[::1]x", "[::1]:abc", "::1%eth0", "::g", "[1.2.3.4]", "db/x", " db", "db ", "localhost:/", "user@db", "db\n"} {
		t.Run("bad "+in, func(t *testing.T) {
			_, err := ParseDBHost(in)
			assert.ErrorIs(t, err, ErrBadDBHost)
		})
	}
}

func TestDBAddressString(t *testing.T) {
	assert.Equal(t, "unix:(default socket)", DBAddress{Network: "unix"}.String())
	assert.Equal(t, "unix:/tmp/s", DBAddress{Network: "unix", Addr: "/tmp/s"}.String())
	assert.Equal(t, "tcp:db:3306", DBAddress{Network: "tcp", Addr: "db:3306"}.String())
}

func FuzzParseDBHost(f *testing.F) {
	for _, s := range []string{"localhost", "localhost:3307", "db:3306", "[::1]:3306", "::1", ":/tmp/s", "localhost:/x:/y", "[", "]:", "::", "a:b:c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseDBHost(s)
		if err != nil {
			if !errors.Is(err, ErrBadDBHost) {
				t.Fatalf("error does not wrap ErrBadDBHost: %v", err)
			}
			return
		}
		switch a.Network {
		case "tcp":
			host, port, err := net.SplitHostPort(a.Addr)
			if err != nil || host == "" {
				t.Fatalf("%q: bad tcp address %q: %v", s, a.Addr, err)
			}
			if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
				t.Fatalf("%q: bad port in %q", s, a.Addr)
			}
		case "unix":
			if a.Addr != "" && !strings.HasPrefix(a.Addr, "/") {
				t.Fatalf("%q: socket %q is not a path", s, a.Addr)
			}
		default:
			t.Fatalf("%q: network %q", s, a.Network)
		}
	})
}
