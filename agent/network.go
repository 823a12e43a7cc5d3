package agent

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/wpfix/wpfix/agent/journal"
	"github.com/wpfix/wpfix/wp"
)

// network is a multisite network as a run on one of its sites sees it.
type network struct {
	// main is the main site's DB (the base table prefix), which Site.DB
	// is too unless the run works on a subsite.
	main *wp.DB
	// mainID is BLOG_ID_CURRENT_SITE.
	mainID int
	blogs  []wp.Blog
	// blog is the site the run works on: 0 for the main site, else its
	// blog id, as the journal counts them.
	blog int
	// others are the other sites whose options the run holds
	// (journal.Site.OtherBlogs).
	others []int
}

// db returns the options of the site blog id (0: the main site).
func (n *network) db(id int) *wp.DB {
	if id == 0 || id == n.mainID {
		return n.main
	}
	return n.main.ForBlog(id, n.mainID)
}

// journalBlogs is what the journal needs of the network (journal.Site.Blogs).
func (n *network) journalBlogs(id int) journal.Options { return n.db(id) }

// useURL makes the site of the network that a request for rawURL reaches
// the one s works on, as WordPress routes the request: s.DB then reads
// and writes that site's options. On a single site, or for "" (the main
// site's home), it changes nothing. A URL on no site of the network is
// bad input.
func (s *Site) useURL(ctx context.Context, rawURL string) error {
	if rawURL == "" || s.network() == nil {
		return nil
	}
	if err := s.loadNetwork(ctx); err != nil {
		return err
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return badInput(fmt.Errorf("--url %q: %w", rawURL, err))
	}
	b, ok := wp.RouteBlog(s.net.blogs, u)
	if !ok {
		var sites []string
		for _, b := range s.net.blogs {
			sites = append(sites, b.Domain+b.Path)
		}
		return badInput(fmt.Errorf("%s is on no site of the network (%s)", rawURL, strings.Join(sites, ", ")))
	}
	if b.ID == s.net.mainID {
		s.net.blog, s.DB = 0, s.net.main
		return nil
	}
	s.net.blog, s.DB = b.ID, s.net.main.ForBlog(b.ID, s.net.mainID)
	s.logger().Debug("working on a site of the network", "blog", b.ID, "site", b.Domain+b.Path)
	return nil
}

func (s *Site) isMultisite() bool {
	v, ok, err := s.WP.Constant("MULTISITE")
	return err == nil && ok && v != "" && v != "0"
}

// network is the network s belongs to, nil on a single site (or without
// its database).
func (s *Site) network() *network {
	if s.net == nil && s.DB != nil && s.isMultisite() {
		s.net = &network{main: s.DB, mainID: s.WP.MainBlogID()}
	}
	return s.net
}

// loadNetwork reads the network's sites, once.
func (s *Site) loadNetwork(ctx context.Context) error {
	n := s.network()
	if n == nil || n.blogs != nil {
		return nil
	}
	blogs, err := n.main.Blogs(ctx)
	if err != nil {
		return unreachable(err)
	}
	n.blogs = blogs
	return nil
}

// otherBlogs lists the sites of the network, besides the one the run works
// on, whose options WordPress may rewrite while the run has candidates in
// quarantine: each whose active_plugins names a candidate plugin, or whose
// theme is a candidate theme. Their protected options are snapshotted and
// held with the site's own (journal.Site.OtherBlogs).
func (s *Site) otherBlogs(ctx context.Context, plugins, themes []string) ([]int, error) {
	if s.network() == nil {
		return nil, nil
	}
	if err := s.loadNetwork(ctx); err != nil {
		return nil, err
	}
	var ids []int
	for _, b := range s.net.blogs {
		id := b.ID
		if id == s.net.mainID {
			id = 0
		}
		if id == s.net.blog {
			continue
		}
		opts, err := s.net.db(id).Options(ctx, "active_plugins", "template", "stylesheet")
		if err != nil {
			return nil, unreachable(fmt.Errorf("read the options of the network's site %s%s: %w", b.Domain, b.Path, err))
		}
		hit := slices.Contains(themes, opts["template"]) || slices.Contains(themes, opts["stylesheet"])
		if !hit && opts["active_plugins"] != "" {
			for _, p := range plugins {
				// a serialized list names each file as s:N:"folder/…"
				if strings.Contains(opts["active_plugins"], `"`+p+`/`) || strings.Contains(opts["active_plugins"], `"`+p+`"`) {
					hit = true
					break
				}
			}
		}
		if hit {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// holdOtherBlogs finds the other sites of the network whose options the
// run must hold (otherBlogs), for the journal to snapshot.
func (b *bisection) holdOtherBlogs(ctx context.Context) error {
	var plugins, themes []string
	for _, c := range b.cands {
		switch c.Kind {
		case wp.KindPlugin:
			plugins = append(plugins, c.Name)
		case wp.KindTheme:
			themes = append(themes, c.Name)
		}
	}
	ids, err := b.site.otherBlogs(ctx, plugins, themes)
	if err != nil {
		return err
	}
	if n := b.site.network(); n != nil {
		n.others = ids
	}
	return nil
}
