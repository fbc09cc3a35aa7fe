package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/wallboard/wallboard/internal/cluster/clustertest"
	"github.com/wallboard/wallboard/internal/event"
	"github.com/wallboard/wallboard/internal/journal"
)

// applied is one batch as a node applied it.
type applied struct {
	pos    journal.Pos
	source string
	ids    []string
	agent  string // the first event's agent: which leader published it
}

// replica runs a Node in a test and records what it applies and when it
// leads.
type replica struct {
	t      *testing.T
	n      *Node
	cancel context.CancelFunc
	done   chan struct{}

	mu       sync.Mutex
	batches  []applied
	starts   []time.Time // Lead started
	stops    []time.Time // Lead's ctx ended (seen by Lead)
	durable  map[string]uint64
	refusals int // publishes refused
	ticket   uint64
	// publish: what Lead publishes; nil publishes nothing.
	publish func(ctx context.Context, r *replica)
}

func testLogger(t *testing.T) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// startReplica starts a node named name on url; mod adjusts its options.
func startReplica(t *testing.T, name, url string, publish func(context.Context, *replica), mod func(*Options)) *replica {
	t.Helper()
	r := &replica{t: t, done: make(chan struct{}), durable: map[string]uint64{}, publish: publish}
	o := Options{Node: name, URLs: []string{url}, Logger: testLogger(t).With("test", name),
		Apply: func(pos journal.Pos, b event.Batch) error {
			a := applied{pos: pos, source: b.Source}
			for _, e := range b.Events {
				a.ids = append(a.ids, e.ID)
			}
			if len(b.Events) > 0 {
				a.agent = b.Events[0].Agent
			}
			r.mu.Lock()
			r.batches = append(r.batches, a)
			r.mu.Unlock()
			return nil
		},
		Lead: func(ctx context.Context) {
			r.mu.Lock()
			r.starts = append(r.starts, time.Now())
			r.mu.Unlock()
			if r.publish != nil {
				r.publish(ctx, r)
			}
			<-ctx.Done()
			r.mu.Lock()
			r.stops = append(r.stops, time.Now())
			r.mu.Unlock()
		},
		OnDurable: func(src string, ticket uint64) {
			r.mu.Lock()
			if ticket <= r.durable[src] {
				t.Errorf("%s: durable ticket %d after %d", name, ticket, r.durable[src])
			}
			r.durable[src] = ticket
			r.mu.Unlock()
		},
	}
	if mod != nil {
		mod(&o)
	}
	n, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	r.n = n
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() {
		defer close(r.done)
		if err := n.Run(ctx); err != nil {
			t.Errorf("%s: Run: %v", name, err)
		}
	}()
	t.Cleanup(r.stop)
	if err := n.WaitReady(ctxTimeout(t, 10*time.Second)); err != nil {
		t.Fatalf("%s: not set up within 10s: %v", name, err)
	}
	return r
}

// stop ends the node (giving the lease up) and waits for it.
func (r *replica) stop() {
	r.cancel()
	<-r.done
}

func (r *replica) applied() []applied {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.batches)
}

func (r *replica) leadTimes() (starts, stops []time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.starts), slices.Clone(r.stops)
}

func ctxTimeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// waitFor polls cond every 20 ms until it holds or d passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// leaderOf waits until exactly one of rs leads and returns it.
func leaderOf(t *testing.T, d time.Duration, rs ...*replica) *replica {
	t.Helper()
	var l *replica
	waitFor(t, d, "a leader", func() bool {
		l = nil
		count := 0
		for _, r := range rs {
			starts, _ := r.leadTimes()
			if r.n.Leader() && len(starts) > 0 {
				l = r
				count++
			}
		}
		return count == 1
	})
	return l
}

// publishEvery publishes one batch every 10 ms while leading, each an
// agent event named after the node, numbered; refusals are counted.
func publishEvery(ctx context.Context, r *replica) {
	go func() {
		for i := 1; ctx.Err() == nil; i++ {
			r.mu.Lock()
			r.ticket++
			ticket := r.ticket
			r.mu.Unlock()
			b := event.Batch{Source: "s", Ticket: ticket, Events: []event.Event{{Kind: event.AgentState, Source: "s",
				Agent: r.n.Name(), State: event.StateAvailable, ID: fmt.Sprintf("%s-%d-%d", r.n.Name(), time.Now().UnixNano(), i)}}}
			if err := r.n.PublishBatch(context.Background(), b); err != nil {
				r.mu.Lock()
				r.refusals++
				r.mu.Unlock()
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
}

func TestOneLeaderAndFailoverWhenTheLeaderStopsRenewing(t *testing.T) {
	t.Parallel()
	url := clustertest.NATS(t)
	a := startReplica(t, "a", url, publishEvery, nil)
	b := startReplica(t, "b", url, publishEvery, nil)
	old := leaderOf(t, 10*time.Second, a, b)
	other := map[*replica]*replica{a: b, b: a}[old]

	// A leader stuck elsewhere stops renewing: it must stop its sources
	// before its lease can expire, and the other must lead within 10 s.
	hungAt := time.Now()
	old.n.hang.Store(true)
	waitFor(t, 10*time.Second, "the other replica to lead", func() bool {
		starts, _ := other.leadTimes()
		return len(starts) > 0
	})
	took := time.Since(hungAt)
	starts, _ := other.leadTimes()
	_, stops := old.leadTimes()
	if len(stops) == 0 {
		t.Fatal("the stuck leader never stopped its sources")
	}
	if !stops[0].Before(starts[0]) {
		t.Fatalf("two leaders: the old one stopped at %s, the new one started at %s", stops[0].Format(time.StampMicro), starts[0].Format(time.StampMicro))
	}
	t.Logf("failover took %s; the old leader stopped %s before the new one started", took.Round(time.Millisecond), starts[0].Sub(stops[0]).Round(time.Millisecond))
	if took > 10*time.Second {
		t.Fatalf("failover took %s, want within 10s", took)
	}
	if old.n.Leader() {
		t.Fatal("the stuck replica still says it leads")
	}
	st := other.n.Status()
	if !st.IsLeader || st.Leader != other.n.Name() || st.Term == 0 {
		t.Fatalf("new leader's status: %+v", st)
	}
	// What the old leader publishes from now on is refused.
	if err := old.n.PublishBatch(context.Background(), event.Batch{Source: "s", Events: []event.Event{{Kind: event.AgentState, Source: "s", Agent: "late"}}}); !errors.Is(err, ErrNotLeader) {
		t.Fatalf("a publish of the stopped leader: %v, want ErrNotLeader", err)
	}
}

func TestLeaderCutFromNATSStopsBeforeAnotherStarts(t *testing.T) {
	t.Parallel()
	// publishing: the cut leader's publishes fail first (its sources stop
	// at once); idle: only the lease's deadline stops it.
	for _, tc := range []struct {
		name    string
		publish func(context.Context, *replica)
	}{
		{name: "publishing", publish: publishEvery},
		{name: "idle"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			testCut(t, tc.publish)
		})
	}
}

func testCut(t *testing.T, publish func(context.Context, *replica)) {
	url := clustertest.NATS(t)
	proxy := clustertest.NewProxy(t, strings.TrimPrefix(url, "nats://"))
	// The first replica reaches NATS through a proxy, so it can be cut
	// off without being stopped; it takes the lease first.
	a := startReplica(t, "a", proxy.URL(), publish, nil)
	leaderOf(t, 10*time.Second, a)
	b := startReplica(t, "b", url, publishEvery, nil)
	c := startReplica(t, "c", url, publishEvery, nil)
	if publish != nil {
		waitFor(t, 5*time.Second, "b and c to apply a's batches", func() bool {
			return len(b.applied()) > 10 && len(c.applied()) > 10
		})
	}

	cutAt := time.Now()
	proxy.Cut()
	next := leaderOf(t, 10*time.Second, b, c)
	took := time.Since(cutAt)
	_, stops := a.leadTimes()
	starts, _ := next.leadTimes()
	if len(stops) == 0 {
		t.Fatal("the cut leader never stopped its sources")
	}
	if !stops[0].Before(starts[0]) {
		t.Fatalf("two leaders: the cut one stopped at %s, %s started at %s", stops[0].Format(time.StampMicro), next.n.Name(), starts[0].Format(time.StampMicro))
	}
	t.Logf("cut at %s; a stopped at %s; %s started at %s (failover %s)", cutAt.Format(time.StampMilli), stops[0].Format(time.StampMilli),
		next.n.Name(), starts[0].Format(time.StampMilli), took.Round(time.Millisecond))
	if took > 10*time.Second {
		t.Fatalf("failover took %s, want within 10s", took)
	}
	if err := a.n.PublishBatch(context.Background(), event.Batch{Source: "s", Events: []event.Event{{Kind: event.AgentState, Source: "s", Agent: "late"}}}); !errors.Is(err, ErrNotLeader) {
		t.Fatalf("a publish of the cut leader: %v, want ErrNotLeader", err)
	}

	// No batch of a's reaches a model after the new leader's first.
	waitFor(t, 5*time.Second, "the new leader's batches", func() bool {
		for _, x := range b.applied() {
			if x.agent == next.n.Name() {
				return true
			}
		}
		return false
	})
	for _, r := range []*replica{b, c} {
		seenNew := false
		for _, x := range r.applied() {
			switch x.agent {
			case next.n.Name():
				seenNew = true
			case "a":
				if seenNew {
					t.Fatalf("%s applied a batch of the cut leader after the new leader's: %+v", r.n.Name(), x)
				}
			}
		}
	}
}

func TestEveryReplicaAppliesTheSameBatchesInTheSameOrder(t *testing.T) {
	t.Parallel()
	url := clustertest.NATS(t)
	fast := func(o *Options) {
		o.LeaseTTL, o.Renew, o.StopMargin = 2*time.Second, 200*time.Millisecond, 600*time.Millisecond
	}
	const n = 300
	leaderPublishes := func(ctx context.Context, r *replica) {
		for i := 1; i <= n; i++ {
			b := event.Batch{Source: "s", Ticket: uint64(i), Cursor: fmt.Sprintf("c%d", i), Events: []event.Event{
				{Kind: event.AgentState, Source: "s", Agent: fmt.Sprintf("ag%d", i%7), State: event.StateBusy, ID: fmt.Sprintf("e%d", i)},
				{Kind: event.QueueInfo, Source: "s", Queue: "q", Name: "Q", ID: fmt.Sprintf("q%d", i)}}}
			if err := r.n.PublishBatch(ctx, b); err != nil {
				r.t.Errorf("publish %d: %v", i, err)
				return
			}
		}
	}
	a := startReplica(t, "a", url, leaderPublishes, fast)
	leaderOf(t, 10*time.Second, a)
	b := startReplica(t, "b", url, nil, fast)
	c := startReplica(t, "c", url, nil, fast)
	// Webhooks posted to followers meanwhile, each once.
	for i := 1; i <= 50; i++ {
		f := []*replica{b, c}[i%2]
		err := f.n.Post(ctxTimeout(t, 5*time.Second), event.Batch{Source: "hook", Events: []event.Event{
			{Kind: event.AgentState, Source: "hook", Agent: "h", State: event.StateAvailable, ID: fmt.Sprintf("h%d", i)}}})
		if err != nil {
			t.Fatalf("post %d to %s: %v", i, f.n.Name(), err)
		}
	}
	total := n + 50
	for _, r := range []*replica{a, b, c} {
		waitFor(t, 10*time.Second, r.n.Name()+" to apply every batch", func() bool { return len(r.applied()) >= total })
	}
	want := a.applied()
	if len(want) != total {
		t.Fatalf("a applied %d batches, want %d", len(want), total)
	}
	for _, r := range []*replica{b, c} {
		got := r.applied()
		for i := range want {
			if got[i].pos != want[i].pos || !slices.Equal(got[i].ids, want[i].ids) {
				t.Fatalf("%s's batch %d is %+v, a's is %+v", r.n.Name(), i, got[i], want[i])
			}
		}
	}
	// The leader's batches in its own order, and its tickets durable.
	var seq []string
	for _, x := range want {
		if x.source == "s" {
			seq = append(seq, x.ids[0])
		}
	}
	for i, id := range seq {
		if id != fmt.Sprintf("e%d", i+1) {
			t.Fatalf("the leader's batch %d is %s", i, id)
		}
	}
	waitFor(t, 5*time.Second, "every ticket durable", func() bool {
		a.mu.Lock()
		defer a.mu.Unlock()
		return a.durable["s"] == n
	})
	// Every node's status lists the three, with what they applied.
	waitFor(t, 5*time.Second, "the status to list three nodes", func() bool {
		st := b.n.Status()
		if len(st.Nodes) != 3 || st.Leader != "a" {
			return false
		}
		for _, ns := range st.Nodes {
			if ns.Applied < uint64(want[len(want)-1].pos) || ns.Leader != (ns.Name == "a") {
				return false
			}
		}
		return st.Ready && st.LagSeconds == 0
	})
}

func TestDuplicatesAreDropped(t *testing.T) {
	t.Parallel()
	url := clustertest.NATS(t)
	fast := func(o *Options) {
		o.LeaseTTL, o.Renew, o.StopMargin = 2*time.Second, 200*time.Millisecond, 600*time.Millisecond
	}
	batch := func(src string, ids ...string) event.Batch {
		b := event.Batch{Source: src}
		for _, id := range ids {
			b.Events = append(b.Events, event.Event{Kind: event.ContactCompleted, Source: src, Queue: "q", Interaction: id, ID: id, Answered: true})
		}
		return b
	}
	published := make(chan struct{})
	a := startReplica(t, "a", url, func(ctx context.Context, r *replica) {
		for _, b := range []event.Batch{batch("s", "x1", "x2"), batch("s", "x1", "x2"), batch("s", "x3"),
			batch("s", ""), batch("s", ""), batch("s", "x3")} {
			if err := r.n.PublishBatch(ctx, b); err != nil {
				r.t.Errorf("publish: %v", err)
			}
		}
		close(published)
	}, fast)
	leaderOf(t, 10*time.Second, a)
	b := startReplica(t, "b", url, nil, fast)
	select {
	case <-published:
	case <-time.After(10 * time.Second):
		t.Fatal("the leader did not publish within 10s")
	}
	// The same webhook reaching two replicas (a vendor's retry) is kept once.
	for _, r := range []*replica{a, b} {
		if err := r.n.Post(ctxTimeout(t, 5*time.Second), batch("hook", "cdr:1")); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.n.Post(ctxTimeout(t, 5*time.Second), batch("hook", "cdr:2")); err != nil {
		t.Fatal(err)
	}
	var want = [][]string{{"x1", "x2"}, {"x3"}, {""}, {""}, {"cdr:1"}, {"cdr:2"}}
	for _, r := range []*replica{a, b} {
		waitFor(t, 5*time.Second, r.n.Name()+" to apply "+fmt.Sprint(len(want))+" batches", func() bool {
			got := r.applied()
			return len(got) >= len(want) && slices.Equal(got[len(got)-1].ids, []string{"cdr:2"})
		})
		var got [][]string
		for _, x := range r.applied() {
			got = append(got, x.ids)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s applied %v, want %v (events without ids are never deduplicated)", r.n.Name(), got, want)
		}
	}
}

func TestAFormerLeadersLateMessageIsDroppedEverywhere(t *testing.T) {
	t.Parallel()
	url := clustertest.NATS(t)
	fast := func(o *Options) {
		o.LeaseTTL, o.Renew, o.StopMargin = 2*time.Second, 200*time.Millisecond, 600*time.Millisecond
	}
	first := startReplica(t, "first", url, nil, fast)
	leaderOf(t, 10*time.Second, first)
	old := first.n.Status().Term
	first.stop() // gives the lease up
	a := startReplica(t, "a", url, nil, fast)
	leaderOf(t, 10*time.Second, a)
	term := a.n.Status().Term
	if term <= old {
		t.Fatalf("the new term %d is not above the old %d", term, old)
	}

	// A message of an older term, published after the current term's
	// first message (a former leader's publish that arrived late), and
	// one of the current term after it.
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	pub := func(term uint64, agent string) {
		b := event.Batch{Source: "s", Events: []event.Event{{Kind: event.AgentState, Source: "s", Agent: agent, State: event.StateBusy}}}
		m := a.n.message(&b, term)
		if _, err := js.PublishMsg(ctxTimeout(t, 5*time.Second), m); err != nil {
			t.Fatal(err)
		}
	}
	pub(old, "stale")
	pub(term, "current")
	waitFor(t, 5*time.Second, "a to apply the current term's message", func() bool {
		got := a.applied()
		return len(got) > 0 && got[len(got)-1].agent == "current"
	})
	if got := a.applied(); len(got) != 1 {
		t.Fatalf("a applied %+v, want only the current term's message", got)
	}
	if st := a.n.Status(); st.Fenced != 1 {
		t.Fatalf("fenced = %d, want 1", st.Fenced)
	}
	// A replica that starts later, from a's position, knows the term and
	// drops the same message; one that starts from the stream's start too.
	from := a.applied()[0].pos
	pub(old, "stale2")
	pub(term, "current2")
	for _, tc := range []struct {
		name string
		from journal.Pos
		want []string
	}{
		{name: "from-snapshot", from: from, want: []string{"current2"}},
		{name: "from-start", from: 0, want: []string{"current", "current2"}},
	} {
		r := startReplica(t, tc.name, url, nil, func(o *Options) { fast(o); o.From = tc.from })
		waitFor(t, 5*time.Second, tc.name+" to apply", func() bool { return len(r.applied()) >= len(tc.want) })
		time.Sleep(300 * time.Millisecond) // nothing more arrives
		var agents []string
		for _, x := range r.applied() {
			agents = append(agents, x.agent)
		}
		if !slices.Equal(agents, tc.want) {
			t.Errorf("%s applied %v, want %v", tc.name, agents, tc.want)
		}
	}
}

func TestStateBucketKeepsValuesAcrossNodes(t *testing.T) {
	t.Parallel()
	url := clustertest.NATS(t)
	a := startReplica(t, "a", url, nil, nil)
	b := startReplica(t, "b", url, nil, nil)
	if _, err := a.n.State().Get("pulsar-main"); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Fatalf("missing key: %v", err)
	}
	if err := a.n.State().Put("pulsar-main", []byte("subscription-1")); err != nil {
		t.Fatal(err)
	}
	got, err := b.n.State().Get("pulsar-main")
	if err != nil || string(got) != "subscription-1" {
		t.Fatalf("b reads %q, %v", got, err)
	}
	if err := b.n.State().Delete("pulsar-main"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.n.State().Get("pulsar-main"); err == nil {
		t.Fatal("deleted key still read")
	}
}

func TestMsgID(t *testing.T) {
	t.Parallel()
	ev := func(id string) event.Event { return event.Event{Kind: event.AgentState, ID: id} }
	for _, tc := range []struct {
		name string
		a, b event.Batch
		same bool
	}{
		{name: "same ids", a: event.Batch{Source: "s", Events: []event.Event{ev("1"), ev("2")}}, b: event.Batch{Source: "s", Events: []event.Event{ev("1"), ev("2")}}, same: true},
		{name: "other source", a: event.Batch{Source: "s", Events: []event.Event{ev("1")}}, b: event.Batch{Source: "t", Events: []event.Event{ev("1")}}},
		{name: "other order", a: event.Batch{Source: "s", Events: []event.Event{ev("1"), ev("2")}}, b: event.Batch{Source: "s", Events: []event.Event{ev("2"), ev("1")}}},
		{name: "ids joined differently", a: event.Batch{Source: "s", Events: []event.Event{ev("1"), ev("23")}}, b: event.Batch{Source: "s", Events: []event.Event{ev("12"), ev("3")}}},
	} {
		ida, idb := MsgID(&tc.a), MsgID(&tc.b)
		if ida == "" || idb == "" || (ida == idb) != tc.same {
			t.Errorf("%s: %q vs %q", tc.name, ida, idb)
		}
	}
	if id := MsgID(&event.Batch{Source: "s", Events: []event.Event{ev("1"), ev("")}}); id != "" {
		t.Errorf("an event without an id: %q, want none", id)
	}
}

func TestAPostRelayedToTheLeader(t *testing.T) {
	t.Parallel()
	url := clustertest.NATS(t)
	fast := func(o *Options) {
		o.LeaseTTL, o.Renew, o.StopMargin = 2*time.Second, 200*time.Millisecond, 600*time.Millisecond
	}
	a := startReplica(t, "a", url, func(ctx context.Context, r *replica) {
		go func() {
			_ = r.n.ServeRelays(ctx, func(src string, h http.Header, body []byte) (int, []byte) {
				if h.Get("X-Correlation-ID") != "sub-1" {
					return http.StatusUnauthorized, []byte("unknown subscription")
				}
				return http.StatusOK, []byte(r.n.Name() + " took " + src + ": " + string(body))
			})
		}()
	}, fast)
	leaderOf(t, 10*time.Second, a)
	b := startReplica(t, "b", url, nil, fast)
	tests := []struct {
		name   string
		corr   string
		status int
		answer string
	}{
		{name: "accepted", corr: "sub-1", status: 200, answer: "a took ns: [{}]"},
		{name: "refused by the leader", corr: "forged", status: 401, answer: "unknown subscription"},
	}
	for _, tc := range tests {
		h := http.Header{}
		h.Set("X-Correlation-ID", tc.corr)
		h.Set("Authorization", "never relayed")
		var status int
		var answer []byte
		var err error
		// the leader subscribes as its session starts: retry briefly
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			status, answer, err = b.n.Relay(context.Background(), "ns", h, []byte("[{}]"))
			if !errors.Is(err, ErrNoLeader) || time.Now().After(deadline) {
				break
			}
		}
		if err != nil || status != tc.status || string(answer) != tc.answer {
			t.Errorf("%s: %d %q %v, want %d %q", tc.name, status, answer, err, tc.status, tc.answer)
		}
	}
	// Nobody takes relayed posts (b leads but serves none): ErrNoLeader.
	a.stop()
	leaderOf(t, 10*time.Second, b)
	if _, _, err := b.n.Relay(context.Background(), "ns", http.Header{}, nil); !errors.Is(err, ErrNoLeader) {
		t.Fatalf("relay without a taker: %v, want ErrNoLeader", err)
	}
}
