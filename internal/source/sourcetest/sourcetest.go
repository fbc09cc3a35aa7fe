// Package sourcetest is what the vendor packages' tests share: a Sink that
// collects what a source emits (the boundary to the model) and waits on it.
package sourcetest

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/wallboard/wallboard/internal/event"
)

// Timeout bounds every wait.
const Timeout = 15 * time.Second

// Sink collects every event published to it, in order. It is safe for
// concurrent use.
type Sink struct {
	mu   sync.Mutex
	evs  []event.Event
	next int // Next's cursor
	wake chan struct{}
}

// NewSink returns an empty sink.
func NewSink() *Sink { return &Sink{wake: make(chan struct{}, 1)} }

// Publish implements source.Sink.
func (s *Sink) Publish(_ context.Context, evs ...event.Event) error {
	s.mu.Lock()
	s.evs = append(s.evs, evs...)
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return nil
}

// All returns a copy of every event so far, source statuses included.
func (s *Sink) All() []event.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.evs)
}

// Events returns a copy of the events so far without the source statuses.
func (s *Sink) Events() []event.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]event.Event, 0, len(s.evs))
	for _, e := range s.evs {
		if e.Kind != event.SourceStatus {
			out = append(out, e)
		}
	}
	return out
}

// WaitFor waits until cond holds on Events, failing t after Timeout.
func (s *Sink) WaitFor(t testing.TB, what string, cond func([]event.Event) bool) {
	t.Helper()
	Wait(t, s, what, func() bool { return cond(s.Events()) })
}

// WaitForAll waits until cond holds on All, failing t after Timeout.
func (s *Sink) WaitForAll(t testing.TB, what string, cond func([]event.Event) bool) {
	t.Helper()
	Wait(t, s, what, func() bool { return cond(s.All()) })
}

// Next reads on from where the last Next stopped until ok accepts an event,
// and returns the events it read (the accepted one last). It fails t after
// Timeout.
func (s *Sink) Next(t testing.TB, what string, ok func(event.Event) bool) []event.Event {
	t.Helper()
	var read []event.Event
	Wait(t, s, what, func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		for s.next < len(s.evs) {
			e := s.evs[s.next]
			s.next++
			read = append(read, e)
			if ok(e) {
				return true
			}
		}
		return false
	})
	return read
}

// Wait waits until cond holds, re-checking it on every publish to s (which
// may be nil) and at least every 20 ms, for conditions on other state. It
// fails t after Timeout.
func Wait(t testing.TB, s *Sink, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(Timeout)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	var wake <-chan struct{}
	if s != nil {
		wake = s.wake
	}
	for !cond() {
		select {
		case <-wake:
		case <-tick.C:
		case <-deadline.C:
			t.Fatalf("timed out after %s waiting for %s", Timeout, what)
		}
	}
}
