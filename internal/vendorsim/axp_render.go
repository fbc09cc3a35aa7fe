package vendorsim

import (
	"strconv"
	"strings"
	"time"

	"github.com/wallboard/wallboard/internal/event"
)

// axpEngagement renders actions as Agent & Engagement notifications. Agent
// states the vendor reports through engagement events (offered, busy) are
// not sent as AgentState; wrap-up is AfterContactWorkActivated/Completed;
// the agent's presence (READY, NOT_READY with reasonCode/cause, LOGGED_OUT)
// is AgentState, sent when it changes.
type axpEngagement struct {
	e        *AXPServer
	sub      string
	names    map[string]string
	queues   map[string]string
	state    map[string]event.State // last simulated state
	presence map[string]string      // last AgentState sent: "READY", "NOT_READY/Lunch", ...
	lastCall map[string]string      // agent → its last call (for ACW)
}

func newAXPEngagement(e *AXPServer, sub string) *axpEngagement {
	r := &axpEngagement{e: e, sub: sub, names: map[string]string{}, queues: map[string]string{},
		state: map[string]event.State{}, presence: map[string]string{}, lastCall: map[string]string{}}
	for _, a := range e.sim.Agents() {
		r.names[a.ID] = a.Name
	}
	for _, q := range e.sim.Queues() {
		r.queues[q.ID] = q.Name
	}
	for id, t := range e.sim.Truth().Agents {
		r.state[id] = t.State
		r.presence[id] = axpPresence(t.State, t.Reason)
	}
	return r
}

// axpPresence is the AgentState an agent in st is in.
func axpPresence(st event.State, reason string) string {
	switch st {
	case event.StateLoggedOut, event.StateUnknown:
		return "LOGGED_OUT"
	case event.StateNotReady:
		return "NOT_READY/" + reason
	}
	return "READY"
}

// initial sends nothing: the vendor does not replay state on connect.
func (r *axpEngagement) initial() []any { return nil }

func (r *axpEngagement) envelope(agent string, body map[string]any, at time.Time) map[string]any {
	if at.IsZero() {
		at = time.Now()
	}
	body["id"] = axpID()
	body["timestamp"] = at.UnixMilli() // a number, as in the vendor's example
	env := map[string]any{"correlationId": axpID(), "subscriptionId": r.sub, "family": "AGENT_ENGAGEMENT",
		"sentAt": time.Now().UTC().Format("2006-01-02T15:04:05.000Z"), "accountId": r.e.opts.AccountID, "body": body}
	if agent != "" {
		env["loginId"] = r.names[agent]
	}
	return env
}

func (r *axpEngagement) render(a Action) []any {
	var out []any
	add := func(agent string, body map[string]any) { out = append(out, r.envelope(agent, body, a.At)) }
	const provider = "4dc53692-e25c-4e8c-a780-0b2f05008478"
	switch a.Kind {
	case ActionCallQueued:
		add("", map[string]any{"event": "InboundEngagementCreated", "engagementId": a.Call, "channelProviderId": provider,
			"connectionId": axpID(), "externalParticipantId": "+35395554321", "dialogId": a.Call, "callingNumber": "+15551235555",
			"dialledNumber": "+18005555555", "channelId": "Voice", "providerEngagementId": a.Call, "engagementParameters": map[string]any{}})
		fallthrough
	case ActionCallRejected:
		// A rejected offer is routed again: the engagement is prerouted to its queue once more.
		add("", map[string]any{"event": "EngagementPrerouted", "engagementId": a.Call, "dialogId": a.Call,
			"channelProviderId": provider, "channelId": "Voice", "channelIdentifier": "Voice",
			"queue":                 map[string]any{"queueId": a.Queue, "queueName": r.queues[a.Queue], "priority": 5},
			"externalParticipantId": "+35395554321", "sourceAddress": "+35395554321", "destinationAddress": "+18005555555"})
	case ActionCallOffered:
		r.lastCall[a.Agent] = a.Call
		add(a.Agent, map[string]any{"event": "MatchOffered", "engagementId": a.Call, "matchId": axpID(), "strategy": "MOST_IDLE",
			"offeredQueue": map[string]any{"queueId": a.Queue, "channelId": "Voice", "priority": 1, "rank": 1,
				"offeredAgentData": map[string]any{"agentId": a.Agent, "channelProviderId": provider, "channelId": "Voice"}}})
	case ActionCallAnswered:
		r.lastCall[a.Agent] = a.Call
		add(a.Agent, map[string]any{"event": "AgentParticipant", "engagementId": a.Call, "channelProviderId": provider,
			"connectionId": axpID(), "action": "ADDED", "agentId": a.Agent, "dialogId": a.Call, "channelId": "Voice"})
	case ActionCallAbandoned:
		add("", map[string]any{"event": "ExternalParticipant", "engagementId": a.Call, "channelProviderId": provider,
			"externalParticipantId": "+35395554321", "action": "REMOVED", "connectionId": axpID(), "dialogId": a.Call,
			"channelId": "Voice", "externalParticipantInitiatedDisconnect": true})
	case ActionCallEnded:
		add(a.Agent, map[string]any{"event": "AgentParticipant", "engagementId": a.Call, "channelProviderId": provider,
			"connectionId": axpID(), "action": "REMOVED", "agentId": a.Agent, "dialogId": a.Call, "channelId": "Voice",
			"agentInitiatedDisconnect": true})
		add("", map[string]any{"event": "ExternalParticipant", "engagementId": a.Call, "channelProviderId": provider,
			"externalParticipantId": "+35395554321", "action": "REMOVED", "connectionId": axpID(), "dialogId": a.Call,
			"channelId": "Voice", "externalParticipantInitiatedDisconnect": false})
	case ActionAgentState:
		prev := r.state[a.Agent]
		r.state[a.Agent] = a.State
		switch a.State {
		case event.StateOffered, event.StateBusy:
			return nil // told by MatchOffered and AgentParticipant
		case event.StateWrapUp:
			add(a.Agent, map[string]any{"event": "AfterContactWorkActivated", "engagementId": r.lastCall[a.Agent],
				"agentId": a.Agent, "channelProviderId": provider, "channelId": "Voice"})
			return out
		}
		if prev == event.StateWrapUp {
			add(a.Agent, map[string]any{"event": "AfterContactWorkCompleted", "engagementId": r.lastCall[a.Agent],
				"agentId": a.Agent, "channelProviderId": provider, "channelId": "Voice"})
		}
		p := axpPresence(a.State, a.Reason)
		// An offer that ends without an answer is reported on the agent's
		// side too: the vendor states the agent's state afresh (the docs'
		// AgentState example is the NOT_READY "RONA" that follows an
		// unanswered offer). The simulation returns such an agent to READY,
		// so READY is restated even though the presence did not change: a
		// client that did not see the offer (it connected, or restarted,
		// while the agent rang) otherwise never learns that it ended.
		if p == r.presence[a.Agent] && prev != event.StateOffered {
			return out
		}
		if r.presence[a.Agent] == "LOGGED_OUT" && p != "LOGGED_OUT" {
			add(a.Agent, map[string]any{"event": "AgentState", "agentId": a.Agent, "profileId": "HomeProfile", "state": "LOGGED_IN"})
		}
		r.presence[a.Agent] = p
		body := map[string]any{"event": "AgentState", "agentId": a.Agent, "profileId": "HomeProfile"}
		state, reason, _ := strings.Cut(p, "/")
		body["state"] = state
		if state == "NOT_READY" {
			if code, ok := AXPReasonCodes[reason]; ok {
				n, _ := strconv.Atoi(code)
				body["reasonCode"] = n // a number, as in the vendor's example
			} else {
				body["reasonCode"] = "599"
				body["cause"] = reason
			}
		}
		add(a.Agent, body)
	}
	return out
}

// axpAnalytics renders measure sets of one producer: queue producers
// ("Queue…") one set per queue, agent producers ("Agent…") one per logged-in
// agent, computed from the simulation's ground truth.
type axpAnalytics struct {
	e        *AXPServer
	producer string
	agents   bool
	names    map[string]string
	queues   map[string]string
}

func newAXPAnalytics(e *AXPServer, producer string) *axpAnalytics {
	r := &axpAnalytics{e: e, producer: producer, agents: strings.HasPrefix(strings.ToLower(producer), "agent"),
		names: map[string]string{}, queues: map[string]string{}}
	for _, a := range e.sim.Agents() {
		r.names[a.ID] = a.Name
	}
	for _, q := range e.sim.Queues() {
		r.queues[q.ID] = q.Name
	}
	return r
}

func (r *axpAnalytics) frame(payload, action string, keys, measures map[string]string) map[string]any {
	if measures == nil {
		measures = map[string]string{}
	}
	return map[string]any{"accountId": r.e.opts.AccountID, "keys": keys, "eventAction": action,
		"eventSourceId": "IXCC_1.0.0", "measureProducerId": r.producer, "payloadType": payload, "measures": measures}
}

func (r *axpAnalytics) queueMeasures(id string, t Truth) map[string]string {
	q := t.Queues[id]
	oldest := "0"
	if !q.OldestWaiting.IsZero() {
		oldest = strconv.FormatInt(int64(t.At.Sub(q.OldestWaiting)/time.Second), 10)
	}
	return map[string]string{"queueName": r.queues[id], "contactsQueueing": strconv.Itoa(q.Waiting),
		"oldestContactWaitTime": oldest, "offered": strconv.Itoa(q.Offered), "answered": strconv.Itoa(q.Answered),
		"abandoned": strconv.Itoa(q.Abandoned), "answeredInServiceLevel": strconv.Itoa(q.AnsweredInSL),
		"isDefaultQueue": "false"}
}

var axpAgentStates = map[event.State]string{event.StateAvailable: "READY", event.StateNotReady: "NOT_READY",
	event.StateOffered: "ALERTING", event.StateBusy: "BUSY", event.StateWrapUp: "ACW", event.StateLoggedOut: "LOGGED_OUT"}

func (r *axpAnalytics) agentMeasures(id string, t Truth) map[string]string {
	a := t.Agents[id]
	reason := "N/A"
	if a.Reason != "" {
		reason = a.Reason
	}
	first, last, _ := strings.Cut(r.names[id], " ")
	return map[string]string{"agentDisplayName": r.names[id], "agentFirstName": first, "agentLastName": last,
		"agentState": axpAgentStates[a.State], "reasonCodeName": reason, "userStatus": "Live",
		"timeInState": strconv.FormatInt(a.Since.UnixMilli(), 10)}
}

// initial is the INITIALIZING snapshot.
func (r *axpAnalytics) initial() []any {
	t := r.e.sim.Truth()
	var out []any
	if r.agents {
		for _, a := range r.e.sim.Agents() {
			if st := t.Agents[a.ID].State; st != event.StateLoggedOut && st != "" {
				out = append(out, r.frame("INITIALIZING", "UPSERT", map[string]string{"agentId": a.ID}, r.agentMeasures(a.ID, t)))
			}
		}
		return out
	}
	for _, q := range r.e.sim.Queues() {
		out = append(out, r.frame("INITIALIZING", "UPSERT", map[string]string{"queueId": q.ID}, r.queueMeasures(q.ID, t)))
	}
	return out
}

func (r *axpAnalytics) render(a Action) []any {
	if r.agents {
		if a.Kind != ActionAgentState {
			return nil
		}
		if a.State == event.StateLoggedOut {
			return []any{r.frame("LIVE", "DELETE", map[string]string{"agentId": a.Agent}, nil)}
		}
		return []any{r.frame("LIVE", "UPSERT", map[string]string{"agentId": a.Agent}, r.agentMeasures(a.Agent, r.e.sim.Truth()))}
	}
	if a.Queue == "" {
		return nil
	}
	return []any{r.frame("LIVE", "UPSERT", map[string]string{"queueId": a.Queue}, r.queueMeasures(a.Queue, r.e.sim.Truth()))}
}
