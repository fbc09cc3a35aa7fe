package model

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/wallboard/wallboard/internal/event"
	"github.com/wallboard/wallboard/internal/journal"
)

// TestLoopJournalReplaysToTheSameModel: the loop journals what it applies;
// a snapshot taken mid-way plus the journal after its position rebuild the
// same model as the one that ran, cursors included.
func TestLoopJournalReplaysToTheSameModel(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	j, err := journal.Open(dir, journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := j.Replay(0, func(journal.Pos, *event.Batch) error { return nil }); err != nil {
		t.Fatal(err)
	}
	now := func() time.Time { return at(200) }
	m := New(Options{})
	loop := NewLoop(m, LoopOptions{Flush: time.Hour, Now: now, Journal: j})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); loop.Run(ctx) }()

	first := []event.Batch{
		{Source: "s", Cursor: "c1", Ticket: 1, Events: []event.Event{
			ev(event.QueueInfo, 0, func(e *event.Event) { e.Queue, e.Name = "q1", "Sales" }),
			state(1, "a1", event.StateAvailable, ""),
			cev(event.ContactQueued, 10, "k1", "q1", ""),
		}},
		// A status is applied but not journaled; an event without a time
		// is journaled with the time it was applied at.
		{Source: "s", Ticket: 2, Events: []event.Event{
			{Kind: event.SourceStatus, Source: "s", Status: event.StatusLive},
			{Kind: event.AgentState, Source: "s", Agent: "a2", State: event.StateNotReady, Reason: "Lunch"},
		}},
	}
	second := []event.Batch{
		{Source: "s", Cursor: "c2", Ticket: 3, Events: []event.Event{
			cev(event.ContactAnswered, 20, "k1", "q1", "a1"),
			state(20, "a1", event.StateBusy, ""),
			cev(event.ContactQueued, 30, "k2", "q1", ""),
			cev(event.ContactEnded, 40, "k2", "q1", ""),
		}},
		{Source: "t", Cursor: "x9", Ticket: 1, Events: []event.Event{
			{Kind: event.AgentState, Source: "t", Agent: "b1", State: event.StateAvailable, At: at(50)}}},
	}
	for _, b := range first {
		if err := loop.PublishBatch(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	snap, err := loop.PersistState(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if snap.Position() != 2 {
		t.Fatalf("snapshot position %d, want 2", snap.Position())
	}
	b, _ := snap.Marshal()
	for _, bt := range second {
		loop.PublishBatch(ctx, bt)
	}
	cancel()
	<-done
	final := loop.FinalState()
	if final.Position() != 4 {
		t.Fatalf("final position %d, want 4", final.Position())
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}

	// A restart: the snapshot, then the journal after it.
	m2 := New(Options{})
	info, err := m2.Restore(b, at(200))
	if err != nil {
		t.Fatal(err)
	}
	if info.Journal != 2 || !reflect.DeepEqual(info.Cursors, map[string]string{"s": "c1"}) {
		t.Fatalf("restored position %d cursors %v", info.Journal, info.Cursors)
	}
	j2, _ := journal.Open(dir, journal.Options{})
	cursors := info.Cursors
	ri, err := j2.Replay(info.Journal, func(_ journal.Pos, b *event.Batch) error {
		for _, e := range b.Events {
			m2.Apply(e, at(300)) // later than the first run: times must come from the journal
		}
		if b.Cursor != "" {
			cursors[b.Source] = b.Cursor
		}
		return nil
	})
	if err != nil || ri.Records != 2 {
		t.Fatalf("replayed %+v, %v", ri, err)
	}
	if !reflect.DeepEqual(cursors, map[string]string{"s": "c2", "t": "x9"}) {
		t.Errorf("cursors after the replay %v", cursors)
	}
	want, got := m.Snapshot(at(300)), m2.Snapshot(at(300))
	if !reflect.DeepEqual(want.Agents, got.Agents) || !reflect.DeepEqual(want.Queues, got.Queues) {
		t.Errorf("replayed model differs:\n got %+v\n%+v\nwant %+v\n%+v", got.Agents, got.Queues, want.Agents, want.Queues)
	}
}

func TestAgentRoster(t *testing.T) {
	t.Parallel()
	m := New(Options{})
	for _, e := range []event.Event{
		state(10, "a1", event.StateAvailable, ""),
		state(10, "a2", event.StateBusy, ""),
		state(10, "a3", event.StateNotReady, "Lunch"),
		state(30, "a4", event.StateAvailable, ""), // changed after the listing
		{Kind: event.AgentState, Source: "other", Agent: "b1", State: event.StateAvailable, At: at(10)},
	} {
		m.Apply(e, at(40))
	}
	m.Apply(event.Event{Kind: event.AgentRoster, Source: "s", At: at(20), Roster: []string{"a1"}}, at(40))
	want := map[string]event.State{"s/a1": event.StateAvailable, "s/a2": event.StateLoggedOut, "s/a3": event.StateLoggedOut,
		"s/a4": event.StateAvailable, "other/b1": event.StateAvailable}
	for _, a := range m.Snapshot(at(40)).Agents {
		if w := want[a.Source+"/"+a.ID]; a.State != w {
			t.Errorf("%s/%s: %s, want %s", a.Source, a.ID, a.State, w)
		}
	}
}
