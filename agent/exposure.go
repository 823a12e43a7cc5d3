package agent

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"path"
	"strings"

	"github.com/wpfix/wpfix/agent/journal"
)

// StateDirCheck is what diagnose found of wpfix's own folder,
// wp-content/.wpfix, over HTTP: whether the web server hands out what is
// in it.
type StateDirCheck struct {
	// Dir is the folder on the host; URL is the request that decided.
	Dir string `json:"dir"`
	URL string `json:"url,omitempty"`
	// Holds is what the folder holds that must not be served: "journal",
	// "quarantine".
	Holds []string `json:"holds"`
	// Status is the decisive response's status.
	Status int `json:"status,omitempty"`
	// Served says the web server hands out the folder's files.
	Served bool `json:"served"`
	// Evidence says what was seen, for a person.
	Evidence string `json:"evidence,omitempty"`
	// Error says why the folder could not be checked.
	Error string `json:"error,omitempty"`
}

// checkStateDir tells whether wp-content/.wpfix is reachable over HTTP. It
// checks only when the folder holds something to protect: the journal
// (what a run changed, its snapshots) or a quarantine (the disabled
// extensions' PHP, which must not be run from the web); without either the
// exposure is not real, and it returns nil. It changes nothing and runs no
// PHP:
//
//   - With a journal there, it requests the journal itself. The folder is
//     served when the answer is 200 and its body starts with the journal's
//     own first bytes; anything else (nginx's 403 for `location ~ /\.`,
//     Apache's 403 for the .htaccess wpfix writes there, a 404) is a
//     server that keeps the file to itself.
//   - With only a quarantine, it requests a name that exists nowhere,
//     once under .wpfix and once beside it in wp-content: a server that
//     denies dot folders answers the first 403 (or 401) and the second
//     otherwise; the same answer to both (404, WordPress's 404 page) means
//     nothing treats .wpfix apart, so the quarantined files are served as
//     any other. A server that denies with 404 looks the same and is
//     reported as served: the evidence says which answers were seen.
//
// The requests go where the probe goes (--resolve included), to the
// content URL: WP_CONTENT_URL, or the siteurl (home) with wp-content's
// path under the docroot.
func checkStateDir(ctx context.Context, s *Site, po ProbeOptions) *StateDirCheck {
	dir := path.Join(s.WP.ContentDir, journal.StateDir)
	c := &StateDirCheck{Dir: dir, Holds: []string{}}
	jfile := path.Join(dir, "journal")
	if fi, err := s.Host.Lstat(ctx, jfile); err == nil && fi.Mode().IsRegular() {
		c.Holds = append(c.Holds, "journal")
	}
	if quarantined(ctx, s, path.Join(dir, "quarantine")) {
		c.Holds = append(c.Holds, "quarantine")
	}
	if len(c.Holds) == 0 {
		return nil
	}
	base, err := contentURL(ctx, s, po.URL)
	if err != nil {
		c.Error = err.Error()
		return c
	}
	get := func(rel string) (int, []byte, string, error) {
		u := base.JoinPath(strings.Split(rel, "/")...)
		o := po
		o.URL, o.Paths, o.Samples = u.String(), nil, 1
		p, err := NewProber(o)
		if err != nil {
			return 0, nil, u.Redacted(), err
		}
		resp, body, err := p.get(ctx, u)
		if err != nil {
			return 0, nil, u.Redacted(), fmt.Errorf("GET %s: %w", u.Redacted(), err)
		}
		return resp.StatusCode, body, u.Redacted(), nil
	}

	if c.Holds[0] == "journal" {
		head, err := s.Host.ReadHead(ctx, jfile, 256)
		if err != nil {
			c.Error = fmt.Sprintf("read %s: %v", jfile, err)
			return c
		}
		status, body, u, err := get(journal.StateDir + "/journal")
		c.URL, c.Status = u, status
		if err != nil {
			c.Error = err.Error()
			return c
		}
		c.Served = status == 200 && len(head) > 0 && bytes.HasPrefix(body, head)
		if c.Served {
			c.Evidence = fmt.Sprintf("GET %s: status 200 and the journal's content", u)
		} else {
			c.Evidence = fmt.Sprintf("GET %s: status %d, not the journal", u, status)
		}
		return c
	}

	name := "wpfix-probe-" + hex.EncodeToString(randomBytes(6))
	status, _, u, err := get(journal.StateDir + "/" + name)
	c.URL, c.Status = u, status
	if err != nil {
		c.Error = err.Error()
		return c
	}
	beside, _, bu, err := get(name)
	if err != nil {
		c.Error = err.Error()
		return c
	}
	denied := (status == 403 || status == 401) && beside != status
	c.Served = !denied
	if denied {
		c.Evidence = fmt.Sprintf("GET %s: status %d, where %s gives %d: the server denies the folder", u, status, bu, beside)
	} else {
		c.Evidence = fmt.Sprintf("GET %s: status %d, as %s gives %d: nothing denies the folder, so the quarantine is served "+
			"as any file of wp-content", u, status, bu, beside)
	}
	return c
}

// quarantined says whether the quarantine q holds an extension:
// q/<kind>/<name>, an empty kind folder left behind being none.
func quarantined(ctx context.Context, s *Site, q string) bool {
	kinds, err := s.Host.ReadDir(ctx, q)
	if err != nil {
		return false
	}
	for _, k := range kinds {
		if list, err := s.Host.ReadDir(ctx, path.Join(q, k.Name())); k.IsDir() && err == nil && len(list) > 0 {
			return true
		}
	}
	return false
}

// contentURL is where wp-content is on the web: WP_CONTENT_URL, or the
// siteurl option (home otherwise) joined with wp-content's path under the
// docroot, as WordPress makes it.
func contentURL(ctx context.Context, s *Site, home string) (*url.URL, error) {
	if v, ok, err := s.WP.Constant("WP_CONTENT_URL"); err == nil && ok && v != "" {
		u, err := url.Parse(v)
		if err != nil || u.Host == "" {
			return nil, fmt.Errorf("WP_CONTENT_URL %q is not an absolute URL", v)
		}
		return u, nil
	}
	rel := strings.TrimPrefix(s.WP.ContentDir, strings.TrimSuffix(s.WP.Root, "/")+"/")
	if rel == s.WP.ContentDir || !fs.ValidPath(rel) {
		return nil, errors.New("wp-content " + s.WP.ContentDir + " lies outside the docroot and WP_CONTENT_URL is not set: its URL is unknown")
	}
	site := home
	if s.DB != nil {
		if v, ok, err := s.DB.Option(ctx, "siteurl"); err == nil && ok && v != "" {
			site = v
		}
	}
	u, err := url.Parse(site)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("the site's URL %q is not an absolute URL", site)
	}
	u.RawQuery, u.Fragment = "", ""
	if h, err := url.Parse(home); err == nil && h.User != nil && strings.EqualFold(h.Host, u.Host) {
		u.User = h.User // the probe's basic auth
	}
	return u.JoinPath(strings.Split(rel, "/")...), nil
}
