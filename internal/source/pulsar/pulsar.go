// Package pulsar reads 8x8 Event Streaming: the Apache Pulsar WebSocket
// proxy's reader or consumer endpoint, whose frames carry 8x8's single-key
// event wrappers base64 in "payload". It translates them with package
// eightbyeight.
//
// Every processed message is acknowledged, readers included: the proxy stops
// pushing after receiverQueueSize unacknowledged messages. A reader resumes
// from the last processed message id, which the proxy treats as exclusive,
// so after a drop nothing is lost and nothing repeated. Across restarts the
// id travels with the events into wallboard's journal (EmitCursor), and a
// start resumes from the id of the last record the restored model holds
// (Resume); without a journal it is kept in the state directory (written at
// most every 500 ms and on exit). With a journal, a consumer acknowledges a
// message only once the journal reports its events durable (sendAcks), so
// Pulsar redelivers whatever a crash lost.
//
// Work is batched per socket read (batchConn): the events of every message
// in one chunk read from the socket reach the model in one call, then the
// cursor moves, then all their acks leave in one write. Each session dials
// its own connection through a transport of its own, so the session always
// holds the batchConn under its WebSocket (a pooled connection would not
// be one). A message is never
// acknowledged, nor the cursor moved past it, before its events were handed
// on. The usual frames and events are read without reflection (parseFrame,
// eightbyeight's fast path); everything else goes through encoding/json.
//
// What the topic no longer holds, and every agent a reader starting at
// "latest" has not seen change, is read back from 8x8's Agent Status API
// after a start or a long disconnection (eightbyeight.Resyncer).
package pulsar

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/wallboard/wallboard/internal/config"
	"github.com/wallboard/wallboard/internal/event"
	"github.com/wallboard/wallboard/internal/source"
	"github.com/wallboard/wallboard/internal/source/eightbyeight"
	"github.com/wallboard/wallboard/internal/store"
)

// SaveEvery bounds how often the cursor is written to the state directory.
const SaveEvery = 500 * time.Millisecond

// Source is one 8x8-stream subscription.
type Source struct {
	cfg       settings
	st        source.Store
	log       *slog.Logger
	transport *http.Transport // each session uses a clone (session)
	dial      func(ctx context.Context, network, addr string) (net.Conn, error)
	tr        *eightbyeight.Translator
	seen      *eightbyeight.Seen
	topic     string // persistent/{tenant}/{ns}/{topic}
	key       string // state key of the cursor

	mu        sync.Mutex
	last      string // last processed message id (reader cursor)
	saved     string // last id written to the state directory
	journaled bool   // the journal keeps the cursor (Resume): no file of its own

	// A consumer with a journal acknowledges a message only once its
	// events are durable: unacked holds the ids of the batch not yet handed
	// on (Run's goroutine only), acks those handed on, behind the ticket
	// of the last batch emitted (lastTicket) when they were.
	unacked    []string
	lastTicket uint64
	acks       ackQueue

	// The batch: events of the messages processed since the last socket
	// read, and the last of those messages' ids. They are handed on, and
	// the cursor moved, before the socket is read again (batchConn) and
	// when a session ends. Only Run's goroutine touches them.
	pending   []event.Event
	batchLast string
	ack       []byte // reused ack frame
	msg       []byte // reused buffer of the frame being read
	payload   []byte // reused buffer of the decoded payload

	notes  *source.Notes          // values the mapping does not know, quoting the payload
	rec    source.Recorder        // nil unless capture is on (set before Run)
	resync *eightbyeight.Resyncer // nil without agent_status_url
}

// cursor is what the state directory keeps; the topic guards against
// resuming a different topic after a configuration change.
type cursor struct {
	Topic     string `json:"topic"`
	MessageID string `json:"messageId"`
}

// settings are the source's common keys and its own options.
type settings struct {
	config.Source
	Options
}

// New returns the source for sc, an 8x8-stream configuration. st may be nil
// (no resume across restarts).
func New(sc config.Source, st source.Store, log *slog.Logger) (*Source, error) {
	if sc.Type != Type {
		return nil, fmt.Errorf("failed to create 8x8-stream source %s: type is %q", sc.Name, sc.Type)
	}
	o, err := optionsOf(sc)
	if err != nil {
		return nil, err
	}
	cfg := settings{sc, o}
	m, err := eightbyeight.NewMapping(cfg.StateMap, cfg.ReasonLabels)
	if err != nil {
		return nil, fmt.Errorf("failed to create 8x8-stream source %s: %w", cfg.Name, err)
	}
	rs, err := eightbyeight.NewResyncer(cfg.Options.Options, cfg.Tenant, cfg.InsecureSkipVerify, m)
	if err != nil {
		return nil, fmt.Errorf("failed to create 8x8-stream source %s: %w", cfg.Name, err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if cfg.InsecureSkipVerify {
		tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // lab use, documented
	}
	s := &Source{resync: rs, cfg: cfg, st: st, log: log, transport: tr, dial: (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		tr: eightbyeight.NewTranslator(m), seen: eightbyeight.NewSeen(20000),
		topic: "persistent/" + cfg.Tenant + "/" + cfg.Namespace + "/" + cfg.Topic,
		key:   "8x8-stream-" + cfg.Name + ".cursor"}
	if st != nil && cfg.Mode != "consumer" {
		b, err := st.Get(s.key)
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return nil, fmt.Errorf("failed to read cursor of %s: %w", cfg.Name, err)
		default:
			var c cursor
			if json.Unmarshal(b, &c) == nil && c.Topic == s.topic {
				s.last, s.saved = c.MessageID, c.MessageID
			}
		}
	}
	return s, nil
}

// Name returns the configured name.
func (s *Source) Name() string { return s.cfg.Name }

// Type returns "8x8-stream".
func (s *Source) Type() string { return Type }

// Resume makes a reader start from cursor, where the restored model stands
// (the journal keeps each batch's cursor with its events; "" keeps what New
// found), and stops the source from keeping a cursor file of its own: a
// file saved apart from the events could run ahead of them.
func (s *Source) Resume(cursor string) {
	s.mu.Lock()
	s.journaled = true
	if cursor != "" {
		s.last, s.saved = cursor, cursor
	}
	s.mu.Unlock()
	if cursor != "" && s.st != nil {
		_ = s.st.Delete(s.key) // the journal's cursor supersedes it
	}
}

// Cursor returns the last processed message id.
func (s *Source) Cursor() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

// endpoint builds the reader or consumer URL.
func (s *Source) endpoint() string {
	base := strings.TrimRight(s.cfg.URL, "/")
	switch {
	case strings.HasPrefix(base, "https://"):
		base = "wss://" + strings.TrimPrefix(base, "https://")
	case strings.HasPrefix(base, "http://"):
		base = "ws://" + strings.TrimPrefix(base, "http://")
	}
	esc := url.PathEscape
	path := esc(s.cfg.Tenant) + "/" + esc(s.cfg.Namespace) + "/" + esc(s.cfg.Topic)
	q := url.Values{}
	rqs := s.cfg.ReceiverQueueSize
	if rqs <= 0 || rqs > 1000 {
		rqs = 1000
	}
	q.Set("receiverQueueSize", strconv.Itoa(rqs))
	if s.cfg.Mode == "consumer" {
		typ := s.cfg.SubscriptionType
		if typ == "" {
			typ = "Failover"
		}
		q.Set("subscriptionType", typ)
		if s.cfg.InitialPosition == "earliest" {
			q.Set("subscriptionInitialPosition", "Earliest")
		} else {
			q.Set("subscriptionInitialPosition", "Latest")
		}
		return base + "/ws/v2/consumer/persistent/" + path + "/" + esc(s.cfg.Subscription) + "?" + q.Encode()
	}
	start := s.Cursor()
	if start == "" {
		start = s.cfg.InitialPosition
		if start == "" {
			start = "latest"
		}
	}
	q.Set("messageId", start) // Encode escapes the base64 id's + / =
	return base + "/ws/v2/reader/persistent/" + path + "?" + q.Encode()
}

// Run holds one WebSocket session until it fails or ctx is done.
func (s *Source) Run(ctx context.Context, r *source.Reporter) error {
	s.notes = source.NewNotes(r)
	s.tr.SetNotes(s.notes)
	parent := ctx
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	defer s.save(r)

	connect := s.cfg.ConnectTimeout.D()
	if connect <= 0 {
		connect = 45 * time.Second
	}
	dctx, dcancel := context.WithTimeout(ctx, connect)
	sess := s.session()
	defer sess.close()
	conn, resp, err := websocket.Dial(dctx, s.endpoint(), &websocket.DialOptions{
		HTTPClient: sess.client,
		HTTPHeader: http.Header{"X-API-Key": []string{s.cfg.APIKey.Reveal()}},
	})
	dcancel()
	if err != nil {
		if resp != nil {
			return refusal(resp, err)
		}
		return fmt.Errorf("failed to connect: %w", err)
	}
	defer conn.CloseNow()
	bc := sess.conn()
	if bc == nil { // the transport did not dial (it cannot reuse: it is new)
		return errors.New("failed to connect: the WebSocket has no connection of its own")
	}
	// What was processed is handed on before the cursor is saved, even when
	// this session ends because a ping failed (ctx is then cancelled, parent
	// is not): those messages are in s.seen and would be skipped as
	// duplicates when the next session receives them again.
	defer func() { _ = s.flush(parent, r) }()
	conn.SetReadLimit(8 << 20)
	r.Live()
	r.Detail("")

	// Reads and writes below pass no deadline of their own (a context per
	// call costs a timer registration per message); ending ctx closes the
	// connection instead, which ends any read or write in progress.
	closed := make(chan struct{})
	stopClose := context.AfterFunc(ctx, func() {
		defer close(closed)
		_ = conn.CloseNow()
	})
	// The session's goroutines end with it: Run returns after each.
	var wg sync.WaitGroup
	defer func() {
		cancel(nil)
		wg.Wait()
		if !stopClose() {
			<-closed
		}
	}()
	// The topic gives back what it retains after the cursor, and a reader
	// starting at "latest" nothing: after a start or a long gap the
	// agents' current states come from the agent status API, beside the
	// stream.
	defer func() { s.resync.Ended(time.Now()) }()
	if s.resync.Due(time.Now()) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.resync.Run(ctx, r.Logger(), source.NewNotes(r), r.Emit)
		}()
	}
	wg.Add(2)
	// Control pings keep idle proxies and load balancers from closing us
	// and tell us when the peer is gone.
	every := s.cfg.PingInterval.D()
	go func() {
		defer wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				pctx, pcancel := context.WithTimeout(ctx, every)
				err := conn.Ping(pctx)
				pcancel()
				if err != nil && ctx.Err() == nil {
					cancel(fmt.Errorf("ping failed: %w", err))
					return
				}
				r.Touch()
			}
		}
	}()
	go func() {
		defer wg.Done()
		t := time.NewTicker(SaveEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				s.save(r)
			}
		}
	}()

	if s.deferAcks(r) {
		s.acks.reset()
		wg.Add(1)
		go func() { defer wg.Done(); s.sendAcks(ctx, cancel, conn, r.Durable()) }()
	}

	// From now on the events of what was read reach the model, and the
	// cursor moves, just before the socket is read again (batchConn).
	bc.startBatching(func() error { return s.flush(ctx, r) })
	for {
		b, err := s.read(conn)
		if s.rec != nil && err == nil {
			s.rec.Record("in", "8x8-stream", b)
		}
		if err != nil {
			if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
				return cause
			}
			if ctx.Err() != nil {
				_ = conn.Close(websocket.StatusNormalClosure, "")
				return nil
			}
			return fmt.Errorf("failed to read: %w", err)
		}
		if err := s.handle(r, conn, b); err != nil {
			return err
		}
	}
}

// session is one WebSocket session's HTTP client: a transport of its own
// whose dialer makes the session's batchConn, so the WebSocket always runs
// on it (a shared pool could hand the upgrade a connection of an earlier
// session, without batching).
type session struct {
	client *http.Client
	tr     *http.Transport

	mu sync.Mutex
	bc *batchConn // the connection the transport dialed (set by its dialing goroutine)
}

func (s *Source) session() *session {
	sess := &session{tr: s.transport.Clone()}
	dial := s.dial
	sess.tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		bc := newBatchConn(c)
		sess.mu.Lock()
		sess.bc = bc
		sess.mu.Unlock()
		return bc, nil
	}
	sess.client = &http.Client{Transport: sess.tr}
	return sess
}

// conn returns the connection the session dialed.
func (sess *session) conn() *batchConn {
	sess.mu.Lock()
	defer sess.mu.Unlock()
	return sess.bc
}

// close drops what the transport may keep (a refused upgrade's connection).
func (sess *session) close() { sess.tr.CloseIdleConnections() }

// read reads the next message into s.msg, which it reuses: handle keeps no
// reference into it.
func (s *Source) read(conn *websocket.Conn) ([]byte, error) {
	if cap(s.msg) > 1<<20 {
		s.msg = nil // one odd big frame does not pin its buffer for the session
	}
	_, rd, err := conn.Reader(context.Background())
	if err != nil {
		return nil, err
	}
	b := s.msg[:0]
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := rd.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	s.msg = b
	return b, nil
}

// handle processes one frame: translate, remember, acknowledge. The events
// wait in s.pending and the ack in the batchConn until the socket is read
// next (see batchConn).
func (s *Source) handle(r *source.Reporter, conn *websocket.Conn, b []byte) error {
	f, err := parseFrame(b)
	if err != nil {
		r.Malformed("pulsar-frame", b, err)
		return nil
	}
	if f.MessageID == "" {
		// {"endOfTopic":true}, AUTH_CHALLENGE and future frame types: not
		// messages, nothing to acknowledge.
		r.Touch()
		if f.Type != "" || f.EndOfTopic != nil {
			s.log.Debug("ignored control frame", "type", f.Type, "endOfTopic", string(f.EndOfTopic))
		}
		return nil
	}
	r.Message()
	s.pending = s.process(r, f, s.pending)
	s.batchLast = f.MessageID
	if s.deferAcks(r) {
		s.unacked = append(s.unacked, f.MessageID)
		return nil // sendAcks acknowledges it once its events are durable
	}
	// The ack echoes the id exactly as received; it frees a delivery slot
	// (for a reader that is all it does).
	s.ack = appendAck(s.ack[:0], f.MessageID)
	if err := conn.Write(context.Background(), websocket.MessageText, s.ack); err != nil {
		return fmt.Errorf("failed to acknowledge: %w", err)
	}
	return nil
}

// appendAck appends {"messageId":"<id>"} to b.
func appendAck(b []byte, id string) []byte {
	b = append(b, `{"messageId":`...)
	if plainJSONString(id) {
		b = append(b, '"')
		b = append(b, id...)
		return append(b, '"', '}')
	}
	q, _ := json.Marshal(id)
	b = append(b, q...)
	return append(b, '}')
}

// plainJSONString reports whether s can stand between JSON quotes as it is
// (printable ASCII without quote or backslash), as every base64 id can.
func plainJSONString(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// flush hands the batch's events to the model, then moves the cursor to
// its last message. On error the batch stays for the next flush.
func (s *Source) flush(ctx context.Context, r *source.Reporter) error {
	if len(s.pending) > 0 {
		// A reader's cursor travels with the events it covers, so the
		// journal never holds a cursor ahead of what it holds.
		cursor := ""
		if s.cfg.Mode != "consumer" {
			cursor = s.batchLast
		}
		t, err := r.EmitCursor(ctx, cursor, s.pending...)
		if err != nil {
			return err
		}
		s.lastTicket = t
		clear(s.pending) // the sink copied them; drop references for the GC
		s.pending = s.pending[:0]
	}
	if len(s.unacked) > 0 {
		// Messages without events wait behind the last batch emitted.
		s.acks.push(s.lastTicket, s.unacked)
		clear(s.unacked)
		s.unacked = s.unacked[:0]
	}
	if s.batchLast != "" {
		s.mu.Lock()
		s.last = s.batchLast
		s.mu.Unlock()
		s.batchLast = ""
	}
	return nil
}

// process decodes one message and appends its events to evs. Malformed
// payloads are counted and skipped.
func (s *Source) process(r *source.Reporter, f frame, evs []event.Event) []event.Event {
	if n := base64.StdEncoding.DecodedLen(len(f.Payload)); cap(s.payload) < n || cap(s.payload) > 1<<20 {
		s.payload = make([]byte, n)
	}
	n, err := base64.StdEncoding.Decode(s.payload[:cap(s.payload)], f.Payload)
	if err != nil {
		r.Malformed("pulsar-payload", f.Payload, fmt.Errorf("payload is not base64: %w", err))
		return evs
	}
	payload := s.payload[:n]
	msg, err := eightbyeight.Decode(payload)
	if errors.Is(err, eightbyeight.ErrUnknownWrapper) {
		s.log.Debug("ignored 8x8 event", "error", err)
		return evs
	}
	if err != nil {
		r.Malformed("8x8-event", payload, err)
		return evs
	}
	id := eightbyeight.EventID(msg.MsgInfo())
	if id == "" {
		id = "pulsar:" + f.MessageID
	}
	if !s.seen.Add(id) {
		return evs // a consumer redelivery of something already handled
	}
	s.notes.SetFrame(payload)
	return s.tr.Append(evs, msg, id)
}

// save writes the reader cursor if it moved, unless the journal keeps it.
func (s *Source) save(r *source.Reporter) {
	if s.st == nil || s.cfg.Mode == "consumer" {
		return
	}
	s.mu.Lock()
	last, saved, journaled := s.last, s.saved, s.journaled
	s.mu.Unlock()
	if journaled || last == "" || last == saved {
		return
	}
	b, _ := json.Marshal(cursor{Topic: s.topic, MessageID: last})
	if err := s.st.Put(s.key, b); err != nil {
		r.Logger().Warn("failed to save cursor", "error", err)
		return
	}
	s.mu.Lock()
	s.saved = last
	s.mu.Unlock()
}

// deferAcks reports whether acknowledgements wait for durability: for a
// consumer (Pulsar redelivers only what was not acknowledged) when a
// journal runs. A reader's acknowledgement only frees a delivery slot; its
// position is the cursor, which the journal keeps with the events.
func (s *Source) deferAcks(r *source.Reporter) bool {
	return s.cfg.Mode == "consumer" && r.Durable() != nil
}

// sendAcks acknowledges the session's messages whose events became
// durable, until ctx ends. A failed write ends the session.
func (s *Source) sendAcks(ctx context.Context, cancel context.CancelCauseFunc, conn *websocket.Conn, d *source.Durable) {
	var ids []string
	var frame []byte
	for {
		select {
		case <-ctx.Done():
			return
		case <-d.C():
		case <-s.acks.wake:
		}
		ids = s.acks.take(d.Ticket(), ids[:0])
		for _, id := range ids {
			frame = appendAck(frame[:0], id)
			if err := conn.Write(context.Background(), websocket.MessageText, frame); err != nil {
				if ctx.Err() == nil {
					cancel(fmt.Errorf("failed to acknowledge: %w", err))
				}
				return
			}
		}
		clear(ids)
	}
}

// ackQueue holds message ids waiting for their batch's ticket to become
// durable, in ticket order. Entries are values in a reused slice: queuing
// an id allocates nothing.
type ackQueue struct {
	mu      sync.Mutex
	entries []ackEntry
	wake    chan struct{}
	once    sync.Once
}

type ackEntry struct {
	ticket uint64
	id     string
}

func (q *ackQueue) init() { q.once.Do(func() { q.wake = make(chan struct{}, 1) }) }

// reset drops what a previous session left: Pulsar redelivers it.
func (q *ackQueue) reset() {
	q.init()
	q.mu.Lock()
	clear(q.entries)
	q.entries = q.entries[:0]
	q.mu.Unlock()
}

// push queues ids behind ticket t and wakes the sender.
func (q *ackQueue) push(t uint64, ids []string) {
	q.init()
	q.mu.Lock()
	for _, id := range ids {
		q.entries = append(q.entries, ackEntry{t, id})
	}
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// take appends to dst the ids whose ticket is at most durable and removes
// them from the queue.
func (q *ackQueue) take(durable uint64, dst []string) []string {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := 0
	for n < len(q.entries) && q.entries[n].ticket <= durable {
		dst = append(dst, q.entries[n].id)
		n++
	}
	if n > 0 {
		rest := copy(q.entries, q.entries[n:])
		clear(q.entries[rest:])
		q.entries = q.entries[:rest]
	}
	return dst
}

// refusal turns a failed upgrade into an error: credentials, permissions
// and configuration mistakes are permanent; the rest is retried.
func refusal(resp *http.Response, err error) error {
	var body []byte
	if resp.Body != nil {
		body, _ = io.ReadAll(io.LimitReader(resp.Body, 256))
	}
	code := resp.StatusCode
	e := fmt.Errorf("HTTP %d: %w", code, err)
	text := strings.TrimSpace(string(body))
	switch code {
	case http.StatusUnauthorized:
		return source.Permanent("8x8 Event Streaming rejected the API key (HTTP 401)", e)
	case http.StatusForbidden:
		return source.Permanent("8x8 Event Streaming: the API key is not authorized for this tenant or topic (HTTP 403)", e)
	case http.StatusNotFound:
		return source.Permanent("8x8 Event Streaming: topic not found (HTTP 404): check tenant, namespace and topic", e)
	case http.StatusBadRequest:
		return source.Permanent("8x8 Event Streaming refused the request (HTTP 400): "+source.Excerpt([]byte(text), 80), e)
	case http.StatusConflict:
		return fmt.Errorf("subscription busy (another consumer holds it): %w", e)
	}
	return fmt.Errorf("failed to connect: %w", e)
}

// SetRecorder records every frame as read (capture: true). Call it before
// Run.
func (s *Source) SetRecorder(rec source.Recorder) { s.rec = rec }

// Replay feeds one recorded frame through the decoder and translator as
// handle does, without the acknowledgement.
func (s *Source) Replay(ctx context.Context, r *source.Reporter, dir, kind string, _ time.Time, b []byte) error {
	if kind != "8x8-stream" || dir != "in" {
		return nil
	}
	if s.notes == nil {
		s.notes = source.NewNotes(r)
		s.tr.SetNotes(s.notes)
	}
	f, err := parseFrame(b)
	if err != nil {
		r.Malformed("pulsar-frame", b, err)
		return nil
	}
	if f.MessageID == "" {
		return nil
	}
	r.Message()
	s.pending = s.process(r, f, s.pending)
	s.batchLast = f.MessageID
	return s.flush(ctx, r)
}
