package history_test

import (
	"context"
	"errors"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/wallboard/wallboard/internal/database"
	"github.com/wallboard/wallboard/internal/database/dbtest"
	"github.com/wallboard/wallboard/internal/event"
	"github.com/wallboard/wallboard/internal/history"
	"github.com/wallboard/wallboard/internal/model"
	"github.com/wallboard/wallboard/internal/vendorsim"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

// simulated runs a seeded simulation into a model from `from` to `to` in
// steps of 10 s, handing every interval the model closes to w. Every
// snapshotAt it takes a snapshot; at killAt it throws the model away
// (a kill -9), restores the last snapshot and replays the events applied
// since (the journal), as a start does. It returns the truth at each
// midnight it passed, by day.
func simulated(t *testing.T, loc *time.Location, from, to time.Time, length time.Duration, w *history.Writer,
	snapshotAt, killAt time.Time) map[string]vendorsim.Truth {
	t.Helper()
	sim := vendorsim.NewSim(vendorsim.Options{Agents: 8, Queues: 3, Seed: 5, Pace: 0.4, Now: func() time.Time { return from }})
	sub := sim.Subscribe()
	defer sub.Close()
	newModel := func() *model.Model { return model.New(model.Options{Location: loc, IntervalLength: length}) }
	m := newModel()
	for _, q := range sim.Queues() {
		m.Apply(event.Event{Kind: event.QueueInfo, Source: "sim", Queue: q.ID, Name: q.Name, At: from}, from)
	}
	var snap []byte
	var journal []event.Event
	truth := map[string]vendorsim.Truth{}
	day := from.In(loc).Format(time.DateOnly)
	var seen int64
	for now := from; now.Before(to); now = now.Add(10 * time.Second) {
		if d := now.In(loc).Format(time.DateOnly); d != day {
			truth[day] = sim.Truth()
			day = d
		}
		if now.Equal(snapshotAt) {
			b, err := m.MarshalState()
			if err != nil {
				t.Fatal(err)
			}
			snap, journal = b, nil
		}
		if !killAt.IsZero() && !now.Before(killAt) {
			killAt = time.Time{}
			m = newModel()
			if _, err := m.Restore(snap, now); err != nil {
				t.Fatal(err)
			}
			for _, e := range journal {
				m.Apply(e, now)
			}
		}
		sim.Step(now)
		for target := sim.Seq(); seen < target; {
			a := <-sub.C()
			seen = a.Seq
			if e, ok := vendorsim.ActionEvent(a); ok {
				e.Source = "sim"
				m.Apply(e, now)
				journal = append(journal, e)
			}
		}
		m.Age(now)
		for _, s := range m.TakeClosed() {
			w.Enqueue(s)
		}
	}
	return truth
}

// TestDayOnBothDatabases: the intervals written for a simulated day (from
// the evening before to the morning after) add up to the day's ground
// truth, with a kill -9 and a restart across an interval boundary in the
// middle of the day, on an ordinary day and on days of 23 and 25 hours.
func TestDayOnBothDatabases(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		day       time.Time
		length    time.Duration
		intervals int
	}{
		{"ordinary day", time.Date(2026, 11, 21, 0, 0, 0, 0, berlin), 15 * time.Minute, 96},
		{"23-hour day", time.Date(2026, 3, 29, 0, 0, 0, 0, berlin), 15 * time.Minute, 92},
		{"25-hour day", time.Date(2026, 10, 25, 0, 0, 0, 0, berlin), 60 * time.Minute, 25},
	}
	ctx := context.Background()
	for _, c := range dbtest.Open(t) {
		for _, tt := range tests {
			t.Run(c.Name+"/"+tt.name, func(t *testing.T) {
				db := c.DB
				next := time.Date(tt.day.Year(), tt.day.Month(), tt.day.Day()+1, 0, 0, 0, 0, berlin)
				w := history.New(history.Options{Store: db, Queue: 1024})
				wctx, stop := context.WithCancel(ctx)
				var wg sync.WaitGroup
				wg.Add(1)
				go func() { defer wg.Done(); w.Run(wctx) }()
				// The kill comes 10 s after an interval boundary, the last
				// snapshot 50 s before it: the interval was written whole,
				// then closed again from the snapshot and the journal.
				killAt := tt.day.Add(14*time.Hour + 10*time.Second)
				truth := simulated(t, berlin, tt.day.Add(-30*time.Minute), next.Add(20*time.Minute), tt.length, w, killAt.Add(-time.Minute), killAt)
				stop()
				wg.Wait()
				if s := w.Stats(); s.Dropped != 0 || s.Failed != 0 || s.Written == 0 {
					t.Fatalf("writer %+v", s)
				}
				rows, err := db.QueueIntervals(ctx, database.IntervalFilter{From: tt.day, To: next})
				if err != nil {
					t.Fatal(err)
				}
				type sum struct {
					offered, answered, inSL, abandoned, handled, n int
					handle                                         time.Duration
				}
				sums := map[string]sum{}
				for _, r := range rows {
					s := sums[r.Queue]
					s.offered += r.Offered
					s.answered += r.Answered
					s.inSL += r.AnsweredInSL
					s.abandoned += r.Abandoned
					s.handled += r.Handled
					s.handle += r.HandleTotal
					s.n++
					sums[r.Queue] = s
				}
				tr := truth[tt.day.Format(time.DateOnly)]
				if len(tr.Queues) != 3 {
					t.Fatalf("truth %+v", tr)
				}
				for id, q := range tr.Queues {
					want := sum{q.Offered, q.Answered, q.AnsweredInSL, q.Abandoned, q.Handled, tt.intervals, q.HandleTotal}
					if got := sums[id]; got != want {
						t.Errorf("%s: the day's intervals add up to %+v, the truth is %+v", id, got, want)
					}
				}
			})
		}
	}
}

// failing is a store that fails until told otherwise.
type failing struct {
	mu    sync.Mutex
	fail  bool
	saved []database.QueueInterval
}

func (f *failing) SaveIntervals(_ context.Context, q []database.QueueInterval, _ []database.AgentInterval) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail {
		return errors.New("connection refused")
	}
	f.saved = append(f.saved, q...)
	return nil
}

func (f *failing) DeleteIntervalsBefore(context.Context, time.Time) (int64, error) { return 0, nil }

func (f *failing) set(fail bool) {
	f.mu.Lock()
	f.fail = fail
	f.mu.Unlock()
}

func (f *failing) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.saved)
}

// TestWriterQueueIsBounded: while the database fails, Enqueue never waits,
// the queue keeps at most its size and the rest is dropped and counted; once
// the database is back, what was queued is written.
func TestWriterQueueIsBounded(t *testing.T) {
	st := &failing{fail: true}
	w := history.New(history.Options{Store: st, Queue: 4, RetryMin: time.Millisecond, RetryMax: 5 * time.Millisecond})
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); w.Run(ctx) }()
	t0 := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	for i := range 20 {
		s := t0.Add(time.Duration(i) * 15 * time.Minute)
		w.Enqueue(model.IntervalSet{Start: s, End: s.Add(15 * time.Minute),
			Queues: []model.QueueInterval{{Key: model.Key{Source: "s", ID: "q"}, Start: s, End: s.Add(15 * time.Minute), Offered: i}}})
	}
	s := w.Stats()
	// One set is being retried, four wait: fifteen dropped.
	if s.Dropped < 15 || s.Dropped > 16 || s.Queued > 4 {
		t.Errorf("stats while failing: %+v", s)
	}
	for w.Stats().Failed < 3 {
		time.Sleep(time.Millisecond)
	}
	st.set(false)
	for w.Stats().Written+w.Stats().Dropped < 20 {
		time.Sleep(time.Millisecond)
	}
	stop()
	wg.Wait()
	if got := st.count(); int64(got) != w.Stats().Written || got < 4 {
		t.Errorf("saved %d, stats %+v", got, w.Stats())
	}
	if w.Stats().LastErr != "" {
		t.Errorf("last error after recovery: %q", w.Stats().LastErr)
	}
}
