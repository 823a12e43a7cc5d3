package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/spf13/pflag"

	"github.com/wpfix/wpfix/agent"
	"github.com/wpfix/wpfix/agent/notify"
	"github.com/wpfix/wpfix/remote"
	"github.com/wpfix/wpfix/wp"
)

// notifyOptions are heal's notification flags; the config file's
// [[notify]] tables add channels, and its [heal] table a ping URL.
type notifyOptions struct {
	URLs   []string
	Emails []string
	Ping   string
}

// AddFlags declares the notification flags.
func (o *notifyOptions) AddFlags(f *pflag.FlagSet) {
	f.StringArrayVar(&o.URLs, "notify", nil, "send notices to `URL`: a JSON webhook, Slack or Discord webhook (or slack+https://, discord+https://, json+https://, mailto:ADDR) (repeatable)")
	f.StringArrayVar(&o.Emails, "email", nil, "mail notices to `ADDR`, by the config file's SMTP server or the host's sendmail (repeatable)")
	f.StringVar(&o.Ping, "ping", "", "ping `URL` (healthchecks.io style: URL/start, URL, URL/fail), so a dead-man's switch notices when heal stops running")
}

// notifier sends heal's notices to the channels of the flags and the
// config file.
type notifier struct {
	chans []notify.Channel
	ping  *notify.Ping
	log   *slog.Logger
}

// notifier builds the channels; a URL that does not parse is a usage
// error. Email goes by the first [[notify]] table with SMTP settings,
// else by sendmail on host, the site's (nil: this machine).
func (o notifyOptions) notifier(g globalOptions, term *terminal, host remote.Host) (*notifier, error) {
	c, err := g.loadConfig()
	if err != nil {
		return nil, err
	}
	n := &notifier{log: g.logger(term.Err)}
	var mail notify.Mail
	var tables []notifyConfig
	if c != nil {
		tables = c.Notify
		if c.Heal.Ping != "" && o.Ping == "" {
			o.Ping = c.Heal.Ping
		}
	}
	for _, t := range tables {
		if t.SMTP != "" || t.From != "" || t.Sendmail != "" {
			mail = mailOf(t)
			break
		}
	}
	mail.Sendmail.Host = host
	add := func(ch notify.Channel, err error, what string) error {
		if err != nil {
			return usageErrorf("%s: %v", what, err)
		}
		n.chans = append(n.chans, ch)
		return nil
	}
	for _, u := range o.URLs {
		ch, err := notify.ParseURL(u, mail)
		if err := add(ch, err, "--notify"); err != nil {
			return nil, err
		}
	}
	if len(o.Emails) > 0 {
		m := mail
		m.To = o.Emails
		ch, err := m.Channel()
		if err := add(ch, err, "--email"); err != nil {
			return nil, err
		}
	}
	for i, t := range tables {
		var ch notify.Channel
		var err error
		if t.URL != "" {
			ch, err = notify.ParseURL(t.URL, mail)
		} else {
			m := mailOf(t)
			m.To, m.Sendmail.Host = t.Email, host
			ch, err = m.Channel()
		}
		if err := add(ch, err, fmt.Sprintf("config %s: [[notify]] #%d", c.file, i+1)); err != nil {
			return nil, err
		}
	}
	if o.Ping != "" {
		n.ping = &notify.Ping{URL: o.Ping}
	}
	return n, nil
}

// mailOf is the mail settings of a [[notify]] table; the password comes
// from the table or, failing that, the environment (WPFIX_SMTP_PASSWORD).
func mailOf(t notifyConfig) notify.Mail {
	m := notify.Mail{From: t.From, SMTP: t.SMTP, CAFile: t.CAFile, Password: wp.Secret(t.Password),
		Sendmail: notify.Sendmail{Path: t.Sendmail, Args: t.SendmailArgs}}
	if m.Password == "" && t.SMTP != "" {
		m.Password = wp.Secret(os.Getenv(notify.PasswordEnv))
	}
	return m
}

// send is agent.HealOptions.Notify.
func (n *notifier) send(ctx context.Context, e agent.Event) []error {
	if len(n.chans) == 0 {
		return nil
	}
	return notify.SendAll(ctx, n.chans, e, n.log)
}

// pingFunc is agent.HealOptions.Ping, or nil without a ping URL.
func (n *notifier) pingFunc() func(ctx context.Context, what string) error {
	if n.ping == nil {
		return nil
	}
	return func(ctx context.Context, what string) error {
		switch what {
		case "start":
			return n.ping.Start(ctx)
		case "fail":
			return n.ping.Fail(ctx, "")
		}
		return n.ping.Success(ctx)
	}
}
