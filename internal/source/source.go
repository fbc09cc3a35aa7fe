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
	Name          string
	Type          string
	Status        event.Status
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
	now       func() time.Time

	messages, errors, reconnects atomic.Int64
	lastMessage                  atomic.Int64 // unix nanos

	mu        sync.Mutex
	status    event.Status
	detail    string
	lastError string
	everLive  bool
	liveSince time.Time
	loggedBad map[string]bool // malformed-frame kinds already logged
	onChange  func()

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
	return &Reporter{name: name, typ: typ, sink: sink, log: log.With("source", name), now: time.Now,
		status: event.StatusConnecting, loggedBad: map[string]bool{}}
}

// Logger returns the source's logger (with the source attribute set).
func (r *Reporter) Logger() *slog.Logger { return r.log }

// Emit sends translated events to the model. It blocks while the model's
// inbox is full (backpressure to the upstream reader) and returns ctx's error
// when ctx ends.
func (r *Reporter) Emit(ctx context.Context, evs ...event.Event) error {
	for i := range evs {
		if evs[i].Source == "" {
			evs[i].Source = r.name
		}
	}
	return r.sink.Publish(ctx, evs...)
}

// Message counts one upstream message (including heartbeats that prove the
// connection is alive) and records its arrival time.
func (r *Reporter) Message() {
	r.messages.Add(1)
	r.lastMessage.Store(r.now().UnixNano())
}

// Touch records that the connection is alive without counting a message.
func (r *Reporter) Touch() { r.lastMessage.Store(r.now().UnixNano()) }

// Malformed counts a frame that could not be decoded and skips it. The first
// frame of each kind is logged with a short excerpt; the rest only counted.
func (r *Reporter) Malformed(kind string, frame []byte, err error) {
	r.errors.Add(1)
	r.mu.Lock()
	first := !r.loggedBad[kind]
	if first && len(r.loggedBad) < 64 {
		r.loggedBad[kind] = true
	}
	r.lastError = fmt.Sprintf("malformed %s: %v", kind, err)
	r.mu.Unlock()
	if first {
		r.log.Warn("skipped malformed frame", "kind", kind, "error", err, "excerpt", Excerpt(frame, 120))
	}
}

// Live marks the source live (data is flowing).
func (r *Reporter) Live() { r.setStatus(event.StatusLive, "") }

// Detail updates the operator-facing detail without changing the status.
func (r *Reporter) Detail(detail string) {
	r.mu.Lock()
	changed := r.detail != detail
	r.detail = detail
	st := r.status
	r.mu.Unlock()
	if changed {
		r.emitStatus(st, detail)
	}
}

func (r *Reporter) setStatus(st event.Status, detail string) {
	r.mu.Lock()
	if r.status == st && r.detail == detail {
		r.mu.Unlock()
		return
	}
	prev := r.status
	r.status, r.detail = st, detail
	if st == event.StatusLive {
		r.everLive = true
		r.liveSince = r.now()
	}
	if st != event.StatusLive && detail != "" {
		r.lastError = detail
	}
	r.mu.Unlock()
	if prev != st {
		r.log.Info("source status", "from", string(prev), "to", string(st), "detail", detail)
	}
	r.emitStatus(st, detail)
}

func (r *Reporter) emitStatus(st event.Status, detail string) {
	// Status events must not block a source that is shutting down.
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = r.sink.Publish(ctx, event.Event{Kind: event.SourceStatus, Source: r.name, At: r.now(), Status: st, Detail: detail})
}

// Stats returns a snapshot of the status and counters.
func (r *Reporter) Stats() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := Stats{Name: r.name, Type: r.typ, Status: r.status, Detail: r.detail, EverLive: r.everLive,
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
		wasLive := r.liveSince != liveBefore && r.now().Sub(r.liveSince) >= b.StableAfter
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
			r.log.Error("source panicked", "panic", fmt.Sprint(p))
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
