package vendorsim

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/wallboard/wallboard/internal/event"
)

// Options configure a simulated contact center.
type Options struct {
	Prefix       string        // prefix of every id, so several simulations never collide
	Agents       int           // default 24
	Queues       int           // default 4
	Seed         int64         // the same seed plays the same day
	ServiceLevel time.Duration // for Truth's AnsweredInSL; default 20s
	Now          func() time.Time
	// QueueNames name the queues in order (default: Sales, Support, …).
	QueueNames []string
	// Pace scales how busy the floor is: call arrivals per minute per
	// queue at 1.0 are about 6. Default 1.
	Pace float64
}

// Sim is a seeded contact-center simulation. It owns its agents, queues and
// calls, emits every change as an Action to its subscribers, and keeps the
// ground truth. It is safe for concurrent use.
type Sim struct {
	opts Options

	mu     sync.Mutex
	rng    *rand.Rand
	now    time.Time // simulation time of the last step
	seq    int64
	agents []*simAgent
	byID   map[string]*simAgent // agents by id: Do on a floor of thousands (the load tool) must not scan them all
	queues []*simQueue
	calls  map[string]*simCall
	nextID int
	day    string
	subs   []*Subscription
	truth  map[string]*TruthQueue
}

type simAgent struct {
	info   AgentInfo
	state  event.State
	reason string
	since  time.Time
	until  time.Time // when the current state ends by itself (zero: on demand)
	call   string
}

type simQueue struct {
	info     QueueInfo
	waiting  []string // call ids in arrival order
	nextCall time.Time
}

type simCall struct {
	id, queue, agent string
	queuedAt         time.Time
	answeredAt       time.Time
	patience         time.Time // abandons when still waiting then
	ringUntil        time.Time
	endAt            time.Time
	rejected         bool
}

var (
	firstNames = []string{"Marcus", "Aisha", "Tom", "Priya", "Chen", "Sofia", "Liam", "Fatima", "Noah", "Elena",
		"Kwame", "Hannah", "Diego", "Yuki", "Omar", "Grace", "Lucas", "Zara", "Ivan", "Maya", "Ben", "Leila",
		"Sam", "Nina", "Jonas", "Ruth", "Ali", "Clara", "Pavel", "Amara"}
	lastNames = []string{"Lee", "Khan", "Walsh", "Patel", "Wei", "Rossi", "Murphy", "Haddad", "Jones", "Novak",
		"Mensah", "Schmidt", "Garcia", "Sato", "Farouk", "Okafor", "Martin", "Ahmed", "Petrov", "Cohen"}
	queueNames = []string{"Sales", "Support", "Billing", "Renewals", "Technical", "Retention", "Claims", "Bookings",
		"Returns", "Onboarding"}
	reasons = []struct {
		name     string
		min, max time.Duration
	}{{"Break", 30 * time.Second, 3 * time.Minute}, {"Lunch", 2 * time.Minute, 6 * time.Minute},
		{"Training", time.Minute, 4 * time.Minute}, {"Meeting", time.Minute, 3 * time.Minute},
		{"Coaching", 40 * time.Second, 2 * time.Minute}}
)

// NewSim returns a simulation whose agents start logged out; the first steps
// log most of them in.
func NewSim(o Options) *Sim {
	if o.Agents == 0 {
		o.Agents = 24
	}
	if o.Queues == 0 {
		o.Queues = 4
	}
	if o.ServiceLevel == 0 {
		o.ServiceLevel = 20 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Pace == 0 {
		o.Pace = 1
	}
	s := &Sim{opts: o, rng: rand.New(rand.NewPCG(uint64(o.Seed), uint64(o.Seed)^0x9e3779b97f4a7c15)),
		calls: map[string]*simCall{}, truth: map[string]*TruthQueue{}, byID: map[string]*simAgent{}}
	s.now = o.Now()
	s.day = s.now.Format(time.DateOnly)
	for i := 0; i < o.Queues; i++ {
		names := queueNames
		if len(o.QueueNames) > 0 {
			names = o.QueueNames
		}
		name := names[i%len(names)]
		if i >= len(names) {
			name = fmt.Sprintf("%s %d", name, i/len(names)+1)
		}
		q := &simQueue{info: QueueInfo{ID: fmt.Sprintf("%sq%d", o.Prefix, 100+i), Name: name}}
		q.nextCall = s.now.Add(s.interarrival())
		s.queues = append(s.queues, q)
		s.truth[q.info.ID] = &TruthQueue{}
	}
	for i := 0; i < o.Agents; i++ {
		name := firstNames[(i+int(o.Seed))%len(firstNames)] + " " + lastNames[(i*7+int(o.Seed))%len(lastNames)]
		a := &simAgent{info: AgentInfo{ID: fmt.Sprintf("%sag%03d", o.Prefix, i+1), Name: name},
			state: event.StateLoggedOut, since: s.now}
		// Each agent serves one or two queues.
		first := i % o.Queues
		a.info.Queues = []string{s.queues[first].info.ID}
		if o.Queues > 1 && i%3 == 0 {
			a.info.Queues = append(a.info.Queues, s.queues[(first+1)%o.Queues].info.ID)
		}
		// Most agents log in within the first seconds.
		a.until = s.now.Add(time.Duration(s.rng.IntN(4000)) * time.Millisecond)
		if i%10 == 9 {
			a.until = time.Time{} // stays logged out
		}
		s.agents = append(s.agents, a)
		s.byID[a.info.ID] = a
	}
	return s
}

// Agents returns the agents' provisioning.
func (s *Sim) Agents() []AgentInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]AgentInfo, len(s.agents))
	for i, a := range s.agents {
		out[i] = a.info
		out[i].Queues = slices.Clone(a.info.Queues)
	}
	return out
}

// Queues returns the queues.
func (s *Sim) Queues() []QueueInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]QueueInfo, len(s.queues))
	for i, q := range s.queues {
		out[i] = q.info
	}
	return out
}

// Subscription delivers a Sim's actions in order. Its buffer is unbounded so
// that a slow emulator never holds the simulation up.
type Subscription struct {
	c      chan Action
	mu     sync.Mutex
	buf    []Action
	wake   chan struct{}
	done   chan struct{}
	closed bool
	sim    *Sim
}

// C returns the channel of actions.
func (sub *Subscription) C() <-chan Action { return sub.c }

// Close stops the subscription.
func (sub *Subscription) Close() {
	sub.sim.mu.Lock()
	sub.sim.subs = slices.DeleteFunc(sub.sim.subs, func(x *Subscription) bool { return x == sub })
	sub.sim.mu.Unlock()
	sub.mu.Lock()
	if !sub.closed {
		sub.closed = true
		close(sub.done)
	}
	sub.mu.Unlock()
}

func (sub *Subscription) push(a Action) {
	sub.mu.Lock()
	sub.buf = append(sub.buf, a)
	sub.mu.Unlock()
	select {
	case sub.wake <- struct{}{}:
	default:
	}
}

func (sub *Subscription) pump() {
	defer close(sub.c)
	for {
		sub.mu.Lock()
		batch := sub.buf
		sub.buf = nil
		sub.mu.Unlock()
		for _, a := range batch {
			select {
			case sub.c <- a:
			case <-sub.done:
				return
			}
		}
		select {
		case <-sub.wake:
		case <-sub.done:
			return
		}
	}
}

// Subscribe returns every action from now on.
func (s *Sim) Subscribe() *Subscription {
	sub := &Subscription{c: make(chan Action), wake: make(chan struct{}, 1), done: make(chan struct{}), sim: s}
	go sub.pump()
	s.mu.Lock()
	s.subs = append(s.subs, sub)
	s.mu.Unlock()
	return sub
}

// Run advances the simulation in real time until ctx ends.
func (s *Sim) Run(ctx context.Context) {
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.Step(s.opts.Now())
		}
	}
}

// Truth returns the ground truth.
func (s *Sim) Truth() Truth {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := Truth{At: s.now, Agents: map[string]TruthAgent{}, Queues: map[string]TruthQueue{}}
	for _, a := range s.agents {
		t.Agents[a.info.ID] = TruthAgent{State: a.state, Reason: a.reason, Since: a.since}
	}
	for _, q := range s.queues {
		tq := *s.truth[q.info.ID]
		tq.Waiting = len(q.waiting)
		if len(q.waiting) > 0 {
			tq.OldestWaiting = s.calls[q.waiting[0]].queuedAt
		}
		t.Queues[q.info.ID] = tq
	}
	return t
}

// Do injects one action (tests and demos use it to make a known change). It
// is applied to the simulation's state, so the ground truth follows. Only
// ActionAgentState and ActionCallQueued are accepted; others are ignored.
func (s *Sim) Do(a Action) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !a.At.IsZero() && a.At.After(s.now) {
		s.now = a.At
	}
	switch a.Kind {
	case ActionAgentState:
		if ag := s.byID[a.Agent]; ag != nil {
			if ag.call != "" {
				s.releaseCall(ag)
			}
			until := time.Time{}
			if a.State != event.StateLoggedOut {
				until = s.now.Add(time.Minute) // the floor carries on afterwards
			}
			s.setState(ag, a.State, a.Reason, until)
		}
	case ActionCallQueued:
		for _, q := range s.queues {
			if q.info.ID == a.Queue {
				s.newCall(q)
			}
		}
	}
}

// Step advances the simulation to now, emitting every action due.
func (s *Sim) Step(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if now.Before(s.now) {
		return
	}
	s.now = now
	if d := now.Format(time.DateOnly); d != s.day {
		s.day = d
		for _, t := range s.truth {
			*t = TruthQueue{}
		}
	}
	// Agents whose timed state ends.
	for _, a := range s.agents {
		if a.until.IsZero() || now.Before(a.until) {
			continue
		}
		a.until = time.Time{}
		switch a.state {
		case event.StateLoggedOut:
			s.setState(a, event.StateNotReady, "Login", now.Add(s.dur(3*time.Second, 8*time.Second)))
		case event.StateNotReady:
			s.setState(a, event.StateAvailable, "", now.Add(s.dur(20*time.Second, 90*time.Second)))
		case event.StateAvailable:
			// An idle agent occasionally takes a break.
			if s.rng.IntN(7) == 0 {
				r := reasons[s.rng.IntN(len(reasons))]
				s.setState(a, event.StateNotReady, r.name, now.Add(s.dur(r.min, r.max)))
			} else {
				a.until = now.Add(s.dur(20*time.Second, 60*time.Second))
			}
		case event.StateWrapUp:
			s.setState(a, event.StateAvailable, "", now.Add(s.dur(20*time.Second, 90*time.Second)))
		}
	}
	// Calls: ringing → answered (or rejected), talking → ended, waiting → abandoned.
	for _, id := range s.sortedCalls() {
		c := s.calls[id]
		switch {
		case c.agent != "" && c.answeredAt.IsZero() && !now.Before(c.ringUntil):
			a := s.agent(c.agent)
			if !c.rejected && s.rng.IntN(12) == 0 {
				c.rejected = true
				c.agent = ""
				a.call = ""
				s.emit(Action{Kind: ActionCallRejected, Agent: a.info.ID, Queue: c.queue, Call: c.id, QueuedAt: c.queuedAt})
				q := s.queue(c.queue)
				q.waiting = append([]string{c.id}, q.waiting...)
				s.setState(a, event.StateAvailable, "", now.Add(s.dur(20*time.Second, 60*time.Second)))
				continue
			}
			c.answeredAt = now
			c.endAt = now.Add(s.dur(15*time.Second, 100*time.Second))
			t := s.truth[c.queue]
			t.Answered++
			if now.Sub(c.queuedAt) <= s.opts.ServiceLevel {
				t.AnsweredInSL++
			}
			s.emit(Action{Kind: ActionCallAnswered, Agent: a.info.ID, Queue: c.queue, Call: c.id, QueuedAt: c.queuedAt})
			s.setState(a, event.StateBusy, "", time.Time{})
		case !c.answeredAt.IsZero() && !now.Before(c.endAt):
			a := s.agent(c.agent)
			t := s.truth[c.queue]
			t.Handled++
			t.HandleTotal += now.Sub(c.answeredAt)
			delete(s.calls, c.id)
			a.call = ""
			s.emit(Action{Kind: ActionCallEnded, Agent: a.info.ID, Queue: c.queue, Call: c.id, QueuedAt: c.queuedAt})
			s.setState(a, event.StateWrapUp, "", now.Add(s.dur(5*time.Second, 20*time.Second)))
		case c.agent == "" && !now.Before(c.patience):
			s.truth[c.queue].Abandoned++
			q := s.queue(c.queue)
			q.waiting = slices.DeleteFunc(q.waiting, func(x string) bool { return x == c.id })
			delete(s.calls, c.id)
			s.emit(Action{Kind: ActionCallAbandoned, Queue: c.queue, Call: c.id, QueuedAt: c.queuedAt})
		}
	}
	// New calls.
	for _, q := range s.queues {
		for !now.Before(q.nextCall) {
			q.nextCall = q.nextCall.Add(s.interarrival())
			s.newCall(q)
		}
	}
	// Route waiting calls to available agents, longest idle first.
	for _, q := range s.queues {
		for len(q.waiting) > 0 {
			a := s.idleAgent(q.info.ID)
			if a == nil {
				break
			}
			c := s.calls[q.waiting[0]]
			q.waiting = q.waiting[1:]
			c.agent = a.info.ID
			c.ringUntil = now.Add(s.dur(time.Second, 4*time.Second))
			a.call = c.id
			s.emit(Action{Kind: ActionCallOffered, Agent: a.info.ID, Queue: q.info.ID, Call: c.id, QueuedAt: c.queuedAt})
			s.setState(a, event.StateOffered, "", time.Time{})
		}
	}
}

func (s *Sim) newCall(q *simQueue) {
	s.nextID++
	c := &simCall{id: fmt.Sprintf("%scall%06d", s.opts.Prefix, s.nextID), queue: q.info.ID, queuedAt: s.now,
		patience: s.now.Add(s.dur(15*time.Second, 120*time.Second))}
	s.calls[c.id] = c
	q.waiting = append(q.waiting, c.id)
	s.truth[q.info.ID].Offered++
	s.emit(Action{Kind: ActionCallQueued, Queue: q.info.ID, Call: c.id, QueuedAt: c.queuedAt})
}

// releaseCall ends the call an agent holds when a forced state change takes
// the agent away (the call counts as handled when it was answered).
func (s *Sim) releaseCall(a *simAgent) {
	c := s.calls[a.call]
	a.call = ""
	if c == nil {
		return
	}
	if c.answeredAt.IsZero() {
		c.agent = ""
		q := s.queue(c.queue)
		q.waiting = append([]string{c.id}, q.waiting...)
		s.emit(Action{Kind: ActionCallRejected, Agent: a.info.ID, Queue: c.queue, Call: c.id, QueuedAt: c.queuedAt})
		return
	}
	t := s.truth[c.queue]
	t.Handled++
	t.HandleTotal += s.now.Sub(c.answeredAt)
	delete(s.calls, c.id)
	s.emit(Action{Kind: ActionCallEnded, Agent: a.info.ID, Queue: c.queue, Call: c.id, QueuedAt: c.queuedAt})
}

func (s *Sim) setState(a *simAgent, st event.State, reason string, until time.Time) {
	a.state, a.reason, a.since, a.until = st, reason, s.now, until
	s.emit(Action{Kind: ActionAgentState, Agent: a.info.ID, State: st, Reason: reason})
}

func (s *Sim) emit(a Action) {
	s.seq++
	a.Seq = s.seq
	a.At = s.now
	for _, sub := range s.subs {
		sub.push(a)
	}
}

func (s *Sim) idleAgent(queue string) *simAgent {
	var best *simAgent
	for _, a := range s.agents {
		if a.state == event.StateAvailable && a.call == "" && slices.Contains(a.info.Queues, queue) {
			if best == nil || a.since.Before(best.since) {
				best = a
			}
		}
	}
	return best
}

func (s *Sim) agent(id string) *simAgent { return s.byID[id] }

func (s *Sim) queue(id string) *simQueue {
	for _, q := range s.queues {
		if q.info.ID == id {
			return q
		}
	}
	return nil
}

func (s *Sim) sortedCalls() []string {
	ids := make([]string, 0, len(s.calls))
	for id := range s.calls {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

func (s *Sim) dur(lo, hi time.Duration) time.Duration {
	return lo + time.Duration(s.rng.Int64N(int64(hi-lo)+1))
}

func (s *Sim) interarrival() time.Duration {
	// Exponential with a mean of 10 s / Pace.
	mean := 10 * time.Second.Seconds() / s.opts.Pace
	return time.Duration(s.rng.ExpFloat64() * mean * float64(time.Second))
}
