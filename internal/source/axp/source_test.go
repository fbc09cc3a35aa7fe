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
	"github.com/wallboard/wallboard/internal/source/sourcetest"
	"github.com/wallboard/wallboard/internal/store"
	"github.com/wallboard/wallboard/internal/vendorsim"
)

// sink collects every published event (the boundary to the model).
type sink = sourcetest.Sink

type rig struct {
	t    *testing.T
	sim  *vendorsim.Sim
	emu  *vendorsim.AXPServer
	src  *Source
	rep  *source.Reporter
	sink *sink
	stop func()
	st   source.Store
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
	if typ == TypeAnalytics {
		cfg.Options.(*Options).InitSettle = config.Duration(150 * time.Millisecond)
	}
	if edit != nil {
		edit(&cfg)
	}
	return run(t, sim, emu, cfg)
}

// waitFor reads on until an event satisfies ok, and returns it.
func (r *rig) waitFor(what string, ok func(event.Event) bool) event.Event {
	r.t.Helper()
	read := r.sink.Next(r.t, what, ok)
	return read[len(read)-1]
}

func (r *rig) waitStatus(st event.Status, detail string) event.Event {
	r.t.Helper()
	return r.waitFor("status "+string(st)+" "+detail, func(e event.Event) bool {
		// Screens get the status's summary; the detail is the reporter's.
		return e.Kind == event.SourceStatus && e.Status == st && strings.Contains(r.rep.Stats().Detail, detail)
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
	r := start(t, TypeEngagement, vendorsim.AXPOptions{}, vendorsim.AXPFaults{}, nil)
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

	// Let the simulation run for simulated minutes; what wallboard would
	// show is the last state event per agent.
	collected := func() (states map[string]event.Event, kinds map[event.Kind]int) {
		states, kinds = map[string]event.Event{}, map[event.Kind]int{}
		for _, e := range r.sink.All() {
			kinds[e.Kind]++
			if e.Kind == event.AgentState {
				states[e.Agent] = e
			}
		}
		return states, kinds
	}
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
			states, _ := collected()
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
	_, kinds := collected()
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
		{name: "unknown subscription once: renewed, then live", status: event.StatusLive, creates: 1,
			faults: vendorsim.AXPFaults{AuthStatus: StatusUnknownSubscription, AuthStatusCount: 1},
			check: func(t *testing.T, r *rig) {
				if n := r.emu.Stats().Renewals; n != 1 {
					t.Errorf("renewals %d", n)
				}
			}},
		{name: "unknown subscription twice: created again", status: event.StatusLive, creates: 2,
			faults: vendorsim.AXPFaults{AuthStatus: StatusUnknownSubscription, AuthStatusCount: 2}},
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
			r := start(t, TypeEngagement, vendorsim.AXPOptions{}, tt.faults, nil)
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
	sk := sourcetest.NewSink()
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

func TestTokensAndSubscriptionRenewedBeforeExpiry(t *testing.T) {
	t.Parallel()
	r := start(t, TypeEngagement, vendorsim.AXPOptions{TokenLifetime: 3 * time.Second,
		SubscriptionLifetime: 4 * time.Second}, vendorsim.AXPFaults{}, nil)
	r.waitStatus(event.StatusLive, "")
	// The emulator counts a renewal when it gets the request, the source when
	// it gets the answer: wait for both.
	eventually(t, "two renewals", func() bool { return r.emu.Stats().Renewals >= 2 && r.src.Counters().Renewals >= 2 })
	s := r.emu.Stats()
	t.Logf("emulator stats %+v", s)
	if s.RenewedAfterExpiry != 0 || s.Expired != 0 {
		t.Errorf("renewed after expiry %d, expired %d", s.RenewedAfterExpiry, s.Expired)
	}
	if s.TokensRejected != 0 {
		t.Errorf("%d calls used an expired token", s.TokensRejected)
	}
	if s.TokenCalls < 2 {
		t.Errorf("token calls %d: tokens were not refreshed", s.TokenCalls)
	}
	if s.Sockets != 1 || s.Creates != 1 {
		t.Errorf("sockets %d creates %d: renewal must keep the session", s.Sockets, s.Creates)
	}
	if c := r.src.Counters(); c.Renewals < 2 {
		t.Errorf("source counted %d renewals", c.Renewals)
	}
}

func TestPings(t *testing.T) {
	t.Parallel()
	t.Run("JSON pings inside pingInterval keep the session", func(t *testing.T) {
		t.Parallel()
		r := start(t, TypeEngagement, vendorsim.AXPOptions{PingInterval: time.Second}, vendorsim.AXPFaults{}, nil)
		r.waitStatus(event.StatusLive, "")
		eventually(t, "five pongs", func() bool { return r.emu.Stats().Pongs >= 5 })
		if s := r.emu.Stats(); s.PingTimeouts != 0 || s.Sockets != 1 {
			t.Errorf("ping timeouts %d sockets %d", s.PingTimeouts, s.Sockets)
		}
	})
	t.Run("a missing pong is a dead connection", func(t *testing.T) {
		t.Parallel()
		r := start(t, TypeEngagement, vendorsim.AXPOptions{PingInterval: time.Second},
			vendorsim.AXPFaults{NoPongs: true}, nil)
		r.waitStatus(event.StatusLive, "")
		r.waitStatus(event.StatusDegraded, "no pong")
		eventually(t, "a second socket", func() bool { return r.emu.Stats().Sockets >= 2 })
		if s := r.emu.Stats(); s.Creates != 1 {
			t.Errorf("creates %d: a dead socket keeps its subscription", s.Creates)
		}
	})
}

func TestRecovery(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		fault   func(e *vendorsim.AXPServer)
		creates int
		check   func(t *testing.T, r *rig)
	}{
		{"dropped socket reconnects with the same subscription", (*vendorsim.AXPServer).DropSockets, 1, nil},
		{"forgotten subscription is created again", (*vendorsim.AXPServer).ForgetSubscriptions, 2, nil},
		{"expired subscription is renewed back", (*vendorsim.AXPServer).Expire, 1, func(t *testing.T, r *rig) {
			if n := r.emu.Stats().RenewedAfterExpiry; n != 1 {
				t.Errorf("renewed after expiry %d", n)
			}
		}},
		{"revoked token is replaced", func(e *vendorsim.AXPServer) { e.InvalidateTokens(); e.DropSockets() }, 1,
			func(t *testing.T, r *rig) {
				if n := r.emu.Stats().TokensRejected; n < 1 {
					t.Errorf("the revoked token was never presented")
				}
				if n := r.emu.Stats().TokenCalls; n < 2 {
					t.Errorf("token calls %d", n)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := start(t, TypeEngagement, vendorsim.AXPOptions{}, vendorsim.AXPFaults{}, nil)
			r.waitStatus(event.StatusLive, "")
			tt.fault(r.emu)
			r.waitStatus(event.StatusDegraded, "")
			r.waitStatus(event.StatusLive, "")
			if n := r.emu.Stats().Creates; n != tt.creates {
				t.Errorf("creates %d, want %d", n, tt.creates)
			}
			if n := r.emu.Stats().ActiveSubscriptions; n != 1 {
				t.Errorf("active subscriptions %d", n)
			}
			// Data still flows after the recovery.
			agent := r.sim.Agents()[0].ID
			r.sim.Do(vendorsim.Action{Kind: vendorsim.ActionAgentState, Agent: agent, State: event.StateNotReady, Reason: "Lunch"})
			r.waitFor("the agent's lunch", func(e event.Event) bool {
				return e.Kind == event.AgentState && e.Agent == agent && e.State == event.StateNotReady && e.Reason == "Lunch"
			})
			if tt.check != nil {
				tt.check(t, r)
			}
		})
	}
}

func TestMalformedFramesAreCountedAndSkipped(t *testing.T) {
	t.Parallel()
	r := start(t, TypeEngagement, vendorsim.AXPOptions{}, vendorsim.AXPFaults{}, nil)
	r.waitStatus(event.StatusLive, "")
	r.emu.SendMalformed()
	r.emu.Inject("AGENT_ENGAGEMENT", readFrame(t, "engagement/unknown_event.json"))
	agent := r.sim.Agents()[1].ID
	r.sim.Do(vendorsim.Action{Kind: vendorsim.ActionAgentState, Agent: agent, State: event.StateAvailable})
	r.waitFor("the agent's state after the bad frames", func(e event.Event) bool {
		return e.Kind == event.AgentState && e.Agent == agent && e.State == event.StateAvailable
	})
	if s := r.rep.Stats(); s.Errors != 2 || s.Status != event.StatusLive {
		t.Errorf("errors %d status %s, want 2 malformed frames counted and still live", s.Errors, s.Status)
	}
	if c := r.src.Counters(); c.UnknownEvents != 1 || c.UnknownFields != 1 {
		t.Errorf("counters %+v, want one unknown event and one unknown field", c)
	}
	if n := r.emu.Stats().Sockets; n != 1 {
		t.Errorf("sockets %d: bad frames must not end the session", n)
	}
}

func TestProblemDetails(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		faults vendorsim.AXPFaults
		edit   func(*config.Source)
		detail string
	}{
		{"credentials rejected", vendorsim.AXPFaults{RejectCredentials: true}, nil, "Invalid client credentials"},
		{"subscription limit", vendorsim.AXPFaults{CreateProblem: 403}, nil, "Subscription limit reached for account DYNNUG"},
		{"wrong app key", vendorsim.AXPFaults{}, func(c *config.Source) { c.Options.(*Options).AppKey = "wrong-key" }, "missing or invalid appkey"},
		{"unknown producer", vendorsim.AXPFaults{}, func(c *config.Source) {
			c.Type, c.Options.(*Options).MeasureProducers = TypeAnalytics, []string{"Skill_itd_1.0.0"}
		}, `unknown measureProducerId \"Skill_itd_1.0.0\"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := start(t, TypeEngagement, vendorsim.AXPOptions{}, tt.faults, tt.edit)
			e := r.waitStatus(event.StatusFailed, "")
			// The admin's detail names the vendor's problem; screens get
			// the summary.
			detail := r.rep.Stats().Detail
			if !strings.Contains(detail, strings.ReplaceAll(tt.detail, `\"`, `"`)) {
				t.Errorf("detail %q does not carry the vendor's problem %q", detail, tt.detail)
			}
			if e.Detail != source.Summary(event.StatusFailed) {
				t.Errorf("status event for screens carries %q", e.Detail)
			}
			opts := r.emu.Options()
			for _, secret := range []string{opts.ClientSecret, opts.AppKey, "eyJ"} {
				if strings.Contains(detail, secret) {
					t.Errorf("detail %q leaks %q", detail, secret)
				}
			}
		})
	}
}

func TestCleanShutdownDeletesSubscriptions(t *testing.T) {
	t.Parallel()
	for _, typ := range []string{TypeEngagement, TypeAnalytics} {
		t.Run(typ, func(t *testing.T) {
			t.Parallel()
			r := start(t, typ, vendorsim.AXPOptions{}, vendorsim.AXPFaults{}, nil)
			r.waitStatus(event.StatusLive, "")
			eventually(t, "every subscription confirmed", func() bool { return r.emu.Stats().Confirmed == len(r.src.feeds) })
			want := len(r.src.feeds)
			if n := len(r.emu.Subscriptions()); n != want {
				t.Fatalf("subscriptions %d, want %d", n, want)
			}
			stats := r.emu
			r.stop()
			if s := stats.Stats(); s.Deletes != want || len(stats.Subscriptions()) != 0 {
				t.Errorf("deletes %d, left %v", s.Deletes, stats.Subscriptions())
			}
		})
	}
}

func TestOrphanFromACrashIsDeleted(t *testing.T) {
	t.Parallel()
	sim := vendorsim.NewSim(vendorsim.Options{Prefix: "t", Agents: 2, Queues: 1})
	emu, err := vendorsim.StartAXP(sim, vendorsim.AXPOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := emu.SourceConfig("axp", TypeEngagement)
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	// A first run that "crashes": it creates its subscription, then is never shut down cleanly.
	first, err := New(cfg, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := first.ensureSubscription(context.Background(), first.feeds[0]); err != nil {
		t.Fatal(err)
	}
	orphan := first.feeds[0].sub.SubscriptionID
	second, err := New(cfg, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := second.ensureSubscription(context.Background(), second.feeds[0]); err != nil {
		t.Fatal(err)
	}
	ids := emu.Subscriptions()
	if len(ids) != 1 || ids[0] == orphan {
		t.Errorf("subscriptions %v: the orphan %s should be gone", ids, orphan)
	}
	emu.Close()
}
