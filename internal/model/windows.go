package model

import (
	"math"
	"slices"
	"sort"
	"time"

	"github.com/wallboard/wallboard/internal/event"
)

// Rolling windows, per-queue settings and agents' days.
//
// Each queue keeps a bounded history of what happened in the last hour
// (offered, answered, abandoned, handled, each with its time); the windows
// are computed from it on the model's goroutine whenever the queue is
// copied, and Age marks a queue changed when something leaves a window, so
// the boards see windows shrink without any new event.

// WindowSpans are the rolling windows every queue reports, shortest first.
var WindowSpans = []time.Duration{15 * time.Minute, 30 * time.Minute, 60 * time.Minute}

// maxHistory bounds one queue's history: beyond it the oldest entries are
// dropped (and the 60-minute window undercounts), so a flood cannot grow
// memory without limit.
const maxHistory = 50000

// maxSegments bounds an agent's timeline for one day; beyond it the oldest
// segments are merged away.
const maxSegments = 2000

// maxWaitingShown bounds the waiting contacts a queue copy lists.
const maxWaitingShown = 100

// QueueSettings say how a queue's service level is counted. The zero value
// is not valid; New fills SLThreshold from Options.ServiceLevel.
type QueueSettings struct {
	// SLThreshold: a contact answered within this wait counts for service level.
	SLThreshold time.Duration
	// ShortAbandon: an abandon within this wait is a short abandon, never
	// counted against service level (0: none are).
	ShortAbandon time.Duration
	// ExcludeAbandons leaves abandons out of the service-level denominator
	// (the default counts them: answered + abandoned).
	ExcludeAbandons bool
}

// QueueRule sets the settings of the queues it matches: Queue is a queue id
// or name, Source "" matches every source. The first matching rule wins.
type QueueRule struct {
	Source, Queue string
	Settings      QueueSettings
}

// Figures are a queue's counters over some period (today, or a window).
type Figures struct {
	Offered        int
	Answered       int
	AnsweredInSL   int
	Abandoned      int // every abandon, short ones included
	ShortAbandoned int // abandons within the short-abandon threshold
	Handled        int
	HandleTotal    time.Duration
}

// ServiceLevel is answered within the threshold ÷ (answered + abandoned
// beyond the short-abandon threshold), or ÷ answered when s excludes
// abandons; ok is false before there is anything to divide.
func (f Figures) ServiceLevel(s QueueSettings) (float64, bool) {
	den := f.Answered
	if !s.ExcludeAbandons {
		den += f.Abandoned - f.ShortAbandoned
	}
	if den <= 0 {
		return 0, false
	}
	return float64(f.AnsweredInSL) / float64(den), true
}

// AverageHandle is HandleTotal ÷ Handled; ok is false before any.
func (f Figures) AverageHandle() (time.Duration, bool) {
	if f.Handled == 0 {
		return 0, false
	}
	return f.HandleTotal / time.Duration(f.Handled), true
}

// Add sums two sets of figures (a board's total over its queues).
func (f Figures) Add(o Figures) Figures {
	return Figures{Offered: f.Offered + o.Offered, Answered: f.Answered + o.Answered, AnsweredInSL: f.AnsweredInSL + o.AnsweredInSL,
		Abandoned: f.Abandoned + o.Abandoned, ShortAbandoned: f.ShortAbandoned + o.ShortAbandoned,
		Handled: f.Handled + o.Handled, HandleTotal: f.HandleTotal + o.HandleTotal}
}

// Window is a queue's figures over the span up to the time of the copy.
type Window struct {
	Span time.Duration
	Figures
}

// WaitingContact is a contact waiting in a queue now.
type WaitingContact struct {
	ID    string
	Since time.Time
}

// Today returns today's figures.
func (q Queue) Today() Figures {
	return Figures{Offered: q.Offered, Answered: q.Answered, AnsweredInSL: q.AnsweredInSL, Abandoned: q.Abandoned,
		ShortAbandoned: q.ShortAbandoned, Handled: q.Handled, HandleTotal: q.HandleTotal}
}

// Window returns the window of span d, if the copy has one.
func (q Queue) Window(d time.Duration) (Window, bool) {
	for _, w := range q.Windows {
		if w.Span == d {
			return w, true
		}
	}
	return Window{}, false
}

type histKind uint8

const (
	hOffered histKind = iota
	hAnswered
	hAbandoned
	hHandled
)

// histEntry is one event of a queue's last hour, in 16 bytes: a busy floor
// keeps hundreds of thousands of them.
type histEntry struct {
	ns     int64 // when, Unix nanoseconds (nanos)
	handle int32 // hHandled: handling time in milliseconds
	kind   histKind
	inSL   bool // hAnswered: within the threshold
	short  bool // hAbandoned: a short abandon
}

func newHist(at time.Time, kind histKind) histEntry { return histEntry{ns: nanos(at), kind: kind} }

// nanos is t in Unix nanoseconds; the zero time sorts before every other.
func nanos(t time.Time) int64 {
	if t.IsZero() {
		return math.MinInt64
	}
	return t.UnixNano()
}

// handleMS is d in whole milliseconds, within an int32.
func handleMS(d time.Duration) int32 { return int32(min(max(d.Milliseconds(), 0), math.MaxInt32)) }

// record adds an entry at its time, keeping the history in time order; an
// entry older than the longest window is not kept.
func (q *queue) record(now time.Time, e histEntry) {
	longest := WindowSpans[len(WindowSpans)-1]
	if !now.IsZero() && e.ns <= nanos(now.Add(-longest)) {
		return
	}
	i := len(q.hist)
	for i > 0 && q.hist[i-1].ns > e.ns {
		i--
	}
	q.hist = slices.Insert(q.hist, i, e)
	if len(q.hist) > maxHistory {
		q.hist = slices.Delete(q.hist, 0, len(q.hist)-maxHistory)
	}
	q.nextAge = time.Time{} // recompute on the next copy
}

// windows computes the rolling windows ending at now, and when the next of
// them will change by an entry leaving it.
func (q *queue) windows(now time.Time) []Window {
	out := make([]Window, len(WindowSpans))
	var next time.Time
	nowNS := nanos(now)
	for i, span := range WindowSpans {
		out[i].Span = span
		from := nanos(now.Add(-span))
		start := sort.Search(len(q.hist), func(j int) bool { return q.hist[j].ns > from })
		f := &out[i].Figures
		for _, e := range q.hist[start:] {
			if e.ns > nowNS {
				break // stamped ahead of our clock: counted once its time has come
			}
			switch e.kind {
			case hOffered:
				f.Offered++
			case hAnswered:
				f.Answered++
				if e.inSL {
					f.AnsweredInSL++
				}
			case hAbandoned:
				f.Abandoned++
				if e.short {
					f.ShortAbandoned++
				}
			case hHandled:
				f.Handled++
				f.HandleTotal += time.Duration(e.handle) * time.Millisecond
			}
		}
		if start < len(q.hist) {
			at := time.Unix(0, q.hist[start].ns)
			t := at.Add(span)
			if q.hist[start].ns > nowNS {
				t = at
			}
			if next.IsZero() || t.Before(next) {
				next = t
			}
		}
	}
	q.nextAge = next
	return out
}

// Age drops history older than the longest window and marks changed every
// queue whose windows have changed since they were last copied (an entry
// left one). The loop calls it on every tick.
func (m *Model) Age(now time.Time) {
	if now.After(m.now) {
		m.now = now
	}
	m.ivAdvance(now)
	m.trendTick()
	cut := nanos(now.Add(-WindowSpans[len(WindowSpans)-1]))
	for k, q := range m.queues {
		if len(q.hist) == 0 {
			continue
		}
		if n := sort.Search(len(q.hist), func(j int) bool { return q.hist[j].ns > cut }); n > 0 {
			q.hist = slices.Delete(q.hist, 0, n)
		}
		if q.nextAge.IsZero() || !now.Before(q.nextAge) {
			m.dirty.Queues[k] = true
		}
	}
}

// settingsFor returns the settings of the queue: the first rule that
// matches its source and id or name, else the defaults.
func (m *Model) settingsFor(source, id, name string) QueueSettings {
	for _, r := range m.rules {
		if (r.Source == "" || r.Source == source) && (r.Queue == id || r.Queue == name) {
			s := r.Settings
			if s.SLThreshold <= 0 {
				s.SLThreshold = m.sl
			}
			return s
		}
	}
	return QueueSettings{SLThreshold: m.sl}
}

// resettle re-resolves a queue's settings (its name may match a rule).
func (m *Model) resettle(q *queue) {
	q.Settings = m.settingsFor(q.Source, q.ID, q.Name)
}

// Segment is one stretch of an agent's day in one state (and reason).
type Segment struct {
	State  event.State
	Reason string
	From   time.Time
}

// AgentDay is one agent's day so far: timeline, contacts handled, and time
// in each state.
type AgentDay struct {
	Agent       Agent
	Day         string
	Segments    []Segment // oldest first; the last one runs until now
	Handled     int       // contacts the agent answered that ended today
	HandleTotal time.Duration
	InState     []StateTime // time in each state and reason today, longest first
}

// StateTime is the time an agent spent in one state (and reason).
type StateTime struct {
	State  event.State
	Reason string
	Total  time.Duration
}

// AverageHandle is the agent's average handle time today.
func (d AgentDay) AverageHandle() (time.Duration, bool) {
	if d.Handled == 0 {
		return 0, false
	}
	return d.HandleTotal / time.Duration(d.Handled), true
}

// segment appends the agent's new state to its day.
func (m *Model) segment(a *agent) {
	if !m.today(a.Since) {
		return
	}
	a.day = append(a.day, Segment{State: a.State, Reason: a.Reason, From: a.Since})
	if len(a.day) > maxSegments {
		a.day = slices.Delete(a.day, 0, len(a.day)-maxSegments)
	}
}

// AgentDay returns agent k's day up to now.
func (m *Model) AgentDay(k Key, now time.Time) (AgentDay, bool) {
	a := m.agents[k]
	if a == nil {
		return AgentDay{}, false
	}
	d := AgentDay{Agent: a.copy(), Day: m.day, Handled: a.handled, HandleTotal: a.handleTotal,
		Segments: slices.Clone(a.day)}
	if len(d.Segments) == 0 && a.State != event.StateUnknown {
		// Nothing recorded today (a restart): the current state, from the
		// start of the day at the earliest.
		from := a.Since
		if start := m.dayStart(); from.Before(start) {
			from = start
		}
		d.Segments = []Segment{{State: a.State, Reason: a.Reason, From: from}}
	}
	totals := map[[2]string]time.Duration{}
	for i, s := range d.Segments {
		end := now
		if i+1 < len(d.Segments) {
			end = d.Segments[i+1].From
		}
		if end.After(s.From) {
			totals[[2]string{string(s.State), s.Reason}] += end.Sub(s.From)
		}
	}
	for k, t := range totals {
		d.InState = append(d.InState, StateTime{State: event.State(k[0]), Reason: k[1], Total: t})
	}
	sort.Slice(d.InState, func(i, j int) bool {
		if d.InState[i].Total != d.InState[j].Total {
			return d.InState[i].Total > d.InState[j].Total
		}
		return d.InState[i].State+event.State(d.InState[i].Reason) < d.InState[j].State+event.State(d.InState[j].Reason)
	})
	return d, true
}

// dayStart is midnight of the model's day in its zone.
func (m *Model) dayStart() time.Time {
	t, err := time.ParseInLocation(time.DateOnly, m.day, m.loc)
	if err != nil {
		return time.Time{}
	}
	return t
}

// startDay restarts an agent's day at midnight in its current state.
func (m *Model) startDay(a *agent) {
	a.handled, a.handleTotal = 0, 0
	a.day = a.day[:0]
	if a.State != event.StateUnknown && a.State != event.StateLoggedOut {
		a.day = append(a.day, Segment{State: a.State, Reason: a.Reason, From: m.dayStart()})
	}
}

// handledBy counts a handled contact for the agent.
func (m *Model) handledBy(source, agentID string, d time.Duration) {
	if agentID == "" {
		return
	}
	if a := m.agents[Key{source, agentID}]; a != nil {
		a.handled++
		if d > 0 {
			a.handleTotal += d
		}
	}
}

// waitingList lists the queue's waiting contacts, oldest first (bounded).
func (q *queue) waitingList() []WaitingContact {
	if len(q.waiting) == 0 {
		return nil
	}
	out := make([]WaitingContact, 0, len(q.waiting))
	for id, t := range q.waiting {
		out = append(out, WaitingContact{ID: id, Since: t})
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Since.Equal(out[j].Since) {
			return out[i].Since.Before(out[j].Since)
		}
		return out[i].ID < out[j].ID
	})
	if len(out) > maxWaitingShown {
		out = out[:maxWaitingShown]
	}
	return out
}

// abandon counts an abandon of a contact that waited from queuedAt to at.
func (m *Model) abandon(q *queue, queuedAt, at time.Time) {
	short := q.Settings.ShortAbandon > 0 && !queuedAt.IsZero() && at.Sub(queuedAt) < q.Settings.ShortAbandon
	q.Abandoned++
	q.iv.abandoned++
	if short {
		q.ShortAbandoned++
		q.iv.short++
	}
	h := newHist(at, hAbandoned)
	h.short = short
	q.record(m.now, h)
}
