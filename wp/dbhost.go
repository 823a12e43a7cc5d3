package wp

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
)

// DBAddress is where the database server listens, as PHP's mysqli reaches
// it from DB_HOST.
type DBAddress struct {
	// Network is "tcp" or "unix".
	Network string
	// Addr is host:port for "tcp", and the socket's path for "unix"; ""
	// means PHP's default socket (mysqli.default_socket, or the path PHP
	// was built with), which the caller must find.
	Addr string
}

// String returns the address as network:addr, e.g. "tcp:db:3306",
// "unix:/run/mysqld/mysqld.sock" or "unix:(default socket)".
func (a DBAddress) String() string {
	if a.Network == "unix" && a.Addr == "" {
		return "unix:(default socket)"
	}
	return a.Network + ":" + a.Addr
}

// DefaultDBPort is MySQL's port, mysqli.default_port's default.
const DefaultDBPort = 3306

// ErrBadDBHost is wrapped by ParseDBHost's errors.
var ErrBadDBHost = errors.New("bad DB_HOST")

// ParseDBHost says where DB_HOST leads, as WordPress's
// wpdb::parse_db_host splits it and PHP's mysqli (mysqlnd) then connects:
//
//	db.example.com, db:3307, 10.0.0.5:3307    tcp, port 3306 by default
//	::1, [::1], [::1]:3307                     tcp to an IPv6 address
//	localhost, LOCALHOST                       unix, PHP's default socket (Addr "")
//	localhost:/run/mysqld/mysqld.sock          unix, that socket
//	:/run/mysqld/mysqld.sock                   unix, that socket
//	localhost:3307                             unix, PHP's default socket
//
// mysqlnd reaches "localhost" through a Unix socket whatever the port, so
// localhost:3307 ignores the port: to reach a server on port 3307 over TCP,
// DB_HOST must say 127.0.0.1:3307. Likewise a socket path after a host
// other than localhost is ignored (PHP uses TCP). Where WordPress would
// silently drop what it cannot read (a port that is not a number, text
// after the address), and for an empty DB_HOST (PHP would fall back to
// mysqli.default_host), ParseDBHost fails with an error wrapping
// ErrBadDBHost.
func ParseDBHost(s string) (DBAddress, error) {
	bad := func(why string) (DBAddress, error) {
		return DBAddress{}, fmt.Errorf("%w %q: %s", ErrBadDBHost, s, why)
	}
	if s == "" {
		return bad("empty")
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] == 0x7f {
			return bad("has spaces or control characters")
		}
	}
	host, socket, hasSocket := s, "", false
	if i := strings.Index(s, ":/"); i >= 0 {
		host, socket, hasSocket = s[:i], s[i+1:], true
	}
	var port string
	switch {
	case strings.Count(host, ":") > 1: // IPv6, maybe [bracketed]:port
		if h, ok := strings.CutPrefix(host, "["); ok {
			inner, rest, closed := strings.Cut(h, "]")
			if !closed {
				return bad("no ] after the IPv6 address")
			}
			host = inner
			if rest != "" {
				p, ok := strings.CutPrefix(rest, ":")
				if !ok || p == "" {
					return bad("want [address]:port")
				}
				port = p
			}
		}
		if strings.Trim(host, "0123456789abcdefABCDEF:") != "" || net.ParseIP(host) == nil {
			return bad("not an IPv6 address")
		}
	default:
		var hasPort bool
		host, port, hasPort = strings.Cut(host, ":")
		if hasPort && port == "" {
			return bad("empty port")
		}
		if strings.ContainsAny(host, "/[]@") {
			return bad("not a host name")
		}
	}
	n := DefaultDBPort
	if port != "" {
		p, err := strconv.Atoi(port)
		if err != nil || p < 0 || p > 65535 || strings.ContainsAny(port, "+-") {
			return bad("port " + strconv.Quote(port) + " is not a number from 0 to 65535")
		}
		if p != 0 { // mysqli takes port 0 as mysqli.default_port
			n = p
		}
	}
	if host == "" || strings.EqualFold(host, "localhost") {
		if hasSocket && len(socket) > 1 {
			return DBAddress{Network: "unix", Addr: socket}, nil
		}
		if hasSocket {
			return bad("empty socket path")
		}
		return DBAddress{Network: "unix"}, nil
	}
	return DBAddress{Network: "tcp", Addr: net.JoinHostPort(host, strconv.Itoa(n))}, nil
}
