package server_test

import (
	"github.com/wpfix/wpfix/remote/sshtest"
	"github.com/wpfix/wpfix/wp/wptest"
)

// reaches are how the tests reach a stack: a host to read it through.
var reaches = []wptest.Reach{
	{Name: "local"},
	{Name: "ssh", SSH: &sshtest.Options{}},
}
