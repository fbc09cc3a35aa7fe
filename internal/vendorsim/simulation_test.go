package vendorsim

import (
	"testing"
	"time"

	"github.com/wallboard/wallboard/internal/event"
)

// replay rebuilds queue figures and agent states from actions alone, the way
// an emulator and then wallboard see them.
type replay struct {
	agents  map[string]TruthAgent
	queues  map[string]*TruthQueue
	waiting map[string]map[string]time.Time // queue → call → queuedAt
	answer  map[string]time.Time
}

func (r *replay) apply(a Action, sl time.Duration) {
	q := r.queues[a.Queue]
	if q == nil && a.Queue != "" {
		q = &TruthQueue{}
		r.queues[a.Queue] = q
		r.waiting[a.Queue] = map[string]time.Time{}
	}
	switch a.Kind {
	case ActionAgentState:
		r.agents[a.Agent] = TruthAgent{State: a.State, Reason: a.Reason, Since: a.At}
	case ActionCallQueued:
		q.Offered++
		r.waiting[a.Queue][a.Call] = a.QueuedAt
	case ActionCallOffered:
		delete(r.waiting[a.Queue], a.Call)
	case ActionCallRejected:
		r.waiting[a.Queue][a.Call] = a.QueuedAt
	case ActionCallAnswered:
		q.Answered++
		if a.At.Sub(a.QueuedAt) <= sl {
			q.AnsweredInSL++
		}
		r.answer[a.Call] = a.At
	case ActionCallAbandoned:
		q.Abandoned++
		delete(r.waiting[a.Queue], a.Call)
	case ActionCallEnded:
		q.Handled++
		q.HandleTotal += a.At.Sub(r.answer[a.Call])
	}
}

func TestSimActionsReproduceTruth(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	sim := NewSim(Options{Agents: 20, Queues: 3, Seed: 7, Pace: 2, Now: func() time.Time { return start }})
	sub := sim.Subscribe()
	defer sub.Close()
	got := make(chan replay)
	go func() {
		r := replay{agents: map[string]TruthAgent{}, queues: map[string]*TruthQueue{},
			waiting: map[string]map[string]time.Time{}, answer: map[string]time.Time{}}
		for a := range sub.C() {
			if a.Kind == 0 { // end marker
				break
			}
			r.apply(a, 20*time.Second)
		}
		got <- r
	}()
	for now := start; now.Before(start.Add(30 * time.Minute)); now = now.Add(200 * time.Millisecond) {
		sim.Step(now)
	}
	sim.Do(Action{Kind: ActionAgentState, Agent: "ag001", State: event.StateNotReady, Reason: "Meeting"})
	truth := sim.Truth()
	sub.push(Action{}) // end marker after everything else
	r := <-got

	var offered int
	for id, tq := range truth.Queues {
		rq := r.queues[id]
		if rq == nil {
			t.Fatalf("queue %s: no actions", id)
		}
		offered += tq.Offered
		if tq.Offered != rq.Offered || tq.Answered != rq.Answered || tq.Abandoned != rq.Abandoned ||
			tq.AnsweredInSL != rq.AnsweredInSL || tq.Handled != rq.Handled || tq.HandleTotal != rq.HandleTotal {
			t.Errorf("queue %s: truth %+v, replayed %+v", id, tq, *rq)
		}
		if tq.Waiting != len(r.waiting[id]) {
			t.Errorf("queue %s: truth waiting %d, replayed %d", id, tq.Waiting, len(r.waiting[id]))
		}
	}
	if offered < 100 {
		t.Errorf("only %d calls in 30 simulated minutes; the floor is too quiet", offered)
	}
	for id, ta := range truth.Agents {
		if ra, ok := r.agents[id]; ok && ra != ta {
			t.Errorf("agent %s: truth %+v, replayed %+v", id, ta, ra)
		}
	}
	if a := truth.Agents["ag001"]; a.State != event.StateNotReady || a.Reason != "Meeting" {
		t.Errorf("Do did not apply: %+v", a)
	}
}

func TestSimIsDeterministic(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	run := func() Truth {
		sim := NewSim(Options{Seed: 42, Now: func() time.Time { return start }})
		for now := start; now.Before(start.Add(10 * time.Minute)); now = now.Add(time.Second) {
			sim.Step(now)
		}
		return sim.Truth()
	}
	a, b := run(), run()
	for id := range a.Queues {
		if a.Queues[id] != b.Queues[id] {
			t.Errorf("queue %s differs between runs: %+v vs %+v", id, a.Queues[id], b.Queues[id])
		}
	}
}
