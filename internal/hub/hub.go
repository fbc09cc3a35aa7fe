// Package hub fans Server-Sent Events out to browsers. Each board is a Topic
// with a short log of frames: a frame is encoded once per publish, and the
// same bytes go to every subscriber.
//
// A stream on a plain HTTP/1 connection (every TV and browser on the
// floor) is hijacked and handed to the topic's writers: a few goroutines
// per topic that, on each new frame, write everything a subscriber has not
// had in one non-blocking write per subscriber. An idle screen costs no
// goroutine and no buffer. A socket that does not take a write at once gets
// a goroutine of its own for just that write, under a write deadline that
// bounds a stall, so a screen that stops reading never delays the others;
// one that falls far behind is cut from the log and later gets one full
// reset instead of a backlog. Closed connections are noticed by one epoll
// watcher per hub (a reading goroutine per stream elsewhere than Linux).
//
// Streams the hub cannot hijack as plain TCP (HTTP/2, TLS) keep a goroutine
// each that does the same with blocking writes. The hub knows nothing of
// what the frames say.
//
// Lifecycle: New and Topic start nothing. Start starts the heartbeat and
// the topics' writers (a topic made later starts its writers at once);
// every other goroutine the hub needs (a slow write's drain, the epoll
// watcher, a reading goroutine where there is no epoll) it starts itself
// while it runs. Close ends every stream and returns once every goroutine
// the hub started has returned. The goroutine serving a blocking stream
// is the caller's (the HTTP handler's): Serve returns ErrClosed to it.
package hub

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"runtime"
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
	// WriteTimeout bounds how long a write to a subscriber may make no
	// progress; a subscriber that takes nothing for that long is
	// disconnected. Default 10s.
	WriteTimeout time.Duration
	// MaxPending is how many frames a subscriber may be behind before it
	// counts as stalled and is switched to a reset; default 64. It is also
	// the length of each topic's log.
	MaxPending int
	// Retry is the reconnect delay suggested to browsers; default 1s.
	Retry time.Duration
	// Epoch distinguishes this process's event ids from a previous run's;
	// default the start time in milliseconds.
	Epoch string
	// Writers is the number of writer goroutines per topic; default
	// GOMAXPROCS, at most 16.
	Writers int
	Logger  *slog.Logger
}

// Hub holds the topics. Use New, then Start; Close stops it.
type Hub struct {
	opts   Options
	closed chan struct{} // closed by Close

	mu         sync.Mutex
	topics     map[string]*Topic
	started    bool           // Start ran: topics' writers run
	stopping   bool           // Close ran: nothing new starts
	watchTried bool           // the epoll watcher was set up (or failed to)
	wg         sync.WaitGroup // every goroutine the hub started (Add under mu, never once stopping)

	watch atomic.Pointer[watcher] // nil: a reading goroutine per hijacked stream

	subscribers atomic.Int64
	cut         atomic.Int64 // subscribers switched to reset for lagging
	timeouts    atomic.Int64 // subscribers disconnected by the write deadline
	bytesSent   atomic.Int64
	frames      atomic.Int64
}

// New returns a hub. It starts nothing: call Start.
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
	if o.Writers <= 0 {
		o.Writers = min(runtime.GOMAXPROCS(0), 16)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Hub{opts: o, topics: map[string]*Topic{}, closed: make(chan struct{})}
}

// Start starts the heartbeat and the writers of every topic; topics made
// later start their writers at once. Streams served before Start get their
// frames once it runs. Start after Close does nothing.
func (h *Hub) Start() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.started || h.stopping {
		return
	}
	h.started = true
	h.goLocked(h.heartbeat)
	for _, t := range h.topics {
		t.startLocked()
	}
}

// Close ends every stream, stops the heartbeat and the writers, and waits
// until every goroutine the hub started has returned. Browsers reconnect
// by themselves. It may be called more than once, and from any goroutine.
func (h *Hub) Close() {
	h.mu.Lock()
	if !h.stopping {
		h.stopping = true
		close(h.closed)
	}
	h.mu.Unlock()
	if w := h.watch.Load(); w != nil {
		w.wake()
	}
	h.wg.Wait()
}

// goLocked runs f in a goroutine that Close waits for, unless the hub is
// closing (then it reports false and f does not run). h.mu is held.
func (h *Hub) goLocked(f func()) bool {
	if h.stopping {
		return false
	}
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		f()
	}()
	return true
}

// spawn is goLocked for callers that do not hold h.mu.
func (h *Hub) spawn(f func()) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.goLocked(f)
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
		t.uses.Add(1)
		return t
	}
	t := &Topic{hub: h, id: id, gen: gen, reset: reset, subs: map[*subscriber]struct{}{},
		waiters: map[*subscriber]struct{}{}, done: make(chan struct{})}
	for range h.opts.Writers {
		t.writers = append(t.writers, &writer{t: t, wake: make(chan struct{}, 1)})
	}
	h.topics[id] = t
	if h.started && !h.stopping {
		t.startLocked()
	}
	return t
}

// startLocked starts the topic's writers. h.mu is held.
func (t *Topic) startLocked() {
	for _, w := range t.writers {
		t.hub.goLocked(w.run)
	}
	t.mu.Lock()
	t.running = true
	t.mu.Unlock()
}

// Lookup returns the topic id if it exists.
func (h *Hub) Lookup(id string) (*Topic, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	t, ok := h.topics[id]
	return t, ok
}

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
			for _, tp := range h.allTopics() {
				tp.appendHeartbeat(frame)
			}
		}
	}
}

func (h *Hub) allTopics() []*Topic {
	h.mu.Lock()
	defer h.mu.Unlock()
	topics := make([]*Topic, 0, len(h.topics))
	for _, tp := range h.topics {
		topics = append(topics, tp)
	}
	return topics
}

// Topic is one board's stream.
type Topic struct {
	hub   *Hub
	id    string
	gen   string
	reset func() []byte
	done  chan struct{} // closed when the topic is removed (EndAfter): its writers stop
	// uses counts Topic and Regenerate calls: an EndAfter whose time comes
	// after the topic was asked for again leaves it be.
	uses atomic.Int64

	mu      sync.Mutex
	seq     uint64  // the event id's sequence: frames published
	end     uint64  // log position after the newest frame (heartbeats too)
	log     []entry // frames from position base on: at least the newest MaxPending, and every one a writer has not yet given all its subscribers
	base    uint64
	subs    map[*subscriber]struct{}
	waiters map[*subscriber]struct{} // subscribers with a goroutine to wake: blocking streams, and raw ones in the middle of a write
	writers []*writer
	running bool // the writers run (Start): they trim the log as they cover it
	next    int  // writer the next raw subscriber goes to

	resetMu    sync.Mutex
	resetSeq   uint64
	resetFrame []byte
}

// entry is one frame of a topic's log and the sequence once it is written.
type entry struct {
	frame []byte
	seq   uint64
}

type subscriber struct {
	info  Info
	since time.Time
	raw   *rawSub       // hijacked plain TCP: written by the topic's writers
	wake  chan struct{} // blocking streams: their goroutine waits here

	mu        sync.Mutex
	pos       uint64 // log position of the next frame to write
	needReset bool
	lastWrite time.Time
	sentSeq   uint64 // sequence of the newest frame written
	slow      bool   // raw: a goroutine is finishing a write the socket did not take at once
	closed    bool
	unbind    func() // from Info.Bind: called once when the stream ends
}

// Info says who a subscriber is, for the operator's list of screens.
type Info struct {
	Kiosk  string // the kiosk link's name, or "" for a signed-in page
	Remote string // the client's address
	// Bind, if set, is called once the stream is registered, with a
	// function that ends the stream (from any goroutine, any number of
	// times). The function Bind returns (if any) is called once when the
	// stream ends, whatever ended it. The server uses it to end the streams
	// of a session that ended; it costs the other streams nothing.
	Bind func(end func()) (unbind func())
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
	var out []Screen
	for _, t := range h.allTopics() {
		t.mu.Lock()
		seq, end := t.seq, t.end
		for s := range t.subs {
			s.mu.Lock()
			sc := Screen{Board: t.id, Info: s.info, Since: s.since, LastWrite: s.lastWrite, Resetting: s.needReset}
			if end > s.pos {
				sc.Pending = int(end - s.pos)
			}
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
// every subscriber as one frame. It never blocks on a subscriber.
func (t *Topic) Publish(data []byte) {
	t.mu.Lock()
	t.seq++
	frame := encode(t.idLocked(), "", data)
	t.hub.frames.Add(1)
	t.appendLocked(frame)
	t.mu.Unlock()
	t.wakeWriters()
}

// appendHeartbeat logs a frame that does not move the sequence.
func (t *Topic) appendHeartbeat(frame []byte) {
	t.mu.Lock()
	t.appendLocked(frame)
	t.mu.Unlock()
	t.wakeWriters()
}

// appendLocked logs frame and wakes the goroutines that wait for it. The
// writers are woken by the caller, after the lock.
func (t *Topic) appendLocked(frame []byte) {
	t.log = append(t.log, entry{frame: frame, seq: t.seq})
	t.end++
	t.trimLocked()
	for s := range t.waiters {
		// A subscriber whose goroutine is stuck in a write is cut now, so
		// that it is counted while it stalls, not when it recovers.
		s.mu.Lock()
		t.lagLocked(s)
		s.mu.Unlock()
		if s.wake != nil {
			select {
			case s.wake <- struct{}{}:
			default:
			}
		}
	}
}

// trimLocked drops frames no one can need: older than the newest
// MaxPending, and already given by every writer to all its subscribers. So
// when the server falls behind, its subscribers lag together and get every
// frame, merged, instead of a reset; only one whose own socket holds it back
// (a goroutine finishing its write) falls off the log. t.mu is held.
func (t *Topic) trimLocked() {
	keep := t.base
	if t.end > uint64(t.hub.opts.MaxPending) {
		keep = t.end - uint64(t.hub.opts.MaxPending)
	}
	if t.running {
		for _, w := range t.writers {
			keep = min(keep, w.covered)
		}
	}
	if keep > t.base {
		n := keep - t.base
		clear(t.log[:n]) // let the frames go
		t.log = t.log[n:]
		t.base = keep
	}
}

// lagLocked switches s to a reset when the log no longer holds the frame it
// needs next. t.mu and s.mu are held.
func (t *Topic) lagLocked(s *subscriber) {
	if !s.needReset && t.end-s.pos > uint64(t.hub.opts.MaxPending) {
		s.needReset = true
		t.hub.cut.Add(1)
	}
}

func (t *Topic) wakeWriters() {
	for _, w := range t.writers {
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
}

// batch is what one subscriber is written next: bufs (a reset and/or log
// frames, shared bytes), after which it is at pos and has seen seq.
type batch struct {
	bufs net.Buffers
	pos  uint64
	seq  uint64
}

// snapshot is the log as of one moment: a writer's round works from one, so
// it takes the topic's lock once, not once per subscriber.
type snapshot struct {
	base, end, seq uint64
	frames         [][]byte // positions base…end-1
}

func (t *Topic) snapshot(sn *snapshot) {
	t.mu.Lock()
	sn.end, sn.base, sn.seq = t.end, t.base, t.seq
	sn.frames = sn.frames[:0]
	for _, e := range t.log {
		sn.frames = append(sn.frames, e.frame)
	}
	t.mu.Unlock()
}

// plan returns what s needs next as of sn (nothing when it is current).
// Only the goroutine that writes s calls it.
func (t *Topic) plan(s *subscriber, sn *snapshot, b *batch) bool {
	s.mu.Lock()
	if s.pos < sn.base && !s.needReset {
		s.needReset = true
		t.hub.cut.Add(1)
	}
	reset, pos := s.needReset, s.pos
	s.needReset = false
	s.mu.Unlock()
	b.bufs = b.bufs[:0]
	if reset {
		frame, end, seq := t.resetFrameFor()
		b.bufs = append(b.bufs, frame)
		b.pos, b.seq = end, seq
		return true
	}
	if pos >= sn.end {
		return false
	}
	b.bufs = append(b.bufs, sn.frames[pos-sn.base:]...)
	b.pos, b.seq = sn.end, sn.seq
	return true
}

// resetFrameFor returns a reset frame as of the current sequence and the
// log position it covers, rendering it at most once per sequence however
// many subscribers need it.
func (t *Topic) resetFrameFor() (frame []byte, end, seq uint64) {
	t.resetMu.Lock()
	defer t.resetMu.Unlock()
	t.mu.Lock()
	seq, end, id := t.seq, t.end, t.idLocked()
	t.mu.Unlock()
	// A cached reset of the same sequence is as new: only heartbeats can
	// have been logged since, and the position skips them.
	if t.resetFrame == nil || t.resetSeq != seq {
		// Rendered after reading seq: the body is at least as new as its id,
		// and any frame published meanwhile follows it (deltas are
		// idempotent).
		t.resetFrame = encode(id, "", t.reset())
		t.resetSeq = seq
	}
	return t.resetFrame, end, seq
}

// Serve streams the topic to one client. lastID is the client's
// Last-Event-ID (or the id its page was rendered at); any other id than the
// current one gets the full board first.
//
// A plain HTTP/1 connection is hijacked and handed to the topic's writers:
// Serve returns at once and the hub closes the connection when the client
// goes away, a write stalls past the deadline, or the hub closes. Any other
// stream (HTTP/2, TLS, a writer that cannot be hijacked) is served by this
// goroutine until then.
func (t *Topic) Serve(ctx context.Context, w http.ResponseWriter, lastID string, info Info) error {
	rc := http.NewResponseController(w)
	hd := w.Header()
	hd.Set("Content-Type", "text/event-stream")
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	conn, err := t.hijack(rc, hd)
	if err != nil {
		return err
	}
	if c, ok := conn.(*net.TCPConn); ok && nonBlockingWrites {
		return t.serveRaw(c, lastID, info)
	}
	var out stream
	var first []byte // the retry hint, when the response head has not carried it
	if conn == nil {
		w.WriteHeader(http.StatusOK)
		out = httpStream{w: w, rc: rc}
		first = t.retryHint()
	} else { // TLS (writes must go through the connection), or no non-blocking writes here
		out = &rawConn{conn: conn}
		defer out.close() // ends watchConn
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(ctx)
		defer cancel()
		if !t.hub.spawn(func() { watchConn(conn, cancel) }) {
			return ErrClosed
		}
	}
	return t.serveBlocking(ctx, out, first, lastID, info)
}

// register adds s to the topic, at the current end of the log.
func (t *Topic) register(s *subscriber, lastID string) {
	t.mu.Lock()
	s.needReset = lastID != t.idLocked()
	s.pos, s.sentSeq = t.end, t.seq
	t.subs[s] = struct{}{}
	if s.wake != nil {
		t.waiters[s] = struct{}{}
	}
	t.mu.Unlock()
	t.hub.subscribers.Add(1)
}

// serveBlocking writes the stream from this goroutine with blocking writes,
// first (if any) before everything else.
func (t *Topic) serveBlocking(ctx context.Context, out stream, first []byte, lastID string, info Info) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s := &subscriber{wake: make(chan struct{}, 1), info: info, since: time.Now()}
	t.register(s, lastID)
	defer t.drop(s)
	t.bind(s, cancel)

	// Everything pending goes out in one write.
	var sn snapshot
	var b batch
	for {
		t.snapshot(&sn)
		var data []byte
		var pooled *[]byte
		if t.plan(s, &sn, &b) || first != nil {
			if len(b.bufs) == 1 && first == nil {
				data = b.bufs[0]
			} else {
				pooled = bufPool.Get().(*[]byte)
				data = append((*pooled)[:0], first...) //nolint:gocritic // appendAssign: data is the pooled buffer's new contents
				for _, f := range b.bufs {
					data = append(data, f...)
				}
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
			if len(b.bufs) > 0 {
				s.mu.Lock()
				s.pos, s.sentSeq, s.lastWrite = b.pos, b.seq, time.Now()
				s.mu.Unlock()
			}
		}
		select {
		case <-s.wake:
		case <-ctx.Done():
			return nil
		case <-t.hub.closed:
			return ErrClosed
		case <-t.done:
			return nil
		}
	}
}

// bind hands s's end function to its Info.Bind, if any. A stream that
// ended meanwhile is unbound at once.
func (t *Topic) bind(s *subscriber, end func()) {
	if s.info.Bind == nil {
		return
	}
	unbind := s.info.Bind(end)
	s.mu.Lock()
	closed := s.closed
	if !closed {
		s.unbind = unbind
	}
	s.mu.Unlock()
	if closed && unbind != nil {
		unbind()
	}
}

// drop removes s from the topic and, for a raw subscriber, closes its
// connection. It may be called more than once and from any goroutine.
func (t *Topic) drop(s *subscriber) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	unbind := s.unbind
	s.unbind = nil
	s.mu.Unlock()
	if unbind != nil {
		defer unbind()
	}
	t.mu.Lock()
	delete(t.subs, s)
	delete(t.waiters, s)
	t.mu.Unlock()
	if s.raw != nil {
		s.raw.w.remove(s)
		t.hub.unwatch(s)
		_ = s.raw.conn.Close()
	}
	t.hub.subscribers.Add(-1)
}

func (t *Topic) retryHint() []byte {
	b := strconv.AppendInt(append(make([]byte, 0, 32), "retry: "...), t.hub.opts.Retry.Milliseconds(), 10)
	return append(b, "\n\n"...)
}

// bufPool holds the buffers blocking streams concatenate frames into.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 16<<10); return &b }}

// encode builds one SSE frame. Each line of data becomes its own data: line,
// so multi-line HTML arrives intact.
func encode(id, eventName string, data []byte) []byte {
	out := make([]byte, 0, len(data)+len(id)+32+6*bytes.Count(data, []byte{'\n'}))
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

// Regenerate gives the topic a new generation (its board's definition
// changed): every subscriber gets a full reset at once, whose id carries
// gen, and so does every page that connects with an id of the old one.
// The topic's other subscribers' positions are not touched; nothing
// happens when gen is the current one.
func (t *Topic) Regenerate(gen string) {
	t.uses.Add(1)
	t.resetMu.Lock()
	t.mu.Lock()
	if gen == t.gen {
		t.mu.Unlock()
		t.resetMu.Unlock()
		return
	}
	t.gen = gen
	t.resetFrame = nil // rendered under the old generation
	for s := range t.subs {
		s.mu.Lock()
		s.needReset = true
		s.mu.Unlock()
	}
	// A comment frame moves the log on, so the writers go through their
	// subscribers and find the reset (and blocking streams wake up).
	t.appendLocked([]byte(": generation\n\n"))
	t.mu.Unlock()
	t.resetMu.Unlock()
	t.wakeWriters()
}

// EndAfter ends every stream open on the topic after d (the board was
// removed: its last frame says so and has d to reach the screens), then
// removes the topic from the hub and stops its writers, unless the topic
// was asked for again meanwhile (Topic, Regenerate). The hub closing first
// ends them anyway.
func (t *Topic) EndAfter(d time.Duration) {
	mark := t.uses.Load()
	t.hub.spawn(func() {
		timer := time.NewTimer(d)
		defer timer.Stop()
		select {
		case <-timer.C:
		case <-t.hub.closed:
			return
		}
		h := t.hub
		h.mu.Lock()
		if t.uses.Load() != mark || h.topics[t.id] != t {
			h.mu.Unlock()
			return // in use again (a board of that id was made again)
		}
		delete(h.topics, t.id)
		h.mu.Unlock()
		close(t.done) // the writers drop their subscribers and return
		t.mu.Lock()
		subs := make([]*subscriber, 0, len(t.subs))
		for s := range t.subs {
			subs = append(subs, s)
		}
		t.mu.Unlock()
		for _, s := range subs {
			t.drop(s)
		}
	})
}
