package netsapiens

import (
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/wallboard/wallboard/internal/event"
	"github.com/wallboard/wallboard/internal/source"
)

// Translator turns decoded objects of each model into events. It keeps what
// the models say about each agent and call, because a NetSapiens agent's
// state is spread over several models: the agent model gives one entry per
// queue membership with its availability, the call models say who is
// ringing or talking, presence covers users the agent model is silent about.
// It is not safe for concurrent use: the source's Run loop owns it.
type Translator struct {
	source string
	loc    *time.Location
	agents map[string]*agentView
	queues map[string]string // queue id → name ("" when unnamed)
	calls  map[string]*callView
	// notes, when set, receives values no mapping knows.
	notes *source.Notes
	// agentModel: the source subscribes to the agent model, so a call is
	// counted only once the agent model named its queue, also before any
	// queue is named (see isQueue).
	agentModel bool
}

type agentView struct {
	entries   map[string]agentEntry // by queue
	inModel   bool                  // the agent model has reported this agent
	name      string
	ringing   map[string]bool // calls offered to the agent
	talking   map[string]bool // calls the agent answered
	presence  event.State
	presReas  string
	state     event.State // last emitted
	reason    string
	infoSent  bool
	lastQueue []string
	lastName  string
}

type agentEntry struct {
	avail       event.State
	reason      string
	activeCalls int
	dispatchNo  bool
}

type callView struct {
	queue    string
	queuedAt time.Time
	agent    string // offered to or answered by
	answered bool
	ended    bool
	waiting  bool // queued and not offered since
	seen     time.Time
	// held: the call's objects while its destination is not known as a
	// queue. The vendor's agent model posts changes only, so a queue is
	// named when one of its agents changes, which may be after its first
	// calls: they are replayed then (see promote).
	held []heldObject
	// cands: while held, every id the call's objects might name as its
	// queue (see callQueue); naming any of them promotes the call.
	cands []string
}

type heldObject struct {
	model string // "call" or "cdr"
	obj   Object
}

// maxHeld bounds the objects held per call whose destination is not (yet)
// a known queue; a call with more changes is most likely no queue call.
const maxHeld = 64

// NewTranslator returns a Translator for the named source. Datetimes
// without an offset are read in loc (UTC when nil).
func NewTranslator(source string, loc *time.Location) *Translator {
	if loc == nil {
		loc = time.UTC
	}
	return &Translator{source: source, loc: loc, agents: map[string]*agentView{},
		queues: map[string]string{}, calls: map[string]*callView{}}
}

// Translate returns the events for one posted batch of model, received at
// at. Objects it cannot use (no id) are skipped and counted in skipped.
func (t *Translator) Translate(model string, objs []Object, at time.Time) (evs []event.Event, skipped int) {
	for _, o := range objs {
		if t.notes != nil {
			t.unknownFields(o)
		}
		var ok bool
		switch model {
		case "agent":
			evs, ok = t.agent(evs, o, at)
		case "call", "call_origid":
			evs, ok = t.call(evs, o, at)
		case "cdr":
			evs, ok = t.cdr(evs, o, at)
		case "presence":
			evs, ok = t.presence(evs, o, at)
		}
		if !ok {
			skipped++
		}
	}
	t.gc(at)
	return evs, skipped
}

// Queues returns the ids of the queues the agent model has named, sorted.
func (t *Translator) Queues() []string { return slices.Sorted(maps.Keys(t.queues)) }

// KnowQueues records queues named before, e.g. in an earlier run: the
// vendor's agent model posts changes only, so a restarted source would
// otherwise hold a queue's calls until one of its agents changes.
func (t *Translator) KnowQueues(ids []string) {
	for _, id := range ids {
		if _, ok := t.queues[id]; !ok && id != "" {
			t.queues[id] = "" // named again (QueueInfo) when the agent model names it
		}
	}
}

func (t *Translator) view(id string) *agentView {
	a := t.agents[id]
	if a == nil {
		a = &agentView{entries: map[string]agentEntry{}, ringing: map[string]bool{}, talking: map[string]bool{}}
		t.agents[id] = a
	}
	return a
}

func (t *Translator) queue(evs []event.Event, id, name string, at time.Time) []event.Event {
	old, known := t.queues[id]
	if known && (name == "" || name == old) {
		return evs
	}
	t.queues[id] = name
	evs = append(evs, event.Event{Kind: event.QueueInfo, Source: t.source, At: at, Queue: id, Name: name})
	if !known {
		evs = t.promote(evs, id, at)
	}
	return evs
}

// promote replays the held calls to queue id, now known as a queue, as if
// it had been known all along.
func (t *Translator) promote(evs []event.Event, id string, at time.Time) []event.Event {
	var ids []string
	for callID, c := range t.calls {
		if c.held != nil && (c.queue == id || slices.Contains(c.cands, id)) {
			ids = append(ids, callID)
		}
	}
	slices.Sort(ids)
	for _, callID := range ids {
		held := t.calls[callID].held
		delete(t.calls, callID)
		for _, h := range held {
			if h.model == "cdr" {
				evs, _ = t.cdr(evs, h.obj, at)
			} else {
				evs, _ = t.call(evs, h.obj, at)
			}
		}
	}
	return evs
}

// hold keeps o for a call whose destination is not known as a queue.
func (t *Translator) hold(callID, queue string, cands []string, model string, o Object, at time.Time) {
	c := t.calls[callID]
	if c == nil {
		c = &callView{queue: queue}
		t.calls[callID] = c
	}
	c.seen = at
	if len(c.held) < maxHeld {
		c.held = append(c.held, heldObject{model, o})
	}
	for _, id := range cands {
		if id != c.queue && !slices.Contains(c.cands, id) && len(c.cands) < maxCands {
			c.cands = append(c.cands, id)
		}
	}
}

// maxCands bounds the ids a held call may be promoted by.
const maxCands = 16

// callQueue returns the queue o's call is in, and every id o might name as
// its queue. In order: a field that names the queue outright (callqueue);
// the by-user when the by-action is "callqueue" (the call rings an agent
// on the queue's behalf); the first field that may carry the queue
// (orig-to-user, term-sub, term-user, dialed-number, by-user) naming a
// queue the agent model has named; else orig-to-user or term-sub, as read
// before any of these forms was known.
func (t *Translator) callQueue(o Object) (queue string, cands []string) {
	if q := userID(o.Get(fExplicitQueue...)); q != "" {
		return q, nil
	}
	byQueue := strings.EqualFold(o.Get(fByAction...), "callqueue")
	if byQueue {
		if q := userID(o.Get(fByUser...)); q != "" {
			return q, nil
		}
	}
	for _, k := range fQueueCands {
		id := userID(o.Fields[k])
		if id == "" || slices.Contains(cands, id) {
			continue
		}
		if _, ok := t.queues[id]; ok {
			return id, nil
		}
		cands = append(cands, id)
	}
	return userID(o.Get(fCallQueue...)), cands
}

// callAgent returns the agent o's call rings or talks to: the term user,
// else the by-user unless that names the queue; never queue itself nor
// another known queue (the leg that rings a queue).
func (t *Translator) callAgent(o Object, queue string) string {
	agent := userID(o.Get(fTermUser...))
	if agent == "" && !strings.EqualFold(o.Get(fByAction...), "callqueue") {
		agent = userID(o.Get(fByUser...))
	}
	if agent == queue {
		return ""
	}
	if _, ok := t.queues[agent]; ok {
		return ""
	}
	return agent
}

func (t *Translator) agent(evs []event.Event, o Object, at time.Time) ([]event.Event, bool) {
	id := userID(o.Get(fAgentID...))
	if id == "" {
		return evs, false
	}
	a := t.view(id)
	a.inModel = true
	if n := o.Get(fAgentName...); n != "" {
		a.name = n
	}
	q := o.Get(fAgentQueue...)
	if q != "" {
		q = userID(q)
		evs = t.queue(evs, q, o.Get(fQueueName...), at)
	}
	if yes(o.Get(fRemove...)) {
		delete(a.entries, q)
	} else {
		e := agentEntry{avail: event.StateAvailable, activeCalls: o.Int(fActiveCalls...), dispatchNo: no(o.Get(fDispatch...))}
		if v := o.Get(fAvailability...); v != "" {
			if s, ok := AvailabilityState(v); ok {
				e.avail = s
			} else {
				e.avail = event.StateUnknown
				t.unknown(o, "availability", v)
			}
		} else if len(o.Nested) > 0 && t.unreadable(o, "availability", fAvailability) {
			e.avail = event.StateUnknown
		}
		if e.avail == event.StateNotReady {
			e.reason = o.Get(fAgentStatus...)
			if e.reason == "" || strings.EqualFold(e.reason, "manual") {
				e.reason = "Manual"
			}
		}
		a.entries[q] = e
	}
	evs = t.info(evs, id, a, at)
	return t.derive(evs, id, a, at), true
}

// info emits AgentInfo when the agent's name or queue membership changed.
func (t *Translator) info(evs []event.Event, id string, a *agentView, at time.Time) []event.Event {
	queues := make([]string, 0, len(a.entries))
	for q := range a.entries {
		if q != "" {
			queues = append(queues, q)
		}
	}
	slices.Sort(queues)
	if a.infoSent && slices.Equal(queues, a.lastQueue) && a.name == a.lastName {
		return evs
	}
	a.infoSent, a.lastQueue, a.lastName = true, queues, a.name
	return append(evs, event.Event{Kind: event.AgentInfo, Source: t.source, At: at, Agent: id, Name: a.name, Queues: queues})
}

// derive computes the agent's state from everything known and emits it
// when it changed. Precedence: logged out and not ready from the agent
// model; then calls (talking → busy, ringing → offered); then the agent
// model's dispatch flag (not dispatchable after a call → wrap_up); then
// presence for agents the agent model is silent about.
func (t *Translator) derive(evs []event.Event, id string, a *agentView, at time.Time) []event.Event {
	var st event.State // every case below sets it
	reason := ""
	switch {
	case a.inModel && len(a.entries) > 0:
		best := event.StateLoggedOut
		calls, dispatchNo := 0, false
		for _, e := range a.entries {
			calls = max(calls, e.activeCalls)
			dispatchNo = dispatchNo || e.dispatchNo
			if rank(e.avail) < rank(best) {
				best, reason = e.avail, e.reason
			}
		}
		st = best
		if st == event.StateAvailable {
			switch {
			case len(a.talking) > 0 || calls > 0 && len(a.ringing) == 0:
				st = event.StateBusy
			case len(a.ringing) > 0:
				st = event.StateOffered
			case dispatchNo:
				st = event.StateWrapUp
			}
		}
	case a.inModel: // removed from every queue
		st = event.StateLoggedOut
	default:
		switch {
		case len(a.talking) > 0:
			st = event.StateBusy
		case len(a.ringing) > 0:
			st = event.StateOffered
		case a.presence != "":
			st, reason = a.presence, a.presReas
		case a.state == event.StateBusy || a.state == event.StateOffered:
			// Known only from calls, and the call is over: as far as
			// anything says, the agent is free again.
			st = event.StateAvailable
		default:
			return evs // nothing known yet
		}
	}
	if st != event.StateNotReady {
		reason = ""
	}
	if st == a.state && reason == a.reason {
		return evs
	}
	a.state, a.reason = st, reason
	return append(evs, event.Event{Kind: event.AgentState, Source: t.source, At: at, Agent: id, State: st, Reason: reason})
}

// rank orders availabilities across an agent's queues: an agent available
// in any queue is available.
func rank(s event.State) int {
	switch s {
	case event.StateAvailable:
		return 0
	case event.StateNotReady:
		return 1
	case event.StateUnknown:
		return 2
	}
	return 3
}

// SetNotes makes the translator report values no mapping knows to n.
func (t *Translator) SetNotes(n *source.Notes) { t.notes = n }

// unknown reports value of field, from o, as one no mapping knows.
func (t *Translator) unknown(o Object, field, value string) {
	if t.notes != nil {
		t.notes.SetFrame(o.JSON())
		t.notes.Unmapped(field, value, "")
	}
}

// unreadable reports a state field of o that holds an object or array.
func (t *Translator) unreadable(o Object, field string, keys []string) bool {
	for _, k := range keys {
		if slices.Contains(o.Nested, k) {
			if t.notes != nil {
				t.notes.SetFrame(o.JSON())
				t.notes.Unreadable(field, "")
			}
			return true
		}
	}
	return false
}

// unknownFields reports the keys of o that no reading knows and whose
// names say they may carry a state (state, status, presence,
// availability, action): the first sign of a form the tables miss.
func (t *Translator) unknownFields(o Object) {
	for k := range o.Fields {
		if !knownFields[k] && stateLike(k) {
			t.unknown(o, "field", k)
		}
	}
}

// ExpectAgentModel says that the source subscribes to the agent model:
// calls are then held until it names their queue, even before it names
// any, because a call may name its queue only in fields that also name
// agents and dialled numbers (see callQueue).
func (t *Translator) ExpectAgentModel() { t.agentModel = true }

// isQueue reports whether id is a call queue. Without the agent model no
// queue is ever named, and every call counts.
func (t *Translator) isQueue(id string) bool {
	if len(t.queues) == 0 && !t.agentModel {
		return id != ""
	}
	_, ok := t.queues[id]
	return ok
}

func (t *Translator) call(evs []event.Event, o Object, at time.Time) ([]event.Event, bool) {
	callID := o.Get(fOrigCallID...)
	if callID == "" {
		return evs, false
	}
	queue, cands := t.callQueue(o)
	c := t.calls[callID]
	if c == nil || c.held != nil {
		if !t.isQueue(queue) {
			// Not a queue call as far as the agent model has said yet:
			// held until it names the queue (nothing a wallboard counts
			// otherwise).
			t.hold(callID, queue, cands, "call", o, at)
			return evs, true
		}
		c = &callView{queue: queue}
		t.calls[callID] = c
	}
	agent := t.callAgent(o, c.queue) // "" for the leg that rings the queue itself
	c.seen = at
	if c.ended {
		return evs, true // a late or duplicate update of a finished call
	}
	if st := o.Time(t.loc, fStart...); !st.IsZero() && c.queuedAt.IsZero() {
		c.queuedAt = st
	}
	// No event id: an object equal to an earlier one may be a new change
	// (the same agent offered the same call again after rejecting it).
	// Repeated posts are recognized by the call's state instead.
	base := event.Event{Source: t.source, At: at, Interaction: callID, Queue: c.queue}
	answeredAt := o.Time(t.loc, fAnswer...)
	remove := yes(o.Get(fRemove...))

	switch {
	case remove && agent != "" && !c.answered && answeredAt.IsZero():
		if c.agent != agent && (c.agent != "" || c.waiting) {
			// Another leg ended (another agent rang in parallel), or this
			// leg's teardown again while the call waits: no change.
			break
		}
		// The ringing leg to this agent went away unanswered (or, after a
		// restart, a leg this translator never saw): the call waits in the
		// queue again.
		evs = t.setCall(evs, agent, callID, false, false, at)
		c.agent, c.waiting = "", true
		ev := base
		ev.Kind, ev.QueuedAt = event.ContactQueued, c.queuedAt
		evs = append(evs, ev)
	case remove:
		c.ended = true
		if c.agent != "" {
			evs = t.setCall(evs, c.agent, callID, false, false, at)
		}
		ev := base
		ev.Kind = event.ContactEnded
		if rt := o.Time(t.loc, fRelease...); !rt.IsZero() {
			ev.At = rt
		}
		evs = append(evs, ev)
	case agent != "" && (!answeredAt.IsZero() || c.answered):
		if c.answered && c.agent == agent {
			return evs, true
		}
		c.answered, c.agent, c.waiting = true, agent, false
		evs = t.setCall(evs, agent, callID, false, true, at)
		ev := base
		ev.Kind, ev.Agent = event.ContactAnswered, agent
		if !answeredAt.IsZero() {
			ev.At = answeredAt
		}
		evs = append(evs, ev)
	case agent != "":
		if c.agent == agent {
			return evs, true
		}
		if c.agent != "" {
			evs = t.setCall(evs, c.agent, callID, false, false, at)
		}
		c.agent, c.waiting = agent, false
		evs = t.setCall(evs, agent, callID, true, false, at)
		ev := base
		ev.Kind, ev.Agent = event.ContactOffered, agent
		evs = append(evs, ev)
	default:
		if c.answered || c.waiting || c.agent != "" {
			// Already waiting, or the caller's leg updated (or posted
			// again) while an agent rings or talks: only a removed
			// ringing leg puts the call back in the queue.
			return evs, true
		}
		c.waiting = true
		ev := base
		ev.Kind, ev.QueuedAt = event.ContactQueued, c.queuedAt
		evs = append(evs, ev)
	}
	return evs, true
}

// setCall records that agent rings for or talks on callID (or neither) and
// re-derives the agent's state.
func (t *Translator) setCall(evs []event.Event, agent, callID string, ringing, talking bool, at time.Time) []event.Event {
	a := t.view(agent)
	delete(a.ringing, callID)
	delete(a.talking, callID)
	if ringing {
		a.ringing[callID] = true
	}
	if talking {
		a.talking[callID] = true
	}
	return t.derive(evs, agent, a, at)
}

func (t *Translator) cdr(evs []event.Event, o Object, at time.Time) ([]event.Event, bool) {
	callID := o.Get(fOrigCallID...)
	if callID == "" {
		return evs, false
	}
	queue, cands := t.callQueue(o)
	if c := t.calls[callID]; c != nil && c.queue != "" && c.held == nil {
		queue = c.queue
	}
	if !t.isQueue(queue) {
		t.hold(callID, queue, cands, "cdr", o, at)
		return evs, true
	}
	start := o.Time(t.loc, fStart...)
	answer := o.Time(t.loc, fAnswer...)
	end := o.Time(t.loc, fRelease...)
	if end.IsZero() {
		if d := o.Int(fDuration...); d > 0 && !start.IsZero() {
			end = start.Add(time.Duration(d) * time.Second)
		} else {
			end = at
		}
	}
	agent := t.callAgent(o, queue)
	ev := event.Event{Kind: event.ContactCompleted, Source: t.source, ID: "cdr:" + callID, At: end,
		Interaction: callID, Queue: queue, QueuedAt: start, Answered: !answer.IsZero(), AnsweredAt: answer}
	if ev.Answered {
		ev.Agent = agent
	}
	return append(evs, ev), true
}

func (t *Translator) presence(evs []event.Event, o Object, at time.Time) ([]event.Event, bool) {
	id := userID(o.Get(fPresUser...))
	if id == "" {
		return evs, false
	}
	a := t.view(id)
	if n := o.Get(fAgentName...); n != "" && !a.inModel && a.name != n {
		a.name = n
	}
	st, ok := PresenceState(o.Get(fPresence...))
	if !ok {
		st = event.StateUnknown
		if v := o.Get(fPresence...); v != "" {
			t.unknown(o, "presence", v)
		} else if len(o.Nested) > 0 {
			t.unreadable(o, "presence", fPresence)
		}
	}
	a.presence, a.presReas = st, ""
	if st == event.StateNotReady {
		a.presReas = o.Get(fPresStatus...)
		if a.presReas == "" {
			a.presReas = strings.ToUpper(o.Get(fPresence...))
		}
	}
	if a.inModel {
		return evs, true // the agent model speaks for this agent
	}
	if a.name != a.lastName {
		a.infoSent, a.lastName = true, a.name
		evs = append(evs, event.Event{Kind: event.AgentInfo, Source: t.source, At: at, Agent: id, Name: a.name})
	}
	return t.derive(evs, id, a, at), true
}

// gc forgets finished calls after a while, so memory stays bounded while
// late duplicates of a recent teardown are still recognized.
func (t *Translator) gc(now time.Time) {
	if len(t.calls) < 1024 {
		return
	}
	for id, c := range t.calls {
		if c.ended && now.Sub(c.seen) > 10*time.Minute || now.Sub(c.seen) > 12*time.Hour {
			delete(t.calls, id)
		}
	}
}
