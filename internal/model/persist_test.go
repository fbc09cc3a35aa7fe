package model

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/wallboard/wallboard/internal/event"
)

// floorMidday builds a model with a bit of everything: agents in several
// states, a waiting contact, a ringing one, an answered one still talking,
// and contacts that ended today (answered and abandoned).
func floorMidday(t *testing.T) *Model {
	t.Helper()
	m := New(Options{})
	withID := func(e event.Event, id string) event.Event { e.ID = id; return e }
	evs := []event.Event{
		ev(event.AgentInfo, 0, func(e *event.Event) { e.Agent, e.Name, e.Queues = "a1", "Ann Lee", []string{"q1", "q2"} }),
		ev(event.QueueInfo, 0, func(e *event.Event) { e.Queue, e.Name = "q1", "Sales" }),
		state(1, "a1", event.StateAvailable, ""),
		state(2, "a2", event.StateNotReady, "Lunch"),
		state(3, "a3", event.StateAvailable, ""),
		// c1: answered and ended (handled, within SL).
		withID(cev(event.ContactQueued, 10, "c1", "q1", ""), "e1"),
		withID(cev(event.ContactOffered, 12, "c1", "q1", "a1"), "e2"),
		withID(cev(event.ContactAnswered, 15, "c1", "q1", "a1"), "e3"),
		withID(cev(event.ContactEnded, 75, "c1", "q1", "a1"), "e4"),
		// c2: abandoned.
		withID(cev(event.ContactQueued, 20, "c2", "q1", ""), "e5"),
		withID(cev(event.ContactEnded, 50, "c2", "q1", ""), "e6"),
		// c3: answered, still talking.
		withID(cev(event.ContactQueued, 30, "c3", "q2", ""), "e7"),
		withID(cev(event.ContactAnswered, 80, "c3", "q2", "a3"), "e8"),
		state(80, "a3", event.StateBusy, ""),
		// c4: waiting.
		withID(cev(event.ContactQueued, 90, "c4", "q1", ""), "e9"),
	}
	for _, e := range evs {
		m.Apply(e, at(100))
	}
	return m
}

func TestRestoreSameDay(t *testing.T) {
	t.Parallel()
	orig := floorMidday(t)
	b, err := orig.MarshalState()
	if err != nil {
		t.Fatal(err)
	}
	m := New(Options{})
	info, err := m.Restore(b, at(200))
	if err != nil {
		t.Fatal(err)
	}
	want := RestoreInfo{Day: "2026-11-21", Counters: true, Agents: 3, Queues: 2, Contacts: 2}
	if !reflect.DeepEqual(info, want) {
		t.Errorf("info = %+v, want %+v", info, want)
	}
	a, b2 := orig.Snapshot(at(200)), m.Snapshot(at(200))
	if !reflect.DeepEqual(a.Agents, b2.Agents) {
		t.Errorf("agents differ:\n got %+v\nwant %+v", b2.Agents, a.Agents)
	}
	if !reflect.DeepEqual(a.Queues, b2.Queues) {
		t.Errorf("queues differ:\n got %+v\nwant %+v", b2.Queues, a.Queues)
	}
	q1, _ := m.Queue(Key{"s", "q1"})
	if q1.Offered != 3 || q1.Answered != 1 || q1.AnsweredInSL != 1 || q1.Abandoned != 1 || q1.Handled != 1 ||
		q1.HandleTotal != time.Minute || q1.Waiting != 1 || !q1.OldestWaiting.Equal(at(90)) || q1.Name != "Sales" {
		t.Errorf("q1 = %+v", q1)
	}

	// What the vendors replay after the restart counts nothing twice.
	tests := []struct {
		name   string
		events []event.Event
		check  func(t *testing.T, m *Model)
	}{
		{"replayed events with the same ids change nothing", []event.Event{
			func() event.Event { e := cev(event.ContactQueued, 10, "c1", "q1", ""); e.ID = "e1"; return e }(),
			func() event.Event { e := cev(event.ContactEnded, 50, "c2", "q1", ""); e.ID = "e6"; return e }(),
		}, func(t *testing.T, m *Model) {
			q, _ := m.Queue(Key{"s", "q1"})
			if q.Offered != 3 || q.Abandoned != 1 {
				t.Errorf("q1 offered %d abandoned %d, want 3 1", q.Offered, q.Abandoned)
			}
		}},
		{"replays without ids: ended contacts are not counted again", []event.Event{
			cev(event.ContactQueued, 10, "c1", "q1", ""),
			cev(event.ContactAnswered, 15, "c1", "q1", "a1"),
			cev(event.ContactEnded, 75, "c1", "q1", "a1"),
			cev(event.ContactQueued, 20, "c2", "q1", ""),
			cev(event.ContactEnded, 50, "c2", "q1", ""),
			cev(event.ContactQueued, 30, "c3", "q2", ""),
			cev(event.ContactAnswered, 80, "c3", "q2", "a3"),
			cev(event.ContactQueued, 90, "c4", "q1", ""),
		}, func(t *testing.T, m *Model) {
			q1, _ := m.Queue(Key{"s", "q1"})
			q2, _ := m.Queue(Key{"s", "q2"})
			if q1.Offered != 3 || q1.Answered != 1 || q1.Abandoned != 1 || q1.Handled != 1 || q1.Waiting != 1 {
				t.Errorf("q1 = %+v", q1)
			}
			if q2.Offered != 1 || q2.Answered != 1 || q2.Waiting != 0 {
				t.Errorf("q2 = %+v", q2)
			}
		}},
		{"open contacts finish after the restart", []event.Event{
			cev(event.ContactEnded, 140, "c3", "q2", "a3"),
			cev(event.ContactAnswered, 150, "c4", "q1", "a1"),
		}, func(t *testing.T, m *Model) {
			q1, _ := m.Queue(Key{"s", "q1"})
			q2, _ := m.Queue(Key{"s", "q2"})
			if q2.Handled != 1 || q2.HandleTotal != time.Minute {
				t.Errorf("q2 handled %d in %s, want 1 in 1m", q2.Handled, q2.HandleTotal)
			}
			if q1.Answered != 2 || q1.Waiting != 0 || q1.AnsweredInSL != 1 {
				t.Errorf("q1 = %+v", q1)
			}
		}},
		{"an older agent state is stale after the restart", []event.Event{
			state(1, "a2", event.StateAvailable, ""),
		}, func(t *testing.T, m *Model) {
			a, _ := m.Agent(Key{"s", "a2"})
			if a.State != event.StateNotReady || a.Reason != "Lunch" || !a.Since.Equal(at(2)) {
				t.Errorf("a2 = %+v", a)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := New(Options{})
			if _, err := m.Restore(b, at(200)); err != nil {
				t.Fatal(err)
			}
			for _, e := range tt.events {
				m.Apply(e, at(200))
			}
			tt.check(t, m)
		})
	}
}

func TestRestoreEarlierDay(t *testing.T) {
	t.Parallel()
	b, err := floorMidday(t).MarshalState()
	if err != nil {
		t.Fatal(err)
	}
	m := New(Options{})
	tomorrow := at(0).Add(24 * time.Hour)
	info, err := m.Restore(b, tomorrow)
	if err != nil {
		t.Fatal(err)
	}
	if info.Counters || info.Day != "2026-11-21" {
		t.Errorf("info = %+v: counters from an earlier day must not be restored", info)
	}
	if m.Day() != "2026-11-22" {
		t.Errorf("day = %s", m.Day())
	}
	q1, _ := m.Queue(Key{"s", "q1"})
	if q1.Offered != 0 || q1.Answered != 0 || q1.Abandoned != 0 || q1.Handled != 0 || q1.AnsweredInSL != 0 || q1.HandleTotal != 0 {
		t.Errorf("yesterday's counters restored: %+v", q1)
	}
	if q1.Waiting != 1 || q1.Name != "Sales" {
		t.Errorf("the waiting contact and the name must survive: %+v", q1)
	}
	a, _ := m.Agent(Key{"s", "a1"})
	if a.State != event.StateAvailable || a.Name != "Ann Lee" || !reflect.DeepEqual(a.Queues, []string{"q1", "q2"}) {
		t.Errorf("a1 = %+v", a)
	}
	// The contact answered yesterday ends today: handled today, not answered today.
	m.Apply(cev(event.ContactEnded, 24*3600+60, "c3", "q2", "a3"), tomorrow.Add(time.Minute))
	q2, _ := m.Queue(Key{"s", "q2"})
	if q2.Answered != 0 || q2.Handled != 1 {
		t.Errorf("q2 = %+v", q2)
	}
}

func TestRestoreRejects(t *testing.T) {
	t.Parallel()
	good, err := floorMidday(t).MarshalState()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		data string
		want error
	}{
		{"empty", "", ErrSnapshotCorrupt},
		{"not JSON", "\x00\x01garbage", ErrSnapshotCorrupt},
		{"truncated", string(good[:len(good)/2]), ErrSnapshotCorrupt},
		{"no version", `{"day":"2026-11-21"}`, ErrSnapshotCorrupt},
		{"future version", `{"version":2,"day":"2026-11-21","whatever":[1,2]}`, ErrSnapshotVersion},
		{"version zero", `{"version":0,"day":"2026-11-21"}`, ErrSnapshotVersion},
		{"bad day", `{"version":1,"day":"yesterday"}`, ErrSnapshotCorrupt},
		{"wrong type", `{"version":1,"day":"2026-11-21","queues":{"a":1}}`, ErrSnapshotCorrupt},
		{"negative counter", `{"version":1,"day":"2026-11-21","queues":[{"source":"s","id":"q","offered":-1}]}`, ErrSnapshotCorrupt},
		{"unknown state", `{"version":1,"day":"2026-11-21","agents":[{"source":"s","id":"a","state":"dancing"}]}`, ErrSnapshotCorrupt},
		{"agent without key", `{"version":1,"day":"2026-11-21","agents":[{"state":"busy"}]}`, ErrSnapshotCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := New(Options{})
			_, err := m.Restore([]byte(tt.data), at(200))
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if s := m.Snapshot(at(200)); len(s.Agents)+len(s.Queues) != 0 {
				t.Errorf("a rejected snapshot changed the model: %+v", s)
			}
		})
	}
}

func TestRestoreEmptyModel(t *testing.T) {
	t.Parallel()
	m := New(Options{})
	m.Rollover(at(0))
	b, err := m.MarshalState()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(b), `{"version":1,"day":"2026-11-21"`) {
		t.Errorf("snapshot starts %.60s", b)
	}
	n := New(Options{})
	if info, err := n.Restore(b, at(5)); err != nil || !info.Counters || info.Agents != 0 {
		t.Errorf("info %+v err %v", info, err)
	}
}

func TestDedupRecent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		size int
		add  []string
		n    int
		want []string
	}{
		{"fewer than asked", 8, []string{"a", "b"}, 4, []string{"a", "b"}},
		{"last n in order", 8, []string{"a", "b", "c", "d"}, 2, []string{"c", "d"}},
		{"after wrapping", 3, []string{"a", "b", "c", "d", "e"}, 3, []string{"c", "d", "e"}},
		{"none", 3, nil, 3, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDedup(tt.size)
			for _, id := range tt.add {
				d.add(id)
			}
			if got := d.recent(tt.n); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("recent = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestLoopPersistState(t *testing.T) {
	t.Parallel()
	m := New(Options{})
	l := NewLoop(m, LoopOptions{Now: func() time.Time { return at(10) }})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { l.Run(ctx); close(done) }()
	if err := l.Publish(ctx, cev(event.ContactQueued, 1, "c1", "q1", "")); err != nil {
		t.Fatal(err)
	}
	var st State
	var err error
	// The loop applies the batch before a later request (one goroutine, in order
	// of arrival is not guaranteed across channels): ask until it is there.
	for range 100 {
		if st, err = l.PersistState(ctx); err != nil {
			t.Fatal(err)
		}
		if len(st.s.Queues) == 1 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if len(st.s.Queues) != 1 || st.s.Queues[0].Offered != 1 || st.Day() != "2026-11-21" {
		t.Fatalf("state = %+v", st.s)
	}
	cancel()
	<-done
	if _, err := l.PersistState(context.Background()); !errors.Is(err, ErrStopped) {
		t.Errorf("after stop: %v", err)
	}
}
