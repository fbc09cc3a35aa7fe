package vendorsim

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wallboard/wallboard/internal/config"
	"github.com/wallboard/wallboard/internal/event"
)

// NetSapiensOptions configure the NetSapiens API v2 emulator.
type NetSapiensOptions struct {
	Domain string // default "acme.service"
	APIKey string // the bearer token the API accepts; default "nsd-emulator"
	// FlushInterval is how often collected changes are posted, one batch
	// (a JSON array) per subscription. Default 100ms.
	FlushInterval time.Duration
	// SnakeCase renders agent, call and presence objects with snake_case
	// keys (older deployments) instead of v2's hyphenated keys. cdr objects
	// are always in the legacy snake_case shape.
	SnakeCase bool
	// QueueAsLeg renders call objects without naming the queue in
	// call-orig-to-user (which then carries the number the caller dialled,
	// DialledNumber): a waiting call names its queue as the queue's own leg
	// (call-term-user and call-dialed-number), and a call ringing or
	// talking to an agent names it as call-by-user with call-by-action
	// "callqueue". NetSapiens publishes no call payload; this is the other
	// form a deployment may post (see the translator's callQueue).
	QueueAsLeg bool
	// MaxBatch caps the objects in one post: a flush with more posts them
	// as several batches, in order, one after the other. 0: no cap (one
	// post per subscription per flush, however large). The vendor does not
	// document its batch size; the load tool sets a cap so that a burst
	// stays under the receiver's body limit instead of being refused whole.
	MaxBatch int
	// OversizeBytes is the size of the body the oversized fault posts.
	// Default 2 MiB.
	OversizeBytes int
	// OnPost, when set, is called after every post with its outcome.
	OnPost func(NetSapiensPost)
}

// NetSapiensFaults switch the emulator's misbehaviours on. Counters are
// one-shot: each flush that posts a batch spends one.
type NetSapiensFaults struct {
	Duplicate          bool // post every batch twice (geo-redundant failover)
	WrongCorrelationID bool // send a wrong X-Correlation-ID
	Oversized          int  // next N posts carry a body over OversizeBytes
	Malformed          int  // next N posts carry malformed JSON
}

// NetSapiensPost is the outcome of one post to a subscriber.
type NetSapiensPost struct {
	Subscription string
	Model        string
	Objects      int
	Status       int // 0 when the request failed
	Err          error
	Fault        string // "", "duplicate", "wrong-id", "oversized", "malformed"
}

// NetSapiensSubscription is an emulated subscription as the API shows it.
type NetSapiensSubscription struct {
	ID              string `json:"id"`
	Model           string `json:"model"`
	PostURL         string `json:"post-url"`
	Domain          string `json:"domain"`
	User            string `json:"user"`
	Reseller        string `json:"reseller"`
	UserScope       string `json:"user-scope"`
	GeoSupport      string `json:"subscription-geo-support"`
	PreferredServer string `json:"preferred-server,omitempty"`
	Expires         string `json:"subscription-expires-datetime"`
	Created         string `json:"subscription-creation-datetime"`
	ActiveServer    string `json:"current-active-server"`
	Status          string `json:"status"`
	ErrorCount      int    `json:"error-count"`
	PostsCount      int    `json:"posts-count"`

	// CreateBody is the request body that created it, as received.
	CreateBody map[string]any `json:"-"`
}

// NetSapiensServer emulates the NetSapiens API v2 event subscriptions on
// loopback: it creates, lists, reads and deletes subscriptions, and posts
// the simulation's actions to each subscription's post-url as batches of
// the subscription's model, with X-Correlation-ID set to the subscription
// id. Like the vendor, it counts a post answered above 302 (or not answered)
// as an error.
type NetSapiensServer struct {
	opts   NetSapiensOptions
	sim    *Sim
	sub    *Subscription
	ln     net.Listener
	srv    *http.Server
	client *http.Client
	cancel context.CancelFunc
	done   chan struct{}

	mu      sync.Mutex
	subs    map[string]*NetSapiensSubscription
	order   []string // ids in creation order
	faults  NetSapiensFaults
	pending map[string][]map[string]any // model → objects since the last flush
	initial map[string]*nsInitial       // subscription id → its agent table, not posted yet
	agents  map[string]AgentInfo
	queues  map[string]string // id → name
	states  map[string]TruthAgent
	calls   map[string]*nsCall
	caller  int
}

// nsInitial is a new agent subscription's first batch: the agent table and
// the changes since, posted once the subscriber has had a while (a flush
// interval, at least 100ms) to learn the subscription's id from the create
// answer.
type nsInitial struct {
	objs      []map[string]any
	notBefore time.Time
}

type nsCall struct {
	queue, agent, caller string
	queuedAt, answered   time.Time
}

var nsModels = []string{"agent", "auditlog", "auditlog_lite", "call", "call_origid", "cdr", "message",
	"messagesession", "subscriber", "presence", "voicemail"}

// StartNetSapiens starts the emulator on 127.0.0.1:0, rendering sim's
// actions from now on. Close stops it.
func StartNetSapiens(sim *Sim, o NetSapiensOptions) (*NetSapiensServer, error) {
	if o.Domain == "" {
		o.Domain = "acme.service"
	}
	if o.APIKey == "" {
		o.APIKey = "nsd-emulator"
	}
	if o.FlushInterval <= 0 {
		o.FlushInterval = 100 * time.Millisecond
	}
	if o.OversizeBytes <= 0 {
		o.OversizeBytes = 2 << 20
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("failed to listen: %w", err)
	}
	e := &NetSapiensServer{opts: o, sim: sim, ln: ln, done: make(chan struct{}),
		client:  &http.Client{Timeout: 5 * time.Second},
		subs:    map[string]*NetSapiensSubscription{},
		pending: map[string][]map[string]any{}, initial: map[string]*nsInitial{},
		agents: map[string]AgentInfo{}, queues: map[string]string{},
		states: map[string]TruthAgent{}, calls: map[string]*nsCall{}}
	for _, a := range sim.Agents() {
		e.agents[a.ID] = a
	}
	for _, q := range sim.Queues() {
		e.queues[q.ID] = q.Name
	}
	maps := sim.Truth()
	for id, st := range maps.Agents {
		e.states[id] = st
	}
	e.sub = sim.Subscribe()
	mux := http.NewServeMux()
	mux.HandleFunc("POST /ns-api/v2/subscriptions", e.auth(e.handleCreate))
	mux.HandleFunc("GET /ns-api/v2/subscriptions", e.auth(e.handleList))
	mux.HandleFunc("GET /ns-api/v2/subscriptions/{id}", e.auth(e.handleGet))
	mux.HandleFunc("PUT /ns-api/v2/subscriptions/{id}", e.auth(e.handlePut))
	mux.HandleFunc("DELETE /ns-api/v2/subscriptions/{id}", e.auth(e.handleDelete))
	mux.HandleFunc("GET /ns-api/v2/domains/{domain}/callqueues", e.auth(e.handleCallQueues))
	mux.HandleFunc("GET /ns-api/v2/domains/{domain}/callqueues/{queue}/agents", e.auth(e.handleQueueAgents))
	e.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = e.srv.Serve(ln) }()
	ctx, cancel := context.WithCancel(context.Background())
	e.cancel = cancel
	go e.loop(ctx)
	return e, nil
}

// URL is the emulator's base URL (a source's url; /ns-api/v2 is appended).
func (e *NetSapiensServer) URL() string { return "http://" + e.ln.Addr().String() }

// Domain is the emulated domain.
func (e *NetSapiensServer) Domain() string { return e.opts.Domain }

// SourceConfig returns the configuration of a netsapiens source subscribed
// to this emulator, whose webhooks reach a wallboard at publicURL; the
// netsapiens package must be linked (it registers the type).
func (e *NetSapiensServer) SourceConfig(name, publicURL string) config.Source {
	return sourceConfig(name, "netsapiens", e.URL(), map[string]any{"api_key": e.opts.APIKey, "domain": e.opts.Domain,
		"models": []string{"agent", "call", "cdr"}, "public_url": publicURL, "status_interval": "2s"})
}

// Close stops posting and serving.
func (e *NetSapiensServer) Close() {
	e.cancel()
	<-e.done
	e.sub.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = e.srv.Shutdown(ctx)
}

// SetFaults replaces the fault switches.
func (e *NetSapiensServer) SetFaults(f NetSapiensFaults) {
	e.mu.Lock()
	e.faults = f
	e.mu.Unlock()
}

// Subscriptions returns a copy of every subscription, in creation order.
func (e *NetSapiensServer) Subscriptions() []NetSapiensSubscription {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]NetSapiensSubscription, 0, len(e.order))
	for _, id := range e.order {
		out = append(out, *e.subs[id])
	}
	return out
}

// Drop removes a subscription as if the vendor had expired it.
func (e *NetSapiensServer) Drop(id string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.dropLocked(id)
}

func (e *NetSapiensServer) dropLocked(id string) {
	delete(e.subs, id)
	delete(e.initial, id)
	e.order = slices.DeleteFunc(e.order, func(x string) bool { return x == id })
}

// Post renders objs as one batch and posts it to subscription id now, as
// the vendor would (the counters follow the answer). Tests use it to send
// known objects.
func (e *NetSapiensServer) Post(id string, objs []map[string]any) NetSapiensPost {
	e.mu.Lock()
	s, ok := e.subs[id]
	var sub NetSapiensSubscription
	if ok {
		sub = *s
	}
	e.mu.Unlock()
	if !ok {
		return NetSapiensPost{Subscription: id, Err: errors.New("no such subscription")}
	}
	body, _ := json.Marshal(objs)
	return e.post(context.Background(), sub, body, len(objs), id, "")
}

// PostRaw posts body to subscription id's post-url with correlation id cid
// and counts the outcome on that subscription.
func (e *NetSapiensServer) PostRaw(id, cid string, body []byte) NetSapiensPost {
	e.mu.Lock()
	s, ok := e.subs[id]
	var sub NetSapiensSubscription
	if ok {
		sub = *s
	}
	e.mu.Unlock()
	if !ok {
		return NetSapiensPost{Subscription: id, Err: errors.New("no such subscription")}
	}
	return e.post(context.Background(), sub, body, 0, cid, "raw")
}

// --- API ---

func (e *NetSapiensServer) auth(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+e.opts.APIKey {
			nsJSON(w, http.StatusUnauthorized, map[string]any{"code": 401, "message": "Unauthorized"})
			return
		}
		h(w, r)
	}
}

func nsJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func nsString(m map[string]any, k, def string) string {
	if s, ok := m[k].(string); ok && s != "" {
		return s
	}
	return def
}

func (e *NetSapiensServer) handleCreate(w http.ResponseWriter, r *http.Request) {
	var body map[string]any
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&body); err != nil {
		nsJSON(w, http.StatusBadRequest, map[string]any{"code": 400, "message": "invalid JSON"})
		return
	}
	model := nsString(body, "model", "")
	postURL := nsString(body, "post-url", "")
	if !slices.Contains(nsModels, model) || postURL == "" {
		nsJSON(w, http.StatusBadRequest, map[string]any{"code": 400, "message": "model and post-url are required"})
		return
	}
	now := time.Now().UTC()
	sub := &NetSapiensSubscription{ID: nsID(), Model: model, PostURL: postURL,
		Domain: nsString(body, "domain", "*"), User: nsString(body, "user", "*"), Reseller: nsString(body, "reseller", "*"),
		GeoSupport: nsString(body, "subscription-geo-support", "yes"), PreferredServer: nsString(body, "preferred-server", ""),
		Expires: nsString(body, "subscription-expires-datetime", now.AddDate(20, 0, 0).Format(time.DateTime)),
		Created: now.Format(time.DateTime), ActiveServer: "core1-emulated", UserScope: "Office Manager",
		Status: "pending", CreateBody: body}
	e.mu.Lock()
	for _, id := range e.order {
		o := e.subs[id]
		if o.Model == sub.Model && o.PostURL == sub.PostURL && o.Domain == sub.Domain && o.User == sub.User && o.Reseller == sub.Reseller {
			e.mu.Unlock()
			nsJSON(w, http.StatusConflict, map[string]any{"code": 409, "message": "An identical subscription already exists"})
			return
		}
	}
	e.subs[sub.ID] = sub
	e.order = append(e.order, sub.ID)
	out := *sub
	if model == "agent" {
		// The emulator's convenience (the vendor posts changes only): a new
		// agent subscription gets the current agent table, so a wallboard
		// started after the simulation still sees every agent. It goes out
		// a flush interval later: a post before the subscriber knows the
		// new id would be refused.
		e.initial[sub.ID] = &nsInitial{objs: e.agentSnapshotLocked(), notBefore: now.Add(max(e.opts.FlushInterval, 100*time.Millisecond))}
	}
	e.mu.Unlock()
	nsJSON(w, http.StatusOK, out)
}

// handleCallQueues lists the domain's call queues (the v2 REST API's
// read of call queues), so a subscriber can read each one's agents.
func (e *NetSapiensServer) handleCallQueues(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("domain") != e.opts.Domain {
		nsJSON(w, http.StatusNotFound, map[string]any{"code": 404, "message": "domain not found"})
		return
	}
	e.mu.Lock()
	ids := make([]string, 0, len(e.queues))
	for id := range e.queues {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	out := make([]map[string]any, 0, len(ids))
	for _, id := range ids {
		out = append(out, map[string]any{"domain": e.opts.Domain, "callqueue": id, "description": e.queues[id]})
	}
	e.mu.Unlock()
	nsJSON(w, http.StatusOK, out)
}

// handleQueueAgents answers a call queue's agents with their current
// availability, in the shape the agent model posts: what a subscriber
// reads to learn the state it may have missed.
func (e *NetSapiensServer) handleQueueAgents(w http.ResponseWriter, r *http.Request) {
	q := r.PathValue("queue")
	e.mu.Lock()
	_, known := e.queues[q]
	var out []map[string]any
	if known && r.PathValue("domain") == e.opts.Domain {
		for _, o := range e.agentSnapshotLocked() {
			if o[e.key("callqueue")] == q {
				out = append(out, o)
			}
		}
	}
	e.mu.Unlock()
	if !known {
		nsJSON(w, http.StatusNotFound, map[string]any{"code": 404, "message": "call queue not found"})
		return
	}
	if out == nil {
		out = []map[string]any{}
	}
	nsJSON(w, http.StatusOK, out)
}

func (e *NetSapiensServer) handleList(w http.ResponseWriter, _ *http.Request) {
	nsJSON(w, http.StatusOK, e.Subscriptions())
}

func (e *NetSapiensServer) handleGet(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	s, ok := e.subs[r.PathValue("id")]
	var out NetSapiensSubscription
	if ok {
		out = *s
	}
	e.mu.Unlock()
	if !ok {
		nsJSON(w, http.StatusNotFound, map[string]any{"code": 404, "message": "Subscription not found"})
		return
	}
	nsJSON(w, http.StatusOK, out)
}

func (e *NetSapiensServer) handlePut(w http.ResponseWriter, r *http.Request) {
	var body map[string]any
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&body); err != nil {
		nsJSON(w, http.StatusBadRequest, map[string]any{"code": 400, "message": "invalid JSON"})
		return
	}
	e.mu.Lock()
	s, ok := e.subs[r.PathValue("id")]
	if ok {
		s.PostURL = nsString(body, "post-url", s.PostURL)
		s.GeoSupport = nsString(body, "subscription-geo-support", s.GeoSupport)
		s.PreferredServer = nsString(body, "preferred-server", s.PreferredServer)
		if v, ok := body["error-count"]; ok && fmt.Sprint(v) == "0" {
			s.ErrorCount = 0
		}
		if v, ok := body["posts-count"]; ok && fmt.Sprint(v) == "0" {
			s.PostsCount = 0
		}
	}
	var out NetSapiensSubscription
	if ok {
		out = *s
	}
	e.mu.Unlock()
	if !ok {
		nsJSON(w, http.StatusNotFound, map[string]any{"code": 404, "message": "Subscription not found"})
		return
	}
	nsJSON(w, http.StatusOK, out)
}

// handleDelete requires the JSON body {"subscription_id":…,"domain":…}, as
// the vendor does.
func (e *NetSapiensServer) handleDelete(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var body map[string]any
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&body); err != nil || nsString(body, "subscription_id", "") != id {
		nsJSON(w, http.StatusBadRequest, map[string]any{"code": 400, "message": "subscription_id is required in the body"})
		return
	}
	e.mu.Lock()
	s, ok := e.subs[id]
	if ok && nsString(body, "domain", "") != s.Domain {
		e.mu.Unlock()
		nsJSON(w, http.StatusBadRequest, map[string]any{"code": 400, "message": "domain is required in the body"})
		return
	}
	if ok {
		e.dropLocked(id)
	}
	e.mu.Unlock()
	if !ok {
		nsJSON(w, http.StatusNotFound, map[string]any{"code": 404, "message": "Subscription not found"})
		return
	}
	nsJSON(w, http.StatusAccepted, map[string]any{"code": 202, "message": "Accepted"})
}

func nsID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// --- rendering and posting ---

func (e *NetSapiensServer) loop(ctx context.Context) {
	defer close(e.done)
	t := time.NewTicker(e.opts.FlushInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case a, ok := <-e.sub.C():
			if !ok {
				return
			}
			e.mu.Lock()
			e.renderLocked(a)
			e.mu.Unlock()
		case <-t.C:
			e.flush(ctx)
		}
	}
}

// flush posts each subscription its model's batch. Like the vendor, whose
// subscriptions are posted independently, the posts of one flush go out
// concurrently and may arrive in any order (an agent's entry before the
// call change that explains it, a cdr before the call's teardown); each
// subscription's posts stay in order, the next flush waits for this one.
func (e *NetSapiensServer) flush(ctx context.Context) {
	type job struct {
		sub  NetSapiensSubscription
		objs []map[string]any
	}
	var jobs []job
	now := time.Now()
	e.mu.Lock()
	for _, model := range []string{"call", "call_origid", "cdr", "presence", "agent"} {
		objs := e.pending[model]
		delete(e.pending, model)
		for _, id := range e.order {
			s := e.subs[id]
			if s.Model != model {
				continue
			}
			batch := objs
			if in := e.initial[id]; in != nil {
				// The table first, then the changes since, in order.
				in.objs = append(in.objs, objs...)
				if now.Before(in.notBefore) {
					continue
				}
				batch = in.objs
				delete(e.initial, id)
			}
			if len(batch) > 0 {
				jobs = append(jobs, job{*s, batch})
			}
		}
	}
	e.mu.Unlock()
	var wg sync.WaitGroup
	for _, j := range jobs {
		wg.Go(func() {
			objs := j.objs
			for len(objs) > 0 {
				n := len(objs)
				if e.opts.MaxBatch > 0 {
					n = min(n, e.opts.MaxBatch)
				}
				e.send(ctx, j.sub, objs[:n])
				objs = objs[n:]
			}
		})
	}
	wg.Wait()
}

func (e *NetSapiensServer) send(ctx context.Context, sub NetSapiensSubscription, objs []map[string]any) {
	e.mu.Lock()
	f := e.faults
	fault, cid := "", sub.ID
	var body []byte
	switch {
	case e.faults.Malformed > 0:
		e.faults.Malformed--
		fault, body = "malformed", []byte(`[{"model":"`+sub.Model+`", "broken": tru`)
	case e.faults.Oversized > 0:
		e.faults.Oversized--
		pad := strings.Repeat("x", e.opts.OversizeBytes)
		body, _ = json.Marshal([]map[string]any{{"padding": pad}})
		fault = "oversized"
	}
	e.mu.Unlock()
	if body == nil {
		body, _ = json.Marshal(objs)
	}
	if f.WrongCorrelationID {
		cid, fault = nsID(), "wrong-id"
	}
	e.post(ctx, sub, body, len(objs), cid, fault)
	if f.Duplicate && fault == "" {
		e.post(ctx, sub, body, len(objs), cid, "duplicate")
	}
}

func (e *NetSapiensServer) post(ctx context.Context, sub NetSapiensSubscription, body []byte, n int, cid, fault string) NetSapiensPost {
	res := NetSapiensPost{Subscription: sub.ID, Model: sub.Model, Objects: n, Fault: fault}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, sub.PostURL, bytes.NewReader(body))
	if err == nil {
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Correlation-ID", cid)
		var resp *http.Response
		resp, err = e.client.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
			res.Status = resp.StatusCode
		}
	}
	res.Err = err
	e.mu.Lock()
	if s, ok := e.subs[sub.ID]; ok {
		// Like the vendor: a network failure or a status above 302 is an
		// error; the status follows the last post.
		if err != nil || res.Status > 302 {
			s.ErrorCount++
			s.Status = "error"
		} else {
			s.PostsCount++
			s.Status = "active"
		}
	}
	e.mu.Unlock()
	if e.opts.OnPost != nil {
		e.opts.OnPost(res)
	}
	return res
}

// nsDialledNumber is the number callers dial in the QueueAsLeg form.
const nsDialledNumber = "+442071230000"

func nsTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.DateTime)
}

// key renders a v2 key in the configured style.
func (e *NetSapiensServer) key(k string) string {
	if e.opts.SnakeCase {
		return strings.ReplaceAll(k, "-", "_")
	}
	return k
}

func (e *NetSapiensServer) obj(kv ...string) map[string]any {
	m := make(map[string]any, len(kv)/2+1)
	for i := 0; i+1 < len(kv); i += 2 {
		m[e.key(kv[i])] = kv[i+1]
	}
	return m
}

func (e *NetSapiensServer) renderLocked(a Action) {
	switch a.Kind {
	case ActionAgentState:
		e.states[a.Agent] = TruthAgent{State: a.State, Reason: a.Reason, Since: a.At}
		e.pending["agent"] = append(e.pending["agent"], e.agentEntriesLocked(a.Agent)...)
		e.pending["presence"] = append(e.pending["presence"], e.presenceLocked(a.Agent))
		return
	case ActionCallQueued:
		e.caller++
		e.calls[a.Call] = &nsCall{queue: a.Queue, queuedAt: a.QueuedAt, caller: fmt.Sprintf("+44207946%04d", e.caller%10000)}
	}
	c := e.calls[a.Call]
	if c == nil {
		return
	}
	if c.queuedAt.IsZero() {
		c.queuedAt = a.At
	}
	termUser, remove := "", ""
	switch a.Kind {
	case ActionCallOffered:
		c.agent, termUser = a.Agent, a.Agent
	case ActionCallRejected:
		termUser, remove = a.Agent, "yes"
		c.agent = ""
	case ActionCallAnswered:
		c.agent, c.answered, termUser = a.Agent, a.At, a.Agent
	case ActionCallAbandoned:
		remove = "yes"
	case ActionCallEnded:
		termUser, remove = c.agent, "yes"
	}
	o := e.obj("domain", e.opts.Domain, "call-orig-call-id", a.Call, "call-orig-user", c.caller,
		"call-orig-to-user", c.queue, "call-start-datetime", nsTime(c.queuedAt))
	if e.opts.QueueAsLeg {
		o[e.key("call-orig-to-user")] = nsDialledNumber
		if termUser == "" {
			o[e.key("call-term-user")] = c.queue
			o[e.key("call-term-call-id")] = a.Call + "-" + c.queue
			o[e.key("call-dialed-number")] = c.queue
		} else {
			o[e.key("call-by-user")] = c.queue
			o[e.key("call-by-action")] = "callqueue"
		}
	}
	if termUser != "" {
		o[e.key("call-term-user")] = termUser
		o[e.key("call-term-call-id")] = a.Call + "-" + termUser
	}
	if !c.answered.IsZero() && termUser != "" {
		o[e.key("call-answer-datetime")] = nsTime(c.answered)
	}
	if remove != "" {
		o["remove"] = remove
		if a.Kind != ActionCallRejected {
			o[e.key("call-release-datetime")] = nsTime(a.At)
		}
	}
	e.pending["call"] = append(e.pending["call"], o)
	if a.Kind != ActionCallRejected { // call_origid is keyed off the caller's leg only
		e.pending["call_origid"] = append(e.pending["call_origid"], o)
	}
	if a.Kind == ActionCallAbandoned || a.Kind == ActionCallEnded {
		e.pending["cdr"] = append(e.pending["cdr"], e.cdrLocked(a, c))
		delete(e.calls, a.Call)
	}
}

// cdrLocked renders a finished call in the legacy snake_case cdr shape.
func (e *NetSapiensServer) cdrLocked(a Action, c *nsCall) map[string]any {
	answer, term, release := "0000-00-00 00:00:00", "", "Orig: Bye"
	if !c.answered.IsZero() {
		answer, term, release = nsTime(c.answered), c.agent, "Term: Bye"
	}
	return map[string]any{"action": "INSERT", "object": "cdr", "hostname": "core1-emulated",
		"orig_callid": a.Call, "term_callid": a.Call + "-" + term, "by_callid": "",
		"orig_from_user": c.caller, "orig_to_user": c.queue, "orig_domain": e.opts.Domain,
		"term_user": term, "time_start": nsTime(c.queuedAt), "time_answer": answer, "time_release": nsTime(a.At),
		"duration": strconv.Itoa(int(a.At.Sub(c.queuedAt).Seconds())), "release_code": "200", "release_text": release,
		"batch_tim_beg": nsTime(a.At)}
}

// agentEntriesLocked renders the agent's entry in each of its queues.
func (e *NetSapiensServer) agentEntriesLocked(id string) []map[string]any {
	info, ok := e.agents[id]
	if !ok {
		return nil
	}
	st := e.states[id]
	avail, dispatch, calls, status := "automatic", "no", "0", ""
	switch st.State {
	case event.StateAvailable:
		dispatch = "yes"
	case event.StateBusy:
		calls = "1"
	case event.StateNotReady:
		avail, status = "manual", st.Reason
	case event.StateLoggedOut, event.StateUnknown, "":
		avail = "disabled"
	}
	out := make([]map[string]any, 0, len(info.Queues))
	for _, q := range info.Queues {
		o := e.obj("domain", e.opts.Domain, "callqueue", q, "callqueue-name", e.queues[q],
			"callqueue-agent-id", id+"@"+e.opts.Domain, "callqueue-agent-name", info.Name,
			"callqueue-agent-availability-type", avail, "callqueue-agent-availability-for-dispatch", dispatch,
			"active-calls-total-current", calls)
		if status != "" {
			o[e.key("callqueue-agent-status")] = status
		}
		out = append(out, o)
	}
	return out
}

func (e *NetSapiensServer) agentSnapshotLocked() []map[string]any {
	ids := make([]string, 0, len(e.agents))
	for id := range e.agents {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var out []map[string]any
	for _, id := range ids {
		out = append(out, e.agentEntriesLocked(id)...)
	}
	return out
}

func (e *NetSapiensServer) presenceLocked(id string) map[string]any {
	st := e.states[id]
	pres := map[event.State]string{event.StateAvailable: "open", event.StateOffered: "alerting", event.StateBusy: "inuse",
		event.StateWrapUp: "open", event.StateNotReady: "dnd", event.StateLoggedOut: "closed"}[st.State]
	if pres == "" {
		pres = "closed"
	}
	o := e.obj("domain", e.opts.Domain, "user", id, "name-full-name", e.agents[id].Name, "presence", pres)
	if st.State == event.StateNotReady {
		o["message"] = st.Reason
	}
	return o
}
