package wptest

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os/exec"
	"strings"
	"testing"
)

// installNetwork makes the installed site a subdirectory multisite
// network, as a super admin does with wp-admin/network.php: the network's
// tables, then wp-config.php's constants.
func (s *Stack) installNetwork(t testing.TB) {
	t.Helper()
	script := s.dir.WriteFile("network.php", mustAsset("php/network.php"), 0o644)
	cmd := exec.Command(s.php, "-c", s.dir.Path("php.ini"), script, s.Root, s.URL)
	cmd.Env = phpEnv()
	if out, err := cmd.Output(); err != nil {
		t.Fatalf("wptest: install the network: %v\n%s%s", err, out, exitStderr(err))
	}
	u, _ := url.Parse(s.URL)
	s.writeWPConfig(t, u.Host)
}

// Site is a site of a multisite network.
type Site struct {
	// ID is its blog id; 1 is the main site.
	ID int
	// URL is where it answers, with a trailing slash ("http://127.0.0.1:PORT/shop/").
	URL string
	// Path is its path on the network's domain ("/shop/").
	Path string
	// TablePrefix is the prefix of its tables ("wp_2_").
	TablePrefix string
}

// AddSite adds a site to the network at the path name ("shop" → /shop/),
// as wp-admin/network/site-new.php does.
func (s *Stack) AddSite(t testing.TB, name string) Site {
	t.Helper()
	if !s.Options.Multisite {
		t.Fatal("wptest: AddSite needs Options.Multisite")
	}
	u, _ := url.Parse(s.URL)
	path := "/" + strings.Trim(name, "/") + "/"
	// WordPress strips the colon of a port from a new site's domain
	// (sanitize_user), and the network is on a port: the domain and the
	// URLs are then set as an admin moving a network does, in the tables
	out := s.RunWordPress(t, fmt.Sprintf(`$id = wp_insert_site(['domain' => %[1]q, 'path' => %[2]q, 'title' => %[3]q, 'user_id' => 1]);
if (is_wp_error($id)) { fwrite(STDERR, $id->get_error_message()); exit(1); }
global $wpdb;
$wpdb->update($wpdb->blogs, ['domain' => %[1]q], ['blog_id' => $id]);
clean_blog_cache($id);
update_blog_option($id, 'siteurl', %[4]q);
update_blog_option($id, 'home', %[4]q);
echo json_encode($id), "\n";`, u.Host, path, "wptest "+name, strings.TrimSuffix(s.URL+path, "/")))
	var id int
	if err := json.Unmarshal(lastLine([]byte(out)), &id); err != nil {
		t.Fatalf("wptest: add site %s: unexpected output %q", name, out)
	}
	return Site{ID: id, URL: s.URL + path, Path: path, TablePrefix: fmt.Sprintf("%s%d_", s.TablePrefix, id)}
}

// ActivatePluginsOn activates plugins (files relative to the plugins
// folder) on one site of the network, storing them as activate_plugin()
// does (appended, sorted); the plugins are not loaded, so one that kills
// its worker can be activated.
func (s *Stack) ActivatePluginsOn(t testing.TB, site Site, files ...string) {
	t.Helper()
	list, _ := json.Marshal(files)
	s.RunWordPress(t, fmt.Sprintf(`switch_to_blog(%d);
$a = (array) get_option('active_plugins', []);
foreach (json_decode(%q, true) as $f) { if (!in_array($f, $a, true)) { $a[] = $f; } }
sort($a);
update_option('active_plugins', $a);`, site.ID, list))
}

// NetworkActivatePlugins activates plugins for the whole network, stored
// as activate_plugin() stores them (file => time); they are not loaded.
func (s *Stack) NetworkActivatePlugins(t testing.TB, files ...string) {
	t.Helper()
	list, _ := json.Marshal(files)
	s.RunWordPress(t, fmt.Sprintf(`$a = (array) get_site_option('active_sitewide_plugins', []);
foreach (json_decode(%q, true) as $f) { $a[$f] = time(); }
update_site_option('active_sitewide_plugins', $a);`, list))
}
