// Package notify tells a person what wpfix heal did: by a JSON webhook, a
// Slack or Discord webhook, email (SMTP or the host's sendmail), and a ping
// URL in the healthchecks.io convention. Every channel is bounded in time,
// retried within the run, and never shows a secret (a webhook URL's token,
// the SMTP password) in its name, its errors or its logs.
package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/wpfix/wpfix/wp"
)

// The events heal sends, as ../shared/DESIGN.md lists them.
const (
	// EventFixed: a culprit was found and left disabled; the site is healthy.
	EventFixed = "fixed"
	// EventBroken: confirmed broken and not fixed.
	EventBroken = "broken"
	// EventStillBroken: a reminder that the site is still broken.
	EventStillBroken = "still_broken"
	// EventRecovered: healthy again after a broken notice.
	EventRecovered = "recovered"
)

// Version is the version of the generic webhook body Event encodes.
const Version = 1

// Event is one notice, and the generic webhook body (version 1): its JSON
// keys are exactly those of DESIGN.md, every key always present (culprits
// and causes as [] when empty).
type Event struct {
	// Version is the body's version; 0 is sent as Version.
	Version int `json:"version"`
	// Event is EventFixed, EventBroken, EventStillBroken or EventRecovered.
	Event string `json:"event"`
	// Site is the TARGET as the user named it.
	Site string `json:"site"`
	// URL is the site's address.
	URL string `json:"url"`
	// Time is when it happened; encoded in RFC 3339.
	Time time.Time `json:"time"`
	// Host is the machine that ran wpfix.
	Host string `json:"host"`
	// Verdict is bisect's verdict ("culprit_found"), or "" without one.
	Verdict string `json:"verdict"`
	// Culprits are the extensions heal left disabled.
	Culprits []wp.Extension `json:"culprits"`
	// Causes are the causes diagnose ranked first.
	Causes []Cause `json:"causes"`
	// Probes is how many probes the run made.
	Probes int `json:"probes"`
	// Restore is the exact command that undoes what heal did, or "".
	Restore string `json:"restore"`
	// Message is one line for a person; Summary makes one when it is "".
	Message string `json:"message"`
}

// Cause is a cause of a failure, as diagnose names it.
type Cause struct {
	// ID is the cause's stable name ("fpm-down").
	ID string `json:"id"`
	// Title says what is wrong, for a person.
	Title string `json:"title"`
	// Next is the command or step to take next.
	Next string `json:"next"`
}

// MarshalJSON encodes the event as the version 1 body: control characters
// stripped from every string (names come from plugin headers and the
// database), nil lists as [].
func (e Event) MarshalJSON() ([]byte, error) {
	type body Event // without the method
	return json.Marshal(body(e.clean()))
}

// maxField bounds one site-controlled string in a notice.
const maxField = 300

// maxMessage bounds the message: chat channels cut it further.
const maxMessage = 10000

// clean returns a copy of e with every string cleaned and the lists never
// nil, and the version set.
func (e Event) clean() Event {
	if e.Version == 0 {
		e.Version = Version
	}
	if !e.Time.IsZero() {
		e.Time = e.Time.UTC().Truncate(time.Second)
	}
	for _, p := range []*string{&e.Event, &e.Site, &e.URL, &e.Host, &e.Verdict, &e.Restore} {
		*p = cleanText(*p, maxField)
	}
	e.Message = cleanText(e.Message, maxMessage)
	cs := make([]wp.Extension, 0, len(e.Culprits))
	for _, c := range e.Culprits {
		cs = append(cs, wp.Extension{Kind: cleanText(c.Kind, maxField), Name: cleanText(c.Name, maxField)})
	}
	e.Culprits = cs
	ca := make([]Cause, 0, len(e.Causes))
	for _, c := range e.Causes {
		ca = append(ca, Cause{ID: cleanText(c.ID, maxField), Title: cleanText(c.Title, maxField), Next: cleanText(c.Next, maxField)})
	}
	e.Causes = ca
	return e
}

// cleanText makes a string safe to put in a line of a notice: control
// characters (CR and LF among them: no added header or line) and bidi
// controls (no text that reads otherwise than it is) become spaces or go,
// invalid UTF-8 is replaced, and the result is at most max runes.
func cleanText(s string, max int) string {
	var b strings.Builder
	n := 0
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			r = ' '
		case unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) || r == '\u2028' || r == '\u2029':
			continue
		}
		if n == max {
			b.WriteString("…")
			break
		}
		b.WriteRune(r)
		n++
	}
	return strings.TrimSpace(b.String())
}

// Summary is the event's one line for a person: its Message, or one made
// from the event, the site and the culprits.
func (e Event) Summary() string {
	e = e.clean()
	if e.Message != "" {
		return e.Message
	}
	switch e.Event {
	case EventFixed:
		return fmt.Sprintf("wpfix fixed %s: it disabled %s; the site answers well again.", e.Site, culpritList(e.Culprits))
	case EventBroken:
		if len(e.Causes) > 0 {
			return fmt.Sprintf("%s is broken: %s. wpfix changed nothing.", e.Site, e.Causes[0].Title)
		}
		return fmt.Sprintf("%s is broken and wpfix could not fix it.", e.Site)
	case EventStillBroken:
		return fmt.Sprintf("%s is still broken.", e.Site)
	case EventRecovered:
		return fmt.Sprintf("%s answers well again.", e.Site)
	}
	return fmt.Sprintf("%s: %s", e.Site, e.Event)
}

// Subject is the event's subject line, for an email.
func (e Event) Subject() string {
	e = e.clean()
	switch e.Event {
	case EventFixed:
		return fmt.Sprintf("wpfix fixed %s: disabled %s", e.Site, culpritList(e.Culprits))
	case EventBroken:
		if len(e.Causes) > 0 {
			return fmt.Sprintf("wpfix: %s is broken: %s", e.Site, e.Causes[0].Title)
		}
		return fmt.Sprintf("wpfix: %s is broken", e.Site)
	case EventStillBroken:
		return fmt.Sprintf("wpfix: %s is still broken", e.Site)
	case EventRecovered:
		return fmt.Sprintf("wpfix: %s has recovered", e.Site)
	}
	return fmt.Sprintf("wpfix: %s: %s", e.Site, e.Event)
}

// Text is the event for a person, in a few lines: what happened, what was
// disabled, the exact restore command, the causes and the next command.
// Chat channels and email bodies use it.
func (e Event) Text() string {
	e = e.clean()
	var b strings.Builder
	fmt.Fprintln(&b, e.Summary())
	fmt.Fprintln(&b)
	site := e.Site
	if e.URL != "" {
		site += " (" + e.URL + ")"
	}
	fmt.Fprintf(&b, "Site: %s\n", site)
	ev := e.Event
	if e.Verdict != "" {
		ev += ", verdict " + e.Verdict
	}
	if e.Probes > 0 {
		ev += fmt.Sprintf(", %d probes", e.Probes)
	}
	fmt.Fprintf(&b, "Event: %s\n", ev)
	if len(e.Culprits) > 0 {
		fmt.Fprintf(&b, "Disabled: %s\n", culpritList(e.Culprits))
	}
	if e.Restore != "" {
		fmt.Fprintf(&b, "To undo: %s\n", e.Restore)
	}
	for _, c := range e.Causes {
		line := c.Title
		if c.ID != "" {
			line = c.ID + ": " + line
		}
		fmt.Fprintf(&b, "Cause: %s\n", line)
		if c.Next != "" {
			fmt.Fprintf(&b, "Next: %s\n", c.Next)
		}
	}
	when := ""
	if !e.Time.IsZero() {
		when = " at " + e.Time.UTC().Format(time.RFC3339)
	}
	host := ""
	if e.Host != "" {
		host = " on " + e.Host
	}
	fmt.Fprintf(&b, "\nSent by wpfix%s%s.\n", host, when)
	return b.String()
}

func culpritList(cs []wp.Extension) string {
	if len(cs) == 0 {
		return "nothing"
	}
	s := make([]string, len(cs))
	for i, c := range cs {
		s[i] = c.String()
	}
	return strings.Join(s, ", ")
}

// cut shortens s to at most max UTF-16 code units (what Discord counts),
// cleanly: at the last line break or space in the last fifth when there is
// one, never inside a character, ending with "…".
func cut(s string, max int) string {
	if utf16Len(s) <= max {
		return s
	}
	budget := max - 1 // the ellipsis
	end, n := 0, 0
	for i, r := range s {
		w := 1
		if r >= 0x10000 {
			w = 2
		}
		if n+w > budget {
			break
		}
		n += w
		end = i + utf8.RuneLen(r)
	}
	head := s[:end]
	if i := strings.LastIndexAny(head, "\n "); i >= len(head)*4/5 {
		head = head[:i]
	}
	return strings.TrimRight(head, " \n") + "…"
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n++
		if r >= 0x10000 {
			n++
		}
	}
	return n
}

// Channel is one way of telling a person.
type Channel interface {
	// Name says which channel this is, for messages and logs: its kind and
	// host ("slack hooks.slack.com"), never a token, a path or a password.
	Name() string
	// Send delivers one event, once. An error that retrying cannot cure
	// (a 4xx answer, a refused password) wraps ErrPermanent.
	Send(ctx context.Context, e Event) error
}

// ErrPermanent marks a failure that SendAll does not retry.
var ErrPermanent = errors.New("not retried")

// permanent marks err as not worth retrying.
func permanent(err error) error {
	if err == nil || errors.Is(err, ErrPermanent) {
		return err
	}
	return &permanentError{err}
}

type permanentError struct{ err error }

func (p *permanentError) Error() string { return p.err.Error() }
func (p *permanentError) Unwrap() []error {
	return []error{p.err, ErrPermanent}
}

// Sender sends events to channels within bounds. The zero value uses the
// defaults below.
type Sender struct {
	// Tries is how many times a channel is tried (default 3).
	Tries int
	// TryTimeout bounds one try (default 10s).
	TryTimeout time.Duration
	// Backoff is the wait before the second try, doubled for each next
	// one (default 1s). A 429's Retry-After is honoured when it fits.
	Backoff time.Duration
	// Deadline bounds the whole of SendAll, every channel and try
	// (default 30s): a notice never holds up heal longer.
	Deadline time.Duration
	// Log receives one line per failed try; nil logs nothing.
	Log *slog.Logger
}

func (s Sender) withDefaults() Sender {
	if s.Tries <= 0 {
		s.Tries = 3
	}
	if s.TryTimeout <= 0 {
		s.TryTimeout = 10 * time.Second
	}
	if s.Backoff <= 0 {
		s.Backoff = time.Second
	}
	if s.Deadline <= 0 {
		s.Deadline = 30 * time.Second
	}
	if s.Log == nil {
		s.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return s
}

// SendAll sends e to every channel with the default Sender, logging to
// log (nil: nowhere). See Sender.SendAll.
func SendAll(ctx context.Context, chans []Channel, e Event, log *slog.Logger) []error {
	return Sender{Log: log}.SendAll(ctx, chans, e)
}

// SendAll sends e to every channel in parallel, each retried on a failure
// worth retrying, and returns the failures, one per channel that never
// succeeded, each naming its channel (the caller prints them on stderr).
// It returns within the Deadline (plus a moment) even when a channel
// ignores its context; such a channel is reported as timed out.
func (s Sender) SendAll(ctx context.Context, chans []Channel, e Event) []error {
	s = s.withDefaults()
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	ctx, cancel := context.WithTimeout(ctx, s.Deadline)
	defer cancel()
	errs := make([]error, len(chans))
	done := make([]bool, len(chans))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i, ch := range chans {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.send(ctx, ch, e)
			mu.Lock()
			errs[i], done[i] = err, true
			mu.Unlock()
		}()
	}
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()
	select {
	case <-finished:
	case <-ctx.Done():
		// Give well-behaved channels a moment to report their own error.
		select {
		case <-finished:
		case <-time.After(200 * time.Millisecond):
		}
	}
	mu.Lock()
	defer mu.Unlock()
	var out []error
	for i, err := range errs {
		if !done[i] {
			err = fmt.Errorf("notify %s: no answer within %s", chans[i].Name(), s.Deadline)
		}
		if err != nil {
			out = append(out, err)
		}
	}
	return out
}

// send tries one channel up to Tries times.
func (s Sender) send(ctx context.Context, ch Channel, e Event) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("notify %s: the channel failed: %v", ch.Name(), r)
		}
	}()
	wait := s.Backoff
	var last error
	for try := 1; try <= s.Tries; try++ {
		tctx, cancel := context.WithTimeout(ctx, s.TryTimeout)
		last = ch.Send(tctx, e)
		cancel()
		if last == nil {
			if try > 1 {
				s.Log.Info("notify: sent", "channel", ch.Name(), "try", try)
			}
			return nil
		}
		s.Log.Warn("notify: failed", "channel", ch.Name(), "try", try, "err", last.Error())
		if errors.Is(last, ErrPermanent) || try == s.Tries {
			break
		}
		d := wait
		var ra *retryAfter
		if errors.As(last, &ra) && ra.d > d {
			d = ra.d
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < d {
			break // the next try would not fit
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("notify %s: %w (then gave up: %v)", ch.Name(), last, ctx.Err())
		case <-time.After(d):
		}
		wait *= 2
	}
	return fmt.Errorf("notify %s: %w", ch.Name(), last)
}

// retryAfter is a failure whose server said when to try again.
type retryAfter struct {
	err error
	d   time.Duration
}

func (r *retryAfter) Error() string { return r.err.Error() }
func (r *retryAfter) Unwrap() error { return r.err }
