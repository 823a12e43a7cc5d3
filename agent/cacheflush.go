package agent

import (
	"context"
	"strings"

	"github.com/wpfix/wpfix/agent/journal"
)

// cacheFlusher keeps a persistent object cache (an object-cache.php
// drop-in backed by Redis, Memcached …) from hiding wpfix's option writes:
// WordPress reads options through the cache, so after a theme switch it
// would go on serving the old template and stylesheet. A Helper boots
// WordPress with SHORTINIT (the object cache starts, no plugin or theme
// loads) and deletes the cached copies of the options wpfix writes. Only
// those keys go: a cache shared with other sites is not flushed.
type cacheFlusher struct {
	b      *bisection
	helper *Helper
}

// flushedOptions are the cache keys (group "options") deleted after each
// change: the autoloaded set, the cache of missing options, and each
// protected option.
var flushedOptions = append([]string{"alloptions", "notoptions"}, journal.ProtectedOptions...)

// cacheFlushFile is the flusher's helper. Its token is journaled so that
// restore, after a crash, can flush too; the token guards nothing worse
// than the deletion of these few cache keys.
func cacheFlushFile() helperFile {
	keys := "'" + strings.Join(flushedOptions, "', '") + "'"
	return helperFile{
		Purpose: "flush",
		Comment: `// wpfix: a temporary helper, journaled in wp-content/.wpfix/journal and
// removed when wpfix ends ('wpfix restore' removes it after a crash). It
// deletes the object cache's copies of the options wpfix has just written.
`,
		Body: `define( 'SHORTINIT', true );
require __DIR__ . '/wp-load.php';
foreach ( array( ` + keys + ` ) as $key ) {
	wp_cache_delete( $key, 'options' );
}
echo 'wpfix: flushed';
`,
		Why:   "wpfix bisect: delete the object cache's copies of the options it writes",
		Rerun: true,
	}
}

// installCacheFlusher puts the helper in place when the site has an
// object-cache.php drop-in and the theme is a candidate.
func (b *bisection) installCacheFlusher(ctx context.Context, siteURL string) (*cacheFlusher, error) {
	h, err := newHelper(b.site.WP.Root, siteURL, cacheFlushFile())
	if err != nil {
		return nil, err
	}
	if err := h.Place(ctx, b.journal); err != nil {
		return nil, err
	}
	return &cacheFlusher{b: b, helper: h}, nil
}

// flushed reports whether a helper's answer is the flusher's.
func flushed(status int, body []byte) bool {
	return status == 200 && strings.Contains(string(body), "wpfix: flushed")
}

// flushVia asks a helper a journal holds, after a crash, to flush, at the
// URL rebuilt from the site (rerunURL), with p's manners: no redirect to
// another host, no proxy from the environment, a timeout. It reports
// whether the helper answered; false and no request when the step kept
// no token.
func flushVia(ctx context.Context, p *Prober, j *journal.Journal, st *journal.Step, siteURL string) (bool, error) {
	u, err := rerunURL(j, st, siteURL)
	if err != nil || u == nil {
		return false, err
	}
	resp, body, err := p.get(ctx, u)
	if err != nil {
		return false, err
	}
	return flushed(resp.StatusCode, body), nil
}

// flush asks the helper to delete the cached options, with a fresh value
// besides the token so no cache in front of the site answers it. A failure
// is not fatal (the object cache drop-in itself may be what breaks the
// site, and then it is off at times anyway); it is noted once.
func (f *cacheFlusher) flush(ctx context.Context) {
	resp, body, err := f.b.prober.get(ctx, f.helper.URL(freshValue()))
	if err == nil && flushed(resp.StatusCode, body) {
		return
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
	return f.helper.Remove(ctx)
}
