package axp

import (
	"context"
	"testing"
	"time"

	"github.com/wallboard/wallboard/internal/config"
	"github.com/wallboard/wallboard/internal/event"
	"github.com/wallboard/wallboard/internal/model"
	"github.com/wallboard/wallboard/internal/source"
	"github.com/wallboard/wallboard/internal/source/sourcetest"
	"github.com/wallboard/wallboard/internal/vendorsim"
)

// TestEngagementReconnectRereadsAgents runs an engagement source and an
// analytics source attached to it (agent producer) into one sink, as
// wallboard runs them into its model, against the emulator over real
// sockets. The engagement socket is dropped and refused for a while
// (Avaya replays nothing to it) while agents log in and out, which only
// the analytics socket hears; when the engagement source connects again,
// the agents are re-read from the analytics agent measures, and the model
// equals the truth. A drop that changes nothing re-reads too (cheaply,
// from memory), and without an attached analytics source nothing happens.
func TestEngagementReconnectRereadsAgents(t *testing.T) {
	t.Parallel()
	sim := vendorsim.NewSim(vendorsim.Options{Prefix: "t", Agents: 12, Queues: 2, Seed: 7, Pace: 0.2})
	emu, err := vendorsim.StartAXP(sim, vendorsim.AXPOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer emu.Close()
	eng := emu.SourceConfig("floor", TypeEngagement)
	stats := emu.SourceConfig("stats", TypeAnalytics)
	so := stats.Options.(*Options)
	so.AttachTo, so.MeasureProducers, so.InitSettle = "floor", []string{"Agent_itd_1.0.0"}, config.Duration(150*time.Millisecond)
	sk := sourcetest.NewSink()
	ctx, cancel := context.WithCancel(context.Background())
	var srcs []*Source
	var reps []*source.Reporter
	done := make(chan struct{}, 2)
	for _, cfg := range []config.Source{eng, stats} {
		src, err := New(cfg, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		rep := source.NewReporter(cfg.Name, cfg.Type, sk, nil)
		srcs, reps = append(srcs, src), append(reps, rep)
		go func() {
			defer func() { done <- struct{}{} }()
			source.Supervise(ctx, src, rep, source.Backoff{Min: 20 * time.Millisecond, Max: 100 * time.Millisecond, Jitter: -1})
		}()
	}
	defer func() { cancel(); <-done; <-done }()
	matches := func() bool {
		m := model.New(model.Options{Sources: []string{"floor", "stats"}})
		now := time.Now()
		for _, e := range sk.Events() {
			m.Apply(e, now)
		}
		for id, want := range sim.Truth().Agents {
			got, ok := m.Agent(model.Key{Source: "floor", ID: id})
			if want.State == event.StateLoggedOut {
				if ok && got.State != event.StateLoggedOut {
					return false
				}
				continue
			}
			if !ok || got.State != want.State || (want.State == event.StateNotReady && got.Reason != want.Reason) {
				return false
			}
		}
		return true
	}
	live := func(i int) func() bool {
		return func() bool { return reps[i].Stats().Status == event.StatusLive }
	}
	sourcetest.Wait(t, sk, "both live", func() bool { return live(0)() && live(1)() && srcs[1].Counters().Snapshots > 0 })
	sourcetest.Wait(t, sk, "the truth", matches)

	// A short drop: nothing changed, the agents are re-read all the same.
	emu.DropFamily(FamilyEngagement)
	sourcetest.Wait(t, sk, "one re-read", func() bool { return srcs[1].Counters().Rereads == 1 })
	sourcetest.Wait(t, sk, "the truth after the drop", matches)

	// A long one, agents changing meanwhile.
	emu.SetFaults(vendorsim.AXPFaults{AuthStatus: StatusInternalError, AuthStatusCount: -1, AuthStatusFamily: FamilyEngagement})
	emu.DropFamily(FamilyEngagement)
	sourcetest.Wait(t, sk, "the engagement source down", func() bool { return !live(0)() })
	changed := 0
	for _, a := range sim.Agents() {
		if changed == 4 {
			break
		}
		st := event.StateLoggedOut
		if sim.Truth().Agents[a.ID].State == event.StateLoggedOut {
			st = event.StateAvailable
		}
		sim.Do(vendorsim.Action{Kind: vendorsim.ActionAgentState, Agent: a.ID, State: st})
		changed++
	}
	// The analytics socket hears them (LIVE upserts of the agents' sets).
	sourcetest.Wait(t, sk, "the changes in the agent measures", func() bool {
		srcs[1].mu.Lock()
		defer srcs[1].mu.Unlock()
		for id, want := range sim.Truth().Agents {
			got := srcs[1].mirror["Agent_itd_1.0.0"][id]["agentState"]
			// A logout deletes the agent's set.
			if (want.State == event.StateLoggedOut) != (got == "" || got == "LOGGED_OUT") {
				return false
			}
		}
		return true
	})
	if matches() {
		t.Fatal("the model matches before the engagement source is back: the test proves nothing")
	}
	emu.SetFaults(vendorsim.AXPFaults{})
	sourcetest.Wait(t, sk, "the agents re-read after the reconnect", matches)
	if n := srcs[1].Counters().Rereads; n != 2 {
		t.Errorf("re-reads %d, want 2", n)
	}
}
