package main

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/spf13/pflag"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// TestConfigFile: the example config file parses, [heal] and [[notify]]
// included; a key wpfix does not know, or a [[notify]] that is neither a
// URL nor email, is an error naming the file.
func TestConfigFile(t *testing.T) {
	c, err := readConfig(filepath.Join("..", "..", "configs", "wpfix.example.toml"))
	require.NoError(t, err)
	assert.Equal(t, 3, c.Heal.Confirm)
	assert.Equal(t, 10*time.Second, time.Duration(c.Heal.ConfirmInterval))
	assert.Equal(t, 6*time.Hour, time.Duration(c.Heal.Remind))
	require.Len(t, c.Notify, 2)
	assert.Contains(t, c.Notify[0].URL, "hooks.slack.com")
	assert.Equal(t, []string{"admin@example.com"}, c.Notify[1].Email)

	for _, tt := range []struct{ name, body, want string }{
		{"unknown table", "[hael]\nconfirm = 2\n", `unknown key "hael"`},
		{"unknown key", "[heal]\nconfirms = 2\n", `unknown key "heal.confirms"`},
		{"neither", "[[notify]]\nfrom = \"a@b.c\"\n", "[[notify]] #1: give either url or email"},
		{"both", "[[notify]]\nurl = \"https://x.test/\"\nemail = [\"a@b.c\"]\n", "give either url or email"},
		{"bad duration", "[heal]\nremind = \"soon\"\n", "remind"},
		{"bad signature", "[[signature]]\nid = \"x\"\n", `signature "x"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := filepath.Join(t.TempDir(), "wpfix.toml")
			require.NoError(t, os.WriteFile(f, []byte(tt.body), 0o600))
			_, err := readConfig(f)
			require.Error(t, err)
			assert.ErrorContains(t, err, f)
			assert.ErrorContains(t, err, tt.want)
		})
	}
}

// TestKubernetesCronJob: the example CronJob is YAML Kubernetes reads: an
// Indexed Job never overlapped, its pods each checking one shard into a
// metrics file of its own.
func TestKubernetesCronJob(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "configs", "wpfix-check-cronjob.yaml"))
	require.NoError(t, err)
	var cj struct {
		Kind string
		Spec struct {
			ConcurrencyPolicy string `yaml:"concurrencyPolicy"`
			JobTemplate       struct {
				Spec struct {
					CompletionMode string `yaml:"completionMode"`
					Completions    int
					Template       struct {
						Spec struct {
							Containers []struct{ Args []string }
						}
					}
				}
			} `yaml:"jobTemplate"`
		}
	}
	require.NoError(t, yaml.Unmarshal(b, &cj))
	assert.Equal(t, "CronJob", cj.Kind)
	assert.Equal(t, "Forbid", cj.Spec.ConcurrencyPolicy)
	js := cj.Spec.JobTemplate.Spec
	assert.Equal(t, "Indexed", js.CompletionMode)
	require.Len(t, js.Template.Spec.Containers, 1)
	args := js.Template.Spec.Containers[0].Args
	assert.Contains(t, args, "--shards="+strconv.Itoa(js.Completions))
	assert.Contains(t, args, "--format=prometheus")
	// the flags parse as wpfix check's
	var o checkOptions
	f := pflag.NewFlagSet("check", pflag.ContinueOnError)
	o.AddFlags(f)
	var g globalOptions
	g.AddFlags(f)
	require.NoError(t, f.Parse(args[1:]))
	assert.Equal(t, 4, o.Shards)
}
