// Package hub fans Server-Sent Events out to browsers. Each board is a Topic:
// a frame is encoded once per publish and the same bytes are queued to every
// subscriber. Each subscriber's own handler goroutine writes everything
// pending in one write, under a write deadline, so a subscriber that stops
// reading never delays the others: its queue is capped, and when it falls far
// behind it is cut from the fast path and later gets one full reset instead
// of a backlog. The hub knows nothing of what the frames say.
package hub

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// ErrClosed is returned by Serve when the hub shuts down.
var ErrClosed = errors.New("hub closed")

// Options configure a Hub. Zero fields take the documented defaults.
type Options struct {
	// Heartbeat is the interval of heartbeat events that keep idle streams
	// (and the proxies in front of them) alive and let pages notice a dead
	// stream; default 15s.
	Heartbeat time.Duration
	// WriteTimeout bounds one write to a subscriber; a subscriber whose
	// write blocks longer is disconnected. Default 10s.
	WriteTimeout time.Duration
	// MaxPending is how many frames may wait for one subscriber before it
	// counts as stalled and is switched to a reset; default 64.
	MaxPending int
	// Retry is the reconnect delay suggested to browsers; default 1s.
	Retry time.Duration
	// Epoch distinguishes this process's event ids from a previous run's;
	// default the start time in milliseconds.
	Epoch  string
	Logger *slog.Logger
}

// Hub holds the topics. Use New.
type Hub struct {
	opts   Options
	mu     sync.Mutex
	topics map[string]*Topic
	closed chan struct{}
	once   sync.Once

	subscribers atomic.Int64
	cut         atomic.Int64 // subscribers switched to reset for lagging
	timeouts    atomic.Int64 // subscribers disconnected by the write deadline
	bytesSent   atomic.Int64
	frames      atomic.Int64
}

// New returns a hub and starts its heartbeat.
func New(o Options) *Hub {
	if o.Heartbeat <= 0 {
		o.Heartbeat = 15 * time.Second
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = 10 * time.Second
	}
	if o.MaxPending <= 0 {
		o.MaxPending = 64
	}
	if o.Retry <= 0 {
		o.Retry = time.Second
	}
	if o.Epoch == "" {
		o.Epoch = strconv.FormatInt(time.Now().UnixMilli(), 36)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	h := &Hub{opts: o, topics: map[string]*Topic{}, closed: make(chan struct{})}
	go h.heartbeat()
	return h
}

// Stats are the hub's counters.
type Stats struct {
	Subscribers int64
	Cut         int64 // switched from the fast path to a reset for lagging
	Timeouts    int64 // disconnected because a write blocked past the deadline
	BytesSent   int64
	Frames      int64 // frames published (once per topic, not per subscriber)
}

// Stats returns the hub's counters.
func (h *Hub) Stats() Stats {
	return Stats{Subscribers: h.subscribers.Load(), Cut: h.cut.Load(), Timeouts: h.timeouts.Load(),
		BytesSent: h.bytesSent.Load(), Frames: h.frames.Load()}
}

// Topic returns the topic id, creating it with reset on first use. reset
// returns the data of a full reset (the whole board) as of the topic's
// current sequence; gen changes when the board's definition does, so pages
// loaded under an older definition are reset too.
func (h *Hub) Topic(id, gen string, reset func() []byte) *Topic {
	h.mu.Lock()
	defer h.mu.Unlock()
	if t := h.topics[id]; t != nil {
		return t
	}
	t := &Topic{hub: h, id: id, gen: gen, reset: reset, subs: map[*subscriber]struct{}{}}
	h.topics[id] = t
	return t
}

// Lookup returns the topic id if it exists.
func (h *Hub) Lookup(id string) (*Topic, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	t, ok := h.topics[id]
	return t, ok
}

// Close ends every stream (their handlers return) and stops the heartbeat.
// Browsers reconnect by themselves.
func (h *Hub) Close() { h.once.Do(func() { close(h.closed) }) }

func (h *Hub) heartbeat() {
	t := time.NewTicker(h.opts.Heartbeat)
	defer t.Stop()
	for {
		select {
		case <-h.closed:
			return
		case now := <-t.C:
			// A named event rather than a comment: the page sees it (a comment
			// never reaches its script) and sets its clock by the server's.
			frame := encode("", "heartbeat", strconv.AppendInt(nil, now.UnixMilli(), 10))
			h.mu.Lock()
			topics := make([]*Topic, 0, len(h.topics))
			for _, tp := range h.topics {
				topics = append(topics, tp)
			}
			h.mu.Unlock()
			for _, tp := range topics {
				tp.enqueue(frame, false)
			}
		}
	}
}

// Topic is one board's stream.
type Topic struct {
	hub   *Hub
	id    string
	gen   string
	reset func() []byte

	mu   sync.Mutex
	seq  uint64
	subs map[*subscriber]struct{}

	resetMu    sync.Mutex
	resetSeq   uint64
	resetFrame []byte
}

type subscriber struct {
	info  Info
	since time.Time

	mu        sync.Mutex
	pending   [][]byte
	needReset bool
	lastWrite time.Time
	sentSeq   uint64 // sequence of the newest frame written
	wake      chan struct{}
}

// Info says who a subscriber is, for the operator's list of screens.
type Info struct {
	Kiosk  string // the kiosk link's name, or "" for a signed-in page
	Remote string // the client's address
}

// Screen is one connected subscriber as the operator sees it.
type Screen struct {
	Board     string
	Info      Info
	Since     time.Time // connected since
	LastWrite time.Time // last successful write (zero before the first)
	Pending   int       // frames queued, not yet written
	Behind    uint64    // frames published that it has not been written yet
	Resetting bool      // cut from the fast path; gets a full reset next
}

// Screens lists every connected subscriber, by board.
func (h *Hub) Screens() []Screen {
	h.mu.Lock()
	topics := make([]*Topic, 0, len(h.topics))
	for _, t := range h.topics {
		topics = append(topics, t)
	}
	h.mu.Unlock()
	var out []Screen
	for _, t := range topics {
		t.mu.Lock()
		seq := t.seq
		for s := range t.subs {
			s.mu.Lock()
			sc := Screen{Board: t.id, Info: s.info, Since: s.since, LastWrite: s.lastWrite, Pending: len(s.pending), Resetting: s.needReset}
			if seq > s.sentSeq {
				sc.Behind = seq - s.sentSeq
			}
			s.mu.Unlock()
			out = append(out, sc)
		}
		t.mu.Unlock()
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Board != out[j].Board {
			return out[i].Board < out[j].Board
		}
		return out[i].Since.Before(out[j].Since)
	})
	return out
}

// EventID returns the id of the topic's latest frame. A page embeds it so its
// first connect resumes exactly where its own rendering stopped.
func (t *Topic) EventID() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.idLocked()
}

func (t *Topic) idLocked() string {
	return t.hub.opts.Epoch + "-" + t.gen + "-" + strconv.FormatUint(t.seq, 10)
}

// Subscribers returns how many streams are open on the topic.
func (t *Topic) Subscribers() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.subs)
}

// Publish sends data (HTML whose top-level elements are swapped by id) to
// every subscriber as one frame.
func (t *Topic) Publish(data []byte) {
	t.mu.Lock()
	t.seq++
	frame := encode(t.idLocked(), "", data)
	t.hub.frames.Add(1)
	t.enqueueLocked(frame, true)
	t.mu.Unlock()
}

func (t *Topic) enqueue(frame []byte, counts bool) {
	t.mu.Lock()
	t.enqueueLocked(frame, counts)
	t.mu.Unlock()
}

// enqueueLocked appends frame to every subscriber's queue. It never blocks:
// a subscriber whose queue is full is switched to a reset.
func (t *Topic) enqueueLocked(frame []byte, counts bool) {
	for s := range t.subs {
		s.mu.Lock()
		switch {
		case s.needReset:
			// A reset is coming: it supersedes this frame.
		case counts && len(s.pending) >= t.hub.opts.MaxPending:
			s.pending = nil
			s.needReset = true
			t.hub.cut.Add(1)
		default:
			s.pending = append(s.pending, frame)
		}
		s.mu.Unlock()
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}

// resetFrameFor returns a reset frame as of the current sequence, rendering
// it at most once per sequence however many subscribers need it.
func (t *Topic) resetFrameFor() []byte {
	t.resetMu.Lock()
	defer t.resetMu.Unlock()
	t.mu.Lock()
	seq, id := t.seq, t.idLocked()
	t.mu.Unlock()
	if t.resetFrame != nil && t.resetSeq == seq {
		return t.resetFrame
	}
	// Rendered after reading seq: the body is at least as new as its id, and
	// any frame published meanwhile is queued after it (deltas are idempotent).
	t.resetFrame = encode(id, "", t.reset())
	t.resetSeq = seq
	return t.resetFrame
}

// Serve streams the topic to one client until the client goes away, a write
// blocks past the deadline, or the hub closes. lastID is the client's
// Last-Event-ID (or the id its page was rendered at); any other id than the
// current one gets the full board first.
func (t *Topic) Serve(ctx context.Context, w http.ResponseWriter, lastID string, info Info) error {
	rc := http.NewResponseController(w)
	hd := w.Header()
	hd.Set("Content-Type", "text/event-stream")
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	out := t.rawStream(rc, hd)
	raw, isRaw := out.(*rawConn)
	if out == nil {
		w.WriteHeader(http.StatusOK)
		out = httpStream{w: w, rc: rc}
	} else {
		defer out.close()
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(ctx)
		defer cancel()
		go out.(*rawConn).watch(cancel)
	}

	s := &subscriber{wake: make(chan struct{}, 1), info: info, since: time.Now()}
	t.mu.Lock()
	s.needReset = lastID != t.idLocked()
	s.sentSeq = t.seq
	t.subs[s] = struct{}{}
	t.mu.Unlock()
	t.hub.subscribers.Add(1)
	defer func() {
		t.mu.Lock()
		delete(t.subs, s)
		t.mu.Unlock()
		t.hub.subscribers.Add(-1)
	}()

	// The first write is the retry hint; after that, everything pending goes
	// out in one write: a single frame as it is (the bytes every subscriber
	// shares), several concatenated in a pooled buffer, so an idle
	// subscriber holds no buffer of its own.
	first := strconv.AppendInt(append(make([]byte, 0, 32), "retry: "...), t.hub.opts.Retry.Milliseconds(), 10)
	first = append(first, "\n\n"...)
	for {
		t.mu.Lock()
		seq := t.seq // everything up to here is in pending or in the reset
		t.mu.Unlock()
		s.mu.Lock()
		pending, reset := s.pending, s.needReset
		s.pending, s.needReset = nil, false
		s.mu.Unlock()
		var data []byte
		var pooled *[]byte
		switch {
		case first == nil && !reset && len(pending) == 1:
			data = pending[0]
		case first == nil && len(pending) > 0 && isRaw:
			// Several frames: one vectored write of the shared bytes, no copy
			// (a subscriber that fell behind holds no buffer of its own).
			bufs := make(net.Buffers, 0, len(pending)+1)
			if reset {
				bufs = append(bufs, t.resetFrameFor())
			}
			bufs = append(bufs, pending...)
			if err := t.writev(raw, bufs); err != nil {
				return err
			}
			s.mu.Lock()
			s.lastWrite, s.sentSeq = time.Now(), seq
			s.mu.Unlock()
		case first != nil || reset || len(pending) > 0:
			pooled = bufPool.Get().(*[]byte)
			data = append((*pooled)[:0], first...)
			if reset {
				data = append(data, t.resetFrameFor()...)
			}
			for _, f := range pending {
				data = append(data, f...)
			}
		}
		first = nil
		if len(data) > 0 {
			err := t.write(out, data)
			if pooled != nil {
				if cap(data) <= 1<<20 { // do not pool a huge reset buffer
					*pooled = data[:0]
				}
				bufPool.Put(pooled)
			}
			if err != nil {
				return err
			}
			s.mu.Lock()
			s.lastWrite, s.sentSeq = time.Now(), seq
			s.mu.Unlock()
		} else if pooled != nil {
			bufPool.Put(pooled)
		}
		select {
		case <-s.wake:
		case <-ctx.Done():
			return nil
		case <-t.hub.closed:
			return ErrClosed
		}
	}
}

// sendBuffer is the socket send buffer of a hijacked stream: several
// seconds of a busy board's deltas, and a whole 1000-agent reset.
const sendBuffer = 256 << 10

// bufPool holds the buffers subscribers concatenate pending frames into.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 16<<10); return &b }}

// stream is where a subscriber's bytes go: the hijacked connection itself,
// or net/http's response (HTTP/2, or a writer that cannot be hijacked).
type stream interface {
	setWriteDeadline(time.Time) error
	write([]byte) (int, error)
	close()
}

type httpStream struct {
	w  http.ResponseWriter
	rc *http.ResponseController
}

func (h httpStream) setWriteDeadline(d time.Time) error {
	if err := h.rc.SetWriteDeadline(d); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return err
	}
	return nil
}

func (h httpStream) write(b []byte) (int, error) {
	n, err := h.w.Write(b)
	if err == nil {
		err = h.rc.Flush()
	}
	return n, err
}

func (h httpStream) close() {}

// rawConn is a hijacked HTTP/1.x connection: the response head is written
// once, then every write of pending frames is exactly one write to the
// socket (no chunked encoding, no intermediate buffers; the body ends when
// the connection does, which SSE clients and proxies accept).
type rawConn struct {
	conn net.Conn
}

func (r *rawConn) setWriteDeadline(d time.Time) error { return r.conn.SetWriteDeadline(d) }
func (r *rawConn) write(b []byte) (int, error)        { return r.conn.Write(b) }
func (r *rawConn) close()                             { _ = r.conn.Close() }

// watch cancels the stream when the client closes its side: a client sends
// nothing after its request, so any read result but a timeout ends it.
func (r *rawConn) watch(cancel context.CancelFunc) {
	var b [64]byte
	for {
		if _, err := r.conn.Read(b[:]); err != nil {
			cancel()
			return
		}
	}
}

// rawStream hijacks the connection and writes the response head with the
// headers set so far, or returns nil when the connection cannot be hijacked.
func (t *Topic) rawStream(rc *http.ResponseController, hd http.Header) stream {
	conn, brw, err := rc.Hijack()
	if err != nil {
		return nil
	}
	if brw != nil && brw.Writer.Buffered() > 0 {
		_ = brw.Flush()
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		// Bound what the kernel buffers for one screen: a TV that stops
		// reading then blocks our write within seconds (and is cut by the
		// pending cap or the write deadline) instead of after megabytes of
		// autotuned buffer.
		_ = tc.SetWriteBuffer(sendBuffer)
	}
	hd.Set("Connection", "close")
	head := append(make([]byte, 0, 512), "HTTP/1.1 200 OK\r\n"...)
	keys := make([]string, 0, len(hd))
	for k := range hd {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range hd[k] {
			head = append(head, k...)
			head = append(head, ": "...)
			head = append(head, v...)
			head = append(head, "\r\n"...)
		}
	}
	head = append(head, "\r\n"...)
	_ = conn.SetWriteDeadline(time.Now().Add(t.hub.opts.WriteTimeout))
	if _, err := conn.Write(head); err != nil {
		_ = conn.Close()
		return &rawConn{conn: conn} // the first write fails again and ends the stream
	}
	return &rawConn{conn: conn}
}

// writev sends bufs to a raw subscriber in one vectored write under the
// write deadline.
// The deadline bounds a stall, not a slow reader: when the client took some
// of the bytes before the deadline, the rest gets a new one, and only a
// client that took nothing for a whole WriteTimeout is cut.
func (t *Topic) writev(r *rawConn, bufs net.Buffers) error {
	for {
		if err := r.conn.SetWriteDeadline(time.Now().Add(t.hub.opts.WriteTimeout)); err != nil {
			return fmt.Errorf("failed to set write deadline: %w", err)
		}
		n, err := bufs.WriteTo(r.conn) // consumes what it wrote
		t.hub.bytesSent.Add(n)
		if err == nil {
			return nil
		}
		if isTimeout(err) && n > 0 && len(bufs) > 0 {
			continue
		}
		if isTimeout(err) {
			t.hub.timeouts.Add(1)
		}
		return fmt.Errorf("failed to write to subscriber: %w", err)
	}
}

// write sends data to one subscriber in one write under the write deadline.
func (t *Topic) write(out stream, data []byte) error {
	if r, ok := out.(*rawConn); ok {
		return t.writev(r, net.Buffers{data})
	}
	if err := out.setWriteDeadline(time.Now().Add(t.hub.opts.WriteTimeout)); err != nil {
		return fmt.Errorf("failed to set write deadline: %w", err)
	}
	n, err := out.write(data)
	t.hub.bytesSent.Add(int64(n))
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) || isTimeout(err) {
			t.hub.timeouts.Add(1)
		}
		return fmt.Errorf("failed to write to subscriber: %w", err)
	}
	return nil
}

func isTimeout(err error) bool {
	var te interface{ Timeout() bool }
	return errors.As(err, &te) && te.Timeout()
}

// encode builds one SSE frame. Each line of data becomes its own data: line,
// so multi-line HTML arrives intact.
func encode(id, eventName string, data []byte) []byte {
	out := make([]byte, 0, len(data)+len(id)+32)
	if id != "" {
		out = append(out, "id: "...)
		out = append(out, id...)
		out = append(out, '\n')
	}
	if eventName != "" {
		out = append(out, "event: "...)
		out = append(out, eventName...)
		out = append(out, '\n')
	}
	for len(data) > 0 {
		i := bytes.IndexAny(data, "\r\n")
		line := data
		if i >= 0 {
			line = data[:i]
		}
		out = append(out, "data: "...)
		out = append(out, line...)
		out = append(out, '\n')
		if i < 0 {
			break
		}
		if data[i] == '\r' && i+1 < len(data) && data[i+1] == '\n' {
			i++
		}
		data = data[i+1:]
	}
	return append(out, '\n')
}
