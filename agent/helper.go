package agent

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"path"
	"strings"

	"github.com/wpfix/wpfix/agent/journal"
)

// helperFile is what a helper is for: the PHP it runs once its token is
// checked.
type helperFile struct {
	// Purpose names the file: wpfix-<purpose>-<16 hex digits>.php (see
	// journal.HelperName), the only shape restore removes or requests.
	Purpose string
	// Comment are the PHP comment lines at the top, for whoever finds it.
	Comment string
	// Body is the PHP run once the token is checked.
	Body string
	// Why is the journal step's.
	Why string
	// Rerun keeps the token in the journal, so that restore requests the
	// helper once more after a crash.
	Rerun bool
}

// Helper is a temporary PHP file wpfix places in a site's docroot to ask
// the web server's PHP something (its limits; to flush the object cache):
// randomly named, journaled before it is placed, answering only a request
// that carries its token (the file holds only the token's SHA-256), and
// removed as soon as it has answered; restore removes it after a crash.
type Helper struct {
	f     helperFile
	path  string
	base  *url.URL // its URL, without the token
	token string
	j     *journal.Journal
	step  *journal.Step
}

// newHelper names a helper in root, served under siteURL; nothing is
// placed yet.
func newHelper(root, siteURL string, f helperFile) (*Helper, error) {
	name := journal.HelperName(f.Purpose, randomBytes(8))
	u, err := helperURL(siteURL, name)
	if err != nil {
		return nil, err
	}
	return &Helper{f: f, path: path.Join(root, name), base: u, token: hex.EncodeToString(randomBytes(24))}, nil
}

// helperURL is where the helper file name is served: in the docroot, which
// WordPress serves at its siteurl option.
func helperURL(siteURL, name string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimRight(siteURL, "/") + "/" + name)
	if err != nil {
		return nil, fmt.Errorf("the helper's URL: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("the helper's URL: siteurl %q is not an absolute http or https URL", redactURL(siteURL))
	}
	return u, nil
}

// tokenHash is what the file compares the token with.
func (h *Helper) tokenHash() string {
	sum := sha256.Sum256([]byte(h.token))
	return hex.EncodeToString(sum[:])
}

// php is the file: the token check, then the body.
func (h *Helper) php() string {
	return "<?php\n" + h.f.Comment + `if ( ! isset( $_GET['t'] ) || ! hash_equals( '` + h.tokenHash() + `', hash( 'sha256', (string) $_GET['t'] ) ) ) {
	http_response_code( 404 );
	exit;
}
` + h.f.Body
}

// Place journals the helper and writes it.
func (h *Helper) Place(ctx context.Context, j *journal.Journal) error {
	var token string
	if h.f.Rerun {
		token = h.token
	}
	st, err := j.PlaceHelper(ctx, journal.HelperFile{Path: h.path, URL: h.base.String(),
		TokenHash: h.tokenHash(), Token: token, Why: h.f.Why, Data: []byte(h.php())})
	if err != nil {
		return err
	}
	h.j, h.step = j, st
	return nil
}

// Path is where the helper's file is.
func (h *Helper) Path() string { return h.path }

// Base is the helper's URL without its token, fit for messages.
func (h *Helper) Base() *url.URL { u := *h.base; return &u }

// URL is the helper's URL with its token and the given values.
func (h *Helper) URL(extra url.Values) *url.URL {
	return withToken(h.base, h.token, extra)
}

func withToken(base *url.URL, token string, extra url.Values) *url.URL {
	u := *base
	q := url.Values{"t": {token}}
	for k, v := range extra {
		q[k] = v
	}
	u.RawQuery = q.Encode()
	return &u
}

// Remove takes the placed helper away, journaled.
func (h *Helper) Remove(ctx context.Context) error {
	return h.j.Undo(ctx, h.step)
}

// rerunURL is the URL restore requests a helper step at after a crash;
// nil when the step kept no token. It is rebuilt from the site, never read
// from the journal: the site's siteurl and the helper's file name, which
// the journal checked against the site's docroot. Only the token comes
// from the journal, and it opens nothing but the helper (the flusher
// deletes a few cache keys).
func rerunURL(j *journal.Journal, st *journal.Step, siteURL string) (*url.URL, error) {
	if st.Op != journal.OpHelper || st.Token == "" {
		return nil, nil
	}
	file, err := j.HelperPath(st)
	if err != nil {
		return nil, err
	}
	u, err := helperURL(siteURL, path.Base(file))
	if err != nil {
		return nil, err
	}
	return withToken(u, st.Token, nil), nil
}

// freshValue is a query value that makes a request unlike any before it.
func freshValue() url.Values { return url.Values{"wpfix": {hex.EncodeToString(randomBytes(8))}} }
