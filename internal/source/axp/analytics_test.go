package axp

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wallboard/wallboard/internal/config"
	"github.com/wallboard/wallboard/internal/event"
	"github.com/wallboard/wallboard/internal/vendorsim"
)

func mf(payload, action, key, id string, kv ...string) MeasureFrame {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return MeasureFrame{Keys: map[string]string{key: id}, EventAction: action, PayloadType: payload,
		MeasureProducerID: "Queue_itd_1.0.0", Measures: m}
}

func TestSnapshotter(t *testing.T) {
	t.Parallel()
	s := NewSnapshotter("Queue_itd_1.0.0")
	for _, f := range []MeasureFrame{
		mf("INITIALIZING", "UPSERT", "queueId", "q1", "contactsQueueing", "2", "queueName", "Sales"),
		mf("INITIALIZING", "UPSERT", "queueId", "q2", "contactsQueueing", "0"),
		mf("INITIALIZING", "UPSERT", "queueId", "q1", "offered", "7"),
		mf("INITIALIZING", "UPSERT", "queueId", "q3", "offered", "1"),
		mf("INITIALIZING", "DELETE", "queueId", "q3"),
	} {
		if evs := s.Apply(f); len(evs) != 0 {
			t.Fatalf("INITIALIZING frames must not emit: %+v", evs)
		}
	}
	evs := s.Apply(mf("LIVE", "UPSERT", "queueId", "q2", "contactsQueueing", "1"))
	if len(evs) != 2 || evs[0].MeasureOp != event.MeasureReplace || evs[1].MeasureOp != event.MeasureUpsert {
		t.Fatalf("first LIVE frame: %+v", evs)
	}
	snap := evs[0].Snapshot
	if len(snap) != 2 || snap[0].ID != "q1" || snap[0].Name != "Sales" || snap[0].Values["contactsQueueing"] != "2" ||
		snap[0].Values["offered"] != "7" || snap[1].ID != "q2" || evs[0].Producer != "Queue_itd_1.0.0" {
		t.Errorf("snapshot %+v", snap)
	}
	if evs[1].Set.ID != "q2" || evs[1].Set.Target != event.TargetQueue || evs[1].Set.Values["contactsQueueing"] != "1" {
		t.Errorf("upsert %+v", evs[1])
	}
	evs = s.Apply(mf("LIVE", "DELETE", "agentId", "a1"))
	if len(evs) != 1 || evs[0].MeasureOp != event.MeasureDelete || evs[0].Set.Target != event.TargetAgent || evs[0].Set.ID != "a1" {
		t.Errorf("delete %+v", evs)
	}
	// The vendor initializes again: a new snapshot replaces everything.
	s.Apply(mf("INITIALIZING", "UPSERT", "queueId", "q9", "offered", "0"))
	if !s.Pending() {
		t.Fatal("a new INITIALIZING frame must start a snapshot")
	}
	evs = s.Flush()
	if len(evs) != 1 || len(evs[0].Snapshot) != 1 || evs[0].Snapshot[0].ID != "q9" {
		t.Errorf("second snapshot %+v", evs)
	}
	if s.Flush() != nil {
		t.Error("a second Flush must emit nothing")
	}
}

// snapshots waits for the next MeasureReplace of each producer, whatever
// their order.
func (r *rig) snapshots(producers ...string) map[string]event.Event {
	r.t.Helper()
	got := map[string]event.Event{}
	r.waitFor("snapshots of "+strings.Join(producers, ", "), func(e event.Event) bool {
		if e.Kind == event.Measures && e.MeasureOp == event.MeasureReplace && slices.Contains(producers, e.Producer) {
			got[e.Producer] = e
		}
		return len(got) == len(producers)
	})
	return got
}

func TestAnalyticsSnapshotThenLive(t *testing.T) {
	t.Parallel()
	r := start(t, TypeAnalytics, vendorsim.AXPOptions{}, vendorsim.AXPFaults{}, nil)
	snaps := r.snapshots("Queue_itd_1.0.0", "Agent_itd_1.0.0")
	queues := snaps["Queue_itd_1.0.0"]
	if len(queues.Snapshot) != len(r.sim.Queues()) {
		t.Fatalf("queue snapshot has %d sets, want %d", len(queues.Snapshot), len(r.sim.Queues()))
	}
	for i, q := range r.sim.Queues() {
		set := queues.Snapshot[i]
		if set.Target != event.TargetQueue || set.ID != q.ID || set.Name != q.Name || set.Values["offered"] != "0" {
			t.Errorf("set %d: %+v", i, set)
		}
	}
	creates := r.emu.Stats().LastCreate
	if creates["family"] != "ANALYTICS" {
		t.Errorf("family %v", creates["family"])
	}

	q := r.sim.Queues()[0].ID
	r.sim.Do(vendorsim.Action{Kind: vendorsim.ActionCallQueued, Queue: q})
	up := r.waitFor("a LIVE upsert of the queue", func(e event.Event) bool {
		return e.Kind == event.Measures && e.MeasureOp == event.MeasureUpsert && e.Set.ID == q
	})
	want := strconv.Itoa(r.sim.Truth().Queues[q].Waiting)
	if up.Set.Values["contactsQueueing"] != want || up.Set.Values["offered"] != "1" {
		t.Errorf("upsert %+v, want contactsQueueing %s offered 1", up.Set.Values, want)
	}

	agent := r.sim.Agents()[0].ID
	r.sim.Do(vendorsim.Action{Kind: vendorsim.ActionAgentState, Agent: agent, State: event.StateAvailable})
	r.waitFor("the agent's measures", func(e event.Event) bool {
		return e.Kind == event.Measures && e.MeasureOp == event.MeasureUpsert && e.Set.ID == agent &&
			e.Set.Target == event.TargetAgent && e.Set.Values["agentState"] == "READY"
	})
	r.sim.Do(vendorsim.Action{Kind: vendorsim.ActionAgentState, Agent: agent, State: event.StateLoggedOut})
	r.waitFor("the agent's measures deleted", func(e event.Event) bool {
		return e.Kind == event.Measures && e.MeasureOp == event.MeasureDelete && e.Set.ID == agent
	})
}

func TestAnalyticsSnapshotReplacedOnReconnect(t *testing.T) {
	t.Parallel()
	r := start(t, TypeAnalytics, vendorsim.AXPOptions{}, vendorsim.AXPFaults{}, nil)
	agent := r.sim.Agents()[0].ID
	r.snapshots("Queue_itd_1.0.0", "Agent_itd_1.0.0")
	r.sim.Do(vendorsim.Action{Kind: vendorsim.ActionAgentState, Agent: agent, State: event.StateAvailable})
	r.waitFor("the agent's measures", func(e event.Event) bool {
		return e.Kind == event.Measures && e.Set.ID == agent
	})
	// While the sockets are down the agent logs out; the next snapshot must
	// no longer hold the agent, so its measures vanish from the board.
	r.emu.DropSockets()
	r.sim.Do(vendorsim.Action{Kind: vendorsim.ActionAgentState, Agent: agent, State: event.StateLoggedOut})
	snap := r.snapshots("Agent_itd_1.0.0")["Agent_itd_1.0.0"]
	for _, set := range snap.Snapshot {
		if set.ID == agent {
			t.Errorf("the logged-out agent is still in the new snapshot: %+v", set)
		}
	}
	eventually(t, "both producers reconnected and snapshotted", func() bool {
		return r.emu.Stats().Sockets >= 4 && r.src.Counters().Snapshots >= 4
	})
}

func TestAgentResync(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	agent := func(id, state, reason string) event.MeasureSet {
		return event.MeasureSet{Target: event.TargetAgent, ID: id, Values: map[string]string{"agentState": state, "reasonCodeName": reason}}
	}
	snap := event.Event{Kind: event.Measures, MeasureOp: event.MeasureReplace, Producer: "Agent_itd_1.0.0", Snapshot: []event.MeasureSet{
		agent("a1", "READY", "N/A"), agent("a2", "NOT_READY", "Lunch"), agent("a3", "ACW", "N/A"), agent("a4", "LOGGED_OUT", ""),
		agent("a5", "SOMETHING_NEW", ""), {Target: event.TargetQueue, ID: "q1"},
	}}
	tests := []struct {
		name   string
		to     string
		ev     event.Event
		states map[string]string // agent → state[/reason]
		roster []string          // nil: no roster event
	}{
		{name: "agent snapshot attached", to: "floor", ev: snap,
			states: map[string]string{"a1": "available", "a2": "not_ready/Lunch", "a3": "wrap_up", "a4": "logged_out"},
			roster: []string{"a1", "a2", "a3", "a5"}},
		{name: "empty agent snapshot logs everyone out", to: "floor",
			ev:     event.Event{Kind: event.Measures, MeasureOp: event.MeasureReplace, Producer: "Agent_itd_1.0.0"},
			states: map[string]string{}, roster: []string{}},
		{name: "not attached", to: "", ev: snap},
		{name: "queue producer", to: "floor", ev: event.Event{Kind: event.Measures, MeasureOp: event.MeasureReplace, Producer: "Queue_itd_1.0.0",
			Snapshot: []event.MeasureSet{agent("a1", "READY", "")}}},
		{name: "live upsert", to: "floor", ev: event.Event{Kind: event.Measures, MeasureOp: event.MeasureUpsert, Producer: "Agent_itd_1.0.0",
			Set: agent("a1", "READY", "")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := AgentResync(tt.to, at, tt.ev)
			states := map[string]string{}
			var roster []string
			for _, e := range got {
				if e.Source != tt.to || !e.At.Equal(at) {
					t.Errorf("event %+v: source or time", e)
				}
				switch e.Kind {
				case event.AgentState:
					s := string(e.State)
					if e.Reason != "" {
						s += "/" + e.Reason
					}
					states[e.Agent] = s
				case event.AgentRoster:
					roster = e.Roster
				}
			}
			if tt.roster == nil {
				if len(got) != 0 {
					t.Fatalf("got %d events, want none", len(got))
				}
				return
			}
			if fmt.Sprint(states) != fmt.Sprint(tt.states) || fmt.Sprint(roster) != fmt.Sprint(tt.roster) {
				t.Errorf("states %v roster %v, want %v %v", states, roster, tt.states, tt.roster)
			}
		})
	}
}

// TestAnalyticsAttachToRetargetsMeasures: with attach_to, the measures go
// onto the named engagement source's entities (its queue tiles); without,
// they stay on the analytics source's own.
func TestAnalyticsAttachToRetargetsMeasures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, attach, want string
	}{
		{"attached", "axp-floor", "axp-floor"},
		{"on its own", "", "axp"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := start(t, TypeAnalytics, vendorsim.AXPOptions{}, vendorsim.AXPFaults{}, func(c *config.Source) {
				c.Options.(*Options).AttachTo = tt.attach
			})
			snap := r.waitFor("a measures snapshot", func(e event.Event) bool { return e.Kind == event.Measures })
			if snap.Source != tt.want {
				t.Errorf("measures on source %q, want %q", snap.Source, tt.want)
			}
			q := r.sim.Queues()[0].ID
			r.sim.Do(vendorsim.Action{Kind: vendorsim.ActionCallQueued, Queue: q})
			up := r.waitFor("a LIVE upsert", func(e event.Event) bool {
				return e.Kind == event.Measures && e.MeasureOp == event.MeasureUpsert && e.Set.ID == q
			})
			if up.Source != tt.want {
				t.Errorf("upsert on source %q, want %q", up.Source, tt.want)
			}
			for _, e := range r.sink.All() {
				if e.Kind == event.SourceStatus && e.Source != "axp" {
					t.Errorf("status event on source %q: only measures move", e.Source)
				}
			}
		})
	}
}
