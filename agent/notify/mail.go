package notify

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	netmail "net/mail"
	"net/textproto"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/wpfix/wpfix/remote"
	"github.com/wpfix/wpfix/wp"
)

// PasswordEnv is the environment variable heal reads the SMTP password
// from when the config file does not give one.
const PasswordEnv = "WPFIX_SMTP_PASSWORD"

// Mail says how email notices are sent: by SMTP when SMTP is set, else by
// the host's sendmail. Printed with any fmt verb, logged or marshalled, it
// never shows the password.
type Mail struct {
	// From is the sender's address. "" for SMTP means the SMTP user when
	// it is an address; for sendmail it leaves the header to sendmail,
	// which puts the site user's address there.
	From string
	// To are the recipients' addresses.
	To []string
	// SMTP is the server: "smtp://[USER@]HOST[:PORT]" (port 587;
	// STARTTLS required, "?starttls=opportunistic" for a relay without
	// it, which then never sends a password in the clear) or
	// "smtps://[USER@]HOST[:PORT]" (port 465, TLS from the start).
	// With a USER, AUTH is required. "" sends by sendmail.
	SMTP string
	// Password is the SMTP user's password: from WPFIX_SMTP_PASSWORD or
	// the config file, never from the URL (it would show in ps and
	// crontabs).
	Password wp.Secret
	// CAFile is a PEM file of the certificates to trust for the SMTP
	// server instead of the system's: a private CA, a self-signed cert.
	CAFile string
	// Sendmail is how mail goes out when SMTP is "".
	Sendmail Sendmail
}

// Sendmail is the host's sendmail program, which shared hosts offer when
// they offer nothing else. The message goes on its standard input, the
// recipients as arguments after "--": "sendmail [Args] -i -- ADDR…".
type Sendmail struct {
	// Host is the machine to run it on (the site's, over SSH); nil is
	// this machine.
	Host remote.Host
	// Path is the program: "" is /usr/sbin/sendmail when the host has
	// one (cron's PATH often lacks /usr/sbin), else "sendmail" on PATH.
	Path string
	// Args come before the rest: a sendmail-compatible program's own
	// options, such as msmtp's "-C FILE".
	Args []string
}

// parseMailto reads "ADDR[,ADDR…]" of a mailto: URL into mail's To.
func parseMailto(rest string, mail Mail) (Channel, error) {
	if i := strings.IndexAny(rest, "?#"); i >= 0 {
		return nil, errors.New("notify URL: mailto: takes addresses only (no ?subject= or #)")
	}
	addrs, err := url.PathUnescape(rest)
	if err != nil {
		return nil, errors.New("notify URL: mailto: bad %-escape")
	}
	mail.To = nil
	for _, a := range strings.Split(addrs, ",") {
		if a = strings.TrimSpace(a); a != "" {
			mail.To = append(mail.To, a)
		}
	}
	return mail.Channel()
}

// Channel checks the settings and returns the email channel they describe.
func (m Mail) Channel() (Channel, error) {
	if len(m.To) == 0 {
		return nil, errors.New("email: no recipient")
	}
	to := make([]string, len(m.To))
	for i, a := range m.To {
		addr, err := address(a)
		if err != nil {
			return nil, fmt.Errorf("email: recipient %q: %w", cleanText(a, 100), err)
		}
		to[i] = addr
	}
	from := ""
	if m.From != "" {
		addr, err := address(m.From)
		if err != nil {
			return nil, fmt.Errorf("email: sender %q: %w", cleanText(m.From, 100), err)
		}
		from = addr
	}
	if m.SMTP == "" {
		if m.Password != "" {
			return nil, errors.New("email: a password is set but no SMTP server; give one (smtp://USER@HOST) or drop the password")
		}
		return &sendmailChannel{from: from, to: to, sm: m.Sendmail}, nil
	}
	s, err := parseSMTP(m.SMTP)
	if err != nil {
		return nil, err
	}
	if s.user == "" && m.Password != "" {
		return nil, errors.New("email: a password is set but the SMTP URL names no user (smtp://USER@HOST)")
	}
	if s.user != "" && m.Password == "" {
		return nil, fmt.Errorf("email: SMTP user %q has no password; set %s or the config file's password", s.user, PasswordEnv)
	}
	if from == "" {
		addr, err := address(s.user)
		if err != nil {
			return nil, errors.New("email: no sender; set From (the SMTP user is not an address)")
		}
		from = addr
	}
	tc := &tls.Config{ServerName: s.host, MinVersion: tls.VersionTLS12}
	if m.CAFile != "" {
		pem, err := os.ReadFile(m.CAFile)
		if err != nil {
			return nil, fmt.Errorf("email: read the CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("email: CA file %s holds no PEM certificate", m.CAFile)
		}
		tc.RootCAs = pool
	}
	s.from, s.to, s.password, s.tls = from, to, m.Password, tc
	return s, nil
}

// address checks one address and returns it bare ("a@example.org").
func address(a string) (string, error) {
	if cleanText(a, 1000) != a || strings.ContainsAny(a, "\r\n") {
		return "", errors.New("control characters")
	}
	p, err := netmail.ParseAddress(a)
	if err != nil {
		return "", errors.New("not an email address")
	}
	if strings.HasPrefix(p.Address, "-") {
		return "", errors.New("an address may not start with -")
	}
	return p.Address, nil
}

// smtpChannel sends by SMTP with go-mail.
type smtpChannel struct {
	scheme, host, user string
	port               int
	policy             gomail.TLSPolicy
	from               string
	to                 []string
	password           wp.Secret
	tls                *tls.Config
}

// parseSMTP reads an SMTP URL; its errors never repeat a password.
func parseSMTP(raw string) (*smtpChannel, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, errors.New("email: the SMTP server is not a URL (want smtp://USER@HOST:587 or smtps://USER@HOST:465)")
	}
	if _, has := u.User.Password(); has {
		return nil, fmt.Errorf("email: a password in the SMTP URL is refused (it would show in ps and crontabs); set %s or the config file's password", PasswordEnv)
	}
	s := &smtpChannel{scheme: strings.ToLower(u.Scheme), host: u.Hostname(), user: u.User.Username()}
	switch s.scheme {
	case "smtp":
		s.port, s.policy = gomail.DefaultPortTLS, gomail.TLSMandatory
	case "smtps":
		s.port = gomail.DefaultPortSSL
	default:
		return nil, fmt.Errorf("email: SMTP scheme %q: want smtp:// (STARTTLS) or smtps:// (TLS)", cleanText(u.Scheme, 20))
	}
	if s.host == "" || (u.Path != "" && u.Path != "/") || u.Fragment != "" {
		return nil, errors.New("email: the SMTP URL must be smtp://[USER@]HOST[:PORT]")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return nil, errors.New("email: bad SMTP port")
		}
		s.port = n
	}
	for k, v := range u.Query() {
		switch {
		case k == "starttls" && s.scheme == "smtp" && len(v) == 1 && v[0] == "required":
		case k == "starttls" && s.scheme == "smtp" && len(v) == 1 && v[0] == "opportunistic":
			s.policy = gomail.TLSOpportunistic
		default:
			return nil, fmt.Errorf("email: SMTP URL option %q: only starttls=required|opportunistic, on smtp://", cleanText(k, 30))
		}
	}
	return s, nil
}

// Name is "email to ADDR… by smtp HOST:PORT", without the user.
func (s *smtpChannel) Name() string {
	return fmt.Sprintf("email to %s by %s %s", strings.Join(s.to, ","), s.scheme, net.JoinHostPort(s.host, strconv.Itoa(s.port)))
}

// Send delivers the event by SMTP.
func (s *smtpChannel) Send(ctx context.Context, e Event) error {
	msg, err := message(e, s.from, s.to)
	if err != nil {
		return permanent(err)
	}
	timeout := 15 * time.Second
	if dl, ok := ctx.Deadline(); ok {
		timeout = max(time.Until(dl), time.Millisecond)
	}
	opts := []gomail.Option{
		gomail.WithPort(s.port),
		gomail.WithTimeout(timeout),
		gomail.WithTLSConfig(s.tls),
	}
	if s.scheme == "smtps" {
		opts = append(opts, gomail.WithSSL())
	} else {
		opts = append(opts, gomail.WithTLSPolicy(s.policy))
	}
	if s.user != "" {
		// AutoDiscover picks the strongest mechanism the server offers,
		// and PLAIN or LOGIN only over TLS.
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(s.user), gomail.WithPassword(s.password.Reveal()))
	}
	c, err := gomail.NewClient(s.host, opts...)
	if err != nil {
		return permanent(s.redact(fmt.Errorf("set up the SMTP client: %w", err)))
	}
	if err := c.DialAndSendWithContext(ctx, msg); err != nil {
		var cv *tls.CertificateVerificationError
		switch {
		case strings.Contains(err.Error(), "AUTH failed"):
			err = fmt.Errorf("SMTP: the server refused user %q's password (from %s or the config file): %w", s.user, PasswordEnv, err)
		case errors.As(err, &cv):
			err = fmt.Errorf("SMTP: the server's certificate does not verify (a private CA needs the CA file setting): %w", err)
		default:
			err = fmt.Errorf("SMTP: %w", err)
		}
		err = s.redact(err)
		if smtpPermanent(err) {
			return permanent(err)
		}
		return err
	}
	return nil
}

// redact keeps the password, in clear or as PLAIN's base64, out of err.
// An error that held it loses its chain, which would hold it too.
func (s *smtpChannel) redact(err error) error {
	pw := s.password.Reveal()
	if pw == "" {
		return err
	}
	msg := err.Error()
	forms := []string{pw, base64.StdEncoding.EncodeToString([]byte("\x00" + s.user + "\x00" + pw)),
		base64.StdEncoding.EncodeToString([]byte(pw))}
	clean := scrub(msg, forms)
	if clean == msg {
		return err
	}
	if smtpPermanent(err) {
		return permanent(errors.New(clean))
	}
	return errors.New(clean)
}

// smtpPermanent: a 5xx reply (a refused password, a refused address), a
// certificate that does not verify, or no STARTTLS where it is required:
// trying again gives the same answer.
func smtpPermanent(err error) bool {
	var tp *textproto.Error
	if errors.As(err, &tp) && tp.Code >= 500 {
		return true
	}
	var se *gomail.SendError
	if errors.As(err, &se) && !se.IsTemp() && se.Reason != gomail.ErrConnCheck {
		return true
	}
	var cv *tls.CertificateVerificationError
	var ua x509.UnknownAuthorityError
	var he x509.HostnameError
	if errors.As(err, &cv) || errors.As(err, &ua) || errors.As(err, &he) {
		return true
	}
	m := err.Error()
	return strings.Contains(m, "does not support STARTTLS") || strings.Contains(m, "does not support SMTP AUTH") ||
		strings.Contains(m, "AUTH failed") || strings.Contains(m, "auth mechanism")
}

// message builds the email with go-mail, which encodes the headers and
// the body: a site-controlled name (already cleaned of CR and LF) cannot
// add a header.
func message(e Event, from string, to []string) (*gomail.Msg, error) {
	m := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	if from != "" {
		if err := m.From(from); err != nil {
			return nil, fmt.Errorf("email: sender: %w", err)
		}
	}
	if err := m.To(to...); err != nil {
		return nil, fmt.Errorf("email: recipients: %w", err)
	}
	m.Subject(e.Subject())
	m.SetDate()
	m.SetMessageID()
	// RFC 3834: an automatic message; vacation replies stay away.
	m.SetGenHeader("Auto-Submitted", "auto-generated")
	m.SetUserAgent("wpfix")
	m.SetBodyString(gomail.TypeTextPlain, e.Text())
	return m, nil
}

// sendmailChannel sends by the host's sendmail program.
type sendmailChannel struct {
	from string
	to   []string
	sm   Sendmail
}

func (c *sendmailChannel) host() remote.Host {
	if c.sm.Host != nil {
		return c.sm.Host
	}
	return remote.NewLocal()
}

// Name is "email to ADDR… by sendmail on HOST".
func (c *sendmailChannel) Name() string {
	p := c.sm.Path
	if p == "" {
		p = "sendmail"
	}
	return fmt.Sprintf("email to %s by %s on %s", strings.Join(c.to, ","), p, c.host().Name())
}

// Send runs sendmail with the message on its standard input.
func (c *sendmailChannel) Send(ctx context.Context, e Event) error {
	msg, err := message(e, c.from, c.to)
	if err != nil {
		return permanent(err)
	}
	var buf bytes.Buffer
	if _, err := msg.WriteTo(&buf); err != nil {
		return permanent(fmt.Errorf("email: write the message: %w", err))
	}
	// sendmail takes the local convention, LF; it writes CRLF on the wire.
	body := bytes.ReplaceAll(buf.Bytes(), []byte("\r\n"), []byte("\n"))
	h := c.host()
	path := c.sm.Path
	if path == "" {
		path = "sendmail"
		if fi, err := h.Stat(ctx, "/usr/sbin/sendmail"); err == nil && fi.Mode().Type()&fs.ModeDir == 0 {
			path = "/usr/sbin/sendmail"
		}
	}
	args := append([]string{path}, c.sm.Args...)
	args = append(append(args, "-i", "--"), c.to...)
	if _, err := h.Exec(ctx, args, bytes.NewReader(body)); err != nil {
		err = fmt.Errorf("sendmail: %w", err)
		var ee *remote.ExitError
		switch {
		case errors.Is(err, remote.ErrDisconnected), errors.Is(err, context.DeadlineExceeded):
			return err
		case errors.As(err, &ee) && ee.Code == 75: // EX_TEMPFAIL
			return err
		}
		return permanent(err)
	}
	return nil
}

// Format prints the channel's name with every verb: never the password.
func (s *smtpChannel) Format(f fmt.State, _ rune) { io.WriteString(f, s.Name()) }

// LogValue logs the channel's name.
func (s *smtpChannel) LogValue() slog.Value { return slog.StringValue(s.Name()) }

// Format prints the channel's name with every verb.
func (c *sendmailChannel) Format(f fmt.State, _ rune) { io.WriteString(f, c.Name()) }

// LogValue logs the channel's name.
func (c *sendmailChannel) LogValue() slog.Value { return slog.StringValue(c.Name()) }
