package journal

import (
	"strconv"
	"testing"
	"time"

	"github.com/wallboard/wallboard/internal/event"
)

// BenchmarkAppend appends batches of 100 agent state changes shaped like
// 8x8's (id, time, agent, state, reason, send time): ns/op is what the
// model's goroutine pays per event. The commit every 10 batches (one write
// and one fsync, on the committer's goroutine in wallboard) is not timed.
func BenchmarkAppend(b *testing.B) {
	j, err := Open(b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	j.Replay(0, func(Pos, *event.Batch) error { return nil })
	defer j.Close()
	at := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	batch := event.Batch{Source: "load", Cursor: "CAEQAA==", Events: make([]event.Event, 100)}
	for i := range batch.Events {
		batch.Events[i] = event.Event{Kind: event.AgentState, Source: "load", ID: "sapi-v1:" + strconv.Itoa(100000+i),
			At: at, Agent: "ag" + strconv.Itoa(i), State: event.StateNotReady, Reason: "801=" + strconv.Itoa(i)}
	}
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		if n%len(batch.Events) == 0 {
			batch.Ticket++
			if _, err := j.Append(&batch); err != nil {
				b.Fatal(err)
			}
			if batch.Ticket%10 == 0 {
				b.StopTimer()
				if err := j.Commit(); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
		}
		n++
	}
}

// BenchmarkEncode is AppendBatch alone, per event.
func BenchmarkEncode(b *testing.B) {
	at := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	batch := event.Batch{Source: "load", Cursor: "CAEQAA==", Events: make([]event.Event, 100)}
	for i := range batch.Events {
		batch.Events[i] = event.Event{Kind: event.AgentState, Source: "load", ID: "sapi-v1:" + strconv.Itoa(100000+i),
			At: at, Agent: "ag" + strconv.Itoa(i), State: event.StateNotReady, Reason: "801=" + strconv.Itoa(i)}
	}
	var buf []byte
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		if n%len(batch.Events) == 0 {
			buf = AppendBatch(buf[:0], &batch)
		}
		n++
	}
	b.ReportMetric(float64(len(buf))/float64(len(batch.Events)), "bytes/event")
}
