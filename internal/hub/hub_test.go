package hub

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
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
	h.Start()
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
	h.Start()
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
			liveID := tp.EventID()
			e := next(t, ch)
			if tt.wantReset {
				if string(e.Data) != `<div id="board">full</div>` {
					t.Fatalf("first event = %q, want the full board", e.Data)
				}
				if string(e.ID) == liveID {
					// Rendered after the delta was published: the reset
					// already is the board as of it.
					cancel()
					waitSubscribers(t, tp, 0)
					return
				}
				e = next(t, ch)
			}
			if string(e.Data) != "live" || string(e.ID) != liveID {
				t.Errorf("then %s %q, want the live delta %s", e.ID, e.Data, liveID)
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
	h.Start()
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
	for deadline := time.Now().Add(5 * time.Second); h.Stats().Cut < 1; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("stalled subscriber was not cut from the fast path: %+v", h.Stats())
		}
	}
}

func TestLaggingSubscriberGetsResetWhenItReadsAgain(t *testing.T) {
	t.Parallel()
	h := New(Options{Epoch: "E", MaxPending: 4, WriteTimeout: time.Minute})
	h.Start()
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
	// The writer counts the cut when it finds the subscriber behind the log.
	for deadline := time.Now().Add(5 * time.Second); h.Stats().Cut < 1; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("cut = %d, want at least 1", h.Stats().Cut)
		}
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
	h.Start()
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
	h.Start()
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

// rawClient opens a stream with a plain socket and returns a reader over it
// (past the response head).
func rawClient(t *testing.T, addr, since string, rcvbuf int) (net.Conn, *bufio.Reader) {
	t.Helper()
	d := net.Dialer{}
	if rcvbuf > 0 {
		d.Control = func(_, _ string, c syscall.RawConn) error {
			return c.Control(func(fd uintptr) { _ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, rcvbuf) })
		}
	}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	fmt.Fprintf(conn, "GET /?since=%s HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n", since)
	r := bufio.NewReader(conn)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("read head: %v", err)
		}
		if line == "\r\n" {
			return conn, r
		}
	}
}

// readData returns the data of the next frame with an id (skipping the
// retry hint and heartbeats), and its id.
func readData(r *bufio.Reader) (id, data string, err error) {
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return "", "", err
		}
		switch {
		case strings.HasPrefix(line, "id: "):
			id = strings.TrimSuffix(line[4:], "\n")
		case strings.HasPrefix(line, "data: "):
			data += strings.TrimSuffix(line[6:], "\n")
		case line == "\n" && id != "":
			return id, data, nil
		case line == "\n":
			data = ""
		}
	}
}

// Frames published faster than the writers go round (a log of 4 frames,
// 200 published at once): every subscriber lags together, so nobody is cut;
// each gets every frame, merged into fewer writes.
func TestManyRawSubscribersGetEveryFrameInOrder(t *testing.T) {
	t.Parallel()
	h := New(Options{Epoch: "E", Writers: 3, MaxPending: 4})
	h.Start()
	defer h.Close()
	tp := h.Topic("floor", "g", func() []byte { return []byte("full") })
	srv := serve(t, tp)
	const subs, frames = 60, 200
	readers := make([]*bufio.Reader, subs)
	for i := range readers {
		_, readers[i] = rawClient(t, srv.Listener.Addr().String(), tp.EventID(), 0)
	}
	waitSubscribers(t, tp, subs)
	for i := 1; i <= frames; i++ {
		tp.Publish([]byte(fmt.Sprintf("frame %d", i)))
	}
	errs := make(chan error, subs)
	for _, r := range readers {
		go func() {
			for i := 1; i <= frames; i++ {
				id, data, err := readData(r)
				if err != nil {
					errs <- err
					return
				}
				if want := fmt.Sprintf("frame %d", i); data != want || id != fmt.Sprintf("E-g-%d", i) {
					errs <- fmt.Errorf("got %s %q, want E-g-%d %q", id, data, i, want)
					return
				}
			}
			errs <- nil
		}()
	}
	for range subs {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if s := h.Stats(); s.Cut != 0 || s.Timeouts != 0 {
		t.Errorf("nobody lagged, yet %+v", s)
	}
}

// A reader slower than the publisher, but steady, gets every frame through
// partial writes finished by drain, and is neither cut nor timed out.
func TestSlowReaderGetsEveryFrame(t *testing.T) {
	t.Parallel()
	h := New(Options{Epoch: "E", WriteTimeout: 2 * time.Second, MaxPending: 64})
	h.Start()
	defer h.Close()
	tp := h.Topic("floor", "g", func() []byte { return []byte("full") })
	srv := serve(t, tp)
	_, r := rawClient(t, srv.Listener.Addr().String(), tp.EventID(), 4096)
	waitSubscribers(t, tp, 1)
	payload := strings.Repeat("z", 32<<10) // larger than what the sockets hold between us
	const frames = 40
	go func() {
		for i := 1; i <= frames; i++ {
			tp.Publish([]byte(fmt.Sprintf("%d %s", i, payload)))
			time.Sleep(5 * time.Millisecond)
		}
	}()
	for i := 1; i <= frames; i++ {
		time.Sleep(2 * time.Millisecond) // slower than the publisher
		_, data, err := readData(r)
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if got := strings.SplitN(data, " ", 2)[0]; got != fmt.Sprint(i) {
			t.Fatalf("got frame %s, want %d", got, i)
		}
	}
	if s := h.Stats(); s.Cut != 0 || s.Timeouts != 0 {
		t.Errorf("a steady slow reader was cut or timed out: %+v", s)
	}
}

// A client that takes nothing for WriteTimeout is disconnected and
// counted; the others go on.
func TestStalledSubscriberIsDisconnectedAndCounted(t *testing.T) {
	t.Parallel()
	h := New(Options{Epoch: "E", WriteTimeout: 300 * time.Millisecond})
	h.Start()
	defer h.Close()
	tp := h.Topic("floor", "g", func() []byte { return []byte("full") })
	srv := serve(t, tp)
	stalledConn(t, srv.Listener.Addr().String())
	_, fast := rawClient(t, srv.Listener.Addr().String(), tp.EventID(), 0)
	waitSubscribers(t, tp, 2)
	payload := strings.Repeat("s", 64<<10)
	deadline := time.Now().Add(10 * time.Second)
	for i := 1; h.Stats().Timeouts < 1; i++ {
		if time.Now().After(deadline) {
			t.Fatalf("the stalled subscriber was never timed out: %+v", h.Stats())
		}
		tp.Publish([]byte(fmt.Sprintf("%d %s", i, payload)))
		if _, data, err := readData(fast); err != nil || !strings.HasPrefix(data, fmt.Sprint(i)+" ") {
			t.Fatalf("fast subscriber: frame %d: %v %.10q", i, err, data)
		}
		time.Sleep(20 * time.Millisecond)
	}
	waitSubscribers(t, tp, 1)
}

// An idle raw stream holds no goroutine: thousands of TVs cost memory for
// their sockets only.
func TestIdleRawSubscribersHoldNoGoroutine(t *testing.T) {
	h := New(Options{Epoch: "E", Writers: 2})
	h.Start()
	defer h.Close()
	tp := h.Topic("floor", "g", func() []byte { return []byte("full") })
	srv := serve(t, tp)
	_, r := rawClient(t, srv.Listener.Addr().String(), tp.EventID(), 0) // starts the watcher
	waitSubscribers(t, tp, 1)
	time.Sleep(50 * time.Millisecond)
	before := runtime.NumGoroutine()
	const subs = 100
	for range subs {
		rawClient(t, srv.Listener.Addr().String(), tp.EventID(), 0)
	}
	waitSubscribers(t, tp, subs+1)
	time.Sleep(50 * time.Millisecond) // let handler goroutines end
	if grew := runtime.NumGoroutine() - before; grew > 10 {
		t.Errorf("%d idle streams added %d goroutines, want none per stream", subs, grew)
	}
	tp.Publish([]byte("still alive"))
	if _, data, err := readData(r); err != nil || data != "still alive" {
		t.Errorf("after: %q %v", data, err)
	}
}

// flushOnly hides everything of a ResponseWriter but Write and Flush, as an
// HTTP/2 or wrapped writer that cannot be hijacked.
type flushOnly struct {
	http.ResponseWriter
	http.Flusher
}

// Streams the hub cannot write as plain TCP (TLS, HTTP/2, wrapped writers)
// are served by their own goroutine with blocking writes: same frames, same
// resets, gone when the client goes.
func TestBlockingStreams(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		srv  func(http.Handler) *httptest.Server
		wrap func(http.ResponseWriter) http.ResponseWriter
	}{
		{"tls", httptest.NewTLSServer, func(w http.ResponseWriter) http.ResponseWriter { return w }},
		{"not hijackable", httptest.NewServer, func(w http.ResponseWriter) http.ResponseWriter {
			return flushOnly{w, w.(http.Flusher)}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := New(Options{Epoch: "E"})
			h.Start()
			defer h.Close()
			tp := h.Topic("floor", "g", func() []byte { return []byte("full") })
			tp.Publish([]byte("before"))
			srv := tt.srv(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_ = tp.Serve(r.Context(), tt.wrap(w), r.Header.Get("Last-Event-ID"), Info{Remote: r.RemoteAddr})
			}))
			defer srv.Close()
			req, _ := http.NewRequest("GET", srv.URL, nil)
			req.Header.Set("Last-Event-ID", "E-g-0") // older: a reset first
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			r := bufio.NewReader(resp.Body)
			// The retry hint once, then the reset at the current id.
			for _, want := range []string{"retry: 1000\n", "\n", "id: E-g-1\n", "data: full\n", "\n"} {
				if line, err := r.ReadString('\n'); err != nil || line != want {
					t.Fatalf("stream has %q %v, want %q", line, err, want)
				}
			}
			waitSubscribers(t, tp, 1)
			for i := 2; i <= 20; i++ {
				tp.Publish([]byte(fmt.Sprint("frame ", i)))
			}
			for i := 2; i <= 20; i++ {
				if id, data, err := readData(r); err != nil || id != fmt.Sprint("E-g-", i) || data != fmt.Sprint("frame ", i) {
					t.Fatalf("frame %d: %s %q %v", i, id, data, err)
				}
			}
			resp.Body.Close()
			srv.CloseClientConnections()
			waitSubscribers(t, tp, 0)
		})
	}
}

// A server with its own read and write timeouts does not end a stream:
// the hub clears them on the hijacked connection.
func TestStreamOutlivesServerTimeouts(t *testing.T) {
	t.Parallel()
	h := New(Options{Epoch: "E"})
	h.Start()
	defer h.Close()
	tp := h.Topic("floor", "g", func() []byte { return []byte("full") })
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = tp.Serve(r.Context(), w, r.URL.Query().Get("since"), Info{})
	}))
	srv.Config.ReadTimeout, srv.Config.WriteTimeout = 100*time.Millisecond, 100*time.Millisecond
	srv.Start()
	defer srv.Close()
	_, r := rawClient(t, srv.Listener.Addr().String(), tp.EventID(), 0)
	waitSubscribers(t, tp, 1)
	time.Sleep(300 * time.Millisecond)
	tp.Publish([]byte("later"))
	if _, data, err := readData(r); err != nil || data != "later" {
		t.Fatalf("after the server's timeouts: %q %v", data, err)
	}
	if n := tp.Subscribers(); n != 1 {
		t.Errorf("subscribers = %d, want 1", n)
	}
}

// Info.Bind gets a function that ends the stream, on every kind of
// stream; the unbind it returns runs once when the stream ends.
func TestBindEndsTheStream(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		srv  func(http.Handler) *httptest.Server
		wrap func(http.ResponseWriter) http.ResponseWriter
	}{
		{"hijacked", httptest.NewServer, func(w http.ResponseWriter) http.ResponseWriter { return w }},
		{"tls", httptest.NewTLSServer, func(w http.ResponseWriter) http.ResponseWriter { return w }},
		{"not hijackable", httptest.NewServer, func(w http.ResponseWriter) http.ResponseWriter {
			return flushOnly{w, w.(http.Flusher)}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := New(Options{Epoch: "E"})
			defer h.Close()
			tp := h.Topic("floor", "g", func() []byte { return []byte("full") })
			ends := make(chan func(), 1)
			var unbound atomic.Int32
			bind := func(end func()) func() {
				ends <- end
				return func() { unbound.Add(1) }
			}
			srv := tt.srv(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_ = tp.Serve(r.Context(), tt.wrap(w), "", Info{Remote: r.RemoteAddr, Bind: bind})
			}))
			defer srv.Close()
			resp, err := srv.Client().Get(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var end func()
			select {
			case end = <-ends:
			case <-time.After(5 * time.Second):
				t.Fatal("Bind not called")
			}
			waitSubscribers(t, tp, 1)
			end()
			end() // twice is harmless
			done := make(chan error, 1)
			go func() { _, err := io.Copy(io.Discard, resp.Body); done <- err }()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("stream still open after end")
			}
			waitSubscribers(t, tp, 0)
			deadline := time.Now().Add(5 * time.Second)
			for unbound.Load() == 0 && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond) // drop unbinds after it unregisters
			}
			if n := unbound.Load(); n != 1 {
				t.Errorf("unbind called %d times", n)
			}
		})
	}
}
