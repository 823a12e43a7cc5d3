package agent

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"strings"
)

// cacheFlusher keeps a persistent object cache (an object-cache.php
// drop-in backed by Redis, Memcached …) from hiding wpfix's option writes:
// WordPress reads options through the cache, so after a theme switch it
// would go on serving the old template and stylesheet. A small PHP file,
// journaled, guarded by a random token and removed at the end, boots
// WordPress with SHORTINIT (the object cache starts, no plugin or theme
// loads) and deletes the cached copies of the options wpfix writes. Only
// those keys go: a cache shared with other sites is not flushed.
type cacheFlusher struct {
	b    *bisection
	step *Step // Path is the file; To its URL; New its token (see helperURL)
}

// flushedOptions are the cache keys (group "options") deleted after each
// change: the autoloaded set, the cache of missing options, and each
// protected option.
var flushedOptions = append([]string{"alloptions", "notoptions"}, protectedOptions...)

func cacheFlushPHP(tokenHash string) string {
	keys := "'" + strings.Join(flushedOptions, "', '") + "'"
	return `<?php
// wpfix: a temporary helper, journaled in wp-content/.wpfix/journal and
// removed when wpfix ends ('wpfix restore' removes it after a crash). It
// deletes the object cache's copies of the options wpfix has just written.
if ( ! isset( $_GET['t'] ) || ! hash_equals( '` + tokenHash + `', hash( 'sha256', (string) $_GET['t'] ) ) ) {
	http_response_code( 404 );
	exit;
}
define( 'SHORTINIT', true );
require __DIR__ . '/wp-load.php';
foreach ( array( ` + keys + ` ) as $key ) {
	wp_cache_delete( $key, 'options' );
}
echo 'wpfix: flushed';
`
}

// installCacheFlusher puts the helper in place when the site has an
// object-cache.php drop-in and the theme is a candidate.
func (b *bisection) installCacheFlusher(ctx context.Context, siteURL string) (*cacheFlusher, error) {
	token := hex.EncodeToString(randomBytes(24))
	sum := sha256.Sum256([]byte(token))
	name := "wpfix-" + hex.EncodeToString(randomBytes(8)) + ".php"
	u, err := url.Parse(strings.TrimRight(siteURL, "/") + "/" + name)
	if err != nil {
		return nil, fmt.Errorf("the helper's URL: %w", err)
	}
	// The step keeps the URL and token so that restore, after a crash, can
	// flush too. The token guards nothing worse than the deletion of these
	// few cache keys.
	st := &Step{Op: "create", Path: path.Join(b.site.WP.Root, name), To: u.String(), New: token,
		Why: "wpfix bisect: delete the object cache's copies of the options it writes"}
	if err := b.journal.CreateStep(ctx, st, []byte(cacheFlushPHP(hex.EncodeToString(sum[:])))); err != nil {
		return nil, err
	}
	return &cacheFlusher{b: b, step: st}, nil
}

// helperURL is the URL that runs a helper step's flush, with a fresh
// value besides the token so no cache in front of the site answers it.
func helperURL(st *Step) (*url.URL, error) {
	u, err := url.Parse(st.To)
	if err != nil {
		return nil, err
	}
	u.RawQuery = url.Values{"t": {st.New}, "wpfix": {hex.EncodeToString(randomBytes(8))}}.Encode()
	return u, nil
}

// flushVia runs a helper step's flush with a plain client, for restore,
// which has no prober. It reports whether the helper answered.
func flushVia(ctx context.Context, st *Step) bool {
	u, err := helperURL(st)
	if err != nil {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, DefaultProbeTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return false
	}
	req.Header.Set("Cache-Control", "no-cache")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
	return resp.StatusCode == 200 && strings.Contains(string(body), "wpfix: flushed")
}

// flush asks the helper to delete the cached options. A failure is not
// fatal (the object cache drop-in itself may be what breaks the site, and
// then it is off at times anyway); it is noted once.
func (f *cacheFlusher) flush(ctx context.Context) {
	u, err := helperURL(f.step)
	if err == nil {
		resp, body, gerr := f.b.prober.get(ctx, u)
		if gerr == nil && resp.StatusCode == 200 && strings.Contains(string(body), "wpfix: flushed") {
			return
		}
	}
	note := "the object cache could not be told to forget the options wpfix wrote; the theme's result may be stale"
	for _, n := range f.b.report.Notes {
		if n == note {
			return
		}
	}
	f.b.report.Notes = append(f.b.report.Notes, note)
}

// remove takes the helper away, journaled.
func (f *cacheFlusher) remove(ctx context.Context) error {
	return f.b.journal.Undo(ctx, f.step)
}
