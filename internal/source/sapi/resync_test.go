package sapi

import (
	"net/http"
	"testing"
	"time"

	"github.com/wallboard/wallboard/internal/config"
	"github.com/wallboard/wallboard/internal/event"
	"github.com/wallboard/wallboard/internal/model"
	"github.com/wallboard/wallboard/internal/vendorsim"
)

// changeAgents logs out up to n logged-in agents of sim and logs in the
// logged-out ones, as happens while nobody listens; it returns how many
// changed.
func changeAgents(sim *vendorsim.Sim, n int) int {
	changed := 0
	for _, a := range sim.Agents() {
		if changed == n {
			break
		}
		st := event.StateLoggedOut
		if sim.Truth().Agents[a.ID].State == event.StateLoggedOut {
			st = event.StateAvailable
		}
		sim.Do(vendorsim.Action{Kind: vendorsim.ActionAgentState, Agent: a.ID, State: st})
		changed++
	}
	return changed
}

// modelMatches applies what the source emitted to a model, as wallboard
// does (stale updates ignored, the roster logging out the unlisted), and
// reports whether its agents equal the simulation's truth.
func modelMatches(sim *vendorsim.Sim, name string) func([]event.Event) bool {
	return func(evs []event.Event) bool {
		m := model.New(model.Options{Sources: []string{name}})
		now := time.Now()
		for _, e := range evs {
			e.Source = name
			m.Apply(e, now)
		}
		for id, want := range sim.Truth().Agents {
			got, ok := m.Agent(model.Key{Source: name, ID: id})
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
}

// TestResyncFromAgentStatus runs the source against the emulator as 8x8
// documents SAPI (no provisioning prelude on a new subscription) with the
// emulator's agent status API over HTTP: the first session reads every
// agent's state from it; a session after a disconnection longer than
// resync_after, whose subscription the vendor forgot (no backlog), reads
// it again and the agents changed meanwhile are right; a short drop, which
// the subscription's replay covers, reads nothing.
func TestResyncFromAgentStatus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		wantReads int64
	}{
		{name: "start", wantReads: 1},
		{name: "short drop", wantReads: 1},
		{name: "long disconnection", wantReads: 2},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// Real time: the listing is as of now, and the stream's
			// events before it are older.
			start := time.Now().Add(-time.Minute)
			sim := vendorsim.NewSim(vendorsim.Options{Prefix: "t", Agents: 8, Queues: 2, Seed: int64(60 + i), Pace: 4,
				Now: func() time.Time { return start }})
			for s := range 40 { // the floor is busy before anyone listens
				sim.Step(start.Add(time.Duration(s) * time.Second))
			}
			srv := newServer(t, sim, vendorsim.SAPIOptions{NoPrelude: true})
			cfg := cfgOf(srv, "rs", "json")
			o := cfg.Options.(*Options)
			o.AgentStatusURL, o.AgentStatusToken = srv.URL(), config.Secret(srv.StatusToken())
			o.ResyncAfter = config.Duration(time.Second)
			sk := newSink()
			r := supervise(t, cfg, sk)
			in := 0
			for _, a := range sim.Truth().Agents {
				if a.State != event.StateLoggedOut {
					in++
				}
			}
			if in == 0 {
				t.Fatal("nobody logged in: the test proves little")
			}
			matches := modelMatches(sim, "rs")
			sk.WaitFor(t, "the agents from the agent status API", func(evs []event.Event) bool { return srv.StatusReads() > 0 && matches(evs) })
			if got := srv.StatusReads(); got != 1 {
				t.Fatalf("agent status reads after the start = %d, want 1", got)
			}
			switch tt.name {
			case "short drop":
				srv.Drop()
				sk.WaitFor(t, "reconnect", func([]event.Event) bool { return srv.Connects() >= 2 })
				later := time.Now().Add(2 * time.Second)
				for s := range 10 {
					sim.Step(later.Add(time.Duration(s) * time.Second))
				}
				sk.WaitFor(t, "truth through the stream", modelMatches(sim, "rs"))
			case "long disconnection":
				srv.Refuse(http.StatusServiceUnavailable)
				srv.Drop()
				sk.WaitFor(t, "the subscription forgotten", func([]event.Event) bool { return srv.Expire() > 0 })
				if changeAgents(sim, 3) != 3 {
					t.Fatal("no agents to change while disconnected")
				}
				time.Sleep(1200 * time.Millisecond) // longer than resync_after
				sk.WaitFor(t, "the changes in the emulator's log", func([]event.Event) bool { return srv.Settled() })
				if modelMatches(sim, "rs")(sk.Events()) {
					t.Fatal("the board matches before the resync: the test proves nothing")
				}
				srv.Refuse(0)
				sk.WaitFor(t, "the changes missed, from the agent status API", modelMatches(sim, "rs"))
			}
			if got := srv.StatusReads(); got != tt.wantReads {
				t.Errorf("agent status reads = %d, want %d", got, tt.wantReads)
			}
			if st := r.rep.Stats(); tt.name != "start" && st.Reconnects < 1 {
				t.Errorf("reconnects = %d", st.Reconnects)
			}
		})
	}
}
