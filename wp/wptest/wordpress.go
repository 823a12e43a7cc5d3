package wptest

import (
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
)

// RunWordPress runs PHP code (without an opening tag) inside the site's
// WordPress, with the host's php CLI: wp-load.php is loaded, active
// plugins and all, then wp-admin/includes/plugin.php, as a wp-admin page
// such as plugins.php has them, so that WordPress's own functions
// (validate_active_plugins(), deactivate_plugins(), switch_theme() …)
// change the site exactly as they would for its admin. It runs as the
// stack's owner when there is one, and returns what the code printed; a
// failure (a PHP fatal, a plugin that kills the process) fails the test.
func (s *Stack) RunWordPress(t testing.TB, code string) string {
	t.Helper()
	script := s.dir.Path("wordpress.php")
	if _, err := os.Stat(script); err != nil {
		s.dir.WriteFile("wordpress.php", mustAsset("php/wordpress.php"), 0o644)
	}
	cmd := exec.Command(s.php, "-c", s.dir.Path("php.ini"), script, s.Root, s.URL)
	cmd.Env = phpEnv()
	cmd.Stdin = strings.NewReader(code)
	if os.Geteuid() == 0 && s.Options.Owner != "" {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(s.uid), Gid: uint32(s.gid)}}
	}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("wptest: run in WordPress %q: %v\n%s%s", code, err, out, exitStderr(err))
	}
	return string(out)
}
