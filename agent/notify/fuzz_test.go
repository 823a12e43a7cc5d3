package notify

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzParseURL: ParseURL never panics, and a webhook it accepts is named
// by its kind, scheme and host exactly: never a path, a query or a token.
func FuzzParseURL(f *testing.F) {
	for _, s := range []string{
		"https://hooks.slack.com/services/T0/B0/xyz",
		"https://discord.com/api/webhooks/1/abc",
		"slack+https://chat.example.org/hooks/abc?x=1",
		"json+http://127.0.0.1:8080/a/b#frag",
		"discord+https://[::1]:9/x",
		"https://h/h",
		"https://user:pw@example.org/",
		"mailto:a@example.org,b@example.org",
		"mailto:%0d%0aBcc:x@y",
		"+https://x", "a+b+https://x/", "https://%zz", "https://x:99999/",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		ch, err := ParseURL(raw, Mail{})
		if err != nil {
			if ch != nil {
				t.Fatalf("a channel and an error for %q", raw)
			}
			return
		}
		w, ok := ch.(*webhook)
		if !ok {
			return // mailto: names addresses, no secret
		}
		u, err := url.Parse(w.url)
		if err != nil {
			t.Fatalf("accepted %q, whose URL %q does not parse: %v", raw, w.url, err)
		}
		want := w.kind + " " + u.Scheme + "://" + u.Host
		if ch.Name() != want {
			t.Fatalf("Name() = %q for %q, want %q", ch.Name(), raw, want)
		}
		if strings.ContainsAny(ch.Name(), "?#@") || strings.Count(ch.Name(), "/") != 2 {
			t.Fatalf("Name() = %q for %q shows more than the host", ch.Name(), raw)
		}
	})
}
