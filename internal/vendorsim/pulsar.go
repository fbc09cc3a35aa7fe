package vendorsim

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/wallboard/wallboard/internal/config"
)

// PulsarOptions configure the emulated 8x8 Event Streaming proxy.
type PulsarOptions struct {
	Tenant    string // default "acme"
	APIKey    string // default "events-key"
	Namespace string // default "event-v1"
	Topic     string // default "all"
	// Retention is how many messages the topic keeps (default 100000). The
	// provisioning published when the emulator starts is always kept, so a
	// reader from earliest learns every agent and queue.
	Retention int
	// ServerPing, when positive, makes the proxy ping every connection
	// (webSocketPingDurationSeconds; off by default, as in Pulsar).
	ServerPing time.Duration
	// Instance is msgInfo.instanceId; default "emu-events-v1".
	Instance string
	// StatusToken is the Action Request Token of the agent status API
	// served beside the proxy (user: the tenant); default "status-token".
	StatusToken string
}

// PulsarServer emulates the Apache Pulsar WebSocket proxy that 8x8 Event
// Streaming exposes: a reader endpoint (resume after a message id, exclusive)
// and a consumer endpoint (durable subscriptions, Exclusive or Failover;
// Shared and Key_Shared are accepted and behave as Failover), one JSON text
// frame per message with the 8x8 event base64 in "payload", acknowledgements
// that free delivery slots (readers too), and at most receiverQueueSize
// unacknowledged messages in flight.
type PulsarServer struct {
	o   PulsarOptions
	sim *Sim
	r   *eightRenderer
	ln  net.Listener
	srv *http.Server
	api *agentStatusAPI

	mu      sync.Mutex
	log     []pulsarMsg
	pinned  int   // leading messages never trimmed (provisioning)
	nextEnt int64 // entry id of the next message
	changed chan struct{}
	subs    map[string]*pulsarSub
	conns   map[*pulsarConn]bool
	kill    chan struct{}

	refuse    atomic.Int32
	dropAfter atomic.Int64
	acks      atomic.Int64
	pings     atomic.Int64
	connects  atomic.Int64
	rendered  atomic.Int64 // Seq of the last action rendered

	cancel    context.CancelFunc
	feedDone  chan struct{}
	closeOnce sync.Once
	wg        sync.WaitGroup
}

type pulsarMsg struct {
	entry   int64
	id      string // base64 MessageIdData
	payload []byte
	raw     string // when set, sent as "payload" verbatim (a broken producer)
	key     string
	at      time.Time
}

// pulsarSub is a durable consumer subscription.
type pulsarSub struct {
	acked     map[int64]bool
	markDel   int64 // every entry below this is acknowledged
	redeliver map[int64]int
	active    *pulsarConn
	waiting   []*pulsarConn // failover standbys
	typ       string
}

type pulsarConn struct {
	promoted chan struct{}
	ctrl     chan []byte
}

const pulsarLedger = 7

// pulsarID encodes MessageIdData{ledgerId, entryId} as 8x8/Pulsar send it.
func pulsarID(entry int64) string {
	b := []byte{0x08}
	b = binary.AppendUvarint(b, pulsarLedger)
	b = append(b, 0x10)
	b = binary.AppendUvarint(b, uint64(entry))
	return base64.StdEncoding.EncodeToString(b)
}

// pulsarEntry decodes an id made by pulsarID.
func pulsarEntry(id string) (int64, bool) {
	b, err := base64.StdEncoding.DecodeString(id)
	if err != nil || len(b) < 4 || b[0] != 0x08 {
		return 0, false
	}
	ledger, n := binary.Uvarint(b[1:])
	if n <= 0 || ledger != pulsarLedger || len(b) < 2+n || b[1+n] != 0x10 {
		return 0, false
	}
	entry, m := binary.Uvarint(b[2+n:])
	if m <= 0 {
		return 0, false
	}
	return int64(entry), true
}

// NewPulsarServer starts the emulator on 127.0.0.1:0. The topic starts with
// the simulation's provisioning (names, skills, current states).
func NewPulsarServer(sim *Sim, o PulsarOptions) (*PulsarServer, error) {
	if o.Tenant == "" {
		o.Tenant = "acme"
	}
	if o.APIKey == "" {
		o.APIKey = "events-key"
	}
	if o.Namespace == "" {
		o.Namespace = "event-v1"
	}
	if o.Topic == "" {
		o.Topic = "all"
	}
	if o.Retention == 0 {
		o.Retention = 100000
	}
	if o.Instance == "" {
		o.Instance = "emu-events-v1"
	}
	if o.StatusToken == "" {
		o.StatusToken = "status-token"
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("failed to listen: %w", err)
	}
	e := &PulsarServer{o: o, sim: sim, r: newEightRenderer(o.Instance, sim.Queues()), ln: ln, nextEnt: 1,
		changed: make(chan struct{}), subs: map[string]*pulsarSub{}, conns: map[*pulsarConn]bool{}, kill: make(chan struct{}), feedDone: make(chan struct{}),
		api: &agentStatusAPI{sim: sim, tenant: o.Tenant, user: o.Tenant, token: o.StatusToken}}
	ctx, cancel := context.WithCancel(context.Background())
	e.cancel = cancel
	e.rendered.Store(simSeq(sim)) // before subscribing: later actions all reach us
	sub := sim.Subscribe()
	e.publish(e.r.provisioning(sim.Agents(), sim.Truth(), true)...)
	e.mu.Lock()
	e.pinned = len(e.log)
	e.mu.Unlock()
	e.srv = &http.Server{Handler: http.HandlerFunc(e.handle), BaseContext: func(net.Listener) context.Context { return ctx }}
	go func() {
		defer close(e.feedDone)
		defer sub.Close()
		for {
			select {
			case <-ctx.Done():
				return
			case a, ok := <-sub.C():
				if !ok {
					return
				}
				e.publish(e.r.render(a)...)
				e.rendered.Store(a.Seq)
			}
		}
	}()
	go func() { _ = e.srv.Serve(ln) }()
	return e, nil
}

func (e *PulsarServer) publish(evs ...e8Event) {
	msgs := make([]pulsarMsg, len(evs))
	for i, ev := range evs {
		msgs[i] = pulsarMsg{payload: ev.JSON(), key: eightKey(ev)}
	}
	e.append(msgs...)
}

func eightKey(ev e8Event) string {
	for _, f := range ev.body {
		if f.k == "agentId" || f.k == "interactionGUID" {
			if s, ok := f.v.(string); ok {
				return s
			}
		}
	}
	return ""
}

func (e *PulsarServer) append(msgs ...pulsarMsg) {
	if len(msgs) == 0 {
		return
	}
	now := time.Now()
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, m := range msgs {
		m.entry = e.nextEnt
		e.nextEnt++
		m.id = pulsarID(m.entry)
		m.at = now
		e.log = append(e.log, m)
	}
	if over := len(e.log) - e.o.Retention; over > 0 && len(e.log)-e.pinned > over {
		e.log = append(e.log[:e.pinned:e.pinned], e.log[e.pinned+over:]...)
	}
	close(e.changed)
	e.changed = make(chan struct{})
}

// index returns the position of the first message with entry ≥ entry.
func (e *PulsarServer) index(entry int64) int {
	lo, hi := 0, len(e.log)
	for lo < hi {
		m := (lo + hi) / 2
		if e.log[m].entry < entry {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// URL is the ws:// base URL to configure.
func (e *PulsarServer) URL() string { return "ws://" + e.ln.Addr().String() }

// APIKey returns the key the emulator accepts.
func (e *PulsarServer) APIKey() string { return e.o.APIKey }

// SourceConfig returns an 8x8-stream reader configuration for this
// emulator, reading from earliest so a new wallboard gets the provisioning;
// the pulsar package must be linked (it registers the type).
func (e *PulsarServer) SourceConfig(name string) config.Source {
	return sourceConfig(name, "8x8-stream", e.URL(), map[string]any{"tenant": e.o.Tenant, "api_key": e.o.APIKey,
		"namespace": e.o.Namespace, "topic": e.o.Topic, "mode": "reader", "subscription_type": "Failover",
		"receiver_queue_size": 1000, "initial_position": "earliest", "reason_labels": EightByEightReasonLabels(),
		"agent_status_url": e.StatusURL(), "agent_status_token": e.o.StatusToken})
}

// StatusURL is the base URL of the agent status API served beside the
// proxy (8x8 serves it from https://{ccPlatform}.8x8.com).
func (e *PulsarServer) StatusURL() string { return "http://" + e.ln.Addr().String() }

// StatusToken returns the agent status API's token (its user is the
// tenant).
func (e *PulsarServer) StatusToken() string { return e.o.StatusToken }

// StatusReads counts the agent status API's authorized reads.
func (e *PulsarServer) StatusReads() int64 { return e.api.reads.Load() }

// RefuseStatus makes the agent status API answer status (401, 500…); 0
// stops.
func (e *PulsarServer) RefuseStatus(status int) { e.api.refuse.Store(int32(status)) }

// Expire drops every message but the provisioning from the topic, as
// retention does once a reader has been away too long: a reader resuming
// from a cursor before them starts at the first message kept.
func (e *PulsarServer) Expire() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.log = e.log[:e.pinned:e.pinned]
}

// Close stops the emulator and drops every connection.
func (e *PulsarServer) Close() {
	e.closeOnce.Do(func() {
		e.cancel()
		e.Drop()
		_ = e.srv.Close()
		<-e.feedDone
		e.wg.Wait()
	})
}

// Refuse answers every upgrade with status (401, 403, 500…); 0 stops.
func (e *PulsarServer) Refuse(status int) { e.refuse.Store(int32(status)) }

// Drop cuts every connection now (no close frame).
func (e *PulsarServer) Drop() {
	e.mu.Lock()
	close(e.kill)
	e.kill = make(chan struct{})
	e.mu.Unlock()
}

// DropAfter cuts connections after n more delivered messages; 0 disables.
func (e *PulsarServer) DropAfter(n int) { e.dropAfter.Store(int64(n)) }

// PublishMalformed publishes n messages a broken producer could have sent:
// payloads that are not base64, not JSON, or a wrapper with a bad field.
func (e *PulsarServer) PublishMalformed(n int) {
	msgs := make([]pulsarMsg, n)
	for i := range msgs {
		switch i % 3 {
		case 0:
			msgs[i] = pulsarMsg{raw: "!!not base64!!"}
		case 1:
			msgs[i] = pulsarMsg{payload: []byte(`{"AgentStatusChange":{"agentId":"bad",`)}
		default:
			msgs[i] = pulsarMsg{payload: []byte(`{"Interaction":{"attachedData":{"attachedDatum":"x"}}}`)}
		}
	}
	e.append(msgs...)
}

// PublishRaw appends 8x8 event payloads (single-key JSON wrappers) to the
// topic as a producer would, keyed by key (may be ""). The load tool drives
// known changes through it at a set rate.
func (e *PulsarServer) PublishRaw(key string, payloads ...[]byte) {
	msgs := make([]pulsarMsg, len(payloads))
	for i, p := range payloads {
		msgs[i] = pulsarMsg{payload: p, key: key}
	}
	e.append(msgs...)
}

// Logged returns the topic's messages: ids and payloads.
func (e *PulsarServer) Logged() (ids []string, payloads [][]byte) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, m := range e.log {
		ids = append(ids, m.id)
		payloads = append(payloads, m.payload)
	}
	return ids, payloads
}

// Acks counts acknowledgements received; Pings counts client pings;
// Connects counts accepted WebSocket connections.
func (e *PulsarServer) Acks() int64     { return e.acks.Load() }
func (e *PulsarServer) Pings() int64    { return e.pings.Load() }
func (e *PulsarServer) Connects() int64 { return e.connects.Load() }

func (e *PulsarServer) handle(w http.ResponseWriter, req *http.Request) {
	if e.api.serve(w, req) {
		return
	}
	if st := e.refuse.Load(); st != 0 {
		http.Error(w, http.StatusText(int(st)), int(st))
		return
	}
	parts := strings.Split(strings.TrimPrefix(req.URL.Path, "/ws/v2/"), "/")
	if len(parts) < 5 || parts[1] != "persistent" || (parts[0] != "reader" && parts[0] != "consumer") {
		http.Error(w, "Invalid query params: bad path", http.StatusBadRequest)
		return
	}
	mode := parts[0]
	key := req.Header.Get("X-API-Key")
	if key == "" {
		key = req.URL.Query().Get("x-api-key")
	}
	if key != e.o.APIKey {
		http.Error(w, "Failed to authenticate", http.StatusUnauthorized)
		return
	}
	if parts[2] != e.o.Tenant {
		http.Error(w, "Not authorized", http.StatusForbidden)
		return
	}
	if parts[3] != e.o.Namespace || parts[4] != e.o.Topic || (mode == "consumer" && len(parts) != 6) || (mode == "reader" && len(parts) != 5) {
		http.Error(w, "Topic not found", http.StatusNotFound)
		return
	}
	q := req.URL.Query()
	rqs := 1000
	if v := q.Get("receiverQueueSize"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			http.Error(w, "Invalid query params: receiverQueueSize", http.StatusBadRequest)
			return
		}
		rqs = min(n, 1000)
	}

	c := &pulsarConn{promoted: make(chan struct{}), ctrl: make(chan []byte, 16)}
	var sub *pulsarSub
	var next int64 // reader: entry id of the next message
	e.mu.Lock()
	switch mode {
	case "reader":
		close(c.promoted) // readers never wait for a turn
		switch v := q.Get("messageId"); v {
		case "", "latest":
			next = e.nextEnt
		case "earliest":
			next = 0
		default:
			ent, ok := pulsarEntry(v)
			if !ok {
				e.mu.Unlock()
				// The reader endpoint answers every failure with 500.
				http.Error(w, "Failed to create reader: invalid messageId", http.StatusInternalServerError)
				return
			}
			next = ent + 1 // startMessageId is exclusive
		}
	case "consumer":
		typ := q.Get("subscriptionType")
		switch typ {
		case "":
			typ = "Exclusive"
		case "Exclusive", "Shared", "Failover", "Key_Shared":
		default:
			e.mu.Unlock()
			http.Error(w, "Invalid query params: subscriptionType "+typ, http.StatusBadRequest)
			return
		}
		name := parts[5]
		sub = e.subs[name]
		if sub == nil {
			start := e.nextEnt
			if q.Get("subscriptionInitialPosition") == "Earliest" {
				start = 0
			}
			sub = &pulsarSub{acked: map[int64]bool{}, redeliver: map[int64]int{}, markDel: start, typ: typ}
			e.subs[name] = sub
		}
		if sub.active != nil && (sub.typ == "Exclusive" || typ == "Exclusive") {
			e.mu.Unlock()
			http.Error(w, "Exclusive consumer is already connected", http.StatusConflict)
			return
		}
		if sub.active == nil {
			sub.active = c
			close(c.promoted)
		} else {
			sub.waiting = append(sub.waiting, c)
		}
	}
	kill := e.kill
	e.mu.Unlock()
	defer e.leave(sub, c)

	ws, err := websocket.Accept(w, req, &websocket.AcceptOptions{
		OnPingReceived: func(context.Context, []byte) bool { e.pings.Add(1); return true },
	})
	if err != nil {
		return
	}
	e.connects.Add(1)
	e.mu.Lock()
	e.conns[c] = true
	e.mu.Unlock()
	defer func() {
		e.mu.Lock()
		delete(e.conns, c)
		e.mu.Unlock()
	}()
	e.wg.Add(1)
	defer e.wg.Done()
	ctx, cancel := context.WithCancel(req.Context())
	defer cancel()
	go func() {
		select {
		case <-kill:
			_ = ws.CloseNow()
		case <-ctx.Done():
		}
	}()

	// Acks free slots; the reader goroutine reports them.
	var slotMu sync.Mutex
	inflight := map[string]bool{}
	freed := make(chan struct{}, 1)
	go func() {
		defer cancel()
		for {
			_, b, err := ws.Read(ctx)
			if err != nil {
				return
			}
			var f struct {
				Type      string `json:"type"`
				MessageID string `json:"messageId"`
			}
			if err := json.Unmarshal(b, &f); err != nil {
				// Pulsar closes with code 3, which RFC 6455 does not allow.
				_ = ws.Close(websocket.StatusPolicyViolation, "malformed JSON")
				return
			}
			switch f.Type {
			case "isEndOfTopic":
				_ = ws.Write(ctx, websocket.MessageText, []byte(`{"endOfTopic":false}`))
				continue
			case "permit", "unsubscribe":
				continue
			}
			// Anything else (no type, unknown type, negativeAcknowledge) frees
			// a slot; a plain ack also acknowledges on a subscription.
			slotMu.Lock()
			ok := inflight[f.MessageID]
			delete(inflight, f.MessageID)
			slotMu.Unlock()
			if !ok {
				continue
			}
			e.acks.Add(1)
			if sub != nil && f.Type != "negativeAcknowledge" {
				if ent, ok := pulsarEntry(f.MessageID); ok {
					e.mu.Lock()
					sub.acked[ent] = true
					for sub.acked[sub.markDel] || (sub.markDel < e.nextEnt && !e.has(sub.markDel)) {
						delete(sub.acked, sub.markDel)
						sub.markDel++
					}
					e.mu.Unlock()
				}
			}
			select {
			case freed <- struct{}{}:
			default:
			}
		}
	}()

	// A failover standby waits for its turn.
	select {
	case <-c.promoted:
	case <-ctx.Done():
		return
	}
	if sub != nil {
		e.mu.Lock()
		next = sub.markDel
		e.mu.Unlock()
	}
	var ping <-chan time.Time
	if e.o.ServerPing > 0 {
		t := time.NewTicker(e.o.ServerPing)
		defer t.Stop()
		ping = t.C
	}
	for {
		e.mu.Lock()
		var batch []pulsarMsg
		var counts []int
		for i := e.index(next); i < len(e.log); i++ {
			m := e.log[i]
			if sub != nil && sub.acked[m.entry] {
				continue
			}
			batch = append(batch, m)
			if sub != nil {
				counts = append(counts, sub.redeliver[m.entry])
				sub.redeliver[m.entry]++
			} else {
				counts = append(counts, 0)
			}
			slotMu.Lock()
			full := len(inflight)+len(batch) >= rqs
			slotMu.Unlock()
			if full {
				break
			}
		}
		changed := e.changed
		e.mu.Unlock()
		for i, m := range batch {
			if n := e.dropAfter.Load(); n > 0 {
				if n == 1 && e.dropAfter.CompareAndSwap(1, 0) {
					_ = ws.CloseNow()
					return
				}
				e.dropAfter.CompareAndSwap(n, n-1)
			}
			slotMu.Lock()
			inflight[m.id] = true
			slotMu.Unlock()
			if err := ws.Write(ctx, websocket.MessageText, pulsarFrame(m, counts[i])); err != nil {
				return
			}
			next = m.entry + 1
		}
		slotMu.Lock()
		full := len(inflight) >= rqs
		slotMu.Unlock()
		if len(batch) > 0 && !full {
			continue
		}
		wake := changed
		if full {
			wake = nil // only an ack can let more through
		}
		select {
		case <-wake:
		case <-freed:
		case f := <-c.ctrl:
			if err := ws.Write(ctx, websocket.MessageText, f); err != nil {
				return
			}
		case <-ping:
			pctx, pcancel := context.WithTimeout(ctx, 5*time.Second)
			err := ws.Ping(pctx)
			pcancel()
			if err != nil {
				return
			}
		case <-ctx.Done():
			_ = ws.Close(websocket.StatusGoingAway, "")
			return
		}
	}
}

// has reports whether entry is still in the log (callers hold e.mu).
func (e *PulsarServer) has(entry int64) bool {
	i := e.index(entry)
	return i < len(e.log) && e.log[i].entry == entry
}

// leave hands a failover subscription to the next standby.
func (e *PulsarServer) leave(sub *pulsarSub, c *pulsarConn) {
	if sub == nil {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if sub.active == c {
		sub.active = nil
		if len(sub.waiting) > 0 {
			sub.active = sub.waiting[0]
			sub.waiting = sub.waiting[1:]
			close(sub.active.promoted)
		}
		return
	}
	for i, w := range sub.waiting {
		if w == c {
			sub.waiting = append(sub.waiting[:i], sub.waiting[i+1:]...)
			return
		}
	}
}

// pulsarFrame renders one delivery as the proxy does.
func pulsarFrame(m pulsarMsg, redelivery int) []byte {
	payload := m.raw
	if payload == "" {
		payload = base64.StdEncoding.EncodeToString(m.payload)
	}
	f := struct {
		MessageID       string            `json:"messageId"`
		Payload         string            `json:"payload"`
		Properties      map[string]string `json:"properties"`
		PublishTime     string            `json:"publishTime"`
		RedeliveryCount int               `json:"redeliveryCount"`
		Key             string            `json:"key,omitempty"`
	}{m.id, payload, map[string]string{}, m.at.Format("2006-01-02T15:04:05.999-07:00"), redelivery, m.key}
	b, _ := json.Marshal(f)
	return b
}

// SendControlFrames sends every open connection frames that are not
// messages: the endOfTopic reply (a JSON boolean, as the proxy sends it), an
// AUTH_CHALLENGE of newer proxies and a text that is not JSON. A client must
// tolerate all three.
func (e *PulsarServer) SendControlFrames() {
	e.mu.Lock()
	defer e.mu.Unlock()
	for c := range e.conns {
		for _, f := range []string{`{"endOfTopic":true}`, `{"type":"AUTH_CHALLENGE","authChallenge":{"challenge":{"authMethodName":"token","authData":""},"protocolVersion":0}}`, `not json at all`} {
			select {
			case c.ctrl <- []byte(f):
			default:
			}
		}
	}
}

// Settled reports whether every action the Sim has emitted so far is in the
// emulator's log (tests step the Sim, then wait for this).
func (e *PulsarServer) Settled() bool { return e.rendered.Load() >= simSeq(e.sim) }
