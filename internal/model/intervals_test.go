package model

import (
	"testing"
	"time"

	"github.com/wallboard/wallboard/internal/event"
	"github.com/wallboard/wallboard/internal/vendorsim"
)

func TestIntervalStart(t *testing.T) {
	t.Parallel()
	berlin := mustZone(t, "Europe/Berlin")
	kathmandu := mustZone(t, "Asia/Kathmandu") // +05:45
	tests := []struct {
		name string
		at   time.Time
		l    time.Duration
		want time.Time
	}{
		{"utc quarter", time.Date(2026, 11, 21, 10, 14, 59, 0, time.UTC), 15 * time.Minute, time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)},
		{"on the boundary", time.Date(2026, 11, 21, 10, 15, 0, 0, time.UTC), 15 * time.Minute, time.Date(2026, 11, 21, 10, 15, 0, 0, time.UTC)},
		{"hour in a +05:45 zone", time.Date(2026, 11, 21, 10, 50, 0, 0, kathmandu), time.Hour, time.Date(2026, 11, 21, 10, 0, 0, 0, kathmandu)},
		{"quarter in a +05:45 zone", time.Date(2026, 11, 21, 10, 50, 0, 0, kathmandu), 15 * time.Minute, time.Date(2026, 11, 21, 10, 45, 0, 0, kathmandu)},
		// 25 October 2026: 03:00 CEST becomes 02:00 CET at 01:00 UTC.
		{"first 02:30 (CEST)", time.Date(2026, 10, 25, 0, 40, 0, 0, time.UTC).In(berlin), 30 * time.Minute, time.Date(2026, 10, 25, 0, 30, 0, 0, time.UTC)},
		{"second 02:30 (CET)", time.Date(2026, 10, 25, 1, 40, 0, 0, time.UTC).In(berlin), 30 * time.Minute, time.Date(2026, 10, 25, 1, 30, 0, 0, time.UTC)},
		{"before 1970", time.Date(1969, 12, 31, 23, 50, 0, 0, time.UTC), time.Hour, time.Date(1969, 12, 31, 23, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IntervalStart(tt.at, tt.l); !got.Equal(tt.want) {
				t.Errorf("IntervalStart(%s, %s) = %s, want %s", tt.at, tt.l, got.UTC(), tt.want.UTC())
			}
		})
	}
}

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("no tzdata for %s: %v", name, err)
	}
	return loc
}

// simDay drives a model from a seeded simulation, step by step, and checks
// every interval the model closes against the simulation's ground truth:
// the interval's counters are the truth's change over that interval, each
// agent's time per state is what its state changes add up to, and the
// intervals of each day add up to that day's counters.
type simDay struct {
	t       *testing.T
	loc     *time.Location
	length  time.Duration
	sim     *vendorsim.Sim
	sub     *vendorsim.Subscription
	m       *Model
	seen    int64
	closed  []IntervalSet
	truthAt map[time.Time]vendorsim.Truth // the truth at each interval boundary
	// agents: each agent's state and since, from the actions (the expected
	// time per state is computed from them independently of the model).
	agents map[string]vendorsim.TruthAgent
	want   map[time.Time]map[string]StateDurations // interval start → agent → expected
}

func newSimDay(t *testing.T, loc *time.Location, start time.Time, length time.Duration) *simDay {
	sim := vendorsim.NewSim(vendorsim.Options{Agents: 16, Queues: 3, Seed: 11, Pace: 0.6, Now: func() time.Time { return start }})
	d := &simDay{t: t, loc: loc, length: length, sim: sim, sub: sim.Subscribe(),
		m: New(Options{Location: loc, IntervalLength: length}), truthAt: map[time.Time]vendorsim.Truth{},
		agents: map[string]vendorsim.TruthAgent{}, want: map[time.Time]map[string]StateDurations{}}
	t.Cleanup(d.sub.Close)
	for _, q := range sim.Queues() {
		d.m.Apply(event.Event{Kind: event.QueueInfo, Source: "sim", Queue: q.ID, Name: q.Name, At: start}, start)
	}
	return d
}

// run steps the simulation from `from` to `to` every step; restartAt, when
// not zero, swaps the model for one restored from its snapshot there.
func (d *simDay) run(from, to time.Time, step time.Duration, restartAt time.Time) {
	t := d.t
	boundary := IntervalStart(from.In(d.loc), d.length).Add(d.length)
	for now := from; now.Before(to); now = now.Add(step) {
		for !now.Before(boundary) {
			d.truthAt[boundary.UTC()] = d.sim.Truth()
			d.creditAgents(boundary)
			boundary = IntervalStart(boundary.In(d.loc), d.length).Add(d.length)
		}
		if !restartAt.IsZero() && !now.Before(restartAt) {
			restartAt = time.Time{}
			b, err := d.m.MarshalState()
			if err != nil {
				t.Fatal(err)
			}
			m := New(Options{Location: d.loc, IntervalLength: d.length})
			if _, err := m.Restore(b, now); err != nil {
				t.Fatal(err)
			}
			if _, ok := m.OpenInterval(); !ok {
				t.Fatal("the restored model has no open interval")
			}
			d.m = m
		}
		d.sim.Step(now)
		for target := d.sim.Seq(); d.seen < target; {
			a := <-d.sub.C()
			d.seen = a.Seq
			if a.Kind == vendorsim.ActionAgentState {
				d.creditAgent(a.Agent, a.At)
				d.agents[a.Agent] = vendorsim.TruthAgent{State: a.State, Reason: a.Reason, Since: a.At}
			}
			e, ok := vendorsim.ActionEvent(a)
			if !ok {
				continue
			}
			e.Source = "sim"
			d.m.Apply(e, now)
		}
		d.m.Age(now)
		d.closed = append(d.closed, d.m.TakeClosed()...)
	}
}

// creditAgent adds agent id's time in its state from its since (or the
// start of the interval) to at.
func (d *simDay) creditAgent(id string, at time.Time) {
	a, ok := d.agents[id]
	if !ok {
		return
	}
	start := IntervalStart(at.In(d.loc), d.length) // creditAgents counted up to it
	from := laterOf(a.Since, start)
	if at.After(from) {
		m := d.want[start.UTC()]
		if m == nil {
			m = map[string]StateDurations{}
			d.want[start.UTC()] = m
		}
		v := m[id]
		v.add(a.State, at.Sub(from))
		m[id] = v
	}
	a.Since = at
	d.agents[id] = a
}

// creditAgents closes every agent's time at an interval boundary.
func (d *simDay) creditAgents(boundary time.Time) {
	start := IntervalStart(boundary.Add(-time.Nanosecond).In(d.loc), d.length)
	for id, a := range d.agents {
		from := laterOf(a.Since, start)
		if boundary.After(from) {
			m := d.want[start.UTC()]
			if m == nil {
				m = map[string]StateDurations{}
				d.want[start.UTC()] = m
			}
			v := m[id]
			v.add(a.State, boundary.Sub(from))
			m[id] = v
		}
		a.Since = boundary
		d.agents[id] = a
	}
}

func truthFigures(q vendorsim.TruthQueue) Figures {
	return Figures{Offered: q.Offered, Answered: q.Answered, AnsweredInSL: q.AnsweredInSL, Abandoned: q.Abandoned,
		Handled: q.Handled, HandleTotal: q.HandleTotal}
}

func subFigures(a, b Figures) Figures {
	return Figures{Offered: a.Offered - b.Offered, Answered: a.Answered - b.Answered, AnsweredInSL: a.AnsweredInSL - b.AnsweredInSL,
		Abandoned: a.Abandoned - b.Abandoned, Handled: a.Handled - b.Handled, HandleTotal: a.HandleTotal - b.HandleTotal}
}

// check compares every closed interval after the first with the truth, and
// returns the sums of each day's intervals by day and queue.
func (d *simDay) check() map[string]map[string]Figures {
	t := d.t
	sums := map[string]map[string]Figures{}
	if len(d.closed) < 2 {
		t.Fatalf("%d intervals closed", len(d.closed))
	}
	for i, set := range d.closed {
		if !set.End.After(set.Start) || set.End.Sub(set.Start) != d.length {
			t.Errorf("interval %s–%s is not %s long", set.Start, set.End, d.length)
		}
		if i > 0 && !set.Start.Equal(d.closed[i-1].End) {
			t.Errorf("interval %d starts at %s, the one before ended at %s", i, set.Start, d.closed[i-1].End)
		}
		day := set.Start.In(d.loc).Format(time.DateOnly)
		if sums[day] == nil {
			sums[day] = map[string]Figures{}
		}
		endTruth, ok := d.truthAt[set.End]
		if !ok {
			t.Fatalf("no truth at %s", set.End)
		}
		startTruth, okStart := d.truthAt[set.Start]
		midnight := set.Start.In(d.loc).Hour() == 0 && set.Start.In(d.loc).Minute() == 0
		for _, qi := range set.Queues {
			sums[day][qi.ID] = sums[day][qi.ID].Add(qi.Figures())
			if i == 0 {
				continue // started mid-way
			}
			want := truthFigures(endTruth.Queues[qi.ID])
			if !midnight {
				if !okStart {
					t.Fatalf("no truth at %s", set.Start)
				}
				want = subFigures(want, truthFigures(startTruth.Queues[qi.ID]))
			}
			got := qi.Figures()
			got.ShortAbandoned = 0
			if got != want {
				t.Errorf("%s %s–%s: got %+v, truth %+v", qi.ID, set.Start.In(d.loc).Format("01-02 15:04 MST"), set.End.In(d.loc).Format("15:04 MST"), got, want)
			}
			if qi.WaitingPeak < 0 || qi.WaitingAvg < 0 || qi.WaitingAvg > float64(qi.WaitingPeak) {
				t.Errorf("%s %s: waiting peak %d, average %.2f", qi.ID, set.Start, qi.WaitingPeak, qi.WaitingAvg)
			}
		}
		if i == 0 {
			continue
		}
		want := d.want[set.Start]
		got := map[string]StateDurations{}
		for _, ai := range set.Agents {
			got[ai.ID] = ai.StateDurations
			if ai.Total() > d.length {
				t.Errorf("agent %s has %s in a %s interval", ai.ID, ai.Total(), d.length)
			}
		}
		for id, w := range want {
			if w.Total() == 0 {
				continue
			}
			if got[id] != w {
				t.Errorf("agent %s %s: got %+v, want %+v", id, set.Start, got[id], w)
			}
		}
		for id, g := range got {
			if _, ok := want[id]; !ok {
				t.Errorf("agent %s %s: got %+v, want nothing", id, set.Start, g)
			}
		}
	}
	return sums
}

// TestIntervalsMatchGroundTruth runs a simulated day from the evening
// before to the morning after (midnight twice), on an ordinary day and on
// days of 23 and 25 hours, once with a restart in the middle of an
// interval.
func TestIntervalsMatchGroundTruth(t *testing.T) {
	t.Parallel()
	berlin := mustZone(t, "Europe/Berlin")
	london := mustZone(t, "Europe/London")
	tests := []struct {
		name      string
		loc       *time.Location
		day       time.Time // the day checked in full
		length    time.Duration
		intervals int // the day's intervals
		restart   time.Duration
	}{
		{"ordinary day", london, time.Date(2026, 11, 21, 0, 0, 0, 0, london), 15 * time.Minute, 96, 0},
		{"23-hour day", berlin, time.Date(2026, 3, 29, 0, 0, 0, 0, berlin), 15 * time.Minute, 92, 0},
		{"25-hour day", berlin, time.Date(2026, 10, 25, 0, 0, 0, 0, berlin), 30 * time.Minute, 50, 0},
		{"restart mid-interval", london, time.Date(2026, 11, 21, 0, 0, 0, 0, london), 60 * time.Minute, 24, 13*time.Hour + 22*time.Minute + 7*time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			from := tt.day.Add(-50 * time.Minute)
			to := time.Date(tt.day.Year(), tt.day.Month(), tt.day.Day()+1, 0, 40, 0, 0, tt.loc)
			d := newSimDay(t, tt.loc, from, tt.length)
			var restartAt time.Time
			if tt.restart > 0 {
				restartAt = tt.day.Add(tt.restart)
			}
			d.run(from, to, 2*time.Second, restartAt)
			sums := d.check()
			day := tt.day.Format(time.DateOnly)
			n := 0
			for _, set := range d.closed {
				if set.Start.In(tt.loc).Format(time.DateOnly) == day {
					n++
				}
			}
			if n != tt.intervals {
				t.Errorf("%s has %d intervals, want %d", day, n, tt.intervals)
			}
			// The day's counters (the truth just before the next midnight)
			// equal the sums of its intervals.
			next := time.Date(tt.day.Year(), tt.day.Month(), tt.day.Day()+1, 0, 0, 0, 0, tt.loc).UTC()
			truth, ok := d.truthAt[next]
			if !ok {
				t.Fatalf("no truth at %s", next)
			}
			offered := 0
			for id, q := range truth.Queues {
				got := sums[day][id]
				got.ShortAbandoned = 0
				if want := truthFigures(q); got != want {
					t.Errorf("%s %s: intervals add up to %+v, the day's truth is %+v", day, id, got, want)
				}
				offered += q.Offered
			}
			if offered < 1000 {
				t.Errorf("only %d contacts offered: the day was too quiet to test much", offered)
			}
		})
	}
}

func TestIntervalSurvivesRestart(t *testing.T) {
	t.Parallel()
	m := New(Options{IntervalLength: 15 * time.Minute})
	m.Apply(state(0, "a1", event.StateAvailable, ""), at(0))
	m.Apply(cev(event.ContactQueued, 60, "c1", "q1", ""), at(60))
	m.Apply(cev(event.ContactQueued, 70, "c2", "q1", ""), at(70))
	m.Apply(cev(event.ContactAnswered, 90, "c1", "q1", "a1"), at(90))
	m.Apply(state(90, "a1", event.StateBusy, ""), at(90))
	m.Apply(cev(event.ContactEnded, 100, "c2", "q1", ""), at(100)) // abandoned after 30 s
	b, err := m.MarshalState()
	if err != nil {
		t.Fatal(err)
	}
	r := New(Options{IntervalLength: 15 * time.Minute})
	if _, err := r.Restore(b, at(120)); err != nil {
		t.Fatal(err)
	}
	r.Apply(cev(event.ContactEnded, 300, "c1", "q1", "a1"), at(300))
	r.Apply(state(300, "a1", event.StateWrapUp, ""), at(300))
	r.Age(at(15 * 60))
	sets := r.TakeClosed()
	if len(sets) != 1 {
		t.Fatalf("%d intervals closed, want 1", len(sets))
	}
	s := sets[0]
	if !s.Start.Equal(t0) || !s.End.Equal(at(900)) || s.Complete {
		t.Errorf("interval %s–%s complete %v, want %s–%s, not complete (cut by a restart)", s.Start, s.End, s.Complete, t0, at(900))
	}
	if len(s.Queues) != 1 {
		t.Fatalf("queues %+v", s.Queues)
	}
	q := s.Queues[0]
	want := QueueInterval{Key: Key{"s", "q1"}, Start: t0, End: at(900), Offered: 2, Answered: 1, Abandoned: 1, AnsweredInSL: 0,
		Handled: 1, HandleTotal: 210 * time.Second, MaxWait: 30 * time.Second, WaitingPeak: 2}
	// Waiting: one from 60 s, two from 70 s to 90 s, one to 100 s.
	wantAvg := float64(10+2*20+10) / 900
	if q.WaitingAvg < wantAvg-1e-9 || q.WaitingAvg > wantAvg+1e-9 {
		t.Errorf("waiting average %.5f, want %.5f", q.WaitingAvg, wantAvg)
	}
	q.WaitingAvg = 0
	if q != want {
		t.Errorf("got  %+v\nwant %+v", q, want)
	}
	wantAgent := StateDurations{Available: 90 * time.Second, Busy: 210 * time.Second, WrapUp: 600 * time.Second}
	if len(s.Agents) != 1 || s.Agents[0].StateDurations != wantAgent {
		t.Errorf("agents %+v, want a1 %+v", s.Agents, wantAgent)
	}
}

func TestIntervalOfAnEarlierDayIsClosedOnRestore(t *testing.T) {
	t.Parallel()
	m := New(Options{IntervalLength: 30 * time.Minute})
	m.Apply(cev(event.ContactQueued, 0, "c1", "q1", ""), at(0))
	b, err := m.MarshalState()
	if err != nil {
		t.Fatal(err)
	}
	r := New(Options{IntervalLength: 30 * time.Minute})
	if _, err := r.Restore(b, t0.Add(24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	sets := r.TakeClosed()
	if len(sets) != 1 || len(sets[0].Queues) != 1 || sets[0].Queues[0].Offered != 1 || sets[0].Complete {
		t.Fatalf("closed on restore: %+v", sets)
	}
	if !sets[0].Start.Equal(t0) || !sets[0].End.Equal(t0.Add(30*time.Minute)) {
		t.Errorf("interval %s–%s", sets[0].Start, sets[0].End)
	}
	if _, ok := r.OpenInterval(); ok {
		t.Error("an open interval before anything was applied today")
	}
}

func TestLateEventCountsInTheOpenInterval(t *testing.T) {
	t.Parallel()
	m := New(Options{IntervalLength: 15 * time.Minute})
	m.Apply(cev(event.ContactQueued, 0, "c1", "q1", ""), at(0))
	m.Age(at(16 * 60))
	first := m.TakeClosed()
	// c1's end is reported late, stamped in the closed interval.
	m.Apply(cev(event.ContactEnded, 60, "c1", "q1", ""), at(16*60+5))
	m.Age(at(30 * 60))
	second := m.TakeClosed()
	if len(first) != 1 || len(second) != 1 {
		t.Fatalf("closed %d then %d", len(first), len(second))
	}
	if first[0].Queues[0].Abandoned != 0 || second[0].Queues[0].Abandoned != 1 {
		t.Errorf("abandons %d then %d, want 0 then 1", first[0].Queues[0].Abandoned, second[0].Queues[0].Abandoned)
	}
	if q, _ := m.Queue(Key{"s", "q1"}); q.Abandoned != 1 {
		t.Errorf("day abandoned %d", q.Abandoned)
	}
}
