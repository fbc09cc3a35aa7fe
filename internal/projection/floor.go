// Package projection is what the board and the console share: the latest
// copy of the floor, fed by model deltas, and the helpers that project it
// onto a board's definition (which agents and queues it shows, their
// figures, threshold levels and definitions in words, page marks).
package projection

import (
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/wallboard/wallboard/internal/config"
	"github.com/wallboard/wallboard/internal/event"
	"github.com/wallboard/wallboard/internal/model"
)

// Floor is the latest copy of every entity.
//
// It has one writer: the goroutine that calls Put (the board projector's).
// Put writes under the write lock; the writer reads without a lock, as
// nobody else writes. Every other goroutine reads under RLock and copies
// out what it needs (a view, a reset) before RUnlock.
type Floor struct {
	loc     *time.Location
	types   map[string]string // source name → type
	sites   map[string]string // source name → display name (sources[].display_name)
	sources []string          // configured source names, in order
	reasons map[string]int    // not-ready reason → alert after seconds (alerts.reasons)
	sl      time.Duration     // default service-level threshold
	defs    defCache          // tiles' definitions by language and settings (define.go)

	mu      sync.RWMutex
	agents  map[model.Key]model.Agent
	queues  map[model.Key]model.Queue
	sstates map[string]model.SourceState
}

// New returns the floor of cfg's sources, every source connecting; loc is
// the zone of "today" (nil: UTC).
func New(cfg *config.Config, loc *time.Location) *Floor {
	if loc == nil {
		loc = time.UTC
	}
	f := &Floor{loc: loc, types: map[string]string{}, sites: map[string]string{}, reasons: map[string]int{}, sl: cfg.ServiceLevelThreshold.D(),
		agents: map[model.Key]model.Agent{}, queues: map[model.Key]model.Queue{}, sstates: map[string]model.SourceState{}}
	for _, s := range cfg.Sources {
		f.types[s.Name] = s.Type
		f.sites[s.Name] = s.DisplayName
		f.sources = append(f.sources, s.Name)
		f.sstates[s.Name] = model.SourceState{Name: s.Name, Status: event.StatusConnecting}
	}
	for _, r := range cfg.Alerts.Reasons {
		f.reasons[r.Reason] = Secs(r.After)
	}
	return f
}

// Put takes one delta's entities in. Only the floor's writer calls it.
func (f *Floor) Put(d model.Delta) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, a := range d.Agents {
		f.agents[a.Key] = a
	}
	for _, q := range d.Queues {
		f.queues[q.Key] = q
	}
	for _, s := range d.Sources {
		f.sstates[s.Name] = s
	}
}

// RLock locks the floor for reading, for any goroutine but the writer.
func (f *Floor) RLock() { f.mu.RLock() }

// RUnlock undoes RLock.
func (f *Floor) RUnlock() { f.mu.RUnlock() }

// Location is the zone of "today".
func (f *Floor) Location() *time.Location { return f.loc }

// Agent returns the copy of agent k.
func (f *Floor) Agent(k model.Key) (model.Agent, bool) {
	a, ok := f.agents[k]
	return a, ok
}

// ShowsSource reports whether board def shows source.
func (f *Floor) ShowsSource(def *config.Board, source string) bool {
	return len(def.Sources) == 0 || slices.Contains(def.Sources, source)
}

// ShowsQueue reports whether board def shows q.
func (f *Floor) ShowsQueue(def *config.Board, q model.Queue) bool {
	if !f.ShowsSource(def, q.Source) {
		return false
	}
	return len(def.Queues) == 0 || slices.Contains(def.Queues, q.ID) || slices.Contains(def.Queues, q.Name)
}

// ShowsAgent reports whether board def shows a: logged in, from one of its
// sources, in one of its queues.
func (f *Floor) ShowsAgent(def *config.Board, a model.Agent) bool {
	if !f.ShowsSource(def, a.Source) || a.State == event.StateLoggedOut || a.State == event.StateUnknown {
		return false
	}
	if len(def.Queues) == 0 {
		return true
	}
	for _, qid := range a.Queues {
		if q, ok := f.queues[model.Key{Source: a.Source, ID: qid}]; ok && f.ShowsQueue(def, q) {
			return true
		}
		if slices.Contains(def.Queues, qid) {
			return true
		}
	}
	return false
}

// Counts returns how many agents and queues board def shows.
func (f *Floor) Counts(def *config.Board) (agents, queues int) {
	for _, a := range f.agents {
		if f.ShowsAgent(def, a) {
			agents++
		}
	}
	for _, q := range f.queues {
		if f.ShowsQueue(def, q) {
			queues++
		}
	}
	return agents, queues
}

// CountStates adds the agents board def shows to states, by state. The
// caller's map can stay on its stack.
func (f *Floor) CountStates(def *config.Board, states map[event.State]int) {
	for _, a := range f.agents {
		if f.ShowsAgent(def, a) {
			states[a.State]++
		}
	}
}

// Agents returns the agents board def shows in the order of its grid (and
// of the console's table before the viewer sorts it): by group (group_by),
// problems first (sort: problems), then by name and key.
func (f *Floor) Agents(def *config.Board) []model.Agent {
	agents := make([]model.Agent, 0, len(f.agents))
	for _, a := range f.agents {
		if f.ShowsAgent(def, a) {
			agents = append(agents, a)
		}
	}
	problems := def.Sort == "problems"
	var groups map[model.Key]string
	if def.GroupBy != "" {
		groups = make(map[model.Key]string, len(agents))
		for _, a := range agents {
			groups[a.Key] = f.Group(def, a)
		}
	}
	sort.Slice(agents, func(i, j int) bool {
		x, y := agents[i], agents[j]
		if groups != nil && groups[x.Key] != groups[y.Key] {
			return groups[x.Key] < groups[y.Key] // NoGroup sorts last
		}
		if problems {
			if rx, ry := problemRank[x.State], problemRank[y.State]; rx != ry {
				return rx < ry
			}
			if !x.Since.Equal(y.Since) {
				return x.Since.Before(y.Since) // longest in state first
			}
		}
		if x.Name != y.Name {
			return x.Name < y.Name
		}
		return x.Key.Less(y.Key)
	})
	return agents
}

// problemRank orders states for sort: problems: not ready first, then
// ringing, wrap-up, on a contact, available.
var problemRank = map[event.State]int{event.StateNotReady: 0, event.StateOffered: 1, event.StateWrapUp: 2,
	event.StateBusy: 3, event.StateAvailable: 4}

// NoGroup is the group of agents in none of the board's queues: a byte no
// UTF-8 name starts with, so it sorts last.
const NoGroup = "\xff"

// Group is the group of agent a on board def (group_by): the first, by
// name, of its queues the board shows, or its source.
func (f *Floor) Group(def *config.Board, a model.Agent) string {
	if def.GroupBy == "source" {
		return a.Source
	}
	g := ""
	for _, qid := range a.Queues {
		name := qid
		if q, ok := f.queues[model.Key{Source: a.Source, ID: qid}]; ok {
			if !f.ShowsQueue(def, q) {
				continue
			}
			name = q.Name
		}
		if g == "" || name < g {
			g = name
		}
	}
	if g == "" {
		return NoGroup
	}
	return g
}

// WorstStatus is the worst status of the sources board def shows: live,
// connecting, degraded, failed in that order.
func (f *Floor) WorstStatus(def *config.Board) event.Status {
	rank := map[event.Status]int{event.StatusLive: 0, event.StatusConnecting: 1, event.StatusDegraded: 2, event.StatusFailed: 3}
	worst := event.StatusLive
	for _, name := range f.sources {
		if f.ShowsSource(def, name) {
			if st := f.sstates[name].Status; rank[st] > rank[worst] {
				worst = st
			}
		}
	}
	return worst
}

// Site is what supervisors read for source: its display name, else its name.
func (f *Floor) Site(source string) string {
	if d := f.sites[source]; d != "" {
		return d
	}
	return source
}

// Queues returns the queues board def shows, by name (then key).
func (f *Floor) Queues(def *config.Board) []model.Queue {
	var qs []model.Queue
	for _, q := range f.queues {
		if f.ShowsQueue(def, q) {
			qs = append(qs, q)
		}
	}
	sort.Slice(qs, func(i, j int) bool {
		if qs[i].Name != qs[j].Name {
			return qs[i].Name < qs[j].Name
		}
		return qs[i].Key.Less(qs[j].Key)
	})
	return qs
}
