package pulsar

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/wallboard/wallboard/internal/config"
	"github.com/wallboard/wallboard/internal/event"
	"github.com/wallboard/wallboard/internal/source"
	"github.com/wallboard/wallboard/internal/source/eightbyeight"
	"github.com/wallboard/wallboard/internal/source/sourcetest"
	"github.com/wallboard/wallboard/internal/store"
	"github.com/wallboard/wallboard/internal/vendorsim"
)

// sink collects what a source emits (the boundary to the model).
type sink = sourcetest.Sink

func newSink() *sink { return sourcetest.NewSink() }

// waitFor waits until cond holds, woken by what s (may be nil) receives.
func waitFor(t *testing.T, s *sink, what string, cond func() bool) {
	t.Helper()
	sourcetest.Wait(t, s, what, cond)
}

var base = time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)

func newSim(seed int64) *vendorsim.Sim {
	return vendorsim.NewSim(vendorsim.Options{Prefix: "p", Agents: 8, Queues: 2, Seed: seed, Pace: 4,
		Now: func() time.Time { return base }})
}

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

func newServer(t *testing.T, sim *vendorsim.Sim, o vendorsim.PulsarOptions) *vendorsim.PulsarServer {
	t.Helper()
	srv, err := vendorsim.NewPulsarServer(sim, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv
}

type runner struct {
	src    *Source
	rep    *source.Reporter
	cancel context.CancelFunc
	done   chan struct{}
}

func supervise(t *testing.T, cfg config.Source, st source.Store, sk *sink) *runner {
	t.Helper()
	return superviseWith(t, cfg, st, sk, nil)
}

// superviseWith is supervise with the source's dialer replaced by dial
// (when not nil). The source reads the stream alone: what these tests
// check must come through it, not from the agent status API (resync_test).
func superviseWith(t *testing.T, cfg config.Source, st source.Store, sk *sink,
	dial func(ctx context.Context, network, addr string) (net.Conn, error)) *runner {
	t.Helper()
	if o, ok := cfg.Options.(*Options); ok {
		o.AgentStatusURL, o.AgentStatusToken = "", ""
	}
	return start(t, cfg, st, sk, dial)
}

// start runs the source cfg configures under the real supervisor.
func start(t *testing.T, cfg config.Source, st source.Store, sk *sink,
	dial func(ctx context.Context, network, addr string) (net.Conn, error)) *runner {
	t.Helper()
	src, err := New(cfg, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	if dial != nil {
		src.dial = dial
	}
	rep := source.NewReporter(cfg.Name, Type, sk, nil)
	ctx, cancel := context.WithCancel(context.Background())
	r := &runner{src: src, rep: rep, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		source.Supervise(ctx, src, rep, source.Backoff{Min: 20 * time.Millisecond, Max: 100 * time.Millisecond})
	}()
	t.Cleanup(r.stop)
	return r
}

func (r *runner) stop() { r.cancel(); <-r.done }

func matchesTruth(sim *vendorsim.Sim, s *sink) func() bool {
	return func() bool {
		last := map[string]event.Event{}
		for _, e := range s.Events() {
			if e.Kind == event.AgentState {
				last[e.Agent] = e
			}
		}
		for id, ta := range sim.Truth().Agents {
			e, ok := last[id]
			if !ok || e.State != ta.State || (ta.State == event.StateNotReady && e.Reason != ta.Reason) {
				return false
			}
		}
		return true
	}
}

// TestReader reads the topic from earliest, gets the provisioning and the
// live actions, acknowledges every message, and ends at the truth.
func TestReader(t *testing.T) {
	t.Parallel()
	sim := newSim(1)
	srv := newServer(t, sim, vendorsim.PulsarOptions{})
	sk := newSink()
	var writes atomic.Int64
	r := superviseWith(t, srv.SourceConfig("ev"), nil, sk, countingDial(&writes))
	step(t, sim, srv, 0, 40)
	waitFor(t, sk, "truth", matchesTruth(sim, sk))
	ids, _ := srv.Logged()
	waitFor(t, sk, "all acked", func() bool { return srv.Acks() == int64(len(ids)) })
	queues := map[string]string{}
	names := map[string]string{}
	for _, e := range sk.Events() {
		switch e.Kind {
		case event.QueueInfo:
			queues[e.Queue] = e.Name
		case event.AgentInfo:
			if e.Name != "" {
				names[e.Agent] = e.Name
			}
		}
	}
	for _, q := range sim.Queues() {
		if queues[q.ID] != q.Name {
			t.Errorf("queue %s named %q, want %q", q.ID, queues[q.ID], q.Name)
		}
	}
	for _, a := range sim.Agents() {
		if names[a.ID] != a.Name {
			t.Errorf("agent %s named %q, want %q", a.ID, names[a.ID], a.Name)
		}
	}
	if st := r.rep.Stats(); st.Messages != int64(len(ids)) || st.Errors != 0 {
		t.Errorf("stats %+v, want %d messages", st, len(ids))
	}
	t.Logf("%d socket writes for %d acks", writes.Load(), srv.Acks())
	// The acks of a chunk leave in one write: fewer socket writes than acks
	// (the upgrade request is one of them).
	if w := writes.Load(); w == 0 || w >= srv.Acks() {
		t.Errorf("%d socket writes for %d acks", w, srv.Acks())
	}
}

// TestFlowControl: with receiverQueueSize 3 the proxy never has more than
// three messages in flight; the source still gets everything because it
// acknowledges each one.
func TestFlowControl(t *testing.T) {
	t.Parallel()
	sim := newSim(2)
	srv := newServer(t, sim, vendorsim.PulsarOptions{})
	cfg := srv.SourceConfig("fc")
	opts(cfg).ReceiverQueueSize = 3
	sk := newSink()
	r := supervise(t, cfg, nil, sk)
	step(t, sim, srv, 0, 30)
	ids, _ := srv.Logged()
	waitFor(t, sk, "every message", func() bool { return r.rep.Stats().Messages == int64(len(ids)) })
	if len(ids) < 50 {
		t.Errorf("only %d messages; want a stream much longer than the queue", len(ids))
	}
}

// TestDropResume: drops in the middle of the stream, then resume from the
// last processed id: nothing lost, nothing delivered twice (the proxy's
// resume is exclusive), nothing counted twice.
func TestDropResume(t *testing.T) {
	t.Parallel()
	sim := newSim(3)
	srv := newServer(t, sim, vendorsim.PulsarOptions{})
	sk := newSink()
	r := supervise(t, srv.SourceConfig("dr"), nil, sk)
	srv.DropAfter(20)
	step(t, sim, srv, 0, 20)
	waitFor(t, sk, "reconnect", func() bool { return srv.Connects() >= 2 })
	srv.DropAfter(9)
	step(t, sim, srv, 20, 40)
	waitFor(t, sk, "second reconnect", func() bool { return srv.Connects() >= 3 })
	srv.Drop()
	step(t, sim, srv, 40, 60)
	ids, _ := srv.Logged()
	waitFor(t, sk, "every message", func() bool { return r.src.Cursor() == ids[len(ids)-1] })
	waitFor(t, sk, "truth", matchesTruth(sim, sk))
	if got := r.rep.Stats().Messages; got != int64(len(ids)) {
		t.Errorf("received %d messages for %d published: a resume repeated some", got, len(ids))
	}
	seen := map[string]bool{}
	for _, e := range sk.Events() {
		if e.ID == "" {
			continue // the start's resync from the agent status API: no message of the topic
		}
		if seen[e.ID] {
			t.Errorf("event %s emitted twice", e.ID)
		}
		seen[e.ID] = true
	}
}

// TestRestartResumesFromStore: the cursor survives a restart through the
// state directory; the new process gets exactly what it missed.
func TestRestartResumesFromStore(t *testing.T) {
	t.Parallel()
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	sim := newSim(4)
	srv := newServer(t, sim, vendorsim.PulsarOptions{})
	cfg := srv.SourceConfig("rs")
	sk := newSink()
	r := supervise(t, cfg, st, sk)
	step(t, sim, srv, 0, 20)
	first, _ := srv.Logged()
	waitFor(t, sk, "first part", func() bool { return r.src.Cursor() == first[len(first)-1] })
	r.stop()
	if b, err := st.Get("8x8-stream-rs.cursor"); err != nil || !strings.Contains(string(b), first[len(first)-1]) {
		t.Fatalf("stored cursor %s, %v", b, err)
	}
	step(t, sim, srv, 20, 40)
	all, _ := srv.Logged()
	sk2 := newSink()
	r2 := supervise(t, cfg, st, sk2)
	waitFor(t, sk2, "the rest", func() bool { return r2.rep.Stats().Messages >= int64(len(all)-len(first)) })
	time.Sleep(100 * time.Millisecond) // anything repeated would arrive now
	if got := r2.rep.Stats().Messages; got != int64(len(all)-len(first)) {
		t.Errorf("after restart got %d messages, want %d", got, len(all)-len(first))
	}
}

// TestConsumerFailover: two wallboards on one Failover subscription; the
// standby takes over when the active one goes and the subscription resumes
// from its acknowledgements.
func TestConsumerFailover(t *testing.T) {
	t.Parallel()
	sim := newSim(5)
	srv := newServer(t, sim, vendorsim.PulsarOptions{})
	cfg := srv.SourceConfig("c")
	opts(cfg).Mode, opts(cfg).Subscription, opts(cfg).SubscriptionType = "consumer", "wallboard", "Failover"
	sk := newSink() // both wallboards feed one board
	a := supervise(t, cfg, nil, sk)
	waitFor(t, sk, "active", func() bool { return len(sk.Events()) > 0 })
	b := supervise(t, cfg, nil, sk)
	waitFor(t, nil, "standby connected", func() bool { return srv.Connects() >= 2 })
	step(t, sim, srv, 0, 20)
	part, _ := srv.Logged()
	waitFor(t, sk, "first part acknowledged", func() bool { return srv.Acks() == int64(len(part)) })
	a.stop()
	step(t, sim, srv, 20, 40)
	all, _ := srv.Logged()
	waitFor(t, sk, "standby takes over", func() bool { return a.rep.Stats().Messages+b.rep.Stats().Messages >= int64(len(all)) })
	waitFor(t, sk, "truth", matchesTruth(sim, sk))
	time.Sleep(50 * time.Millisecond) // a redelivery would arrive now
	got := a.rep.Stats().Messages + b.rep.Stats().Messages
	if got != int64(len(all)) {
		t.Errorf("consumers got %d messages, want %d", got, len(all))
	}
	if b.rep.Stats().Messages == 0 || b.rep.Stats().Messages >= int64(len(all)) {
		t.Errorf("standby got %d of %d", b.rep.Stats().Messages, len(all))
	}
}

// TestExclusiveBusy: a second consumer on an Exclusive subscription is
// refused with 409, which is retried (not failed).
func TestExclusiveBusy(t *testing.T) {
	t.Parallel()
	sim := newSim(6)
	srv := newServer(t, sim, vendorsim.PulsarOptions{})
	cfg := srv.SourceConfig("x")
	opts(cfg).Mode, opts(cfg).Subscription, opts(cfg).SubscriptionType = "consumer", "only", "Exclusive"
	sk := newSink()
	supervise(t, cfg, nil, sk)
	waitFor(t, sk, "first", func() bool { return len(sk.Events()) > 0 })
	src, _ := New(cfg, nil, nil)
	err := src.Run(context.Background(), source.NewReporter("x2", Type, newSink(), nil))
	var perm *source.PermanentError
	if err == nil || errors.As(err, &perm) || !strings.Contains(err.Error(), "409") {
		t.Errorf("err = %v", err)
	}
}

// TestRefusals: 401/403 before the upgrade fail the source with a detail;
// 5xx are retried.
func TestRefusals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		status    int
		key       string
		permanent bool
		detail    string
	}{
		{"wrong key", 0, "nope", true, "rejected the API key"},
		{"401", 401, "", true, "HTTP 401"},
		{"403", 403, "", true, "not authorized"},
		{"500", 500, "", false, "HTTP 500"},
		{"503", 503, "", false, "HTTP 503"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t, newSim(int64(10+i)), vendorsim.PulsarOptions{})
			srv.Refuse(tt.status)
			cfg := srv.SourceConfig("r")
			if tt.key != "" {
				opts(cfg).APIKey = config.Secret(tt.key)
			}
			src, _ := New(cfg, nil, nil)
			err := src.Run(context.Background(), source.NewReporter("r", Type, newSink(), nil))
			var perm *source.PermanentError
			if errors.As(err, &perm) != tt.permanent || err == nil || !strings.Contains(err.Error(), tt.detail) {
				t.Errorf("err = %v, permanent want %v, detail %q", err, tt.permanent, tt.detail)
			}
		})
	}
}

// TestControlFramesAndMalformed: endOfTopic (a boolean), AUTH_CHALLENGE and
// text that is not JSON do not break the session; malformed payloads are
// counted, acknowledged and skipped.
func TestControlFramesAndMalformed(t *testing.T) {
	t.Parallel()
	sim := newSim(7)
	srv := newServer(t, sim, vendorsim.PulsarOptions{})
	sk := newSink()
	r := supervise(t, srv.SourceConfig("cf"), nil, sk)
	waitFor(t, sk, "provisioning", func() bool { return len(sk.Events()) > 0 })
	srv.SendControlFrames()
	srv.PublishMalformed(3)
	step(t, sim, srv, 0, 20)
	waitFor(t, sk, "truth", matchesTruth(sim, sk))
	ids, _ := srv.Logged()
	waitFor(t, sk, "all acked", func() bool { return srv.Acks() == int64(len(ids)) })
	st := r.rep.Stats()
	if st.Errors != 4 { // 3 payloads + 1 non-JSON frame
		t.Errorf("errors = %d, want 4", st.Errors)
	}
	if srv.Connects() != 1 {
		t.Errorf("connects = %d: a control frame broke the session", srv.Connects())
	}
}

// TestPings: the source sends control pings at its interval.
func TestPings(t *testing.T) {
	t.Parallel()
	srv := newServer(t, newSim(8), vendorsim.PulsarOptions{})
	cfg := srv.SourceConfig("pg")
	opts(cfg).PingInterval = config.Duration(30 * time.Millisecond)
	supervise(t, cfg, nil, newSink())
	waitFor(t, nil, "pings", func() bool { return srv.Pings() >= 3 })
}

// TestProxyStopsWithoutAcks: a raw client that never acknowledges receives
// exactly receiverQueueSize messages (the emulator's flow control, which
// the source relies on acknowledging).
func TestProxyStopsWithoutAcks(t *testing.T) {
	t.Parallel()
	sim := newSim(9)
	srv := newServer(t, sim, vendorsim.PulsarOptions{})
	step(t, sim, srv, 0, 20)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, srv.URL()+"/ws/v2/reader/persistent/acme/event-v1/all?messageId=earliest&receiverQueueSize=5",
		&websocket.DialOptions{HTTPHeader: http.Header{"X-API-Key": {srv.APIKey()}}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	var got []string
	for {
		rctx, rcancel := context.WithTimeout(ctx, 300*time.Millisecond)
		_, b, err := c.Read(rctx)
		rcancel()
		if err != nil {
			break
		}
		var f frameJSON
		if err := json.Unmarshal(b, &f); err != nil {
			t.Fatal(err)
		}
		if _, err := base64.StdEncoding.DecodeString(f.Payload); err != nil {
			t.Errorf("payload not base64: %v", err)
		}
		got = append(got, f.MessageID)
	}
	if len(got) != 5 {
		t.Fatalf("got %d messages without acks, want 5", len(got))
	}
}

// FuzzFrame feeds arbitrary proxy frames through the message path: nothing
// may panic.
func FuzzFrame(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.json")
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"messageId":"CAAQAw==","payload":"e30=","properties":{}}`))
	f.Add([]byte(`{"endOfTopic":true}`))
	cfg := config.Source{Name: "fz", Type: Type, Options: &Options{Options: eightbyeight.Options{Tenant: "t"}}}
	opts(cfg).Namespace, opts(cfg).Topic = "n", "all"
	src, err := New(cfg, nil, nil)
	if err != nil {
		f.Fatal(err)
	}
	rep := source.NewReporter("fz", Type, newSink(), nil)
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := parseFrame(b)
		if err != nil {
			return
		}
		_ = src.process(rep, fr, nil)
	})
}

// TestEndpoint checks the reader and consumer URLs: the stored id is
// URL-escaped, the consumer asks for its subscription type.
func TestEndpoint(t *testing.T) {
	t.Parallel()
	mk := func(mode, url string) config.Source {
		c := config.Source{Name: "e", Type: Type, URL: url, Options: &Options{Options: eightbyeight.Options{Tenant: "acme"}, APIKey: "k"}}
		opts(c).Namespace, opts(c).Topic, opts(c).Mode, opts(c).Subscription, opts(c).SubscriptionType = "event-v1", "all", mode, "wb", "Failover"
		opts(c).ReceiverQueueSize, opts(c).InitialPosition = 500, "latest"
		return c
	}
	st, _ := store.Open(t.TempDir())
	_ = st.Put("8x8-stream-e.cursor", []byte(`{"topic":"persistent/acme/event-v1/all","messageId":"CAc+EM/BAQ=="}`))
	tests := []struct {
		name string
		cfg  config.Source
		st   source.Store
		want string
	}{
		{"reader latest", mk("reader", "wss://pulsar-ws-euw2.8x8.com"), nil,
			"wss://pulsar-ws-euw2.8x8.com/ws/v2/reader/persistent/acme/event-v1/all?messageId=latest&receiverQueueSize=500"},
		{"reader resumes stored id, escaped", mk("reader", "https://pulsar-ws-euw2.8x8.com/"), st,
			"wss://pulsar-ws-euw2.8x8.com/ws/v2/reader/persistent/acme/event-v1/all?messageId=CAc%2BEM%2FBAQ%3D%3D&receiverQueueSize=500"},
		{"consumer", mk("consumer", "wss://h"), st,
			"wss://h/ws/v2/consumer/persistent/acme/event-v1/all/wb?receiverQueueSize=500&subscriptionInitialPosition=Latest&subscriptionType=Failover"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			src, err := New(tt.cfg, tt.st, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := src.endpoint(); got != tt.want {
				t.Errorf("endpoint\n got %s\nwant %s", got, tt.want)
			}
		})
	}
	// A cursor stored for another topic is not used.
	other := mk("reader", "wss://h")
	opts(other).Topic = "AgentStatusChange"
	src, _ := New(other, st, nil)
	if src.Cursor() != "" {
		t.Errorf("cursor of another topic reused: %q", src.Cursor())
	}
}

// opts returns the 8x8-stream options of c, to edit them.
func opts(c config.Source) *Options { return c.Options.(*Options) }
