package pulsar

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/wallboard/wallboard/internal/event"
	"github.com/wallboard/wallboard/internal/source"
	"github.com/wallboard/wallboard/internal/store"
	"github.com/wallboard/wallboard/internal/vendorsim"
)

// batchSink records the batches a source hands on (cursor and ticket), as
// the model's loop receives them.
type batchSink struct {
	*sink
	mu      sync.Mutex
	batches []event.Batch
}

func newBatchSink() *batchSink { return &batchSink{sink: newSink()} }

func (b *batchSink) PublishBatch(ctx context.Context, bt event.Batch) error {
	b.mu.Lock()
	bt.Events = append([]event.Event(nil), bt.Events...)
	b.batches = append(b.batches, bt)
	b.mu.Unlock()
	return b.sink.Publish(ctx, bt.Events...)
}

func (b *batchSink) last() event.Batch {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.batches) == 0 {
		return event.Batch{}
	}
	return b.batches[len(b.batches)-1]
}

func superviseDurable(t *testing.T, src *Source, name string, sk *batchSink, d *source.Durable) *runner {
	t.Helper()
	rep := source.NewReporter(name, Type, sk, nil)
	rep.SetDurable(d)
	ctx, cancel := context.WithCancel(context.Background())
	r := &runner{src: src, rep: rep, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		source.Supervise(ctx, src, rep, source.Backoff{Min: 20 * time.Millisecond, Max: 100 * time.Millisecond})
	}()
	t.Cleanup(r.stop)
	return r
}

// TestConsumerAcksOnlyDurable: with a journal, a consumer acknowledges a
// message only once the journal reports its batch durable, so a crash
// before that gets the message redelivered.
func TestConsumerAcksOnlyDurable(t *testing.T) {
	t.Parallel()
	sim := newSim(11)
	srv := newServer(t, sim, vendorsim.PulsarOptions{})
	cfg := srv.SourceConfig("c")
	opts(cfg).Mode, opts(cfg).Subscription, opts(cfg).SubscriptionType = "consumer", "wallboard", "Failover"
	opts(cfg).InitialPosition = "earliest"
	src, err := New(cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	d := source.NewDurable()
	sk := newBatchSink()
	r := superviseDurable(t, src, "c", sk, d)
	step(t, sim, srv, 0, 20)
	logged, _ := srv.Logged()
	waitFor(t, sk.sink, "every message", func() bool { return r.rep.Stats().Messages == int64(len(logged)) })
	time.Sleep(100 * time.Millisecond) // an early ack would arrive now
	if got := srv.Acks(); got != 0 {
		t.Fatalf("%d acks before anything was durable", got)
	}
	if b := sk.last(); b.Cursor != "" || b.Ticket == 0 {
		t.Fatalf("a consumer's batch: cursor %q ticket %d (want no cursor, a ticket)", b.Cursor, b.Ticket)
	}
	d.Advance(sk.last().Ticket)
	waitFor(t, nil, "acks after the commit", func() bool { return srv.Acks() == int64(len(logged)) })

	// More messages, never durable: the process dies (the session ends
	// without acks); a new process gets them again.
	step(t, sim, srv, 20, 40)
	all, _ := srv.Logged()
	waitFor(t, sk.sink, "the second part", func() bool { return r.rep.Stats().Messages == int64(len(all)) })
	r.stop()
	if got := srv.Acks(); got != int64(len(logged)) {
		t.Fatalf("acks %d after the second part, want still %d", got, len(logged))
	}
	src2, _ := New(cfg, nil, nil)
	sk2 := newBatchSink()
	r2 := superviseDurable(t, src2, "c", sk2, source.NewDurable())
	waitFor(t, sk2.sink, "redelivery", func() bool { return r2.rep.Stats().Messages >= int64(len(all)-len(logged)) })
	time.Sleep(50 * time.Millisecond)
	if got := r2.rep.Stats().Messages; got != int64(len(all)-len(logged)) {
		t.Errorf("the restarted consumer got %d messages, want the %d never acknowledged", got, len(all)-len(logged))
	}
}

// TestReaderResumesFromJournalCursor: a reader's batches carry its cursor
// (the last message id of the batch); Resume starts there, and no cursor
// file is written beside the journal.
func TestReaderResumesFromJournalCursor(t *testing.T) {
	t.Parallel()
	sim := newSim(12)
	srv := newServer(t, sim, vendorsim.PulsarOptions{})
	cfg := srv.SourceConfig("r")
	opts(cfg).InitialPosition = "earliest"
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	src, _ := New(cfg, st, nil)
	src.Resume("")
	sk := newBatchSink()
	r := superviseDurable(t, src, "r", sk, source.NewDurable())
	step(t, sim, srv, 0, 20)
	first, _ := srv.Logged()
	waitFor(t, sk.sink, "first part", func() bool { return r.rep.Stats().Messages == int64(len(first)) })
	r.stop()
	cursor := sk.last().Cursor
	if cursor != first[len(first)-1] {
		t.Fatalf("the last batch's cursor %q, want the last message id %q", cursor, first[len(first)-1])
	}
	if _, err := st.Get(src.key); err == nil {
		t.Error("a cursor file was written beside the journal")
	}

	step(t, sim, srv, 20, 40)
	all, _ := srv.Logged()
	src2, _ := New(cfg, st, nil)
	src2.Resume(cursor)
	sk2 := newBatchSink()
	r2 := superviseDurable(t, src2, "r", sk2, source.NewDurable())
	waitFor(t, sk2.sink, "the rest", func() bool { return r2.rep.Stats().Messages >= int64(len(all)-len(first)) })
	time.Sleep(50 * time.Millisecond)
	if got := r2.rep.Stats().Messages; got != int64(len(all)-len(first)) {
		t.Errorf("resumed reader got %d messages, want %d", got, len(all)-len(first))
	}
}
