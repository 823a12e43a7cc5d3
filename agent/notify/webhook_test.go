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
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wpfix/wpfix/wp"
)

// token is the secret part of every test webhook URL.
const token = "T000/B000/XXXXsecretTOKENxxxx"

// receiver is a real HTTP server on loopback that records what it got.
type receiver struct {
	*httptest.Server
	mu    sync.Mutex
	reqs  []received
	calls atomic.Int32
}

type received struct {
	Method, Path, ContentType string
	Body                      []byte
}

// newReceiver answers each request with status(n) for the n-th (from 1).
func newReceiver(t *testing.T, status func(n int) int) *receiver {
	r := &receiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		n := int(r.calls.Add(1))
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.reqs = append(r.reqs, received{req.Method, req.URL.Path, req.Header.Get("Content-Type"), b})
		r.mu.Unlock()
		code := status(n)
		if code == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "0")
		}
		w.WriteHeader(code)
		fmt.Fprintf(w, "answer %d", code)
	}))
	t.Cleanup(r.Close)
	return r
}

func ok(int) int { return http.StatusOK }

func (r *receiver) got() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.reqs...)
}

// fast is a Sender with short bounds for tests.
var fast = Sender{Backoff: 20 * time.Millisecond, TryTimeout: 2 * time.Second, Deadline: 10 * time.Second}

func parse(t *testing.T, raw string) Channel {
	t.Helper()
	ch, err := ParseURL(raw, Mail{})
	require.NoError(t, err)
	return ch
}

// TestWebhookJSONBody: the generic webhook gets a POST of
// application/json whose keys are exactly version 1's.
func TestWebhookJSONBody(t *testing.T) {
	r := newReceiver(t, ok)
	ch := parse(t, r.URL+"/hook/"+token)
	e := fixedEvent()
	e.Causes = []Cause{{ID: "plugin-fatal", Title: "a plugin's fatal error", Next: "wpfix bisect shop.example"}}
	require.Empty(t, fast.SendAll(context.Background(), []Channel{ch}, e))
	got := r.got()
	require.Len(t, got, 1)
	assert.Equal(t, http.MethodPost, got[0].Method)
	assert.Equal(t, "application/json", got[0].ContentType)
	assert.Equal(t, "/hook/"+token, got[0].Path)

	var body map[string]any
	require.NoError(t, json.Unmarshal(got[0].Body, &body))
	var keys []string
	for k := range body {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	assert.Equal(t, []string{"causes", "culprits", "event", "host", "message", "probes", "restore", "site", "time", "url", "verdict", "version"}, keys)
	assert.EqualValues(t, 1, body["version"])
	assert.Equal(t, "fixed", body["event"])
	assert.Equal(t, "shop.example  Bcc: evil@attacker.example", body["site"], "control characters stripped")
	assert.Equal(t, "2026-12-02T01:00:00Z", body["time"])
	assert.Equal(t, "culprit_found", body["verdict"])
	assert.Equal(t, []any{map[string]any{"kind": "plugin", "name": "slider-pro X-Injected: yes"}}, body["culprits"])
	assert.Equal(t, []any{map[string]any{"id": "plugin-fatal", "title": "a plugin's fatal error", "next": "wpfix bisect shop.example"}}, body["causes"])
	assert.EqualValues(t, 8, body["probes"])
	assert.Equal(t, "wpfix restore shop.example", body["restore"])
	assert.Equal(t, "", body["message"])

	// Empty lists are [], never null.
	b, err := json.Marshal(Event{Event: EventRecovered})
	require.NoError(t, err)
	assert.Contains(t, string(b), `"culprits":[]`)
	assert.Contains(t, string(b), `"causes":[]`)
	assert.Contains(t, string(b), `"version":1`)
}

// TestSlackBody: Slack gets {"text": …} with the culprit, the restore
// command, and a name that would ping a channel escaped.
func TestSlackBody(t *testing.T) {
	r := newReceiver(t, ok)
	ch := parse(t, "slack+"+r.URL+"/services/"+token)
	assert.Equal(t, "slack "+r.URL, ch.Name())
	e := fixedEvent()
	e.Culprits = []wp.Extension{{Kind: "plugin", Name: "<!channel> & co"}}
	require.Empty(t, fast.SendAll(context.Background(), []Channel{ch}, e))
	got := r.got()
	require.Len(t, got, 1)
	assert.Equal(t, "application/json", got[0].ContentType)
	var body map[string]string
	require.NoError(t, json.Unmarshal(got[0].Body, &body))
	require.Len(t, body, 1, "only text: %s", got[0].Body)
	assert.Contains(t, body["text"], "wpfix fixed shop.example")
	assert.Contains(t, body["text"], "To undo: wpfix restore shop.example")
	assert.Contains(t, body["text"], "plugin &lt;!channel&gt; &amp; co")
	assert.NotContains(t, body["text"], "<!channel>")
}

// TestDiscordBody: Discord gets {"content": …} of at most 2000
// characters, cut cleanly, from a 5000-character message; mentions off.
func TestDiscordBody(t *testing.T) {
	r := newReceiver(t, ok)
	ch := parse(t, "discord+"+r.URL+"/api/webhooks/"+token)
	assert.Equal(t, "discord "+r.URL, ch.Name())
	e := fixedEvent()
	e.Message = strings.Repeat("word ", 990) + strings.Repeat("é😀", 25) // 5000 characters, some outside the BMP
	require.Equal(t, 5000, len([]rune(e.Message)))
	require.Empty(t, fast.SendAll(context.Background(), []Channel{ch}, e))
	got := r.got()
	require.Len(t, got, 1)
	var body struct {
		Content         string `json:"content"`
		AllowedMentions struct {
			Parse []string `json:"parse"`
		} `json:"allowed_mentions"`
	}
	require.NoError(t, json.Unmarshal(got[0].Body, &body))
	n := len(utf16.Encode([]rune(body.Content)))
	assert.LessOrEqual(t, n, 2000)
	assert.Greater(t, n, 1500, "cut near the limit")
	assert.True(t, strings.HasSuffix(body.Content, "word…"), "cut at a space: %q", body.Content[len(body.Content)-20:])
	assert.NotNil(t, body.AllowedMentions.Parse)
	assert.Empty(t, body.AllowedMentions.Parse)

	// A short notice is sent whole.
	r2 := newReceiver(t, ok)
	require.Empty(t, fast.SendAll(context.Background(), []Channel{parse(t, "discord+"+r2.URL+"/x")}, fixedEvent()))
	require.NoError(t, json.Unmarshal(r2.got()[0].Body, &body))
	assert.Equal(t, fixedEvent().Text(), body.Content)
}

// TestWebhookRetries: a 503 then a 503 then a 200 is a success after three
// tries; a 429 is retried too.
func TestWebhookRetries(t *testing.T) {
	r := newReceiver(t, func(n int) int {
		if n < 3 {
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	})
	var logs bytes.Buffer
	s := fast
	s.Log = slog.New(slog.NewTextHandler(&logs, nil))
	require.Empty(t, s.SendAll(context.Background(), []Channel{parse(t, r.URL+"/"+token)}, fixedEvent()))
	assert.EqualValues(t, 3, r.calls.Load())
	assert.Contains(t, logs.String(), "503")
	assert.NotContains(t, logs.String(), token)
	assert.NotContains(t, logs.String(), "secretTOKEN")

	r429 := newReceiver(t, func(n int) int {
		if n == 1 {
			return http.StatusTooManyRequests
		}
		return http.StatusNoContent
	})
	require.Empty(t, fast.SendAll(context.Background(), []Channel{parse(t, r429.URL+"/"+token)}, fixedEvent()))
	assert.EqualValues(t, 2, r429.calls.Load())
}

// TestWebhookNoRetryOn400: a 4xx is reported at once, once, without the
// URL's token; three 503s are reported after three tries.
func TestWebhookNoRetryOn400(t *testing.T) {
	r := newReceiver(t, func(int) int { return http.StatusBadRequest })
	errs := fast.SendAll(context.Background(), []Channel{parse(t, r.URL+"/services/"+token+"?key=querysecret")}, fixedEvent())
	require.Len(t, errs, 1)
	assert.EqualValues(t, 1, r.calls.Load())
	assert.True(t, errors.Is(errs[0], ErrPermanent))
	msg := errs[0].Error()
	t.Log(msg)
	assert.Contains(t, msg, "400 Bad Request")
	assert.Contains(t, msg, r.URL, "names the host")
	assert.NotContains(t, msg, "secretTOKEN")
	assert.NotContains(t, msg, "querysecret")

	r5 := newReceiver(t, func(int) int { return http.StatusBadGateway })
	errs = fast.SendAll(context.Background(), []Channel{parse(t, r5.URL+"/"+token)}, fixedEvent())
	require.Len(t, errs, 1)
	assert.EqualValues(t, 3, r5.calls.Load())
	assert.Contains(t, errs[0].Error(), "502")
}

// TestWebhookHangs: a server that never answers holds SendAll no longer
// than its deadline, and is reported.
func TestWebhookHangs(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	okr := newReceiver(t, ok)
	s := Sender{Backoff: 10 * time.Millisecond, TryTimeout: 5 * time.Second, Deadline: 700 * time.Millisecond}
	start := time.Now()
	errs := s.SendAll(context.Background(), []Channel{parse(t, srv.URL+"/"+token), parse(t, okr.URL+"/x")}, fixedEvent())
	elapsed := time.Since(start)
	require.Len(t, errs, 1, "the hung one only: %v", errs)
	assert.Contains(t, errs[0].Error(), "json "+srv.URL)
	assert.NotContains(t, errs[0].Error(), "secretTOKEN")
	assert.Less(t, elapsed, 5*time.Second, "bounded by the deadline, not the try timeout")
	assert.EqualValues(t, 1, okr.calls.Load(), "the other channel was served")
}

// TestWebhookRedirect: a 3xx is a failure, not followed, not retried.
func TestWebhookRedirect(t *testing.T) {
	elsewhere := newReceiver(t, ok)
	srv := httptest.NewServer(http.RedirectHandler(elsewhere.URL+"/stolen", http.StatusTemporaryRedirect))
	t.Cleanup(srv.Close)
	errs := fast.SendAll(context.Background(), []Channel{parse(t, srv.URL+"/"+token)}, fixedEvent())
	require.Len(t, errs, 1)
	assert.Contains(t, errs[0].Error(), "307")
	assert.Contains(t, errs[0].Error(), "redirect")
	assert.EqualValues(t, 0, elsewhere.calls.Load(), "the body went nowhere else")
}

// TestWebhookRefused: a closed port is an error naming the host only.
func TestWebhookRefused(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	u := srv.URL
	srv.Close()
	errs := Sender{Tries: 2, Backoff: time.Millisecond}.SendAll(context.Background(), []Channel{parse(t, u+"/"+token)}, fixedEvent())
	require.Len(t, errs, 1)
	t.Log(errs[0])
	assert.Contains(t, errs[0].Error(), "refused")
	assert.NotContains(t, errs[0].Error(), "secretTOKEN")
}

// TestSendAllIsolates: a failing or panicking channel hides no other.
func TestSendAllIsolates(t *testing.T) {
	good := newReceiver(t, ok)
	bad := newReceiver(t, func(int) int { return http.StatusForbidden })
	errs := fast.SendAll(context.Background(), []Channel{parse(t, bad.URL+"/a"), panicky{}, parse(t, good.URL+"/b")}, fixedEvent())
	require.Len(t, errs, 2)
	assert.Contains(t, errs[0].Error(), "403")
	assert.Contains(t, errs[1].Error(), "panicky")
	assert.EqualValues(t, 1, good.calls.Load())
}

type panicky struct{}

func (panicky) Name() string                      { return "panicky" }
func (panicky) Send(context.Context, Event) error { panic("boom") }

// TestParseURL: the kind comes from the host or the prefix; Name shows the
// kind, scheme and host only.
func TestParseURL(t *testing.T) {
	for _, tc := range []struct{ url, name string }{
		{"https://hooks.slack.com/services/" + token, "slack https://hooks.slack.com"},
		{"https://HOOKS.slack.com/services/" + token, "slack https://HOOKS.slack.com"},
		{"https://discord.com/api/webhooks/1/" + token, "discord https://discord.com"},
		{"https://discordapp.com/api/webhooks/1/" + token, "discord https://discordapp.com"},
		{"https://ptb.discord.com/api/webhooks/1/" + token, "discord https://ptb.discord.com"},
		{"https://discord.com/other/" + token, "json https://discord.com"},
		{"https://example.org/hook?key=" + token, "json https://example.org"},
		{"http://127.0.0.1:8080/" + token, "json http://127.0.0.1:8080"},
		{"slack+https://chat.example.org/hooks/" + token, "slack https://chat.example.org"},
		{"DISCORD+https://proxy.example.org/" + token, "discord https://proxy.example.org"},
		{"json+https://hooks.slack.com/services/" + token, "json https://hooks.slack.com"},
	} {
		ch := parse(t, tc.url)
		assert.Equal(t, tc.name, ch.Name(), tc.url)
		assert.NotContains(t, fmt.Sprintf("%v %+v %#v %s", ch, ch, ch, ch), "secretTOKEN")
	}
	for _, bad := range []string{"ftp://example.org/x", "slack+ftp://example.org/" + token, "teams+https://example.org/" + token,
		"https://user:" + token + "@example.org/", "https:///nohost", "example.org/" + token, ""} {
		_, err := ParseURL(bad, Mail{})
		if assert.Error(t, err, bad) {
			assert.NotContains(t, err.Error(), "secretTOKEN", bad)
		}
	}
}

// TestPing: Start, Success and Fail hit URL/start, URL and URL/fail; the
// failure's message is the body; errors hide the check's id.
func TestPing(t *testing.T) {
	r := newReceiver(t, ok)
	p := Ping{URL: r.URL + "/ping/" + token}
	ctx := context.Background()
	require.NoError(t, p.Start(ctx))
	require.NoError(t, p.Success(ctx))
	require.NoError(t, p.Fail(ctx, "shop.example is broken:\x1b[31m fpm-down"))
	got := r.got()
	require.Len(t, got, 3)
	assert.Equal(t, "/ping/"+token+"/start", got[0].Path)
	assert.Equal(t, "/ping/"+token, got[1].Path)
	assert.Equal(t, "/ping/"+token+"/fail", got[2].Path)
	assert.Equal(t, "shop.example is broken:[31m fpm-down", string(got[2].Body))
	assert.NotContains(t, fmt.Sprintf("%v %+v %#v", p, p, p), "secretTOKEN")

	down := newReceiver(t, func(int) int { return http.StatusServiceUnavailable })
	err := Ping{URL: down.URL + "/" + token}.Fail(ctx, "")
	require.Error(t, err)
	assert.EqualValues(t, 3, down.calls.Load())
	assert.Contains(t, err.Error(), "ping "+down.URL+" (fail)")
	assert.NotContains(t, err.Error(), "secretTOKEN")
}

// TestEventText: the text for a person holds the culprit, the restore
// command, the cause and the next command.
func TestEventText(t *testing.T) {
	e := Event{Event: EventBroken, Site: "shop.example", URL: "https://shop.example/", Host: "web1",
		Causes: []Cause{{ID: "fpm-down", Title: "PHP-FPM is not running", Next: "systemctl start php8.2-fpm"}}}
	txt := e.Text()
	assert.Contains(t, txt, "shop.example is broken: PHP-FPM is not running. wpfix changed nothing.")
	assert.Contains(t, txt, "Cause: fpm-down: PHP-FPM is not running\nNext: systemctl start php8.2-fpm\n")
	assert.Equal(t, "wpfix: shop.example is broken: PHP-FPM is not running", e.Subject())
	assert.Equal(t, "wpfix: shop.example has recovered", Event{Event: EventRecovered, Site: "shop.example"}.Subject())
	assert.Equal(t, "a\u00a0b c", cleanText("a\u00a0b\u202e\u0007\nc", 100))
}
