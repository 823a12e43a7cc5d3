package wp

import (
	"context"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// Blog is a site of a multisite network, as wp_blogs holds it.
type Blog struct {
	ID     int    `json:"id"`
	Domain string `json:"domain"`
	// Path is the site's path on Domain, with slashes at both ends ("/shop/").
	Path string `json:"path"`
	// Archived, Deleted and Spam are the flags WordPress refuses to serve
	// a site with.
	Archived bool `json:"archived,omitempty"`
	Deleted  bool `json:"deleted,omitempty"`
	Spam     bool `json:"spam,omitempty"`
}

// Blogs lists the sites of the install's network (SITE_ID_CURRENT_SITE),
// by id.
func (d *DB) Blogs(ctx context.Context) ([]Blog, error) {
	rows, err := d.q.query(ctx, "SELECT blog_id, domain, path, archived, deleted, spam FROM `"+d.base+
		"blogs` WHERE site_id = ? ORDER BY blog_id", d.siteID)
	if err != nil {
		return nil, fmt.Errorf("read the network's sites (%sblogs): %w", d.base, err)
	}
	var blogs []Blog
	for _, r := range rows {
		if len(r) != 6 {
			return nil, fmt.Errorf("read the network's sites: %d columns, want 6", len(r))
		}
		id, err := strconv.Atoi(r[0])
		if err != nil || id < 1 {
			return nil, fmt.Errorf("read the network's sites: blog_id %q", r[0])
		}
		blogs = append(blogs, Blog{ID: id, Domain: r[1], Path: r[2],
			Archived: r[3] == "1", Deleted: r[4] == "1", Spam: r[5] == "1"})
	}
	return blogs, nil
}

// ForBlog returns a DB that reads and writes the options of the network's
// site id (its own wp_N_options; the main site's are the base table's),
// sharing d's connection: close d, not it. Network options stay the
// network's.
func (d *DB) ForBlog(id, mainID int) *DB {
	c := *d
	c.prefix = d.base
	if id != mainID {
		c.prefix = d.base + strconv.Itoa(id) + "_"
	}
	return &c
}

// MainBlogID is BLOG_ID_CURRENT_SITE, the network's main site (1 unless
// wp-config.php says otherwise).
func (s *Site) MainBlogID() int {
	if v, ok, _ := s.Constant("BLOG_ID_CURRENT_SITE"); ok {
		if id, err := strconv.Atoi(v); err == nil && id > 0 {
			return id
		}
	}
	return 1
}

// RouteBlog finds the site of blogs a request for u reaches, as
// WordPress's get_site_by_path() routes it: the blog on u's host (without
// a port of 80 or 443, and with or without "www.") whose path is the
// longest prefix of u's path, segment by segment; for a subdomain network,
// whose sites all have the path "/", that is the host's. Sites WordPress
// will not serve (archived, deleted, spam) are still found: the caller
// says so.
func RouteBlog(blogs []Blog, u *url.URL) (Blog, bool) {
	host := strings.ToLower(u.Host)
	host = strings.TrimSuffix(strings.TrimSuffix(host, ":80"), ":443")
	hosts := []string{host}
	if h, ok := strings.CutPrefix(host, "www."); ok {
		hosts = append(hosts, h)
	}
	// WordPress routes on whole segments: "/shop" and "/shop/x" are
	// /shop/'s, "/shopping" is not
	p := u.EscapedPath()
	if !strings.HasSuffix(p, "/") {
		p += "/"
	}
	best, found := Blog{}, false
	for _, b := range blogs {
		if !containsFold(hosts, b.Domain) {
			continue
		}
		bp := strings.ToLower(b.Path)
		if !strings.HasPrefix(strings.ToLower(p), bp) {
			continue
		}
		if !found || len(bp) > len(best.Path) || (len(bp) == len(best.Path) && strings.EqualFold(b.Domain, host)) {
			best, found = b, true
		}
	}
	return best, found
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// SortBlogs orders blogs by id, the order Blogs returns.
func SortBlogs(blogs []Blog) {
	sort.Slice(blogs, func(i, j int) bool { return blogs[i].ID < blogs[j].ID })
}

// NetworkSite is a site of a network as `wpfix info` shows it: where it is,
// and what it runs of its own.
type NetworkSite struct {
	Blog
	SiteURL       string   `json:"siteurl"`
	ActivePlugins []string `json:"active_plugins"`
	Template      string   `json:"template"`
	Stylesheet    string   `json:"stylesheet"`
	// Error says why the site's options could not be read (a site whose
	// tables are gone); the rest is then empty.
	Error string `json:"error,omitempty"`
}

// NetworkSites reads each site of the network: its URL, its active
// plugins and its theme. A site whose options cannot be read is listed
// with the reason, so one broken subsite does not hide the others.
func (s *Site) NetworkSites(ctx context.Context, db *DB) ([]NetworkSite, error) {
	blogs, err := db.Blogs(ctx)
	if err != nil {
		return nil, err
	}
	main := s.MainBlogID()
	var out []NetworkSite
	for _, b := range blogs {
		ns := NetworkSite{Blog: b}
		opts, err := db.ForBlog(b.ID, main).Options(ctx, "siteurl", "active_plugins", "template", "stylesheet")
		if err == nil {
			ns.ActivePlugins, err = stringListOption("active_plugins", opts["active_plugins"])
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			ns.Error = err.Error()
		} else {
			ns.SiteURL, ns.Template, ns.Stylesheet = opts["siteurl"], opts["template"], opts["stylesheet"]
		}
		out = append(out, ns)
	}
	return out, nil
}
