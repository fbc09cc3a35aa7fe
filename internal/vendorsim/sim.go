// Package vendorsim emulates the contact-center vendors on loopback: a seeded
// simulation of a contact center (Sim) that knows the ground truth, and one
// emulated server per vendor protocol that renders the simulation's actions in
// that vendor's wire format. `wallboard demo` and the end-to-end tests run the
// real sources against these servers over real sockets.
package vendorsim

import (
	"time"

	"github.com/wallboard/wallboard/internal/event"
)

// ActionKind is what happened in the simulated contact center.
type ActionKind uint8

// The simulated actions. Every agent state change is its own ActionAgentState
// (emitted beside the call action that caused it), so an emulator can render
// agent status and interactions as separately as its vendor does.
const (
	// ActionAgentState: Agent is now in State (Reason for not_ready).
	ActionAgentState ActionKind = iota + 1
	// ActionCallQueued: Call entered Queue (QueuedAt).
	ActionCallQueued
	// ActionCallOffered: Call (in Queue) is offered to Agent; stops waiting.
	ActionCallOffered
	// ActionCallRejected: Agent did not accept Call; it waits in Queue again.
	ActionCallRejected
	// ActionCallAnswered: Agent accepted Call.
	ActionCallAnswered
	// ActionCallAbandoned: the caller hung up while Call waited in Queue.
	ActionCallAbandoned
	// ActionCallEnded: the answered Call ended (Agent goes to wrap-up by its
	// own ActionAgentState).
	ActionCallEnded
)

func (k ActionKind) String() string {
	return [...]string{"", "agent_state", "call_queued", "call_offered", "call_rejected", "call_answered",
		"call_abandoned", "call_ended"}[k]
}

// Action is one thing that happened, in the order it happened (Seq).
type Action struct {
	Seq      int64
	At       time.Time
	Kind     ActionKind
	Agent    string // agent id
	Queue    string // queue id
	Call     string // call id
	State    event.State
	Reason   string    // not_ready reason ("Lunch", "Break", ...)
	QueuedAt time.Time // calls: when the call entered its queue
}

// AgentInfo is one simulated agent's provisioning.
type AgentInfo struct {
	ID     string
	Name   string
	Queues []string // queue ids the agent serves
}

// QueueInfo is one simulated queue.
type QueueInfo struct {
	ID   string
	Name string
}

// Truth is the simulation's ground truth at one instant: what a correct
// wallboard must show.
type Truth struct {
	At     time.Time
	Agents map[string]TruthAgent // by agent id
	Queues map[string]TruthQueue // by queue id
}

// TruthAgent is an agent's true state.
type TruthAgent struct {
	State  event.State
	Reason string
	Since  time.Time
}

// TruthQueue is a queue's true figures for today.
type TruthQueue struct {
	Waiting       int
	OldestWaiting time.Time // zero when nothing waits
	Offered       int       // calls that entered the queue
	Answered      int
	AnsweredInSL  int // answered within Options.ServiceLevel of queueing
	Abandoned     int
	HandleTotal   time.Duration // sum over ended calls of answer→end
	Handled       int           // calls that ended after being answered
}
