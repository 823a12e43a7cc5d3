package fleet

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"unicode"

	"github.com/wpfix/wpfix/remote"
)

// Site is one site a run covers, and how to reach it.
type Site struct {
	// Name is unique in a run; it names the site in reports and metrics.
	Name string
	// Target is where the site's files are, in the form remote.ParseTarget
	// reads and writes back (user@host:/path, ssh://user@host:port/path or
	// an absolute local path), with the inventory's SSH user put in when
	// the target gave none.
	Target string
	// URL is the site's home URL; "" takes it from the site's home option.
	URL string
	// Resolve is an IP to reach the origin at, past a CDN; "" for none.
	Resolve string
	// Probe are more paths to probe besides the home URL, e.g. "/shop/".
	Probe []string
	// Tags select the site with --tag; for a WP-CLI alias, its groups.
	Tags []string
	// SSH says how to reach the site's host, where the inventory says it.
	SSH SSH
	// File and Line are where the site is written: the inventory file and
	// the line of its [[site]] table or alias; "" and 0 for a target from
	// the command line.
	File string
	Line int
}

// SSH are a site's own SSH settings. A zero field is unset: the command's
// flags, then ~/.ssh/config and OpenSSH's defaults decide.
type SSH struct {
	// Port is the SSH port when the target gives none. It is not written
	// into Target, so that a -p flag still wins over the file.
	Port int
	// Identity is a private key file, absolute.
	Identity string
	// KnownHosts is a known_hosts file, absolute.
	KnownHosts string
	// AcceptNewHostKey records and trusts the key of a host not yet in
	// known_hosts; a changed key is refused whatever it says.
	AcceptNewHostKey bool
}

// Options returns how to reach the site's host: flags, the options the
// command's flags give, with the site's own settings where the flags leave
// a setting unset, so that a flag given wins over the file. (A target's own
// user and port win over both, as remote resolves them.) A bool cannot be
// unset: AcceptNewHostKey is on when either says so.
func (s Site) Options(flags remote.Options) remote.Options {
	o := flags
	if o.Port == 0 {
		o.Port = s.SSH.Port
	}
	if o.Identity == "" {
		o.Identity = s.SSH.Identity
	}
	if o.KnownHosts == "" {
		o.KnownHosts = s.SSH.KnownHosts
	}
	o.AcceptNewHostKey = o.AcceptNewHostKey || s.SSH.AcceptNewHostKey
	return o
}

// HasTag reports whether the site has the tag.
func (s Site) HasTag(tag string) bool {
	for _, t := range s.Tags {
		if t == tag {
			return true
		}
	}
	return false
}

// Inventory is the sites of one file, in the order the file gives them.
type Inventory struct {
	// File is the file as named to Load or a Parse function (the files,
	// comma-separated, for LoadAliases).
	File string
	// Sites are the inventory's sites, each with a unique name.
	Sites []Site
	// Warnings are what was read and ignored, so "why is my setting not
	// used?" has an answer.
	Warnings []Warning
}

// Warning is something an inventory says that wpfix read and ignored:
// where (file, line, the key as written) and why.
type Warning struct {
	File  string
	Line  int
	Field string
	Msg   string
}

// String writes the warning as FILE:LINE: FIELD: MSG.
func (w Warning) String() string { return where(w.File, w.Line, "", w.Field) + w.Msg }

// ErrInventory is what every *InventoryError is (errors.Is): an inventory
// that cannot be used as written.
var ErrInventory = errors.New("bad inventory")

// InventoryError is an inventory that cannot be used, with the place of
// the problem: the file, the line (0 when unknown), the site's name when
// known, and the field (the key as written, "" for the file's syntax).
type InventoryError struct {
	File  string
	Line  int
	Site  string
	Field string
	Msg   string
}

// Error writes FILE:LINE: site "NAME": FIELD: MSG, leaving out what is not
// known.
func (e *InventoryError) Error() string { return where(e.File, e.Line, e.Site, e.Field) + e.Msg }

// Is makes errors.Is(err, ErrInventory) hold.
func (e *InventoryError) Is(target error) bool { return target == ErrInventory }

func where(file string, line int, site, field string) string {
	var b strings.Builder
	b.WriteString(file)
	if line > 0 {
		fmt.Fprintf(&b, ":%d", line)
	}
	b.WriteString(": ")
	if site != "" {
		fmt.Fprintf(&b, "site %q: ", site)
	}
	if field != "" {
		b.WriteString(field + ": ")
	}
	return b.String()
}

// maxInventory bounds the size of an inventory file.
const maxInventory = 32 << 20

// Load reads an inventory file: WP-CLI aliases when its name ends in .yml
// or .yaml (with the files it inherits, as LoadAliases), TOML otherwise.
// Errors are *InventoryError.
func Load(file string) (*Inventory, error) {
	switch strings.ToLower(filepath.Ext(file)) {
	case ".yml", ".yaml":
		return LoadAliases(file)
	}
	src, err := readInventory(file)
	if err != nil {
		return nil, &InventoryError{File: file, Msg: fmt.Sprintf("cannot read the inventory: %v", unwrapPath(err))}
	}
	return ParseTOML(file, src)
}

// readInventory reads an inventory file, up to maxInventory bytes.
func readInventory(file string) ([]byte, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	src, err := io.ReadAll(io.LimitReader(f, maxInventory+1))
	if err != nil {
		return nil, err
	}
	if len(src) > maxInventory {
		return nil, fmt.Errorf("larger than %d MiB", maxInventory>>20)
	}
	return src, nil
}

// unwrapPath drops the operation and path of a *PathError, which the
// InventoryError already names.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// AdHoc is the site of a target given on the command line: named after it
// as written, with no settings of its own.
func AdHoc(target string) (Site, error) {
	t, err := remote.ParseTarget(target)
	if err != nil {
		return Site{}, err
	}
	return Site{Name: target, Target: t.String()}, nil
}

// spec is a site as a file gives it, before it is checked: each format's
// parser fills it, with the line of each field it knows.
type spec struct {
	name, target, url, resolve string
	probe, tags                []string
	user                       string
	port                       int
	identity, knownHosts       string
	acceptNew                  bool

	line  int             // the site's table or alias
	lines map[string]int  // a field's line, by field name
	own   map[string]bool // the fields the site gives itself, not from defaults
	// fields are the names of the fields as the format writes them, for
	// error messages: target is "ssh" in an alias file.
	fields map[string]string
}

func (sp *spec) fieldLine(field string) int {
	if l := sp.lines[field]; l > 0 {
		return l
	}
	return sp.line
}

func (sp *spec) fieldName(field string) string {
	if f, ok := sp.fields[field]; ok {
		return f
	}
	return field
}

// tagRE is what a tag may be: WP-CLI's alias name characters.
var tagRE = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)

// build checks a spec and turns it into a Site. file names the inventory
// for errors; relative paths are taken from dir, "~/" from home.
func build(file, dir, home string, sp *spec) (Site, error) {
	fail := func(field, format string, args ...any) (Site, error) {
		name := sp.name
		if field == "name" {
			name = ""
		}
		return Site{}, &InventoryError{File: file, Line: sp.fieldLine(field), Site: name,
			Field: sp.fieldName(field), Msg: fmt.Sprintf(format, args...)}
	}
	s := Site{File: file, Line: sp.line, URL: sp.url, Resolve: sp.resolve, Probe: sp.probe, Tags: sp.tags}
	if sp.target == "" {
		return fail("target", "missing: give where the site's files are, like deploy@web1:/var/www/acme")
	}
	if sp.name == "" {
		sp.name = sp.target
	}
	if err := checkName(sp.name); err != nil {
		return fail("name", "%v", err)
	}
	s.Name = sp.name
	written := sp.target
	if strings.HasPrefix(written, "~/") {
		written = filepath.Join(home, written[2:])
	}
	t, err := remote.ParseTarget(written)
	if err == nil && t.Local() && !filepath.IsAbs(written) {
		t, err = remote.ParseTarget(filepath.Join(dir, written))
	}
	if err != nil {
		// remote's error names the target; the field says it already.
		return fail("target", "%s", strings.TrimPrefix(err.Error(), fmt.Sprintf("target %q: ", written)))
	}
	if t.Local() {
		for _, f := range []struct {
			name string
			set  bool
		}{{"user", sp.user != ""}, {"port", sp.port != 0}, {"identity", sp.identity != ""},
			{"known_hosts", sp.knownHosts != ""}} {
			if f.set && sp.own[f.name] {
				return fail(f.name, "the target %q is local: there is no SSH to set", sp.target)
			}
		}
	} else {
		if sp.user != "" {
			if u, err := remote.ParseTarget(sp.user + "@host:/"); err != nil || u.User != sp.user || u.Host != "host" {
				return fail("user", "bad user name %q", sp.user)
			}
			switch {
			case t.User == "":
				t.User = sp.user
			case t.User != sp.user && sp.own["user"]:
				return fail("user", "%q differs from the target's user %q: give one", sp.user, t.User)
			}
		}
		if sp.port != 0 {
			if sp.port < 1 || sp.port > 65535 {
				return fail("port", "%d is not a port: want a number from 1 to 65535", sp.port)
			}
			if t.Port != 0 && t.Port != sp.port && sp.own["port"] {
				return fail("port", "%d differs from the target's port %d: give one", sp.port, t.Port)
			}
			if t.Port == 0 {
				s.SSH.Port = sp.port
			}
		}
		s.SSH.Identity = expandPath(sp.identity, dir, home)
		s.SSH.KnownHosts = expandPath(sp.knownHosts, dir, home)
		s.SSH.AcceptNewHostKey = sp.acceptNew
	}
	s.Target = t.String()
	if back, err := remote.ParseTarget(s.Target); err != nil || back != t {
		return fail("target", "%q cannot be written back as a target", sp.target)
	}
	if sp.url != "" {
		u, err := url.Parse(sp.url)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Opaque != "" {
			return fail("url", "%q is not an absolute http or https URL; give the site's address, like https://acme.example/", sp.url)
		}
	}
	if sp.resolve != "" {
		if _, err := netip.ParseAddr(sp.resolve); err != nil {
			return fail("resolve", "%q is not an IP address; give the origin's IP, like 203.0.113.7", sp.resolve)
		}
	}
	for _, p := range sp.probe {
		ref, err := url.Parse(p)
		if err != nil || !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || ref.Scheme != "" || ref.Host != "" {
			return fail("probe", "%q is not a path on the site; give one starting with a single /, like /wp-login.php", p)
		}
	}
	for _, tag := range sp.tags {
		if !tagRE.MatchString(tag) {
			return fail("tags", "%q is not a tag: use 1 to 64 letters, digits, '.', '_' or '-'", tag)
		}
	}
	return s, nil
}

// checkName refuses a name a report or a metric label could not show as
// one line.
func checkName(name string) error {
	switch {
	case len(name) > 256:
		return errors.New("longer than 256 bytes")
	case strings.TrimSpace(name) != name:
		return fmt.Errorf("%q begins or ends with a space", name)
	case strings.ContainsFunc(name, func(r rune) bool { return !unicode.IsPrint(r) && r != ' ' }) || !utf8Valid(name):
		return fmt.Errorf("%s holds a control character or is not UTF-8", strconv.Quote(name))
	}
	return nil
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }

// expandPath makes a path from an inventory absolute: "~/" is the home
// folder, a relative path is taken from dir.
func expandPath(p, dir, home string) string {
	switch {
	case p == "":
		return ""
	case p == "~":
		return home
	case strings.HasPrefix(p, "~/"):
		return filepath.Join(home, p[2:])
	case filepath.IsAbs(p):
		return filepath.Clean(p)
	}
	return filepath.Join(dir, p)
}

// fileDirs are the folder relative paths are taken from (the file's own,
// absolute) and the home folder for "~/".
func fileDirs(file string) (dir, home string) {
	dir, err := filepath.Abs(filepath.Dir(file))
	if err != nil {
		dir = filepath.Dir(file)
	}
	home, err = os.UserHomeDir()
	if err != nil {
		home = "/"
	}
	return dir, home
}
