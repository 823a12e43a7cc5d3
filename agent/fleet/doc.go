// Package fleet reads the sites a run of `wpfix check` covers: an
// inventory file, WP-CLI aliases or targets given on the command line, the
// selection among them (--tag, names) and the split of the run between
// machines (--shard, --shards). It knows nothing of how a site is reached
// or checked; it only says which sites there are and how each is to be
// reached.
//
// # TOML inventory
//
// configs/sites.example.toml is the documented example:
//
//	[defaults]                       # optional; any per-site key but name, target and url
//	identity    = "~/.ssh/agency_ed25519"
//	known_hosts = "~/.ssh/known_hosts"
//
//	[[site]]
//	name    = "acme"                 # unique; default: the target as written
//	target  = "deploy@web1:/var/www/acme"   # required; as on the command line
//	url     = "https://acme.example" # optional; default: the site's home option
//	resolve = "203.0.113.7"          # optional; probe the origin at this IP
//	probe   = ["/shop/"]             # optional; more paths to probe
//	tags    = ["shop", "eu"]         # optional; for --tag
//	user    = "deploy"               # SSH user, when the target gives none
//	port    = 2222                   # SSH port, when the target gives none
//	identity = "~/.ssh/acme"         # SSH key file
//	known_hosts = "~/.ssh/known_hosts_agency"
//	accept_new_host_key = false      # record the key of a host not yet known
//
// A key a site gives replaces the default's (tags too: they are not
// added up). A target's own user and port win over the keys; a site that
// gives both, differently, is an error. "~/" starts a path in the home
// folder; a relative path (identity, known_hosts, a local target) is taken
// from the inventory's folder, so a cron job finds the same files as the
// person who wrote it.
//
// # WP-CLI aliases
//
// A WP-CLI config file (wp-cli.yml, wp-cli.local.yml, ~/.wp-cli/config.yml)
// works as it is:
//
//	@prod:
//	  ssh: deploy@web1:2222/var/www/acme   # [user@]host[:port][/path]
//	  url: https://acme.example
//	@staging:
//	  ssh: deploy@web2
//	  path: /var/www/acme-staging          # the WordPress folder
//	@local:
//	  path: sites/acme                     # a local site, from the file's folder
//	@shops: [@prod, @staging]              # a group
//
// WP-CLI's YAML reader takes @prod: unquoted, which YAML reserves: such
// names are quoted before a second reading. Files are merged as WP-CLI
// merges them (LoadAliases; WPCLIConfigFiles finds them): a file after the
// one it inherits (_: inherit: FILE), an alias of a later file replacing
// one of the same name.
//
// Each alias is a site named after it without the @; each group an alias
// belongs to, directly or through another group, is one of its tags, so
// `--tag shops` (or `@shops` as an argument) selects the group. An alias's
// key (an SSH key file) is its identity. WP-CLI's path is taken from the
// ssh path when relative, and must end absolute: wpfix cannot guess a home
// folder. Container and VM schemes (docker:, docker-compose:,
// docker-compose-run:, vagrant:), http: aliases and proxyjump are refused
// with the reason; a WordPress user (user:) is ignored, as wpfix loads no
// WordPress, and said so in a Warning.
//
// # Errors
//
// Everything wrong with an inventory is an *InventoryError naming the file,
// the line and the field, and errors.Is(err, ErrInventory) holds, so that a
// command can exit 2.
//
// # Selection and shards
//
// Select picks sites by name, @group or tag, and adds targets given on the
// command line as sites of their own. A Shard keeps the sites of one
// machine of N: a site's shard depends only on its name (and N), so the
// same site is always checked by the same machine whatever the order or
// content of the inventory.
package fleet
