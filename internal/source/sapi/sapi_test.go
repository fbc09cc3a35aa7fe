package sapi

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wallboard/wallboard/internal/config"
	"github.com/wallboard/wallboard/internal/event"
	"github.com/wallboard/wallboard/internal/source"
	"github.com/wallboard/wallboard/internal/source/eightbyeight"
	"github.com/wallboard/wallboard/internal/source/sourcetest"
	"github.com/wallboard/wallboard/internal/vendorsim"
)

// sink collects what a source emits (the boundary to the model).
type sink = sourcetest.Sink

func newSink() *sink { return sourcetest.NewSink() }

var base = time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)

func newSim(seed int64) *vendorsim.Sim {
	return vendorsim.NewSim(vendorsim.Options{Prefix: "t", Agents: 8, Queues: 2, Seed: seed, Pace: 4,
		Now: func() time.Time { return base }})
}

// step advances sim from second `from` to second `to`.
// step advances sim from second `from` to second `to` and waits until the
// emulator has every action in its log.
func step(t *testing.T, sim *vendorsim.Sim, srv interface{ Settled() bool }, from, to int) {
	t.Helper()
	for i := from + 1; i <= to; i++ {
		sim.Step(base.Add(time.Duration(i) * time.Second))
	}
	deadline := time.Now().Add(10 * time.Second)
	for !srv.Settled() {
		if time.Now().After(deadline) {
			t.Fatal("emulator did not catch up with the simulation")
		}
		time.Sleep(time.Millisecond)
	}
}

type runner struct {
	src    *Source
	rep    *source.Reporter
	cancel context.CancelFunc
	done   chan struct{}
}

// supervise runs src under the real supervisor.
func supervise(t *testing.T, cfg config.Source, sk *sink) *runner {
	t.Helper()
	src, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	rep := source.NewReporter(cfg.Name, Type, sk, nil)
	ctx, cancel := context.WithCancel(context.Background())
	r := &runner{src: src, rep: rep, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		source.Supervise(ctx, src, rep, source.Backoff{Min: 20 * time.Millisecond, Max: 100 * time.Millisecond})
	}()
	t.Cleanup(func() { cancel(); <-r.done })
	return r
}

// lastStates returns each agent's last state and reason.
func lastStates(evs []event.Event) map[string]event.Event {
	out := map[string]event.Event{}
	for _, e := range evs {
		if e.Kind == event.AgentState {
			out[e.Agent] = e
		}
	}
	return out
}

// matchesTruth reports whether the sink's agent states equal the truth.
func matchesTruth(sim *vendorsim.Sim) func([]event.Event) bool {
	return func(evs []event.Event) bool {
		last := lastStates(evs)
		tr := sim.Truth()
		for id, ta := range tr.Agents {
			e, ok := last[id]
			if !ok || e.State != ta.State || (ta.State == event.StateNotReady && e.Reason != ta.Reason) {
				return false
			}
		}
		return true
	}
}

func newServer(t *testing.T, sim *vendorsim.Sim, o vendorsim.SAPIOptions) *vendorsim.SAPIServer {
	t.Helper()
	srv, err := vendorsim.NewSAPIServer(sim, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv
}

func cfgOf(srv *vendorsim.SAPIServer, name, format string) config.Source {
	c := srv.SourceConfig(name)
	c.Options.(*Options).Format = format
	// The source reads the stream alone: what these tests check must come
	// through it, not from the agent status API (resync_test).
	c.Options.(*Options).AgentStatusURL, c.Options.(*Options).AgentStatusToken = "", ""
	return c
}

// TestStream runs the source against the emulator in each format and
// padding flavour, with the emulator's framing quirks on, and checks that
// the agents' states end as the simulation's truth says and queues are named.
func TestStream(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, format, padding string
		split, track          bool
	}{
		{"json", "json", "2.2", false, false},
		{"xml", "xml", "2.2", false, false},
		{"json 2.0 padding split chunks", "json", "2.0", true, false},
		{"xml 1.0 padding split chunks length prefix", "xml", "1.0", true, true},
		{"json html padding length prefix", "json", "html", false, true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sim := newSim(int64(i + 1))
			srv := newServer(t, sim, vendorsim.SAPIOptions{Padding: tt.padding, Heartbeat: 20 * time.Millisecond})
			srv.SplitChunks(tt.split)
			srv.TrackMessageSize(tt.track)
			sk := newSink()
			r := supervise(t, cfgOf(srv, "s", tt.format), sk)
			// The prelude names every agent and queue.
			sk.WaitFor(t, "prelude", func(evs []event.Event) bool {
				names, queues := map[string]bool{}, map[string]bool{}
				for _, e := range evs {
					if e.Kind == event.AgentInfo && e.Name != "" {
						names[e.Agent] = true
					}
					if e.Kind == event.QueueInfo && e.Name != "" {
						queues[e.Queue] = true
					}
				}
				return len(names) == 8 && len(queues) == 2
			})
			step(t, sim, srv, 0, 40)
			sk.WaitFor(t, "truth", matchesTruth(sim))
			var queued int
			for _, e := range sk.Events() {
				if e.Kind == event.ContactQueued {
					queued++
				}
			}
			if queued == 0 {
				t.Error("no contact queued in 40 s of simulation")
			}
			if st := r.rep.Stats(); st.Errors != 0 || st.Status != event.StatusLive {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

// TestMalformedFramesCounted: malformed frames are counted and skipped, and
// the events around them still arrive.
func TestMalformedFramesCounted(t *testing.T) {
	t.Parallel()
	for i, format := range []string{"json", "xml"} {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			sim := newSim(int64(10 + i))
			srv := newServer(t, sim, vendorsim.SAPIOptions{})
			sk := newSink()
			r := supervise(t, cfgOf(srv, "m", format), sk)
			sk.WaitFor(t, "prelude", func(evs []event.Event) bool { return len(evs) > 0 })
			srv.Malformed(3)
			step(t, sim, srv, 0, 30)
			sk.WaitFor(t, "truth", matchesTruth(sim))
			if got := r.rep.Stats().Errors; got != 3 {
				t.Errorf("errors = %d, want 3", got)
			}
		})
	}
}

// TestOddStatesOverTheWire: through the emulator over a real socket, in
// JSON and in XML alike, a newState code no table knows is counted as
// unmapped (with state_map as the option that maps it and the event as
// example), and a newState that is no number is counted as an error.
func TestOddStatesOverTheWire(t *testing.T) {
	t.Parallel()
	for i, format := range []string{"json", "xml"} {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			sim := newSim(int64(20 + i))
			srv := newServer(t, sim, vendorsim.SAPIOptions{})
			sk := newSink()
			r := supervise(t, cfgOf(srv, "odd", format), sk)
			sk.WaitForAll(t, "prelude", func(evs []event.Event) bool { return len(evs) > 0 })
			agents := sim.Agents()
			srv.OddStates(1, 42)
			sim.Do(vendorsim.Action{Kind: vendorsim.ActionAgentState, Agent: agents[0].ID, State: event.StateAvailable})
			step(t, sim, srv, 0, 0) // the emulator has rendered it
			srv.OddStates(1, "sideways")
			sim.Do(vendorsim.Action{Kind: vendorsim.ActionAgentState, Agent: agents[1].ID, State: event.StateAvailable})
			var u source.UnmappedValue
			deadline := time.Now().Add(10 * time.Second)
			for {
				st := r.rep.Stats()
				for _, v := range st.Unmapped {
					if v.Key() == "newState=42" {
						u = v
					}
				}
				if u.Count == 1 && st.Errors == 1 || time.Now().After(deadline) {
					if u.Count != 1 || u.ConfigKey != "state_map" || !strings.Contains(u.Example, "42") {
						t.Errorf("unmapped newState=42: %+v", u)
					}
					if st.Errors != 1 || !strings.Contains(st.LastError, "newState") {
						t.Errorf("errors %d (%s), want 1 for the state that is no number", st.Errors, st.LastError)
					}
					return
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
}

// TestDropResume: a drop in the middle of a stream (half an event written),
// followed by resume with the same subscription id, loses nothing and counts
// nothing twice — even though the emulator replays a few events the source
// already had.
func TestDropResume(t *testing.T) {
	t.Parallel()
	sim := newSim(21)
	srv := newServer(t, sim, vendorsim.SAPIOptions{})
	sk := newSink()
	r := supervise(t, cfgOf(srv, "d", "json"), sk)
	sk.WaitFor(t, "prelude", func(evs []event.Event) bool { return len(evs) > 0 })
	srv.ReplayOverlap(5)
	srv.DropAfter(15)
	step(t, sim, srv, 0, 20)
	sk.WaitFor(t, "reconnect", func([]event.Event) bool { return srv.Connects() >= 2 })
	srv.DropAfter(7)
	step(t, sim, srv, 20, 40)
	sk.WaitFor(t, "second reconnect", func([]event.Event) bool { return srv.Connects() >= 3 })
	step(t, sim, srv, 40, 60)
	logged := srv.Logged()
	want := map[string]bool{}
	for _, b := range logged {
		msg, err := eightbyeight.Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		if msg.Interaction != nil && msg.Interaction.Event == "InteractionCreated" {
			continue // yields no event once its queue is named
		}
		want[eightbyeight.EventID(msg.MsgInfo())] = true
	}
	sk.WaitFor(t, "every logged event", func(evs []event.Event) bool {
		got := map[string]bool{}
		for _, e := range evs {
			if e.ID != "" {
				got[e.ID[:strings.IndexByte(e.ID, '/')]] = true
			}
		}
		for id := range want {
			if !got[id] {
				return false
			}
		}
		return true
	})
	sk.WaitFor(t, "truth", matchesTruth(sim))
	seen := map[string]int{}
	for _, e := range sk.Events() {
		if e.ID != "" {
			seen[e.ID]++
			if seen[e.ID] > 1 {
				t.Errorf("event %s emitted twice", e.ID)
			}
		}
	}
	if len(logged) < 40 {
		t.Errorf("only %d events logged; the test needs a busier stream", len(logged))
	}
	if st := r.rep.Stats(); st.Reconnects < 2 {
		t.Errorf("reconnects = %d", st.Reconnects)
	}
}

// TestSessionEndReconnectsAtOnce: the vendor ends sessions (every 60
// minutes); the source reconnects at once with the same subscription and
// keeps receiving.
func TestSessionEndReconnectsAtOnce(t *testing.T) {
	t.Parallel()
	sim := newSim(31)
	srv := newServer(t, sim, vendorsim.SAPIOptions{SessionLength: 150 * time.Millisecond})
	sk := newSink()
	supervise(t, cfgOf(srv, "e", "json"), sk)
	sk.WaitFor(t, "three sessions", func([]event.Event) bool { return srv.Connects() >= 3 })
	step(t, sim, srv, 0, 30)
	sk.WaitFor(t, "truth", matchesTruth(sim))
	// Only the first session got a prelude: the others resumed.
	var named int
	for _, e := range sk.Events() {
		if e.Kind == event.AgentInfo && e.Queues == nil {
			named++
		}
	}
	if named != 8 {
		t.Errorf("%d agent names, want 8 (one prelude)", named)
	}
}

// TestRefusals: credentials and the listener limit are permanent failures
// with a detail that says so; a server error is retried.
func TestRefusals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		status    int
		permanent bool
		detail    string
	}{
		{"401", http.StatusUnauthorized, true, "rejected the token"},
		{"403", http.StatusForbidden, true, "refused access"},
		{"429 listener limit", http.StatusTooManyRequests, true, "three listeners"},
		{"500", http.StatusInternalServerError, false, "HTTP 500"},
		{"503", http.StatusServiceUnavailable, false, "HTTP 503"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t, newSim(int64(40+i)), vendorsim.SAPIOptions{})
			srv.Refuse(tt.status)
			src, err := New(srv.SourceConfig("r"), nil)
			if err != nil {
				t.Fatal(err)
			}
			err = src.Run(context.Background(), source.NewReporter("r", Type, newSink(), nil))
			var perm *source.PermanentError
			if errors.As(err, &perm) != tt.permanent {
				t.Fatalf("err = %v, permanent want %v", err, tt.permanent)
			}
			if err == nil || !strings.Contains(err.Error(), tt.detail) {
				t.Errorf("err = %v, want %q", err, tt.detail)
			}
		})
	}
	t.Run("wrong token", func(t *testing.T) {
		t.Parallel()
		srv := newServer(t, newSim(50), vendorsim.SAPIOptions{})
		cfg := srv.SourceConfig("w")
		cfg.Options.(*Options).Token = "nope"
		src, _ := New(cfg, nil)
		err := src.Run(context.Background(), source.NewReporter("w", Type, newSink(), nil))
		var perm *source.PermanentError
		if !errors.As(err, &perm) || !strings.Contains(perm.Detail, "401") {
			t.Errorf("err = %v", err)
		}
	})
}

// TestListenerLimit: with three listeners connected, a fourth source goes
// to failed with a detail naming the limit, and does not retry in a loop.
func TestListenerLimit(t *testing.T) {
	t.Parallel()
	sim := newSim(60)
	srv := newServer(t, sim, vendorsim.SAPIOptions{})
	for i := range 3 {
		sk := newSink()
		supervise(t, cfgOf(srv, "l"+string(rune('a'+i)), "json"), sk)
		sk.WaitFor(t, "listener", func(evs []event.Event) bool { return len(evs) > 0 })
	}
	sk := newSink()
	r := supervise(t, cfgOf(srv, "fourth", "json"), sk)
	deadline := time.After(10 * time.Second)
	for r.rep.Stats().Status != event.StatusFailed {
		select {
		case <-deadline:
			t.Fatalf("status %+v", r.rep.Stats())
		case <-time.After(10 * time.Millisecond):
		}
	}
	st := r.rep.Stats()
	if !strings.Contains(st.Detail, "three listeners") {
		t.Errorf("detail %q", st.Detail)
	}
	time.Sleep(200 * time.Millisecond) // a hot loop would reconnect many times here
	if got := r.rep.Stats().Reconnects; got != 1 {
		t.Errorf("reconnects = %d after a permanent refusal, want 1", got)
	}
}

// TestIdleTimeout: a stream that goes silent (no heartbeat) is dropped;
// heartbeats keep a quiet stream alive.
func TestIdleTimeout(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		heartbeat time.Duration
		wantEnd   bool
	}{
		{"silent stream ends", -1, true},
		{"heartbeats keep it", 50 * time.Millisecond, false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t, newSim(int64(70+i)), vendorsim.SAPIOptions{Heartbeat: tt.heartbeat})
			cfg := srv.SourceConfig("i")
			cfg.Options.(*Options).IdleTimeout = config.Duration(300 * time.Millisecond)
			src, _ := New(cfg, nil)
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			err := src.Run(ctx, source.NewReporter("i", Type, newSink(), nil))
			ended := ctx.Err() == nil
			if ended != tt.wantEnd {
				t.Fatalf("ended early = %v (err %v), want %v", ended, err, tt.wantEnd)
			}
			if tt.wantEnd && (err == nil || !strings.Contains(err.Error(), "no data")) {
				t.Errorf("err = %v", err)
			}
		})
	}
}

// TestConfig checks the 8x8 options' defaults and validation through the
// real configuration loader.
func TestConfig(t *testing.T) {
	t.Parallel()
	const head = "sources:\n  - name: s\n    url: https://vcc-uk1.8x8.com\n    tenant: acme\n"
	tests := []struct {
		name string
		yaml string
		want []string // problems that must be reported; none when empty
	}{
		{"sapi defaults", head + "    type: 8x8-sapi\n    subscription_id: w\n    token: t\n", nil},
		{"sapi missing token", head + "    type: 8x8-sapi\n    subscription_id: w\n", []string{"sources[0].token: missing"}},
		{"bad state map", head + "    type: 8x8-sapi\n    subscription_id: w\n    token: t\n    state_map: {\"x\": busy, \"5\": asleep}\n",
			[]string{"state_map.x", "state_map.5"}},
		{"agent status API", head + "    type: 8x8-sapi\n    subscription_id: w\n    token: t\n    agent_status_url: https://na12.8x8.com\n    agent_status_token: a\n", nil},
		{"agent status API without its token", head + "    type: 8x8-sapi\n    subscription_id: w\n    token: t\n    agent_status_url: https://na12.8x8.com\n",
			[]string{"sources[0].agent_status_token: missing"}},
		{"agent status token without its URL", head + "    type: 8x8-sapi\n    subscription_id: w\n    token: t\n    agent_status_token: a\n",
			[]string{"sources[0].agent_status_url: missing"}},
		{"agent status URL not a URL", head + "    type: 8x8-sapi\n    subscription_id: w\n    token: t\n    agent_status_url: na12.8x8.com\n    agent_status_token: a\n",
			[]string{"sources[0].agent_status_url:"}},
		{"resync_after too short", head + "    type: 8x8-sapi\n    subscription_id: w\n    token: t\n    resync_after: 10ms\n",
			[]string{"sources[0].resync_after: must be at least 1s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := config.Parse([]byte(tt.yaml), func(string) string { return "" })
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("problems: %v", err)
				}
				s := cfg.Sources[0].Options.(*Options)
				if s.Format != "json" || s.IdleTimeout.D() != 3*time.Minute || s.ResyncAfter.D() != time.Minute || s.AgentStatusTimeout.D() != 10*time.Second {
					t.Errorf("sapi defaults %+v", *s)
				}
				return
			}
			if err == nil {
				t.Fatal("no problems reported")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("problems %v lack %q", err, w)
				}
			}
		})
	}
}

// TestSubscribeRequest checks the URL and headers the source sends.
func TestSubscribeRequest(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, format, token, wantType, wantAuth string
	}{
		{"json", "json", "abc", "NEWLINE_JSON", "Basic abc"},
		{"xml", "xml", "abc", "NEWLINE_XML", "Basic abc"},
		{"token with scheme", "json", "Bearer xyz", "NEWLINE_JSON", "Bearer xyz"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := config.Source{Name: "u", Type: Type, URL: "https://vcc-uk1.8x8.com/", Options: &Options{
				Options: eightbyeight.Options{Tenant: "acme"}, SubscriptionID: "wb-1", Token: config.Secret(tt.token), Format: tt.format}}
			src, err := New(cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			u := src.subscribeURL()
			const path = "https://vcc-uk1.8x8.com/api/streaming/v1/clientconnect/subscribe/TenantUpdates-acme-wb-1?"
			if !strings.HasPrefix(u, path) {
				t.Errorf("url %s", u)
			}
			for _, p := range []string{"desiredOutputType=" + tt.wantType, "tenantId=acme", "subsId=wb-1",
				"X-Atmosphere-Transport=streaming", "X-Atmosphere-tracking-id=0"} {
				if !strings.Contains(u, p) {
					t.Errorf("url %s lacks %s", u, p)
				}
			}
			if got := src.authorization(); got != tt.wantAuth {
				t.Errorf("Authorization %q, want %q", got, tt.wantAuth)
			}
		})
	}
}
