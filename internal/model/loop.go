package model

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/wallboard/wallboard/internal/event"
	"github.com/wallboard/wallboard/internal/journal"
)

// ErrStopped is returned by Loop methods after the loop has ended.
var ErrStopped = errors.New("model loop stopped")

// Loop owns a Model: it applies events from every source on one goroutine,
// and on every flush tick hands the boards one Delta of what changed. Nothing
// is handed on when nothing changed.
type Loop struct {
	m     *Model
	in    chan event.Batch
	reqs  chan func(*Model)
	out   chan Delta
	flush time.Duration
	now   func() time.Time
	log   *slog.Logger
	done  chan struct{}

	// OnApply, when set, is called after each batch with the number of
	// events and how long applying them took (metrics).
	OnApply func(n int, d time.Duration)

	onIntervals func(IntervalSet)

	// The journal: every batch applied is appended to it first (see
	// Loop.journal); pos is the last position appended and cursors each
	// source's cursor as of pos. Only the loop's goroutine touches them.
	j        Journal
	pos      journal.Pos
	cursors  map[string]string
	jfail    bool // the last append failed (logged once per failure run)
	filtered []event.Event
}

// Journal is what the loop appends every batch to before applying it
// (package journal). Append must not wait for the disk.
type Journal interface {
	Append(b *event.Batch) (journal.Pos, error)
}

// LoopOptions configure a Loop.
type LoopOptions struct {
	Flush  time.Duration // coalescing tick; default 100ms
	Inbox  int           // events buffered before sources wait; default 4096 batches
	Now    func() time.Time
	Logger *slog.Logger

	// Journal, when set, receives every batch before it is applied;
	// Position and Cursors are where the restored model stands in it
	// (the snapshot's position and cursors, and what was replayed after).
	Journal  Journal
	Position journal.Pos
	Cursors  map[string]string

	// Intervals, when set, receives every history interval the model
	// closes, on the loop's goroutine: it must not block (hand the set to a
	// bounded queue; see package history). Without it closed intervals are
	// dropped.
	Intervals func(IntervalSet)
}

// NewLoop returns a loop around m. Call Run to start it.
func NewLoop(m *Model, o LoopOptions) *Loop {
	if o.Flush <= 0 {
		o.Flush = 100 * time.Millisecond
	}
	if o.Inbox <= 0 {
		o.Inbox = 4096
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	cursors := make(map[string]string, len(o.Cursors))
	for k, v := range o.Cursors {
		cursors[k] = v
	}
	return &Loop{m: m, in: make(chan event.Batch, o.Inbox), reqs: make(chan func(*Model)),
		out: make(chan Delta, 1), flush: o.Flush, now: o.Now, log: o.Logger, done: make(chan struct{}),
		j: o.Journal, pos: o.Position, cursors: cursors, onIntervals: o.Intervals}
}

// Deltas returns the channel of deltas. The loop never blocks on it: while a
// delta waits unread, further changes accumulate into the next one, so a slow
// reader sees larger, rarer deltas (the tick widens under load).
func (l *Loop) Deltas() <-chan Delta { return l.out }

// Publish queues events for the model. It implements source.Sink.
func (l *Loop) Publish(ctx context.Context, evs ...event.Event) error {
	if len(evs) == 0 {
		return nil
	}
	return l.PublishBatch(ctx, event.Batch{Source: evs[0].Source, Events: evs})
}

// PublishBatch queues a source's batch (events, cursor and ticket) for the
// model; the events are copied. It implements source.BatchSink.
func (l *Loop) PublishBatch(ctx context.Context, b event.Batch) error {
	if len(b.Events) == 0 && b.Cursor == "" && b.Ticket == 0 {
		return nil
	}
	b.Events = append([]event.Event(nil), b.Events...)
	batch := b
	select {
	case l.in <- batch:
		return nil
	case <-l.done:
		return ErrStopped
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Do runs f on the loop's goroutine, with the model, and waits for it. f must
// not keep references into the model.
func (l *Loop) Do(ctx context.Context, f func(*Model)) error {
	finished := make(chan struct{})
	select {
	case l.reqs <- func(m *Model) { f(m); close(finished) }:
	case <-l.done:
		return ErrStopped
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-finished:
		return nil
	case <-l.done:
		return ErrStopped
	}
}

// Snapshot returns a copy of the whole model.
func (l *Loop) Snapshot(ctx context.Context) (*Snapshot, error) {
	var s *Snapshot
	err := l.Do(ctx, func(m *Model) { s = m.Snapshot(l.now()) })
	return s, err
}

// AgentDay returns agent k's day so far (timeline, handled, time in
// state), computed on the loop's goroutine.
func (l *Loop) AgentDay(ctx context.Context, k Key) (AgentDay, bool, error) {
	var d AgentDay
	var ok bool
	err := l.Do(ctx, func(m *Model) { d, ok = m.AgentDay(k, l.now()) })
	return d, ok, err
}

// Run applies events until ctx ends, then applies what is already queued and
// returns.
func (l *Loop) Run(ctx context.Context) {
	defer close(l.done)
	tick := time.NewTicker(l.flush)
	defer tick.Stop()
	midnight := time.NewTimer(l.untilMidnight())
	defer midnight.Stop()
	var pending Dirty
	hasPending := false
	for {
		select {
		case <-ctx.Done():
			l.drain()
			l.handClosed()
			return
		case batch := <-l.in:
			start := time.Now()
			l.apply(batch, l.now())
			if l.OnApply != nil {
				l.OnApply(len(batch.Events), time.Since(start))
			}
			l.handClosed()
		case f := <-l.reqs:
			// What sources had already queued first: a snapshot reflects
			// everything published before it was asked for.
			l.drain()
			f(l.m)
		case <-midnight.C:
			l.m.Rollover(l.now())
			l.handClosed()
			midnight.Reset(l.untilMidnight())
		case <-tick.C:
			l.m.Age(l.now()) // rolling windows: what left a window marks its queue; the interval clock
			l.handClosed()
			d := l.m.TakeDirty()
			if !d.Empty() {
				if hasPending {
					pending = mergeDirty(pending, d)
				} else {
					pending, hasPending = d, true
				}
			}
			if !hasPending {
				continue
			}
			delta := l.m.DeltaOf(pending, l.now())
			select {
			case l.out <- delta:
				hasPending = false
			default: // the boards are still busy with the last one: merge into the next
			}
		}
	}
}

// handClosed hands the intervals the model closed to the Intervals option.
func (l *Loop) handClosed() {
	sets := l.m.TakeClosed()
	if l.onIntervals == nil {
		return
	}
	for _, s := range sets {
		l.onIntervals(s)
	}
}

// OpenInterval returns the open history interval so far, computed on the
// loop's goroutine; ok is false before the model has one.
func (l *Loop) OpenInterval(ctx context.Context) (s IntervalSet, ok bool, err error) {
	err = l.Do(ctx, func(m *Model) { s, ok = m.OpenInterval() })
	return s, ok, err
}

// drain applies every batch already queued, without waiting for more: on a
// clean shutdown, so nothing sent is lost, and before a request, so its
// answer includes it.
func (l *Loop) drain() {
	now := l.now()
	for {
		select {
		case batch := <-l.in:
			l.apply(batch, now)
		default:
			return
		}
	}
}

// apply journals a batch, then applies it. Events without a time get now
// first, so that a replay applies exactly what was applied.
func (l *Loop) apply(b event.Batch, now time.Time) {
	for i := range b.Events {
		if b.Events[i].At.IsZero() {
			b.Events[i].At = now
		}
	}
	if l.j != nil {
		l.journal(&b)
	}
	for i := range b.Events {
		l.m.Apply(b.Events[i], now)
	}
}

// journaled reports whether an event kind goes to the journal: not source
// statuses (a restart has statuses of its own) nor vendor measures (the
// snapshot does not keep them either: the vendors restate them).
func journaled(k event.Kind) bool { return k != event.SourceStatus && k != event.Measures }

// journal appends b's journaled events, its cursor and ticket. A batch with
// nothing to journal and no cursor or ticket is not appended.
func (l *Loop) journal(b *event.Batch) {
	jb := b
	all := true
	for i := range b.Events {
		if !journaled(b.Events[i].Kind) {
			all = false
			break
		}
	}
	if !all {
		l.filtered = l.filtered[:0]
		for i := range b.Events {
			if journaled(b.Events[i].Kind) {
				l.filtered = append(l.filtered, b.Events[i])
			}
		}
		jb = &event.Batch{Source: b.Source, Cursor: b.Cursor, Ticket: b.Ticket, Events: l.filtered}
	}
	if len(jb.Events) == 0 && jb.Cursor == "" && jb.Ticket == 0 {
		return
	}
	pos, err := l.j.Append(jb)
	if !all {
		clear(l.filtered)
	}
	if err != nil {
		if !l.jfail {
			l.log.Error("journal append failed: nothing newer is acknowledged upstream until a snapshot covers it", "error", err)
		}
		l.jfail = true
	} else {
		l.jfail = false
	}
	l.pos = pos
	if b.Cursor != "" {
		l.cursors[b.Source] = b.Cursor
	}
}

func (l *Loop) untilMidnight() time.Duration {
	now := l.now().In(l.m.loc)
	y, mo, d := now.Date()
	next := time.Date(y, mo, d+1, 0, 0, 0, 0, l.m.loc)
	return next.Sub(now) + 10*time.Millisecond
}

func mergeDirty(a, b Dirty) Dirty {
	for k := range b.Agents {
		a.Agents[k] = true
	}
	for k := range b.Queues {
		a.Queues[k] = true
	}
	for k := range b.Sources {
		a.Sources[k] = true
	}
	a.Membership = a.Membership || b.Membership
	a.Rollover = a.Rollover || b.Rollover
	return a
}
