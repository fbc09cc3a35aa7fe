package model

import (
	"slices"
	"testing"
	"time"

	"github.com/wallboard/wallboard/internal/event"
)

func TestTrendWaitingByMinute(t *testing.T) {
	t.Parallel()
	m := New(Options{IntervalLength: 15 * time.Minute})
	// t0 is 10:00:00. Minute 0: 1 then 2 waiting, one leaves; minute 1:
	// nothing happens (1 waits); minute 3: 3 waiting.
	m.Apply(cev(event.ContactQueued, 5, "c1", "q1", ""), at(5))
	m.Apply(cev(event.ContactQueued, 10, "c2", "q1", ""), at(10))
	m.Apply(cev(event.ContactEnded, 20, "c2", "q1", ""), at(20))
	m.Age(at(70))
	m.Queue(Key{"s", "q1"}) // its windows are computed: they change next in 15 minutes
	m.TakeDirty()
	m.Age(at(100)) // the same minute: nothing moves
	if d := m.TakeDirty(); d.Queues[Key{"s", "q1"}] {
		t.Error("the trend marked the queue changed within a minute")
	}
	m.Apply(cev(event.ContactQueued, 185, "c3", "q1", ""), at(185))
	m.Apply(cev(event.ContactQueued, 186, "c4", "q1", ""), at(186))
	q, _ := m.Queue(Key{"s", "q1"})
	w := q.Trend.Waiting
	if len(w) != TrendMinutes || !q.Trend.Minute.Equal(at(180)) {
		t.Fatalf("trend %d minutes to %s", len(w), q.Trend.Minute)
	}
	if got, want := w[TrendMinutes-4:], []int{2, 1, 1, 3}; !slices.Equal(got, want) {
		t.Errorf("last four minutes %v, want %v", got, want)
	}
	if slices.Max(w[:TrendMinutes-4]) != 0 {
		t.Errorf("minutes before the first contact: %v", w[:TrendMinutes-4])
	}
	// The next minute moves the picture on: the queue is marked changed.
	m.TakeDirty()
	m.Age(at(241))
	if d := m.TakeDirty(); !d.Queues[Key{"s", "q1"}] {
		t.Error("a new minute did not mark the queue changed")
	}
	// An hour later with nothing new, the trend is flat at 3 and a new
	// minute changes nothing.
	m.Age(at(241 + 3600))
	m.TakeDirty()
	m.Age(at(241 + 3660))
	if d := m.TakeDirty(); d.Queues[Key{"s", "q1"}] {
		t.Error("a flat hour marked the queue changed")
	}
	q, _ = m.Queue(Key{"s", "q1"})
	if slices.Min(q.Trend.Waiting) != 3 || slices.Max(q.Trend.Waiting) != 3 {
		t.Errorf("flat hour %v", q.Trend.Waiting)
	}
}

func TestTrendDay(t *testing.T) {
	t.Parallel()
	m := New(Options{IntervalLength: 15 * time.Minute})
	m.Apply(cev(event.ContactQueued, 0, "c1", "q1", ""), at(0))
	m.Apply(cev(event.ContactAnswered, 10, "c1", "q1", "a1"), at(10))
	m.Apply(cev(event.ContactQueued, 60, "c2", "q1", ""), at(60))
	m.Age(at(15 * 60))
	m.Apply(cev(event.ContactEnded, 16*60, "c2", "q1", ""), at(16*60)) // abandoned
	m.Age(at(30 * 60))
	q, _ := m.Queue(Key{"s", "q1"})
	d := q.Trend.Day
	if len(d) != 2 || !d[0].At.Equal(at(900)) || !d[1].At.Equal(at(1800)) {
		t.Fatalf("points %+v", d)
	}
	if sl, _ := d[0].ServiceLevel(q.Settings); sl != 1 {
		t.Errorf("first point's service level %v", sl)
	}
	if sl, _ := d[1].ServiceLevel(q.Settings); sl != 0.5 {
		t.Errorf("second point's service level %v", sl)
	}

	// A model started later gets the points back from the stored rows.
	r := New(Options{IntervalLength: 15 * time.Minute})
	r.Apply(cev(event.QueueInfo, 31*60, "", "q1", ""), at(31*60))
	sets := m.TakeClosed()
	var rows []QueueInterval
	for _, s := range sets {
		rows = append(rows, s.Queues...)
	}
	yesterday := rows[0]
	yesterday.Start, yesterday.End = yesterday.Start.Add(-24*time.Hour), yesterday.End.Add(-24*time.Hour)
	r.SeedDay(append(rows, yesterday))
	rq, _ := r.Queue(Key{"s", "q1"})
	if len(rq.Trend.Day) != 2 || rq.Trend.Day[1].Figures != d[1].Figures {
		t.Errorf("seeded %+v, want %+v", rq.Trend.Day, d)
	}
}
