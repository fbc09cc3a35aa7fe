package axp

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wallboard/wallboard/internal/config"
	"github.com/wallboard/wallboard/internal/event"
	"github.com/wallboard/wallboard/internal/source"
	"github.com/wallboard/wallboard/internal/store"
	"github.com/wallboard/wallboard/internal/vendorsim"
)

// sink collects every published event (the boundary to the model).
type sink struct {
	ch chan event.Event
}

func (s *sink) Publish(ctx context.Context, evs ...event.Event) error {
	for _, e := range evs {
		select {
		case s.ch <- e:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

type rig struct {
	t    *testing.T
	sim  *vendorsim.Sim
	emu  *vendorsim.AXPServer
	src  *Source
	rep  *source.Reporter
	sink *sink
	stop func()
	st   *store.Dir
}

// start runs a source of typ against a fresh emulator (with faults set
// before the first connection), supervised with short backoffs, and stops
// both at the end of the test.
func start(t *testing.T, typ string, o vendorsim.AXPOptions, f vendorsim.AXPFaults, edit func(*config.Source)) *rig {
	t.Helper()
	sim := vendorsim.NewSim(vendorsim.Options{Prefix: "t", Agents: 12, Queues: 2, Seed: 7, Pace: 0.2})
	emu, err := vendorsim.StartAXP(sim, o)
	if err != nil {
		t.Fatal(err)
	}
	emu.SetFaults(f)
	cfg := emu.SourceConfig("axp", typ)
	if typ == config.TypeAvayaAnalytics {
		cfg.InitSettle = config.Duration(150 * time.Millisecond)
	}
	if edit != nil {
		edit(&cfg)
	}
	return run(t, sim, emu, cfg)
}

// waitFor reads events until one satisfies ok.
func (r *rig) waitFor(what string, ok func(event.Event) bool) event.Event {
	r.t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case e := <-r.sink.ch:
			if ok(e) {
				return e
			}
		case <-timeout:
			r.t.Fatalf("timed out waiting for %s (stats %+v)", what, r.rep.Stats())
			return event.Event{}
		}
	}
}

func (r *rig) waitStatus(st event.Status, detail string) event.Event {
	r.t.Helper()
	return r.waitFor("status "+string(st)+" "+detail, func(e event.Event) bool {
		return e.Kind == event.SourceStatus && e.Status == st && strings.Contains(e.Detail, detail)
	})
}

// eventually polls cond for a few seconds.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestEngagementFollowsTheSimulation(t *testing.T) {
	t.Parallel()
	r := start(t, config.TypeAvayaEngagement, vendorsim.AXPOptions{}, vendorsim.AXPFaults{}, nil)
	r.waitStatus(event.StatusLive, "")
	stats := r.emu.Stats()
	if stats.Creates != 1 || stats.Confirmed != 1 {
		t.Fatalf("creates %d confirmed %d", stats.Creates, stats.Confirmed)
	}
	if got := stats.LastCreate["family"]; got != "AGENT_ENGAGEMENT" {
		t.Errorf("family %v", got)
	}
	if ev, _ := stats.LastCreate["events"].([]any); len(ev) != 1 || ev[0] != "ALL" {
		t.Errorf("events %v", stats.LastCreate["events"])
	}

	// Let the simulation run for simulated minutes; collect what wallboard would show.
	states := map[string]event.Event{}
	kinds := map[event.Kind]int{}
	var mu sync.Mutex
	collect := make(chan struct{})
	stopCollect := make(chan struct{})
	go func() {
		defer close(collect)
		for {
			select {
			case e := <-r.sink.ch:
				mu.Lock()
				kinds[e.Kind]++
				if e.Kind == event.AgentState {
					states[e.Agent] = e
				}
				mu.Unlock()
			case <-stopCollect:
				return
			}
		}
	}()
	// Compare at several checkpoints, so that agents are seen in many states.
	seen := map[event.State]int{}
	now := time.Now()
	for i := 1; i <= 600; i++ {
		r.sim.Step(now.Add(time.Duration(i) * time.Second))
		if i%60 != 0 {
			continue
		}
		truth := r.sim.Truth()
		for _, a := range truth.Agents {
			seen[a.State]++
		}
		eventually(t, "agent states match the simulation", func() bool {
			mu.Lock()
			defer mu.Unlock()
			for id, a := range truth.Agents {
				e, ok := states[id]
				if a.State == event.StateLoggedOut && !ok {
					continue
				}
				if !ok || e.State != a.State || (a.State == event.StateNotReady && e.Reason != a.Reason) {
					return false
				}
			}
			return true
		})
	}
	close(stopCollect)
	<-collect
	t.Logf("events by kind %v; true states %v", kinds, seen)
	if len(seen) < 4 {
		t.Errorf("the checkpoints saw too few distinct states (%v): the comparison proves little", seen)
	}
	for _, k := range []event.Kind{event.AgentInfo, event.QueueInfo, event.ContactQueued, event.ContactOffered,
		event.ContactAnswered, event.ContactEnded} {
		if kinds[k] == 0 {
			t.Errorf("no %s event in ten simulated minutes", k)
		}
	}
	if n := r.emu.Stats().MissingAppKey; n != 0 {
		t.Errorf("%d calls without the appkey header", n)
	}
	if c := r.src.Counters(); c.UnknownEvents != 0 || c.UnknownFields != 0 {
		t.Errorf("the emulator's frames counted unknown: %+v", c)
	}
}

func TestAuthenticationStatuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		faults  vendorsim.AXPFaults
		status  event.Status
		detail  string
		creates int
		check   func(t *testing.T, r *rig)
	}{
		{name: "invalid token once: a new token, then live", status: event.StatusLive, creates: 1,
			faults: vendorsim.AXPFaults{AuthStatus: StatusInvalidToken, AuthStatusCount: 1},
			check: func(t *testing.T, r *rig) {
				if c := r.src.Counters(); c.Reauths != 1 {
					t.Errorf("reauths %d", c.Reauths)
				}
				if n := r.emu.Stats().TokenCalls; n < 2 {
					t.Errorf("token calls %d, want a second token", n)
				}
			}},
		{name: "invalid token always: failed", status: event.StatusFailed, detail: StatusInvalidToken, creates: 1,
			faults: vendorsim.AXPFaults{AuthStatus: StatusInvalidToken, AuthStatusCount: -1}},
		{name: "unknown subscription: created again", status: event.StatusLive, creates: 2,
			faults: vendorsim.AXPFaults{AuthStatus: StatusUnknownSubscription, AuthStatusCount: 1}},
		{name: "internal error: backs off and retries", status: event.StatusLive, creates: 1,
			faults: vendorsim.AXPFaults{AuthStatus: StatusInternalError, AuthStatusCount: 2},
			check: func(t *testing.T, r *rig) {
				if n := r.emu.Stats().AuthStatuses[StatusInternalError]; n != 2 {
					t.Errorf("internal errors answered %d", n)
				}
				if s := r.rep.Stats(); s.Reconnects != 2 || !strings.Contains(s.LastError, StatusInternalError) {
					t.Errorf("reconnects %d last error %q", s.Reconnects, s.LastError)
				}
			}},
		{name: "constraint violation: failed", status: event.StatusFailed, detail: StatusConstraintViolation, creates: 1,
			faults: vendorsim.AXPFaults{AuthStatus: StatusConstraintViolation, AuthStatusCount: -1}},
		{name: "upper-case AUTHENTICATION_RESPONSE", status: event.StatusLive, creates: 1,
			faults: vendorsim.AXPFaults{UpperCaseAuth: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := start(t, config.TypeAvayaEngagement, vendorsim.AXPOptions{}, tt.faults, nil)
			r.waitStatus(tt.status, tt.detail)
			if n := r.emu.Stats().Creates; n != tt.creates {
				t.Errorf("subscriptions created %d, want %d", n, tt.creates)
			}
			if tt.check != nil {
				tt.check(t, r)
			}
		})
	}
}

// run supervises a source built from cfg against emu.
func run(t *testing.T, sim *vendorsim.Sim, emu *vendorsim.AXPServer, cfg config.Source) *rig {
	t.Helper()
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	src, err := New(cfg, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	sk := &sink{ch: make(chan event.Event, 100000)}
	rep := source.NewReporter(cfg.Name, cfg.Type, sk, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		source.Supervise(ctx, src, rep, source.Backoff{Min: 20 * time.Millisecond, Max: 100 * time.Millisecond,
			Jitter: -1, FailedRetry: time.Hour})
	}()
	var once sync.Once
	r := &rig{t: t, sim: sim, emu: emu, src: src, rep: rep, sink: sk, st: st}
	r.stop = func() {
		once.Do(func() {
			cancel()
			<-done
			emu.Close()
		})
	}
	t.Cleanup(r.stop)
	return r
}
