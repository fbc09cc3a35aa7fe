package hub

import (
	"bufio"
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// frameReader reads a stream's frames (id and data) as they come.
type frameReader struct {
	ch chan [2]string
}

func readFrames(t *testing.T, ctx context.Context, url string) *frameReader {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	fr := &frameReader{ch: make(chan [2]string, 64)}
	go func() {
		defer resp.Body.Close()
		r := bufio.NewReader(resp.Body)
		var id, data string
		for {
			l, err := r.ReadString('\n')
			if err != nil {
				close(fr.ch)
				return
			}
			switch {
			case strings.HasPrefix(l, "id: "):
				id = strings.TrimSpace(l[4:])
			case strings.HasPrefix(l, "data: "):
				data += strings.TrimSuffix(l[6:], "\n")
			case l == "\n":
				if data != "" {
					fr.ch <- [2]string{id, data}
				}
				id, data = "", ""
			}
		}
	}()
	return fr
}

func (fr *frameReader) next(t *testing.T, within time.Duration) (id, data string, ok bool) {
	t.Helper()
	select {
	case f, open := <-fr.ch:
		return f[0], f[1], open
	case <-time.After(within):
		return "", "", false
	}
}

// A board whose definition changes resets its own screens, with ids of the
// new generation, and no other board's.
func TestRegenerateResetsOnlyThatTopic(t *testing.T) {
	t.Parallel()
	h := New(Options{Epoch: "E", Heartbeat: time.Hour})
	h.Start()
	defer h.Close()
	var def atomic.Value
	def.Store("old")
	a := h.Topic("a", "ga", func() []byte { return []byte("reset a") })
	b := h.Topic("b", "g1", func() []byte { return []byte("reset b " + def.Load().(string)) })
	a.Publish([]byte("a1"))
	b.Publish([]byte("b1"))

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srvB := serve(t, b)
	ra := readFrames(t, ctx, serve(t, a).URL+"?since="+a.EventID())
	rb := readFrames(t, ctx, srvB.URL+"?since="+b.EventID())
	waitSubscribers(t, a, 1)
	waitSubscribers(t, b, 1)

	tests := []struct {
		name string
		gen  string
		want []string // b's next frames
	}{
		{name: "new generation", gen: "g2", want: []string{"reset b new", "b2"}},
		{name: "same generation again changes nothing", gen: "g2", want: []string{"b2"}},
		{name: "another one", gen: "g3", want: []string{"reset b new", "b2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			def.Store("new")
			b.Regenerate(tt.gen)
			b.Publish([]byte("b2"))
			liveID := b.EventID()
			for i, want := range tt.want {
				id, data, ok := rb.next(t, 5*time.Second)
				if !ok {
					t.Fatalf("b: no frame %d within 5s", i)
				}
				if data != want {
					t.Fatalf("b's frame %d = %q, want %q", i, data, want)
				}
				if !strings.HasPrefix(id, "E-"+tt.gen+"-") {
					t.Errorf("b's id %q is not of generation %s", id, tt.gen)
				}
				if id == liveID {
					break // a reset rendered after b2 is the board as of b2
				}
			}
		})
	}
	// a's screen got nothing meanwhile: its next frame is its own delta.
	a.Publish([]byte("a2"))
	if _, data, _ := ra.next(t, 5*time.Second); data != "a2" {
		t.Fatalf("a got %q, want only its own delta a2", data)
	}
	// A page loaded under the old generation is reset when it connects.
	rOld := readFrames(t, ctx, srvB.URL+"?since=E-g1-1")
	if _, data, _ := rOld.next(t, 5*time.Second); data != "reset b new" {
		t.Errorf("a page of the old generation got %q, want a reset", data)
	}
}

func TestEndAfterEndsTheTopicsStreams(t *testing.T) {
	t.Parallel()
	h := New(Options{Epoch: "E", Heartbeat: time.Hour})
	h.Start()
	defer h.Close()
	a := h.Topic("a", "g", func() []byte { return nil })
	b := h.Topic("b", "g", func() []byte { return nil })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ra := readFrames(t, ctx, serve(t, a).URL+"?since="+a.EventID())
	readFrames(t, ctx, serve(t, b).URL+"?since="+b.EventID())
	waitSubscribers(t, a, 1)
	waitSubscribers(t, b, 1)
	a.Publish([]byte("removed"))
	a.EndAfter(10 * time.Millisecond)
	if _, data, _ := ra.next(t, 5*time.Second); data != "removed" {
		t.Errorf("a's last frame = %q, want the removal", data)
	}
	if _, _, open := ra.next(t, 5*time.Second); open {
		t.Error("a's stream did not end")
	}
	waitSubscribers(t, a, 0)
	if _, ok := h.Lookup("a"); ok {
		t.Error("the removed topic is still in the hub")
	}
	time.Sleep(50 * time.Millisecond)
	if n := b.Subscribers(); n != 1 {
		t.Errorf("b has %d subscribers, want its 1", n)
	}
	// A topic asked for again before its time (a board of that id made
	// again) is left be.
	b.EndAfter(20 * time.Millisecond)
	if h.Topic("b", "g2", nil) != b {
		t.Fatal("Topic made a second b")
	}
	time.Sleep(100 * time.Millisecond)
	if _, ok := h.Lookup("b"); !ok || b.Subscribers() != 1 {
		t.Errorf("b in the hub %v with %d subscribers, want it kept with its 1", ok, b.Subscribers())
	}
	b.Publish([]byte("still"))
	waitSubscribers(t, b, 1)
}

// A removed topic's writers stop.
func TestRemovedTopicStopsItsWriters(t *testing.T) {
	writers := func() int {
		n := 0
		for _, g := range hubGoroutines() {
			if strings.Contains(g, "(*writer).run") {
				n++
			}
		}
		return n
	}
	h := New(Options{Epoch: "E", Heartbeat: time.Hour, Writers: 3})
	h.Start()
	defer h.Close()
	before := writers()
	tp := h.Topic("gone", "g", func() []byte { return nil })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	readFrames(t, ctx, serve(t, tp).URL+"?since="+tp.EventID())
	waitSubscribers(t, tp, 1)
	if n := writers(); n != before+3 {
		t.Fatalf("%d writers with the topic, want %d", n, before+3)
	}
	tp.EndAfter(0)
	waitSubscribers(t, tp, 0)
	for deadline := time.Now().Add(5 * time.Second); writers() > before; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d writers after the topic was removed, want %d", writers(), before)
		}
	}
}
