package netsapiens_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wallboard/wallboard/internal/config"
	"github.com/wallboard/wallboard/internal/event"
	"github.com/wallboard/wallboard/internal/source"
	"github.com/wallboard/wallboard/internal/source/netsapiens"
	"github.com/wallboard/wallboard/internal/source/sourcetest"
	"github.com/wallboard/wallboard/internal/store"
	"github.com/wallboard/wallboard/internal/vendorsim"
)

// sink collects what a source emits (the boundary to the model).
type sink = sourcetest.Sink

func newSink() *sink { return sourcetest.NewSink() }

// rig is one emulated NetSapiens, a webhook server routing
// POST /hooks/netsapiens/{source} like the real server, and a source.
type rig struct {
	sim   *vendorsim.Sim
	emu   *vendorsim.NetSapiensServer
	hooks *httptest.Server
	st    source.Store
	posts chan vendorsim.NetSapiensPost

	mu   sync.Mutex
	srcs map[string]http.Handler
}

func newRig(t *testing.T, o vendorsim.NetSapiensOptions) *rig {
	t.Helper()
	return newRigSim(t, o, vendorsim.NewSim(vendorsim.Options{Prefix: "ns", Agents: 8, Queues: 2, Seed: 7}))
}

// newRigSim is newRig for a given simulation.
func newRigSim(t *testing.T, o vendorsim.NetSapiensOptions, sim *vendorsim.Sim) *rig {
	t.Helper()
	r := &rig{srcs: map[string]http.Handler{}, posts: make(chan vendorsim.NetSapiensPost, 1024)}
	r.sim = sim
	if o.FlushInterval == 0 {
		o.FlushInterval = 20 * time.Millisecond
	}
	o.OnPost = func(p vendorsim.NetSapiensPost) {
		select {
		case r.posts <- p:
		default:
		}
	}
	emu, err := vendorsim.StartNetSapiens(r.sim, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(emu.Close)
	r.emu = emu
	mux := http.NewServeMux()
	mux.HandleFunc("POST /hooks/netsapiens/{source}", func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		h := r.srcs[req.PathValue("source")]
		r.mu.Unlock()
		if h == nil {
			http.NotFound(w, req)
			return
		}
		h.ServeHTTP(w, req)
	})
	r.hooks = httptest.NewServer(mux)
	t.Cleanup(r.hooks.Close)
	r.st, err = store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (r *rig) config(name string) config.Source {
	c := r.emu.SourceConfig(name, r.hooks.URL)
	c.Options.(*netsapiens.Options).StatusInterval = config.Duration(50 * time.Millisecond)
	return c
}

// running is a source under source.Supervise.
type running struct {
	src  *netsapiens.Source
	rep  *source.Reporter
	sink *sink
	stop func()
}

func (r *rig) start(t *testing.T, c config.Source, st source.Store) *running {
	t.Helper()
	src, err := netsapiens.New(c, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	r.mu.Lock()
	r.srcs[c.Name] = src
	r.mu.Unlock()
	sk := newSink()
	rep := source.NewReporter(c.Name, c.Type, sk, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		source.Supervise(ctx, src, rep, source.Backoff{Min: 20 * time.Millisecond, Max: 100 * time.Millisecond, FailedRetry: time.Second})
	}()
	var once sync.Once
	stop := func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return &running{src: src, rep: rep, sink: sk, stop: stop}
}

func (rn *running) waitStatus(t *testing.T, want event.Status) {
	t.Helper()
	rn.sink.WaitForAll(t, "status "+string(want), func([]event.Event) bool { return rn.rep.Stats().Status == want })
}

func subsByModel(emu *vendorsim.NetSapiensServer) map[string]vendorsim.NetSapiensSubscription {
	out := map[string]vendorsim.NetSapiensSubscription{}
	for _, s := range emu.Subscriptions() {
		out[s.Model] = s
	}
	return out
}

func TestCreatesSubscriptionsWithHyphenatedKeys(t *testing.T) {
	t.Parallel()
	r := newRig(t, vendorsim.NetSapiensOptions{})
	rn := r.start(t, r.config("ns1"), r.st)
	rn.waitStatus(t, event.StatusLive)
	subs := r.emu.Subscriptions()
	if len(subs) != 3 {
		t.Fatalf("%d subscriptions, want 3", len(subs))
	}
	for _, s := range subs {
		b := s.CreateBody
		if b["post-url"] != r.hooks.URL+"/hooks/netsapiens/ns1" || b["domain"] != "acme.service" ||
			b["subscription-geo-support"] != "yes" || b["model"] != s.Model {
			t.Errorf("create body %v", b)
		}
		for k := range b {
			if strings.Contains(k, "_") {
				t.Errorf("create body key %q is not hyphenated", k)
			}
		}
		kept, err := r.st.Get("netsapiens-ns1-" + s.Model)
		if err != nil || !strings.Contains(string(kept), s.ID) {
			t.Errorf("state for %s = %s, %v; want id %s", s.Model, kept, err, s.ID)
		}
	}
	// The detail shows status and counters of each subscription.
	rn.sink.WaitForAll(t, "detail with posts", func([]event.Event) bool {
		d := rn.rep.Stats().Detail
		return strings.Contains(d, "agent: active, posts ") && strings.Contains(d, "call: ") && strings.Contains(d, "cdr: ")
	})
}

func TestRestartReusesKeptSubscriptions(t *testing.T) {
	t.Parallel()
	r := newRig(t, vendorsim.NetSapiensOptions{})
	rn := r.start(t, r.config("ns1"), r.st)
	rn.waitStatus(t, event.StatusLive)
	before := subsByModel(r.emu)
	rn.stop()
	if got := len(r.emu.Subscriptions()); got != 3 {
		t.Fatalf("%d subscriptions kept after shutdown, want 3 (cleanup is off)", got)
	}
	rn2 := r.start(t, r.config("ns1"), r.st)
	rn2.waitStatus(t, event.StatusLive)
	after := subsByModel(r.emu)
	if len(after) != 3 {
		t.Fatalf("%d subscriptions after restart", len(after))
	}
	for m, s := range before {
		if after[m].ID != s.ID {
			t.Errorf("%s: subscription %s replaced by %s", m, s.ID, after[m].ID)
		}
	}
}

func TestConflictReusesIdenticalSubscription(t *testing.T) {
	t.Parallel()
	r := newRig(t, vendorsim.NetSapiensOptions{})
	rn := r.start(t, r.config("ns1"), r.st)
	rn.waitStatus(t, event.StatusLive)
	before := subsByModel(r.emu)
	rn.stop()
	// A lost state directory: creating again gets 409, and the source
	// finds and reuses the identical subscription.
	fresh, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	rn2 := r.start(t, r.config("ns1"), fresh)
	rn2.waitStatus(t, event.StatusLive)
	after := subsByModel(r.emu)
	if len(r.emu.Subscriptions()) != 3 {
		t.Fatalf("%d subscriptions", len(r.emu.Subscriptions()))
	}
	for m, s := range before {
		if after[m].ID != s.ID {
			t.Errorf("%s: not reused", m)
		}
		if kept, _ := fresh.Get("netsapiens-ns1-" + m); !strings.Contains(string(kept), s.ID) {
			t.Errorf("%s: reused id not kept", m)
		}
	}
}

func TestRecreatesVanishedSubscription(t *testing.T) {
	t.Parallel()
	r := newRig(t, vendorsim.NetSapiensOptions{})
	rn := r.start(t, r.config("ns1"), r.st)
	rn.waitStatus(t, event.StatusLive)
	old := subsByModel(r.emu)["call"].ID
	r.emu.Drop(old)
	var fresh string
	rn.sink.WaitForAll(t, "a new call subscription", func([]event.Event) bool {
		fresh = subsByModel(r.emu)["call"].ID
		return fresh != "" && fresh != old
	})
	rn.sink.WaitForAll(t, "new id kept", func([]event.Event) bool {
		kept, _ := r.st.Get("netsapiens-ns1-call")
		return strings.Contains(string(kept), fresh)
	})
	// Posts with the new id are accepted, the old id is refused.
	if p := r.emu.Post(fresh, []map[string]any{}); p.Status != http.StatusOK {
		t.Errorf("post with new id: %d %v", p.Status, p.Err)
	}
	if p := r.emu.PostRaw(fresh, old, []byte(`[]`)); p.Status != http.StatusUnauthorized {
		t.Errorf("post with vanished id: %d, want 401", p.Status)
	}
}

func TestCleanupOnShutdown(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		cleanup bool
		want    int
	}{
		{"kept by default", false, 3},
		{"deleted when configured", true, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newRig(t, vendorsim.NetSapiensOptions{})
			c := r.config("ns1")
			c.Options.(*netsapiens.Options).CleanupOnShutdown = tc.cleanup
			rn := r.start(t, c, r.st)
			rn.waitStatus(t, event.StatusLive)
			rn.stop()
			if got := len(r.emu.Subscriptions()); got != tc.want {
				t.Errorf("%d subscriptions after shutdown, want %d", got, tc.want)
			}
			_, err := r.st.Get("netsapiens-ns1-agent")
			if kept := err == nil; kept != !tc.cleanup {
				t.Errorf("id kept = %v, want %v", kept, !tc.cleanup)
			}
		})
	}
}

func TestBadAPIKeyIsPermanent(t *testing.T) {
	t.Parallel()
	r := newRig(t, vendorsim.NetSapiensOptions{})
	c := r.config("ns1")
	c.Options.(*netsapiens.Options).APIKey = "nsd-wrong"
	rn := r.start(t, c, r.st)
	rn.waitStatus(t, event.StatusFailed)
	if d := rn.rep.Stats().Detail; !strings.Contains(d, "API key") || strings.Contains(d, "nsd-") {
		t.Errorf("detail %q: should name the API key problem without the key", d)
	}
}

// agentStates is the last state emitted per agent.
func agentStates(evs []event.Event) map[string]event.Event {
	out := map[string]event.Event{}
	for _, e := range evs {
		if e.Kind == event.AgentState {
			out[e.Agent] = e
		}
	}
	return out
}

func countKind(evs []event.Event, k event.Kind, interaction string) int {
	n := 0
	for _, e := range evs {
		if e.Kind == k && (interaction == "" || e.Interaction == interaction) {
			n++
		}
	}
	return n
}

func TestWebhookAuthentication(t *testing.T) {
	t.Parallel()
	r := newRig(t, vendorsim.NetSapiensOptions{})
	rn := r.start(t, r.config("ns1"), r.st)
	rn.waitStatus(t, event.StatusLive)
	call := subsByModel(r.emu)["call"].ID
	body := []byte(`[{"call-orig-call-id":"auth1","call-orig-to-user":"nsq100"}]`)
	tests := []struct {
		name, cid string
		want      int
	}{
		{"missing header", "", http.StatusUnauthorized},
		{"wrong id", strings.Repeat("0", 32), http.StatusUnauthorized},
		{"id prefix", call[:31], http.StatusUnauthorized},
		{"subscription id", call, http.StatusOK},
	}
	for _, tc := range tests {
		errsBefore := subsByModel(r.emu)["call"].ErrorCount
		p := r.emu.PostRaw(call, tc.cid, body)
		if p.Status != tc.want {
			t.Errorf("%s: status %d, want %d", tc.name, p.Status, tc.want)
		}
		if tc.want != http.StatusOK {
			if got := subsByModel(r.emu)["call"].ErrorCount; got != errsBefore+1 {
				t.Errorf("%s: vendor error-count %d, want %d", tc.name, got, errsBefore+1)
			}
			if n := countKind(rn.sink.All(), event.ContactQueued, "auth1"); n != 0 {
				t.Fatalf("%s: refused post was applied", tc.name)
			}
		}
	}
	rn.sink.WaitForAll(t, "the accepted post", func(evs []event.Event) bool {
		return countKind(evs, event.ContactQueued, "auth1") == 1
	})
	// Another subscription's id with a suffix is refused too.
	if p := r.emu.PostRaw(call, subsByModel(r.emu)["agent"].ID+"x", body); p.Status != http.StatusUnauthorized {
		t.Errorf("foreign id: %d", p.Status)
	}
}

func TestWebhookRejectsBadBodies(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		faults vendorsim.NetSapiensFaults
		raw    []byte
		want   int
	}{
		{"oversized", vendorsim.NetSapiensFaults{Oversized: 1}, nil, http.StatusRequestEntityTooLarge},
		{"malformed JSON", vendorsim.NetSapiensFaults{Malformed: 1}, nil, http.StatusBadRequest},
		{"not an array", vendorsim.NetSapiensFaults{}, []byte(`{"call-orig-call-id":"x"}`), http.StatusBadRequest},
		{"wrong correlation id", vendorsim.NetSapiensFaults{WrongCorrelationID: true}, nil, http.StatusUnauthorized},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newRig(t, vendorsim.NetSapiensOptions{OversizeBytes: 8 << 10})
			c := r.config("ns1")
			c.Options.(*netsapiens.Options).MaxBodyBytes = 4 << 10
			rn := r.start(t, c, r.st)
			rn.waitStatus(t, event.StatusLive)
			// The emulator's agent table for the new subscription goes out
			// first: a post of it in the faulty flush would count too.
			rn.sink.WaitForAll(t, "the agent table posted", func([]event.Event) bool {
				a := subsByModel(r.emu)["agent"]
				return a.PostsCount+a.ErrorCount > 0
			})
			errsBefore := rn.rep.Stats().Errors
			var p vendorsim.NetSapiensPost
			if tc.raw != nil {
				id := subsByModel(r.emu)["call"].ID
				p = r.emu.PostRaw(id, id, tc.raw)
			} else {
				r.emu.SetFaults(tc.faults)
				// Make the simulation produce something to post.
				r.sim.Do(vendorsim.Action{Kind: vendorsim.ActionCallQueued, Queue: "nsq100"})
				p = waitFault(t, r.posts)
			}
			if p.Status != tc.want {
				t.Fatalf("status %d, want %d (%v)", p.Status, tc.want, p.Err)
			}
			if got := rn.rep.Stats().Errors; got != errsBefore+1 {
				t.Errorf("errors %d, want %d", got, errsBefore+1)
			}
			if s := rn.rep.Stats(); s.Status != event.StatusLive {
				t.Errorf("status %s after one bad post", s.Status)
			}
		})
	}
}

func waitFault(t *testing.T, posts <-chan vendorsim.NetSapiensPost) vendorsim.NetSapiensPost {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case p := <-posts:
			if p.Fault != "" {
				return p
			}
		case <-deadline:
			t.Fatal("no faulty post was sent")
		}
	}
}

func TestDuplicatePostsAreHarmless(t *testing.T) {
	t.Parallel()
	r := newRig(t, vendorsim.NetSapiensOptions{})
	rn := r.start(t, r.config("ns1"), r.st)
	rn.waitStatus(t, event.StatusLive)
	r.emu.SetFaults(vendorsim.NetSapiensFaults{Duplicate: true})
	r.sim.Do(vendorsim.Action{Kind: vendorsim.ActionCallQueued, Queue: "nsq101"})
	var dup vendorsim.NetSapiensPost
	for dup.Fault != "duplicate" || dup.Model != "call" {
		dup = waitFault(t, r.posts)
	}
	if dup.Status != http.StatusOK {
		t.Fatalf("duplicate post answered %d", dup.Status)
	}
	var queued []event.Event
	rn.sink.WaitForAll(t, "the queued call", func(evs []event.Event) bool {
		queued = queued[:0]
		for _, e := range evs {
			if e.Kind == event.ContactQueued && e.Queue == "nsq101" {
				queued = append(queued, e)
			}
		}
		return len(queued) > 0
	})
	// Let Run drain the duplicate too, then check it added nothing.
	time.Sleep(100 * time.Millisecond)
	seen := map[string]bool{}
	for _, e := range rn.sink.All() {
		if e.Kind == event.ContactQueued && e.Queue == "nsq101" {
			if seen[e.Interaction] {
				t.Errorf("call %s queued twice", e.Interaction)
			}
			seen[e.Interaction] = true
		}
	}
}

func TestFullQueueAnswers503(t *testing.T) {
	t.Parallel()
	r := newRig(t, vendorsim.NetSapiensOptions{})
	c := r.config("ns1")
	c.Options.(*netsapiens.Options).WebhookQueue = 1
	rn := r.start(t, c, r.st)
	rn.waitStatus(t, event.StatusLive)
	rn.stop() // nothing drains the queue now; the kept ids still authenticate
	id := subsByModel(r.emu)["call"].ID
	// The emulator may still post its own batch (the agent table it sends
	// a moment after subscribing) into the one free place: the queue is
	// full after at most one post of ours, which is answered 200, and
	// every post after that is answered 503 at once.
	var got []int
	for len(got) < 2 {
		p := r.emu.PostRaw(id, id, []byte(`[]`))
		got = append(got, p.Status)
		if p.Status != http.StatusOK {
			break
		}
	}
	if last := got[len(got)-1]; last != http.StatusServiceUnavailable {
		t.Fatalf("posts answered %v, want 503 once the queue is full", got)
	}
	if p := r.emu.PostRaw(id, id, []byte(`[]`)); p.Status != http.StatusServiceUnavailable {
		t.Fatalf("post into a full queue: %d, want 503", p.Status)
	}
}

func TestDegradedWhenQuietWhileVendorReportsErrors(t *testing.T) {
	t.Parallel()
	r := newRig(t, vendorsim.NetSapiensOptions{})
	c := r.config("ns1")
	c.Options.(*netsapiens.Options).QuietPeriod = config.Duration(300 * time.Millisecond)
	rn := r.start(t, c, r.st)
	rn.waitStatus(t, event.StatusLive)
	// Quiet alone is not a fault: a floor can be idle.
	time.Sleep(400 * time.Millisecond)
	if s := rn.rep.Stats(); s.Status != event.StatusLive {
		t.Fatalf("status %s while quiet without errors", s.Status)
	}
	r.emu.SetFaults(vendorsim.NetSapiensFaults{WrongCorrelationID: true})
	stop := make(chan struct{})
	go func() { // keep the vendor posting (and failing)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
				r.sim.Do(vendorsim.Action{Kind: vendorsim.ActionCallQueued, Queue: "nsq100"})
			}
		}
	}()
	defer close(stop)
	rn.waitStatus(t, event.StatusDegraded)
	if d := rn.rep.Stats().Detail; !strings.Contains(d, "no posts") {
		t.Errorf("detail %q", d)
	}
	r.emu.SetFaults(vendorsim.NetSapiensFaults{})
	rn.waitStatus(t, event.StatusLive)
}

func TestEndToEndMatchesSimulation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts vendorsim.NetSapiensOptions
	}{
		{"v2 keys", vendorsim.NetSapiensOptions{}},
		{"snake_case keys", vendorsim.NetSapiensOptions{SnakeCase: true}},
		{"queue named by the call's legs", vendorsim.NetSapiensOptions{QueueAsLeg: true}},
		{"queue named by the call's legs, snake_case keys", vendorsim.NetSapiensOptions{QueueAsLeg: true, SnakeCase: true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newRig(t, tc.opts)
			c := r.config("ns1")
			c.Options.(*netsapiens.Options).Models = []string{"agent", "call", "cdr"}
			rn := r.start(t, c, r.st)
			rn.waitStatus(t, event.StatusLive)
			start := time.Now()
			for i := 1; i <= 240; i++ { // four simulated minutes
				r.sim.Step(start.Add(time.Duration(i) * time.Second))
			}
			truth := r.sim.Truth()
			var diff string
			rn.sink.WaitForAll(t, "the board to match the simulation", func(evs []event.Event) bool {
				diff = compare(evs, truth)
				return diff == ""
			})
			evs := rn.sink.All()
			if countKind(evs, event.ContactCompleted, "") == 0 || countKind(evs, event.ContactAnswered, "") == 0 {
				t.Errorf("no completed or answered calls in four minutes")
			}
			if diff != "" {
				t.Error(diff)
			}
			if d := modelDiff(evs, truth); len(d) > 0 {
				t.Errorf("the model does not match the simulation:\n%s", strings.Join(d, "\n"))
			}
		})
	}
}

// compare checks agent states and waiting counts against the truth.
func compare(evs []event.Event, truth vendorsim.Truth) string {
	states := agentStates(evs)
	for id, want := range truth.Agents {
		got, ok := states[id]
		if !ok || got.State != want.State || (want.State == event.StateNotReady && got.Reason != want.Reason) {
			return "agent " + id + ": got " + string(got.State) + " " + got.Reason + ", want " + string(want.State) + " " + want.Reason
		}
	}
	waiting := map[string]map[string]bool{}
	for _, e := range evs {
		switch e.Kind {
		case event.ContactQueued:
			if waiting[e.Queue] == nil {
				waiting[e.Queue] = map[string]bool{}
			}
			waiting[e.Queue][e.Interaction] = true
		case event.ContactOffered, event.ContactAnswered, event.ContactEnded, event.ContactDequeued:
			for _, w := range waiting {
				delete(w, e.Interaction)
			}
		}
	}
	for q, want := range truth.Queues {
		if got := len(waiting[q]); got != want.Waiting {
			return "queue " + q + ": waiting mismatch"
		}
	}
	return ""
}
