package hub

import (
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"sort"
	"sync"
	"syscall"
	"time"
)

// sendBuffer is the socket send buffer of a hijacked stream: several
// seconds of a busy board's deltas, and a whole 1000-agent reset.
const sendBuffer = 256 << 10

// rawSub is a hijacked plain TCP stream, written by its topic's writer.
type rawSub struct {
	conn *net.TCPConn
	rc   syscall.RawConn
	fd   int
	w    *writer
	idx  int // index in w.subs, under w.mu
}

// hijack takes the connection over and writes the response head with the
// headers set so far. It returns nil (and no error) when the connection
// cannot be hijacked (HTTP/2, a recorder): the caller then streams through
// the ResponseWriter.
func (t *Topic) hijack(rc *http.ResponseController, hd http.Header) (net.Conn, error) {
	conn, brw, err := rc.Hijack()
	if err != nil {
		return nil, nil //nolint:nilerr // not hijackable (HTTP/2, a recorder): the caller streams instead
	}
	if brw != nil && brw.Writer.Buffered() > 0 {
		_ = brw.Flush()
	}
	// The server may have left its own deadlines on the connection (a
	// ReadTimeout, a WriteTimeout): the stream lives by the hub's.
	_ = conn.SetReadDeadline(time.Time{})
	if tc, ok := conn.(*net.TCPConn); ok {
		// Bound what the kernel buffers for one screen: a TV that stops
		// reading then stalls our write within seconds (and is cut by the
		// log's length or the write deadline) instead of after megabytes of
		// autotuned buffer.
		_ = tc.SetWriteBuffer(sendBuffer)
	}
	// No chunked encoding: the body ends when the connection does, which SSE
	// clients and proxies accept.
	hd.Set("Connection", "close")
	head := append(make([]byte, 0, 1024), "HTTP/1.1 200 OK\r\n"...)
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
	head = append(head, t.retryHint()...)
	_ = conn.SetWriteDeadline(time.Now().Add(t.hub.opts.WriteTimeout))
	if _, err := conn.Write(head); err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("failed to write the response head: %w", err)
	}
	_ = conn.SetWriteDeadline(time.Time{})
	return conn, nil
}

// serveRaw hands a hijacked connection to the topic's least busy writer.
func (t *Topic) serveRaw(conn *net.TCPConn, lastID string, info Info) error {
	rc, err := conn.SyscallConn()
	if err != nil {
		_ = conn.Close()
		return fmt.Errorf("failed to reach the socket: %w", err)
	}
	fd := -1
	_ = rc.Control(func(f uintptr) { fd = int(f) })
	t.mu.Lock()
	w := t.writers[t.next%len(t.writers)]
	t.next++
	t.mu.Unlock()
	s := &subscriber{info: info, since: time.Now(), raw: &rawSub{conn: conn, rc: rc, fd: fd, w: w}}
	t.register(s, lastID)
	if !t.hub.watchClose(t, s) || !w.add(s) {
		t.drop(s)
		return ErrClosed
	}
	t.bind(s, func() { t.drop(s) })
	return nil
}

// writer writes a share of a topic's raw subscribers. On every new frame it
// goes through all of them; subscribers that arrive or come back from a
// slow write are handled on their own.
type writer struct {
	t    *Topic
	wake chan struct{}

	mu      sync.Mutex
	subs    []*subscriber
	ready   []*subscriber // new, or back from a slow write
	lastEnd uint64        // log position its last round covered
	stopped bool          // run returned: add takes no one

	covered uint64 // under t.mu: every subscriber not in a slow write has had the log up to here
}

// add hands s to the writer; it reports false when the writer has stopped
// (the hub closed).
func (w *writer) add(s *subscriber) bool {
	w.mu.Lock()
	if w.stopped {
		w.mu.Unlock()
		return false
	}
	s.raw.idx = len(w.subs)
	w.subs = append(w.subs, s)
	w.ready = append(w.ready, s)
	w.mu.Unlock()
	w.poke()
	return true
}

func (w *writer) poke() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

func (w *writer) remove(s *subscriber) {
	w.mu.Lock()
	defer w.mu.Unlock()
	i := s.raw.idx
	if i < 0 || i >= len(w.subs) || w.subs[i] != s {
		return
	}
	last := len(w.subs) - 1
	w.subs[i] = w.subs[last]
	w.subs[i].raw.idx = i
	w.subs[last] = nil
	w.subs = w.subs[:last]
	s.raw.idx = -1
}

// backAfterSlow returns s to the writer's rounds after a slow write ended.
func (w *writer) backAfterSlow(s *subscriber) {
	w.mu.Lock()
	w.ready = append(w.ready, s)
	w.mu.Unlock()
	w.poke()
}

func (w *writer) run() {
	t := w.t
	var (
		sn    snapshot
		b     batch
		list  []*subscriber
		ready []*subscriber
	)
	for {
		select {
		case <-w.wake:
		case <-t.done:
			w.stop()
			return
		case <-t.hub.closed:
			w.stop()
			return
		}
		t.snapshot(&sn)
		w.mu.Lock()
		ready = append(ready[:0], w.ready...)
		clear(w.ready)
		w.ready = w.ready[:0]
		full := sn.end != w.lastEnd
		if full {
			list = append(list[:0], w.subs...)
		}
		w.lastEnd = sn.end
		w.mu.Unlock()
		now := time.Now()
		if full {
			for _, s := range list {
				w.service(s, &sn, &b, now)
			}
			clear(list)
		}
		for _, s := range ready {
			w.service(s, &sn, &b, now)
		}
		clear(ready)
		if full {
			t.mu.Lock()
			w.covered = sn.end
			t.trimLocked()
			t.mu.Unlock()
		}
	}
}

// stop ends the writer: it takes no one any more and drops its
// subscribers (the hub closed, or the topic was removed).
func (w *writer) stop() {
	t := w.t
	w.mu.Lock()
	w.stopped = true
	list := append([]*subscriber(nil), w.subs...)
	w.mu.Unlock()
	t.mu.Lock()
	w.covered = math.MaxUint64 // holds no frame in the log any more
	t.mu.Unlock()
	for _, s := range list {
		t.drop(s)
	}
}

// service writes s what it has not had, without blocking. What the socket
// does not take at once is finished by a goroutine of its own (drain),
// while the writer goes on with the others.
func (w *writer) service(s *subscriber, sn *snapshot, b *batch, now time.Time) {
	t := w.t
	s.mu.Lock()
	if s.closed || s.slow {
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()
	if !t.plan(s, sn, b) {
		return
	}
	n, total, err := s.raw.tryWrite(b.bufs)
	t.hub.bytesSent.Add(int64(n))
	if err != nil {
		t.drop(s)
		return
	}
	s.mu.Lock()
	s.pos = b.pos
	if n == total {
		s.sentSeq, s.lastWrite = b.seq, now
		s.mu.Unlock()
		return
	}
	s.slow = true
	s.mu.Unlock()
	t.mu.Lock()
	t.waiters[s] = struct{}{} // counted as lagging by Publish while it is stuck
	t.mu.Unlock()
	rest, seq := skip(b.bufs, n), b.seq
	if !t.hub.spawn(func() { t.drain(s, rest, seq) }) {
		t.drop(s) // the hub is closing
	}
}

// drain finishes a write the socket did not take at once, with blocking
// writes, then everything logged meanwhile, and returns s to its writer.
func (t *Topic) drain(s *subscriber, rest net.Buffers, seq uint64) {
	var sn snapshot
	var b batch
	for {
		if err := t.writeConn(s.raw.conn, rest); err != nil {
			t.drop(s)
			return
		}
		s.mu.Lock()
		s.sentSeq, s.lastWrite = seq, time.Now()
		s.mu.Unlock()
		t.snapshot(&sn)
		if !t.plan(s, &sn, &b) {
			break
		}
		rest = append(rest[:0], b.bufs...)
		seq = b.seq
		s.mu.Lock()
		s.pos = b.pos
		s.mu.Unlock()
	}
	t.mu.Lock()
	delete(t.waiters, s)
	t.mu.Unlock()
	s.mu.Lock()
	s.slow = false
	s.mu.Unlock()
	// Anything logged after the last snapshot is written by the writer's
	// next round.
	s.raw.w.backAfterSlow(s)
}

// skip returns a copy of bufs without its first n bytes.
func skip(bufs net.Buffers, n int) net.Buffers {
	rest := make(net.Buffers, 0, len(bufs))
	for _, b := range bufs {
		switch {
		case n >= len(b):
			n -= len(b)
		default:
			rest = append(rest, b[n:])
			n = 0
		}
	}
	return rest
}

// writeConn sends bufs with blocking writes under the write deadline. The
// deadline bounds a stall, not a slow reader: when the client took some of
// the bytes before the deadline, the rest gets a new one, and only a client
// that took nothing for a whole WriteTimeout is cut.
func (t *Topic) writeConn(conn net.Conn, bufs net.Buffers) error {
	defer func() { _ = conn.SetWriteDeadline(time.Time{}) }() // a closed conn has none to clear
	for {
		if err := conn.SetWriteDeadline(time.Now().Add(t.hub.opts.WriteTimeout)); err != nil {
			return fmt.Errorf("failed to set write deadline: %w", err)
		}
		n, err := bufs.WriteTo(conn) // consumes what it wrote
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

// stream is where a blocking subscriber's bytes go: a hijacked TLS
// connection, or net/http's response (HTTP/2, a writer that cannot be
// hijacked).
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

// rawConn is a hijacked connection that is not plain TCP (TLS): every write
// of pending frames is one write to it.
type rawConn struct {
	conn net.Conn
}

func (r *rawConn) setWriteDeadline(d time.Time) error { return r.conn.SetWriteDeadline(d) }
func (r *rawConn) write(b []byte) (int, error)        { return r.conn.Write(b) }
func (r *rawConn) close()                             { _ = r.conn.Close() }

// watchConn calls done when the client closes its side: a client sends
// nothing after its request, so any read result but data ends it.
func watchConn(conn net.Conn, done func()) {
	var b [64]byte
	for {
		if _, err := conn.Read(b[:]); err != nil {
			done()
			return
		}
	}
}

// write sends data to a blocking subscriber in one write under the write
// deadline.
func (t *Topic) write(out stream, data []byte) error {
	if r, ok := out.(*rawConn); ok {
		return t.writeConn(r.conn, net.Buffers{data})
	}
	if err := out.setWriteDeadline(time.Now().Add(t.hub.opts.WriteTimeout)); err != nil {
		return fmt.Errorf("failed to set write deadline: %w", err)
	}
	n, err := out.write(data)
	t.hub.bytesSent.Add(int64(n))
	if err != nil {
		if isTimeout(err) {
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
