package alert

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/wallboard/wallboard/internal/config"
	"github.com/wallboard/wallboard/internal/model"
)

var t0 = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

// receiver is a webhook endpoint that fails the first `fail` requests and
// hands every body it accepts to got.
type receiver struct {
	mu     sync.Mutex
	fail   int
	tries  int
	header http.Header
	got    chan Notification
}

func newReceiver(t *testing.T, fail int) (*receiver, *httptest.Server) {
	r := &receiver{fail: fail, got: make(chan Notification, 16)}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.tries++
		failing := r.tries <= r.fail
		r.header = req.Header.Clone()
		r.mu.Unlock()
		if failing {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		b, _ := io.ReadAll(req.Body)
		var n Notification
		if err := json.Unmarshal(b, &n); err != nil || req.Header.Get("Content-Type") != "application/json" {
			t.Errorf("bad body %q: %v", b, err)
		}
		r.got <- n
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(ts.Close)
	return r, ts
}

func next(t *testing.T, r *receiver) Notification {
	t.Helper()
	select {
	case n := <-r.got:
		return n
	case <-time.After(5 * time.Second):
		t.Fatal("no notification within 5s")
		return Notification{}
	}
}

// TestMain fails the package if any test leaves a goroutine behind.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// start runs a notifier until the test ends, and waits for its Run to
// return then.
func start(t *testing.T, o Options) *Notifier {
	n := New(o)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); n.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return n
}

var th = config.Thresholds{
	Waiting:      config.Levels[int]{Alarm: 3},
	LongestWait:  config.Levels[config.Duration]{Alarm: config.Duration(time.Minute)},
	ServiceLevel: config.Levels[float64]{Alarm: 0.6},
}

func queue(waiting int, oldest time.Time, answered, inSL, abandoned int) model.Queue {
	return model.Queue{Key: model.Key{Source: "s", ID: "q1"}, Name: "Sales", Waiting: waiting, OldestWaiting: oldest,
		Answered: answered, AnsweredInSL: inSL, Abandoned: abandoned, Settings: model.QueueSettings{SLThreshold: 20 * time.Second}}
}

func TestAlarmStartsAndClearsOnce(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		alarm string
		on    model.Queue
		off   model.Queue
		value float64
	}{
		{"waiting", Waiting, queue(4, t0, 0, 0, 0), queue(1, t0, 0, 0, 0), 4},
		{"longest wait", LongestWait, queue(1, t0.Add(-90*time.Second), 0, 0, 0), queue(0, time.Time{}, 0, 0, 0), 90},
		{"service level", ServiceLevel, queue(0, time.Time{}, 10, 5, 0), queue(0, time.Time{}, 10, 7, 0), 0.5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, ts := newReceiver(t, 0)
			w := NewWatcher(start(t, Options{URL: ts.URL, Headers: map[string]string{"Authorization": "Bearer x"}}))
			b := func(q model.Queue) []BoardQueues {
				return []BoardQueues{{Board: "floor", Thresholds: th, Queues: []model.Queue{q}}}
			}
			w.Check(b(tt.on), t0)
			w.Check(b(tt.on), t0.Add(time.Second)) // still on: nothing more
			w.Check(b(tt.on), t0.Add(2*time.Second))
			got := next(t, r)
			if got.Event != Started || got.Alarm != tt.alarm || got.Board != "floor" || got.Queue.Name != "Sales" || got.Value != tt.value {
				t.Errorf("start = %+v", got)
			}
			w.Check(b(tt.off), t0.Add(3*time.Second))
			got = next(t, r)
			if got.Event != Cleared || got.Alarm != tt.alarm || !got.At.Equal(t0.Add(3*time.Second)) {
				t.Errorf("clear = %+v", got)
			}
			w.Check(b(tt.off), t0.Add(4*time.Second))
			select {
			case n := <-r.got:
				t.Errorf("unexpected %+v", n)
			case <-time.After(50 * time.Millisecond): // nothing else is due; give a stray one time to show
			}
			r.mu.Lock()
			defer r.mu.Unlock()
			if r.header.Get("Authorization") != "Bearer x" {
				t.Errorf("headers = %v", r.header)
			}
		})
	}
}

func TestRetriesWithBackoff(t *testing.T) {
	t.Parallel()
	r, ts := newReceiver(t, 2)
	n := start(t, Options{URL: ts.URL, MinBackoff: 10 * time.Millisecond, MaxBackoff: 20 * time.Millisecond})
	begin := time.Now()
	n.Notify(Notification{Event: Started, Alarm: Waiting})
	got := next(t, r)
	if got.Alarm != Waiting {
		t.Errorf("got %+v", got)
	}
	if d := time.Since(begin); d < 30*time.Millisecond { // waited 10ms, then 20ms
		t.Errorf("three attempts within %s: no backoff", d)
	}
	r.mu.Lock()
	tries := r.tries
	r.mu.Unlock()
	if tries != 3 {
		t.Errorf("%d attempts, want 3", tries)
	}
	waitStats(t, n, Stats{Sent: 1})
}

func TestGivesUpAfterAttempts(t *testing.T) {
	t.Parallel()
	r, ts := newReceiver(t, 100)
	n := start(t, Options{URL: ts.URL, Attempts: 3, MinBackoff: time.Millisecond})
	n.Notify(Notification{Event: Started})
	waitStats(t, n, Stats{Failed: 1})
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.tries != 3 {
		t.Errorf("%d attempts, want 3", r.tries)
	}
}

// Notify never blocks: with the sender stuck, a full queue drops and counts.
func TestNotifyNeverBlocks(t *testing.T) {
	t.Parallel()
	n := New(Options{URL: "http://127.0.0.1:1", Queue: 2}) // not running
	for i := 0; i < 5; i++ {
		n.Notify(Notification{})
	}
	if s := n.Stats(); s.Dropped != 3 {
		t.Errorf("stats = %+v, want 3 dropped", s)
	}
}

func waitStats(t *testing.T, n *Notifier, want Stats) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for n.Stats() != want {
		if time.Now().After(deadline) {
			t.Fatalf("stats = %+v, want %+v", n.Stats(), want)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestRunUntilCancelled: the watcher checks the boards every interval and
// the notifier posts what it finds; both return when their context ends,
// the notifier in the middle of its backoff too.
func TestRunUntilCancelled(t *testing.T) {
	t.Parallel()
	r, ts := newReceiver(t, 1) // the first post fails: the notifier waits to retry
	n := New(Options{URL: ts.URL, MinBackoff: time.Hour})
	w := NewWatcher(n)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); n.Run(ctx) }()
	checks := make(chan struct{}, 16)
	go func() {
		defer wg.Done()
		w.Run(ctx, time.Millisecond, func() []BoardQueues {
			select {
			case checks <- struct{}{}:
			default:
			}
			return []BoardQueues{{Board: "floor", Thresholds: th, Queues: []model.Queue{queue(4, time.Time{}, 0, 0, 0)}}}
		})
	}()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		r.mu.Lock()
		tries := r.tries
		r.mu.Unlock()
		if tries == 1 && len(checks) > 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d posts and %d checks within 5s, want 1 post and more than one check", tries, len(checks))
		}
	}
	cancel()
	stopped := make(chan struct{})
	go func() { wg.Wait(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return within 5s of the context's end")
	}
	if st := n.Stats(); st.Sent != 0 || st.Failed != 1 {
		t.Errorf("stats %+v, want the notification given up when the context ended", st)
	}
}
