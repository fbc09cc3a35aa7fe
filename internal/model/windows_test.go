package model

import (
	"testing"
	"time"

	"github.com/wallboard/wallboard/internal/event"
)

func mins(m int) int { return m * 60 }

// contactAt is one finished contact: queued at q, answered a seconds later
// (0: abandoned after w seconds), ended after h seconds of handling.
func finished(id string, q, wait int, answered bool, handle int) []event.Event {
	evs := []event.Event{cev(event.ContactQueued, q, id, "q", "")}
	if answered {
		evs = append(evs, cev(event.ContactAnswered, q+wait, id, "", "a"), cev(event.ContactEnded, q+wait+handle, id, "", ""))
	} else {
		evs = append(evs, cev(event.ContactEnded, q+wait, id, "", ""))
	}
	return evs
}

func TestRollingWindows(t *testing.T) {
	t.Parallel()
	now := mins(120) // 12:00; the day started at 10:00 in these tests
	type want struct{ offered, answered, inSL, abandoned, handled int }
	tests := []struct {
		name     string
		contacts [][]event.Event
		w15      want
		w30      want
		w60      want
		aht15    time.Duration
	}{
		{"nothing", nil, want{}, want{}, want{}, 0},
		{"a contact 5 minutes ago is in every window",
			[][]event.Event{finished("c1", now-mins(5), 10, true, 60)},
			want{1, 1, 1, 0, 1}, want{1, 1, 1, 0, 1}, want{1, 1, 1, 0, 1}, time.Minute},
		{"20 minutes ago: 30 and 60 only",
			[][]event.Event{finished("c1", now-mins(20), 30, true, 120)},
			want{}, want{1, 1, 0, 0, 1}, want{1, 1, 0, 0, 1}, 0},
		{"45 minutes ago: 60 only; 61 minutes ago: none",
			[][]event.Event{finished("c1", now-mins(45), 5, false, 0), finished("c2", now-mins(61)-30, 5, false, 0)},
			want{}, want{}, want{1, 0, 0, 1, 0}, 0},
		{"offered in one window, answered in the next",
			[][]event.Event{finished("c1", now-mins(15)-10, 25, true, 30)},
			want{0, 1, 0, 0, 1}, want{1, 1, 0, 0, 1}, want{1, 1, 0, 0, 1}, 30 * time.Second},
		{"average handle over the window",
			[][]event.Event{finished("c1", now-mins(10), 1, true, 60), finished("c2", now-mins(9), 1, true, 120)},
			want{2, 2, 2, 0, 2}, want{2, 2, 2, 0, 2}, want{2, 2, 2, 0, 2}, 90 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := New(Options{})
			m.Rollover(at(0))
			for _, c := range tt.contacts {
				for _, e := range c {
					m.Apply(e, e.At) // applied as they happen
				}
			}
			m.Age(at(now))
			q, ok := m.Queue(Key{"s", "q"})
			if !ok && tt.contacts != nil {
				t.Fatal("queue missing")
			}
			for i, w := range []want{tt.w15, tt.w30, tt.w60} {
				if !ok {
					break
				}
				got := q.Windows[i]
				if got.Span != WindowSpans[i] {
					t.Fatalf("window %d spans %s", i, got.Span)
				}
				g := want{got.Offered, got.Answered, got.AnsweredInSL, got.Abandoned, got.Handled}
				if g != w {
					t.Errorf("%s window = %+v, want %+v", got.Span, g, w)
				}
			}
			if ok {
				aht, _ := q.Windows[0].AverageHandle()
				if aht != tt.aht15 {
					t.Errorf("15m AHT = %s, want %s", aht, tt.aht15)
				}
			}
		})
	}
}

// TestWindowsAgeWithoutEvents: a window shrinks as time passes, and the
// queue is marked changed for the boards without any new event.
func TestWindowsAgeWithoutEvents(t *testing.T) {
	t.Parallel()
	m := New(Options{})
	for _, e := range finished("c1", 0, 5, true, 60) {
		m.Apply(e, e.At)
	}
	if q, _ := m.Queue(Key{"s", "q"}); q.Windows[0].Offered != 1 {
		t.Fatalf("15m offered = %d, want 1", q.Windows[0].Offered)
	}
	m.Age(at(mins(10)))
	m.TakeDirty() // the queue's trend moved on a minute (trend_test.go)
	m.Age(at(mins(10) + 30))
	if d := m.TakeDirty(); d.Queues[Key{"s", "q"}] {
		t.Error("marked changed at 10 minutes though no window changed")
	}
	m.Age(at(mins(15) + 1)) // queued at 0 leaves the 15-minute window
	d := m.TakeDirty()
	if !d.Queues[Key{"s", "q"}] {
		t.Fatal("not marked changed when the offer left the 15-minute window")
	}
	delta := m.DeltaOf(d, at(mins(15)+1))
	if len(delta.Queues) != 1 {
		t.Fatalf("delta has %d queues", len(delta.Queues))
	}
	w := delta.Queues[0].Windows
	if w[0].Offered != 0 || w[0].Answered != 1 || w[1].Offered != 1 {
		t.Errorf("windows after 15m: %+v", w)
	}
	m.Age(at(mins(61) + 10))
	q, _ := m.Queue(Key{"s", "q"})
	if q.Windows[2].Offered != 0 || q.Windows[2].Handled != 0 || q.Offered != 1 {
		t.Errorf("after an hour: windows %+v, today offered %d (want windows empty, today 1)", q.Windows, q.Offered)
	}
	if n := len(m.queues[Key{"s", "q"}].hist); n != 0 {
		t.Errorf("history keeps %d entries older than an hour", n)
	}
}

func TestHistoryBounded(t *testing.T) {
	t.Parallel()
	m := New(Options{})
	for i := 0; i < maxHistory/2+10; i++ { // each completed abandon records an offer and an abandon
		m.Apply(ev(event.ContactCompleted, 1, func(e *event.Event) { e.Interaction, e.Queue = "c"+itoa(i), "q" }), at(1))
	}
	if n := len(m.queues[Key{"s", "q"}].hist); n != maxHistory {
		t.Errorf("history holds %d entries, want the bound %d", n, maxHistory)
	}
}

func itoa(i int) string { return time.Duration(i).String() }

func TestQueueSettings(t *testing.T) {
	t.Parallel()
	// Four contacts on queue "q" (named Sales): answered after 10s, after
	// 40s, abandoned after 3s, abandoned after 50s.
	contacts := [][]event.Event{
		finished("c1", 0, 10, true, 60), finished("c2", 100, 40, true, 60),
		finished("c3", 200, 3, false, 0), finished("c4", 300, 50, false, 0),
	}
	tests := []struct {
		name       string
		rules      []QueueRule
		wantInSL   int
		wantShort  int
		wantSL     float64
		wantWindow float64 // 60-minute service level
	}{
		{"defaults: 20s, abandons in the denominator", nil, 1, 0, 0.25, 0.25},
		{"threshold 45s by name", []QueueRule{{Queue: "Sales", Settings: QueueSettings{SLThreshold: 45 * time.Second}}}, 2, 0, 0.5, 0.5},
		{"short abandon 5s leaves c3 out", []QueueRule{{Queue: "q", Settings: QueueSettings{ShortAbandon: 5 * time.Second}}}, 1, 1, 1.0 / 3, 1.0 / 3},
		{"abandons out of the denominator", []QueueRule{{Queue: "q", Settings: QueueSettings{ExcludeAbandons: true}}}, 1, 0, 0.5, 0.5},
		{"rule for another source does not apply", []QueueRule{{Source: "other", Queue: "q", Settings: QueueSettings{SLThreshold: time.Hour}}}, 1, 0, 0.25, 0.25},
		{"first matching rule wins", []QueueRule{
			{Source: "s", Queue: "Sales", Settings: QueueSettings{SLThreshold: 45 * time.Second, ExcludeAbandons: true}},
			{Queue: "q", Settings: QueueSettings{SLThreshold: time.Second}}}, 2, 0, 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := New(Options{QueueRules: tt.rules})
			m.Apply(ev(event.QueueInfo, 0, func(e *event.Event) { e.Queue, e.Name = "q", "Sales" }), at(0))
			for _, c := range contacts {
				for _, e := range c {
					m.Apply(e, e.At)
				}
			}
			q, _ := m.Queue(Key{"s", "q"})
			if q.AnsweredInSL != tt.wantInSL || q.ShortAbandoned != tt.wantShort || q.Abandoned != 2 {
				t.Errorf("in SL %d short %d abandoned %d, want %d %d 2", q.AnsweredInSL, q.ShortAbandoned, q.Abandoned, tt.wantInSL, tt.wantShort)
			}
			sl, ok := q.ServiceLevel()
			if !ok || !near(sl, tt.wantSL) {
				t.Errorf("service level %v (%v), want %v", sl, ok, tt.wantSL)
			}
			w, _ := q.Window(time.Hour)
			if wsl, ok := w.ServiceLevel(q.Settings); !ok || !near(wsl, tt.wantWindow) {
				t.Errorf("60m service level %v (%v), want %v", wsl, ok, tt.wantWindow)
			}
		})
	}
}

// A queue renamed into a rule's name takes that rule's settings.
func TestQueueSettingsFollowName(t *testing.T) {
	t.Parallel()
	m := New(Options{QueueRules: []QueueRule{{Queue: "Sales", Settings: QueueSettings{SLThreshold: time.Minute}}}})
	m.Apply(cev(event.ContactQueued, 0, "c1", "q", ""), at(0))
	if q, _ := m.Queue(Key{"s", "q"}); q.Settings.SLThreshold != 20*time.Second {
		t.Fatalf("before the name: %s", q.Settings.SLThreshold)
	}
	m.Apply(ev(event.QueueInfo, 1, func(e *event.Event) { e.Queue, e.Name = "q", "Sales" }), at(1))
	if q, _ := m.Queue(Key{"s", "q"}); q.Settings.SLThreshold != time.Minute {
		t.Errorf("after the name: %s, want 1m", q.Settings.SLThreshold)
	}
}

func near(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 }

func TestAgentDay(t *testing.T) {
	t.Parallel()
	m := New(Options{})
	evs := []event.Event{
		state(0, "a", event.StateAvailable, ""),
		state(60, "a", event.StateNotReady, "Break"),
		state(960, "a", event.StateAvailable, ""),
	}
	evs = append(evs, finished("c1", 1000, 5, true, 100)...) // agent a handles 100s
	evs = append(evs, finished("c2", 1200, 5, true, 200)...)
	evs = append(evs, state(1500, "a", event.StateNotReady, "Lunch"))
	for _, e := range evs {
		m.Apply(e, e.At)
	}
	d, ok := m.AgentDay(Key{"s", "a"}, at(1800))
	if !ok {
		t.Fatal("no day")
	}
	if len(d.Segments) != 4 || d.Segments[1].Reason != "Break" || !d.Segments[3].From.Equal(at(1500)) {
		t.Errorf("segments = %+v", d.Segments)
	}
	if aht, _ := d.AverageHandle(); d.Handled != 2 || aht != 150*time.Second {
		t.Errorf("handled %d, AHT %s; want 2, 2m30s", d.Handled, aht)
	}
	want := map[string]time.Duration{"available/": 60*time.Second + 540*time.Second, "not_ready/Break": 900 * time.Second, "not_ready/Lunch": 300 * time.Second}
	got := map[string]time.Duration{}
	for _, s := range d.InState {
		got[string(s.State)+"/"+s.Reason] = s.Total
	}
	if len(got) != len(want) {
		t.Errorf("in state = %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %s, want %s", k, got[k], v)
		}
	}
	// A new day starts the timeline at midnight in the current state.
	midnight := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	m.Rollover(midnight.Add(time.Second))
	d, _ = m.AgentDay(Key{"s", "a"}, midnight.Add(time.Minute))
	if len(d.Segments) != 1 || d.Segments[0].Reason != "Lunch" || !d.Segments[0].From.Equal(midnight) || d.Handled != 0 {
		t.Errorf("after midnight: %+v handled %d", d.Segments, d.Handled)
	}
}

// BenchmarkQueueWindows: copying a busy queue (an hour of 1,000 contacts,
// about 4,000 history entries) with its three windows, as every delta does.
func BenchmarkQueueWindows(b *testing.B) {
	m := New(Options{})
	for i := 0; i < 1000; i++ {
		for _, e := range finished("c"+itoa(i), i*3, 5, i%10 != 0, 60) {
			m.Apply(e, e.At)
		}
	}
	q := m.queues[Key{"s", "q"}]
	now := at(3600)
	b.ReportAllocs()
	for b.Loop() {
		_ = q.copy(now)
	}
}
