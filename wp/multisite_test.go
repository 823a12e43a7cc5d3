package wp_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wpfix/wpfix/remote"
	"github.com/wpfix/wpfix/wp"
	"github.com/wpfix/wpfix/wp/wptest"
)

func TestRouteBlog(t *testing.T) {
	sub := []wp.Blog{
		{ID: 1, Domain: "example.com", Path: "/"},
		{ID: 2, Domain: "example.com", Path: "/shop/"},
		{ID: 3, Domain: "example.com", Path: "/Blog/"},
		{ID: 4, Domain: "other.test", Path: "/"},
		{ID: 5, Domain: "127.0.0.1:8080", Path: "/"},
	}
	dom := []wp.Blog{
		{ID: 1, Domain: "example.com", Path: "/"},
		{ID: 2, Domain: "shop.example.com", Path: "/"},
		{ID: 3, Domain: "www.example.org", Path: "/"},
	}
	tests := []struct {
		blogs []wp.Blog
		url   string
		want  int // 0: none
	}{
		{sub, "https://example.com/", 1},
		{sub, "https://example.com", 1},
		{sub, "https://example.com/shop/", 2},
		{sub, "https://example.com/shop", 2},
		{sub, "https://example.com/shop/wp-login.php", 2},
		{sub, "https://example.com/shop/2024/01/hello/?x=1", 2},
		{sub, "https://example.com/shopping/", 1},
		{sub, "https://example.com/shop.php", 1},
		{sub, "https://example.com/wp-login.php", 1},
		{sub, "https://example.com/blog/", 3},
		{sub, "https://EXAMPLE.com:443/shop/", 2},
		{sub, "http://example.com:80/shop/", 2},
		{sub, "https://www.example.com/shop/", 2},
		{sub, "https://example.com:8443/shop/", 0},
		{sub, "http://127.0.0.1:8080/x/", 5},
		{sub, "https://nowhere.test/", 0},
		{dom, "https://shop.example.com/anything/", 2},
		{dom, "https://example.com/shop/", 1},
		{dom, "https://www.example.org/", 3},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			u, err := url.Parse(tt.url)
			require.NoError(t, err)
			b, ok := wp.RouteBlog(tt.blogs, u)
			assert.Equal(t, tt.want != 0, ok)
			assert.Equal(t, tt.want, b.ID)
		})
	}
}

// TestBlogsOnStack reads a real network's sites and a subsite's options.
func TestBlogsOnStack(t *testing.T) {
	st := wptest.NewStack(t, wptest.Options{Multisite: true})
	shop := st.AddSite(t, "shop")
	file := st.AddPlugin(t, wptest.Plugin{Slug: "wptest-shop-only"})
	st.ActivatePluginsOn(t, shop, file)
	ctx := context.Background()
	s, err := wp.Find(ctx, remote.NewLocal(), st.Root, wp.Options{})
	require.NoError(t, err)
	db, err := s.OpenDB(ctx)
	require.NoError(t, err)
	defer db.Close()

	blogs, err := db.Blogs(ctx)
	require.NoError(t, err)
	require.Len(t, blogs, 2)
	u, _ := url.Parse(st.URL)
	assert.Equal(t, wp.Blog{ID: 1, Domain: u.Host, Path: "/"}, blogs[0])
	assert.Equal(t, wp.Blog{ID: 2, Domain: u.Host, Path: "/shop/"}, blogs[1])
	assert.Equal(t, 1, s.MainBlogID())
	su, _ := url.Parse(shop.URL)
	b, ok := wp.RouteBlog(blogs, su)
	require.True(t, ok)
	assert.Equal(t, 2, b.ID)

	inv, err := s.Inventory(ctx, db.ForBlog(b.ID, s.MainBlogID()))
	require.NoError(t, err)
	assert.Equal(t, []string{file}, inv.ActivePlugins, "the subsite's own plugins")
	assert.Equal(t, shop.URL, inv.SiteURL+"/")
	main, err := s.Inventory(ctx, db.ForBlog(1, 1))
	require.NoError(t, err)
	assert.Empty(t, main.ActivePlugins, "the main site's")
	assert.True(t, main.Multisite)
}

// FuzzRouteBlog: any URL routes to at most one site, on its host, whose
// path begins the URL's.
func FuzzRouteBlog(f *testing.F) {
	for _, s := range []string{"https://example.com/shop/x", "http://www.example.com:80/", "https://a.test/%2e%2e/", "//x/y"} {
		f.Add(s)
	}
	blogs := []wp.Blog{{ID: 1, Domain: "example.com", Path: "/"}, {ID: 2, Domain: "example.com", Path: "/shop/"},
		{ID: 3, Domain: "a.test", Path: "/b/"}}
	f.Fuzz(func(t *testing.T, raw string) {
		u, err := url.Parse(raw)
		if err != nil {
			return
		}
		b, ok := wp.RouteBlog(blogs, u)
		if !ok {
			return
		}
		p := u.EscapedPath() + "/"
		if !strings.HasPrefix(strings.ToLower(p), strings.ToLower(b.Path)) {
			t.Fatalf("%q routed to %+v", raw, b)
		}
	})
}
