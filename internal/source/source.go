// Package source runs upstream subscriptions: it supervises each Source with
// backoff and jitter, keeps its status and counters, and forwards the events
// it translates to the model. Vendor packages (sapi, pulsar, axp, netsapiens)
// implement Source; this package knows nothing of their wire formats.
package source

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"regexp"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/wallboard/wallboard/internal/event"
)

// Source is one configured upstream subscription.
//
// Run connects, reads and translates until ctx is done or the connection
// fails. It reports progress through r: r.Live() once data flows, r.Emit for
// translated events, r.Message and r.Malformed for counters. Returning nil or
// an error makes the supervisor reconnect (at once the first time after a
// session that was live, then with backoff); returning an error wrapped with
// Permanent puts the source in failed and retries only every FailedRetry.
type Source interface {
	Name() string
	Type() string
	Run(ctx context.Context, r *Reporter) error
}

// Sink receives translated events. The model's inbox implements it.
type Sink interface {
	Publish(ctx context.Context, evs ...event.Event) error
}

// BatchSink is a Sink that also takes what a source knows of its batch: its
// cursor after the events and its ticket (the model's loop; wrappers such as
// the metrics' counting sink pass it on).
type BatchSink interface {
	Sink
	PublishBatch(ctx context.Context, b event.Batch) error
}

// PublishBatch hands b to sink, through PublishBatch when sink takes
// batches and as plain events otherwise.
func PublishBatch(ctx context.Context, sink Sink, b event.Batch) error {
	if bs, ok := sink.(BatchSink); ok {
		return bs.PublishBatch(ctx, b)
	}
	return sink.Publish(ctx, b.Events...)
}

// Durable tells a source up to which of its tickets (see
// Reporter.EmitCursor) what it emitted survives a crash: it was written
// to the journal and synced, or a snapshot holds it. A source acknowledges
// upstream only what is durable. The journal advances it once per group
// commit; a source waits on C, which never allocates.
type Durable struct {
	ticket atomic.Uint64
	ch     chan struct{}

	mu  sync.Mutex
	gen chan struct{} // closed when the ticket moves; made by the first waiter
}

// NewDurable returns a Durable at ticket 0.
func NewDurable() *Durable { return &Durable{ch: make(chan struct{}, 1)} }

// Advance records that every ticket up to t is durable and wakes the
// source. Tickets only move forward.
func (d *Durable) Advance(t uint64) {
	for {
		cur := d.ticket.Load()
		if t <= cur {
			return
		}
		if d.ticket.CompareAndSwap(cur, t) {
			break
		}
	}
	select {
	case d.ch <- struct{}{}:
	default:
	}
	d.mu.Lock()
	if d.gen != nil {
		close(d.gen)
		d.gen = nil
	}
	d.mu.Unlock()
}

// Wait returns once ticket t is durable, or ctx's error. Any number of
// goroutines may wait (webhook handlers); a source with one acknowledging
// goroutine uses C instead.
func (d *Durable) Wait(ctx context.Context, t uint64) error {
	for d.ticket.Load() < t {
		d.mu.Lock()
		if d.gen == nil {
			d.gen = make(chan struct{})
		}
		g := d.gen
		d.mu.Unlock()
		if d.ticket.Load() >= t {
			return nil
		}
		select {
		case <-g:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// Ticket returns the highest durable ticket.
func (d *Durable) Ticket() uint64 { return d.ticket.Load() }

// C receives after the ticket moved (once for any number of moves).
func (d *Durable) C() <-chan struct{} { return d.ch }

// PermanentError marks a failure that retrying will not fix (bad credentials,
// a vendor limit, invalid configuration). Detail is shown to operators.
type PermanentError struct {
	Detail string
	Err    error
}

func (e *PermanentError) Error() string {
	if e.Err == nil {
		return e.Detail
	}
	return e.Detail + ": " + e.Err.Error()
}

func (e *PermanentError) Unwrap() error { return e.Err }

// Permanent wraps err as a PermanentError with an operator-readable detail.
func Permanent(detail string, err error) error {
	return &PermanentError{Detail: detail, Err: err}
}

// Stats is a snapshot of one source's status and counters.
type Stats struct {
	Name   string
	Type   string
	Status event.Status
	// Summary is what screens and the state API show: fixed words for the
	// status (Summary), never the vendor's error text.
	Summary string
	// Detail is the full detail for the admin page and the log, with the
	// source's credentials and URLs' query strings redacted.
	Detail        string
	LastMessageAt time.Time
	LiveSince     time.Time // last transition to live; zero if never live
	EverLive      bool
	Messages      int64
	Errors        int64
	Reconnects    int64
	LastError     string
	// Unmapped lists vendor values no mapping knows, sorted by field and
	// value (at most MaxUnmappedKeys); UnmappedOverflow counts those seen
	// beyond that; UnmappedFields counts all of them per field.
	Unmapped         []UnmappedValue
	UnmappedOverflow int64
	UnmappedFields   map[string]int64
}

// Reporter is a running source's link to the rest of wallboard. It is safe
// for concurrent use.
type Reporter struct {
	name, typ string
	sink      Sink
	log       *slog.Logger

	messages, errors, reconnects atomic.Int64
	lastMessage                  atomic.Int64 // unix nanos

	mu        sync.Mutex
	status    event.Status
	detail    string
	lastError string
	everLive  bool
	liveSince time.Time
	loggedBad map[string]bool // malformed-frame kinds already logged
	secrets   []string        // redacted from every detail (Redact)

	// emitMu keeps a source's tickets in the order its batches reach the
	// sink, so "ticket t is durable" covers every earlier one.
	emitMu  sync.Mutex
	ticket  uint64
	durable *Durable

	unmapped         map[unmappedKey]*unmappedEntry // see unmapped.go
	unmappedFields   map[string]int64
	unmappedOverflow int64
}

// NewReporter returns a Reporter for the source name of type typ that emits to
// sink. It is exported so that vendor tests can run a Source directly.
func NewReporter(name, typ string, sink Sink, log *slog.Logger) *Reporter {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Reporter{name: name, typ: typ, sink: sink, log: log.With("source", name),
		status: event.StatusConnecting, loggedBad: map[string]bool{}}
}

// maxSecrets bounds the strings a source may ask to redact.
const maxSecrets = 64

// Redact makes the reporter replace each of secrets (ids that serve as
// credentials, such as a webhook's subscription id) with "[redacted]" in
// every detail and error it keeps or logs from now on.
func (r *Reporter) Redact(secrets ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, x := range secrets {
		if len(x) >= 4 && !slices.Contains(r.secrets, x) && len(r.secrets) < maxSecrets {
			r.secrets = append(r.secrets, x)
		}
	}
}

// redactLocked hides the registered secrets and URLs' credentials and
// query strings in text. r.mu is held.
func (r *Reporter) redactLocked(text string) string {
	for _, x := range r.secrets {
		text = strings.ReplaceAll(text, x, "[redacted]")
		if e := url.PathEscape(x); e != x {
			text = strings.ReplaceAll(text, e, "[redacted]")
		}
	}
	return RedactURLs(text)
}

var urlPattern = regexp.MustCompile(`(?i)\b(?:https?|wss?)://[^\s"'<>]+`)

// RedactURLs drops the user information and the query string of every URL
// in text: they may carry tokens.
func RedactURLs(text string) string {
	return urlPattern.ReplaceAllStringFunc(text, func(m string) string {
		u, err := url.Parse(m)
		if err != nil {
			return "[url]"
		}
		if u.User != nil {
			u.User = url.User("[redacted]")
		}
		if u.RawQuery != "" {
			u.RawQuery = "[redacted]"
		}
		u.Fragment, u.RawFragment = "", ""
		return u.String()
	})
}

// Summary is what screens say of a source in status st: fixed words,
// never a vendor's error text, which may carry ids that serve as
// credentials, URLs or tokens. The full detail is on the admin page.
func Summary(st event.Status) string {
	switch st {
	case event.StatusLive:
		return "" // the status says it all
	case event.StatusConnecting:
		return "connecting"
	case event.StatusDegraded:
		return "unreachable, reconnecting"
	case event.StatusFailed:
		return "stopped: see the admin page"
	}
	return string(st)
}

// Logger returns the source's logger (with the source attribute set).
func (r *Reporter) Logger() *slog.Logger { return r.log }

// Emit sends translated events to the model. It blocks while the model's
// inbox is full (backpressure to the upstream reader) and returns ctx's error
// when ctx ends.
func (r *Reporter) Emit(ctx context.Context, evs ...event.Event) error {
	_, err := r.EmitCursor(ctx, "", evs...)
	return err
}

// EmitCursor sends translated events together with the source's cursor
// after them ("" if it has none) and returns the batch's ticket: once
// Durable().Ticket() reaches it, the events and the cursor survive a crash
// and may be acknowledged upstream.
func (r *Reporter) EmitCursor(ctx context.Context, cursor string, evs ...event.Event) (uint64, error) {
	for i := range evs {
		if evs[i].Source == "" {
			evs[i].Source = r.name
		}
	}
	r.emitMu.Lock()
	defer r.emitMu.Unlock()
	r.ticket++
	t := r.ticket
	if err := PublishBatch(ctx, r.sink, event.Batch{Source: r.name, Cursor: cursor, Ticket: t, Events: evs}); err != nil {
		return 0, err
	}
	return t, nil
}

// SetDurable attaches the journal's notifications for this source. Call it
// before the source runs.
func (r *Reporter) SetDurable(d *Durable) { r.durable = d }

// Durable returns the source's durability notifications, or nil when
// nothing is journaled: then what was emitted may be acknowledged at once.
func (r *Reporter) Durable() *Durable { return r.durable }

// Message counts one upstream message (including heartbeats that prove the
// connection is alive) and records its arrival time.
func (r *Reporter) Message() {
	r.messages.Add(1)
	r.lastMessage.Store(time.Now().UnixNano())
}

// Touch records that the connection is alive without counting a message.
func (r *Reporter) Touch() { r.lastMessage.Store(time.Now().UnixNano()) }

// Malformed counts a frame that could not be decoded and skips it. The first
// frame of each kind is logged with a short excerpt; the rest only counted.
func (r *Reporter) Malformed(kind string, frame []byte, err error) {
	r.errors.Add(1)
	r.mu.Lock()
	first := !r.loggedBad[kind]
	if first && len(r.loggedBad) < 64 {
		r.loggedBad[kind] = true
	}
	msg := r.redactLocked(fmt.Sprint(err))
	r.lastError = "malformed " + kind + ": " + msg
	r.mu.Unlock()
	if first {
		r.log.Warn("skipped malformed frame", "kind", kind, "error", msg, "excerpt", Excerpt(frame, 120))
	}
}

// Live marks the source live (data is flowing).
func (r *Reporter) Live() { r.setStatus(event.StatusLive, "") }

// Detail updates the operator-facing detail (the admin page's) without
// changing the status; screens keep the status's Summary.
func (r *Reporter) Detail(detail string) {
	r.mu.Lock()
	r.detail = r.redactLocked(detail)
	r.mu.Unlock()
}

func (r *Reporter) setStatus(st event.Status, detail string) {
	r.mu.Lock()
	detail = r.redactLocked(detail)
	if r.status == st && r.detail == detail {
		r.mu.Unlock()
		return
	}
	prev := r.status
	r.status, r.detail = st, detail
	if st == event.StatusLive {
		r.everLive = true
		r.liveSince = time.Now()
	}
	if st != event.StatusLive && detail != "" {
		r.lastError = detail
	}
	r.mu.Unlock()
	if prev != st {
		r.log.Info("source status", "from", string(prev), "to", string(st), "detail", detail)
		r.emitStatus(st)
	}
}

// emitStatus tells the model (and so every screen) the new status, with
// its Summary as the detail.
func (r *Reporter) emitStatus(st event.Status) {
	// Status events must not block a source that is shutting down.
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = r.sink.Publish(ctx, event.Event{Kind: event.SourceStatus, Source: r.name, At: time.Now(), Status: st, Detail: Summary(st)})
}

// Stats returns a snapshot of the status and counters.
func (r *Reporter) Stats() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := Stats{Name: r.name, Type: r.typ, Status: r.status, Summary: Summary(r.status), Detail: r.detail, EverLive: r.everLive,
		LiveSince: r.liveSince, LastError: r.lastError,
		Messages: r.messages.Load(), Errors: r.errors.Load(), Reconnects: r.reconnects.Load()}
	if n := r.lastMessage.Load(); n != 0 {
		s.LastMessageAt = time.Unix(0, n)
	}
	s.Unmapped, s.UnmappedOverflow, s.UnmappedFields = r.unmappedStats()
	return s
}

// Backoff is the reconnect policy: the first retry after a session that
// stayed live for at least StableAfter happens at once; then delays grow from
// Min doubling to Max, each with ±Jitter (a fraction). A session that drops
// sooner counts as a failed attempt, so an upstream that accepts and drops at
// once is not hammered.
type Backoff struct {
	Min, Max    time.Duration
	Jitter      float64
	FailedRetry time.Duration // delay after a permanent failure
	StableAfter time.Duration // a live session this long resets the backoff
}

// DefaultBackoff is used when a field of a source's Backoff is zero.
var DefaultBackoff = Backoff{Min: 500 * time.Millisecond, Max: 30 * time.Second, Jitter: 0.3,
	FailedRetry: 5 * time.Minute, StableAfter: 10 * time.Second}

// Delay returns the wait before retry number attempt (1-based).
func (b Backoff) Delay(attempt int) time.Duration {
	d := b.Min
	for i := 1; i < attempt && d < b.Max; i++ {
		d *= 2
	}
	d = min(d, b.Max)
	if b.Jitter > 0 {
		d += time.Duration((rand.Float64()*2 - 1) * b.Jitter * float64(d))
	}
	return max(d, 0)
}

func (b Backoff) withDefaults() Backoff {
	if b.Min <= 0 {
		b.Min = DefaultBackoff.Min
	}
	if b.Max <= 0 {
		b.Max = DefaultBackoff.Max
	}
	if b.Jitter < 0 {
		b.Jitter = 0
	} else if b.Jitter == 0 {
		b.Jitter = DefaultBackoff.Jitter
	}
	if b.FailedRetry <= 0 {
		b.FailedRetry = DefaultBackoff.FailedRetry
	}
	if b.StableAfter <= 0 {
		b.StableAfter = DefaultBackoff.StableAfter
	}
	return b
}

// Supervise runs src until ctx ends, reconnecting after every return of Run.
// A session that reached live resets the backoff, so the vendor's routine
// disconnects (8x8 ends sessions every hour) reconnect at once.
func Supervise(ctx context.Context, src Source, r *Reporter, b Backoff) {
	b = b.withDefaults()
	attempt := 0
	for ctx.Err() == nil {
		r.mu.Lock()
		liveBefore := r.liveSince
		r.mu.Unlock()

		err := runSafely(ctx, src, r)
		if ctx.Err() != nil {
			return
		}
		r.reconnects.Add(1)

		r.mu.Lock()
		wasLive := r.liveSince != liveBefore && time.Since(r.liveSince) >= b.StableAfter
		everLive := r.everLive
		r.mu.Unlock()

		var perm *PermanentError
		var wait time.Duration
		switch {
		case errors.As(err, &perm):
			r.setStatus(event.StatusFailed, perm.Detail)
			attempt = 0
			wait = b.FailedRetry
		default:
			detail := "disconnected"
			if err != nil {
				detail = err.Error()
			}
			st := event.StatusConnecting
			if everLive {
				st = event.StatusDegraded
			}
			r.setStatus(st, detail)
			if wasLive {
				attempt = 0
			}
			if attempt == 0 && wasLive {
				wait = 0
			} else {
				wait = b.Delay(attempt + 1)
			}
			attempt++
		}
		if wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
	}
}

// runSafely turns a panic inside a source into an error: nothing from the
// network may take the process down.
func runSafely(ctx context.Context, src Source, r *Reporter) (err error) {
	defer func() {
		if p := recover(); p != nil {
			r.errors.Add(1)
			r.mu.Lock()
			msg := r.redactLocked(fmt.Sprint(p))
			r.mu.Unlock()
			r.log.Error("source panicked", "panic", msg, "stack", string(debug.Stack()))
			err = fmt.Errorf("internal error in %s source: %v", src.Type(), p)
		}
	}()
	return src.Run(ctx, r)
}

// Excerpt returns at most n bytes of b as printable, valid UTF-8 for logs.
func Excerpt(b []byte, n int) string {
	if len(b) > n {
		b = b[:n]
	}
	out := make([]rune, 0, len(b))
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		b = b[size:]
		if r == utf8.RuneError || r < 0x20 && r != '\t' {
			r = '?'
		}
		out = append(out, r)
	}
	return string(out)
}
