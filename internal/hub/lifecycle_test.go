package hub

import (
	"bufio"
	"context"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// TestMain fails the package if any test leaves a goroutine behind.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// hubGoroutines returns the stacks of the running goroutines the hub
// started (every one goes through goLocked).
func hubGoroutines() []string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "created by github.com/wallboard/wallboard/internal/hub.(*Hub).goLocked") {
			out = append(out, g)
		}
	}
	return out
}

// TestConstructorsStartNothing: New and Topic start no goroutine; Start
// starts the heartbeat and the writers.
func TestConstructorsStartNothing(t *testing.T) {
	h := New(Options{Epoch: "E", Writers: 3})
	h.Topic("floor", "g", func() []byte { return []byte("full") })
	if g := hubGoroutines(); len(g) != 0 {
		t.Fatalf("New and Topic started %v", g)
	}
	h.Start()
	h.Topic("sales", "g", func() []byte { return []byte("full") }) // after Start: its writers start at once
	if g := hubGoroutines(); len(g) != 1+2*3 {
		t.Errorf("after Start: %d goroutines %v, want the heartbeat and 3 writers per topic", len(g), g)
	}
	h.Close()
	if g := hubGoroutines(); len(g) != 0 {
		t.Fatalf("Close returned with %v still running", g)
	}
	h.Start() // after Close: nothing
	if g := hubGoroutines(); len(g) != 0 {
		t.Fatalf("Start after Close started %v", g)
	}
}

// TestCloseWaitsForEveryGoroutine: with streams open — readers, and one
// that stopped reading so a drain goroutine is stuck in its write — Close
// returns only when every goroutine the hub started has returned. Not
// parallel: it counts goroutines.
func TestCloseWaitsForEveryGoroutine(t *testing.T) {
	h := New(Options{Epoch: "E", Heartbeat: 5 * time.Millisecond, WriteTimeout: time.Minute, Writers: 2})
	h.Start()
	tp := h.Topic("floor", "g", func() []byte { return []byte("full") })
	srv := serve(t, tp)

	stalledConn(t, srv.Listener.Addr().String())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var bodies []*bufio.Reader
	for range 3 {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"?since="+tp.EventID(), nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		bodies = append(bodies, bufio.NewReader(resp.Body))
	}
	waitSubscribers(t, tp, 4)
	payload := strings.Repeat("z", 64<<10)
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(strings.Join(hubGoroutines(), " "), "drain"); {
		if time.Now().After(deadline) {
			t.Fatalf("the stalled stream never needed a drain: %v", hubGoroutines())
		}
		tp.Publish([]byte(payload))
		time.Sleep(time.Millisecond)
	}
	if g := hubGoroutines(); !strings.Contains(strings.Join(g, " "), "watcher") && !strings.Contains(strings.Join(g, " "), "watchConn") {
		t.Errorf("no close watcher among %v", g)
	}

	h.Close()
	if g := hubGoroutines(); len(g) != 0 {
		t.Fatalf("Close returned with %v still running", g)
	}
	if n := tp.Subscribers(); n != 0 {
		t.Errorf("%d subscribers after Close", n)
	}
	// The readers see their streams end.
	for i, r := range bodies {
		for {
			if _, err := r.ReadString('\n'); err != nil {
				break
			}
		}
		_ = i
	}
}

// TestPublishAfterCloseKeepsTheLogShort: boards may publish while the rest
// of the program shuts down; the closed hub's log stays bounded.
func TestPublishAfterCloseKeepsTheLogShort(t *testing.T) {
	h := New(Options{Epoch: "E", MaxPending: 8, Writers: 2})
	h.Start()
	tp := h.Topic("floor", "g", func() []byte { return []byte("full") })
	h.Close()
	late := h.Topic("late", "g", func() []byte { return []byte("full") })
	for range 100 {
		tp.Publish([]byte("x"))
		late.Publish([]byte("x"))
	}
	for _, x := range []*Topic{tp, late} {
		x.mu.Lock()
		n := len(x.log)
		x.mu.Unlock()
		if n > 8 {
			t.Errorf("topic %s holds %d frames after Close, want at most MaxPending (8)", x.id, n)
		}
	}
}
