package model

import (
	"sort"
	"time"

	"github.com/wallboard/wallboard/internal/event"
)

// History intervals.
//
// The model keeps one open interval (Options.IntervalLength, 15 minutes by
// default, on clock boundaries in the model's zone) and counts into it at
// exactly the places where it counts today's figures, so the intervals of a
// day always add up to that day's counters. When the interval clock passes
// the open interval's end, the interval is closed: its figures are copied
// into an IntervalSet that the loop hands on (TakeClosed) to a writer off
// the path of an event to a screen.
//
// The interval clock is the latest of the loop's ticks and the times of the
// events applied (never later than the wall clock the event was applied
// at), so a journal replayed after a restart counts each event in the
// interval it happened in. It never leaves the model's day: the last
// interval of a day closes when the day rolls over, never before.

// DefaultIntervalLength is the interval length when Options leave it zero.
const DefaultIntervalLength = 15 * time.Minute

// maxClosed bounds the closed intervals waiting to be taken (a model that
// no loop drains, a writer that is gone): beyond it the oldest are dropped.
const maxClosed = 1024

// IntervalStates are the agent states whose time an AgentInterval keeps, in
// the order of StateDurations' fields.
var IntervalStates = []event.State{event.StateAvailable, event.StateOffered, event.StateBusy, event.StateWrapUp, event.StateNotReady}

// QueueInterval is one queue's figures over one interval.
type QueueInterval struct {
	Key
	Start, End     time.Time
	Offered        int
	Answered       int
	AnsweredInSL   int
	Abandoned      int // every abandon, short ones included
	ShortAbandoned int
	Handled        int           // answered contacts that ended in the interval
	HandleTotal    time.Duration // their summed handle time
	MaxWait        time.Duration // the longest wait of a contact that left the queue in the interval, or still waited at its end
	WaitingPeak    int           // the most contacts waiting at once
	WaitingAvg     float64       // contacts waiting, averaged over the interval's time
	// Complete: the interval was watched from its start to its end by one
	// running process (false for the open interval, for one cut by a
	// restart, and for the first one after a start).
	Complete bool
}

// Figures returns the interval's counters as Figures.
func (q QueueInterval) Figures() Figures {
	return Figures{Offered: q.Offered, Answered: q.Answered, AnsweredInSL: q.AnsweredInSL, Abandoned: q.Abandoned,
		ShortAbandoned: q.ShortAbandoned, Handled: q.Handled, HandleTotal: q.HandleTotal}
}

// StateDurations is the time spent in each of IntervalStates.
type StateDurations struct {
	Available, Offered, Busy, WrapUp, NotReady time.Duration
}

func (d *StateDurations) add(s event.State, v time.Duration) {
	switch s {
	case event.StateAvailable:
		d.Available += v
	case event.StateOffered:
		d.Offered += v
	case event.StateBusy:
		d.Busy += v
	case event.StateWrapUp:
		d.WrapUp += v
	case event.StateNotReady:
		d.NotReady += v
	}
}

// Total is the time in all of them.
func (d StateDurations) Total() time.Duration {
	return d.Available + d.Offered + d.Busy + d.WrapUp + d.NotReady
}

// AgentInterval is one agent's time per state over one interval. Agents
// logged out (or unknown) for the whole interval have none.
type AgentInterval struct {
	Key
	Start, End time.Time
	StateDurations
	Complete bool
}

// IntervalSet is one interval of every queue and agent.
type IntervalSet struct {
	Start, End time.Time
	Complete   bool
	Queues     []QueueInterval
	Agents     []AgentInterval
}

// openInterval is the model's open interval.
type openInterval struct {
	start, end time.Time
	clock      time.Time // the interval clock: start ≤ clock < end
	complete   bool
}

// ivQueue is a queue's figures in the open interval.
type ivQueue struct {
	offered, answered, inSL, abandoned, short, handled int
	handle, maxWait                                    time.Duration
	peak                                               int
	area                                               time.Duration // ∫ waiting dt (count × time)
	mark                                               time.Time     // area counted up to here
}

// ivAgent is an agent's time per state in the open interval.
type ivAgent struct {
	d    StateDurations
	mark time.Time // counted up to here
}

// IntervalStart returns the start of the interval of length l that holds t,
// on clock boundaries in t's zone (use t.In(zone)). The offset in force at t
// is used, so both hours of a daylight-saving fall-back have intervals of
// their own, and a day of 23 or 25 hours has 23 or 25 hours of them.
func IntervalStart(t time.Time, l time.Duration) time.Time {
	_, off := t.Zone()
	sec := t.Unix() + int64(off)
	ls := int64(l / time.Second)
	if ls <= 0 {
		ls = int64(DefaultIntervalLength / time.Second)
	}
	sec -= (sec%ls + ls) % ls
	return time.Unix(sec-int64(off), 0).In(t.Location())
}

// IntervalLength is the model's interval length.
func (m *Model) IntervalLength() time.Duration { return m.ivLen }

// dayEnd is midnight after the model's day.
func (m *Model) dayEnd() time.Time {
	s := m.dayStart()
	y, mo, d := s.Date()
	return time.Date(y, mo, d+1, 0, 0, 0, 0, m.loc)
}

// ivAdvance moves the interval clock to t (if later), never past the end of
// the model's day, closing the intervals it passes.
func (m *Model) ivAdvance(t time.Time) {
	if m.day == "" || t.IsZero() {
		return
	}
	if end := m.dayEnd(); !t.Before(end) {
		t = end.Add(-time.Nanosecond)
	}
	if start := m.dayStart(); t.Before(start) {
		t = start
	}
	m.ivMove(t)
}

// ivMove moves the clock to t (if later) without the day's cap.
func (m *Model) ivMove(t time.Time) {
	if m.iv.start.IsZero() {
		start := IntervalStart(t.In(m.loc), m.ivLen)
		m.iv = openInterval{start: start, end: start.Add(m.ivLen), clock: t, complete: t.Equal(start)}
		m.ivReset(start)
		return
	}
	if !t.After(m.iv.clock) {
		return
	}
	for !t.Before(m.iv.end) {
		end := m.iv.end
		m.iv.clock = end
		m.ivClose()
		start := IntervalStart(t.In(m.loc), m.ivLen)
		complete := !start.After(end) // contiguous with the one before
		if start.Before(end) {
			start = end // a zone whose shift is not a multiple of the length: no overlap
		}
		m.iv = openInterval{start: start, end: IntervalStart(start.In(m.loc), m.ivLen).Add(m.ivLen), clock: start, complete: complete}
		if !m.iv.end.After(start) {
			m.iv.end = start.Add(m.ivLen)
		}
		m.ivReset(start)
	}
	m.iv.clock = t
}

// ivReset starts every queue's and agent's figures afresh at start.
func (m *Model) ivReset(start time.Time) {
	for _, q := range m.queues {
		q.iv = ivQueue{peak: q.Waiting, mark: start}
	}
	for _, a := range m.agents {
		a.iv = ivAgent{mark: start}
	}
}

// ivClose closes the open interval at its end into m.closed.
func (m *Model) ivClose() {
	m.closed = append(m.closed, m.ivSet(m.iv.end, m.iv.complete))
	for k, q := range m.queues {
		q.trendClose(m.iv.end)
		m.dirty.Queues[k] = true // the service level through the day has a new point
	}
	if len(m.closed) > maxClosed {
		m.closed = m.closed[len(m.closed)-maxClosed:]
	}
}

// ivSet copies the open interval's figures as of at (its end when it
// closes, the clock when it is looked at).
func (m *Model) ivSet(at time.Time, complete bool) IntervalSet {
	start, end := m.iv.start.UTC(), m.iv.end.UTC()
	set := IntervalSet{Start: start, End: end, Complete: complete, Queues: make([]QueueInterval, 0, len(m.queues))}
	for _, q := range m.queues {
		qi := QueueInterval{Key: q.Key, Start: start, End: end, Offered: q.iv.offered, Answered: q.iv.answered,
			AnsweredInSL: q.iv.inSL, Abandoned: q.iv.abandoned, ShortAbandoned: q.iv.short, Handled: q.iv.handled,
			HandleTotal: q.iv.handle, MaxWait: q.iv.maxWait, WaitingPeak: max(q.iv.peak, q.Waiting), Complete: complete}
		area := q.iv.area
		if mark := laterOf(q.iv.mark, m.iv.start); at.After(mark) {
			area += time.Duration(q.Waiting) * at.Sub(mark)
		}
		if span := at.Sub(m.iv.start); span > 0 {
			qi.WaitingAvg = float64(area) / float64(span)
		}
		if !q.OldestWaiting.IsZero() && at.After(q.OldestWaiting) {
			qi.MaxWait = max(qi.MaxWait, at.Sub(q.OldestWaiting))
		}
		set.Queues = append(set.Queues, qi)
	}
	for _, a := range m.agents {
		d := a.iv.d
		if mark := laterOf(a.iv.mark, m.iv.start); at.After(mark) {
			d.add(a.State, at.Sub(mark))
		}
		if d.Total() > 0 {
			set.Agents = append(set.Agents, AgentInterval{Key: a.Key, Start: start, End: end, StateDurations: d, Complete: complete})
		}
	}
	sort.Slice(set.Queues, func(i, j int) bool { return set.Queues[i].Key.Less(set.Queues[j].Key) })
	sort.Slice(set.Agents, func(i, j int) bool { return set.Agents[i].Key.Less(set.Agents[j].Key) })
	return set
}

func laterOf(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// ivWaiting counts the time q waited at its current count up to the clock
// (and moves its trend to this minute); call it before the count changes.
func (m *Model) ivWaiting(q *queue) {
	if !m.iv.clock.IsZero() {
		q.trend.roll(unixMinute(m.iv.clock), q.Waiting) // the minutes passed held the count before the change
	}
	if m.iv.start.IsZero() {
		return
	}
	mark := laterOf(q.iv.mark, m.iv.start)
	if m.iv.clock.After(mark) {
		q.iv.area += time.Duration(q.Waiting) * m.iv.clock.Sub(mark)
	}
	q.iv.mark = m.iv.clock
}

// ivAgentState counts a's time in its current state up to the clock; call
// it before the state changes.
func (m *Model) ivAgentState(a *agent) {
	if m.iv.start.IsZero() {
		return
	}
	mark := laterOf(a.iv.mark, m.iv.start)
	if m.iv.clock.After(mark) {
		a.iv.d.add(a.State, m.iv.clock.Sub(mark))
	}
	a.iv.mark = m.iv.clock
}

// ivDequeued notes a contact that stops waiting after waiting since queuedAt.
func (m *Model) ivDequeued(q *queue, queuedAt time.Time) {
	if !queuedAt.IsZero() && m.iv.clock.After(queuedAt) {
		q.iv.maxWait = max(q.iv.maxWait, m.iv.clock.Sub(queuedAt))
	}
}

// ivDayChange closes the last interval of the day that ends at midnight
// (the new day's start); called when the day rolls over.
func (m *Model) ivDayChange(midnight time.Time) {
	if m.iv.start.IsZero() {
		return
	}
	if m.iv.clock.Before(midnight) {
		m.ivMove(midnight)
	}
}

// TakeClosed returns the intervals closed since the last call, oldest
// first, and forgets them.
func (m *Model) TakeClosed() []IntervalSet {
	c := m.closed
	m.closed = nil
	return c
}

// OpenInterval returns the open interval's figures so far (Complete false),
// and false before the model has one.
func (m *Model) OpenInterval() (IntervalSet, bool) {
	if m.iv.start.IsZero() {
		return IntervalSet{}, false
	}
	return m.ivSet(m.iv.clock, false), true
}

// stInterval is the persisted open interval.
type stInterval struct {
	Start    time.Time   `json:"start"`
	End      time.Time   `json:"end"`
	Clock    time.Time   `json:"clock"`
	Complete bool        `json:"complete,omitempty"`
	Queues   []stIvQueue `json:"queues,omitempty"`
	Agents   []stIvAgent `json:"agents,omitempty"`
}

type stIvQueue struct {
	Source    string    `json:"source"`
	ID        string    `json:"id"`
	Counts    [6]int    `json:"counts"` // offered, answered, in SL, abandoned, short, handled
	HandleMS  int64     `json:"handle_ms,omitempty"`
	MaxWaitMS int64     `json:"max_wait_ms,omitempty"`
	Peak      int       `json:"peak,omitempty"`
	AreaMS    int64     `json:"area_ms,omitempty"`
	Mark      time.Time `json:"mark"`
}

type stIvAgent struct {
	Source string    `json:"source"`
	ID     string    `json:"id"`
	MS     [5]int64  `json:"ms"` // IntervalStates
	Mark   time.Time `json:"mark"`
}

func (d StateDurations) ms() [5]int64 {
	return [5]int64{d.Available.Milliseconds(), d.Offered.Milliseconds(), d.Busy.Milliseconds(), d.WrapUp.Milliseconds(), d.NotReady.Milliseconds()}
}

func durationsMS(v [5]int64) StateDurations {
	ms := func(i int) time.Duration { return time.Duration(max(v[i], 0)) * time.Millisecond }
	return StateDurations{Available: ms(0), Offered: ms(1), Busy: ms(2), WrapUp: ms(3), NotReady: ms(4)}
}

// persistInterval copies the open interval for a snapshot.
func (m *Model) persistInterval() *stInterval {
	if m.iv.start.IsZero() {
		return nil
	}
	s := &stInterval{Start: m.iv.start.UTC(), End: m.iv.end.UTC(), Clock: m.iv.clock.UTC(), Complete: m.iv.complete}
	for _, q := range m.queues {
		v := q.iv
		if v.offered|v.answered|v.inSL|v.abandoned|v.short|v.handled|v.peak == 0 && v.handle|v.maxWait|v.area == 0 {
			continue // nothing happened and nothing waited
		}
		s.Queues = append(s.Queues, stIvQueue{Source: q.Source, ID: q.ID,
			Counts:   [6]int{v.offered, v.answered, v.inSL, v.abandoned, v.short, v.handled},
			HandleMS: v.handle.Milliseconds(), MaxWaitMS: v.maxWait.Milliseconds(), Peak: v.peak, AreaMS: v.area.Milliseconds(), Mark: v.mark.UTC()})
	}
	sort.Slice(s.Queues, func(i, j int) bool {
		return keyLess(s.Queues[i].Source, s.Queues[i].ID, s.Queues[j].Source, s.Queues[j].ID)
	})
	for _, a := range m.agents {
		if a.iv.d.Total() == 0 && !a.iv.mark.After(m.iv.start) {
			continue
		}
		s.Agents = append(s.Agents, stIvAgent{Source: a.Source, ID: a.ID, MS: a.iv.d.ms(), Mark: a.iv.mark.UTC()})
	}
	sort.Slice(s.Agents, func(i, j int) bool {
		return keyLess(s.Agents[i].Source, s.Agents[i].ID, s.Agents[j].Source, s.Agents[j].ID)
	})
	return s
}

// restoreInterval takes the open interval back from a snapshot, after its
// queues and agents. An interval of the model's day stays open (a restart
// cuts it: it is no longer complete); one of an earlier day is closed as it
// was, so what it counted is written.
func (m *Model) restoreInterval(s *stInterval, today bool) {
	if s == nil || s.Start.IsZero() || !s.End.After(s.Start) {
		return
	}
	m.iv = openInterval{start: s.Start.In(m.loc), end: s.End.In(m.loc), clock: s.Clock.In(m.loc)}
	if m.iv.clock.Before(m.iv.start) || !m.iv.clock.Before(m.iv.end) {
		m.iv.clock = m.iv.start
	}
	m.ivReset(m.iv.start)
	for _, sq := range s.Queues {
		q := m.queues[Key{sq.Source, sq.ID}]
		if q == nil {
			continue
		}
		c := sq.Counts
		for i := range c {
			c[i] = max(c[i], 0)
		}
		q.iv = ivQueue{offered: c[0], answered: c[1], inSL: c[2], abandoned: c[3], short: c[4], handled: c[5],
			handle: time.Duration(max(sq.HandleMS, 0)) * time.Millisecond, maxWait: time.Duration(max(sq.MaxWaitMS, 0)) * time.Millisecond,
			peak: max(sq.Peak, q.Waiting), area: time.Duration(max(sq.AreaMS, 0)) * time.Millisecond, mark: sq.Mark.In(m.loc)}
	}
	for _, sa := range s.Agents {
		if a := m.agents[Key{sa.Source, sa.ID}]; a != nil {
			a.iv = ivAgent{d: durationsMS(sa.MS), mark: sa.Mark.In(m.loc)}
		}
	}
	if today {
		return
	}
	// An earlier day's interval: close it at the clock it reached (the
	// model knows nothing of the time after), and start afresh.
	m.iv.end = laterOf(m.iv.clock, m.iv.start)
	set := m.ivSet(m.iv.clock, false)
	set.End = s.End.UTC()
	for i := range set.Queues {
		set.Queues[i].End = set.End
	}
	for i := range set.Agents {
		set.Agents[i].End = set.End
	}
	m.closed = append(m.closed, set)
	m.iv = openInterval{}
}
