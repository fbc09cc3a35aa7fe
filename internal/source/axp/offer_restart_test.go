package axp

import (
	"context"
	"testing"
	"time"

	"github.com/wallboard/wallboard/internal/config"
	"github.com/wallboard/wallboard/internal/event"
	"github.com/wallboard/wallboard/internal/source"
	"github.com/wallboard/wallboard/internal/source/sourcetest"
	"github.com/wallboard/wallboard/internal/vendorsim"
)

// superviseSource runs one source built from cfg until the returned stop is
// called; the emulator outlives it (a restart of wallboard, not of the vendor).
func superviseSource(t *testing.T, cfg config.Source) (*sink, func()) {
	t.Helper()
	src, err := New(cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	sk := sourcetest.NewSink()
	rep := source.NewReporter(cfg.Name, cfg.Type, sk, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		source.Supervise(ctx, src, rep, source.Backoff{Min: 20 * time.Millisecond, Max: 100 * time.Millisecond,
			Jitter: -1, FailedRetry: time.Hour})
	}()
	stop := func() { cancel(); <-done }
	t.Cleanup(stop)
	return sk, stop
}

// next reads sk on until ok accepts an event, and returns what it read.
func next(t *testing.T, sk *sink, what string, ok func(event.Event) bool) []event.Event {
	t.Helper()
	return sk.Next(t, what, ok)
}

// TestOfferEndsUnansweredAfterRestart is the soak's "agent stays offered"
// case: wallboard restarts while an agent rings, so its new translator never
// saw the offer; the floor then moves on at once (the offer goes unanswered,
// the call is routed again, the agent is ready). The agent must not stay
// offered: the vendor states its AgentState afresh after the unanswered
// offer, and that alone must bring it back.
func TestOfferEndsUnansweredAfterRestart(t *testing.T) {
	t.Parallel()
	sim := vendorsim.NewSim(vendorsim.Options{Prefix: "t", Agents: 6, Queues: 2, Seed: 5, Pace: 3})
	emu, err := vendorsim.StartAXP(sim, vendorsim.AXPOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(emu.Close)
	cfg := emu.SourceConfig("axp", TypeEngagement)
	live := func(e event.Event) bool { return e.Kind == event.SourceStatus && e.Status == event.StatusLive }

	sk, stop := superviseSource(t, cfg)
	next(t, sk, "live", live)
	var agent string
	for now, i := time.Now(), 1; agent == "" && i <= 600; i++ {
		sim.Step(now.Add(time.Duration(i) * 250 * time.Millisecond))
		for id, a := range sim.Truth().Agents {
			if a.State == event.StateOffered && (agent == "" || id < agent) {
				agent = id
			}
		}
	}
	if agent == "" {
		t.Fatal("no agent was offered a call in 150 simulated seconds")
	}
	next(t, sk, agent+" offered", func(e event.Event) bool {
		return e.Kind == event.AgentState && e.Agent == agent && e.State == event.StateOffered
	})
	stop()

	// Restarted: a new source (a new translator) on the same vendor.
	sk, _ = superviseSource(t, cfg)
	next(t, sk, "live after the restart", live)
	// The forced state releases the ringing call unanswered (the call is
	// routed again, the agent is available); a new call after it marks the
	// end of what that caused, as frames arrive in order.
	sim.Do(vendorsim.Action{Kind: vendorsim.ActionAgentState, Agent: agent, State: event.StateAvailable})
	marker := sim.Queues()[0].ID
	sim.Do(vendorsim.Action{Kind: vendorsim.ActionCallQueued, Queue: marker})
	if got := sim.Truth().Agents[agent].State; got != event.StateAvailable {
		t.Fatalf("the simulation has %s %s, want available", agent, got)
	}
	var calls int
	seen := next(t, sk, "the marker call", func(e event.Event) bool {
		if e.Kind == event.ContactQueued {
			calls++
		}
		return calls == 2 // the released call queued again, then the marker
	})
	last := event.State("none")
	for _, e := range seen {
		if e.Kind == event.AgentState && e.Agent == agent {
			last = e.State
		}
	}
	if last != event.StateAvailable {
		t.Errorf("after the unanswered offer %s shows %s (last agent state from the source), want available; events %s",
			agent, last, evs(seen))
	}
}
