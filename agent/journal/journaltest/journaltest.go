// Package journaltest helps test the journal and what restores from it, as
// net/http/httptest helps test HTTP: a site's options in memory, and a site
// left half taken apart with the journal of the release before.
package journaltest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/wpfix/wpfix/agent/journal"
)

// MemOptions is a site's options in memory, for tests of the journal and
// of what restores from it.
type MemOptions struct {
	mu      sync.Mutex
	Values  map[string]string
	Network map[string]string
}

// NewMemOptions holds the given options.
func NewMemOptions(values map[string]string) *MemOptions {
	return &MemOptions{Values: values, Network: map[string]string{}}
}

// Option implements journal.Options.
func (m *MemOptions) Option(_ context.Context, name string) (string, bool, error) {
	return m.get(&m.Values, name)
}

// SetOption implements journal.Options.
func (m *MemOptions) SetOption(_ context.Context, name, value string) error {
	return m.set(&m.Values, name, value)
}

// DeleteOption implements journal.Options.
func (m *MemOptions) DeleteOption(_ context.Context, name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.Values, name)
	return nil
}

// SiteOption implements journal.Options.
func (m *MemOptions) SiteOption(_ context.Context, key string) (string, bool, error) {
	return m.get(&m.Network, key)
}

// SetSiteOption implements journal.Options.
func (m *MemOptions) SetSiteOption(_ context.Context, key, value string) error {
	return m.set(&m.Network, key, value)
}

// get reads key of one of the option tables, Values or Network.
func (m *MemOptions) get(table *map[string]string, key string) (string, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := (*table)[key]
	return v, ok, nil
}

// set writes key of one of the option tables, Values or Network.
func (m *MemOptions) set(table *map[string]string, key, value string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	(*table)[key] = value
	return nil
}

// WriteLegacyHelperJournal lays out, under dir, a site (wp-content with a
// quarantined plugin, a helper file in the docroot) as a run of the release
// before the typed operations left it when killed, with that release's
// journal (testdata/legacy-helper.journal, whose helper is served under
// url). It returns the docroot and wp-content.
func WriteLegacyHelperJournal(t testing.TB, golden, dir, url string) (root, content string) {
	t.Helper()
	root = filepath.Join(dir, "site")
	content = filepath.Join(root, "wp-content")
	for _, d := range []string{filepath.Join(content, "plugins"), filepath.Join(content, journal.StateDir, "quarantine", "plugin", "slider-pro")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "wpfix-0123456789abcdef.php"), []byte("<?php // helper\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	s := strings.NewReplacer("@ROOT@", root, "@CONTENT@", content, "@URL@", url).Replace(string(b))
	if err := os.WriteFile(filepath.Join(content, journal.StateDir, "journal"), []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
	return root, content
}
