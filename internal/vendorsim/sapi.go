package vendorsim

import (
	"context"
	"crypto/rand"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf16"

	"github.com/wallboard/wallboard/internal/config"
)

// SAPIOptions configure the emulated 8x8 Streaming API.
type SAPIOptions struct {
	Tenant string // default "acme"
	Token  string // the tenant's API token; default "sapi-token"
	// SessionLength ends each subscription session (8x8: 60 minutes).
	SessionLength time.Duration
	// Retention is how long a disconnected subscription keeps its missed
	// events (8x8: two hours).
	Retention time.Duration
	// Heartbeat is the interval of Atmosphere's "X" heartbeat; default 60s,
	// negative disables it.
	Heartbeat time.Duration
	// Padding is the first write: "2.2" (2048 spaces and a newline, the
	// default), "2.0" (8192 spaces and a newline), "1.0" (8192 spaces) or
	// "html" (the pre-1.0.13 HTML-comment padding).
	Padding string
	// MaxListeners per tenant (8x8: three).
	MaxListeners int
	// Instance is msgInfo.instanceId; default "emu-sapi-v1".
	Instance string
	// StatusToken is the Action Request Token of the agent status API
	// served beside the stream (user: the tenant); default "status-token".
	StatusToken string
	// NoPrelude starts a new subscription with no provisioning prelude,
	// as 8x8 documents SAPI: its agents then come from the agent status
	// API or their next change.
	NoPrelude bool
}

// SAPIServer emulates 8x8's legacy Streaming API: Atmosphere's HTTP
// streaming transport on loopback, rendering a Sim's actions as 8x8 events.
//
// Every event goes into one tenant log, numbered in msgInfo. Each
// subscription id has a cursor; a subscriber that comes back with the same id
// within Retention first receives what it missed, as 8x8 promises. A new id
// starts at the end of the log, after a provisioning prelude.
type SAPIServer struct {
	o   SAPIOptions
	sim *Sim
	r   *eightRenderer
	ln  net.Listener
	srv *http.Server
	api *agentStatusAPI

	mu      sync.Mutex
	log     []sapiEntry
	first   int64 // sequence of log[0]
	changed chan struct{}
	subs    map[string]*sapiSub
	active  int
	kill    chan struct{} // closed to drop every connection

	// Fault switches.
	refuse        atomic.Int32 // answer every subscribe with this HTTP status
	dropAfter     atomic.Int64 // drop connections after this many more events (0 = off)
	malformed     atomic.Int32 // write this many malformed frames before the next events
	split         atomic.Bool  // write in small pieces
	trackSize     atomic.Bool  // prefix every message with <length>|
	replayOverlap atomic.Int32 // on resume, resend this many already-delivered events

	connects  atomic.Int64
	rendered  atomic.Int64 // Seq of the last action rendered
	feedDone  chan struct{}
	closeOnce sync.Once
	cancel    context.CancelFunc
}

type sapiEntry struct {
	seq int64
	at  time.Time
	ev  e8Event
}

type sapiSub struct {
	next      int64 // sequence of the next event to deliver
	connected int
	lastSeen  time.Time
}

// NewSAPIServer starts the emulator on 127.0.0.1:0, fed by sim's actions.
func NewSAPIServer(sim *Sim, o SAPIOptions) (*SAPIServer, error) {
	if o.Tenant == "" {
		o.Tenant = "acme"
	}
	if o.Token == "" {
		o.Token = "sapi-token"
	}
	if o.SessionLength == 0 {
		o.SessionLength = 60 * time.Minute
	}
	if o.Retention == 0 {
		o.Retention = 2 * time.Hour
	}
	if o.Heartbeat == 0 {
		o.Heartbeat = 60 * time.Second
	}
	if o.Padding == "" {
		o.Padding = "2.2"
	}
	if o.MaxListeners == 0 {
		o.MaxListeners = 3
	}
	if o.Instance == "" {
		o.Instance = "emu-sapi-v1"
	}
	if o.StatusToken == "" {
		o.StatusToken = "status-token"
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("failed to listen: %w", err)
	}
	e := &SAPIServer{o: o, sim: sim, r: newEightRenderer(o.Instance, sim.Queues()), ln: ln, first: 1,
		changed: make(chan struct{}), subs: map[string]*sapiSub{}, kill: make(chan struct{}), feedDone: make(chan struct{}),
		api: &agentStatusAPI{sim: sim, tenant: o.Tenant, user: o.Tenant, token: o.StatusToken}}
	ctx, cancel := context.WithCancel(context.Background())
	e.cancel = cancel
	e.srv = &http.Server{Handler: http.HandlerFunc(e.handle), BaseContext: func(net.Listener) context.Context { return ctx }}
	e.rendered.Store(simSeq(sim)) // before subscribing: later actions all reach us
	sub := sim.Subscribe()
	go e.feed(ctx, sub)
	go func() { _ = e.srv.Serve(ln) }()
	return e, nil
}

// feed renders the Sim's actions into the tenant log.
func (e *SAPIServer) feed(ctx context.Context, sub *Subscription) {
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
			e.append(e.r.render(a)...)
			e.rendered.Store(a.Seq)
		}
	}
}

func (e *SAPIServer) append(evs ...e8Event) {
	if len(evs) == 0 {
		return
	}
	now := time.Now()
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, ev := range evs {
		e.log = append(e.log, sapiEntry{seq: e.first + int64(len(e.log)), at: now, ev: ev})
	}
	// Keep Retention of history.
	cut := 0
	for cut < len(e.log) && now.Sub(e.log[cut].at) > e.o.Retention {
		cut++
	}
	if cut > 0 {
		e.log = append([]sapiEntry(nil), e.log[cut:]...)
		e.first += int64(cut)
	}
	close(e.changed)
	e.changed = make(chan struct{})
}

// URL is the base URL to configure (the subscribe path is appended).
func (e *SAPIServer) URL() string { return "http://" + e.ln.Addr().String() }

// Tenant returns the emulated tenant.
func (e *SAPIServer) Tenant() string { return e.o.Tenant }

// Token returns the token the emulator accepts.
func (e *SAPIServer) Token() string { return e.o.Token }

// SourceConfig returns the configuration of an 8x8-sapi source that reads
// this emulator (JSON; set the options' Format to "xml" for XML); the sapi
// package must be linked (it registers the type).
// It resyncs from the emulator's agent status API.
func (e *SAPIServer) SourceConfig(name string) config.Source {
	return sourceConfig(name, "8x8-sapi", e.URL(), map[string]any{"tenant": e.o.Tenant, "subscription_id": "wallboard-" + name,
		"token": e.o.Token, "format": "json", "reason_labels": EightByEightReasonLabels(),
		"agent_status_url": e.URL(), "agent_status_token": e.o.StatusToken})
}

// StatusToken returns the agent status API's token (its user is the
// tenant); the API is at URL() + /api/v1/tenants/{tenant}/agentstatus/agents.
func (e *SAPIServer) StatusToken() string { return e.o.StatusToken }

// StatusReads counts the agent status API's authorized reads.
func (e *SAPIServer) StatusReads() int64 { return e.api.reads.Load() }

// RefuseStatus makes the agent status API answer status (401, 500…); 0
// stops.
func (e *SAPIServer) RefuseStatus(status int) { e.api.refuse.Store(int32(status)) }

// Expire forgets every subscription not connected now, as 8x8 does two
// hours after a subscriber left: it comes back to a new subscription,
// with no backlog. It returns how many it forgot.
func (e *SAPIServer) Expire() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for id, sub := range e.subs {
		if sub.connected == 0 {
			delete(e.subs, id)
			n++
		}
	}
	return n
}

// Close stops the server and drops every connection.
func (e *SAPIServer) Close() {
	e.closeOnce.Do(func() {
		e.cancel()
		e.Drop()
		_ = e.srv.Close()
		<-e.feedDone
	})
}

// Fault switches.

// Refuse makes every subscribe answer status (401, 403, 429, 500…); 0 stops.
func (e *SAPIServer) Refuse(status int) { e.refuse.Store(int32(status)) }

// Drop drops every open connection now, mid-stream.
func (e *SAPIServer) Drop() {
	e.mu.Lock()
	close(e.kill)
	e.kill = make(chan struct{})
	e.mu.Unlock()
}

// DropAfter drops connections after n more events, in the middle of the
// next event's bytes; 0 disables it.
func (e *SAPIServer) DropAfter(n int) { e.dropAfter.Store(int64(n)) }

// Malformed writes n malformed frames among the next events.
func (e *SAPIServer) Malformed(n int) { e.malformed.Store(int32(n)) }

// OddStates makes the next n agent state changes carry code as newState:
// a number no mapping knows (42), or text that is no number ("sideways").
func (e *SAPIServer) OddStates(n int, code any) { e.r.oddStates(n, code) }

// SplitChunks writes every message in small pieces, flushed one by one.
func (e *SAPIServer) SplitChunks(on bool) { e.split.Store(on) }

// TrackMessageSize prefixes every message with its length (Atmosphere's
// X-Atmosphere-TrackMessageSize), even if the client did not ask.
func (e *SAPIServer) TrackMessageSize(on bool) { e.trackSize.Store(on) }

// ReplayOverlap makes a resumed subscription also receive its last n
// delivered events again (at-least-once delivery).
func (e *SAPIServer) ReplayOverlap(n int) { e.replayOverlap.Store(int32(n)) }

// Connects counts subscribe requests answered 200.
func (e *SAPIServer) Connects() int64 { return e.connects.Load() }

// Logged returns the numbered events in the tenant log, as JSON.
func (e *SAPIServer) Logged() [][]byte {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([][]byte, len(e.log))
	for i, en := range e.log {
		out[i] = en.ev.JSON()
	}
	return out
}

const sapiPathPrefix = "/api/streaming/v1/clientconnect/subscribe/TenantUpdates-"

func (e *SAPIServer) handle(w http.ResponseWriter, req *http.Request) {
	if e.api.serve(w, req) {
		return
	}
	if req.Method != http.MethodGet || !strings.HasPrefix(req.URL.Path, sapiPathPrefix) {
		http.NotFound(w, req)
		return
	}
	if st := e.refuse.Load(); st != 0 {
		http.Error(w, http.StatusText(int(st)), int(st))
		return
	}
	rest := strings.TrimPrefix(req.URL.Path, sapiPathPrefix)
	subID, ok := strings.CutPrefix(rest, e.o.Tenant+"-")
	if !ok || subID == "" {
		http.Error(w, "Unknown tenant", http.StatusNotFound)
		return
	}
	if q := req.URL.Query().Get("subsId"); q != "" && q != subID {
		http.Error(w, "subsId does not match the path", http.StatusBadRequest)
		return
	}
	auth := req.Header.Get("Authorization")
	if auth != "Basic "+e.o.Token && auth != e.o.Token {
		http.Error(w, "Unauthorized", http.StatusUnauthorized)
		return
	}
	format := req.URL.Query().Get("desiredOutputType")
	switch format {
	case "":
		format = "NEWLINE_JSON"
	case "JSON", "XML", "NEWLINE_JSON", "NEWLINE_XML":
	default:
		http.Error(w, "Invalid desiredOutputType", http.StatusBadRequest)
		return
	}

	e.mu.Lock()
	if e.active >= e.o.MaxListeners {
		e.mu.Unlock()
		// What 8x8 answers is not documented; this is our reading of it.
		http.Error(w, fmt.Sprintf("Maximum number of subscriptions (%d) reached for tenant %s", e.o.MaxListeners, e.o.Tenant),
			http.StatusTooManyRequests)
		return
	}
	e.active++
	now := time.Now()
	sub := e.subs[subID]
	var prelude []e8Event
	if sub == nil || (sub.connected == 0 && now.Sub(sub.lastSeen) > e.o.Retention) || sub.next < e.first {
		// A new subscription (or one gone too long): no backlog, a prelude.
		sub = &sapiSub{next: e.first + int64(len(e.log))}
		e.subs[subID] = sub
		if !e.o.NoPrelude {
			prelude = e.r.provisioning(e.sim.Agents(), e.sim.Truth(), false)
		}
	} else if n := int64(e.replayOverlap.Load()); n > 0 {
		sub.next = max(e.first, sub.next-n)
	}
	sub.connected++
	kill := e.kill
	e.mu.Unlock()
	defer func() {
		e.mu.Lock()
		e.active--
		sub.connected--
		sub.lastSeen = time.Now()
		e.mu.Unlock()
	}()

	e.connects.Add(1)
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=UTF-8")
	h.Set("Cache-Control", "no-store, no-cache, must-revalidate")
	tracking := req.URL.Query().Get("X-Atmosphere-tracking-id")
	if tracking == "" || tracking == "0" {
		tracking = uuid()
		h.Set("X-Atmosphere-first-request", "true")
	}
	h.Set("X-Atmosphere-tracking-id", tracking)
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	track := e.trackSize.Load() || strings.EqualFold(req.URL.Query().Get("X-Atmosphere-TrackMessageSize"), "true")
	xmlOut := strings.HasSuffix(format, "XML")
	newline := strings.HasPrefix(format, "NEWLINE_")

	write := func(b []byte) error {
		if e.split.Load() {
			for len(b) > 0 {
				n := min(7, len(b))
				if _, err := w.Write(b[:n]); err != nil {
					return err
				}
				if err := rc.Flush(); err != nil {
					return err
				}
				b = b[n:]
			}
			return nil
		}
		if _, err := w.Write(b); err != nil {
			return err
		}
		return rc.Flush()
	}
	frame := func(ev e8Event) []byte {
		var b []byte
		if xmlOut {
			b = ev.XML()
		} else {
			b = ev.JSON()
		}
		if newline {
			b = append(b, '\n')
		}
		if track {
			b = append([]byte(fmt.Sprintf("%d|", len(utf16.Encode([]rune(string(b)))))), b...)
		}
		return b
	}

	if err := write(sapiPadding(e.o.Padding)); err != nil {
		return
	}
	for _, ev := range prelude {
		if err := write(frame(ev)); err != nil {
			return
		}
	}
	session := time.NewTimer(e.o.SessionLength)
	defer session.Stop()
	var hb <-chan time.Time
	if e.o.Heartbeat > 0 {
		t := time.NewTicker(e.o.Heartbeat)
		defer t.Stop()
		hb = t.C
	}
	for {
		e.mu.Lock()
		var batch []sapiEntry
		if i := sub.next - e.first; i >= 0 && i < int64(len(e.log)) {
			batch = append(batch, e.log[i:]...)
		}
		changed := e.changed
		e.mu.Unlock()

		for _, en := range batch {
			if n := e.malformed.Load(); n > 0 && e.malformed.CompareAndSwap(n, n-1) {
				if err := write(sapiMalformed(xmlOut, newline, int(n))); err != nil {
					return
				}
			}
			b := frame(en.ev)
			if n := e.dropAfter.Load(); n > 0 {
				if n == 1 && e.dropAfter.CompareAndSwap(1, 0) {
					// Half an event, then the connection dies.
					_ = write(b[:len(b)/2])
					panic(http.ErrAbortHandler)
				}
				e.dropAfter.CompareAndSwap(n, n-1)
			}
			if err := write(b); err != nil {
				return
			}
			e.mu.Lock()
			if sub.next == en.seq {
				sub.next = en.seq + 1
			}
			e.mu.Unlock()
		}
		if len(batch) > 0 {
			continue
		}
		select {
		case <-changed:
		case <-hb:
			if err := write([]byte("X")); err != nil {
				return
			}
		case <-session.C:
			return // the 60-minute session is over
		case <-kill:
			panic(http.ErrAbortHandler)
		case <-req.Context().Done():
			return
		}
	}
}

func sapiPadding(version string) []byte {
	switch version {
	case "2.0":
		return append([]byte(strings.Repeat(" ", 8192)), '\n')
	case "1.0":
		return []byte(strings.Repeat(" ", 8192))
	case "html":
		var b strings.Builder
		for range 5 {
			b.WriteString("<!-- " + strings.Repeat("-", 200) + " -->\n")
		}
		b.WriteString("<!-- EOD -->")
		return []byte(b.String())
	default:
		return append([]byte(strings.Repeat(" ", 2048)), '\n')
	}
}

// sapiMalformed returns a frame that is framed correctly but cannot be
// decoded.
func sapiMalformed(xmlOut, newline bool, n int) []byte {
	var b []byte
	switch {
	case xmlOut:
		b = []byte(`<AgentStatusChange><agentId>bad</agentId><newState>4</newState><</AgentStatusChange>`)
	case n%2 == 0:
		b = []byte(`{"AgentStatusChange":{"agentId":"bad","newState":4,}}`)
	default:
		b = []byte(`{"Interaction":{"interactionGUID":"bad","queueTime":}}`)
	}
	if newline {
		b = append(b, '\n')
	}
	return b
}

func uuid() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// Settled reports whether every action the Sim has emitted so far is in the
// emulator's log (tests step the Sim, then wait for this).
func (e *SAPIServer) Settled() bool { return e.rendered.Load() >= simSeq(e.sim) }
