package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/wpfix/wpfix/wp/logsig"
)

// configFile is wpfix's config file, wpfix.toml: log signatures
// ([[signature]], checked by package logsig), heal's defaults ([heal]) and
// its notification channels ([[notify]]), so that a crontab line stays
// short.
type configFile struct {
	file   string
	raw    []byte
	Heal   healConfig     `toml:"heal"`
	Notify []notifyConfig `toml:"notify"`
}

// healConfig is the [heal] table: defaults of heal's flags (a flag given
// on the command line wins).
type healConfig struct {
	Confirm         int      `toml:"confirm"`
	ConfirmInterval duration `toml:"confirm_interval"`
	Backoff         duration `toml:"backoff"`
	Remind          duration `toml:"remind"`
	Ping            string   `toml:"ping"`
}

// notifyConfig is one [[notify]] table: a webhook URL, or email.
type notifyConfig struct {
	URL string `toml:"url"`
	// Email: recipients, and how mail goes out.
	Email    []string `toml:"email"`
	From     string   `toml:"from"`
	SMTP     string   `toml:"smtp"`
	Password string   `toml:"password"`
	CAFile   string   `toml:"ca_file"`
	Sendmail string   `toml:"sendmail"`
	// SendmailArgs are options for a sendmail-compatible program (msmtp's
	// -C FILE) before wpfix's own.
	SendmailArgs []string `toml:"sendmail_args"`
}

// duration is a TOML string such as "10s" or "6h".
type duration time.Duration

// UnmarshalText reads a Go duration.
func (d *duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	if v < 0 {
		return fmt.Errorf("%s: want a positive duration", b)
	}
	*d = duration(v)
	return nil
}

// loadConfig reads the config file: --config, else
// $XDG_CONFIG_HOME/wpfix/wpfix.toml (~/.config/wpfix/wpfix.toml) when it
// exists; nil when there is none. A file that is named and missing, that
// does not parse, or that holds a key wpfix does not know is a usage
// error naming the file, the line and the key.
func (g *globalOptions) loadConfig() (*configFile, error) {
	if g.config != nil || g.configErr != nil {
		return g.config, g.configErr
	}
	g.config, g.configErr = readConfig(g.Config)
	return g.config, g.configErr
}

func readConfig(name string) (*configFile, error) {
	file, named := name, name != ""
	if file == "none" {
		return nil, nil
	}
	if !named {
		dir, err := os.UserConfigDir()
		if err != nil {
			return nil, nil
		}
		file = filepath.Join(dir, "wpfix", "wpfix.toml")
	}
	b, err := os.ReadFile(file)
	switch {
	case errors.Is(err, fs.ErrNotExist) && !named:
		return nil, nil
	case err != nil:
		return nil, usageErrorf("config: %v", err)
	}
	c := &configFile{file: file, raw: b}
	if _, err := logsig.NewClassifier(b); err != nil {
		var se *logsig.SignatureError
		if errors.As(err, &se) {
			where := file
			if se.Line > 0 {
				where += fmt.Sprintf(" line %d", se.Line)
			}
			if se.ID != "" {
				where += fmt.Sprintf(", signature %q", se.ID)
			}
			return nil, usageErrorf("config %s: %v", where, se.Err)
		}
		return nil, usageErrorf("config %s: %v", file, err)
	}
	var doc struct {
		Heal      healConfig       `toml:"heal"`
		Notify    []notifyConfig   `toml:"notify"`
		Signature []toml.Primitive `toml:"signature"`
	}
	md, err := toml.Decode(string(b), &doc)
	if err != nil {
		return nil, usageErrorf("config %s: %v", file, err)
	}
	for _, k := range md.Undecoded() {
		if len(k) > 0 && k[0] == "signature" {
			continue // logsig's to check
		}
		return nil, usageErrorf("config %s: unknown key %q (the file holds [[signature]], [heal] and [[notify]])", file, k.String())
	}
	c.Heal, c.Notify = doc.Heal, doc.Notify
	for i, n := range c.Notify {
		if (n.URL == "") == (len(n.Email) == 0) {
			return nil, usageErrorf("config %s: [[notify]] #%d: give either url or email", file, i+1)
		}
		if n.Password != "" && strings.TrimSpace(n.SMTP) == "" {
			return nil, usageErrorf("config %s: [[notify]] #%d: a password without smtp", file, i+1)
		}
	}
	return c, nil
}
