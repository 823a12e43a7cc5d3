package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// The kinds of webhook, and the scheme prefix that forces each one.
const (
	kindJSON    = "json"
	kindSlack   = "slack"
	kindDiscord = "discord"
)

// discordMax is the most characters Discord takes in a message's content.
const discordMax = 2000

// slackMax bounds a Slack message's text (Slack cuts beyond 40,000).
const slackMax = 39000

// ParseURL returns the channel a --notify URL names:
//
//   - https://hooks.slack.com/services/… : a Slack webhook, body {"text": …};
//   - https://discord.com/api/webhooks/… (or discordapp.com): a Discord
//     webhook, body {"content": …} cut cleanly at 2000 characters;
//   - any other http(s) URL: the generic JSON webhook (Event, version 1);
//   - slack+https://…, discord+https://…, json+https://…: that kind,
//     whatever the host (a proxy, a self-hosted Mattermost or Rocket.Chat
//     that takes Slack's body);
//   - mailto:ADDR[,ADDR…]: email to those addresses, sent as mail says
//     (its To is replaced; the rest, From, SMTP or sendmail, is kept).
//
// A webhook URL is a secret (Slack's and Discord's hold the token): the
// channel's Name and errors show only its kind, scheme and host.
func ParseURL(raw string, mail Mail) (Channel, error) {
	if rest, ok := cutPrefixFold(raw, "mailto:"); ok {
		return parseMailto(rest, mail)
	}
	kind := ""
	if i := strings.Index(raw, "+"); i > 0 && i < strings.Index(raw+":", ":") {
		kind, raw = strings.ToLower(raw[:i]), raw[i+1:]
		switch kind {
		case kindJSON, kindSlack, kindDiscord:
		default:
			return nil, fmt.Errorf("notify URL: unknown kind %q before +; use slack+, discord+ or json+", cleanText(kind, 20))
		}
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, errors.New("notify URL: not a URL (want https://…, slack+https://…, discord+https://…, json+https://… or mailto:ADDR)")
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return nil, fmt.Errorf("notify URL: scheme %q: want https (or http), or mailto:", cleanText(u.Scheme, 20))
	}
	if u.Host == "" || u.Hostname() == "" {
		return nil, errors.New("notify URL: no host")
	}
	if u.User != nil {
		return nil, errors.New("notify URL: a user or password in the URL is not supported")
	}
	host := strings.ToLower(u.Hostname())
	if kind == "" {
		switch {
		case host == "hooks.slack.com":
			kind = kindSlack
		case (host == "discord.com" || host == "discordapp.com" || strings.HasSuffix(host, ".discord.com")) &&
			strings.HasPrefix(u.Path, "/api/webhooks/"):
			kind = kindDiscord
		default:
			kind = kindJSON
		}
	}
	return &webhook{kind: kind, url: raw, shown: u.Scheme + "://" + u.Host, secrets: append(urlSecrets(u), raw)}, nil
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return s, false
}

// urlSecrets are the parts of a URL that must not appear in a message.
func urlSecrets(u *url.URL) []string {
	var s []string
	for _, p := range []string{u.String(), u.EscapedPath(), u.Path, u.RawQuery, u.Fragment} {
		if p != "" && p != "/" {
			s = append(s, p)
		}
	}
	for _, seg := range strings.Split(u.Path, "/") {
		if len(seg) >= 6 { // a token, an id: not "api", "v1"
			s = append(s, seg)
		}
	}
	return s
}

// scrub replaces every secret in msg.
func scrub(msg string, secrets []string) string {
	for _, s := range secrets {
		if s != "" {
			msg = strings.ReplaceAll(msg, s, "[REDACTED]")
		}
	}
	return msg
}

// webhook is a channel that POSTs JSON.
type webhook struct {
	kind    string
	url     string   // the secret URL
	shown   string   // scheme://host, for messages
	secrets []string // what scrub removes from errors
}

// Name is the kind and the scheme and host: "slack https://hooks.slack.com".
func (w *webhook) Name() string { return w.kind + " " + w.shown }

// Send POSTs the event's body for the webhook's kind.
func (w *webhook) Send(ctx context.Context, e Event) error {
	var body any
	switch w.kind {
	case kindSlack:
		body = struct {
			Text string `json:"text"`
		}{cut(slackEscape(e.Text()), slackMax)}
	case kindDiscord:
		// allowed_mentions empty: a name like "@everyone" pings nobody.
		body = struct {
			Content         string `json:"content"`
			AllowedMentions struct {
				Parse []string `json:"parse"`
			} `json:"allowed_mentions"`
		}{Content: cut(e.Text(), discordMax), AllowedMentions: struct {
			Parse []string `json:"parse"`
		}{Parse: []string{}}}
	default:
		body = e
	}
	b, err := json.Marshal(body)
	if err != nil {
		return permanent(fmt.Errorf("encode the body: %w", err))
	}
	return post(ctx, w.url, "application/json", b, w.secrets)
}

// slackEscape escapes what Slack's mrkdwn reads as markup: "<!channel>"
// in a plugin's name must not ping a channel.
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// client follows no redirect: a webhook that moved is a failure to report,
// not a place to send a token's body blindly.
var client = &http.Client{
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	Transport: func() http.RoundTripper {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.ResponseHeaderTimeout = 15 * time.Second
		return t
	}(),
}

// post sends body to target and says how it went: a 2xx is success; a 429
// or 5xx, or no answer, is worth retrying; anything else (a 3xx, a 4xx)
// is permanent. Errors never hold the URL's path or query.
func post(ctx context.Context, target, contentType string, body []byte, secrets []string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return permanent(errors.New(scrub("POST: "+err.Error(), secrets)))
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("User-Agent", "wpfix-notify/1")
	resp, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // *url.Error repeats the whole URL
		}
		return errors.New(scrub("POST: "+err.Error(), secrets))
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 == 2 {
		return nil
	}
	msg := "POST: " + resp.Status
	if resp.StatusCode/100 == 3 {
		msg += " (a redirect, not followed: check the URL)"
	}
	if s := cleanText(string(snippet), 200); s != "" {
		msg += ": " + s
	}
	err = errors.New(scrub(msg, secrets))
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		if d, ok := parseRetryAfter(resp.Header.Get("Retry-After")); ok {
			return &retryAfter{err: err, d: d}
		}
		return err
	case resp.StatusCode/100 == 5:
		return err
	}
	return permanent(err)
}

// parseRetryAfter reads a Retry-After in seconds, capped at a minute.
func parseRetryAfter(v string) (time.Duration, bool) {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 0 {
		return 0, false
	}
	return min(time.Duration(n)*time.Second, time.Minute), true
}

// Ping is a dead-man's switch URL in the healthchecks.io convention: URL/start
// when a run begins, URL when it ends healthy, URL/fail when it ends broken.
// Each ping is tried up to 3 times, within 20s in all. Its URL is a secret
// (it holds the check's id): errors show only the scheme and host.
type Ping struct {
	// URL is the check's ping URL, http(s).
	URL string
}

// Start says that a run begins.
func (p Ping) Start(ctx context.Context) error { return p.ping(ctx, "/start", "") }

// Success says that the run ended with the site healthy.
func (p Ping) Success(ctx context.Context) error { return p.ping(ctx, "", "") }

// Fail says that the run ended with the site broken; message (one line
// for a person, may be "") goes in the body, which healthchecks.io shows.
func (p Ping) Fail(ctx context.Context, message string) error {
	return p.ping(ctx, "/fail", message)
}

// pingTries and pingBackoff bound a ping: it must never hold up a run.
const (
	pingTries   = 3
	pingBackoff = 500 * time.Millisecond
	pingTimeout = 10 * time.Second
	pingBound   = 20 * time.Second // all tries together
)

func (p Ping) ping(ctx context.Context, suffix, message string) error {
	u, err := url.Parse(p.URL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return errors.New("ping: the URL is not an http(s) URL")
	}
	secrets := append(urlSecrets(u), p.URL)
	shown := u.Scheme + "://" + u.Host
	what := "success"
	if suffix != "" {
		what = suffix[1:]
	}
	target := *u
	target.Path = strings.TrimSuffix(u.Path, "/") + suffix
	target.RawPath = ""
	body := []byte(cleanText(message, 10000))
	ctx, cancel := context.WithTimeout(ctx, pingBound)
	defer cancel()
	wait := pingBackoff
	for try := 1; ; try++ {
		tctx, cancel := context.WithTimeout(ctx, pingTimeout)
		err = post(tctx, target.String(), "text/plain; charset=utf-8", body, secrets)
		cancel()
		if err == nil || errors.Is(err, ErrPermanent) || try == pingTries {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("ping %s (%s): %w", shown, what, err)
		case <-time.After(wait):
		}
		wait *= 2
	}
	if err != nil {
		return fmt.Errorf("ping %s (%s): %w", shown, what, err)
	}
	return nil
}

// Format prints the channel's name with every verb: never the URL's token.
func (w *webhook) Format(f fmt.State, _ rune) { io.WriteString(f, w.Name()) }

// LogValue logs the channel's name.
func (w *webhook) LogValue() slog.Value { return slog.StringValue(w.Name()) }

// Format prints the ping's scheme and host with every verb: never its id.
func (p Ping) Format(f fmt.State, _ rune) { io.WriteString(f, p.shown()) }

// LogValue logs the ping's scheme and host.
func (p Ping) LogValue() slog.Value { return slog.StringValue(p.shown()) }

func (p Ping) shown() string {
	u, err := url.Parse(p.URL)
	if err != nil {
		return "ping (bad URL)"
	}
	return "ping " + u.Scheme + "://" + u.Host
}
