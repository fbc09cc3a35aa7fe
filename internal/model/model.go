// Package model is the floor: agents, queues, waiting contacts and today's
// counters, built by applying normalized events. A Model is not safe for
// concurrent use: one goroutine (Loop) owns it, and everyone else reads copies
// (Delta, Snapshot). It knows nothing of vendors or HTML.
package model

import (
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/wallboard/wallboard/internal/event"
)

// Key identifies an agent, queue or contact: vendor ids are unique only
// within their source.
type Key struct {
	Source, ID string
}

// Less orders keys by (source, id).
func (k Key) Less(o Key) bool {
	if k.Source != o.Source {
		return k.Source < o.Source
	}
	return k.ID < o.ID
}

// Agent is one agent as the boards show it. Values handed out are copies.
type Agent struct {
	Key
	Name        string
	State       event.State
	Reason      string
	Since       time.Time
	Queues      []string
	Interaction string            // the contact the agent is offered or handling
	Measures    map[string]string // vendor measures, merged over producers
}

// Queue is one queue with today's counters.
type Queue struct {
	Key
	Name          string
	Waiting       int
	OldestWaiting time.Time // zero when nothing waits
	Offered       int
	Answered      int
	AnsweredInSL  int
	Abandoned     int
	Handled       int           // answered contacts that ended today
	HandleTotal   time.Duration // their summed handle time (answer to end)
	// AnswerWait sums the time in queue of today's answered contacts whose
	// queueing time is known (AnswerWaited of them): the average speed of
	// answer.
	AnswerWait   time.Duration
	AnswerWaited int
	Measures     map[string]string
	// ShortAbandoned: today's abandons within the short-abandon threshold
	// (also counted in Abandoned).
	ShortAbandoned int
	// Settings: how service level is counted for this queue (windows.go).
	Settings QueueSettings
	// Windows are the rolling windows (WindowSpans) ending when the copy
	// was made; WaitingContacts the contacts waiting now, oldest first.
	Windows         []Window
	WaitingContacts []WaitingContact
	// Trend: waiting over the last hour, the day's figures by interval
	// (trend.go).
	Trend Trend
}

// ServiceLevel is today's service level under the queue's settings (see
// Figures.ServiceLevel); ok is false before there is anything to divide.
func (q Queue) ServiceLevel() (sl float64, ok bool) {
	return q.Today().ServiceLevel(q.Settings)
}

// AverageSpeedOfAnswer is today's average time in queue of answered
// contacts; ok is false before any.
func (q Queue) AverageSpeedOfAnswer() (d time.Duration, ok bool) {
	if q.AnswerWaited == 0 {
		return 0, false
	}
	return q.AnswerWait / time.Duration(q.AnswerWaited), true
}

// AverageHandle is today's average handle time; ok is false before any.
func (q Queue) AverageHandle() (d time.Duration, ok bool) {
	if q.Handled == 0 {
		return 0, false
	}
	return q.HandleTotal / time.Duration(q.Handled), true
}

// SourceState is a source's status as the model last heard it.
type SourceState struct {
	Name   string
	Status event.Status
	Detail string
	Since  time.Time // when it entered Status
}

// Options configure a Model.
type Options struct {
	Location     *time.Location // "today" is a day in this zone; default UTC
	ServiceLevel time.Duration  // answered within it counts for service level; default 20s
	// DedupSize bounds the memory of seen event ids per model; default 131072.
	DedupSize int
	// Sources pre-registers the configured sources, so they show as
	// connecting before their first status.
	Sources []string
	// QueueRules set per-queue service-level settings (windows.go).
	QueueRules []QueueRule
	// IntervalLength is the length of a history interval (intervals.go);
	// default DefaultIntervalLength. It must divide an hour.
	IntervalLength time.Duration
}

// Model is the floor. Use New.
type Model struct {
	loc  *time.Location
	sl   time.Duration
	day  string
	now  time.Time // time of the latest Apply or Rollover
	seen *dedup

	agents   map[Key]*agent
	queues   map[Key]*queue
	contacts map[Key]*contact
	sources  map[string]*SourceState
	counted  map[Key]countFlags // contacts counted today
	rules    []QueueRule

	// History intervals (intervals.go).
	ivLen  time.Duration
	iv     openInterval
	closed []IntervalSet
	// trendMinute: the minute every queue's trend was last moved to.
	trendMinute int64

	dirty Dirty
}

type agent struct {
	Agent
	producers map[string]map[string]string
	// Today (windows.go): the timeline and contacts handled.
	day         []Segment
	handled     int
	handleTotal time.Duration
	iv          ivAgent // the open interval (intervals.go)
}

type queue struct {
	Queue
	waiting   map[string]time.Time // contact id → queued at
	producers map[string]map[string]string
	hist      []histEntry // the last hour, in time order (windows.go)
	nextAge   time.Time   // when a window next changes; zero: at the next tick
	iv        ivQueue     // the open interval (intervals.go)
	trend     queueTrend  // trend.go
}

type contact struct {
	queue      string // queue it waits in or was answered from; "" after it left without answer
	agent      string
	queuedAt   time.Time
	answeredAt time.Time
	answered   bool
}

type countFlags uint8

const (
	countedAnswered countFlags = 1 << iota
	countedAbandoned
	countedHandled
)

// Dirty is what changed since the last TakeDirty.
type Dirty struct {
	Agents  map[Key]bool
	Queues  map[Key]bool
	Sources map[string]bool
	// Membership: an agent or queue appeared (boards re-lay their grid).
	Membership bool
	// Rollover: the day changed; every queue's counters were reset.
	Rollover bool
}

// Empty reports whether nothing changed.
func (d Dirty) Empty() bool {
	return len(d.Agents) == 0 && len(d.Queues) == 0 && len(d.Sources) == 0 && !d.Membership && !d.Rollover
}

// New returns an empty model.
func New(o Options) *Model {
	if o.Location == nil {
		o.Location = time.UTC
	}
	if o.ServiceLevel <= 0 {
		o.ServiceLevel = 20 * time.Second
	}
	if o.DedupSize <= 0 {
		o.DedupSize = 1 << 17
	}
	if o.IntervalLength <= 0 || time.Hour%o.IntervalLength != 0 {
		o.IntervalLength = DefaultIntervalLength
	}
	m := &Model{loc: o.Location, sl: o.ServiceLevel, seen: newDedup(o.DedupSize),
		agents: map[Key]*agent{}, queues: map[Key]*queue{}, contacts: map[Key]*contact{},
		sources: map[string]*SourceState{}, counted: map[Key]countFlags{}, rules: slices.Clone(o.QueueRules),
		ivLen: o.IntervalLength}
	m.dirty = newDirty()
	for _, s := range o.Sources {
		m.sources[s] = &SourceState{Name: s, Status: event.StatusConnecting}
		m.dirty.Sources[s] = true
	}
	return m
}

func newDirty() Dirty {
	return Dirty{Agents: map[Key]bool{}, Queues: map[Key]bool{}, Sources: map[string]bool{}}
}

// TakeDirty returns what changed since the last call and starts afresh.
func (m *Model) TakeDirty() Dirty {
	d := m.dirty
	m.dirty = newDirty()
	return d
}

// Day returns the current day (YYYY-MM-DD in the model's zone).
func (m *Model) Day() string { return m.day }

// Rollover starts a new day when now is past midnight in the model's zone:
// today's counters reset. It reports whether it did.
func (m *Model) Rollover(now time.Time) bool {
	if now.After(m.now) {
		m.now = now
	}
	day := now.In(m.loc).Format(time.DateOnly)
	if m.day == "" {
		m.day = day
		return false
	}
	if day <= m.day {
		return false
	}
	if midnight, err := time.ParseInLocation(time.DateOnly, day, m.loc); err == nil {
		m.ivDayChange(midnight) // the old day's last interval closes before its counters reset
	}
	m.day = day
	clear(m.counted)
	for k, q := range m.queues {
		q.Offered, q.Answered, q.AnsweredInSL, q.Abandoned, q.Handled, q.HandleTotal = 0, 0, 0, 0, 0, 0
		q.ShortAbandoned, q.AnswerWait, q.AnswerWaited = 0, 0, 0
		q.trend.day = q.trend.day[:0]
		m.dirty.Queues[k] = true
	}
	for _, a := range m.agents {
		m.startDay(a)
	}
	m.dirty.Rollover = true
	return true
}

// today reports whether t falls on the model's current day (so it may count).
func (m *Model) today(t time.Time) bool {
	return t.In(m.loc).Format(time.DateOnly) >= m.day
}

// Apply applies one event at wall-clock time now and reports whether
// anything changed. Duplicates (an ID already seen from that source) and
// stale agent states (older than the agent's current since) change nothing.
func (m *Model) Apply(e event.Event, now time.Time) bool {
	m.Rollover(now)
	if e.At.IsZero() {
		e.At = now
	}
	// The interval clock follows the event's time, never ahead of ours.
	if e.At.Before(now) {
		m.ivAdvance(e.At)
	} else {
		m.ivAdvance(now)
	}
	if e.ID != "" && e.Kind != event.SourceStatus && !m.seen.add(e.Source+"\x00"+e.ID) {
		return false
	}
	switch e.Kind {
	case event.AgentState:
		return m.agentState(e)
	case event.AgentInfo:
		return m.agentInfo(e)
	case event.QueueInfo:
		q := m.queue(e.Source, e.Queue)
		if e.Name != "" && q.Name != e.Name {
			q.Name = e.Name
			m.resettle(q)
			m.dirty.Queues[q.Key] = true
		}
		return m.dirty.Queues[q.Key]
	case event.ContactQueued:
		return m.contactQueued(e)
	case event.ContactOffered:
		return m.contactOffered(e)
	case event.ContactAnswered:
		return m.contactAnswered(e)
	case event.ContactDequeued:
		return m.contactDequeued(e)
	case event.ContactEnded:
		return m.contactEnded(e)
	case event.ContactCompleted:
		return m.contactCompleted(e)
	case event.Measures:
		return m.measures(e)
	case event.AgentRoster:
		return m.agentRoster(e)
	case event.SourceStatus:
		s := m.sources[e.Source]
		if s == nil {
			s = &SourceState{Name: e.Source}
			m.sources[e.Source] = s
		}
		if s.Status == e.Status && s.Detail == e.Detail {
			return false
		}
		if s.Status != e.Status {
			s.Since = e.At
		}
		s.Status, s.Detail = e.Status, e.Detail
		m.dirty.Sources[e.Source] = true
		return true
	}
	return false
}

func (m *Model) agent(source, id string) *agent {
	k := Key{source, id}
	a := m.agents[k]
	if a == nil {
		a = &agent{Agent: Agent{Key: k, Name: id, State: event.StateUnknown}, iv: ivAgent{mark: m.iv.clock}}
		m.agents[k] = a
		m.dirty.Agents[k] = true
		m.dirty.Membership = true
	}
	return a
}

func (m *Model) queue(source, id string) *queue {
	k := Key{source, id}
	q := m.queues[k]
	if q == nil {
		q = &queue{Queue: Queue{Key: k, Name: id}, waiting: map[string]time.Time{}, iv: ivQueue{mark: m.iv.clock}}
		m.resettle(q)
		m.queues[k] = q
		m.dirty.Queues[k] = true
		m.dirty.Membership = true
	}
	return q
}

func (m *Model) agentState(e event.Event) bool {
	if e.Agent == "" || !e.State.Valid() {
		return false
	}
	a := m.agent(e.Source, e.Agent)
	if !a.Since.IsZero() && e.At.Before(a.Since) {
		return m.dirty.Agents[a.Key] // stale: an older update arriving late
	}
	reason := e.Reason
	if e.State != event.StateNotReady {
		reason = ""
	}
	if a.State == e.State && a.Reason == reason {
		return m.dirty.Agents[a.Key] // the same state again keeps its original since
	}
	wasLoggedOut := a.State == event.StateLoggedOut || a.State == event.StateUnknown
	m.ivAgentState(a)
	a.State, a.Reason, a.Since = e.State, reason, e.At
	m.segment(a)
	if e.State == event.StateLoggedOut || e.State == event.StateAvailable || e.State == event.StateNotReady {
		a.Interaction = ""
	}
	if wasLoggedOut != (e.State == event.StateLoggedOut || e.State == event.StateUnknown) {
		m.dirty.Membership = true // boards that hide logged-out agents re-lay their grid
	}
	m.dirty.Agents[a.Key] = true
	return true
}

// agentRoster logs out every agent of e.Source that is not in e.Roster and
// not logged out, unless it changed after e.At (a later event knows
// better than the listing).
func (m *Model) agentRoster(e event.Event) bool {
	in := make(map[string]bool, len(e.Roster))
	for _, id := range e.Roster {
		in[id] = true
	}
	var out []string
	for k, a := range m.agents {
		if k.Source == e.Source && !in[k.ID] && a.State != event.StateLoggedOut {
			out = append(out, k.ID)
		}
	}
	changed := false
	for _, id := range out {
		if m.agentState(event.Event{Kind: event.AgentState, Source: e.Source, Agent: id, State: event.StateLoggedOut, At: e.At}) {
			changed = true
		}
	}
	return changed
}

func (m *Model) agentInfo(e event.Event) bool {
	if e.Agent == "" {
		return false
	}
	a := m.agent(e.Source, e.Agent)
	if e.Name != "" && e.Name != a.Name {
		a.Name = e.Name
		m.dirty.Agents[a.Key] = true
	}
	if e.Queues != nil && !slices.Equal(e.Queues, a.Queues) {
		a.Queues = slices.Clone(e.Queues)
		sort.Strings(a.Queues)
		m.dirty.Agents[a.Key] = true
		m.dirty.Membership = true // queue-filtered boards may gain or lose the agent
	}
	return m.dirty.Agents[a.Key]
}

func (m *Model) contact(e event.Event) *contact {
	k := Key{e.Source, e.Interaction}
	c := m.contacts[k]
	if c == nil {
		c = &contact{}
		m.contacts[k] = c
	}
	return c
}

// unwait removes the contact from its queue's waiting list.
func (m *Model) unwait(source, id string, c *contact) {
	if c.queue == "" {
		return
	}
	if q := m.queues[Key{source, c.queue}]; q != nil {
		if queuedAt, ok := q.waiting[id]; ok {
			m.ivWaiting(q)
			m.ivDequeued(q, queuedAt)
			delete(q.waiting, id)
			q.refreshWaiting()
			m.trendWaiting(q)
			m.dirty.Queues[q.Key] = true
		}
	}
}

func (q *queue) refreshWaiting() {
	q.Waiting = len(q.waiting)
	q.OldestWaiting = time.Time{}
	for _, t := range q.waiting {
		if q.OldestWaiting.IsZero() || t.Before(q.OldestWaiting) {
			q.OldestWaiting = t
		}
	}
}

func (m *Model) contactQueued(e event.Event) bool {
	if e.Interaction == "" || e.Queue == "" {
		return false
	}
	if m.counted[Key{e.Source, e.Interaction}]&(countedAbandoned|countedHandled) != 0 {
		return false // a late event for a contact that already ended
	}
	queuedAt := e.QueuedAt
	if queuedAt.IsZero() {
		queuedAt = e.At
	}
	c := m.contact(e)
	q := m.queue(e.Source, e.Queue)
	if c.queue != e.Queue || c.queuedAt.IsZero() {
		m.unwait(e.Source, e.Interaction, c)
		// Entering a queue (first time, or transferred to another): offered.
		if m.today(queuedAt) {
			q.Offered++
			q.iv.offered++
		}
		q.record(m.now, newHist(queuedAt, hOffered))
		c.queue, c.queuedAt, c.answered, c.answeredAt = e.Queue, queuedAt, false, time.Time{}
	}
	c.agent = ""
	if t, ok := q.waiting[e.Interaction]; !ok || !t.Equal(c.queuedAt) {
		m.ivWaiting(q)
		q.waiting[e.Interaction] = c.queuedAt
		q.refreshWaiting()
		m.trendWaiting(q)
		q.iv.peak = max(q.iv.peak, q.Waiting)
	}
	m.dirty.Queues[q.Key] = true
	return true
}

func (m *Model) contactOffered(e event.Event) bool {
	if e.Interaction == "" {
		return false
	}
	c := m.contacts[Key{e.Source, e.Interaction}]
	if c == nil {
		if e.Queue == "" {
			return false // never queued here: nothing to count
		}
		c = m.contact(e)
		c.queue, c.queuedAt = e.Queue, e.QueuedAt
	}
	m.unwait(e.Source, e.Interaction, c)
	if e.Agent != "" {
		c.agent = e.Agent
		a := m.agent(e.Source, e.Agent)
		if a.Interaction != e.Interaction {
			a.Interaction = e.Interaction
			m.dirty.Agents[a.Key] = true
		}
	}
	return true
}

func (m *Model) contactAnswered(e event.Event) bool {
	if e.Interaction == "" {
		return false
	}
	k := Key{e.Source, e.Interaction}
	c := m.contacts[k]
	if c == nil {
		c = m.contact(e)
		if e.Queue != "" {
			c.queue, c.queuedAt = e.Queue, e.QueuedAt
		}
	}
	m.unwait(e.Source, e.Interaction, c)
	if e.Agent != "" {
		c.agent = e.Agent
		a := m.agent(e.Source, e.Agent)
		if a.Interaction != e.Interaction {
			a.Interaction = e.Interaction
			m.dirty.Agents[a.Key] = true
		}
	}
	if c.answered {
		return true
	}
	c.answered, c.answeredAt = true, e.At
	if c.queue != "" && m.counted[k]&countedAnswered == 0 && m.today(e.At) {
		q := m.queue(e.Source, c.queue)
		q.Answered++
		q.iv.answered++
		inSL := !c.queuedAt.IsZero() && e.At.Sub(c.queuedAt) <= q.Settings.SLThreshold
		if inSL {
			q.AnsweredInSL++
			q.iv.inSL++
		}
		if !c.queuedAt.IsZero() && !e.At.Before(c.queuedAt) {
			q.AnswerWait += e.At.Sub(c.queuedAt)
			q.AnswerWaited++
		}
		h := newHist(e.At, hAnswered)
		h.inSL = inSL
		q.record(m.now, h)
		m.counted[k] |= countedAnswered
		m.dirty.Queues[q.Key] = true
	}
	return true
}

func (m *Model) contactDequeued(e event.Event) bool {
	c := m.contacts[Key{e.Source, e.Interaction}]
	if c == nil {
		return false
	}
	m.unwait(e.Source, e.Interaction, c)
	if !c.answered {
		c.queue = "" // left without an answer, not by the caller: not an abandon
	}
	return true
}

func (m *Model) contactEnded(e event.Event) bool {
	k := Key{e.Source, e.Interaction}
	c := m.contacts[k]
	if c == nil {
		return false
	}
	m.unwait(e.Source, e.Interaction, c)
	delete(m.contacts, k)
	if c.agent != "" {
		if a := m.agents[Key{e.Source, c.agent}]; a != nil && a.Interaction == e.Interaction {
			a.Interaction = ""
			m.dirty.Agents[a.Key] = true
		}
	}
	if c.queue == "" || !m.today(e.At) {
		return true
	}
	q := m.queue(e.Source, c.queue)
	switch {
	case c.answered && m.counted[k]&countedHandled == 0:
		d := max(e.At.Sub(c.answeredAt), 0)
		q.HandleTotal += d
		q.Handled++
		q.iv.handle += d
		q.iv.handled++
		h := newHist(e.At, hHandled)
		h.handle = handleMS(d)
		q.record(m.now, h)
		m.handledBy(e.Source, c.agent, d)
		m.counted[k] |= countedHandled
	case !c.answered && m.counted[k]&countedAbandoned == 0:
		m.abandon(q, c.queuedAt, e.At)
		m.counted[k] |= countedAbandoned
	default:
		return true
	}
	m.dirty.Queues[q.Key] = true
	return true
}

// contactCompleted counts a finished contact reported after the fact, unless
// live events already counted it.
func (m *Model) contactCompleted(e event.Event) bool {
	if e.Interaction == "" || e.Queue == "" || !m.today(e.At) {
		return false
	}
	k := Key{e.Source, e.Interaction}
	if c := m.contacts[k]; c != nil {
		// Still live here: let the live events finish it, then count.
		e.Kind = event.ContactEnded
		if !c.answered && e.Answered {
			m.contactAnswered(event.Event{Source: e.Source, Interaction: e.Interaction, At: e.AnsweredAt})
		}
		return m.contactEnded(e)
	}
	f := m.counted[k]
	if f&(countedHandled|countedAbandoned) != 0 {
		return false
	}
	q := m.queue(e.Source, e.Queue)
	if f&countedAnswered == 0 {
		queuedAt := e.QueuedAt
		if queuedAt.IsZero() {
			queuedAt = e.At
		}
		if m.today(queuedAt) {
			q.Offered++
			q.iv.offered++
		}
		q.record(m.now, newHist(queuedAt, hOffered))
		if e.Answered {
			q.Answered++
			q.iv.answered++
			inSL := !e.AnsweredAt.IsZero() && e.AnsweredAt.Sub(queuedAt) <= q.Settings.SLThreshold
			if inSL {
				q.AnsweredInSL++
				q.iv.inSL++
			}
			if !e.AnsweredAt.IsZero() && !e.AnsweredAt.Before(queuedAt) {
				q.AnswerWait += e.AnsweredAt.Sub(queuedAt)
				q.AnswerWaited++
			}
			ansAt := e.AnsweredAt
			if ansAt.IsZero() {
				ansAt = e.At
			}
			h := newHist(ansAt, hAnswered)
			h.inSL = inSL
			q.record(m.now, h)
		}
	}
	if e.Answered {
		var d time.Duration
		if !e.AnsweredAt.IsZero() {
			d = max(e.At.Sub(e.AnsweredAt), 0)
		}
		q.HandleTotal += d
		q.Handled++
		q.iv.handle += d
		q.iv.handled++
		h := newHist(e.At, hHandled)
		h.handle = handleMS(d)
		q.record(m.now, h)
		m.handledBy(e.Source, e.Agent, d)
		m.counted[k] = f | countedAnswered | countedHandled
	} else {
		queuedAt := e.QueuedAt
		if queuedAt.IsZero() {
			queuedAt = e.At
		}
		m.abandon(q, queuedAt, e.At)
		m.counted[k] = f | countedAbandoned
	}
	m.dirty.Queues[q.Key] = true
	return true
}

func (m *Model) measures(e event.Event) bool {
	if e.Producer == "" {
		return false
	}
	switch e.MeasureOp {
	case event.MeasureUpsert:
		m.setMeasures(e.Source, e.Producer, e.Set, false)
	case event.MeasureDelete:
		m.setMeasures(e.Source, e.Producer, e.Set, true)
	case event.MeasureReplace:
		for _, a := range m.agents {
			if a.Source == e.Source && a.producers[e.Producer] != nil {
				delete(a.producers, e.Producer)
				a.Measures = merge(a.producers)
				m.dirty.Agents[a.Key] = true
			}
		}
		for _, q := range m.queues {
			if q.Source == e.Source && q.producers[e.Producer] != nil {
				delete(q.producers, e.Producer)
				q.Measures = merge(q.producers)
				m.dirty.Queues[q.Key] = true
			}
		}
		for _, s := range e.Snapshot {
			m.setMeasures(e.Source, e.Producer, s, false)
		}
	default:
		return false
	}
	return true
}

func (m *Model) setMeasures(source, producer string, s event.MeasureSet, del bool) {
	if s.ID == "" {
		return
	}
	var producers *map[string]map[string]string
	var out *map[string]string
	switch s.Target {
	case event.TargetAgent:
		a := m.agent(source, s.ID)
		if s.Name != "" && (a.Name == a.ID || a.Name == "") {
			a.Name = s.Name
		}
		producers, out = &a.producers, &a.Measures
		m.dirty.Agents[a.Key] = true
	case event.TargetQueue:
		q := m.queue(source, s.ID)
		if s.Name != "" && (q.Name == q.ID || q.Name == "") {
			q.Name = s.Name
			m.resettle(q)
		}
		producers, out = &q.producers, &q.Measures
		m.dirty.Queues[q.Key] = true
	default:
		return
	}
	if *producers == nil {
		*producers = map[string]map[string]string{}
	}
	if del {
		delete(*producers, producer)
	} else {
		cur := (*producers)[producer]
		if cur == nil {
			cur = map[string]string{}
			(*producers)[producer] = cur
		}
		maps.Copy(cur, s.Values)
	}
	*out = merge(*producers)
}

// merge flattens producers' measures; on a name clash the producer that sorts
// last wins, so the result does not depend on map order.
func merge(producers map[string]map[string]string) map[string]string {
	if len(producers) == 0 {
		return nil
	}
	names := make([]string, 0, len(producers))
	for p := range producers {
		names = append(names, p)
	}
	sort.Strings(names)
	out := map[string]string{}
	for _, p := range names {
		maps.Copy(out, producers[p])
	}
	return out
}

// Agent returns a copy of the agent with key k.
func (m *Model) Agent(k Key) (Agent, bool) {
	a := m.agents[k]
	if a == nil {
		return Agent{}, false
	}
	return a.copy(), true
}

// Queue returns a copy of the queue with key k.
func (m *Model) Queue(k Key) (Queue, bool) {
	q := m.queues[k]
	if q == nil {
		return Queue{}, false
	}
	return q.copy(m.now), true
}

func (a *agent) copy() Agent {
	c := a.Agent
	c.Queues = slices.Clone(a.Queues)
	c.Measures = maps.Clone(a.Measures)
	return c
}

func (q *queue) copy(now time.Time) Queue {
	c := q.Queue
	c.Measures = maps.Clone(q.Measures)
	c.Windows = q.windows(now)
	c.WaitingContacts = q.waitingList()
	c.Trend = q.trendCopy()
	return c
}

// Snapshot is an immutable copy of the whole model, sorted by (source, id).
type Snapshot struct {
	At      time.Time
	Day     string
	Sources []SourceState
	Agents  []Agent
	Queues  []Queue
}

// Snapshot copies the whole model.
func (m *Model) Snapshot(now time.Time) *Snapshot {
	s := &Snapshot{At: now, Day: m.day}
	for _, src := range m.sources {
		s.Sources = append(s.Sources, *src)
	}
	sort.Slice(s.Sources, func(i, j int) bool { return s.Sources[i].Name < s.Sources[j].Name })
	for _, a := range m.agents {
		s.Agents = append(s.Agents, a.copy())
	}
	sort.Slice(s.Agents, func(i, j int) bool { return s.Agents[i].Key.Less(s.Agents[j].Key) })
	for _, q := range m.queues {
		s.Queues = append(s.Queues, q.copy(now))
	}
	sort.Slice(s.Queues, func(i, j int) bool { return s.Queues[i].Key.Less(s.Queues[j].Key) })
	return s
}

// Delta is what changed, as copies, for the boards.
type Delta struct {
	At         time.Time
	Agents     []Agent
	Queues     []Queue
	Sources    []SourceState
	Membership bool
	Rollover   bool
}

// DeltaOf copies the entities d names.
func (m *Model) DeltaOf(d Dirty, now time.Time) Delta {
	out := Delta{At: now, Membership: d.Membership, Rollover: d.Rollover}
	for k := range d.Agents {
		if a := m.agents[k]; a != nil {
			out.Agents = append(out.Agents, a.copy())
		}
	}
	for k := range d.Queues {
		if q := m.queues[k]; q != nil {
			out.Queues = append(out.Queues, q.copy(now))
		}
	}
	for n := range d.Sources {
		if s := m.sources[n]; s != nil {
			out.Sources = append(out.Sources, *s)
		}
	}
	sort.Slice(out.Agents, func(i, j int) bool { return out.Agents[i].Key.Less(out.Agents[j].Key) })
	sort.Slice(out.Queues, func(i, j int) bool { return out.Queues[i].Key.Less(out.Queues[j].Key) })
	sort.Slice(out.Sources, func(i, j int) bool { return strings.Compare(out.Sources[i].Name, out.Sources[j].Name) < 0 })
	return out
}

// dedup remembers the last n ids in insertion order.
type dedup struct {
	set  map[string]struct{}
	ring []string
	next int
}

func newDedup(n int) *dedup {
	return &dedup{set: make(map[string]struct{}, n), ring: make([]string, n)}
}

// add records id and reports whether it was new.
func (d *dedup) add(id string) bool {
	if _, ok := d.set[id]; ok {
		return false
	}
	if old := d.ring[d.next]; old != "" {
		delete(d.set, old)
	}
	d.ring[d.next] = id
	d.set[id] = struct{}{}
	d.next = (d.next + 1) % len(d.ring)
	return true
}
