package notify

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/quotedprintable"
	netmail "net/mail"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wpfix/wpfix/agent/notify/notifytest"
	"github.com/wpfix/wpfix/remote"
	"github.com/wpfix/wpfix/remote/proctest"
	"github.com/wpfix/wpfix/remote/sshtest"
	"github.com/wpfix/wpfix/wp"
)

const (
	testUser     = "wpfix-notify"
	testPassword = "s3cret-Pa55-do-not-print"
)

// fixedEvent is a "fixed" notice whose site name tries to add a header.
func fixedEvent() Event {
	return Event{
		Event:    EventFixed,
		Site:     "shop.example\r\nBcc: evil@attacker.example",
		URL:      "https://shop.example/",
		Time:     time.Date(2026, 12, 2, 1, 0, 0, 0, time.UTC),
		Host:     "web1",
		Verdict:  "culprit_found",
		Culprits: []wp.Extension{{Kind: "plugin", Name: "slider-pro\nX-Injected: yes"}},
		Probes:   8,
		Restore:  "wpfix restore shop.example",
	}
}

// parsed is a received message, its headers and decoded body.
type parsed struct {
	Header netmail.Header
	Body   string
}

func parseMessage(t *testing.T, raw string) parsed {
	t.Helper()
	m, err := netmail.ReadMessage(strings.NewReader(raw))
	require.NoError(t, err, raw)
	var body io.Reader = m.Body
	if strings.EqualFold(m.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
		body = quotedprintable.NewReader(body)
	}
	b, err := io.ReadAll(body)
	require.NoError(t, err)
	return parsed{m.Header, string(b)}
}

func decodeHeader(t *testing.T, v string) string {
	t.Helper()
	s, err := new(mime.WordDecoder).DecodeHeader(v)
	require.NoError(t, err)
	return s
}

// assertFixedMessage checks a received "fixed" notice.
func assertFixedMessage(t *testing.T, raw, from string) {
	t.Helper()
	m := parseMessage(t, raw)
	if from != "" {
		assert.Equal(t, from, m.Header.Get("From"))
	}
	assert.Equal(t, "<admin@example.org>", m.Header.Get("To"))
	assert.Equal(t, "admin@example.org", m.Header.Get("X-Test-Rcpt"), "the envelope's recipients")
	subj := decodeHeader(t, m.Header.Get("Subject"))
	assert.Contains(t, subj, "wpfix fixed shop.example")
	assert.Contains(t, subj, "plugin slider-pro")
	assert.Empty(t, m.Header["Bcc"], "a site name with CR/LF added a header")
	assert.Empty(t, m.Header["X-Injected"], "a culprit name with LF added a header")
	assert.Equal(t, "auto-generated", m.Header.Get("Auto-Submitted"))
	assert.Contains(t, m.Body, "To undo: wpfix restore shop.example")
	assert.Contains(t, m.Body, "Disabled: plugin slider-pro X-Injected: yes")
}

// TestSMTPStartTLSAuth sends a "fixed" notice to a real SMTP server that
// refuses anything before STARTTLS and requires AUTH: the message arrives
// with its headers and the restore command, AUTH happened over TLS, and
// the password is in no log line.
func TestSMTPStartTLSAuth(t *testing.T) {
	s := notifytest.NewSMTPServer(t, testUser, testPassword)

	// The premise: this server refuses AUTH on a connection without TLS.
	c, err := textproto.Dial("tcp", s.Addr())
	require.NoError(t, err)
	_, _, err = c.ReadResponse(220)
	require.NoError(t, err)
	id, err := c.Cmd("EHLO test")
	require.NoError(t, err)
	c.StartResponse(id)
	_, _, err = c.ReadResponse(250)
	c.EndResponse(id)
	require.NoError(t, err)
	id, _ = c.Cmd("AUTH PLAIN %s", base64.StdEncoding.EncodeToString([]byte("\x00"+testUser+"\x00"+testPassword)))
	c.StartResponse(id)
	code, msg, _ := c.ReadResponse(0)
	c.EndResponse(id)
	c.Close()
	require.Equal(t, 530, code, "AUTH before STARTTLS: %s", msg)

	mail := Mail{
		From:     "wpfix@example.org",
		To:       []string{"admin@example.org"},
		SMTP:     "smtp://" + testUser + "@" + s.Addr(),
		Password: wp.Secret(testPassword),
		CAFile:   s.CertFile,
	}
	ch, err := mail.Channel()
	require.NoError(t, err)
	assert.NotContains(t, ch.Name(), testUser)
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	errs := SendAll(context.Background(), []Channel{ch}, fixedEvent(), log)
	require.Empty(t, errs, "server output:\n%s", s.Output())

	msgs := s.WaitMessages(t, 1)
	require.Len(t, msgs, 1)
	assertFixedMessage(t, msgs[0], "<wpfix@example.org>")
	assert.Contains(t, s.AuthLog(), "tls=True ok=True")
	assert.NotContains(t, s.AuthLog(), "tls=False")
	assert.NotContains(t, logs.String(), testPassword)
}

// TestSMTPWrongPassword: a refused password is one failure, not retried,
// whose error, logs and the settings' every printed form hold no password.
func TestSMTPWrongPassword(t *testing.T) {
	s := notifytest.NewSMTPServer(t, testUser, testPassword)
	wrong := "Wr0ng-" + testPassword
	mail := Mail{
		From:     "wpfix@example.org",
		To:       []string{"admin@example.org"},
		SMTP:     "smtp://" + testUser + "@" + s.Addr(),
		Password: wp.Secret(wrong),
		CAFile:   s.CertFile,
	}
	ch, err := mail.Channel()
	require.NoError(t, err)
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	errs := Sender{Log: log, Backoff: 10 * time.Millisecond}.SendAll(context.Background(), []Channel{ch}, fixedEvent())
	require.Len(t, errs, 1)
	e := errs[0].Error()
	t.Log(e)
	assert.Contains(t, e, "refused user \"wpfix-notify\"'s password")
	assert.True(t, errors.Is(errs[0], ErrPermanent), "a refused password is not retried: %v", errs[0])
	assert.Equal(t, 1, strings.Count(s.AuthLog(), "ok=False"), "tried once: %s", s.AuthLog())
	assert.Empty(t, s.Messages(t))

	log.Info("settings", "mail", mail)
	for _, out := range []string{
		e, fmt.Sprintf("%+v", errs[0]), logs.String(),
		fmt.Sprint(mail), fmt.Sprintf("%v", mail), fmt.Sprintf("%+v", mail), fmt.Sprintf("%#v", mail),
		fmt.Sprintf("%v %+v %#v", ch, ch, ch), string(must(json.Marshal(mail))),
	} {
		assert.NotContains(t, out, wrong)
		assert.NotContains(t, out, testPassword)
		assert.NotContains(t, out, base64.StdEncoding.EncodeToString([]byte("\x00"+testUser+"\x00"+wrong)))
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestSMTPRequiresStartTLS: smtp:// to a server without STARTTLS sends
// nothing, and says so; ?starttls=opportunistic (no user) sends in the clear.
func TestSMTPRequiresStartTLS(t *testing.T) {
	s := notifytest.NewSMTPServer(t, "", "")
	mail := Mail{From: "wpfix@example.org", To: []string{"admin@example.org"}, SMTP: "smtp://" + s.Addr()}
	ch, err := mail.Channel()
	require.NoError(t, err)
	err = ch.Send(context.Background(), fixedEvent())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "STARTTLS")
	assert.True(t, errors.Is(err, ErrPermanent), "%v", err)
	assert.Empty(t, s.Messages(t))

	mail.SMTP += "?starttls=opportunistic"
	ch, err = mail.Channel()
	require.NoError(t, err)
	require.NoError(t, ch.Send(context.Background(), fixedEvent()), s.Output())
	assertFixedMessage(t, s.WaitMessages(t, 1)[0], "<wpfix@example.org>")
}

// TestSMTPUntrustedCert: a server whose certificate the system does not
// trust gets nothing, and the failure is not retried.
func TestSMTPUntrustedCert(t *testing.T) {
	s := notifytest.NewSMTPServer(t, testUser, testPassword)
	mail := Mail{From: "wpfix@example.org", To: []string{"admin@example.org"},
		SMTP: "smtp://" + testUser + "@" + s.Addr(), Password: wp.Secret(testPassword)}
	ch, err := mail.Channel()
	require.NoError(t, err)
	err = ch.Send(context.Background(), fixedEvent())
	require.Error(t, err)
	t.Log(err)
	assert.True(t, errors.Is(err, ErrPermanent), "%v", err)
	assert.NotContains(t, err.Error(), testPassword)
	assert.Empty(t, s.AuthLog(), "no AUTH to an unverified server")
	assert.Empty(t, s.Messages(t))
}

// msmtprc writes a config for msmtp that relays to s (see
// notifytest.SMTPServer.Msmtprc).
func msmtprc(t *testing.T, s *notifytest.SMTPServer, uid, gid int) string {
	return s.Msmtprc(t, testUser, testPassword, uid, gid)
}

// TestSendmailMsmtp sends through msmtp, a real sendmail-compatible
// program, which relays to the SMTP server with STARTTLS and AUTH.
func TestSendmailMsmtp(t *testing.T) {
	msmtp := proctest.Require(t, "msmtp", "msmtp")
	s := notifytest.NewSMTPServer(t, testUser, testPassword)
	conf := msmtprc(t, s, os.Getuid(), os.Getgid())
	mail := Mail{To: []string{"admin@example.org"}, Sendmail: Sendmail{Host: remote.NewLocal(), Path: msmtp, Args: []string{"-C", conf}}}
	ch, err := mail.Channel()
	require.NoError(t, err)
	assert.Equal(t, "email to admin@example.org by "+msmtp+" on local", ch.Name())
	errs := SendAll(context.Background(), []Channel{ch}, fixedEvent(), nil)
	require.Empty(t, errs, "server output:\n%s", s.Output())
	msgs := s.WaitMessages(t, 1)
	require.Len(t, msgs, 1)
	assertFixedMessage(t, msgs[0], "")
	assert.Contains(t, s.AuthLog(), "tls=True ok=True")
}

// TestSendmailOverSSH runs msmtp on the site's host over SSH, as the SSH
// user, as heal does for a remote site whose host offers only sendmail.
func TestSendmailOverSSH(t *testing.T) {
	msmtp := proctest.Require(t, "msmtp", "msmtp")
	s := notifytest.NewSMTPServer(t, testUser, testPassword)
	srv := sshtest.NewServer(t, sshtest.Options{})
	h, err := remote.NewSSH(srv.Dial(t), "web1")
	require.NoError(t, err)
	t.Cleanup(func() { h.Close() })
	conf := msmtprc(t, s, srv.UID, srv.GID)
	ch, err := Mail{To: []string{"admin@example.org"}, Sendmail: Sendmail{Host: h, Path: msmtp, Args: []string{"-C", conf}}}.Channel()
	require.NoError(t, err)
	assert.Equal(t, "email to admin@example.org by "+msmtp+" on web1", ch.Name())
	require.Empty(t, SendAll(context.Background(), []Channel{ch}, fixedEvent(), nil), "server output:\n%s", s.Output())
	assertFixedMessage(t, s.WaitMessages(t, 1)[0], "")
}

// TestSendmailDefaultPath: with no Path the channel runs "sendmail" from
// PATH when the host has no /usr/sbin/sendmail: here a wrapper that execs
// msmtp with its config, as msmtp-mta's link would.
func TestSendmailDefaultPath(t *testing.T) {
	msmtp := proctest.Require(t, "msmtp", "msmtp")
	if _, err := os.Stat("/usr/sbin/sendmail"); err == nil {
		t.Skip("this machine has /usr/sbin/sendmail, which the channel prefers to PATH; the wrapper would not be run")
	}
	s := notifytest.NewSMTPServer(t, testUser, testPassword)
	conf := msmtprc(t, s, os.Getuid(), os.Getgid())
	bin := t.TempDir()
	argsFile := filepath.Join(bin, "args")
	require.NoError(t, os.WriteFile(filepath.Join(bin, "sendmail"),
		[]byte("#!/bin/sh\nprintf '%s\\n' \"$@\" > "+argsFile+"\nexec "+msmtp+" -C "+conf+" \"$@\"\n"), 0o755))
	t.Setenv("PATH", bin+":"+os.Getenv("PATH"))
	ch, err := Mail{To: []string{"admin@example.org", "ops@example.org"}}.Channel()
	require.NoError(t, err)
	assert.Equal(t, "email to admin@example.org,ops@example.org by sendmail on local", ch.Name())
	require.Empty(t, SendAll(context.Background(), []Channel{ch}, fixedEvent(), nil), "server output:\n%s", s.Output())
	got, err := os.ReadFile(argsFile)
	require.NoError(t, err)
	assert.Equal(t, "-i\n--\nadmin@example.org\nops@example.org\n", string(got))
	m := parseMessage(t, s.WaitMessages(t, 1)[0])
	assert.Equal(t, "admin@example.org,ops@example.org", m.Header.Get("X-Test-Rcpt"))
}

// TestSendmailFails: a sendmail that refuses the message is a failure that
// names the program and says why.
func TestSendmailFails(t *testing.T) {
	msmtp := proctest.Require(t, "msmtp", "msmtp")
	conf := t.TempDir() + "/msmtprc"
	require.NoError(t, os.WriteFile(conf, []byte("account default\nhost 127.0.0.1\nport 1\nfrom a@example.org\n"), 0o600))
	ch, err := Mail{To: []string{"admin@example.org"}, Sendmail: Sendmail{Path: msmtp, Args: []string{"-C", conf}}}.Channel()
	require.NoError(t, err)
	err = ch.Send(context.Background(), fixedEvent())
	require.Error(t, err)
	t.Log(err)
	assert.Contains(t, err.Error(), msmtp)
	assert.Contains(t, err.Error(), "exit status")
}

// TestMailSettings: settings that cannot work are refused before anything
// is sent, and the refusal never repeats a password.
func TestMailSettings(t *testing.T) {
	for _, tc := range []struct {
		name string
		mail Mail
		want string
	}{
		{"no recipient", Mail{}, "no recipient"},
		{"bad recipient", Mail{To: []string{"not an address"}}, "not an email address"},
		{"recipient with CRLF", Mail{To: []string{"a@example.org\r\nBcc: b@example.org"}}, "control characters"},
		{"recipient like an option", Mail{To: []string{"-oQ/tmp/x@example.org"}}, "start with -"},
		{"password in the URL", Mail{To: []string{"a@example.org"}, SMTP: "smtp://u:" + testPassword + "@mail.example.org"}, PasswordEnv},
		{"user without password", Mail{To: []string{"a@example.org"}, SMTP: "smtp://u@mail.example.org"}, PasswordEnv},
		{"password without user", Mail{To: []string{"a@example.org"}, SMTP: "smtp://mail.example.org", Password: testPassword}, "names no user"},
		{"password without SMTP", Mail{To: []string{"a@example.org"}, Password: testPassword}, "no SMTP server"},
		{"bad scheme", Mail{To: []string{"a@example.org"}, SMTP: "http://mail.example.org"}, "smtps://"},
		{"no sender", Mail{To: []string{"a@example.org"}, SMTP: "smtp://u@mail.example.org", Password: testPassword}, "no sender"},
		{"unknown option", Mail{To: []string{"a@example.org"}, SMTP: "smtp://mail.example.org?tls=off"}, "starttls"},
		{"starttls on smtps", Mail{To: []string{"a@example.org"}, SMTP: "smtps://mail.example.org?starttls=opportunistic"}, "starttls"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.mail.Channel()
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), testPassword)
		})
	}
	ch, err := Mail{To: []string{"Admin <a@example.org>"}, SMTP: "smtps://a@example.org@mail.example.org", Password: testPassword}.Channel()
	require.NoError(t, err)
	assert.Equal(t, "email to a@example.org by smtps mail.example.org:465", ch.Name())
}

// TestMailto: a mailto: URL names the recipients of the mail settings given.
func TestMailto(t *testing.T) {
	ch, err := ParseURL("mailto:a@example.org,b@example.org", Mail{From: "w@example.org", To: []string{"old@example.org"}})
	require.NoError(t, err)
	assert.Equal(t, "email to a@example.org,b@example.org by sendmail on local", ch.Name())
	_, err = ParseURL("mailto:a@example.org?subject=x", Mail{})
	assert.Error(t, err)
	_, err = ParseURL("mailto:", Mail{})
	assert.ErrorContains(t, err, "no recipient")
}

// TestSMTPHangs: a server that accepts and never speaks holds SendAll no
// longer than its deadline.
func TestSMTPHangs(t *testing.T) {
	addr := proctest.ServeLoopback(t, nil)
	ch, err := Mail{From: "w@example.org", To: []string{"a@example.org"}, SMTP: "smtp://" + addr.String()}.Channel()
	require.NoError(t, err)
	start := time.Now()
	errs := Sender{Deadline: 800 * time.Millisecond}.SendAll(context.Background(), []Channel{ch}, fixedEvent())
	require.Len(t, errs, 1)
	t.Log(errs[0])
	assert.Less(t, time.Since(start), 5*time.Second)
}
