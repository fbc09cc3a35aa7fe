package axp

import (
	"strconv"
	"time"

	"github.com/wallboard/wallboard/internal/event"
	"github.com/wallboard/wallboard/internal/source"
)

// presenceStates maps AgentState.state to the normalized state the agent
// returns to when no engagement or after-contact work holds it. LOGGED_IN
// comes before the agent chooses READY or NOT_READY, so it reads as
// not_ready "Logged in".
var presenceStates = map[string]event.State{
	"LOGGED_IN":  event.StateNotReady,
	"READY":      event.StateAvailable,
	"NOT_READY":  event.StateNotReady,
	"LOGGED_OUT": event.StateLoggedOut,
}

// Mapping documents how each Agent & Engagement event changes the model. It
// is the table the README shows and the mapping test checks row by row.
var Mapping = []struct{ Event, Effect string }{
	{"AgentState LOGGED_IN", "agent not_ready \"Logged in\""},
	{"AgentState READY", "agent available (once no engagement or ACW holds it)"},
	{"AgentState NOT_READY", "agent not_ready, reason = reason_codes[reasonCode] or cause or reasonCode; an offer still ringing at the agent ends (RONA)"},
	{"AgentState LOGGED_OUT", "agent logged_out (at once)"},
	{"InboundEngagementCreated", "remembered (no event until it is queued)"},
	{"EngagementPrerouted", "contact_queued in queue.queueId (queue_info with queueName); requeue keeps the first queuedAt; an agent it was offered to returns to its presence"},
	{"MatchOffered", "contact_offered to the offered agent; agent offered (an agent whose presence is not known yet, after a restart, is taken as READY: only READY agents are offered contacts)"},
	{"AgentParticipant ADDED", "contact_answered by the agent (inbound); agent busy (presence not known yet: taken as READY)"},
	{"AgentParticipant INVITED", "agent offered"},
	{"AgentParticipant HELD/UNHELD", "agent stays busy"},
	{"AgentParticipant REMOVED", "contact_ended (unless a transfer is under way); agent back to presence"},
	{"ExternalParticipant REMOVED", "contact_ended (an abandon when never answered); an offered agent returns to presence"},
	{"OutboundEngagementCreated", "agent busy (outbound contacts are not queue contacts)"},
	{"SingleStepTransfer QUEUE", "contact_queued in the destination queue"},
	{"SingleStepTransfer USER/AUTOMATION/EXTERNAL", "transfer under way: the initiating agent's REMOVED does not end the contact"},
	{"SingleStepTransferError", "transfer cancelled"},
	{"ChannelReady", "agent available when idle"},
	{"AfterContactWorkActivated", "agent wrap_up"},
	{"AfterContactWorkCompleted", "agent back to presence (the state before the contact)"},
	{"other events, AgentParticipant MOVED/OBSERVING/COACHING/BARGEDIN, AutomationParticipant", "counted, no change"},
}

// agentTrack is what the translator remembers of one agent.
type agentTrack struct {
	presence event.State
	reason   string
	shown    event.State // the last state emitted
	engs     map[string]bool
	offered  string // engagement ringing at the agent
	acw      bool
	named    bool
}

// engTrack is what the translator remembers of one engagement.
type engTrack struct {
	queue     string
	queuedAt  time.Time
	answered  bool
	outbound  bool
	transfer  bool
	ended     bool
	offeredTo string
	lastSeen  time.Time
}

// Translator turns Agent & Engagement notifications into events. It keeps
// the per-agent presence (so that the end of a contact or of after-contact
// work returns the agent to what it was) and per-engagement queue and times.
// It is not safe for concurrent use.
type Translator struct {
	ReasonCodes map[string]string
	agents      map[string]*agentTrack
	engs        map[string]*engTrack
	queuesNamed map[string]string
	Unmapped    int64 // known events that change nothing, and unknown events
	// Notes, when set, receives the states and reason codes no mapping
	// knows (the source sets the frame before each Translate).
	Notes *source.Notes
}

// NewTranslator returns a Translator with the reason-code labels.
func NewTranslator(reasonCodes map[string]string) *Translator {
	return &Translator{ReasonCodes: reasonCodes, agents: map[string]*agentTrack{}, engs: map[string]*engTrack{},
		queuesNamed: map[string]string{}}
}

// maxEngagements bounds memory: ended engagements are forgotten first.
const maxEngagements = 20000

func (t *Translator) agent(id string) *agentTrack {
	a := t.agents[id]
	if a == nil {
		a = &agentTrack{presence: event.StateUnknown, shown: event.StateUnknown, engs: map[string]bool{}}
		t.agents[id] = a
	}
	return a
}

func (t *Translator) eng(id string, at time.Time) *engTrack {
	e := t.engs[id]
	if e == nil {
		if len(t.engs) >= maxEngagements {
			t.prune()
		}
		e = &engTrack{}
		t.engs[id] = e
	}
	e.lastSeen = at
	return e
}

// prune forgets ended engagements, then (if still full) the oldest half.
func (t *Translator) prune() {
	for id, e := range t.engs {
		if e.ended {
			delete(t.engs, id)
		}
	}
	if len(t.engs) < maxEngagements {
		return
	}
	var avg int64 // the mean last-seen time, summed in parts so it cannot overflow
	for _, e := range t.engs {
		avg += e.lastSeen.UnixNano() / int64(len(t.engs))
	}
	for id, e := range t.engs {
		if e.lastSeen.UnixNano() <= avg {
			delete(t.engs, id)
		}
	}
}

// Translate returns the events one notification means. The event IDs derive
// from the vendor's body id (or the envelope's correlationId), so a
// redelivered notification is deduplicated by the model.
func (t *Translator) Translate(n Notification) []event.Event {
	b := &n.Body
	at, ok := b.Timestamp.Time()
	if !ok {
		at, _ = time.Parse(time.RFC3339Nano, n.SentAt) // the envelope's time stands in
	}
	id := b.ID
	if id == "" {
		id = b.CorrelationID
	}
	if id == "" {
		id = n.CorrelationID
	}
	out := &emitter{id: id, at: at}

	switch b.Event {
	case "AgentState":
		t.agentState(out, n)
	case "InboundEngagementCreated":
		if b.EngagementID != "" {
			t.eng(b.EngagementID, at)
		}
	case "EngagementPrerouted":
		t.prerouted(out, b)
	case "MatchOffered":
		t.matchOffered(out, b)
	case "AgentParticipant":
		t.agentParticipant(out, n)
	case "ExternalParticipant":
		if b.Action == "REMOVED" && b.EngagementID != "" {
			t.endContact(out, b.EngagementID, "")
		} else {
			t.Unmapped++
		}
	case "OutboundEngagementCreated":
		if b.AgentID == "" || b.EngagementID == "" {
			t.Unmapped++
			break
		}
		t.named(out, b.AgentID, n.LoginID)
		e := t.eng(b.EngagementID, at)
		e.outbound = true
		a := t.agent(b.AgentID)
		a.engs[b.EngagementID] = true
		t.show(out, b.AgentID, "")
	case "SingleStepTransfer":
		t.transfer(out, b)
	case "SingleStepTransferError":
		if e := t.engs[b.EngagementID]; e != nil {
			e.transfer = false
		}
	case "ChannelReady":
		if b.AgentID == "" {
			t.Unmapped++
			break
		}
		t.named(out, b.AgentID, n.LoginID)
		a := t.agent(b.AgentID)
		if a.presence != event.StateLoggedOut {
			a.presence, a.reason = event.StateAvailable, ""
		}
		t.show(out, b.AgentID, "")
	case "AfterContactWorkActivated":
		if b.AgentID == "" {
			t.Unmapped++
			break
		}
		t.named(out, b.AgentID, n.LoginID)
		t.agent(b.AgentID).acw = true
		t.show(out, b.AgentID, "")
	case "AfterContactWorkCompleted":
		if b.AgentID == "" {
			t.Unmapped++
			break
		}
		t.named(out, b.AgentID, n.LoginID)
		t.agent(b.AgentID).acw = false
		t.show(out, b.AgentID, "")
	default:
		t.Unmapped++
	}
	return out.evs
}

// emitter numbers the events one notification yields.
type emitter struct {
	id  string
	at  time.Time
	evs []event.Event
}

func (e *emitter) add(ev event.Event) {
	if e.id != "" {
		ev.ID = e.id
		if len(e.evs) > 0 {
			ev.ID = e.id + "#" + strconv.Itoa(len(e.evs))
		}
	}
	if ev.At.IsZero() {
		ev.At = e.at
	}
	e.evs = append(e.evs, ev)
}

// named emits the agent's login handle as its name the first time it is seen.
func (t *Translator) named(out *emitter, agent, login string) {
	a := t.agent(agent)
	if login == "" || a.named {
		return
	}
	a.named = true
	out.add(event.Event{Kind: event.AgentInfo, Agent: agent, Name: login})
}

func (t *Translator) queueNamed(out *emitter, queue, name string) {
	if queue == "" || name == "" || t.queuesNamed[queue] == name {
		return
	}
	t.queuesNamed[queue] = name
	out.add(event.Event{Kind: event.QueueInfo, Queue: queue, Name: name})
}

// readyIfUnknown infers READY for an agent whose presence this translator
// has not seen (a restart while the agent was busy): the platform offers
// queue contacts only to READY agents, so that is the state the agent
// returns to when its contact and after-contact work end, unless an
// AgentState says otherwise.
func (a *agentTrack) readyIfUnknown() {
	if a.presence == event.StateUnknown {
		a.presence, a.reason = event.StateAvailable, ""
	}
}

// derived is the state an agent shows: an engagement ringing, then one in
// progress, then after-contact work, else its presence.
func (t *Translator) derived(a *agentTrack) (event.State, string) {
	switch {
	case a.presence == event.StateLoggedOut:
		return event.StateLoggedOut, ""
	case a.offered != "":
		return event.StateOffered, ""
	case len(a.engs) > 0:
		return event.StateBusy, ""
	case a.acw:
		return event.StateWrapUp, ""
	}
	return a.presence, a.reason
}

// show emits the agent's derived state when it changed (or when force says
// the vendor restated it).
func (t *Translator) show(out *emitter, agent string, force event.State) {
	a := t.agent(agent)
	st, reason := t.derived(a)
	if st == a.shown && force == "" {
		return
	}
	a.shown = st
	out.add(event.Event{Kind: event.AgentState, Agent: agent, State: st, Reason: reason})
}

func (t *Translator) agentState(out *emitter, n Notification) {
	b := &n.Body
	st, ok := presenceStates[b.State]
	if b.AgentID == "" || !ok {
		if b.AgentID != "" {
			t.Notes.Unmapped("AgentState.state", b.State, "")
		}
		t.Unmapped++
		return
	}
	t.named(out, b.AgentID, n.LoginID)
	a := t.agent(b.AgentID)
	a.presence, a.reason = st, ""
	switch b.State {
	case "LOGGED_IN":
		a.reason = "Logged in"
	case "NOT_READY":
		a.reason = t.reason(string(b.ReasonCode), b.Cause)
		// A NOT_READY agent rings no more: the vendor sets an agent whose
		// offer went unanswered NOT_READY (cause RONA), possibly before it
		// routes the engagement again (or while the engagement's own events
		// are missed), so the offer ends here.
		if e := t.engs[a.offered]; e != nil && e.offeredTo == b.AgentID {
			e.offeredTo = ""
		}
		a.offered = ""
	case "LOGGED_OUT":
		// A logged-out agent holds nothing.
		a.offered, a.acw = "", false
		clear(a.engs)
	}
	// The vendor restating a presence is shown again, but not while a
	// contact holds the agent: that would restart the busy clock.
	force := st
	if d, _ := t.derived(a); d != st {
		force = ""
	}
	t.show(out, b.AgentID, force)
}

// reason turns a NOT_READY reasonCode and cause into a readable reason.
func (t *Translator) reason(code, cause string) string {
	if l := t.ReasonCodes[code]; l != "" {
		return l
	}
	if code != "" {
		t.Notes.Unmapped("reasonCode", code, "reason_codes")
	}
	if cause != "" {
		return cause
	}
	if code != "" {
		return "Code " + code
	}
	return ""
}

func (t *Translator) prerouted(out *emitter, b *NotificationBody) {
	if b.EngagementID == "" || b.Queue == nil || b.Queue.QueueID == "" {
		t.Unmapped++
		return
	}
	e := t.eng(b.EngagementID, out.at)
	queue := string(b.Queue.QueueID)
	t.queueNamed(out, queue, string(b.Queue.QueueName))
	if e.offeredTo != "" {
		// Routed again after an offer that was not accepted.
		a := t.agent(e.offeredTo)
		if a.offered == b.EngagementID {
			a.offered = ""
		}
		off := e.offeredTo
		e.offeredTo = ""
		t.show(out, off, "")
	}
	if e.queuedAt.IsZero() || e.queue != queue {
		e.queuedAt = out.at
	}
	e.queue = queue
	out.add(event.Event{Kind: event.ContactQueued, Interaction: b.EngagementID, Queue: queue, QueuedAt: e.queuedAt})
}

func (t *Translator) matchOffered(out *emitter, b *NotificationBody) {
	agent := b.OfferedAgent()
	if b.EngagementID == "" || agent == "" {
		t.Unmapped++
		return
	}
	e := t.eng(b.EngagementID, out.at)
	if q := b.OfferedQueueID(); q != "" && e.queue == "" {
		e.queue = q
	}
	if e.offeredTo != "" && e.offeredTo != agent {
		prev := t.agent(e.offeredTo)
		if prev.offered == b.EngagementID {
			prev.offered = ""
		}
		t.show(out, e.offeredTo, "")
	}
	e.offeredTo = agent
	a := t.agent(agent)
	a.offered = b.EngagementID
	a.readyIfUnknown()
	out.add(event.Event{Kind: event.ContactOffered, Interaction: b.EngagementID, Queue: e.queue, Agent: agent})
	t.show(out, agent, "")
}

func (t *Translator) agentParticipant(out *emitter, n Notification) {
	b := &n.Body
	if b.AgentID == "" || b.EngagementID == "" {
		t.Unmapped++
		return
	}
	t.named(out, b.AgentID, n.LoginID)
	a := t.agent(b.AgentID)
	e := t.eng(b.EngagementID, out.at)
	switch b.Action {
	case "ADDED":
		if a.offered == b.EngagementID {
			a.offered = ""
		}
		if e.offeredTo == b.AgentID {
			e.offeredTo = ""
		}
		a.engs[b.EngagementID] = true
		a.acw = false
		if !e.outbound {
			a.readyIfUnknown()
		}
		if !e.outbound && !e.ended {
			e.answered, e.transfer = true, false
			out.add(event.Event{Kind: event.ContactAnswered, Interaction: b.EngagementID, Queue: e.queue, Agent: b.AgentID})
		}
		t.show(out, b.AgentID, "")
	case "INVITED":
		a.offered = b.EngagementID
		t.show(out, b.AgentID, "")
	case "REMOVED":
		delete(a.engs, b.EngagementID)
		if a.offered == b.EngagementID {
			a.offered = ""
		}
		if !e.transfer {
			t.endContact(out, b.EngagementID, b.AgentID)
		}
		t.show(out, b.AgentID, "")
	case "HELD", "UNHELD":
		a.engs[b.EngagementID] = true
		t.show(out, b.AgentID, "")
	default:
		t.Unmapped++
	}
}

// endContact ends an engagement once: the agent's and the customer's
// REMOVED both arrive for one call.
func (t *Translator) endContact(out *emitter, engagement, agent string) {
	e := t.eng(engagement, out.at)
	if e.ended {
		return
	}
	e.ended = true
	if off := e.offeredTo; off != "" {
		e.offeredTo = ""
		if a := t.agent(off); a.offered == engagement {
			a.offered = ""
			t.show(out, off, "")
		}
	}
	if e.outbound {
		return
	}
	out.add(event.Event{Kind: event.ContactEnded, Interaction: engagement, Queue: e.queue, Agent: agent})
}

func (t *Translator) transfer(out *emitter, b *NotificationBody) {
	if b.EngagementID == "" {
		t.Unmapped++
		return
	}
	e := t.eng(b.EngagementID, out.at)
	e.transfer = true
	if b.TransferTo != "QUEUE" {
		return
	}
	queue := b.QueueID
	if queue == "" {
		queue = b.Destination
	}
	if queue == "" {
		return
	}
	t.queueNamed(out, queue, b.QueueName)
	e.queue, e.queuedAt, e.answered = queue, out.at, false
	out.add(event.Event{Kind: event.ContactQueued, Interaction: b.EngagementID, Queue: queue, QueuedAt: out.at})
}
