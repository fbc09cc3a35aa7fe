package hub

import (
	"bytes"
	"context"
	"net/http"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
)

// memWriter is an in-memory subscriber: it counts what it is written.
type memWriter struct {
	h http.Header
	n *atomic.Int64
}

func (w memWriter) Header() http.Header { return w.h }
func (w memWriter) WriteHeader(int)     {}
func (w memWriter) Flush()              {}
func (w memWriter) Write(b []byte) (int, error) {
	w.n.Add(int64(len(b)))
	return len(b), nil
}

// BenchmarkEncode encodes one SSE frame of a 20-card delta (~8 KB, 60 lines).
func BenchmarkEncode(b *testing.B) {
	data := bytes.Repeat([]byte(`<div id="agent-uk-ag2" class="agent s-wrap_up" data-state="wrap_up" hx-swap-oob="true">`+"\n"+`<span class="shape"></span> <span class="a-name">Aisha Khan</span>`+"\n</div>"), 20)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		_ = encode("E-g1-12345", "", data)
	}
}

// BenchmarkBroadcast publishes one 8 KB frame to N in-memory subscribers
// and waits until every subscriber has written it: the hub's whole cost per
// tick (queueing, waking, one write per subscriber). ns/frame is per
// delivered frame.
func BenchmarkBroadcast(b *testing.B) {
	for _, n := range []int{1, 100, 10000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			h := New(Options{Epoch: "E"})
			h.Start()
			defer h.Close()
			tp := h.Topic("floor", "g", func() []byte { return []byte("<div id=\"board\"></div>") })
			var written atomic.Int64
			ctx, cancel := context.WithCancel(context.Background())
			var wg sync.WaitGroup
			for range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_ = tp.Serve(ctx, memWriter{h: http.Header{}, n: &written}, tp.EventID(), Info{})
				}()
			}
			for tp.Subscribers() < n {
				runtime.Gosched()
			}
			for written.Load() < int64(n)*int64(len("retry: 1000\n\n")) {
				runtime.Gosched()
			}
			data := bytes.Repeat([]byte("<div id=\"agent-x\" hx-swap-oob=\"true\">card</div>\n"), 160)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				want := written.Load()
				tp.Publish(data)
				t := tp.EventID()
				want += int64(n) * int64(len(encode(t, "", data)))
				for written.Load() < want {
					runtime.Gosched()
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/frame")
			cancel()
			wg.Wait()
		})
	}
}
