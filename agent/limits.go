package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/wpfix/wpfix/agent/journal"
	"github.com/wpfix/wpfix/remote/sysinfo"
	"github.com/wpfix/wpfix/wp"
	"github.com/wpfix/wpfix/wp/server"
)

// LimitsOptions say how wpfix limits reads a site.
type LimitsOptions struct {
	// Probe reaches the site over HTTP (URL "" means the siteurl option,
	// where WordPress's files are served).
	Probe ProbeOptions
	// NoHTTP skips the temporary PHP file: only the servers' configs, the
	// CLI and wp-config.php are read, and the site is not changed at all.
	NoHTTP bool
	// Command names the run in the site's lock.
	Command string
	// Stack is the host's web stack already read (ReadStack); nil reads it.
	Stack *server.Stack
}

// LimitsReport is the result of wpfix limits.
type LimitsReport struct {
	Target string `json:"target"`
	// PHP is what PHP runs with under the web server, for this site: read
	// over HTTP from a temporary PHP file. nil when it could not be read.
	PHP *PHPRuntime `json:"php,omitempty"`
	// CLI is what the host's php command runs with (cron jobs, WP-CLI).
	CLI *PHPRuntime `json:"cli,omitempty"`
	// WordPress is what wp-config.php asks for.
	WordPress WPMemory `json:"wordpress"`
	// Pools and Web are what the running servers' configs say.
	Pools []server.FPMPool    `json:"pools"`
	Web   []server.WebTimeout `json:"web"`
	// Warnings are what the servers' configs held that could not be read,
	// or that a server would refuse.
	Warnings []server.Warning `json:"warnings,omitempty"`
	// Disk is the filesystem that holds the site; Memory the host's.
	Disk   *sysinfo.Disk   `json:"disk,omitempty"`
	Memory *sysinfo.Memory `json:"memory,omitempty"`
	// Findings are the conflicts found, errors first.
	Findings []Finding `json:"findings"`
	// Notes say what could not be read, and why.
	Notes []string `json:"notes,omitempty"`
}

// PHPRuntime is what one PHP runs with.
type PHPRuntime struct {
	Version string `json:"version"`
	SAPI    string `json:"sapi"`
	// INI holds the values of server.LimitININames and a few more that explain
	// failures (display_errors, log_errors, error_log, opcache.enable …).
	INI map[string]string `json:"ini"`
	// MemoryLimitChangeable says whether a script may raise memory_limit,
	// as WordPress tries to (WP_MEMORY_LIMIT): not when the pool sets it
	// with php_admin_value, nor when ini_set is disabled.
	MemoryLimitChangeable bool   `json:"memory_limit_changeable"`
	LoadedINI             string `json:"loaded_ini,omitempty"`
	User                  string `json:"user,omitempty"`
	// Source says how it was read: the helper's URL (without its token) or
	// "php on the host".
	Source string `json:"source"`
}

// WPMemory is what WordPress asks of PHP's memory_limit.
type WPMemory struct {
	// MemoryLimit is WP_MEMORY_LIMIT (front end), MaxMemoryLimit
	// WP_MAX_MEMORY_LIMIT (admin, image work), with where each was set;
	// empty when wp-config.php does not define it (WordPress then picks
	// 40M, 64M on multisite, and 256M).
	MemoryLimit    server.Setting `json:"memory_limit"`
	MaxMemoryLimit server.Setting `json:"max_memory_limit"`
}

// Finding severities.
const (
	SeverityError   = "error"   // the site fails, or will, this way
	SeverityWarning = "warning" // it may, under load or with growth
	SeverityInfo    = "info"
)

// Finding is a conflict between limits: what, the consequence, the fix.
type Finding struct {
	ID          string `json:"id"`
	Severity    string `json:"severity"`
	Problem     string `json:"problem"`
	Consequence string `json:"consequence"`
	Fix         string `json:"fix"`
}

// iniReported are the PHP settings the helper reads.
var iniReported = append(append([]string(nil), server.LimitININames...),
	"display_errors", "log_errors", "error_log", "opcache.enable", "opcache.memory_consumption",
	"opcache.validate_timestamps", "disable_functions", "default_socket_timeout")

// limitsPHP is the body of the helper and of the CLI's script: it prints
// what PHP runs with as JSON and changes nothing.
func limitsPHP() string {
	names, _ := json.Marshal(iniReported)
	return `$wpfix_names = json_decode('` + string(names) + `');
$wpfix_ini = array();
foreach ( $wpfix_names as $wpfix_name ) {
	$wpfix_value = @ini_get( $wpfix_name );
	if ( false !== $wpfix_value ) {
		$wpfix_ini[ $wpfix_name ] = (string) $wpfix_value;
	}
}
// As WordPress's wp_is_ini_value_changeable() decides.
$wpfix_changeable = function_exists( 'ini_set' );
if ( $wpfix_changeable && function_exists( 'ini_get_all' ) ) {
	$wpfix_all = @ini_get_all( null, true );
	if ( is_array( $wpfix_all ) && isset( $wpfix_all['memory_limit']['access'] ) ) {
		$wpfix_access     = $wpfix_all['memory_limit']['access'] & 7;
		$wpfix_changeable = ( INI_ALL === $wpfix_access || INI_USER === $wpfix_access );
	}
}
$wpfix_user = function_exists( 'posix_geteuid' ) && function_exists( 'posix_getpwuid' ) ? @posix_getpwuid( posix_geteuid() ) : false;
echo json_encode( array(
	'wpfix'                   => 'limits',
	'version'                 => PHP_VERSION,
	'sapi'                    => PHP_SAPI,
	'ini'                     => (object) $wpfix_ini,
	'memory_limit_changeable' => $wpfix_changeable,
	'loaded_ini'              => (string) php_ini_loaded_file(),
	'user'                    => is_array( $wpfix_user ) ? $wpfix_user['name'] : get_current_user(),
) );
`
}

// limitsFile is the limits helper: the script behind a token check. Its
// token is not journaled: restore has nothing to ask it.
func limitsFile() helperFile {
	return helperFile{
		Purpose: "limits",
		Comment: `// wpfix limits: a temporary file, journaled in wp-content/.wpfix/journal
// and removed at once ('wpfix restore' removes it after a crash). It
// prints the values PHP runs with for this site and changes nothing.
`,
		Body: `header( 'Content-Type: application/json' );
header( 'Cache-Control: no-store' );
` + limitsPHP(),
		Why: "wpfix limits: read the values PHP runs with under the web server; removed at once",
	}
}

// parseRuntime reads what limitsPHP printed.
func parseRuntime(body []byte, source string) (*PHPRuntime, error) {
	var raw struct {
		WPFix string `json:"wpfix"`
		PHPRuntime
	}
	if err := json.Unmarshal(body, &raw); err != nil || raw.WPFix != "limits" {
		snippet := strings.TrimSpace(string(body))
		if len(snippet) > 120 {
			snippet = snippet[:120] + "…"
		}
		return nil, fmt.Errorf("not wpfix's answer: %q", snippet)
	}
	raw.PHPRuntime.Source = source
	return &raw.PHPRuntime, nil
}

// Limits reports the limits PHP, php-fpm and the web server put on the
// site, and the conflicts between them. Unless o.NoHTTP, it places a
// temporary, randomly named, token-guarded PHP file in the docroot —
// journaled first, removed as soon as it has answered — to read the values
// php-fpm really runs the site with.
func Limits(ctx context.Context, s *Site, o LimitsOptions) (*LimitsReport, error) {
	rep := &LimitsReport{Target: s.Target.String(), Pools: []server.FPMPool{}, Web: []server.WebTimeout{}, Findings: []Finding{}}
	note := func(format string, a ...any) { rep.Notes = append(rep.Notes, fmt.Sprintf(format, a...)) }

	st := o.Stack
	var err error
	if st == nil {
		st, err = ReadStack(ctx, s)
	}
	if err != nil {
		note("the servers' configs could not be read: %v", err)
	} else {
		sc := st.Limits(s.WP.Root)
		rep.Pools, rep.Web, rep.Warnings = sc.Pools, sc.Web, st.Warnings
	}
	if rt, err := cliRuntime(ctx, s); err != nil {
		note("the host's php command could not be run: %v", err)
	} else {
		rep.CLI = rt
	}
	rep.WordPress = wpMemory(s.WP)
	if d, err := sysinfo.DiskSpace(ctx, s.Host, s.WP.Root); err != nil {
		note("free disk unknown: %v", err)
	} else {
		rep.Disk = &d
	}
	if m, err := sysinfo.HostMemory(ctx, s.Host); err != nil {
		note("free memory unknown: %v", err)
	} else {
		rep.Memory = &m
	}
	switch {
	case o.NoHTTP:
		note("--no-http: PHP's values under the web server are estimated from the pool's config and php.ini")
	case s.DB == nil:
		// The journal snapshots options before any change: no database,
		// no journal, no helper.
		note("the database cannot be reached (%v), so no journal can be kept: PHP's values under the web server are estimated from the pool's config and php.ini", s.DBErr)
	default:
		rt, err := httpRuntime(ctx, s, o)
		switch {
		case errors.Is(err, errNotRead):
			note("%v", err)
		case err != nil:
			return nil, err
		}
		rep.PHP = rt
	}
	rep.Findings = limitFindings(rep)
	return rep, nil
}

// errNotRead marks a helper that was placed and removed but whose answer
// could not be read: the report goes on without it.
var errNotRead = errors.New("PHP's values under the web server could not be read")

// httpRuntime places the helper, requests it and removes it, all
// journaled under the site's lock.
func httpRuntime(ctx context.Context, s *Site, o LimitsOptions) (rt *PHPRuntime, err error) {
	po := o.Probe
	if po.URL == "" {
		v, ok, err := s.DB.Option(ctx, "siteurl")
		if err != nil {
			return nil, unreachable(err)
		}
		if !ok || v == "" {
			return nil, fmt.Errorf("%w: the siteurl option is empty", errNotRead)
		}
		po.URL = v
	}
	p, err := NewProber(po)
	if err != nil {
		return nil, err
	}
	if err := checkLock(ctx, s); err != nil {
		return nil, err
	}
	command := o.Command
	if command == "" {
		command = "wpfix limits"
	}
	lock, err := lockSite(ctx, s, command, false)
	if err != nil {
		if !errors.Is(err, ErrLocked) {
			err = fmt.Errorf("%w (wpfix limits --no-http reads the configs only)", err)
		}
		return nil, err
	}
	defer unlock(ctx, lock, &err)
	j, err := journal.Open(ctx, s.journalSite())
	if err != nil {
		return nil, journalError(err)
	}

	h, err := newHelper(s.WP.Root, po.URL, limitsFile())
	if err != nil {
		return nil, err
	}
	base := h.Base()
	if err := h.Place(ctx, j); err != nil {
		j.Finish(context.WithoutCancel(ctx))
		return nil, unreachable(fmt.Errorf("place the helper: %w", err))
	}
	// Whatever happens from here, the file goes: also on Ctrl-C.
	defer func() {
		rctx := context.WithoutCancel(ctx)
		uerr := h.Remove(rctx)
		if uerr == nil {
			uerr = j.Finish(rctx)
		}
		if uerr != nil {
			err = errors.Join(err, fmt.Errorf("remove %s, run wpfix restore: %w", h.Path(), uerr))
		}
	}()

	u := *h.URL(nil)
	resp, body, gerr := p.get(ctx, &u)
	// An http siteurl served over https, or a www redirect: follow a few
	// redirects to the same file on the same host name.
	for hop := 0; gerr == nil && hop < MaxProbeRedirects; hop++ {
		next := redirectTarget(resp)
		if next == nil || !strings.EqualFold(next.Hostname(), base.Hostname()) || next.Path != base.Path {
			break
		}
		next.RawQuery = u.RawQuery
		u = *next
		resp, body, gerr = p.get(ctx, &u)
	}
	switch {
	case ctx.Err() != nil:
		return nil, fmt.Errorf("interrupted; the helper was removed: %w", ctx.Err())
	case gerr != nil:
		return nil, fmt.Errorf("%w: %s: %v", errNotRead, base.Redacted(), gerr)
	case resp.StatusCode != 200:
		return nil, fmt.Errorf("%w: %s answered %d", errNotRead, base.Redacted(), resp.StatusCode)
	}
	rt, err = parseRuntime(body, base.Redacted())
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", errNotRead, base.Redacted(), err)
	}
	return rt, nil
}

// cliRuntime runs the host's php with the script on standard input.
func cliRuntime(ctx context.Context, s *Site) (*PHPRuntime, error) {
	out, err := s.Host.Exec(ctx, []string{"php", "-d", "display_errors=stderr"}, strings.NewReader("<?php\n"+limitsPHP()))
	if err != nil {
		return nil, err
	}
	return parseRuntime(out, "php on the host")
}

// wpMemory reads WP_MEMORY_LIMIT and WP_MAX_MEMORY_LIMIT from wp-config.php.
func wpMemory(site *wp.Site) WPMemory {
	get := func(name string) server.Setting {
		v, ok, err := site.Constant(name)
		if err != nil || !ok {
			return server.Setting{}
		}
		s := server.Setting{Value: v, File: site.ConfigFile}
		if c, ok := site.Config.Constants[name]; ok {
			s.Line = c.Line
		}
		return s
	}
	return WPMemory{MemoryLimit: get("WP_MEMORY_LIMIT"), MaxMemoryLimit: get("WP_MAX_MEMORY_LIMIT")}
}
