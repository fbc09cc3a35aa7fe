package model

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/wallboard/wallboard/internal/event"
)

var t0 = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

func at(sec int) time.Time { return t0.Add(time.Duration(sec) * time.Second) }

func ev(kind event.Kind, sec int, f func(*event.Event)) event.Event {
	e := event.Event{Kind: kind, Source: "s", At: at(sec)}
	if f != nil {
		f(&e)
	}
	return e
}

func state(sec int, agent string, st event.State, reason string) event.Event {
	return ev(event.AgentState, sec, func(e *event.Event) { e.Agent, e.State, e.Reason = agent, st, reason })
}

func cev(kind event.Kind, sec int, id, queue, agent string) event.Event {
	return ev(kind, sec, func(e *event.Event) { e.Interaction, e.Queue, e.Agent = id, queue, agent })
}

func TestAgentTransitions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		events     []event.Event
		wantState  event.State
		wantReason string
		wantSince  time.Time
	}{
		{"first state creates the agent", []event.Event{state(0, "a", event.StateAvailable, "")}, event.StateAvailable, "", at(0)},
		{"not ready keeps its reason", []event.Event{state(0, "a", event.StateAvailable, ""), state(5, "a", event.StateNotReady, "Lunch")}, event.StateNotReady, "Lunch", at(5)},
		{"reason change restarts the clock", []event.Event{state(0, "a", event.StateNotReady, "Break"), state(5, "a", event.StateNotReady, "Lunch")}, event.StateNotReady, "Lunch", at(5)},
		{"reason dropped outside not_ready", []event.Event{state(0, "a", event.StateBusy, "Lunch")}, event.StateBusy, "", at(0)},
		{"same state again keeps since", []event.Event{state(0, "a", event.StateBusy, ""), state(9, "a", event.StateBusy, "")}, event.StateBusy, "", at(0)},
		{"stale update ignored", []event.Event{state(10, "a", event.StateWrapUp, ""), state(5, "a", event.StateBusy, "")}, event.StateWrapUp, "", at(10)},
		{"equal time applies", []event.Event{state(10, "a", event.StateOffered, ""), state(10, "a", event.StateBusy, "")}, event.StateBusy, "", at(10)},
		{"logout", []event.Event{state(0, "a", event.StateAvailable, ""), state(3, "a", event.StateLoggedOut, "")}, event.StateLoggedOut, "", at(3)},
		{"invalid state ignored", []event.Event{state(0, "a", event.StateAvailable, ""), state(3, "a", event.State("dancing"), "")}, event.StateAvailable, "", at(0)},
		{"duplicate id ignored", []event.Event{
			state(0, "a", event.StateAvailable, ""),
			func() event.Event { e := state(5, "a", event.StateBusy, ""); e.ID = "x1"; return e }(),
			state(6, "a", event.StateAvailable, ""),
			func() event.Event { e := state(7, "a", event.StateBusy, ""); e.ID = "x1"; return e }(),
		}, event.StateAvailable, "", at(6)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := New(Options{})
			for _, e := range tt.events {
				m.Apply(e, at(100))
			}
			a, ok := m.Agent(Key{"s", "a"})
			if !ok {
				t.Fatal("agent missing")
			}
			if a.State != tt.wantState || a.Reason != tt.wantReason || !a.Since.Equal(tt.wantSince) {
				t.Errorf("got %s %q since %s, want %s %q since %s", a.State, a.Reason, a.Since.Format(time.TimeOnly),
					tt.wantState, tt.wantReason, tt.wantSince.Format(time.TimeOnly))
			}
		})
	}
}

func TestContactTransitions(t *testing.T) {
	t.Parallel()
	queued := func(sec int, id string) event.Event { return cev(event.ContactQueued, sec, id, "q", "") }
	tests := []struct {
		name   string
		events []event.Event
		want   Queue // counters and waiting compared
	}{
		{"queued waits and is offered", []event.Event{queued(0, "c1")},
			Queue{Waiting: 1, OldestWaiting: at(0), Offered: 1}},
		{"queued twice counts once", []event.Event{queued(0, "c1"), queued(2, "c1")},
			Queue{Waiting: 1, OldestWaiting: at(0), Offered: 1}},
		{"oldest of several", []event.Event{queued(5, "c1"), queued(2, "c2"), queued(9, "c3")},
			Queue{Waiting: 3, OldestWaiting: at(2), Offered: 3}},
		{"offered to an agent stops waiting", []event.Event{queued(0, "c1"), cev(event.ContactOffered, 4, "c1", "", "a")},
			Queue{Offered: 1}},
		{"rejected waits again with its original time", []event.Event{queued(0, "c1"), cev(event.ContactOffered, 4, "c1", "", "a"), queued(8, "c1")},
			Queue{Waiting: 1, OldestWaiting: at(0), Offered: 1}},
		{"answered within service level", []event.Event{queued(0, "c1"), cev(event.ContactAnswered, 15, "c1", "", "a")},
			Queue{Offered: 1, Answered: 1, AnsweredInSL: 1, AnswerWait: 15 * time.Second, AnswerWaited: 1}},
		{"answered outside service level", []event.Event{queued(0, "c1"), cev(event.ContactAnswered, 25, "c1", "", "a")},
			Queue{Offered: 1, Answered: 1, AnswerWait: 25 * time.Second, AnswerWaited: 1}},
		{"answered twice counts once", []event.Event{queued(0, "c1"), cev(event.ContactAnswered, 5, "c1", "", "a"), cev(event.ContactAnswered, 6, "c1", "", "a")},
			Queue{Offered: 1, Answered: 1, AnsweredInSL: 1, AnswerWait: 5 * time.Second, AnswerWaited: 1}},
		{"ended after answer is handled", []event.Event{queued(0, "c1"), cev(event.ContactAnswered, 10, "c1", "", "a"), cev(event.ContactEnded, 70, "c1", "", "")},
			Queue{Offered: 1, Answered: 1, AnsweredInSL: 1, Handled: 1, HandleTotal: time.Minute, AnswerWait: 10 * time.Second, AnswerWaited: 1}},
		{"ended while waiting is abandoned", []event.Event{queued(0, "c1"), cev(event.ContactEnded, 30, "c1", "", "")},
			Queue{Offered: 1, Abandoned: 1}},
		{"ended while ringing is abandoned", []event.Event{queued(0, "c1"), cev(event.ContactOffered, 3, "c1", "", "a"), cev(event.ContactEnded, 5, "c1", "", "")},
			Queue{Offered: 1, Abandoned: 1}},
		{"dequeued is not abandoned", []event.Event{queued(0, "c1"), cev(event.ContactDequeued, 30, "c1", "", ""), cev(event.ContactEnded, 31, "c1", "", "")},
			Queue{Offered: 1}},
		{"late queued after end ignored", []event.Event{queued(0, "c1"), cev(event.ContactEnded, 30, "c1", "", ""), queued(1, "c1")},
			Queue{Offered: 1, Abandoned: 1}},
		{"end of unknown contact ignored", []event.Event{cev(event.ContactEnded, 30, "zz", "", "")},
			Queue{}},
		{"completed summary counts", []event.Event{
			ev(event.ContactCompleted, 90, func(e *event.Event) {
				e.Interaction, e.Queue, e.QueuedAt, e.Answered, e.AnsweredAt = "c9", "q", at(0), true, at(10)
			})},
			Queue{Offered: 1, Answered: 1, AnsweredInSL: 1, Handled: 1, HandleTotal: 80 * time.Second, AnswerWait: 10 * time.Second, AnswerWaited: 1}},
		{"completed after live events counts nothing more", []event.Event{
			queued(0, "c1"), cev(event.ContactAnswered, 10, "c1", "", "a"), cev(event.ContactEnded, 70, "c1", "", ""),
			ev(event.ContactCompleted, 70, func(e *event.Event) {
				e.Interaction, e.Queue, e.QueuedAt, e.Answered, e.AnsweredAt = "c1", "q", at(0), true, at(10)
			})},
			Queue{Offered: 1, Answered: 1, AnsweredInSL: 1, Handled: 1, HandleTotal: time.Minute, AnswerWait: 10 * time.Second, AnswerWaited: 1}},
		{"completed abandon", []event.Event{
			ev(event.ContactCompleted, 40, func(e *event.Event) { e.Interaction, e.Queue, e.QueuedAt = "c2", "q", at(0) })},
			Queue{Offered: 1, Abandoned: 1}},
		{"completed while still live finishes it", []event.Event{
			queued(0, "c1"), cev(event.ContactAnswered, 10, "c1", "", "a"),
			ev(event.ContactCompleted, 40, func(e *event.Event) {
				e.Interaction, e.Queue, e.QueuedAt, e.Answered, e.AnsweredAt = "c1", "q", at(0), true, at(10)
			})},
			Queue{Offered: 1, Answered: 1, AnsweredInSL: 1, Handled: 1, HandleTotal: 30 * time.Second, AnswerWait: 10 * time.Second, AnswerWaited: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := New(Options{})
			for _, e := range tt.events {
				m.Apply(e, at(100))
			}
			q, _ := m.Queue(Key{"s", "q"})
			q.Key, q.Name, q.Measures = Key{}, "", nil
			q.Settings, q.Windows, q.WaitingContacts = QueueSettings{}, nil, nil // windows_test.go
			q.Trend = Trend{}                                                    // trend_test.go
			if fmt.Sprintf("%+v", q) != fmt.Sprintf("%+v", tt.want) {
				t.Errorf("got  %+v\nwant %+v", q, tt.want)
			}
		})
	}
}

func TestTransferToAnotherQueue(t *testing.T) {
	t.Parallel()
	m := New(Options{})
	m.Apply(cev(event.ContactQueued, 0, "c1", "q1", ""), at(0))
	m.Apply(cev(event.ContactQueued, 20, "c1", "q2", ""), at(20))
	m.Apply(cev(event.ContactAnswered, 25, "c1", "", "a"), at(25))
	q1, _ := m.Queue(Key{"s", "q1"})
	q2, _ := m.Queue(Key{"s", "q2"})
	if q1.Waiting != 0 || q1.Offered != 1 || q1.Answered != 0 {
		t.Errorf("q1 = %+v", q1)
	}
	if q2.Waiting != 0 || q2.Offered != 1 || q2.Answered != 1 || q2.AnsweredInSL != 1 {
		t.Errorf("q2 = %+v (wait measured from entering q2)", q2)
	}
}

func TestAgentTracksInteraction(t *testing.T) {
	t.Parallel()
	m := New(Options{})
	m.Apply(cev(event.ContactQueued, 0, "c1", "q", ""), at(0))
	m.Apply(cev(event.ContactAnswered, 3, "c1", "", "a"), at(3))
	if a, _ := m.Agent(Key{"s", "a"}); a.Interaction != "c1" {
		t.Errorf("interaction = %q, want c1", a.Interaction)
	}
	m.Apply(cev(event.ContactEnded, 9, "c1", "", ""), at(9))
	if a, _ := m.Agent(Key{"s", "a"}); a.Interaction != "" {
		t.Errorf("interaction = %q after end", a.Interaction)
	}
}

func TestDirtyReportsChanges(t *testing.T) {
	t.Parallel()
	m := New(Options{Sources: []string{"s"}})
	d := m.TakeDirty()
	if !d.Sources["s"] {
		t.Error("configured source not dirty at start")
	}
	m.Apply(state(0, "a", event.StateAvailable, ""), at(0))
	m.Apply(cev(event.ContactQueued, 0, "c1", "q", ""), at(0))
	d = m.TakeDirty()
	if !d.Agents[Key{"s", "a"}] || !d.Queues[Key{"s", "q"}] || !d.Membership {
		t.Errorf("dirty = %+v", d)
	}
	if !m.TakeDirty().Empty() {
		t.Error("dirty not cleared")
	}
	m.Apply(state(0, "a", event.StateAvailable, ""), at(0)) // no change
	m.Apply(state(5, "a", event.StateBusy, ""), at(5))
	d = m.TakeDirty()
	if len(d.Agents) != 1 || d.Membership {
		t.Errorf("state change: dirty = %+v, want one agent and no membership change", d)
	}
	m.Apply(state(9, "a", event.StateLoggedOut, ""), at(9))
	if d = m.TakeDirty(); !d.Membership {
		t.Error("logout must re-lay boards that hide logged-out agents")
	}
}

func TestDedupIsBounded(t *testing.T) {
	t.Parallel()
	m := New(Options{DedupSize: 4})
	for i := 0; i < 10; i++ {
		e := state(i, "a", event.StateAvailable, "")
		e.ID = fmt.Sprint(i)
		m.Apply(e, at(i))
	}
	if len(m.seen.set) != 4 {
		t.Errorf("dedup holds %d ids, want 4", len(m.seen.set))
	}
	// An id that fell out of the window is new again; one inside is not.
	old := state(50, "a", event.StateBusy, "")
	old.ID = "9"
	if m.Apply(old, at(50)) {
		t.Error("recent duplicate applied")
	}
}

func TestRolloverAtMidnightInZone(t *testing.T) {
	t.Parallel()
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip("no tzdata")
	}
	m := New(Options{Location: ny})
	// 10:00 UTC is 05:00 in New York.
	m.Apply(cev(event.ContactQueued, 0, "c1", "q", ""), t0)
	m.Apply(cev(event.ContactEnded, 5, "c1", "", ""), t0.Add(5*time.Second))
	m.Apply(cev(event.ContactQueued, 6, "c2", "q", ""), t0.Add(6*time.Second))
	// Midnight UTC is not midnight in New York: nothing resets.
	if m.Rollover(time.Date(2026, 11, 22, 0, 30, 0, 0, time.UTC)) {
		t.Fatal("rolled over at UTC midnight")
	}
	newYorkMidnight := time.Date(2026, 11, 22, 0, 0, 1, 0, ny)
	if !m.Rollover(newYorkMidnight) {
		t.Fatal("no rollover after midnight in New York")
	}
	q, _ := m.Queue(Key{"s", "q"})
	if q.Offered != 0 || q.Abandoned != 0 {
		t.Errorf("counters not reset: %+v", q)
	}
	if q.Waiting != 1 {
		t.Errorf("a contact still waiting must stay waiting: %+v", q)
	}
	// It is answered today and counts today.
	m.Apply(ev(event.ContactAnswered, 0, func(e *event.Event) { e.Interaction, e.Agent, e.At = "c2", "a", newYorkMidnight }), newYorkMidnight)
	q, _ = m.Queue(Key{"s", "q"})
	if q.Answered != 1 {
		t.Errorf("answered after midnight = %d, want 1", q.Answered)
	}
	// A replayed event from yesterday changes no counter today.
	m.Apply(cev(event.ContactQueued, 7, "c3", "q", ""), newYorkMidnight)
	if q2, _ := m.Queue(Key{"s", "q"}); q2.Offered != 0 {
		t.Errorf("yesterday's contact counted today: offered %d", q2.Offered)
	}
}

func TestMeasuresReplaceRemovesVanishedKeys(t *testing.T) {
	t.Parallel()
	m := New(Options{})
	set := func(target event.TargetKind, id string, kv ...string) event.MeasureSet {
		v := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			v[kv[i]] = kv[i+1]
		}
		return event.MeasureSet{Target: target, ID: id, Values: v}
	}
	m.Apply(ev(event.Measures, 0, func(e *event.Event) {
		e.MeasureOp, e.Producer = event.MeasureReplace, "P"
		e.Snapshot = []event.MeasureSet{set(event.TargetQueue, "q1", "contactsQueueing", "2"), set(event.TargetQueue, "q2", "contactsQueueing", "5")}
	}), at(0))
	m.Apply(ev(event.Measures, 1, func(e *event.Event) {
		e.MeasureOp, e.Producer, e.Set = event.MeasureUpsert, "P", set(event.TargetQueue, "q1", "contactsQueueing", "3", "oldest", "12")
	}), at(1))
	q1, _ := m.Queue(Key{"s", "q1"})
	if q1.Measures["contactsQueueing"] != "3" || q1.Measures["oldest"] != "12" {
		t.Errorf("upsert: %v", q1.Measures)
	}
	m.Apply(ev(event.Measures, 2, func(e *event.Event) {
		e.MeasureOp, e.Producer = event.MeasureReplace, "P"
		e.Snapshot = []event.MeasureSet{set(event.TargetQueue, "q1", "contactsQueueing", "1")}
	}), at(2))
	q1, _ = m.Queue(Key{"s", "q1"})
	q2, _ := m.Queue(Key{"s", "q2"})
	if len(q1.Measures) != 1 || q1.Measures["contactsQueueing"] != "1" {
		t.Errorf("replace kept vanished keys on q1: %v", q1.Measures)
	}
	if q2.Measures != nil {
		t.Errorf("replace kept vanished q2: %v", q2.Measures)
	}
	m.Apply(ev(event.Measures, 3, func(e *event.Event) {
		e.MeasureOp, e.Producer, e.Set = event.MeasureDelete, "P", set(event.TargetQueue, "q1")
	}), at(3))
	if q1, _ = m.Queue(Key{"s", "q1"}); q1.Measures != nil {
		t.Errorf("delete left %v", q1.Measures)
	}
}

func TestServiceLevelAndAverageHandle(t *testing.T) {
	t.Parallel()
	if _, ok := (Queue{}).ServiceLevel(); ok {
		t.Error("service level defined before anything was offered")
	}
	q := Queue{Answered: 8, AnsweredInSL: 6, Abandoned: 2, Handled: 4, HandleTotal: 4 * time.Minute}
	if sl, ok := q.ServiceLevel(); !ok || sl != 0.6 {
		t.Errorf("service level = %v, want 0.6", sl)
	}
	if d, ok := q.AverageHandle(); !ok || d != time.Minute {
		t.Errorf("aht = %v", d)
	}
	if _, ok := q.AverageSpeedOfAnswer(); ok {
		t.Error("speed of answer defined before any answer with a known queueing time")
	}
	q.AnswerWait, q.AnswerWaited = 90*time.Second, 3
	if d, ok := q.AverageSpeedOfAnswer(); !ok || d != 30*time.Second {
		t.Errorf("asa = %v", d)
	}
}

func TestLoopCoalescesIntoOneDelta(t *testing.T) {
	t.Parallel()
	l := NewLoop(New(Options{}), LoopOptions{Flush: 20 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go l.Run(ctx)
	// Many changes for one agent inside a tick become one entry.
	var evs []event.Event
	for i := 0; i < 50; i++ {
		st := event.StateAvailable
		if i%2 == 1 {
			st = event.StateBusy
		}
		evs = append(evs, state(i, "a", st, ""))
	}
	if err := l.Publish(ctx, evs...); err != nil {
		t.Fatal(err)
	}
	d := <-l.Deltas()
	if len(d.Agents) != 1 || d.Agents[0].State != event.StateBusy || !d.Agents[0].Since.Equal(at(49)) {
		t.Errorf("delta = %+v, want one agent, busy since %s", d.Agents, at(49))
	}
	snap, err := l.Snapshot(ctx)
	if err != nil || len(snap.Agents) != 1 {
		t.Fatalf("snapshot = %+v, %v", snap, err)
	}
	// Nothing changes: nothing is sent.
	select {
	case d := <-l.Deltas():
		t.Errorf("delta without change: %+v", d)
	case <-time.After(100 * time.Millisecond):
	}
}

func TestSnapshotIncludesWhatWasPublishedBefore(t *testing.T) {
	t.Parallel()
	l := NewLoop(New(Options{}), LoopOptions{Flush: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go l.Run(ctx)
	for i := 0; i < 200; i++ {
		if err := l.Publish(ctx, state(i, fmt.Sprint("a", i), event.StateAvailable, "")); err != nil {
			t.Fatal(err)
		}
		snap, err := l.Snapshot(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(snap.Agents) != i+1 {
			t.Fatalf("snapshot after %d publishes has %d agents", i+1, len(snap.Agents))
		}
	}
}
