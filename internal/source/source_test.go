package source

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wallboard/wallboard/internal/event"
)

// fakeSource is a Source made of a function field.
type fakeSource struct {
	run func(ctx context.Context, r *Reporter) error
}

func (f fakeSource) Name() string                               { return "fake" }
func (f fakeSource) Type() string                               { return "fake" }
func (f fakeSource) Run(ctx context.Context, r *Reporter) error { return f.run(ctx, r) }

// collect is a Sink that keeps every event.
type collect struct {
	mu  sync.Mutex
	evs []event.Event
}

func (c *collect) Publish(_ context.Context, evs ...event.Event) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.evs = append(c.evs, evs...)
	return nil
}

func (c *collect) statuses() []event.Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []event.Status
	for _, e := range c.evs {
		if e.Kind == event.SourceStatus {
			out = append(out, e.Status)
		}
	}
	return out
}

func TestBackoffDelays(t *testing.T) {
	t.Parallel()
	b := Backoff{Min: 100 * time.Millisecond, Max: time.Second, Jitter: 0}.withDefaults()
	b.Jitter = 0
	want := []time.Duration{100, 200, 400, 800, 1000, 1000}
	for i, w := range want {
		if got := b.Delay(i + 1); got != w*time.Millisecond {
			t.Errorf("attempt %d: %s, want %s", i+1, got, w*time.Millisecond)
		}
	}
	j := Backoff{Min: time.Second, Max: time.Second, Jitter: 0.3}
	for i := 0; i < 100; i++ {
		if d := j.Delay(1); d < 700*time.Millisecond || d > 1300*time.Millisecond {
			t.Fatalf("jittered delay %s outside ±30%%", d)
		}
	}
}

func supervise(t *testing.T, src Source, b Backoff, d time.Duration) (*collect, *Reporter) {
	t.Helper()
	sink := &collect{}
	r := NewReporter("fake", "fake", sink, nil)
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	Supervise(ctx, src, r, b)
	return sink, r
}

func TestSessionThatDropsAtOnceBacksOff(t *testing.T) {
	t.Parallel()
	var runs atomic.Int32
	src := fakeSource{run: func(ctx context.Context, r *Reporter) error {
		runs.Add(1)
		r.Live()
		return errors.New("connection reset") // live, then dropped at once
	}}
	supervise(t, src, Backoff{Min: 100 * time.Millisecond, Max: time.Second, StableAfter: time.Minute}, 500*time.Millisecond)
	// 0 + 100 + 200 ms of waits fit in 500 ms; a hot loop would run thousands of times.
	if n := runs.Load(); n < 2 || n > 4 {
		t.Errorf("ran %d times in 500ms, want 2..4 (backoff, not a hot loop)", n)
	}
}

func TestStableSessionReconnectsAtOnce(t *testing.T) {
	t.Parallel()
	var runs atomic.Int32
	src := fakeSource{run: func(ctx context.Context, r *Reporter) error {
		runs.Add(1)
		r.Live()
		select {
		case <-time.After(50 * time.Millisecond): // a session that lasted
		case <-ctx.Done():
		}
		return nil // the vendor ended the session
	}}
	sink, r := supervise(t, src, Backoff{Min: time.Second, StableAfter: 40 * time.Millisecond}, 400*time.Millisecond)
	if n := runs.Load(); n < 5 {
		t.Errorf("ran %d times in 400ms; a stable session's end must reconnect at once", n)
	}
	st := sink.statuses()
	if len(st) < 3 || st[0] != event.StatusLive || st[1] != event.StatusDegraded {
		t.Errorf("statuses = %v, want live, degraded, live, …", st)
	}
	if s := r.Stats(); s.Reconnects < 4 || !s.EverLive {
		t.Errorf("stats = %+v", s)
	}
}

func TestPermanentErrorFails(t *testing.T) {
	t.Parallel()
	var runs atomic.Int32
	src := fakeSource{run: func(ctx context.Context, r *Reporter) error {
		runs.Add(1)
		return Permanent("credentials rejected (HTTP 401)", errors.New("401"))
	}}
	sink, r := supervise(t, src, Backoff{Min: time.Millisecond, FailedRetry: time.Hour}, 200*time.Millisecond)
	if n := runs.Load(); n != 1 {
		t.Errorf("ran %d times; a permanent failure must wait failed_retry", n)
	}
	if st := sink.statuses(); len(st) != 1 || st[0] != event.StatusFailed {
		t.Errorf("statuses = %v", st)
	}
	if s := r.Stats(); s.Status != event.StatusFailed || s.Detail != "credentials rejected (HTTP 401)" {
		t.Errorf("stats = %+v", s)
	}
}

func TestPanicInSourceIsContained(t *testing.T) {
	t.Parallel()
	var runs atomic.Int32
	src := fakeSource{run: func(ctx context.Context, r *Reporter) error {
		if runs.Add(1) == 1 {
			var m map[string]int
			m["boom"]++ //nolint:staticcheck // SA5000: the bug a frame triggers
		}
		<-ctx.Done()
		return nil
	}}
	_, r := supervise(t, src, Backoff{Min: time.Millisecond}, 200*time.Millisecond)
	if runs.Load() != 2 {
		t.Errorf("runs = %d, want the source restarted once", runs.Load())
	}
	if s := r.Stats(); s.Errors != 1 || !strings.Contains(s.LastError, "internal error") {
		t.Errorf("stats = %+v", s)
	}
}

// explodeOnFrame is a source's bug: it panics reading a frame.
func explodeOnFrame(frame []byte) int {
	var counts map[string]int
	counts[string(frame)]++ //nolint:staticcheck // SA5000: the bug under test
	return len(counts)
}

// TestPanicIsLoggedWithItsStack: the error record of a recovered panic
// carries the panic and the stack of the goroutine where it happened, down
// to the function that panicked, so the bug can be found from the log.
func TestPanicIsLoggedWithItsStack(t *testing.T) {
	t.Parallel()
	var log bytes.Buffer
	src := fakeSource{run: func(ctx context.Context, r *Reporter) error {
		explodeOnFrame([]byte("frame"))
		return nil
	}}
	r := NewReporter("fake", "fake", &collect{}, slog.New(slog.NewJSONHandler(&log, nil)))
	err := runSafely(context.Background(), src, r)
	if err == nil || !strings.Contains(err.Error(), "internal error in fake source") {
		t.Fatalf("err = %v", err)
	}
	var rec struct {
		Level, Msg, Panic, Stack string
	}
	if err := json.Unmarshal(log.Bytes(), &rec); err != nil {
		t.Fatalf("log %q: %v", log.String(), err)
	}
	tests := []struct {
		name, got, want string
	}{
		{"level", rec.Level, "ERROR"},
		{"message", rec.Msg, "source panicked"},
		{"panic", rec.Panic, "assignment to entry in nil map"},
		{"stack names the function that panicked", rec.Stack, "source.explodeOnFrame("},
		{"stack names the file and line", rec.Stack, "source_test.go:"},
		{"stack goes down to the supervisor", rec.Stack, "source.runSafely("},
	}
	for _, tt := range tests {
		if !strings.Contains(tt.got, tt.want) {
			t.Errorf("%s: %q lacks %q", tt.name, tt.got, tt.want)
		}
	}
}

func TestMalformedIsCountedAndLoggedOnce(t *testing.T) {
	t.Parallel()
	var log strings.Builder
	r := NewReporter("fake", "fake", &collect{}, newTextLogger(&log))
	for i := 0; i < 5; i++ {
		r.Malformed("json", []byte("{\"token\":\"x\"\x00\x01 garbage"), errors.New("unexpected EOF"))
	}
	if s := r.Stats(); s.Errors != 5 {
		t.Errorf("errors = %d, want 5", s.Errors)
	}
	if n := strings.Count(log.String(), "skipped malformed frame"); n != 1 {
		t.Errorf("logged %d times, want once:\n%s", n, log.String())
	}
	if strings.ContainsRune(log.String(), 0) {
		t.Error("excerpt carries control characters")
	}
}

func TestExcerpt(t *testing.T) {
	t.Parallel()
	if got := Excerpt([]byte("abc\x00\ndef"), 5); got != "abc??" {
		t.Errorf("Excerpt = %q", got)
	}
	if got := Excerpt([]byte{0xff, 'a'}, 10); got != "?a" {
		t.Errorf("Excerpt of invalid UTF-8 = %q", got)
	}
}

func newTextLogger(w *strings.Builder) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }

func TestDurableWait(t *testing.T) {
	t.Parallel()
	d := NewDurable()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := d.Wait(ctx, 1); err == nil {
		t.Fatal("ticket 1 durable before any Advance")
	}
	results := make(chan error, 10)
	for range 10 {
		go func() { results <- d.Wait(context.Background(), 3) }()
	}
	d.Advance(2)
	select {
	case err := <-results:
		t.Fatalf("a wait for 3 returned at 2: %v", err)
	case <-time.After(20 * time.Millisecond):
	}
	d.Advance(3)
	for range 10 {
		if err := <-results; err != nil {
			t.Fatal(err)
		}
	}
	d.Advance(1) // tickets never go back
	if d.Ticket() != 3 {
		t.Fatalf("ticket %d", d.Ticket())
	}
	select {
	case <-d.C():
	default:
		t.Error("C did not signal the advance")
	}
}
