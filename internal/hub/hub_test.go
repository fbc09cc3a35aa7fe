package hub

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	sse "github.com/r3labs/sse/v2"
)

// serve starts an HTTP server streaming topic t. The page's id comes as
// ?since=, a reconnect's as Last-Event-ID, like the real routes.
func serve(t *testing.T, tp *Topic) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		last := r.Header.Get("Last-Event-ID")
		if last == "" {
			last = r.URL.Query().Get("since")
		}
		_ = tp.Serve(r.Context(), w, last, Info{Remote: r.RemoteAddr})
	}))
	t.Cleanup(srv.Close)
	return srv
}

// subscribe reads the stream with r3labs/sse's client into a channel.
func subscribe(t *testing.T, ctx context.Context, url string, lastID string) <-chan *sse.Event {
	t.Helper()
	c := sse.NewClient(url, sse.ClientMaxBufferSize(1<<22))
	if lastID != "" {
		c.LastEventID.Store([]byte(lastID))
	}
	ch := make(chan *sse.Event, 4096)
	go func() { _ = c.SubscribeRawWithContext(ctx, func(e *sse.Event) { ch <- e }) }()
	return ch
}

func next(t *testing.T, ch <-chan *sse.Event) *sse.Event {
	t.Helper()
	for {
		select {
		case e := <-ch:
			if len(e.Data) == 0 { // retry-only and comment frames
				continue
			}
			return e
		case <-time.After(5 * time.Second):
			t.Fatal("no event within 5s")
			return nil
		}
	}
}

func waitSubscribers(t *testing.T, tp *Topic, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for tp.Subscribers() != n {
		if time.Now().After(deadline) {
			t.Fatalf("subscribers = %d, want %d", tp.Subscribers(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestPublishReachesSubscriberWithIDs(t *testing.T) {
	t.Parallel()
	h := New(Options{Epoch: "E"})
	defer h.Close()
	tp := h.Topic("floor", "g1", func() []byte { return []byte(`<div id="board">full</div>`) })
	srv := serve(t, tp)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch := subscribe(t, ctx, srv.URL+"?since="+tp.EventID(), "")
	waitSubscribers(t, tp, 1)

	tp.Publish([]byte("<div id=\"a\">1</div>\n<div id=\"b\">2</div>"))
	e := next(t, ch)
	if string(e.ID) != "E-g1-1" {
		t.Errorf("id = %q, want E-g1-1", e.ID)
	}
	if string(e.Data) != "<div id=\"a\">1</div>\n<div id=\"b\">2</div>" {
		t.Errorf("data = %q (multi-line data must survive)", e.Data)
	}
	tp.Publish([]byte("x"))
	if e := next(t, ch); string(e.ID) != "E-g1-2" || string(e.Data) != "x" {
		t.Errorf("second event = %q %q", e.ID, e.Data)
	}
}

func TestReconnectWithOlderIDGetsFullBoardFirst(t *testing.T) {
	t.Parallel()
	h := New(Options{Epoch: "E"})
	defer h.Close()
	var renders atomic.Int32
	tp := h.Topic("floor", "g1", func() []byte {
		renders.Add(1)
		return []byte(`<div id="board">full</div>`)
	})
	tp.Publish([]byte("one"))
	tp.Publish([]byte("two"))
	srv := serve(t, tp)

	tests := []struct {
		name      string
		lastID    string
		wantReset bool
	}{
		{"current id resumes without reset", "E-g1-2", false},
		{"older sequence", "E-g1-1", true},
		{"previous server run (other epoch)", "D-g1-2", true},
		{"older board definition", "E-g0-2", true},
		{"no id at all", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			ch := subscribe(t, ctx, srv.URL, tt.lastID)
			waitSubscribers(t, tp, 1)
			tp.Publish([]byte("live"))
			e := next(t, ch)
			if tt.wantReset {
				if string(e.Data) != `<div id="board">full</div>` {
					t.Fatalf("first event = %q, want the full board", e.Data)
				}
				e = next(t, ch)
			}
			if string(e.Data) != "live" {
				t.Errorf("then %q, want the live delta", e.Data)
			}
			cancel()
			waitSubscribers(t, tp, 0)
		})
	}
	if n := renders.Load(); n > 4 {
		t.Errorf("reset rendered %d times for 4 resets", n)
	}
}

// stalledConn opens a stream and never reads from it, with a tiny receive
// buffer so the server's writes block soon.
func stalledConn(t *testing.T, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
		if err != nil {
			return err
		}
		return serr
	}}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "GET / HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n")
	t.Cleanup(func() { conn.Close() })
	return conn
}

func TestStalledSubscriberDoesNotDelayOthers(t *testing.T) {
	t.Parallel()
	h := New(Options{Epoch: "E", MaxPending: 64, WriteTimeout: time.Minute})
	defer h.Close()
	tp := h.Topic("floor", "g", func() []byte { return []byte("full") })
	srv := serve(t, tp)

	stalled := stalledConn(t, srv.Listener.Addr().String())
	_ = stalled
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	fast := subscribe(t, ctx, srv.URL+"?since="+tp.EventID(), "")
	waitSubscribers(t, tp, 2)

	// 64 KiB frames: the stalled connection's socket buffers fill after a
	// few, and its writer blocks for the rest of the test. A blocking fan-out
	// would stop here and the fast subscriber would never see frame 300.
	payload := strings.Repeat("x", 64<<10)
	const frames = 300
	published := make(chan struct{})
	go func() {
		for i := 1; i <= frames; i++ {
			tp.Publish([]byte(fmt.Sprintf("%d %s", i, payload)))
			time.Sleep(2 * time.Millisecond) // a board's pace, well above any real one
		}
		close(published)
	}()
	select {
	case <-published:
	case <-time.After(10 * time.Second):
		t.Fatal("Publish blocked behind the stalled subscriber")
	}
	for i := 1; i <= frames; i++ {
		e := next(t, fast)
		if got := strings.SplitN(string(e.Data), " ", 2)[0]; got != fmt.Sprint(i) {
			t.Fatalf("fast subscriber got frame %s, want %d", got, i)
		}
	}
	if s := h.Stats(); s.Cut < 1 {
		t.Errorf("stalled subscriber was not cut from the fast path: %+v", s)
	}
}

func TestLaggingSubscriberGetsResetWhenItReadsAgain(t *testing.T) {
	t.Parallel()
	h := New(Options{Epoch: "E", MaxPending: 4, WriteTimeout: time.Minute})
	defer h.Close()
	tp := h.Topic("floor", "g", func() []byte { return []byte("FULL-BOARD") })
	srv := serve(t, tp)
	conn := stalledConn(t, srv.Listener.Addr().String())
	waitSubscribers(t, tp, 1)
	payload := strings.Repeat("y", 64<<10)
	const backlog = 200 // 12.5 MiB: more than the kernel buffers between us
	for i := 0; i < backlog; i++ {
		tp.Publish([]byte(payload))
	}
	tp.Publish([]byte("LAST"))
	if h.Stats().Cut < 1 {
		t.Fatalf("cut = %d, want at least 1", h.Stats().Cut)
	}
	// Now read everything: after what was already in flight comes a reset,
	// then the newest frame, never the whole backlog.
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReaderSize(conn, 1<<20)
	latest := "id: " + tp.EventID() + "\n"
	var dataFrames, resets int
	for done := false; !done; {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("read: %v (frames %d, resets %d)", err, dataFrames, resets)
		}
		switch {
		case line == latest:
			done = true // the latest frame: LAST itself, or a reset that includes it
		case line == "data: FULL-BOARD\n":
			resets++
			dataFrames++
		case strings.HasPrefix(line, "data: "):
			dataFrames++
		}
	}
	if resets < 1 {
		t.Errorf("resets = %d, want at least 1", resets)
	}
	if dataFrames >= backlog/2 {
		t.Errorf("received %d of %d frames: the backlog was replayed instead of a reset", dataFrames, backlog)
	}
}

func TestHeartbeatAndClose(t *testing.T) {
	t.Parallel()
	h := New(Options{Epoch: "E", Heartbeat: 20 * time.Millisecond})
	tp := h.Topic("floor", "g", func() []byte { return []byte("full") })
	srv := serve(t, tp)
	resp, err := http.Get(srv.URL + "?since=" + tp.EventID())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Errorf("content type %q", ct)
	}
	r := bufio.NewReader(resp.Body)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if line == "event: heartbeat\n" {
			break
		}
	}
	h.Close()
	done := make(chan error, 1)
	go func() {
		_, err := r.ReadString(0)
		done <- err
	}()
	select {
	case <-done: // the stream ended cleanly
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not end the stream")
	}
	waitSubscribers(t, tp, 0)
}

func TestScreensListSubscribers(t *testing.T) {
	t.Parallel()
	h := New(Options{Epoch: "E"})
	defer h.Close()
	tp := h.Topic("floor", "g", func() []byte { return []byte("full") })
	srv := serve(t, tp)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch := subscribe(t, ctx, srv.URL+"?since="+tp.EventID(), "")
	waitSubscribers(t, tp, 1)
	tp.Publish([]byte("a"))
	next(t, ch)
	sc := h.Screens()
	if len(sc) != 1 || sc[0].Board != "floor" || !strings.HasPrefix(sc[0].Info.Remote, "127.0.0.1:") || sc[0].Since.IsZero() {
		t.Fatalf("screens = %+v", sc)
	}
	deadline := time.Now().Add(2 * time.Second)
	for h.Screens()[0].Behind != 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if s := h.Screens()[0]; s.Behind != 0 || s.LastWrite.IsZero() {
		t.Errorf("a reader that kept up: %+v", s)
	}
}

func TestEncode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, id, ev, data, want string
	}{
		{"single line", "1", "", "a", "id: 1\ndata: a\n\n"},
		{"lines", "2", "", "a\nb\r\nc\rd", "id: 2\ndata: a\ndata: b\ndata: c\ndata: d\n\n"},
		{"named event", "", "reload", "x", "event: reload\ndata: x\n\n"},
		{"trailing newline", "3", "", "a\n", "id: 3\ndata: a\n\n"},
	}
	for _, tt := range tests {
		if got := string(encode(tt.id, tt.ev, []byte(tt.data))); got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
	if !bytes.HasSuffix(encode("1", "", nil), []byte("\n\n")) {
		t.Error("empty frame not terminated")
	}
}
