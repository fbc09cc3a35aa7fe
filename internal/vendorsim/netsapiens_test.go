package vendorsim

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wallboard/wallboard/internal/event"
)

type nsReceived struct {
	cid  string
	body []byte
}

// nsReceiver is a webhook endpoint answering a settable status.
type nsReceiver struct {
	srv    *httptest.Server
	status atomic.Int32
	got    chan nsReceived
}

func newNSReceiver(t *testing.T) *nsReceiver {
	r := &nsReceiver{got: make(chan nsReceived, 256)}
	r.status.Store(200)
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		select {
		case r.got <- nsReceived{req.Header.Get("X-Correlation-ID"), b}:
		default:
		}
		w.WriteHeader(int(r.status.Load()))
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func nsAPI(t *testing.T, e *NetSapiensServer, method, path, key string, body any) (int, map[string]any, []any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, e.URL()+"/ns-api/v2"+path, rd)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var obj map[string]any
	var arr []any
	if json.Unmarshal(b, &obj) != nil {
		_ = json.Unmarshal(b, &arr)
	}
	return resp.StatusCode, obj, arr
}

func startNS(t *testing.T, o NetSapiensOptions) (*Sim, *NetSapiensServer) {
	t.Helper()
	sim := NewSim(Options{Prefix: "t", Agents: 4, Queues: 2, Seed: 3})
	if o.FlushInterval == 0 {
		o.FlushInterval = 10 * time.Millisecond
	}
	e, err := StartNetSapiens(sim, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	return sim, e
}

func TestNetSapiensSubscriptionsAPI(t *testing.T) {
	t.Parallel()
	_, e := startNS(t, NetSapiensOptions{APIKey: "nsd-k"})
	create := map[string]any{"model": "call", "post-url": "http://127.0.0.1:1/hook", "domain": "acme.service", "subscription-geo-support": "yes"}
	if st, _, _ := nsAPI(t, e, "POST", "/subscriptions", "nsd-bad", create); st != 401 {
		t.Errorf("bad key: %d", st)
	}
	st, obj, _ := nsAPI(t, e, "POST", "/subscriptions", "nsd-k", create)
	id, _ := obj["id"].(string)
	if st != 200 || len(id) != 32 || obj["status"] != "pending" || obj["post-url"] != "http://127.0.0.1:1/hook" {
		t.Fatalf("create: %d %v", st, obj)
	}
	if st, obj, _ := nsAPI(t, e, "POST", "/subscriptions", "nsd-k", create); st != 409 || obj["message"] == nil {
		t.Errorf("identical create: %d %v", st, obj)
	}
	if st, _, _ := nsAPI(t, e, "POST", "/subscriptions", "nsd-k", map[string]any{"model": "nope", "post-url": "x"}); st != 400 {
		t.Errorf("bad model: %d", st)
	}
	if st, _, arr := nsAPI(t, e, "GET", "/subscriptions", "nsd-k", nil); st != 200 || len(arr) != 1 {
		t.Errorf("list: %d %v", st, arr)
	}
	if st, obj, _ := nsAPI(t, e, "GET", "/subscriptions/"+id, "nsd-k", nil); st != 200 || obj["id"] != id || obj["error-count"] != 0.0 {
		t.Errorf("get: %d %v", st, obj)
	}
	if st, _, _ := nsAPI(t, e, "DELETE", "/subscriptions/"+id, "nsd-k", nil); st != 400 {
		t.Errorf("delete without body: %d, want 400", st)
	}
	if st, obj, _ := nsAPI(t, e, "DELETE", "/subscriptions/"+id, "nsd-k", map[string]string{"subscription_id": id, "domain": "acme.service"}); st != 202 || obj["code"] != 202.0 {
		t.Errorf("delete: %d %v", st, obj)
	}
	if st, _, _ := nsAPI(t, e, "GET", "/subscriptions/"+id, "nsd-k", nil); st != 404 {
		t.Errorf("get after delete: %d", st)
	}
}

func TestNetSapiensPostsAndCounters(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		status     int
		posts      int
		errs       int
		wantStatus string
	}{
		{"200 is a post", 200, 1, 0, "active"},
		{"302 is still a post", 302, 1, 0, "active"},
		{"401 is an error", 401, 0, 1, "error"},
		{"503 is an error", 503, 0, 1, "error"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rcv := newNSReceiver(t)
			rcv.status.Store(int32(tc.status))
			_, e := startNS(t, NetSapiensOptions{})
			_, obj, _ := nsAPI(t, e, "POST", "/subscriptions", "nsd-emulator", map[string]any{"model": "cdr", "post-url": rcv.srv.URL, "domain": "acme.service"})
			id := obj["id"].(string)
			p := e.Post(id, []map[string]any{{"orig_callid": "x"}})
			if p.Status != tc.status {
				t.Fatalf("status %d", p.Status)
			}
			got := <-rcv.got
			if got.cid != id || string(got.body) != `[{"orig_callid":"x"}]` {
				t.Errorf("received %q %s", got.cid, got.body)
			}
			s := e.Subscriptions()[0]
			if s.PostsCount != tc.posts || s.ErrorCount != tc.errs || s.Status != tc.wantStatus {
				t.Errorf("counters posts %d errors %d status %s", s.PostsCount, s.ErrorCount, s.Status)
			}
		})
	}
}

func TestNetSapiensRendersSimulationAndFaults(t *testing.T) {
	t.Parallel()
	rcv := newNSReceiver(t)
	sim, e := startNS(t, NetSapiensOptions{SnakeCase: true, OversizeBytes: 4096})
	_, obj, _ := nsAPI(t, e, "POST", "/subscriptions", "nsd-emulator", map[string]any{"model": "agent", "post-url": rcv.srv.URL, "domain": "acme.service"})
	id := obj["id"].(string)
	// The agent table is posted on subscribe, snake_case as asked.
	first := <-rcv.got
	if first.cid != id || !strings.Contains(string(first.body), `"callqueue_agent_availability_type":"disabled"`) {
		t.Fatalf("snapshot %s", first.body)
	}
	agent := sim.Agents()[0].ID
	tests := []struct {
		name   string
		faults NetSapiensFaults
		check  func(posts []nsReceived) string
	}{
		{"plain", NetSapiensFaults{}, func(p []nsReceived) string {
			if len(p) != 1 || p[0].cid != id || !strings.Contains(string(p[0].body), `"callqueue_agent_status":"Lunch"`) {
				return "want one post with the Lunch entry"
			}
			return ""
		}},
		{"duplicate", NetSapiensFaults{Duplicate: true}, func(p []nsReceived) string {
			if len(p) != 2 || !bytes.Equal(p[0].body, p[1].body) {
				return "want the same post twice"
			}
			return ""
		}},
		{"wrong correlation id", NetSapiensFaults{WrongCorrelationID: true}, func(p []nsReceived) string {
			if len(p) != 1 || p[0].cid == id || len(p[0].cid) != 32 {
				return "want another id"
			}
			return ""
		}},
		{"oversized", NetSapiensFaults{Oversized: 1}, func(p []nsReceived) string {
			if len(p) != 1 || len(p[0].body) <= 4096 {
				return "want a body over 4096 bytes"
			}
			return ""
		}},
		{"malformed", NetSapiensFaults{Malformed: 1}, func(p []nsReceived) string {
			if len(p) != 1 || json.Valid(p[0].body) {
				return "want invalid JSON"
			}
			return ""
		}},
	}
	for _, tc := range tests { // sequential: one emulator
		e.SetFaults(tc.faults)
		sim.Do(Action{Kind: ActionAgentState, Agent: agent, State: event.StateNotReady, Reason: "Lunch"})
		var posts []nsReceived
		posts = append(posts, <-rcv.got)
		// Anything else from the same flush arrives right after.
		for done := false; !done; {
			select {
			case p := <-rcv.got:
				posts = append(posts, p)
			case <-time.After(100 * time.Millisecond):
				done = true
			}
		}
		if msg := tc.check(posts); msg != "" {
			t.Errorf("%s: %s (got %d posts)", tc.name, msg, len(posts))
		}
	}
}

// TestNetSapiensMaxBatch: a flush with more objects than MaxBatch goes out
// as several posts, in order, none over the cap.
func TestNetSapiensMaxBatch(t *testing.T) {
	t.Parallel()
	rcv := newNSReceiver(t)
	sim, e := startNS(t, NetSapiensOptions{MaxBatch: 2, FlushInterval: 50 * time.Millisecond})
	_, obj, _ := nsAPI(t, e, "POST", "/subscriptions", "nsd-emulator", map[string]any{"model": "agent", "post-url": rcv.srv.URL, "domain": "acme.service"})
	id := obj["id"].(string)
	// The snapshot of the 4 agents (6 entries: two serve two queues).
	var snap []map[string]any
	for len(snap) < 6 {
		p := <-rcv.got
		var objs []map[string]any
		if err := json.Unmarshal(p.body, &objs); err != nil || p.cid != id || len(objs) > 2 {
			t.Fatalf("snapshot post %s (%v)", p.body, err)
		}
		snap = append(snap, objs...)
	}
	// Five changes of agents that serve one queue each, in one flush.
	var agents []string
	for _, a := range sim.Agents() {
		if len(a.Queues) == 1 {
			agents = append(agents, a.ID)
		}
	}
	for i := range 5 {
		sim.Do(Action{Kind: ActionAgentState, Agent: agents[i%len(agents)], State: event.StateNotReady, Reason: "r" + string(rune('0'+i))})
	}
	var reasons []string
	posts := 0
	for len(reasons) < 5 {
		select {
		case p := <-rcv.got:
			var objs []map[string]any
			if err := json.Unmarshal(p.body, &objs); err != nil || len(objs) == 0 || len(objs) > 2 {
				t.Fatalf("post of %d objects: %s (%v)", len(objs), p.body, err)
			}
			posts++
			for _, o := range objs {
				reasons = append(reasons, o["callqueue-agent-status"].(string))
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("got %v", reasons)
		}
	}
	if strings.Join(reasons, ",") != "r0,r1,r2,r3,r4" || posts < 3 {
		t.Errorf("reasons %v in %d posts, want r0..r4 in order in at least 3", reasons, posts)
	}
}

// TestNetSapiensQueueAsLeg: with QueueAsLeg, a call names its queue only
// as the queue's own leg while it waits (call-term-user and
// call-dialed-number, call-orig-to-user carrying the dialled number), and
// as call-by-user with call-by-action "callqueue" once an agent rings.
func TestNetSapiensQueueAsLeg(t *testing.T) {
	t.Parallel()
	_, e := startNS(t, NetSapiensOptions{QueueAsLeg: true})
	const q, agent = "tq100", "tag001"
	e.mu.Lock()
	e.renderLocked(Action{Kind: ActionCallQueued, Queue: q, Call: "c1", At: time.Now()})
	e.renderLocked(Action{Kind: ActionCallOffered, Queue: q, Call: "c1", Agent: agent, At: time.Now()})
	objs := e.pending["call"]
	e.mu.Unlock()
	if len(objs) != 2 {
		t.Fatalf("%d call objects, want 2", len(objs))
	}
	waiting, ringing := objs[0], objs[1]
	for k, want := range map[string]any{"call-term-user": q, "call-dialed-number": q, "call-orig-to-user": nsDialledNumber} {
		if waiting[k] != want {
			t.Errorf("waiting call: %s = %v, want %v (%v)", k, waiting[k], want, waiting)
		}
	}
	if _, ok := waiting["callqueue"]; ok {
		t.Errorf("waiting call names callqueue: %v", waiting)
	}
	for k, want := range map[string]any{"call-term-user": agent, "call-by-user": q, "call-by-action": "callqueue", "call-orig-to-user": nsDialledNumber} {
		if ringing[k] != want {
			t.Errorf("ringing call: %s = %v, want %v (%v)", k, ringing[k], want, ringing)
		}
	}
}
