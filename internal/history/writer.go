// Package history keeps the model's history intervals: a Writer takes the
// intervals the model closes (on the model's goroutine, without waiting)
// and writes them to the database on a goroutine of its own, and deletes
// those older than the retention. The database is never on the path of an
// event to a screen: a slow or failing database only fills the writer's
// bounded queue.
package history

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wallboard/wallboard/internal/database"
	"github.com/wallboard/wallboard/internal/model"
)

// Store is where intervals go (a *database.DB).
type Store interface {
	SaveIntervals(ctx context.Context, queues []database.QueueInterval, agents []database.AgentInterval) error
	DeleteIntervalsBefore(ctx context.Context, t time.Time) (int64, error)
}

// Options configure a Writer.
type Options struct {
	Store Store
	// Retention: intervals that start longer ago are deleted (history_days);
	// 0 keeps everything.
	Retention time.Duration
	// Queue is how many closed intervals may wait to be written; default 256
	// (more than two days of 15-minute intervals). Beyond it new ones are
	// dropped and counted.
	Queue  int
	Logger *slog.Logger
	Now    func() time.Time
	// RetryMin and RetryMax bound the wait between attempts at a failing
	// write; default 1 s and 30 s.
	RetryMin, RetryMax time.Duration
	// StopTimeout bounds the time Run spends writing what is queued after
	// its context ends; default 5 s.
	StopTimeout time.Duration
}

// attemptTimeout bounds one attempt at a write.
const attemptTimeout = 30 * time.Second

// Stats are a Writer's counters.
type Stats struct {
	Written int64  // intervals (sets) written
	Dropped int64  // sets dropped because the queue was full, or still queued at stop
	Failed  int64  // failed write attempts
	Deleted int64  // rows deleted by retention
	Queued  int    // sets waiting now
	LastErr string // the last write error, "" after a success
}

// Writer writes closed intervals. Use New, then Run on a goroutine of the
// caller's; Enqueue from the model's loop.
type Writer struct {
	o    Options
	in   chan model.IntervalSet
	log  *slog.Logger
	done chan struct{}

	written, dropped, failed, deleted atomic.Int64
	mu                                sync.Mutex
	lastErr                           string
	dropLogged                        bool
}

// New returns a writer. It starts nothing: call Run.
func New(o Options) *Writer {
	if o.Queue <= 0 {
		o.Queue = 256
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.RetryMin <= 0 {
		o.RetryMin = time.Second
	}
	if o.RetryMax < o.RetryMin {
		o.RetryMax = max(30*time.Second, o.RetryMin)
	}
	if o.StopTimeout <= 0 {
		o.StopTimeout = 5 * time.Second
	}
	return &Writer{o: o, in: make(chan model.IntervalSet, o.Queue), log: o.Logger, done: make(chan struct{})}
}

// Enqueue hands a closed interval to the writer without waiting: when the
// queue is full the set is dropped, counted and logged (once per run of
// drops). It implements model.LoopOptions.Intervals.
func (w *Writer) Enqueue(s model.IntervalSet) {
	select {
	case w.in <- s:
		return
	default:
	}
	w.dropped.Add(1)
	w.mu.Lock()
	first := !w.dropLogged
	w.dropLogged = true
	w.mu.Unlock()
	if first {
		w.log.Error("history interval dropped: the database writer is behind (is the database reachable?)",
			"start", s.Start, "queued", len(w.in))
	}
}

// Stats returns the writer's counters.
func (w *Writer) Stats() Stats {
	w.mu.Lock()
	defer w.mu.Unlock()
	return Stats{Written: w.written.Load(), Dropped: w.dropped.Load(), Failed: w.failed.Load(), Deleted: w.deleted.Load(),
		Queued: len(w.in), LastErr: w.lastErr}
}

// Done is closed when Run has returned.
func (w *Writer) Done() <-chan struct{} { return w.done }

// Run writes intervals until ctx ends, then writes what is queued (within
// StopTimeout) and returns. It deletes old intervals at start and hourly.
func (w *Writer) Run(ctx context.Context) {
	defer close(w.done)
	w.retain(ctx)
	retention := time.NewTicker(time.Hour)
	defer retention.Stop()
	for {
		select {
		case <-ctx.Done():
			w.flush(nil)
			return
		case s := <-w.in:
			if !w.write(ctx, context.Background(), s) {
				w.flush(&s) // stopped while retrying s: it goes first
				return
			}
		case <-retention.C:
			w.retain(ctx)
		}
	}
}

// flush writes first (when not nil) and what is queued after Run's context
// ended, within StopTimeout.
func (w *Writer) flush(first *model.IntervalSet) {
	ctx, cancel := context.WithTimeout(context.Background(), w.o.StopTimeout)
	defer cancel()
	for {
		var s model.IntervalSet
		if first != nil {
			s, first = *first, nil
		} else {
			select {
			case s = <-w.in:
			default:
				return
			}
		}
		if !w.write(ctx, ctx, s) {
			n := int64(1 + len(w.in))
			w.dropped.Add(n)
			w.log.Error("history intervals not written at stop", "sets", n, "error", w.Stats().LastErr)
			return
		}
	}
}

// write writes one set, retrying with backoff until it succeeds or ctx
// ends; it reports whether the set was written. Each attempt runs under
// attempts (within attemptTimeout), so one under way when ctx ends is not
// cut short.
func (w *Writer) write(ctx, attempts context.Context, s model.IntervalSet) bool {
	queues, agents := Rows(s)
	wait := w.o.RetryMin
	for {
		actx, cancel := context.WithTimeout(attempts, attemptTimeout)
		err := w.o.Store.SaveIntervals(actx, queues, agents)
		cancel()
		if err == nil {
			w.written.Add(1)
			w.mu.Lock()
			if w.lastErr != "" {
				w.log.Info("history intervals written again", "start", s.Start)
			}
			w.lastErr, w.dropLogged = "", false
			w.mu.Unlock()
			return true
		}
		w.failed.Add(1)
		w.mu.Lock()
		first := w.lastErr == ""
		w.lastErr = err.Error()
		w.mu.Unlock()
		if first {
			w.log.Error("failed to write history intervals: retrying", "start", s.Start, "error", err)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return false
		case <-t.C:
		}
		wait = min(wait*2, w.o.RetryMax)
	}
}

func (w *Writer) retain(ctx context.Context) {
	if w.o.Retention <= 0 {
		return
	}
	n, err := w.o.Store.DeleteIntervalsBefore(ctx, w.o.Now().Add(-w.o.Retention))
	if err != nil {
		if ctx.Err() == nil {
			w.log.Error("failed to delete old history intervals", "error", err)
		}
		return
	}
	w.deleted.Add(n)
	if n > 0 {
		w.log.Info("old history intervals deleted", "rows", n)
	}
}

// Rows converts a closed interval to database rows.
func Rows(s model.IntervalSet) ([]database.QueueInterval, []database.AgentInterval) {
	queues := make([]database.QueueInterval, len(s.Queues))
	for i, q := range s.Queues {
		queues[i] = QueueRow(q)
	}
	agents := make([]database.AgentInterval, len(s.Agents))
	for i, a := range s.Agents {
		agents[i] = database.AgentInterval{Source: a.Source, Agent: a.ID, Start: a.Start, End: a.End, Available: a.Available,
			Offered: a.Offered, Busy: a.Busy, WrapUp: a.WrapUp, NotReady: a.NotReady, Complete: a.Complete}
	}
	return queues, agents
}

// QueueRow converts one queue's interval to its database row.
func QueueRow(q model.QueueInterval) database.QueueInterval {
	return database.QueueInterval{Source: q.Source, Queue: q.ID, Start: q.Start.UTC(), End: q.End.UTC(), Offered: q.Offered,
		Answered: q.Answered, AnsweredInSL: q.AnsweredInSL, Abandoned: q.Abandoned, ShortAbandoned: q.ShortAbandoned,
		Handled: q.Handled, HandleTotal: q.HandleTotal, MaxWait: q.MaxWait, WaitingPeak: q.WaitingPeak, WaitingAvg: q.WaitingAvg,
		Complete: q.Complete}
}
