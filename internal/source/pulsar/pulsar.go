// Package pulsar reads 8x8 Event Streaming: the Apache Pulsar WebSocket
// proxy's reader or consumer endpoint, whose frames carry 8x8's single-key
// event wrappers base64 in "payload". It translates them with package
// eightbyeight.
//
// Every processed message is acknowledged, readers included: the proxy stops
// pushing after receiverQueueSize unacknowledged messages. A reader resumes
// from the last processed message id, which the proxy treats as exclusive,
// so after a drop nothing is lost and nothing repeated; the id is kept in the
// state directory (written at most every 500 ms and on exit) so a restart
// resumes too.
//
// Work is batched per socket read (batchConn): the events of every message
// in one chunk read from the socket reach the model in one call, then the
// cursor moves, then all their acks leave in one write. A message is never
// acknowledged, nor the cursor moved past it, before its events were handed
// on. The usual frames and events are read without reflection (parseFrame,
// eightbyeight's fast path); everything else goes through encoding/json.
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

// Type is the configuration type of this source.
const Type = config.Type8x8Stream

// SaveEvery bounds how often the cursor is written to the state directory.
const SaveEvery = 500 * time.Millisecond

// Source is one 8x8-stream subscription.
type Source struct {
	cfg    config.Source
	st     *store.Dir
	log    *slog.Logger
	client *http.Client
	tr     *eightbyeight.Translator
	seen   *eightbyeight.Seen
	topic  string // persistent/{tenant}/{ns}/{topic}
	key    string // state key of the cursor

	mu    sync.Mutex
	last  string // last processed message id (reader cursor)
	saved string // last id written to the state directory

	// The batch: events of the messages processed since the last socket
	// read, and the last of those messages' ids. They are handed on, and
	// the cursor moved, before the socket is read again (batchConn) and
	// when a session ends. Only Run's goroutine touches them.
	pending   []event.Event
	batchLast string
	ack       []byte // reused ack frame
	msg       []byte // reused buffer of the frame being read
	payload   []byte // reused buffer of the decoded payload
	ptRaw     string // the last publishTime parsed, and its time: a
	ptTime    time.Time
	ptOK      bool // backlog's messages share publish times

	conn *batchConn // the last session's connection (under mu; tests read it)

	notes *source.Notes   // values the mapping does not know, quoting the payload
	rec   source.Recorder // nil unless capture is on (set before Run)
}

// cursor is what the state directory keeps; the topic guards against
// resuming a different topic after a configuration change.
type cursor struct {
	Topic     string `json:"topic"`
	MessageID string `json:"messageId"`
}

// New returns the source for cfg, a validated 8x8-stream configuration. st
// may be nil (no resume across restarts).
func New(cfg config.Source, st *store.Dir, log *slog.Logger) (*Source, error) {
	if cfg.Type != Type {
		return nil, fmt.Errorf("failed to create 8x8-stream source %s: type is %q", cfg.Name, cfg.Type)
	}
	m, err := eightbyeight.NewMapping(cfg.StateMap, cfg.ReasonLabels)
	if err != nil {
		return nil, fmt.Errorf("failed to create 8x8-stream source %s: %w", cfg.Name, err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = batchDialer(tr.DialContext)
	if cfg.InsecureSkipVerify {
		tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // lab use, documented
	}
	s := &Source{cfg: cfg, st: st, log: log, client: &http.Client{Transport: tr},
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
	slot := &connSlot{}
	dctx, dcancel := context.WithTimeout(context.WithValue(ctx, connSlotKey{}, slot), connect)
	conn, resp, err := websocket.Dial(dctx, s.endpoint(), &websocket.DialOptions{
		HTTPClient: s.client,
		HTTPHeader: http.Header{"X-API-Key": []string{s.cfg.APIKey.Reveal()}},
	})
	dcancel()
	if err != nil {
		// A refused upgrade may leave its connection idle in the pool; the
		// next session must dial its own (batchConn) connection.
		s.client.CloseIdleConnections()
		if resp != nil {
			return refusal(resp, err)
		}
		return fmt.Errorf("failed to connect: %w", err)
	}
	defer conn.CloseNow()
	// Reads and writes below pass no deadline of their own (a context per
	// call costs a timer registration per message); ending ctx closes the
	// connection instead, which ends any read or write in progress.
	stopClose := context.AfterFunc(ctx, func() { _ = conn.CloseNow() })
	defer stopClose()
	// What was processed is handed on before the cursor is saved, even when
	// this session ends because a ping failed (ctx is then cancelled, parent
	// is not): those messages are in s.seen and would be skipped as
	// duplicates when the next session receives them again.
	defer func() { _ = s.flush(parent, r) }()
	conn.SetReadLimit(8 << 20)
	r.Live()
	r.Detail("")

	// Control pings keep idle proxies and load balancers from closing us
	// and tell us when the peer is gone.
	every := s.cfg.PingInterval.D()
	if every <= 0 {
		every = 30 * time.Second
	}
	go func() {
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

	batched := slot.c != nil
	if batched {
		slot.c.startBatching(func() error { return s.flush(ctx, r) })
		s.mu.Lock()
		s.conn = slot.c
		s.mu.Unlock()
	}
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
		if err := s.handle(ctx, r, conn, b, batched); err != nil {
			return err
		}
	}
}

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

// handle processes one frame: translate, remember, acknowledge. When
// batched, the events wait in s.pending and the ack in the batchConn until
// the socket is read next (see batchConn); otherwise both go at once.
func (s *Source) handle(ctx context.Context, r *source.Reporter, conn *websocket.Conn, b []byte, batched bool) error {
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
	if !batched {
		if err := s.flush(ctx, r); err != nil {
			return err
		}
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
		if err := r.Emit(ctx, s.pending...); err != nil {
			return err
		}
		clear(s.pending) // the sink copied them; drop references for the GC
		s.pending = s.pending[:0]
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
	n = len(evs)
	s.notes.SetFrame(payload)
	evs = s.tr.Append(evs, msg, id)
	if len(evs) == n {
		return evs
	}
	if t, ok := s.publishTime(f.PublishTime); ok {
		for i := n; i < len(evs); i++ {
			if evs[i].SentAt.IsZero() {
				evs[i].SentAt = t
			}
		}
	}
	return evs
}

// publishTime parses a publishTime (RFC 3339, any offset) to UTC,
// remembering the last one.
func (s *Source) publishTime(b []byte) (time.Time, bool) {
	if s.ptRaw == string(b) && s.ptRaw != "" {
		return s.ptTime, s.ptOK
	}
	t, err := time.Parse(time.RFC3339Nano, string(b))
	s.ptRaw, s.ptTime, s.ptOK = string(b), t.UTC(), err == nil
	return s.ptTime, s.ptOK
}

// save writes the reader cursor if it moved.
func (s *Source) save(r *source.Reporter) {
	if s.st == nil || s.cfg.Mode == "consumer" {
		return
	}
	s.mu.Lock()
	last, saved := s.last, s.saved
	s.mu.Unlock()
	if last == "" || last == saved {
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
func (s *Source) Replay(ctx context.Context, r *source.Reporter, dir, kind string, b []byte) error {
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
