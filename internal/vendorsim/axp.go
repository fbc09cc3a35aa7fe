package vendorsim

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/wallboard/wallboard/internal/config"
)

// AXPOptions configure the emulated Avaya Experience Platform: the token
// endpoint, the Notification API and the two WebSocket families (Agent &
// Engagement events, Analytics Realtime Data). Zero values are the vendor's
// defaults; tests shorten the lifetimes.
type AXPOptions struct {
	AccountID    string // default "DYNNUG" (six letters, like the vendor's)
	ClientID     string // default "wallboard"
	ClientSecret string // default "axp-secret"
	AppKey       string // default "axp-appkey"

	TokenLifetime        time.Duration // access tokens' expires_in; default 900s
	SubscriptionLifetime time.Duration // subscriptions' expiresIn; default 900s
	// PingInterval is announced to clients; a socket that sends no JSON ping
	// within it is closed and its subscription set INACTIVE. Default 300s.
	PingInterval time.Duration
	// ServiceLevel for the answered-in-SL measure; default 20s.
	ServiceLevel time.Duration
}

// AXPFaults are the emulator's fault switches (see SetFaults and the
// one-shot methods DropSockets, ForgetSubscriptions, InvalidateTokens,
// SendMalformed).
type AXPFaults struct {
	// RejectCredentials: the token endpoint answers 401 problem+json.
	RejectCredentials bool
	// AuthStatus, when set, answers the next AuthStatusCount WebSocket
	// authentications with this status (a count below zero: every one).
	AuthStatus      string
	AuthStatusCount int
	// AuthStatusFamily limits AuthStatus to the sockets of one family
	// (AGENT_ENGAGEMENT or ANALYTICS); "" applies it to both.
	AuthStatusFamily string
	// NoPongs: JSON pings get no pong (control pings are still answered).
	NoPongs bool
	// UpperCaseAuth answers "AUTHENTICATION_RESPONSE" as in the user report.
	UpperCaseAuth bool
	// CreateProblem, when set, answers subscription creation with this
	// status and a problem+json body.
	CreateProblem int
}

// AXPStats counts what clients did.
type AXPStats struct {
	TokenCalls, TokensRejected, MissingAppKey    int
	Creates, Renewals, Deletes, Auths, Confirmed int
	Pings, Pongs, Sockets, Expired, PingTimeouts int
	LastCreate                                   map[string]any
	RenewedBeforeExpiry, RenewedAfterExpiry      int
	ActiveSubscriptions                          int
	AuthStatuses                                 map[string]int
}

type axpSub struct {
	id, family, producer string
	created, expires     time.Time
	inactive             bool
}

type axpConn struct {
	conn     *websocket.Conn
	sub      string
	family   string
	producer string
	cancel   context.CancelFunc
}

// AXPServer is the emulated vendor on a loopback listener.
type AXPServer struct {
	sim  *Sim
	opts AXPOptions
	ln   net.Listener
	srv  *http.Server

	mu     sync.Mutex
	tokens map[string]time.Time
	subs   map[string]*axpSub
	conns  map[*axpConn]bool
	faults AXPFaults
	stats  AXPStats
	wg     sync.WaitGroup
	closed bool
}

// StartAXP starts the emulator on 127.0.0.1:0, rendering sim's actions.
func StartAXP(sim *Sim, o AXPOptions) (*AXPServer, error) {
	if o.AccountID == "" {
		o.AccountID = "DYNNUG"
	}
	if o.ClientID == "" {
		o.ClientID = "wallboard"
	}
	if o.ClientSecret == "" {
		o.ClientSecret = "axp-secret"
	}
	if o.AppKey == "" {
		o.AppKey = "axp-appkey"
	}
	if o.TokenLifetime <= 0 {
		o.TokenLifetime = 900 * time.Second
	}
	if o.SubscriptionLifetime <= 0 {
		o.SubscriptionLifetime = 900 * time.Second
	}
	if o.PingInterval <= 0 {
		o.PingInterval = 300 * time.Second
	}
	if o.ServiceLevel <= 0 {
		o.ServiceLevel = 20 * time.Second
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("failed to listen: %w", err)
	}
	e := &AXPServer{sim: sim, opts: o, ln: ln, tokens: map[string]time.Time{}, subs: map[string]*axpSub{},
		conns: map[*axpConn]bool{}, stats: AXPStats{AuthStatuses: map[string]int{}}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/auth/v1/{account}/protocol/openid-connect/token", e.handleToken)
	base := "/api/notification/v1/accounts/{account}/subscriptions"
	mux.HandleFunc("POST "+base, e.api(e.handleCreate))
	mux.HandleFunc("GET "+base, e.api(e.handleList))
	mux.HandleFunc("GET "+base+"/{id}", e.api(e.handleGet))
	mux.HandleFunc("DELETE "+base+"/{id}", e.api(e.handleDelete))
	mux.HandleFunc("POST "+base+"/{id}", e.api(e.handleRenew)) // {id}:renew
	mux.HandleFunc("GET /ws/notification/v1/agent-engagement/{account}/{id}", e.handleSocket("AGENT_ENGAGEMENT"))
	mux.HandleFunc("GET /ws/notification/v1/analytics/realtime/{account}/{id}", e.handleSocket("ANALYTICS"))
	e.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = e.srv.Serve(ln) }()
	return e, nil
}

// URL is the emulated https://{region}.api.avayacloud.com.
func (e *AXPServer) URL() string { return "http://" + e.ln.Addr().String() }

// Options returns the options in effect (with defaults).
func (e *AXPServer) Options() AXPOptions { return e.opts }

// AXPReasonCodes maps the simulation's not-ready reasons to the reason codes
// the emulator sends; other reasons go out as code 599 with the reason as
// the cause.
var AXPReasonCodes = map[string]string{"Login": "500", "Break": "501", "Lunch": "502", "Training": "503",
	"Meeting": "504", "Coaching": "505"}

// SourceConfig returns the configuration of a wallboard source of typ
// ("avaya-engagement" or "avaya-analytics") pointed at this emulator; the
// axp package must be linked (it registers the types).
func (e *AXPServer) SourceConfig(name, typ string) config.Source {
	opts := map[string]any{"account_id": e.opts.AccountID, "client_id": e.opts.ClientID,
		"client_secret": e.opts.ClientSecret, "app_key": e.opts.AppKey}
	if typ == "avaya-analytics" {
		opts["measure_producers"] = []string{"Queue_itd_1.0.0", "Agent_itd_1.0.0"}
	} else {
		codes := map[string]string{}
		for r, c := range AXPReasonCodes {
			codes[c] = r
		}
		opts["reason_codes"] = codes
	}
	return sourceConfig(name, typ, e.URL(), opts)
}

// Close stops the emulator and closes every socket.
func (e *AXPServer) Close() {
	e.mu.Lock()
	e.closed = true
	for c := range e.conns {
		c.cancel()
		c.conn.CloseNow()
	}
	e.mu.Unlock()
	_ = e.srv.Close()
	e.wg.Wait()
}

// SetFaults replaces the fault switches.
func (e *AXPServer) SetFaults(f AXPFaults) {
	e.mu.Lock()
	e.faults = f
	e.mu.Unlock()
}

// Stats returns a copy of the counters.
func (e *AXPServer) Stats() AXPStats {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.stats
	s.AuthStatuses = map[string]int{}
	for k, v := range e.stats.AuthStatuses {
		s.AuthStatuses[k] = v
	}
	for _, sub := range e.subs {
		if !sub.inactive && time.Now().Before(sub.expires) {
			s.ActiveSubscriptions++
		}
	}
	return s
}

// Subscriptions returns the ids of the subscriptions the emulator knows.
func (e *AXPServer) Subscriptions() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var ids []string
	for id := range e.subs {
		ids = append(ids, id)
	}
	return ids
}

// DropSockets closes every socket abruptly (no close frame).
func (e *AXPServer) DropSockets() {
	e.mu.Lock()
	defer e.mu.Unlock()
	for c := range e.conns {
		c.cancel()
		c.conn.CloseNow()
	}
}

// DropFamily closes every socket of family (AGENT_ENGAGEMENT or
// ANALYTICS) abruptly, leaving the other family's connected.
func (e *AXPServer) DropFamily(family string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for c := range e.conns {
		if c.family == family {
			c.cancel()
			c.conn.CloseNow()
		}
	}
}

// ForgetSubscriptions deletes every subscription without telling clients:
// renewals answer 404 and authentications CONNECTION_FAILED_UNKNOWN_SUBSCRIPTION.
// Open sockets are closed, as the vendor does for an inactive subscription.
func (e *AXPServer) ForgetSubscriptions() {
	e.mu.Lock()
	defer e.mu.Unlock()
	clear(e.subs)
	for c := range e.conns {
		c.cancel()
		c.conn.CloseNow()
	}
}

// InvalidateTokens revokes every access token issued so far.
func (e *AXPServer) InvalidateTokens() {
	e.mu.Lock()
	clear(e.tokens)
	e.mu.Unlock()
}

// SendMalformed sends a frame that is not valid JSON, and one that is JSON
// but not a valid frame of the family, to every authenticated socket.
func (e *AXPServer) SendMalformed() {
	e.Inject("", []byte(`{"body":{"event":"AgentState","agentId":`))
	e.Inject("AGENT_ENGAGEMENT", []byte(`{"family":"AGENT_ENGAGEMENT","body":{"agentId":"x"}}`))
	e.Inject("ANALYTICS", []byte(`{"keys":{},"eventAction":"UPSERT","payloadType":"LIVE"}`))
}

// Inject sends a raw frame to every authenticated socket of family ("" for
// all).
func (e *AXPServer) Inject(family string, frame []byte) {
	e.mu.Lock()
	var cs []*axpConn
	for c := range e.conns {
		if c.sub != "" && (family == "" || c.family == family) {
			cs = append(cs, c)
		}
	}
	e.mu.Unlock()
	for _, c := range cs {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_ = c.conn.Write(ctx, websocket.MessageText, frame)
		cancel()
	}
}

// Expire makes every subscription expire now (INACTIVE, sockets closed), as
// if the client had not renewed in time.
func (e *AXPServer) Expire() {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, s := range e.subs {
		s.expires = time.Now()
		s.inactive = true
	}
	for c := range e.conns {
		c.cancel()
		c.conn.CloseNow()
	}
}

// axpSeconds is d in whole seconds, rounded, never negative (the vendor
// counts in seconds).
func axpSeconds(d time.Duration) int64 {
	return max(int64((d+time.Second/2)/time.Second), 0)
}

func axpID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// axpProblem answers an RFC 7807 problem.
func axpProblem(w http.ResponseWriter, status int, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"type": "about:blank", "title": http.StatusText(status),
		"status": status, "detail": detail})
}

func axpJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// checkAppKey counts and rejects a call without the right appkey header.
func (e *AXPServer) checkAppKey(w http.ResponseWriter, r *http.Request) bool {
	if r.Header.Get("appkey") == e.opts.AppKey {
		return true
	}
	e.mu.Lock()
	e.stats.MissingAppKey++
	e.mu.Unlock()
	axpProblem(w, http.StatusUnauthorized, "missing or invalid appkey")
	return false
}

func (e *AXPServer) handleToken(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	e.stats.TokenCalls++
	reject := e.faults.RejectCredentials
	e.mu.Unlock()
	if !e.checkAppKey(w, r) {
		return
	}
	if r.PathValue("account") != e.opts.AccountID {
		axpProblem(w, http.StatusNotFound, "unknown account")
		return
	}
	if err := r.ParseForm(); err != nil {
		axpProblem(w, http.StatusBadRequest, "malformed form")
		return
	}
	if reject || r.PostForm.Get("grant_type") != "client_credentials" || r.PostForm.Get("client_id") != e.opts.ClientID ||
		r.PostForm.Get("client_secret") != e.opts.ClientSecret {
		axpProblem(w, http.StatusUnauthorized, "Invalid client credentials")
		return
	}
	tok := "eyJ" + strings.ReplaceAll(axpID(), "-", "")
	e.mu.Lock()
	e.tokens[tok] = time.Now().Add(e.opts.TokenLifetime)
	e.mu.Unlock()
	axpJSON(w, http.StatusOK, map[string]any{"access_token": tok, "token_type": "Bearer",
		"expires_in": int64(e.opts.TokenLifetime.Seconds()), "refresh_token": "r" + tok})
}

// validToken reports whether tok is an unexpired token this emulator issued.
func (e *AXPServer) validTokenLocked(tok string) bool {
	exp, ok := e.tokens[tok]
	return ok && time.Now().Before(exp)
}

// api wraps a Notification API handler with the appkey, token and account checks.
func (e *AXPServer) api(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !e.checkAppKey(w, r) {
			return
		}
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		e.mu.Lock()
		valid := ok && e.validTokenLocked(tok)
		if !valid {
			e.stats.TokensRejected++
		}
		e.mu.Unlock()
		if !valid {
			axpProblem(w, http.StatusUnauthorized, "Invalid or expired token")
			return
		}
		if r.PathValue("account") != e.opts.AccountID {
			axpProblem(w, http.StatusForbidden, "token not valid for this account")
			return
		}
		h(w, r)
	}
}

func (e *AXPServer) view(s *axpSub) map[string]any {
	now := time.Now()
	status := "ACTIVE"
	if s.inactive || !now.Before(s.expires) {
		status = "INACTIVE"
	}
	path := "/ws/notification/v1/agent-engagement/"
	events := []string{"ALL"}
	v := map[string]any{"subscriptionId": s.id, "createdAt": s.created.UTC().Format(time.RFC3339Nano),
		"expiresAt": s.expires.UTC().Format(time.RFC3339Nano), "expiresIn": axpSeconds(s.expires.Sub(now)),
		"status": status, "family": s.family, "events": events}
	if s.family == "ANALYTICS" {
		path = "/ws/notification/v1/analytics/realtime/"
		v["extensions"] = map[string]string{"measureProducerId": s.producer, "processorType": "ITD"}
	}
	v["transport"] = map[string]any{"type": "WEBSOCKET", "endpoint": "ws://" + e.ln.Addr().String() + path + e.opts.AccountID + "/" + s.id,
		"pingInterval": int64(e.opts.PingInterval.Seconds())}
	return v
}

func (e *AXPServer) handleCreate(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Family     string                `json:"family"`
		Events     []string              `json:"events"`
		Transport  struct{ Type string } `json:"transport"`
		Extensions map[string]string     `json:"extensions"`
	}
	var raw map[string]any
	body := http.MaxBytesReader(w, r.Body, 1<<16)
	if err := json.NewDecoder(body).Decode(&raw); err != nil {
		axpProblem(w, http.StatusBadRequest, "malformed JSON")
		return
	}
	b, _ := json.Marshal(raw)
	_ = json.Unmarshal(b, &in)
	e.mu.Lock()
	e.stats.LastCreate = raw
	problem := e.faults.CreateProblem
	e.mu.Unlock()
	if problem != 0 {
		axpProblem(w, problem, "Subscription limit reached for account "+e.opts.AccountID)
		return
	}
	switch {
	case in.Transport.Type != "" && in.Transport.Type != "WEBSOCKET":
		axpProblem(w, http.StatusBadRequest, "only WEBSOCKET transport is emulated")
		return
	case in.Family == "AGENT_ENGAGEMENT":
		if len(in.Events) == 0 || len(in.Events) > 25 {
			axpProblem(w, http.StatusBadRequest, "events must be [\"ALL\"] or up to 25 event names")
			return
		}
	case in.Family == "ANALYTICS":
		p := strings.ToLower(in.Extensions["measureProducerId"])
		if !strings.HasPrefix(p, "queue") && !strings.HasPrefix(p, "agent") {
			axpProblem(w, http.StatusBadRequest, fmt.Sprintf("unknown measureProducerId %q", in.Extensions["measureProducerId"]))
			return
		}
	default:
		axpProblem(w, http.StatusBadRequest, fmt.Sprintf("unknown family %q", in.Family))
		return
	}
	now := time.Now()
	s := &axpSub{id: axpID(), family: in.Family, producer: in.Extensions["measureProducerId"], created: now,
		expires: now.Add(e.opts.SubscriptionLifetime)}
	e.mu.Lock()
	e.subs[s.id] = s
	e.stats.Creates++
	v := e.view(s)
	e.mu.Unlock()
	axpJSON(w, http.StatusCreated, v)
}

func (e *AXPServer) handleList(w http.ResponseWriter, _ *http.Request) {
	e.mu.Lock()
	var list []map[string]any
	for _, s := range e.subs {
		list = append(list, e.view(s))
	}
	e.mu.Unlock()
	axpJSON(w, http.StatusOK, map[string]any{"pagination": map[string]any{"pageNumber": 1, "pageSize": 25,
		"total": len(list)}, "subscriptions": list, "links": map[string]any{}})
}

func (e *AXPServer) handleGet(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	s := e.subs[r.PathValue("id")]
	var v map[string]any
	if s != nil {
		v = e.view(s)
	}
	e.mu.Unlock()
	if s == nil {
		axpProblem(w, http.StatusNotFound, "Subscription not found")
		return
	}
	axpJSON(w, http.StatusOK, v)
}

func (e *AXPServer) handleDelete(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	e.mu.Lock()
	s := e.subs[id]
	delete(e.subs, id)
	if s != nil {
		e.stats.Deletes++
		for c := range e.conns {
			if c.sub == id {
				c.cancel()
				c.conn.CloseNow()
			}
		}
	}
	e.mu.Unlock()
	if s == nil {
		axpProblem(w, http.StatusNotFound, "Subscription not found")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// handleRenew serves POST …/subscriptions/{id}:renew, which brings an
// INACTIVE subscription back.
func (e *AXPServer) handleRenew(w http.ResponseWriter, r *http.Request) {
	id, ok := strings.CutSuffix(r.PathValue("id"), ":renew")
	if !ok {
		axpProblem(w, http.StatusNotFound, "no such operation")
		return
	}
	e.mu.Lock()
	s := e.subs[id]
	var v map[string]any
	if s != nil {
		now := time.Now()
		if now.Before(s.expires) && !s.inactive {
			e.stats.RenewedBeforeExpiry++
		} else {
			e.stats.RenewedAfterExpiry++
		}
		e.stats.Renewals++
		s.expires, s.inactive = now.Add(e.opts.SubscriptionLifetime), false
		v = e.view(s)
	}
	e.mu.Unlock()
	if s == nil {
		axpProblem(w, http.StatusNotFound, "Subscription not found")
		return
	}
	axpJSON(w, http.StatusOK, v)
}

// handleSocket serves one WebSocket of family: the authentication frame
// first, then data, JSON pings answered with pongs, the socket closed when
// pings stop for pingInterval or the subscription expires.
func (e *AXPServer) handleSocket(family string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !e.checkAppKey(w, r) {
			return
		}
		conn, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		ctx, cancel := context.WithCancel(context.Background())
		c := &axpConn{conn: conn, family: family, cancel: cancel}
		e.mu.Lock()
		if e.closed {
			e.mu.Unlock()
			cancel()
			conn.CloseNow()
			return
		}
		e.conns[c] = true
		e.stats.Sockets++
		e.wg.Add(1)
		e.mu.Unlock()
		defer func() {
			cancel()
			conn.CloseNow()
			e.mu.Lock()
			delete(e.conns, c)
			e.mu.Unlock()
			e.wg.Done()
		}()
		e.serveSocket(ctx, c, r.PathValue("id"))
	}
}

func (e *AXPServer) writeJSON(ctx context.Context, c *axpConn, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return c.conn.Write(wctx, websocket.MessageText, b)
}

func (e *AXPServer) serveSocket(ctx context.Context, c *axpConn, pathID string) {
	actx, acancel := context.WithTimeout(ctx, 10*time.Second)
	_, b, err := c.conn.Read(actx)
	acancel()
	if err != nil {
		return
	}
	var auth struct{ Event, SubscriptionID, Token string }
	status := "CONNECTION_CONFIRMED"
	if json.Unmarshal(b, &auth) != nil || auth.Event != "authentication" || auth.Token == "" || auth.SubscriptionID == "" {
		status = "CONNECTION_FAILED_CONSTRAINT_VIOLATION"
	}
	e.mu.Lock()
	e.stats.Auths++
	sub := e.subs[auth.SubscriptionID]
	switch {
	case status != "CONNECTION_CONFIRMED":
	case e.faults.AuthStatus != "" && e.faults.AuthStatusCount != 0 && (e.faults.AuthStatusFamily == "" || e.faults.AuthStatusFamily == c.family):
		status = e.faults.AuthStatus
		if e.faults.AuthStatusCount > 0 {
			e.faults.AuthStatusCount--
		}
	case !e.validTokenLocked(auth.Token):
		status = "CONNECTION_FAILED_INVALID_TOKEN"
		e.stats.TokensRejected++
	case sub == nil || sub.inactive || !time.Now().Before(sub.expires) || sub.family != c.family || auth.SubscriptionID != pathID:
		status = "CONNECTION_FAILED_UNKNOWN_SUBSCRIPTION"
	}
	e.stats.AuthStatuses[status]++
	event := "authenticationResponse"
	if e.faults.UpperCaseAuth {
		event = "AUTHENTICATION_RESPONSE"
	}
	var expires time.Time
	if status == "CONNECTION_CONFIRMED" {
		e.stats.Confirmed++
		c.sub, c.producer, expires = sub.id, sub.producer, sub.expires
	}
	e.mu.Unlock()
	resp := map[string]any{"event": event, "status": status, "subscriptionId": auth.SubscriptionID}
	if status == "CONNECTION_CONFIRMED" {
		resp["pingInterval"] = int64(e.opts.PingInterval.Seconds())
		resp["expiresInterval"] = axpSeconds(time.Until(expires))
	}
	if status != "CONNECTION_CONFIRMED" {
		_ = e.writeJSON(ctx, c, resp)
		c.conn.Close(websocket.StatusPolicyViolation, "authentication failed")
		return
	}
	// The renderer takes the agents' states first, then the subscription
	// starts, then the client is confirmed: nothing it causes after the
	// confirmation is missed or mistaken for the state it already knew.
	var r axpRenderer
	if c.family == "ANALYTICS" {
		r = newAXPAnalytics(e, c.producer)
	} else {
		r = newAXPEngagement(e, c.sub)
	}
	simSub := e.sim.Subscribe()
	defer simSub.Close()
	if err := e.writeJSON(ctx, c, resp); err != nil {
		return
	}
	for _, f := range r.initial() {
		if e.writeJSON(ctx, c, f) != nil {
			return
		}
	}

	pings := make(chan struct{}, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			_, b, err := c.conn.Read(ctx)
			if err != nil {
				return
			}
			var f struct{ Event string }
			if json.Unmarshal(b, &f) != nil || f.Event != "ping" {
				continue
			}
			e.mu.Lock()
			e.stats.Pings++
			noPong := e.faults.NoPongs
			if !noPong {
				e.stats.Pongs++
			}
			e.mu.Unlock()
			select {
			case pings <- struct{}{}:
			default:
			}
			if !noPong {
				_ = e.writeJSON(ctx, c, map[string]string{"event": "pong"})
			}
		}
	}()
	pingDeadline := time.NewTimer(e.opts.PingInterval)
	defer pingDeadline.Stop()
	check := time.NewTicker(min(e.opts.PingInterval/4, 100*time.Millisecond+e.opts.SubscriptionLifetime/20))
	defer check.Stop()
	for {
		select {
		case <-done:
			return
		case <-ctx.Done():
			return
		case <-pings:
			pingDeadline.Reset(e.opts.PingInterval)
		case <-pingDeadline.C:
			// The vendor closes the socket and sets the subscription INACTIVE.
			e.mu.Lock()
			e.stats.PingTimeouts++
			if s := e.subs[c.sub]; s != nil {
				s.inactive = true
			}
			e.mu.Unlock()
			c.conn.Close(websocket.StatusPolicyViolation, "no ping within pingInterval")
			return
		case <-check.C:
			e.mu.Lock()
			s := e.subs[c.sub]
			expired := s == nil || s.inactive || !time.Now().Before(s.expires)
			if expired && s != nil {
				s.inactive = true
				e.stats.Expired++
			}
			e.mu.Unlock()
			if expired {
				c.conn.Close(websocket.StatusPolicyViolation, "subscription inactive")
				return
			}
		case a, ok := <-simSub.C():
			if !ok {
				return
			}
			for _, f := range r.render(a) {
				if e.writeJSON(ctx, c, f) != nil {
					return
				}
			}
		}
	}
}

// axpRenderer turns the simulation into one family's frames.
type axpRenderer interface {
	initial() []any
	render(a Action) []any
}
