package model

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/wallboard/wallboard/internal/event"
	"github.com/wallboard/wallboard/internal/journal"
)

// SnapshotVersion is the format version of MarshalState's output. Restore
// refuses any other version rather than guess at its meaning.
const SnapshotVersion = 1

// Errors Restore returns; the caller sets such a snapshot aside.
var (
	// ErrSnapshotCorrupt: the snapshot cannot be read (not JSON, truncated,
	// impossible values).
	ErrSnapshotCorrupt = errors.New("snapshot is corrupt")
	// ErrSnapshotVersion: the snapshot was written in a format this build
	// does not know.
	ErrSnapshotVersion = errors.New("snapshot has an unknown format version")
)

// persistedDedup is how many of the most recent event ids a snapshot keeps,
// so events a vendor replays after a restart are recognized as seen.
const persistedDedup = 4096

// persisted is the persisted form of a model: what a restart needs to show the
// floor and today's figures again before the vendors catch up. Vendor
// measures and source statuses are not kept: the vendors restate them.
type persisted struct {
	Version  int         `json:"version"`
	Day      string      `json:"day"`
	Agents   []stAgent   `json:"agents"`
	Queues   []stQueue   `json:"queues"`
	Contacts []stContact `json:"contacts"`
	Counted  []stCounted `json:"counted"`
	// Seen: the most recent event ids ("source\x00id"), oldest first.
	Seen []string `json:"seen,omitempty"`
	// Journal: the last journal position the snapshot holds; a start
	// replays the journal after it. Cursors: each source's cursor as of
	// that position.
	Journal uint64            `json:"journal,omitempty"`
	Cursors map[string]string `json:"cursors,omitempty"`
	// Interval: the open history interval (intervals.go).
	Interval *stInterval `json:"interval,omitempty"`
}

type stAgent struct {
	Source      string      `json:"source"`
	ID          string      `json:"id"`
	Name        string      `json:"name"`
	State       event.State `json:"state"`
	Reason      string      `json:"reason,omitempty"`
	Since       time.Time   `json:"since"`
	Queues      []string    `json:"queues,omitempty"`
	Interaction string      `json:"interaction,omitempty"`
}

type stQueue struct {
	Source       string `json:"source"`
	ID           string `json:"id"`
	Name         string `json:"name"`
	Offered      int    `json:"offered"`
	Answered     int    `json:"answered"`
	AnsweredInSL int    `json:"answered_in_sl"`
	Abandoned    int    `json:"abandoned"`
	Handled      int    `json:"handled"`
	HandleTotal  int64  `json:"handle_total_ms"`
	ShortAbd     int    `json:"short_abandoned,omitempty"`
	AnswerWait   int64  `json:"answer_wait_ms,omitempty"`
	AnswerWaited int    `json:"answer_waited,omitempty"`
	// History: the last hour, for the rolling windows (windows.go).
	History []stHist `json:"history,omitempty"`
	// Waiting: contact id → queued at.
	Waiting map[string]time.Time `json:"waiting,omitempty"`
	// Trend: the last hour's waiting (trend.go).
	Trend *stTrend `json:"trend,omitempty"`
}

type stContact struct {
	Source     string    `json:"source"`
	ID         string    `json:"id"`
	Queue      string    `json:"queue,omitempty"`
	Agent      string    `json:"agent,omitempty"`
	QueuedAt   time.Time `json:"queued_at"`
	AnsweredAt time.Time `json:"answered_at"`
	Answered   bool      `json:"answered,omitempty"`
}

type stCounted struct {
	Source string `json:"source"`
	ID     string `json:"id"`
	Flags  uint8  `json:"flags"`
}

// State is a copy of the model in its persisted form, taken on the loop's
// goroutine; encoding it (Marshal) can then happen elsewhere.
type State struct{ s persisted }

// PersistState copies the model into its persisted form. It must run on the
// goroutine that owns the model (see Loop.PersistState).
func (m *Model) PersistState() State {
	s := persisted{Version: SnapshotVersion, Day: m.day}
	for _, a := range m.agents {
		s.Agents = append(s.Agents, stAgent{Source: a.Source, ID: a.ID, Name: a.Name, State: a.State, Reason: a.Reason,
			Since: a.Since, Queues: slices.Clone(a.Queues), Interaction: a.Interaction})
	}
	sort.Slice(s.Agents, func(i, j int) bool {
		return keyLess(s.Agents[i].Source, s.Agents[i].ID, s.Agents[j].Source, s.Agents[j].ID)
	})
	for _, q := range m.queues {
		sq := stQueue{Source: q.Source, ID: q.ID, Name: q.Name, Offered: q.Offered, Answered: q.Answered,
			AnsweredInSL: q.AnsweredInSL, Abandoned: q.Abandoned, Handled: q.Handled, HandleTotal: q.HandleTotal.Milliseconds(),
			ShortAbd: q.ShortAbandoned, AnswerWait: q.AnswerWait.Milliseconds(), AnswerWaited: q.AnswerWaited, History: histOut(q.hist),
			Trend: q.trend.persist()}
		if len(q.waiting) > 0 {
			sq.Waiting = make(map[string]time.Time, len(q.waiting))
			for id, t := range q.waiting {
				sq.Waiting[id] = t
			}
		}
		s.Queues = append(s.Queues, sq)
	}
	sort.Slice(s.Queues, func(i, j int) bool {
		return keyLess(s.Queues[i].Source, s.Queues[i].ID, s.Queues[j].Source, s.Queues[j].ID)
	})
	for k, c := range m.contacts {
		s.Contacts = append(s.Contacts, stContact{Source: k.Source, ID: k.ID, Queue: c.queue, Agent: c.agent,
			QueuedAt: c.queuedAt, AnsweredAt: c.answeredAt, Answered: c.answered})
	}
	sort.Slice(s.Contacts, func(i, j int) bool {
		return keyLess(s.Contacts[i].Source, s.Contacts[i].ID, s.Contacts[j].Source, s.Contacts[j].ID)
	})
	for k, f := range m.counted {
		s.Counted = append(s.Counted, stCounted{Source: k.Source, ID: k.ID, Flags: uint8(f)})
	}
	sort.Slice(s.Counted, func(i, j int) bool {
		return keyLess(s.Counted[i].Source, s.Counted[i].ID, s.Counted[j].Source, s.Counted[j].ID)
	})
	s.Seen = m.seen.recent(persistedDedup)
	s.Interval = m.persistInterval()
	return State{s}
}

func keyLess(s1, i1, s2, i2 string) bool { return Key{s1, i1}.Less(Key{s2, i2}) }

// Marshal encodes the state (JSON with a format version).
func (st State) Marshal() ([]byte, error) {
	return json.Marshal(st.s)
}

// Day is the day the state's counters belong to.
func (st State) Day() string { return st.s.Day }

// Position is the last journal position the state holds.
func (st State) Position() journal.Pos { return journal.Pos(st.s.Journal) }

// withJournal records the journal position and the cursors as of it.
func (st State) withJournal(pos journal.Pos, cursors map[string]string) State {
	st.s.Journal = uint64(pos)
	if len(cursors) > 0 {
		st.s.Cursors = make(map[string]string, len(cursors))
		for k, v := range cursors {
			st.s.Cursors[k] = v
		}
	}
	return st
}

// MarshalState is PersistState followed by Marshal.
func (m *Model) MarshalState() ([]byte, error) { return m.PersistState().Marshal() }

// RestoreInfo says what Restore took from a snapshot.
type RestoreInfo struct {
	Day      string // the snapshot's day
	Counters bool   // today's counters were restored (the snapshot is from today)
	Agents   int
	Queues   int
	Contacts int
	// Journal and Cursors: the journal position the snapshot holds and
	// each source's cursor as of it.
	Journal journal.Pos
	Cursors map[string]string
}

// Restore loads a snapshot written by MarshalState into a model that has not
// applied anything yet, as of now. Agents, queues, waiting and open contacts
// are always restored; today's counters and the set of contacts already
// counted only when the snapshot is from today (in the model's zone), so a
// snapshot from an earlier day never shows yesterday's figures. A snapshot
// that cannot be read returns an error wrapping ErrSnapshotCorrupt or
// ErrSnapshotVersion and leaves the model as it was.
func (m *Model) Restore(b []byte, now time.Time) (RestoreInfo, error) {
	var head struct {
		Version *int `json:"version"`
	}
	if err := json.Unmarshal(b, &head); err != nil {
		return RestoreInfo{}, fmt.Errorf("%w: %w", ErrSnapshotCorrupt, err)
	}
	if head.Version == nil {
		return RestoreInfo{}, fmt.Errorf("%w: no version", ErrSnapshotCorrupt)
	}
	if *head.Version != SnapshotVersion {
		return RestoreInfo{}, fmt.Errorf("%w: version %d, this build reads %d", ErrSnapshotVersion, *head.Version, SnapshotVersion)
	}
	var s persisted
	if err := json.Unmarshal(b, &s); err != nil {
		return RestoreInfo{}, fmt.Errorf("%w: %w", ErrSnapshotCorrupt, err)
	}
	if err := s.check(); err != nil {
		return RestoreInfo{}, fmt.Errorf("%w: %w", ErrSnapshotCorrupt, err)
	}

	m.Rollover(now)
	today := s.Day == m.day
	info := RestoreInfo{Day: s.Day, Counters: today, Agents: len(s.Agents), Queues: len(s.Queues), Contacts: len(s.Contacts),
		Journal: journal.Pos(s.Journal), Cursors: s.Cursors}
	for _, sa := range s.Agents {
		a := m.agent(sa.Source, sa.ID)
		a.Name, a.State, a.Reason, a.Since, a.Interaction = sa.Name, sa.State, sa.Reason, sa.Since, sa.Interaction
		a.Queues = slices.Clone(sa.Queues)
		m.dirty.Agents[a.Key] = true
	}
	for _, sq := range s.Queues {
		q := m.queue(sq.Source, sq.ID)
		q.Name = sq.Name
		m.resettle(q)
		if today {
			q.ShortAbandoned = sq.ShortAbd
		}
		q.hist = histIn(sq.History)
		q.trend.restore(sq.Trend)
		if today {
			q.Offered, q.Answered, q.AnsweredInSL, q.Abandoned = sq.Offered, sq.Answered, sq.AnsweredInSL, sq.Abandoned
			q.Handled, q.HandleTotal = sq.Handled, time.Duration(sq.HandleTotal)*time.Millisecond
			q.AnswerWait, q.AnswerWaited = time.Duration(sq.AnswerWait)*time.Millisecond, sq.AnswerWaited
		}
		for id, t := range sq.Waiting {
			q.waiting[id] = t
		}
		q.refreshWaiting()
		m.dirty.Queues[q.Key] = true
	}
	for _, sc := range s.Contacts {
		m.contacts[Key{sc.Source, sc.ID}] = &contact{queue: sc.Queue, agent: sc.Agent, queuedAt: sc.QueuedAt,
			answeredAt: sc.AnsweredAt, answered: sc.Answered}
	}
	if today {
		for _, c := range s.Counted {
			m.counted[Key{c.Source, c.ID}] = countFlags(c.Flags)
		}
	}
	for _, id := range s.Seen {
		m.seen.add(id)
	}
	m.restoreInterval(s.Interval, today)
	m.dirty.Membership = true
	return info, nil
}

// check rejects values no model could have written.
func (s *persisted) check() error {
	if _, err := time.Parse(time.DateOnly, s.Day); err != nil {
		return fmt.Errorf("day %q", s.Day)
	}
	for i, a := range s.Agents {
		if a.Source == "" || a.ID == "" {
			return fmt.Errorf("agents[%d]: no key", i)
		}
		if !a.State.Valid() {
			return fmt.Errorf("agents[%d]: state %q", i, a.State)
		}
	}
	for i, q := range s.Queues {
		if q.Source == "" || q.ID == "" {
			return fmt.Errorf("queues[%d]: no key", i)
		}
		if q.Offered < 0 || q.Answered < 0 || q.AnsweredInSL < 0 || q.Abandoned < 0 || q.Handled < 0 || q.HandleTotal < 0 || q.AnswerWait < 0 || q.AnswerWaited < 0 {
			return fmt.Errorf("queues[%d]: negative counter", i)
		}
	}
	for i, c := range s.Contacts {
		if c.Source == "" || c.ID == "" {
			return fmt.Errorf("contacts[%d]: no key", i)
		}
	}
	for i, c := range s.Counted {
		if c.Source == "" || c.ID == "" {
			return fmt.Errorf("counted[%d]: no key", i)
		}
	}
	return nil
}

// PersistState copies the model into its persisted form on the loop's
// goroutine; the caller encodes it on its own (Marshal), so a large floor
// never holds the loop up for the encoding.
func (l *Loop) PersistState(ctx context.Context) (State, error) {
	var st State
	err := l.Do(ctx, func(m *Model) { st = m.PersistState().withJournal(l.pos, l.cursors) })
	return st, err
}

// FinalState is PersistState for a loop whose Run has returned.
func (l *Loop) FinalState() State {
	<-l.done
	return l.m.PersistState().withJournal(l.pos, l.cursors)
}

// recent returns up to n of the most recently added ids, oldest first.
func (d *dedup) recent(n int) []string {
	size := len(d.ring)
	n = min(n, len(d.set))
	out := make([]string, 0, n)
	for i := n; i > 0; i-- {
		id := d.ring[((d.next-i)%size+size)%size]
		if id != "" {
			out = append(out, id)
		}
	}
	return out
}

// stHist is one history entry: [unix ms, kind, flags (1 in SL, 2 short), handle ms].
type stHist [4]int64

func histOut(h []histEntry) []stHist {
	if len(h) == 0 {
		return nil
	}
	out := make([]stHist, len(h))
	for i, e := range h {
		var fl int64
		if e.inSL {
			fl |= 1
		}
		if e.short {
			fl |= 2
		}
		out[i] = stHist{e.ns / 1e6, int64(e.kind), fl, int64(e.handle)}
	}
	return out
}

// histIn restores a history, skipping entries that make no sense.
func histIn(h []stHist) []histEntry {
	var out []histEntry
	for _, e := range h {
		if e[1] < int64(hOffered) || e[1] > int64(hHandled) || e[3] < 0 {
			continue
		}
		out = append(out, histEntry{ns: e[0] * 1e6, kind: histKind(e[1]), inSL: e[2]&1 != 0, short: e[2]&2 != 0,
			handle: int32(min(e[3], math.MaxInt32))})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].ns < out[j].ns })
	if len(out) > maxHistory {
		out = out[len(out)-maxHistory:]
	}
	return out
}

// Cursors returns each source's cursor as of the last batch the loop
// applied (a new cluster leader resumes its sources from them).
func (l *Loop) Cursors(ctx context.Context) (map[string]string, error) {
	var out map[string]string
	err := l.Do(ctx, func(*Model) { out = maps.Clone(l.cursors) })
	return out, err
}

// Sources returns each source's status as the model holds it (on a
// cluster follower, the leader's sources as the stream told them).
func (l *Loop) Sources(ctx context.Context) ([]SourceState, error) {
	var out []SourceState
	err := l.Do(ctx, func(m *Model) {
		for _, s := range m.sources {
			out = append(out, *s)
		}
	})
	return out, err
}
