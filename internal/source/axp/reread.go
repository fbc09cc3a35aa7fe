package axp

import (
	"context"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/wallboard/wallboard/internal/event"
	"github.com/wallboard/wallboard/internal/source"
)

// Avaya replays nothing to an Agent & Engagement socket that reconnects:
// what agents did while it was down is gone from that stream. An analytics
// source attached to it (attach_to) whose agent producer stayed connected
// knows their current states: its snapshot, kept up to date by every LIVE
// frame since (a mirror of the agent state and reason of each agent set).
// When the engagement feed's session starts again after a drop, of any
// length, it asks each analytics source attached to it to re-read the
// agents from that mirror (AgentResync, as after a snapshot). A producer
// whose own socket is down has no mirror: its next connect brings a new
// snapshot, which resyncs anyway.

// mirrored are the measures AgentResync reads.
var mirrored = []string{"agentState", "reasonCodeName"}

// attachments: the analytics sources running, by the engagement source
// they are attached to (attachKey).
var attachments = struct {
	sync.Mutex
	m map[string]map[*Source]bool
}{m: map[string]map[*Source]bool{}}

// attachKey names an engagement source within its account: attach_to is
// on the same url and account_id (options.go).
func attachKey(url, account, name string) string {
	return strings.TrimRight(url, "/") + "\x00" + account + "\x00" + name
}

// attach makes s, an analytics source with attach_to, heard by its
// engagement source's reconnects until the returned func is called.
func (s *Source) attach(r *source.Reporter) func() {
	if s.typ != TypeAnalytics || s.opts.AttachTo == "" {
		return func() {}
	}
	s.rep.Store(r)
	k := attachKey(s.url, s.opts.AccountID, s.opts.AttachTo)
	attachments.Lock()
	if attachments.m[k] == nil {
		attachments.m[k] = map[*Source]bool{}
	}
	attachments.m[k][s] = true
	attachments.Unlock()
	return func() {
		attachments.Lock()
		delete(attachments.m[k], s)
		if len(attachments.m[k]) == 0 {
			delete(attachments.m, k)
		}
		attachments.Unlock()
		s.rep.CompareAndSwap(r, nil)
	}
}

// rereadAttached asks every analytics source attached to s (an engagement
// source whose session starts again) to resync its agents as of at, when
// the new session was asked for.
func (s *Source) rereadAttached(ctx context.Context, at time.Time) {
	attachments.Lock()
	var list []*Source
	for a := range attachments.m[attachKey(s.url, s.opts.AccountID, s.name)] {
		list = append(list, a)
	}
	attachments.Unlock()
	for _, a := range list {
		a.reread(ctx, at)
	}
}

// reread hands on AgentResync of each agent producer's mirror.
func (s *Source) reread(ctx context.Context, at time.Time) {
	r := s.rep.Load()
	if r == nil {
		return
	}
	s.mu.Lock()
	var evs []event.Event
	for _, p := range slices.Sorted(maps.Keys(s.mirror)) {
		ids := slices.Sorted(maps.Keys(s.mirror[p]))
		sets := make([]event.MeasureSet, 0, len(ids))
		for _, id := range ids {
			sets = append(sets, event.MeasureSet{Target: event.TargetAgent, ID: id, Values: maps.Clone(s.mirror[p][id])})
		}
		evs = append(evs, AgentResync(s.opts.AttachTo, at, event.Event{Kind: event.Measures, MeasureOp: event.MeasureReplace, Producer: p, Snapshot: sets})...)
	}
	s.mu.Unlock()
	if len(evs) == 0 {
		return
	}
	if err := r.Emit(ctx, evs...); err != nil {
		return
	}
	s.rereads.Add(1)
	s.log.Info("re-read the engagement source's agents from the agent measures, after its reconnect", "engagement", s.opts.AttachTo)
}

// mirror keeps the agent producers' agent states as evs (about to be
// handed on) change them. Upserts before a snapshot are not kept: the
// mirror holds only what a complete snapshot began.
func (s *Source) mirrorApply(evs []event.Event) {
	if s.opts.AttachTo == "" {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range evs {
		e := &evs[i]
		if e.Kind != event.Measures || !isAgentProducer(e.Producer) {
			continue
		}
		switch e.MeasureOp {
		case event.MeasureReplace:
			m := make(map[string]map[string]string, len(e.Snapshot))
			for _, set := range e.Snapshot {
				if set.Target == event.TargetAgent && set.ID != "" {
					m[set.ID] = pick(nil, set.Values)
				}
			}
			if s.mirror == nil {
				s.mirror = map[string]map[string]map[string]string{}
			}
			s.mirror[e.Producer] = m
		case event.MeasureUpsert:
			if m := s.mirror[e.Producer]; m != nil && e.Set.Target == event.TargetAgent && e.Set.ID != "" {
				m[e.Set.ID] = pick(m[e.Set.ID], e.Set.Values)
			}
		case event.MeasureDelete:
			if m := s.mirror[e.Producer]; m != nil && e.Set.Target == event.TargetAgent {
				delete(m, e.Set.ID)
			}
		}
	}
}

// mirrorDrop forgets producer's mirror (its socket is down).
func (s *Source) mirrorDrop(producer string) {
	s.mu.Lock()
	delete(s.mirror, producer)
	s.mu.Unlock()
}

// pick merges the mirrored measures of values into into (a copy: the
// events' maps go on to the model).
func pick(into, values map[string]string) map[string]string {
	if into == nil {
		into = map[string]string{}
	}
	for _, k := range mirrored {
		if v, ok := values[k]; ok {
			into[k] = v
		}
	}
	return into
}
