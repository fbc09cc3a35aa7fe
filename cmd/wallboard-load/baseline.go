package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"sync"
	"time"
)

// The baseline is the least a fan-out server can do for the same load: on
// every tick it builds one SSE frame holding one agent card per change (the
// same markup and size as wallboard's cards) and queues the same bytes to
// every subscriber; each subscriber's handler writes everything pending in
// one write and flush under a write deadline. No model, no templates, no
// resets, no router. Targets are ratios against it, measured in the same run.

type baseline struct {
	flush time.Duration

	mu      sync.Mutex
	changes [][2]int64 // agent, seq
	subs    map[*bsub]struct{}
	seq     int64
	frames  int64
	dropped int64
	timeout int64
}

type bsub struct {
	mu      sync.Mutex
	pending [][]byte
	wake    chan struct{}
	dead    bool
}

func baselineServer(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("baseline-server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:0", "listen address")
	flush := fs.Duration("flush", 100*time.Millisecond, "tick")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	raiseFDLimit()
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	b := &baseline{flush: *flush, subs: map[*bsub]struct{}{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /events", b.events)
	mux.HandleFunc("POST /publish", b.publish)
	mux.HandleFunc("GET /metrics", b.metrics)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	go b.tick(ctx)
	go func() { <-ctx.Done(); _ = srv.Close() }()
	fmt.Fprintf(stdout, "http://%s\n", ln.Addr())
	_ = srv.Serve(ln)
	return 0
}

func (b *baseline) publish(w http.ResponseWriter, r *http.Request) {
	sc := bufio.NewScanner(r.Body)
	var cs [][2]int64
	for sc.Scan() {
		line := sc.Bytes()
		i := 0
		for i < len(line) && line[i] != ' ' {
			i++
		}
		if i == len(line) {
			continue
		}
		a, err1 := strconv.ParseInt(string(line[:i]), 10, 64)
		s, err2 := strconv.ParseInt(string(line[i+1:]), 10, 64)
		if err1 == nil && err2 == nil {
			cs = append(cs, [2]int64{a, s})
		}
	}
	b.mu.Lock()
	b.changes = append(b.changes, cs...)
	b.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (b *baseline) metrics(w http.ResponseWriter, r *http.Request) {
	b.mu.Lock()
	subs, frames, dropped, timeout := len(b.subs), b.frames, b.dropped, b.timeout
	b.mu.Unlock()
	fmt.Fprintf(w, "go_goroutines %d\nwallboard_subscribers %d\nwallboard_frames_total %d\nwallboard_subscribers_cut_total %d\nwallboard_subscribers_timed_out_total %d\n",
		runtime.NumGoroutine(), subs, frames, dropped, timeout)
}

func (b *baseline) tick(ctx context.Context) {
	t := time.NewTicker(b.flush)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			b.mu.Lock()
			cs := b.changes
			b.changes = nil
			b.mu.Unlock()
			if len(cs) == 0 {
				continue
			}
			b.mu.Lock()
			b.seq++
			b.frames++
			frame := baselineFrame(b.seq, cs, now)
			for s := range b.subs {
				s.mu.Lock()
				if len(s.pending) >= 4096 {
					s.dead = true // a queue this long is a client that stopped reading
					b.dropped++
				} else {
					s.pending = append(s.pending, frame)
				}
				s.mu.Unlock()
				select {
				case s.wake <- struct{}{}:
				default:
				}
			}
			b.mu.Unlock()
		}
	}
}

// baselineFrame renders one SSE frame with one card per change, the same
// markup wallboard's agent card has.
func baselineFrame(seq int64, cs [][2]int64, now time.Time) []byte {
	out := make([]byte, 0, 64+len(cs)*460)
	out = append(out, "id: "...)
	out = strconv.AppendInt(out, seq, 10)
	out = append(out, '\n')
	since := now.UTC().AppendFormat(nil, time.RFC3339)
	for _, c := range cs {
		id := boardAgentID(int(c[0]))
		out = append(out, `data: <div id="agent-load-`...)
		out = append(out, id...)
		out = append(out, `" class="agent s-not_ready" data-state="not_ready" data-since="`...)
		out = append(out, since...)
		out = append(out, `" data-warn="0" data-alarm="0" data-testid="agent-card" title="Queue qb" hx-swap-oob="true">`+"\n"...)
		out = append(out, `data: <span class="shape" aria-hidden="true"></span> <span class="a-name">Agent `...)
		out = strconv.AppendInt(out, c[0], 10)
		out = append(out, `</span> <span class="a-state">Not ready · 801=`...)
		out = strconv.AppendInt(out, c[1], 10)
		out = append(out, `</span> <span class="a-clock clock">0:00</span>`+"\ndata: </div>\n"...)
	}
	return append(out, '\n')
}

func (b *baseline) events(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_ = rc.Flush()
	s := &bsub{wake: make(chan struct{}, 1)}
	b.mu.Lock()
	b.subs[s] = struct{}{}
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		delete(b.subs, s)
		b.mu.Unlock()
	}()
	var buf []byte
	for {
		select {
		case <-s.wake:
		case <-r.Context().Done():
			return
		}
		s.mu.Lock()
		pending, dead := s.pending, s.dead
		s.pending = nil
		s.mu.Unlock()
		if dead {
			return
		}
		buf = buf[:0]
		for _, f := range pending {
			buf = append(buf, f...)
		}
		_ = rc.SetWriteDeadline(time.Now().Add(10 * time.Second))
		if _, err := w.Write(buf); err != nil {
			b.mu.Lock()
			b.timeout++
			b.mu.Unlock()
			return
		}
		if err := rc.Flush(); err != nil {
			return
		}
		if cap(buf) > 1<<20 {
			buf = nil
		}
	}
}
