package netsapiens_test

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/wallboard/wallboard/internal/event"
	"github.com/wallboard/wallboard/internal/model"
	"github.com/wallboard/wallboard/internal/vendorsim"
)

// modelDiff applies evs to a real model and lists how it differs from the
// simulation's truth: agent states (and not-ready reasons), and per queue
// waiting, offered, answered and abandoned.
func modelDiff(evs []event.Event, truth vendorsim.Truth) []string {
	m := model.New(model.Options{})
	now := time.Now()
	for _, e := range evs {
		m.Apply(e, now)
	}
	var out []string
	for id, want := range truth.Agents {
		got, ok := m.Agent(model.Key{Source: "ns1", ID: id})
		if !ok && want.State == event.StateLoggedOut {
			continue
		}
		if got.State != want.State || (want.State == event.StateNotReady && got.Reason != want.Reason) {
			out = append(out, fmt.Sprintf("agent %s: %s %q, want %s %q", id, got.State, got.Reason, want.State, want.Reason))
		}
	}
	for id, want := range truth.Queues {
		q, _ := m.Queue(model.Key{Source: "ns1", ID: id})
		got := [4]int{q.Waiting, q.Offered, q.Answered, q.Abandoned}
		if w := [4]int{want.Waiting, want.Offered, want.Answered, want.Abandoned}; got != w {
			out = append(out, fmt.Sprintf("queue %s: waiting/offered/answered/abandoned %v, want %v", id, got, w))
		}
	}
	sort.Strings(out)
	return out
}

// TestBurstsThroughModelMatchSimulation drives the simulation → emulator →
// HTTP → source → real model path the way the soak does: the floor moves
// in steps, then jumps ahead at once (a burst: many actions with the same
// timestamp, batched per model), with duplicate posts on every other
// round and a restart of the source (its translator starts empty, the kept
// subscriptions are reused, the model keeps its state) in the middle. After
// every round the model must equal the simulation's truth.
func TestBurstsThroughModelMatchSimulation(t *testing.T) {
	t.Parallel()
	for _, seed := range []int64{3, 14, 15, 92} {
		t.Run(fmt.Sprintf("seed %d", seed), func(t *testing.T) {
			t.Parallel()
			sim := vendorsim.NewSim(vendorsim.Options{Prefix: "ns", Agents: 10, Queues: 2, Seed: seed, Pace: 3})
			r := newRigSim(t, vendorsim.NetSapiensOptions{}, sim)
			rn := r.start(t, r.config("ns1"), r.st)
			rn.waitStatus(t, event.StatusLive)
			var before []event.Event // events of the sources stopped so far
			now := time.Now()
			var answered int
			for round := 1; round <= 8; round++ {
				if round == 5 {
					rn.stop()
					before = append(before, rn.sink.All()...)
					rn = r.start(t, r.config("ns1"), r.st)
					rn.waitStatus(t, event.StatusLive)
				}
				r.emu.SetFaults(vendorsim.NetSapiensFaults{Duplicate: round%2 == 0})
				for range 5 {
					now = now.Add(time.Second)
					sim.Step(now)
				}
				now = now.Add(time.Duration(10+5*round) * time.Second) // the burst
				sim.Step(now)
				truth := sim.Truth()
				var diff []string
				deadline := time.Now().Add(10 * time.Second)
				for {
					evs := append(slices.Clone(before), rn.sink.All()...)
					if diff = modelDiff(evs, truth); len(diff) == 0 || time.Now().After(deadline) {
						break
					}
					time.Sleep(20 * time.Millisecond)
				}
				if len(diff) > 0 {
					t.Fatalf("round %d: the model does not match the simulation:\n%s", round, strings.Join(diff, "\n"))
				}
				for _, q := range truth.Queues {
					answered = max(answered, q.Answered)
				}
			}
			if answered == 0 {
				t.Error("no call was answered: the rounds did not exercise calls")
			}
		})
	}
}

// TestRestartKnowsQueuesNamedBefore: after a restart the kept agent
// subscription restates nothing (the vendor posts changes only), so the
// queues named in the last run are kept in the state directory; a call to
// one of them counts at once even when only another queue's agent changed
// since.
func TestRestartKnowsQueuesNamedBefore(t *testing.T) {
	t.Parallel()
	r := newRig(t, vendorsim.NetSapiensOptions{})
	rn := r.start(t, r.config("ns1"), r.st)
	rn.waitStatus(t, event.StatusLive)
	rn.sink.WaitForAll(t, "both queues named", func(evs []event.Event) bool {
		named := map[string]bool{}
		for _, e := range evs {
			if e.Kind == event.QueueInfo {
				named[e.Queue] = true
			}
		}
		return named["nsq100"] && named["nsq101"]
	})
	rn.stop()

	rn = r.start(t, r.config("ns1"), r.st)
	rn.waitStatus(t, event.StatusLive)
	// ns003 serves nsq100 only: the new translator hears of that queue.
	r.sim.Do(vendorsim.Action{Kind: vendorsim.ActionAgentState, Agent: "nsag003", State: event.StateAvailable})
	rn.sink.WaitForAll(t, "nsag003's state", func(evs []event.Event) bool {
		return slices.ContainsFunc(evs, func(e event.Event) bool { return e.Kind == event.AgentState && e.Agent == "nsag003" })
	})
	r.sim.Do(vendorsim.Action{Kind: vendorsim.ActionCallQueued, Queue: "nsq101"})
	rn.sink.WaitForAll(t, "the call to nsq101 queued", func(evs []event.Event) bool {
		return slices.ContainsFunc(evs, func(e event.Event) bool { return e.Kind == event.ContactQueued && e.Queue == "nsq101" })
	})
}
