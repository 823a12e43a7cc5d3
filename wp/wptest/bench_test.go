package wptest_test

import (
	"testing"

	"github.com/wpfix/wpfix/wp/wptest"
)

// BenchmarkNewStack measures how long a fresh stack takes to start, with
// WordPress installed, once the packages are there.
func BenchmarkNewStack(b *testing.B) {
	for b.Loop() {
		wptest.NewStack(b, wptest.Options{})
	}
}

// BenchmarkFrontPage measures one request of the front page through nginx,
// php-fpm and MariaDB (no opcache, as configured by the stack).
func BenchmarkFrontPage(b *testing.B) {
	st := wptest.NewStack(b, wptest.Options{})
	if r := st.Get(b, "/"); r.Status != 200 {
		b.Fatalf("front page: %d", r.Status)
	}
	for b.Loop() {
		if r := st.Get(b, "/"); r.Status != 200 {
			b.Fatalf("front page: %d", r.Status)
		}
	}
}
