// Package event is the one vocabulary shared by every vendor source and the
// model. A source decodes its vendor's frames and translates them into Events;
// the model applies Events and knows nothing of vendors.
//
// Events are facts, not commands: each carries the upstream time it happened
// (At) so the model can ignore stale, out-of-order updates, and an optional ID
// so the model can ignore duplicates (replays, redeliveries, duplicate posts).
package event

import "time"

// State is a normalized agent state.
type State string

// The normalized agent states. Every vendor mapping produces one of these.
const (
	StateUnknown   State = "unknown"
	StateLoggedOut State = "logged_out"
	StateAvailable State = "available"
	StateOffered   State = "offered" // ringing / alerting
	StateBusy      State = "busy"    // on an interaction
	StateWrapUp    State = "wrap_up" // after-contact work
	StateNotReady  State = "not_ready"
)

// States lists every normalized state, in the order boards show them.
var States = []State{StateAvailable, StateOffered, StateBusy, StateWrapUp, StateNotReady, StateLoggedOut, StateUnknown}

// Valid reports whether s is one of the normalized states.
func (s State) Valid() bool {
	for _, v := range States {
		if v == s {
			return true
		}
	}
	return false
}

// Kind says what an Event is about and which of its fields are meaningful.
type Kind uint8

// The kinds of event.
const (
	// AgentState: Agent entered State (with Reason for not_ready) at At.
	// Stale updates (At before the agent's current since) are ignored.
	AgentState Kind = iota + 1

	// AgentInfo: provisioning. Name (if not empty) and Queues (if not nil)
	// replace the agent's name and queue membership. Creates the agent.
	AgentInfo

	// QueueInfo: Name (if not empty) names Queue. Creates the queue.
	QueueInfo

	// ContactQueued: Interaction is waiting in Queue since QueuedAt (At when
	// zero). Counts one offered contact for Queue the first time today. A
	// contact that was offered to an agent and rejected is queued again with
	// this kind; it keeps its original QueuedAt.
	ContactQueued

	// ContactOffered: Interaction is offered to Agent (ringing). It stops
	// counting as waiting.
	ContactOffered

	// ContactAnswered: Agent accepted Interaction at At. Counts answered (and
	// answered within the service-level threshold) for its queue once.
	ContactAnswered

	// ContactDequeued: Interaction left Queue without being answered and
	// without the customer hanging up (timeout, transfer, overflow). Not an
	// abandon.
	ContactDequeued

	// ContactEnded: Interaction ended at At. If it never was answered after
	// being queued, it counts as abandoned; if it was answered, its handle
	// time (answer to end) is added to today's handle time.
	ContactEnded

	// ContactCompleted: a summary of a finished contact, for vendors that
	// report calls after the fact (call detail records). Queue, QueuedAt,
	// Answered, AnsweredAt and At (the end) describe it. Counted once per
	// Interaction; a contact already counted from live events is not counted
	// again.
	ContactCompleted

	// Measures: vendor-computed measures for an agent or a queue (Target).
	// See MeasureOp.
	Measures

	// SourceStatus: the source named Source changed status (Status, Detail).
	SourceStatus

	// AgentRoster: the vendor's current state lists Roster as every agent
	// of Source that is logged in, as of At (a resync after a start or a
	// gap). Any other agent of Source not logged out is logged out at At,
	// unless it changed after At.
	AgentRoster
)

var kindNames = [...]string{"", "agent_state", "agent_info", "queue_info", "contact_queued", "contact_offered",
	"contact_answered", "contact_dequeued", "contact_ended", "contact_completed", "measures", "source_status", "agent_roster"}

func (k Kind) String() string {
	if int(k) < len(kindNames) && k > 0 {
		return kindNames[k]
	}
	return "invalid"
}

// MeasureOp says how a Measures event changes a producer's measure sets.
type MeasureOp uint8

// The measure operations.
const (
	// MeasureUpsert merges Values into Target's measures from Producer.
	MeasureUpsert MeasureOp = iota + 1
	// MeasureDelete removes Target's measures from Producer.
	MeasureDelete
	// MeasureReplace atomically replaces every measure set of Producer with
	// Snapshot: targets that vanished lose that producer's measures.
	MeasureReplace
)

// TargetKind says whether a measure set belongs to an agent or a queue.
type TargetKind uint8

// The measure targets.
const (
	TargetQueue TargetKind = iota + 1
	TargetAgent
)

// MeasureSet is one entity's vendor-computed measures, kept as received.
type MeasureSet struct {
	Target TargetKind
	ID     string            // agent or queue id (vendor id)
	Name   string            // optional display name
	Values map[string]string // measure name → value, as received
}

// Status is a source's health.
type Status string

// The source statuses.
const (
	StatusConnecting Status = "connecting"
	StatusLive       Status = "live"
	StatusDegraded   Status = "degraded" // was live, now reconnecting
	StatusFailed     Status = "failed"   // configuration or credentials; retrying will not fix it
)

// Event is one normalized fact from a source. Which fields matter depends on
// Kind; the rest are zero.
type Event struct {
	Kind   Kind
	Source string    // configured source name
	ID     string    // unique per source when the vendor gives one; "" disables deduplication
	At     time.Time // when it happened upstream (zero = when the model applies it)

	Agent       string // vendor agent id
	Queue       string // vendor queue id
	Interaction string // vendor interaction id

	State  State    // AgentState
	Reason string   // AgentState: readable not_ready reason
	Name   string   // AgentInfo, QueueInfo: display name
	Queues []string // AgentInfo: queue membership; nil = unchanged

	QueuedAt   time.Time // ContactQueued, ContactCompleted
	Answered   bool      // ContactCompleted
	AnsweredAt time.Time // ContactCompleted

	MeasureOp MeasureOp    // Measures
	Producer  string       // Measures: the vendor's measure producer
	Set       MeasureSet   // Measures: MeasureUpsert, MeasureDelete
	Snapshot  []MeasureSet // Measures: MeasureReplace

	Status Status // SourceStatus
	Detail string // SourceStatus: why (never a secret)

	Roster []string // AgentRoster: the agents logged in
}

// Batch is what one source hands on in one call: its events and, for a
// source that resumes from a position of its own (a Pulsar reader's message
// id), its Cursor after them. Ticket numbers one source's batches in the
// order they reach the model (0: not numbered); a journal reports back up to
// which ticket a source's batches survive a crash.
type Batch struct {
	Source string
	Cursor string
	Ticket uint64
	Events []Event
}
