package projection

import (
	"strconv"
	"testing"
	"time"

	"github.com/wallboard/wallboard/internal/config"
	"github.com/wallboard/wallboard/internal/event"
	"github.com/wallboard/wallboard/internal/model"
)

// TestStaffing: a queue that took 120 calls in the last hour, each handled
// for 3 minutes (6 Erlangs), needs 9 agents for 80% within 20 s by Erlang C
// (10 for 90%); it has the agents serving it who are not on a break.
func TestStaffing(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	m := model.New(model.Options{})
	ev := func(e event.Event) { e.Source = "s"; m.Apply(e, e.At) }
	for i := range 120 {
		at := t0.Add(time.Duration(i) * 30 * time.Second)
		id := "c" + strconv.Itoa(i)
		ev(event.Event{Kind: event.ContactQueued, Interaction: id, Queue: "q1", At: at})
		ev(event.Event{Kind: event.ContactAnswered, Interaction: id, Agent: "a1", At: at.Add(5 * time.Second)})
		ev(event.Event{Kind: event.ContactEnded, Interaction: id, At: at.Add(185 * time.Second)})
	}
	states := map[string]event.State{"a1": event.StateBusy, "a2": event.StateAvailable, "a3": event.StateWrapUp,
		"a4": event.StateNotReady, "a5": event.StateLoggedOut, "a6": event.StateAvailable}
	now := t0.Add(time.Hour)
	for id, st := range states {
		queues := []string{"q1"}
		if id == "a6" {
			queues = []string{"q2"} // another queue's agent
		}
		ev(event.Event{Kind: event.AgentInfo, Agent: id, Queues: queues, At: now})
		ev(event.Event{Kind: event.AgentState, Agent: id, State: st, At: now})
	}
	ev(event.Event{Kind: event.QueueInfo, Queue: "q2", At: now})
	m.Age(now)
	cfg := config.Default()
	f := New(&cfg, time.UTC)
	f.Put(m.DeltaOf(m.TakeDirty(), now))
	q, ok := f.Queue(model.Key{Source: "s", ID: "q1"})
	if !ok {
		t.Fatal("no queue")
	}
	tests := []struct {
		name     string
		target   float64
		want     string
		level    string
		staffing bool
	}{
		{"the default target, 80%", 0, "needs 9 · has 3", "warn", true},
		{"a board's target of 90%", 0.9, "needs 10 · has 3", "warn", true},
		{"off", 0, "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			def := &config.Board{ID: "b", Staffing: tt.staffing}
			def.Thresholds.ServiceLevel.Warn = tt.target
			tile := f.Tile(def, q, now)
			if tile.Staffing != tt.want || tile.StaffLevel != tt.level {
				t.Errorf("staffing %q (%q), want %q (%q)", tile.Staffing, tile.StaffLevel, tt.want, tt.level)
			}
		})
	}
	// Before any traffic: what it has, and no need yet.
	empty, _ := f.Queue(model.Key{Source: "s", ID: "q2"})
	if tile := f.Tile(&config.Board{ID: "b", Staffing: true}, empty, now); tile.Staffing != "needs – · has 1" || tile.StaffLevel != "" {
		t.Errorf("queue without traffic: %q (%q)", tile.Staffing, tile.StaffLevel)
	}
}
