package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

type subKind uint8

const (
	kindRegular   subKind = iota
	kindStalled           // reads the response headers, then never reads again
	kindReconnect         // drops its connection now and then and resumes with Last-Event-ID
)

// shared is what every subscriber of one run reads and counts into.
type shared struct {
	url      *url.URL
	agents   int            // board agents
	sendAt   []atomic.Int64 // by seq: when the driver handed the change upstream (unix ns)
	measure  atomic.Bool    // count frames and latencies
	hist     *histogram
	frames   atomic.Int64 // data frames received (deltas and resets), all subscribers
	receipts atomic.Int64 // changes received in deltas
	inResets atomic.Int64 // changes received inside resets
	resets   atomic.Int64 // reset frames received
	dups     atomic.Int64 // a change received twice by one subscriber
	bytes    atomic.Int64
}

// subscriber is one SSE client.
type subscriber struct {
	i       int
	kind    subKind
	sampled bool // parses every change (latency, per-change loss); the others check frame ids only
	// frame ids seen in the measurement window (the sequence after the last '-')
	firstID, lastIDSeq, idFrames atomic.Int64
	laddr                        *net.TCPAddr
	sh                           *shared
	lastID                       string

	mu        sync.Mutex // guards seen and agentMax against the final read
	seen      []uint64   // bitset of seqs received
	agentMax  []int32    // newest seq seen per board agent
	connected chan struct{}
	once      sync.Once
	err       atomic.Pointer[string]
	sessions  atomic.Int64
	conn      atomic.Pointer[net.Conn]
}

func newSubscriber(i int, kind subKind, laddr *net.TCPAddr, sh *shared) *subscriber {
	return &subscriber{i: i, kind: kind, laddr: laddr, sh: sh, seen: make([]uint64, (len(sh.sendAt)+63)/64),
		agentMax: make([]int32, sh.agents), connected: make(chan struct{})}
}

func (s *subscriber) fail(err error) {
	msg := err.Error()
	s.err.Store(&msg)
	s.once.Do(func() { close(s.connected) })
}

// run holds the subscription until ctx ends. A reconnecting subscriber
// drops its connection every about `every` once start is closed.
func (s *subscriber) run(ctx context.Context, since string, start <-chan struct{}, every time.Duration, rnd func() float64) {
	s.lastID = since
	for ctx.Err() == nil {
		sctx := ctx
		var cancel context.CancelFunc
		if s.kind == kindReconnect && s.sessions.Load() > 0 {
			sctx, cancel = context.WithTimeout(ctx, time.Duration((0.5+rnd())*float64(every)))
		} else if s.kind == kindReconnect {
			// first session: until the measurement starts, then a while more
			c, cf := context.WithCancel(ctx)
			go func() {
				select {
				case <-start:
					select {
					case <-time.After(time.Duration(rnd() * float64(every))):
					case <-c.Done():
					}
				case <-c.Done():
				}
				cf()
			}()
			sctx, cancel = c, cf
		}
		err := s.session(sctx)
		if cancel != nil {
			cancel()
		}
		if ctx.Err() != nil {
			return
		}
		if s.kind != kindReconnect || (err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, net.ErrClosed)) {
			if err != nil {
				s.fail(err)
			}
			return
		}
	}
}

func (s *subscriber) session(ctx context.Context) error {
	d := net.Dialer{LocalAddr: s.laddr, Timeout: 30 * time.Second}
	if s.kind == kindStalled {
		// A small receive window, as a hung TV's: the server's socket buffer
		// fills within seconds instead of after megabytes.
		d.Control = func(_, _ string, c syscall.RawConn) error {
			return c.Control(func(fd uintptr) { _ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
		}
	}
	conn, err := d.DialContext(ctx, "tcp", s.sh.url.Host)
	if err != nil {
		return fmt.Errorf("dial: %w", err)
	}
	s.conn.Store(&conn)
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	defer conn.Close()
	var req bytes.Buffer
	req.WriteString("GET " + s.sh.url.RequestURI() + " HTTP/1.1\r\nHost: " + s.sh.url.Host + "\r\nAccept: text/event-stream\r\n")
	if s.lastID != "" {
		req.WriteString("Last-Event-ID: " + s.lastID + "\r\n")
	}
	req.WriteString("\r\n")
	if _, err := conn.Write(req.Bytes()); err != nil {
		return fmt.Errorf("request: %w", err)
	}
	br := bufio.NewReaderSize(conn, 4096)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return fmt.Errorf("response: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("response: %s", resp.Status)
	}
	s.sessions.Add(1)
	s.once.Do(func() { close(s.connected) })
	if s.kind == kindStalled {
		<-ctx.Done()
		return ctx.Err()
	}
	return s.read(bufio.NewReaderSize(resp.Body, 32<<10))
}

var (
	markReason = []byte("801=")
	markGrid   = []byte(`<section id="agents"`)
)

// read parses the event stream: ids, heartbeats, and the change markers in
// the data lines.
func (s *subscriber) read(r *bufio.Reader) error {
	var long []byte
	var id []byte
	hasData, heartbeat, reset := false, false, false
	var recv int64
	for {
		line, err := r.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			long = append(long, line...)
			continue
		}
		if err != nil {
			return err
		}
		if long != nil {
			line = append(long, line...)
			long = long[:0]
		}
		s.sh.bytes.Add(int64(len(line)))
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 { // end of event
			if hasData && !heartbeat {
				if s.sh.measure.Load() {
					s.sh.frames.Add(1)
					if reset {
						s.sh.resets.Add(1)
					}
				}
				if id != nil {
					s.lastID = string(id)
				}
			}
			id, hasData, heartbeat, reset, recv = nil, false, false, false, 0
			continue
		}
		if recv == 0 {
			recv = time.Now().UnixNano()
		}
		switch {
		case bytes.HasPrefix(line, []byte("data:")):
			hasData = true
			// Reconnecting subscribers always parse: whether they end
			// current is checked for every one of them.
			if heartbeat || (!s.sampled && s.kind != kindReconnect) {
				continue
			}
			if !reset && bytes.Contains(line, markGrid) {
				reset = true
			}
			s.markers(line, reset, recv)
		case bytes.HasPrefix(line, []byte("id:")):
			id = append(id[:0], bytes.TrimSpace(line[3:])...)
			if s.sh.measure.Load() {
				s.countID(id)
			}
		case bytes.Equal(line, []byte("event: heartbeat")):
			heartbeat = true
		}
	}
}

// countID notes a frame id in the window: its sequence is the number after
// the last '-' (wallboard: epoch-gen-seq; the baseline: seq).
func (s *subscriber) countID(id []byte) {
	if i := bytes.LastIndexByte(id, '-'); i >= 0 {
		id = id[i+1:]
	}
	var seq int64
	for _, c := range id {
		if c < '0' || c > '9' {
			return
		}
		seq = seq*10 + int64(c-'0')
	}
	s.idFrames.Add(1)
	if s.firstID.Load() == 0 {
		s.firstID.Store(seq)
	}
	s.lastIDSeq.Store(seq)
}

func (s *subscriber) markers(line []byte, reset bool, recv int64) {
	for {
		i := bytes.Index(line, markReason)
		if i < 0 {
			return
		}
		line = line[i+len(markReason):]
		var seq int64
		n := 0
		for n < len(line) && line[n] >= '0' && line[n] <= '9' {
			seq = seq*10 + int64(line[n]-'0')
			n++
		}
		line = line[n:]
		if n == 0 || seq <= 0 || seq >= int64(len(s.sh.sendAt)) {
			continue
		}
		s.mu.Lock()
		w, b := seq/64, uint64(1)<<(seq%64)
		dup := s.seen[w]&b != 0
		s.seen[w] |= b
		if a := (seq - 1) % int64(s.sh.agents); seq > int64(s.agentMax[a]) {
			s.agentMax[a] = int32(seq)
		}
		s.mu.Unlock()
		if dup {
			// A reset restates what the page has, and a delta rendered while a
			// reset was may follow it (deltas are idempotent): only a regular
			// subscriber's second copy from deltas is a duplicate.
			if !reset && s.kind == kindRegular {
				s.sh.dups.Add(1)
			}
			continue
		}
		if !s.sh.measure.Load() {
			continue
		}
		if reset {
			s.sh.inResets.Add(1)
			continue
		}
		s.sh.receipts.Add(1)
		if sent := s.sh.sendAt[seq].Load(); sent > 0 {
			s.sh.hist.add(s.i, time.Duration(recv-sent))
		}
	}
}

// has reports whether the subscriber received change seq.
func (s *subscriber) has(seq int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seen[seq/64]&(1<<(seq%64)) != 0
}

// counts returns how many of seqs [from, to] the subscriber received
// directly, and how many more it had superseded by a newer change of the
// same agent (coalesced, e.g. through a reset).
func (s *subscriber) counts(from, to int64) (direct, superseded int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for q := from; q <= to; q++ {
		if s.seen[q/64]&(1<<(q%64)) != 0 {
			direct++
		} else if int64(s.agentMax[(q-1)%int64(s.sh.agents)]) > q {
			superseded++
		}
	}
	return direct, superseded
}

// current reports whether the subscriber's newest change of every agent is
// the newest change sent (last[a]).
func (s *subscriber) current(last []int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for a, q := range last {
		if q > 0 && int64(s.agentMax[a]) != q {
			return false
		}
	}
	return true
}

// histogram counts latencies in log-linear buckets (64 per power of two
// of microseconds), sharded by subscriber.
type histogram struct {
	shards [16][32 * 64]atomic.Int64
}

func bucketOf(d time.Duration) int {
	us := uint64(max(d.Microseconds(), 0))
	if us < 64 {
		return int(us)
	}
	e := bits.Len64(us) - 6 // ≥ 1
	b := e*64 + int(us>>(e-1)) - 64
	return min(b, 32*64-1)
}

func bucketValue(b int) time.Duration {
	if b < 64 {
		return time.Duration(b) * time.Microsecond
	}
	e := b / 64
	m := b%64 + 64
	return time.Duration(uint64(m)<<(e-1)) * time.Microsecond
}

func (h *histogram) add(shard int, d time.Duration) {
	h.shards[shard%16][bucketOf(d)].Add(1)
}

// quantiles returns the count and the given quantiles.
func (h *histogram) quantiles(qs ...float64) (int64, []time.Duration) {
	var sum [32 * 64]int64
	var n int64
	for i := range h.shards {
		for b := range h.shards[i] {
			v := h.shards[i][b].Load()
			sum[b] += v
			n += v
		}
	}
	out := make([]time.Duration, len(qs))
	for i, q := range qs {
		want := int64(math.Ceil(q * float64(n)))
		var acc int64
		for b, v := range sum {
			acc += v
			if acc >= want && want > 0 {
				out[i] = bucketValue(b)
				break
			}
		}
	}
	return n, out
}
