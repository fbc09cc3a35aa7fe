package axp

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/wallboard/wallboard/internal/event"
)

// MeasureFrame is one Analytics Realtime Data frame: one measure set of one
// producer. Every value is a string on the wire.
type MeasureFrame struct {
	AccountID         string            `json:"accountId"`
	Keys              map[string]string `json:"keys"`
	EventAction       string            `json:"eventAction"` // UPSERT | DELETE
	EventSourceID     string            `json:"eventSourceId"`
	MeasureProducerID string            `json:"measureProducerId"`
	PayloadType       string            `json:"payloadType"` // INITIALIZING | LIVE
	Measures          map[string]string `json:"measures"`
}

// DecodeMeasureFrame decodes and checks one analytics frame. Numbers and
// booleans among keys and measures (the documents say they are always
// strings) are kept as their text rather than rejected.
func DecodeMeasureFrame(b []byte) (MeasureFrame, error) {
	var raw struct {
		MeasureFrame
		Keys     map[string]Flex `json:"keys"`
		Measures map[string]Flex `json:"measures"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return MeasureFrame{}, fmt.Errorf("failed to decode measure frame: %w", err)
	}
	f := raw.MeasureFrame
	f.Keys, f.Measures = flexMap(raw.Keys), flexMap(raw.Measures)
	f.EventAction = strings.ToUpper(f.EventAction)
	f.PayloadType = strings.ToUpper(f.PayloadType)
	switch {
	case len(f.Keys) == 0:
		return f, errors.New("measure frame has no keys")
	case f.EventAction != "UPSERT" && f.EventAction != "DELETE":
		return f, fmt.Errorf("measure frame has eventAction %q", f.EventAction)
	case f.PayloadType != "INITIALIZING" && f.PayloadType != "LIVE":
		return f, fmt.Errorf("measure frame has payloadType %q", f.PayloadType)
	}
	return f, nil
}

func flexMap(m map[string]Flex) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = string(v)
	}
	return out
}

// Target says which entity a measure set belongs to: agentId names an agent,
// queueId a queue; other keys (the vendor's example keys a queue producer by
// channelId) name a queue for queue producers and an agent for producers
// whose name starts with "Agent", their values joined in key order.
func (f *MeasureFrame) Target() (event.TargetKind, string) {
	if id := f.Keys["agentId"]; id != "" {
		return event.TargetAgent, id
	}
	if id := f.Keys["queueId"]; id != "" {
		return event.TargetQueue, id
	}
	names := make([]string, 0, len(f.Keys))
	for k := range f.Keys {
		names = append(names, k)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, k := range names {
		parts[i] = f.Keys[k]
	}
	kind := event.TargetQueue
	if strings.HasPrefix(strings.ToLower(f.MeasureProducerID), "agent") {
		kind = event.TargetAgent
	}
	return kind, strings.Join(parts, "/")
}

// displayName picks a readable name from the measures, if the vendor sent one.
func (f *MeasureFrame) displayName(kind event.TargetKind) string {
	if kind == event.TargetAgent {
		return f.Measures["agentDisplayName"]
	}
	return f.Measures["queueName"]
}

type targetKey struct {
	kind event.TargetKind
	id   string
}

// Snapshotter turns one producer's frames on one connection into Measures
// events: INITIALIZING frames build a fresh snapshot, which replaces the
// previous one (MeasureReplace) when the first LIVE frame arrives or Flush is
// called; LIVE frames become MeasureUpsert and MeasureDelete. A new
// INITIALIZING frame after LIVE frames starts a new snapshot.
type Snapshotter struct {
	Producer string
	// Started is when the snapshot being collected was asked for (the
	// connection was confirmed): the time its states are as of.
	Started time.Time
	init    bool // collecting a snapshot
	snap    map[targetKey]*event.MeasureSet
}

// NewSnapshotter starts collecting producer's snapshot (a connection has
// just been confirmed).
func NewSnapshotter(producer string) *Snapshotter {
	return &Snapshotter{Producer: producer, Started: time.Now(), init: true, snap: map[targetKey]*event.MeasureSet{}}
}

// Pending reports whether a snapshot is being collected.
func (s *Snapshotter) Pending() bool { return s.init }

// Apply returns the events f means.
func (s *Snapshotter) Apply(f MeasureFrame) []event.Event {
	kind, id := f.Target()
	key := targetKey{kind, id}
	if f.PayloadType == "INITIALIZING" {
		if !s.init {
			s.init, s.snap, s.Started = true, map[targetKey]*event.MeasureSet{}, time.Now()
		}
		if f.EventAction == "DELETE" {
			delete(s.snap, key)
			return nil
		}
		set := s.snap[key]
		if set == nil {
			set = &event.MeasureSet{Target: kind, ID: id, Values: map[string]string{}}
			s.snap[key] = set
		}
		for k, v := range f.Measures {
			set.Values[k] = v
		}
		if n := f.displayName(kind); n != "" {
			set.Name = n
		}
		return nil
	}
	var out []event.Event
	if s.init {
		out = append(out, s.Flush()...)
	}
	ev := event.Event{Kind: event.Measures, Producer: s.Producer, Set: event.MeasureSet{Target: kind, ID: id}}
	if f.EventAction == "DELETE" {
		ev.MeasureOp = event.MeasureDelete
	} else {
		ev.MeasureOp = event.MeasureUpsert
		ev.Set.Name = f.displayName(kind)
		ev.Set.Values = f.Measures
		if ev.Set.Values == nil {
			ev.Set.Values = map[string]string{}
		}
	}
	return append(out, ev)
}

// Flush ends the snapshot being collected and returns its MeasureReplace
// (nothing when no snapshot is pending).
func (s *Snapshotter) Flush() []event.Event {
	if !s.init {
		return nil
	}
	s.init = false
	keys := make([]targetKey, 0, len(s.snap))
	for k := range s.snap {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].kind != keys[j].kind {
			return keys[i].kind < keys[j].kind
		}
		return keys[i].id < keys[j].id
	})
	sets := make([]event.MeasureSet, 0, len(keys))
	for _, k := range keys {
		sets = append(sets, *s.snap[k])
	}
	s.snap = map[targetKey]*event.MeasureSet{}
	return []event.Event{{Kind: event.Measures, MeasureOp: event.MeasureReplace, Producer: s.Producer, Snapshot: sets}}
}

// analyticsStates maps an agent measure set's agentState to the normalized
// state (the Agent producer's values).
var analyticsStates = map[string]event.State{
	"READY":      event.StateAvailable,
	"NOT_READY":  event.StateNotReady,
	"LOGGED_IN":  event.StateNotReady,
	"ALERTING":   event.StateOffered,
	"BUSY":       event.StateBusy,
	"ACW":        event.StateWrapUp,
	"LOGGED_OUT": event.StateLoggedOut,
}

// isAgentProducer reports whether producer's measure sets describe agents.
func isAgentProducer(producer string) bool {
	return strings.HasPrefix(strings.ToLower(producer), "agent")
}

// AgentResync turns an agent producer's snapshot (replace) into the agent
// states of the engagement source to (attach_to) as of at, and a roster
// of the agents it lists as logged in: Avaya's analytics snapshot carries
// every logged-in agent's state, which the engagement stream does not
// replay after a restart. Other producers' snapshots give nothing.
func AgentResync(to string, at time.Time, replace event.Event) []event.Event {
	if to == "" || replace.MeasureOp != event.MeasureReplace || !isAgentProducer(replace.Producer) {
		return nil
	}
	roster := []string{}
	var out []event.Event
	for _, set := range replace.Snapshot {
		if set.Target != event.TargetAgent || set.ID == "" {
			continue
		}
		st, ok := analyticsStates[strings.ToUpper(set.Values["agentState"])]
		if !ok {
			roster = append(roster, set.ID) // listed, state unknown: not logged out
			continue
		}
		if st != event.StateLoggedOut {
			roster = append(roster, set.ID)
		}
		reason := set.Values["reasonCodeName"]
		if st != event.StateNotReady || strings.EqualFold(reason, "N/A") {
			reason = ""
		}
		out = append(out, event.Event{Kind: event.AgentState, Source: to, Agent: set.ID, State: st, Reason: reason, At: at})
	}
	return append(out, event.Event{Kind: event.AgentRoster, Source: to, Roster: roster, At: at})
}
