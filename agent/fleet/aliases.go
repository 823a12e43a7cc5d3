package fleet

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/wpfix/wpfix/remote"
)

// aliasRE is WP-CLI's alias name (Configurator::ALIAS_REGEX).
var aliasRE = regexp.MustCompile(`^@[A-Za-z0-9_.-]+$`)

// sshRE is WP-CLI's --ssh value (Utils\parse_ssh_url):
// [scheme:][user@]host[:port][/path or ~path].
var sshRE = regexp.MustCompile(`^((docker|docker-compose|docker-compose-run|ssh|vagrant):)?(([^@:]+)@)?([^:/~]+)(:([0-9]*))?((/|~)(.+))?$`)

// yamlLineRE finds the line of a YAML error: "yaml: line 3: did not find
// expected key".
var yamlLineRE = regexp.MustCompile(`line (\d+): ([^\n]*)`)

// aliasKeys are the keys WP-CLI reads in an alias (Configurator's
// alias_spec).
var aliasKeys = []string{"user", "url", "path", "ssh", "http", "proxyjump", "key"}

// alias is one @name of a file, as read.
type alias struct {
	name  string // without the @
	file  string
	dir   string // the file's folder, for relative paths
	line  int
	value *yaml.Node
}

// aliasFile is a WP-CLI config file, as read.
type aliasFile struct {
	file     string
	aliases  []alias
	inherit  string // _: inherit: FILE, as written
	line     int    // of inherit
	warnings []Warning
}

// ParseAliases reads a WP-CLI config file (wp-cli.yml, config.yml): each
// @alias with ssh or path is a site, each group of aliases a tag of its
// members. Other keys of the file are WP-CLI's own and ignored. file names
// it in errors, and a local alias's relative path is taken from its folder,
// as WP-CLI does. A file it inherits (_: inherit) is not read: LoadAliases
// reads it. Errors are *InventoryError.
func ParseAliases(file string, src []byte) (*Inventory, error) {
	af, err := readAliases(file, src)
	if err != nil {
		return nil, err
	}
	if af.inherit != "" {
		af.warnings = append(af.warnings, Warning{File: file, Line: af.line, Field: "_.inherit",
			Msg: "the inherited file is not read here: give the file to Load, or with --inventory"})
	}
	return buildAliases(file, []*aliasFile{af})
}

// maxInherit bounds a chain of _: inherit files.
const maxInherit = 8

// LoadAliases reads WP-CLI config files as WP-CLI merges them: each file
// after the file it inherits (_: inherit: FILE, from its folder), and an
// alias of a later file replacing the one of the same name before it (the
// project's wp-cli.yml over the global ~/.wp-cli/config.yml: give them in
// that order; WPCLIConfigFiles finds them). Errors are *InventoryError.
func LoadAliases(files ...string) (*Inventory, error) {
	var chain []*aliasFile
	var load func(file string, depth int, from *InventoryError) error
	seen := map[string]bool{}
	load = func(file string, depth int, from *InventoryError) error {
		abs, _ := filepath.Abs(file)
		if seen[abs] {
			return nil // read already: WP-CLI would merge it again, to the same effect
		}
		seen[abs] = true
		src, err := readInventory(file)
		if err != nil {
			if from != nil {
				from.Msg = fmt.Sprintf("cannot read the inherited file %s: %v", file, unwrapPath(err))
				return from
			}
			return &InventoryError{File: file, Msg: fmt.Sprintf("cannot read the inventory: %v", unwrapPath(err))}
		}
		af, err := readAliases(file, src)
		if err != nil {
			return err
		}
		if af.inherit != "" {
			ie := &InventoryError{File: file, Line: af.line, Field: "_.inherit"}
			if depth >= maxInherit {
				ie.Msg = fmt.Sprintf("more than %d files inherit one another", maxInherit)
				return ie
			}
			parent := af.inherit
			if !filepath.IsAbs(parent) {
				parent = filepath.Join(filepath.Dir(file), parent)
			}
			if err := load(parent, depth+1, ie); err != nil {
				return err
			}
		}
		chain = append(chain, af)
		return nil
	}
	for _, f := range files {
		if err := load(f, 0, nil); err != nil {
			return nil, err
		}
	}
	return buildAliases(strings.Join(files, ", "), chain)
}

// WPCLIConfigFiles returns the WP-CLI config files WP-CLI itself would
// read in the folder cwd, in the order LoadAliases takes them: the global
// one ($WP_CLI_CONFIG_PATH, else ~/.wp-cli/config.yml), then the project's
// (the first wp-cli.local.yml or wp-cli.yml in cwd or a folder above it).
// Only files that exist are returned.
func WPCLIConfigFiles(cwd, home string, getenv func(string) string) []string {
	var files []string
	global := getenv("WP_CLI_CONFIG_PATH")
	if global == "" {
		global = filepath.Join(home, ".wp-cli", "config.yml")
	}
	if isFile(global) {
		files = append(files, global)
	}
	for dir := cwd; ; dir = filepath.Dir(dir) {
		for _, name := range []string{"wp-cli.local.yml", "wp-cli.yml"} {
			if f := filepath.Join(dir, name); isFile(f) {
				return append(files, f)
			}
		}
		if filepath.Dir(dir) == dir {
			return files
		}
	}
}

func isFile(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
}

// readAliases reads the aliases of one file.
func readAliases(file string, src []byte) (*aliasFile, error) {
	af := &aliasFile{file: file}
	var doc yaml.Node
	// A file that YAML takes is read as it is; one it refuses, again with
	// WP-CLI's bare @names quoted (spyc.go).
	err := yaml.Unmarshal(src, &doc)
	if err != nil {
		doc = yaml.Node{}
		err = yaml.Unmarshal(quoteAliases(src), &doc)
	}
	if err != nil {
		ie := &InventoryError{File: file, Msg: "YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}
		if m := yamlLineRE.FindStringSubmatch(err.Error()); m != nil {
			ie.Line, _ = strconv.Atoi(m[1])
			ie.Msg = "YAML: " + m[2]
		}
		return nil, ie
	}
	if len(doc.Content) == 0 {
		return af, nil
	}
	root := deref(doc.Content[0])
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return af, nil
	}
	if root.Kind != yaml.MappingNode {
		return nil, &InventoryError{File: file, Line: root.Line,
			Msg: "a WP-CLI config file is a mapping of keys, like @prod: {ssh: deploy@web1/var/www/acme}"}
	}
	dir, _ := fileDirs(file)
	byName := map[string]int{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], deref(root.Content[i+1])
		key := k.Value
		if key == "_" {
			if v.Kind == yaml.MappingNode {
				for j := 0; j+1 < len(v.Content); j += 2 {
					if iv := deref(v.Content[j+1]); v.Content[j].Value == "inherit" && iv.Kind == yaml.ScalarNode && iv.Value != "" {
						af.inherit, af.line = iv.Value, v.Content[j].Line
					}
				}
			}
			continue
		}
		if !strings.HasPrefix(key, "@") {
			continue // WP-CLI's own settings
		}
		if !aliasRE.MatchString(key) {
			af.warnings = append(af.warnings, Warning{File: file, Line: k.Line, Field: key,
				Msg: "ignored, as WP-CLI does: an alias name has only letters, digits, '-', '_' and '.'"})
			continue
		}
		name := key[1:]
		if prev, dup := byName[name]; dup {
			return nil, &InventoryError{File: file, Line: k.Line, Field: key,
				Msg: fmt.Sprintf("defined twice (first at line %d): give each alias its own name", af.aliases[prev].line)}
		}
		byName[name] = len(af.aliases)
		af.aliases = append(af.aliases, alias{name: name, file: file, dir: dir, line: k.Line, value: v})
	}
	return af, nil
}

// buildAliases turns the aliases of files, merged in order, into an
// inventory named name.
func buildAliases(name string, files []*aliasFile) (*Inventory, error) {
	inv := &Inventory{File: name}
	_, home := fileDirs(name)
	var aliases []alias
	byName := map[string]int{}
	for _, af := range files {
		inv.Warnings = append(inv.Warnings, af.warnings...)
		for _, a := range af.aliases {
			if i, ok := byName[a.name]; ok {
				aliases[i] = a // a later file's alias replaces the earlier one, in its place
				continue
			}
			byName[a.name] = len(aliases)
			aliases = append(aliases, a)
		}
	}

	// Groups: a list of aliases. Each alias is tagged with every group
	// that holds it, directly or through another group.
	groups := map[string]alias{}
	for _, a := range aliases {
		if a.value.Kind == yaml.SequenceNode {
			groups[a.name] = a
		}
	}
	tags := map[string][]string{}
	var walk func(group alias, members []*yaml.Node, seen map[string]bool) error
	walk = func(group alias, members []*yaml.Node, seen map[string]bool) error {
		for _, m := range members {
			m = deref(m)
			if m.Kind != yaml.ScalarNode || !aliasRE.MatchString(m.Value) {
				return &InventoryError{File: group.file, Line: m.Line, Field: "@" + group.name,
					Msg: fmt.Sprintf("a group lists aliases, like [@prod, @staging]; %q is not one", m.Value)}
			}
			name := m.Value[1:]
			if seen[name] {
				continue
			}
			seen[name] = true
			if sub, ok := groups[name]; ok {
				if err := walk(group, sub.value.Content, seen); err != nil {
					return err
				}
				continue
			}
			if _, ok := byName[name]; !ok {
				return &InventoryError{File: group.file, Line: m.Line, Field: "@" + group.name,
					Msg: fmt.Sprintf("the group names %s, which is not defined", m.Value)}
			}
			if !slices.Contains(tags[name], group.name) {
				tags[name] = append(tags[name], group.name)
			}
		}
		return nil
	}
	for _, a := range aliases {
		if g, ok := groups[a.name]; ok {
			if err := walk(g, g.value.Content, map[string]bool{a.name: true}); err != nil {
				return nil, err
			}
		}
	}

	for _, a := range aliases {
		if _, isGroup := groups[a.name]; isGroup {
			continue
		}
		sp, err := aliasSpec(a, home, inv)
		if err != nil {
			return nil, err
		}
		sp.tags = tags[a.name]
		s, err := build(a.file, a.dir, home, sp)
		if err != nil {
			return nil, err
		}
		inv.Sites = append(inv.Sites, s)
	}
	order := map[string]int{}
	for i, af := range files {
		order[af.file] = i
	}
	slices.SortStableFunc(inv.Warnings, func(a, b Warning) int {
		if oa, ob := order[a.File], order[b.File]; oa != ob {
			return oa - ob
		}
		return a.Line - b.Line
	})
	return inv, nil
}

// aliasSpec reads one alias into a spec, turning its ssh and path into a
// target.
func aliasSpec(a alias, home string, inv *Inventory) (*spec, error) {
	file, dir := a.file, a.dir
	fail := func(line int, field, format string, args ...any) (*spec, error) {
		return nil, &InventoryError{File: file, Line: line, Site: a.name, Field: field, Msg: fmt.Sprintf(format, args...)}
	}
	if a.value.Kind != yaml.MappingNode {
		return fail(a.line, "", "give ssh or path (or a list of aliases, for a group)")
	}
	sp := &spec{name: a.name, line: a.line, lines: map[string]int{}, own: map[string]bool{},
		fields: map[string]string{"target": "ssh", "identity": "key", "name": "@" + a.name}}
	values := map[string]string{}
	lines := map[string]int{}
	for i := 0; i+1 < len(a.value.Content); i += 2 {
		k, v := a.value.Content[i], deref(a.value.Content[i+1])
		if !slices.Contains(aliasKeys, k.Value) {
			inv.Warnings = append(inv.Warnings, Warning{File: file, Line: k.Line, Field: k.Value,
				Msg: "ignored, as WP-CLI does: an alias has " + strings.Join(aliasKeys, ", ")})
			continue
		}
		if v.Kind != yaml.ScalarNode {
			return fail(k.Line, k.Value, "must be a single value")
		}
		lines[k.Value] = k.Line
		if v.Tag != "!!null" {
			values[k.Value] = v.Value
		}
	}
	switch {
	case values["http"] != "":
		return fail(lines["http"], "http", "wpfix reaches a site over SSH or on this machine, not over HTTP: give ssh or path")
	case values["proxyjump"] != "":
		return fail(lines["proxyjump"], "proxyjump", "not read from the alias: put ProxyJump in ~/.ssh/config for the host, which wpfix follows")
	}
	if _, ok := lines["user"]; ok {
		inv.Warnings = append(inv.Warnings, Warning{File: file, Line: lines["user"], Field: "user",
			Msg: "ignored: it is a WordPress user, and wpfix loads no WordPress (an SSH user goes in ssh, user@host)"})
	}
	sp.url = values["url"]
	sp.lines["url"] = lines["url"]
	if k, ok := values["key"]; ok {
		sp.identity = k
		sp.lines["identity"], sp.own["identity"] = lines["key"], true
	}

	wpPath := values["path"]
	ssh, hasSSH := values["ssh"]
	if !hasSSH || ssh == "" {
		if wpPath == "" {
			return fail(a.line, "", "give ssh or path")
		}
		sp.target = expandPath(wpPath, dir, home)
		sp.lines["target"], sp.fields["target"] = lines["path"], "path"
		return sp, nil
	}
	sp.lines["target"] = lines["ssh"]
	m := sshRE.FindStringSubmatch(ssh)
	if m == nil {
		return fail(lines["ssh"], "ssh", "%q is not [user@]host[:port][/path], as WP-CLI reads it", ssh)
	}
	scheme, user, host, port, sshPath := m[2], m[4], m[5], m[7], m[8]
	if scheme == "" && host == "vagrant" && strings.HasPrefix(ssh, "vagrant") {
		scheme = "vagrant"
	}
	if scheme != "" && scheme != "ssh" {
		return fail(lines["ssh"], "ssh", "the %s: scheme reaches a container or VM, which wpfix does not: give the SSH address of the machine the site is on", scheme)
	}
	t := remote.Target{User: user, Host: host}
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return fail(lines["ssh"], "ssh", "bad port %q: want a number from 1 to 65535", port)
		}
		t.Port = n
	}
	switch {
	case wpPath != "" && path.IsAbs(wpPath):
		t.Path = wpPath
	case strings.HasPrefix(sshPath, "~"):
		return fail(lines["ssh"], "ssh", "the path %q is in the remote home folder, which wpfix cannot know before it connects: write it in full, like %s@%s/home/%s/%s",
			sshPath, orDefault(user, "user"), host, orDefault(user, "user"), strings.TrimPrefix(strings.TrimPrefix(sshPath, "~"), "/"))
	case wpPath != "" && sshPath == "":
		return fail(lines["path"], "path", "%q is relative to the SSH login folder, which wpfix cannot know before it connects: give the absolute path", wpPath)
	case wpPath != "":
		t.Path = path.Join(sshPath, wpPath)
	case sshPath == "":
		return fail(lines["ssh"], "ssh", "no path: give the site's folder, like %s/var/www/site, or a path: key", ssh)
	default:
		t.Path = sshPath
	}
	sp.target = t.String()
	return sp, nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// deref follows YAML aliases (*anchor) to the node they name.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < 16; i++ {
		n = n.Alias
	}
	return n
}
