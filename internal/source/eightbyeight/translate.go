package eightbyeight

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wallboard/wallboard/internal/event"
)

// StateRow is one row of the newState table.
type StateRow struct {
	State  event.State
	Reason string // shown for not_ready when the event carries no reason code
}

// DefaultStates maps 8x8 newState codes to normalized states. 8x8's own
// documents disagree (the lifecycle diagram says 0 logged out, 1 logged in,
// 5 available); this follows the Agent Status API enum, and state_map
// overrides any row per source.
var DefaultStates = map[int64]StateRow{
	0:  {event.StateUnknown, ""},
	1:  {event.StateLoggedOut, ""},
	2:  {event.StateNotReady, "Logged in"},       // LOGGED_IN, not yet available
	3:  {event.StateNotReady, "Break"},           // ON_BREAK
	4:  {event.StateAvailable, ""},               // WAIT_TRANSACT
	5:  {event.StateNotReady, "Working offline"}, // WORK_OFFLINE
	6:  {event.StateOffered, ""},                 // TRANSACT_OFFERED
	7:  {event.StateBusy, ""},                    // PROCESS_TRANSACT
	8:  {event.StateWrapUp, ""},                  // POST_PROCESS
	9:  {event.StateBusy, ""},                    // BUSY
	10: {event.StateBusy, ""},                    // DIRECT_CALL
	11: {event.StateBusy, ""},                    // ON_EMAIL
}

// Mapping is a source's newState table and reason labels.
type Mapping struct {
	states  map[int64]StateRow
	reasons map[string]string
}

// NewMapping returns the default table with stateMap's rows (code → state
// name) replacing the defaults, and reasonLabels ("listId=itemId" → label).
func NewMapping(stateMap, reasonLabels map[string]string) (*Mapping, error) {
	m := &Mapping{states: make(map[int64]StateRow, len(DefaultStates)+len(stateMap)), reasons: map[string]string{}}
	for k, v := range DefaultStates {
		m.states[k] = v
	}
	for code, name := range stateMap {
		n, err := strconv.ParseInt(strings.TrimSpace(code), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("failed to read state_map: %q is not a newState code", code)
		}
		st := event.State(name)
		if !st.Valid() {
			return nil, fmt.Errorf("failed to read state_map: %q is not a state", name)
		}
		row := StateRow{State: st}
		if def, ok := DefaultStates[n]; ok && def.State == st {
			row.Reason = def.Reason
		}
		m.states[n] = row
	}
	for k, v := range reasonLabels {
		m.reasons[strings.TrimSpace(k)] = v
	}
	return m, nil
}

// State maps a newState code; codes outside the table are unknown.
func (m *Mapping) State(code Int) StateRow {
	if !code.Valid {
		return StateRow{State: event.StateUnknown}
	}
	row, ok := m.states[code.V]
	if !ok {
		return StateRow{State: event.StateUnknown}
	}
	return row
}

// Reason returns the label of a newReasonCodeUser, the raw code when it has
// no label, and "" when the event carries no real code.
func (m *Mapping) Reason(code string) string {
	l, _ := m.reason(code)
	return l
}

// reason is Reason, and whether the code (a real one) has a label.
func (m *Mapping) reason(code string) (string, bool) {
	code = strings.TrimSpace(code)
	switch strings.ToLower(code) {
	case "", "none", "n/a", "null", "0", "0=0":
		return "", true
	}
	if l, ok := m.reasons[code]; ok {
		return l, true
	}
	return code, false
}

// Noter receives the values the mapping does not know (see
// source.Notes): configKey names the option that would map them.
type Noter interface {
	Unmapped(field, value, configKey string)
	Unreadable(field, value string)
}

// knownInteractions are the Interaction event names of 8x8's catalogue
// (PROTOCOLS.md §2): the ones the translator does not use change nothing a
// board shows. Other names are reported as unmapped.
var knownInteractions = map[string]bool{
	"InteractionCreated": true, "InteractionQueued": true, "InteractionAssigned": true, "InteractionRejected": true,
	"InteractionAccepted": true, "InteractionCustomerAccepted": true, "InteractionUnqueued": true,
	"InteractionQueueTimeout": true, "LineHoldStatus": true, "LineMuteStatus": true, "RecordingStatus": true,
	"InteractionRecordingStarted": true, "InteractionRecordingReady": true, "InteractionPostProcess": true,
	"InteractionEndPostProcess": true, "InteractionDeassigned": true, "InteractionTransferRequest": true,
	"InteractionReconnect": true, "InteractionParticipantChange": true, "InteractionParticipantRemovedByHost": true,
	"InteractionJoinLinesRequest": true, "InteractionJoined": true, "InteractionChanged": true, "InteractionDeleted": true,
	"GuestChatEnd": true, "MediaProxyAdded": true, "MediaProxyRemoved": true, "": true,
}

// Translator turns decoded messages into events. It remembers what the
// wire only sends as changes (skill membership, names) so it can emit the
// full values the model wants. It is not safe for concurrent use; each
// source owns one.
type Translator struct {
	m          *Mapping
	skills     map[string]map[string]bool // agent → queue ids
	first      map[string]string          // agent → first name
	last       map[string]string          // agent → last name
	queueNames map[string]string          // queue → name already emitted
	notes      Noter
}

// SetNotes makes the translator report values its mapping does not know
// to n (nil: to nobody).
func (t *Translator) SetNotes(n Noter) { t.notes = n }

// NewTranslator returns a Translator using m.
func NewTranslator(m *Mapping) *Translator {
	return &Translator{m: m, skills: map[string]map[string]bool{}, first: map[string]string{},
		last: map[string]string{}, queueNames: map[string]string{}}
}

// EventID returns the dedup id of a message from its msgInfo
// ("8x8:instance:sequence"), or "" when msgInfo does not identify it.
func EventID(mi MsgInfo) string {
	if mi.InstanceID == "" || !mi.SequenceID.Valid {
		return ""
	}
	return "8x8:" + string(mi.InstanceID) + ":" + strconv.FormatInt(mi.SequenceID.V, 10)
}

func unix(n Int) time.Time {
	if !n.Valid || n.V <= 0 {
		return time.Time{}
	}
	return time.Unix(n.V, 0).UTC()
}

// Translate returns the events of msg. id is the message's dedup id (from
// EventID, or a transport id); each event gets id + "/" + its kind, because
// one message can yield several events. Messages that do not change what a
// wallboard shows (hold, mute, recording…) yield nothing.
func (t *Translator) Translate(msg Message, id string) []event.Event {
	return t.Append(nil, msg, id)
}

// Append is Translate appending to dst (a source that batches events
// reuses one slice instead of allocating one per message).
func (t *Translator) Append(dst []event.Event, msg Message, id string) []event.Event {
	out := dst
	add := func(e event.Event) {
		if id != "" {
			e.ID = id + "/" + e.Kind.String()
			if e.Kind == event.QueueInfo {
				e.ID += "/" + e.Queue
			}
		}
		out = append(out, e)
	}
	switch msg.Kind {
	case KindAgentStatus:
		s := msg.Status
		if s == nil || s.AgentID == "" {
			return dst
		}
		row := t.m.State(s.NewState)
		if t.notes != nil {
			t.noteState(s.NewState)
		}
		e := event.Event{Kind: event.AgentState, Agent: string(s.AgentID), State: row.State, At: unix(s.StatusEventTS)}
		if row.State == event.StateNotReady {
			var labelled bool
			e.Reason, labelled = t.m.reason(string(s.NewReasonCodeUser))
			if !labelled && t.notes != nil {
				t.notes.Unmapped("newReasonCodeUser", e.Reason, "reason_labels")
			}
			if e.Reason == "" {
				e.Reason = row.Reason
			}
		}
		add(e)
	case KindAgentProv:
		p := msg.Prov
		if p == nil || p.AgentID == "" {
			return dst
		}
		t.prov(p, add)
	case KindInteraction:
		t.interaction(msg.Interaction, add)
	}
	return out
}

// noteState reports a newState code the table does not know, or one that
// is no number at all (an error, in JSON and XML alike).
func (t *Translator) noteState(code Int) {
	switch {
	case code.Bad:
		t.notes.Unreadable("newState", "")
	case code.Valid:
		if _, ok := t.m.states[code.V]; !ok {
			t.notes.Unmapped("newState", strconv.FormatInt(code.V, 10), "state_map")
		}
	}
}

func (t *Translator) prov(p *AgentProvChange, add func(event.Event)) {
	agent := string(p.AgentID)
	e := event.Event{Kind: event.AgentInfo, Agent: agent}
	changed := false
	// Skill events: a skill is a queue. tenantSkillId is the id interactions
	// use as queueId; skillId is the fallback.
	queue := string(p.TenantSkillID)
	if queue == "" {
		queue = string(p.SkillID)
	}
	if queue != "" {
		set := t.skills[agent]
		if set == nil {
			set = map[string]bool{}
			t.skills[agent] = set
		}
		enabled := !p.Enabled.Valid || p.Enabled.V
		if strings.Contains(strings.ToLower(string(p.Event)), "delete") || strings.Contains(strings.ToLower(string(p.Event)), "remove") {
			enabled = false
		}
		if enabled {
			set[queue] = true
		} else {
			delete(set, queue)
		}
		e.Queues = make([]string, 0, len(set))
		for q := range set {
			e.Queues = append(e.Queues, q)
		}
		slices.Sort(e.Queues)
		changed = true
		if p.TenantSkillName != "" && t.queueNames[queue] != string(p.TenantSkillName) {
			t.queueNames[queue] = string(p.TenantSkillName)
			add(event.Event{Kind: event.QueueInfo, Queue: queue, Name: string(p.TenantSkillName)})
		}
	}
	// The older form lists changed fields; names are all a board shows.
	for _, it := range p.Items.Items {
		v := string(it.NewValue)
		switch strings.ToLower(string(it.Key)) {
		case "firstname":
			t.first[agent] = v
			changed = true
		case "lastname":
			t.last[agent] = v
			changed = true
		case "name", "agentname", "fullname", "displayname":
			t.first[agent], t.last[agent] = v, ""
			changed = true
		}
	}
	if !changed {
		return
	}
	e.Name = strings.TrimSpace(t.first[agent] + " " + t.last[agent])
	add(e)
}

func (t *Translator) interaction(in *Interaction, add func(event.Event)) {
	if in == nil || in.InteractionGUID == "" {
		return
	}
	queue := string(in.QueueID)
	if queue != "" {
		name := in.AttachedData.Get("tenantSkillName")
		if name == "" {
			name = in.AttachedData.Get("channelName")
		}
		if name != "" && t.queueNames[queue] != name {
			t.queueNames[queue] = name
			add(event.Event{Kind: event.QueueInfo, Queue: queue, Name: name})
		}
	}
	base := event.Event{Interaction: string(in.InteractionGUID), Queue: queue, Agent: string(in.AgentID), At: unix(in.EventTS)}
	var kind event.Kind
	name := string(in.Event)
	// The vendor's SAPI samples carry no event name; a queued contact is
	// the only thing they can describe (queueId and queueTime, no agent).
	if name == "" && queue != "" && in.QueueTime.Valid && in.AgentID == "" {
		name = "InteractionQueued"
	}
	switch name {
	case "InteractionQueued", "InteractionRejected":
		if queue == "" {
			return
		}
		kind = event.ContactQueued
		base.QueuedAt = unix(in.QueueTime)
		base.Agent = ""
	case "InteractionAssigned":
		kind = event.ContactOffered
	case "InteractionAccepted":
		kind = event.ContactAnswered
	case "InteractionUnqueued", "InteractionQueueTimeout":
		kind = event.ContactDequeued
	case "InteractionDeleted":
		kind = event.ContactEnded
	default:
		if t.notes != nil && !knownInteractions[name] {
			t.notes.Unmapped("Interaction.event", name, "")
		}
		return
	}
	base.Kind = kind
	add(base)
}
