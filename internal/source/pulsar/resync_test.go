package pulsar

import (
	"net/http"
	"testing"
	"time"

	"github.com/wallboard/wallboard/internal/config"
	"github.com/wallboard/wallboard/internal/event"
	"github.com/wallboard/wallboard/internal/model"
	"github.com/wallboard/wallboard/internal/vendorsim"
)

// modelMatches applies what the source emitted to a model, as wallboard
// does (stale updates ignored, the roster logging out the unlisted), and
// reports whether its agents equal the simulation's truth.
func modelMatches(sim *vendorsim.Sim, name string, sk *sink) func() bool {
	return func() bool {
		m := model.New(model.Options{Sources: []string{name}})
		now := time.Now()
		for _, e := range sk.Events() {
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

// TestResyncFromAgentStatus runs a reader that starts at "latest" (the
// default: the topic's provisioning and history are not read) and a
// consumer against the emulator's proxy and agent status API over HTTP:
// the first session reads every agent's state from the API; a session
// after a disconnection longer than resync_after, during which the topic
// lost what was published (retention), reads it again and the agents
// changed meanwhile are right; a short drop, which the cursor covers,
// reads nothing.
func TestResyncFromAgentStatus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		mode      string
		long      bool // else a short drop
		wantReads int64
	}{
		{name: "reader, short drop", mode: "reader", wantReads: 1},
		{name: "reader, long disconnection", mode: "reader", long: true, wantReads: 2},
		{name: "consumer, long disconnection", mode: "consumer", long: true, wantReads: 2},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			t0 := time.Now().Add(-time.Minute)
			sim := vendorsim.NewSim(vendorsim.Options{Prefix: "p", Agents: 8, Queues: 2, Seed: int64(80 + i), Pace: 4,
				Now: func() time.Time { return t0 }})
			for s := range 40 { // the floor is busy before anyone listens
				sim.Step(t0.Add(time.Duration(s) * time.Second))
			}
			srv := newServer(t, sim, vendorsim.PulsarOptions{})
			cfg := srv.SourceConfig("rs")
			o := cfg.Options.(*Options)
			o.InitialPosition, o.Mode, o.Subscription = "latest", tt.mode, "wallboard"
			o.ResyncAfter = config.Duration(time.Second)
			sk := newSink()
			start(t, cfg, nil, sk, nil)
			in := 0
			for _, a := range sim.Truth().Agents {
				if a.State != event.StateLoggedOut {
					in++
				}
			}
			if in == 0 {
				t.Fatal("nobody logged in: the test proves little")
			}
			matches := modelMatches(sim, "rs", sk)
			waitFor(t, sk, "the agents from the agent status API", func() bool { return srv.StatusReads() > 0 && matches() })
			if got := srv.StatusReads(); got != 1 {
				t.Fatalf("agent status reads after the start = %d, want 1", got)
			}
			if !tt.long {
				srv.Drop()
				waitFor(t, sk, "reconnect", func() bool { return srv.Connects() >= 2 })
				later := time.Now().Add(2 * time.Second)
				for s := range 10 {
					sim.Step(later.Add(time.Duration(s) * time.Second))
				}
				waitFor(t, sk, "truth through the stream", modelMatches(sim, "rs", sk))
			} else {
				srv.Refuse(http.StatusServiceUnavailable)
				srv.Drop()
				changed := 0
				for _, a := range sim.Agents() {
					if changed == 3 {
						break
					}
					st := event.StateLoggedOut
					if sim.Truth().Agents[a.ID].State == event.StateLoggedOut {
						st = event.StateAvailable
					}
					sim.Do(vendorsim.Action{Kind: vendorsim.ActionAgentState, Agent: a.ID, State: st})
					changed++
				}
				waitFor(t, sk, "the changes in the topic", srv.Settled)
				srv.Expire()
				time.Sleep(1200 * time.Millisecond) // longer than resync_after
				if modelMatches(sim, "rs", sk)() {
					t.Fatal("the board matches before the resync: the test proves nothing")
				}
				srv.Refuse(0)
				waitFor(t, sk, "the changes missed, from the agent status API", modelMatches(sim, "rs", sk))
			}
			if got := srv.StatusReads(); got != tt.wantReads {
				t.Errorf("agent status reads = %d, want %d", got, tt.wantReads)
			}
		})
	}
}
