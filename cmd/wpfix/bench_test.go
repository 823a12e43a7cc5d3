package main

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wpfix/wpfix/remote/proctest"
	"github.com/wpfix/wpfix/remote/sshtest"
	"github.com/wpfix/wpfix/wp/wptest"
)

// benchPlugins and benchCulprit: 64 active plugins, the 41st of which
// kills its worker (in name order, which both wpfix and the shell loop
// follow).
const (
	benchPlugins = 64
	benchCulprit = 40
)

// BenchmarkBisect64 measures a bisection over SSH of a site with 64 active
// plugins and one culprit, side by side with what an admin's shell loop
// does: for each plugin, ssh in and rename it, curl the site, rename it back
// if the site still fails. Run with -benchtime 3x; restoring between runs is
// not timed.
func BenchmarkBisect64(b *testing.B) {
	srv := sshtest.NewServer(b, sshtest.Options{})
	st := wptest.NewStack(b, wptest.Options{Owner: srv.User})
	var files []string
	culprit := ""
	for i := range benchPlugins {
		p := wptest.Plugin{Slug: fmt.Sprintf("plugin-%02d", i)}
		if i == benchCulprit {
			p.Body = wptest.KillWorker
			culprit = p.Slug
		}
		files = append(files, st.AddPlugin(b, p))
	}
	st.ActivatePlugins(b, files...)
	home := b.TempDir()
	target := srv.User + "@" + srv.Host + ":" + st.Root
	flags := []string{"-i", srv.KeyFile, "-p", strconv.Itoa(srv.Port), "--known-hosts", srv.KnownHostsFile}
	wpfix := func(args ...string) ([]byte, error) {
		cmd := exec.Command(wpfixBin, append(append(args, target), flags...)...)
		cmd.Env = append(os.Environ(), "HOME="+home, "SSH_AUTH_SOCK=")
		return cmd.Output()
	}

	b.Run("wpfix", func(b *testing.B) {
		probes := 0
		for b.Loop() {
			out, err := wpfix("bisect", "--json", "--yes")
			require.NoError(b, err, "%s", out)
			var rep struct {
				Verdict  string
				Culprits []struct{ Name string }
				Probes   int
			}
			require.NoError(b, json.Unmarshal(out, &rep))
			require.Equal(b, "culprit_found", rep.Verdict)
			require.Equal(b, culprit, rep.Culprits[0].Name)
			probes = rep.Probes
			b.StopTimer()
			_, err = wpfix("restore")
			require.NoError(b, err)
			b.StartTimer()
		}
		b.ReportMetric(float64(probes), "probes/op")
	})

	b.Run("shell-one-by-one", func(b *testing.B) {
		sshBin := proctest.Require(b, "openssh-client", "ssh")
		proctest.Require(b, "curl", "curl")
		ssh := fmt.Sprintf("%s -F none -i %s -p %d -o UserKnownHostsFile=%s -o BatchMode=yes %s@%s",
			sshBin, srv.KeyFile, srv.Port, srv.KnownHostsFile, srv.User, srv.Host)
		dir := st.PluginDir
		// The loop an admin types: rename, refresh, put back, next.
		script := `n=0
for p in $(` + ssh + ` ls ` + dir + ` | grep -v index.php); do
  ` + ssh + ` mv ` + dir + `/$p ` + dir + `/$p-back
  n=$((n+1))
  code=$(curl -s -o /dev/null -w '%{http_code}' '` + st.URL + `/')
  if [ "$code" = 200 ]; then echo "$p $n"; exit 0; fi
  ` + ssh + ` mv ` + dir + `/$p-back ` + dir + `/$p
done
exit 1`
		curls := 0
		for b.Loop() {
			out, err := exec.Command("bash", "-c", script).Output()
			require.NoError(b, err, "%s", out)
			f := strings.Fields(string(out))
			require.Len(b, f, 2, "%s", out)
			require.Equal(b, culprit, f[0])
			curls, _ = strconv.Atoi(f[1])
			b.StopTimer()
			require.NoError(b, os.Rename(filepath.Join(dir, culprit+"-back"), filepath.Join(dir, culprit)))
			b.StartTimer()
		}
		b.ReportMetric(float64(curls), "probes/op")
	})
}

// BenchmarkReports measures, over SSH, the wall time of the commands that
// read a broken site (a plugin kills its worker; 12 plugins active):
// limits with its helper file over HTTP, limits from the configs alone,
// diagnose, and logs.
func BenchmarkReports(b *testing.B) {
	srv := sshtest.NewServer(b, sshtest.Options{})
	st := wptest.NewStack(b, wptest.Options{Owner: srv.User})
	var files []string
	for i := range 12 {
		files = append(files, st.AddPlugin(b, wptest.Plugin{Slug: fmt.Sprintf("plugin-%02d", i)}))
	}
	st.ActivatePlugins(b, files...)
	st.Break(b, wptest.BreakKillWorker)
	home := b.TempDir()
	target := srv.User + "@" + srv.Host + ":" + st.Root
	flags := []string{"-i", srv.KeyFile, "-p", strconv.Itoa(srv.Port), "--known-hosts", srv.KnownHostsFile}
	for _, c := range []struct {
		name string
		args []string
		code int
	}{
		{"limits", []string{"limits", "--json"}, 0},
		{"limits-no-http", []string{"limits", "--json", "--no-http"}, 0},
		{"diagnose", []string{"diagnose", "--json"}, 1},
		{"logs", []string{"logs", "--json"}, 0},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				cmd := exec.Command(wpfixBin, append(append(c.args, target), flags...)...)
				cmd.Env = append(os.Environ(), "HOME="+home, "SSH_AUTH_SOCK=")
				out, _ := cmd.CombinedOutput()
				require.Equal(b, c.code, cmd.ProcessState.ExitCode(), "%s", out)
			}
		})
	}
}

// BenchmarkHealHealthy measures one heal run on a healthy site, the cost
// cron pays every few minutes for years: wall time, the CPU time of the
// wpfix process, and its peak resident memory, locally and over SSH.
// Run with -benchtime 20x.
func BenchmarkHealHealthy(b *testing.B) {
	srv := sshtest.NewServer(b, sshtest.Options{})
	st := wptest.NewStack(b, wptest.Options{Owner: srv.User})
	home := b.TempDir()
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"local", []string{st.Root}},
		{"ssh", []string{srv.User + "@" + srv.Host + ":" + st.Root, "-i", srv.KeyFile, "-p", strconv.Itoa(srv.Port),
			"--known-hosts", srv.KnownHostsFile}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var cpu, rss int64
			for b.Loop() {
				cmd := exec.Command(wpfixBin, append([]string{"heal", "--config", "none"}, tc.args...)...)
				cmd.Env = append(os.Environ(), "HOME="+home, "SSH_AUTH_SOCK=")
				out, err := cmd.CombinedOutput()
				require.NoError(b, err, "%s", out)
				require.Empty(b, out, "a healthy site: heal says nothing")
				ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
				cpu += ru.Utime.Nano() + ru.Stime.Nano()
				rss = max(rss, ru.Maxrss)
			}
			b.ReportMetric(float64(cpu)/float64(b.N)/1e6, "cpu-ms/run")
			b.ReportMetric(float64(rss)/1024, "peak-rss-MB")
		})
	}
}

// BenchmarkCheck100 measures wpfix check over 100 sites on four SSH
// servers (wall time, peak RSS), side by side with the way agencies do it
// today: a loop of one ssh session (is wp-config.php there?) and one curl
// (the status) per site, one after another. Each runs on loopback, and
// again through a proxy that holds every chunk 25 ms each way (a 50 ms
// round trip, as between an agency and its servers) in front of every
// sshd and web server. PHP runs with opcache, as on a production host,
// and every page is requested once before anything is timed, so that
// neither side pays for compiling WordPress. Run with -benchtime 1x.
func BenchmarkCheck100(b *testing.B) {
	const n = 100
	f := wptest.NewFleet(b, wptest.FleetOptions{Sites: n, Servers: 4, Opcache: true})
	sshBin := proctest.Require(b, "openssh-client", "ssh")
	curlBin := proctest.Require(b, "curl", "curl")
	for _, s := range f.Sites {
		out, err := exec.Command(curlBin, "-s", "-o", "/dev/null", "-w", "%{http_code}", s.URL+"/").Output()
		require.NoError(b, err)
		require.Equal(b, "200", string(out), "warming %s", s.Name)
	}
	home := b.TempDir()
	rss := func(cmd *exec.Cmd) float64 {
		return float64(cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss) / 1024
	}
	for _, delay := range []time.Duration{0, 25 * time.Millisecond} {
		// the servers as wpfix and the loop reach them: directly, or at
		// 127.0.0.2 through the delaying proxy (same ports, the URLs'
		// host kept: --resolve and curl's --connect-to)
		ip := "127.0.0.1"
		var khLines strings.Builder
		if delay > 0 {
			ip = "127.0.0.2"
			for _, srv := range f.Servers {
				proctest.DelayProxy(b, ip+":"+strconv.Itoa(srv.Port), srv.Addr, delay)
				kh, err := os.ReadFile(srv.KnownHostsFile)
				require.NoError(b, err)
				khLines.Write(kh)
				khLines.WriteString(strings.Replace(string(kh), "127.0.0.1", ip, 1))
			}
			for _, s := range f.Sites {
				u := strings.TrimPrefix(s.URL, "http://")
				_, port, _ := net.SplitHostPort(u)
				proctest.DelayProxy(b, ip+":"+port, u, delay)
			}
		}
		khFile := filepath.Join(b.TempDir(), "known_hosts")
		var inv, loop strings.Builder
		loop.WriteString("bad=0\n")
		for _, s := range f.Sites {
			srv := f.ServerOf(s)
			kh := srv.KnownHostsFile
			if delay > 0 {
				kh = khFile
			}
			u := strings.TrimPrefix(s.URL, "http://")
			_, port, _ := net.SplitHostPort(u)
			fmt.Fprintf(&inv, "[[site]]\nname = %q\ntarget = %q\nurl = %q\nresolve = %q\nport = %d\nidentity = %q\nknown_hosts = %q\n\n",
				s.Name, srv.User+"@"+ip+":"+s.Root, s.URL, ip, srv.Port, srv.KeyFile, kh)
			fmt.Fprintf(&loop, "%s -F none -i %s -p %d -o UserKnownHostsFile=%s -o BatchMode=yes %s@%s test -f %s/wp-config.php || bad=$((bad+1))\n",
				sshBin, srv.KeyFile, srv.Port, kh, srv.User, ip, s.Root)
			fmt.Fprintf(&loop, "[ \"$(curl -s --connect-to 127.0.0.1:%s:%s:%s -o /dev/null -w '%%{http_code}' '%s/')\" = 200 ] || bad=$((bad+1))\n",
				port, ip, port, s.URL)
		}
		loop.WriteString("echo $bad\n")
		require.NoError(b, os.WriteFile(khFile, []byte(khLines.String()), 0o600))
		file := filepath.Join(b.TempDir(), "sites.toml")
		require.NoError(b, os.WriteFile(file, []byte(inv.String()), 0o644))
		name := "loopback"
		if delay > 0 {
			name = "rtt-" + (2 * delay).String()
		}

		b.Run(name+"/wpfix", func(b *testing.B) {
			var peak float64
			for b.Loop() {
				cmd := exec.Command(wpfixBin, "check", "--inventory", file, "--format", "json")
				cmd.Env = append(os.Environ(), "HOME="+home, "SSH_AUTH_SOCK=")
				out, err := cmd.Output()
				require.NoError(b, err, "%s", out)
				var rep struct{ Summary struct{ Healthy int } }
				require.NoError(b, json.Unmarshal(out, &rep))
				require.Equal(b, n, rep.Summary.Healthy, "%s", out)
				peak = max(peak, rss(cmd))
			}
			b.ReportMetric(peak, "peak-rss-MB")
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "sites/s")
		})
		b.Run(name+"/ssh-and-curl-loop", func(b *testing.B) {
			var peak float64
			for b.Loop() {
				cmd := exec.Command("bash", "-c", loop.String())
				out, err := cmd.Output()
				require.NoError(b, err, "%s", out)
				require.Equal(b, "0", strings.TrimSpace(string(out)))
				peak = max(peak, rss(cmd))
			}
			b.ReportMetric(peak, "peak-rss-MB")
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "sites/s")
		})
	}
}
