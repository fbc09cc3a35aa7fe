// Package board projects the model onto the configured boards: which agents
// and queues each board shows, their figures and threshold levels, and the
// HTML fragments (rendered once per board per flush) that the hub sends.
package board

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/a-h/templ"

	"github.com/wallboard/wallboard/internal/config"
	"github.com/wallboard/wallboard/internal/event"
	"github.com/wallboard/wallboard/internal/i18n"
	"github.com/wallboard/wallboard/internal/model"
	"github.com/wallboard/wallboard/templates"
)

// Publisher is where a board's fragments go (a hub topic).
type Publisher interface {
	Publish(data []byte)
}

// Board is one configured board and what it last sent.
type Board struct {
	Def  config.Board
	Gen  string // hash of the definition: pages from an older one are reset
	pub  Publisher
	kpis []byte // last KPI row sent, to send it only when it changed
	hlth []byte
	// names, variant and primary are set on a variant: names hidden, a
	// language of its own (kiosk.go).
	names, variant, primary string
	// console: the board's console stream (console.go).
	console bool
	// grid: the agents' DOM ids in the order the stream last laid them out
	// (nil: not known, the next change of membership sends the whole grid).
	grid []string
}

// Projector keeps the latest copy of every entity (fed by model deltas) and
// renders each board from it. Page loads and resets read it under a lock.
type Projector struct {
	loc     *time.Location
	now     func() time.Time
	types   map[string]string // source name → type
	sites   map[string]string // source name → display name (sources[].display_name)
	brand   config.Branding
	log     *slog.Logger
	boards  []*Board
	byID    map[string]*Board
	sources []string // configured source names, in order
	// variants are boards rendered with hidden names (kiosk.go).
	variants []*Board

	mu      sync.RWMutex
	agents  map[model.Key]model.Agent
	queues  map[model.Key]model.Queue
	sstates map[string]model.SourceState
	tickers map[string]string // board id → ticker message (kiosk.go)
	reasons map[string]int    // not-ready reason → alert after seconds (console.go)
	sl      time.Duration     // default service-level threshold (console.go)
}

// Options configure a Projector.
type Options struct {
	Location *time.Location
	Now      func() time.Time
	Logger   *slog.Logger
}

// NewProjector returns a projector for the boards and sources of cfg. Call
// Attach for each board before Run.
func NewProjector(cfg *config.Config, o Options) *Projector {
	if o.Location == nil {
		o.Location = time.UTC
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	p := &Projector{loc: o.Location, now: o.Now, log: o.Logger, types: map[string]string{}, sites: map[string]string{}, byID: map[string]*Board{},
		agents: map[model.Key]model.Agent{}, queues: map[model.Key]model.Queue{}, sstates: map[string]model.SourceState{}}
	for _, s := range cfg.Sources {
		p.types[s.Name] = s.Type
		p.sites[s.Name] = s.DisplayName
		p.sources = append(p.sources, s.Name)
		p.sstates[s.Name] = model.SourceState{Name: s.Name, Status: event.StatusConnecting}
	}
	for _, def := range cfg.Boards {
		b := &Board{Def: def, Gen: generation(def)}
		p.boards = append(p.boards, b)
		p.byID[def.ID] = b
		p.addVariants(cfg, def)
		p.addConsole(def)
	}
	p.sl = cfg.ServiceLevelThreshold.D()
	p.brand = cfg.Branding
	p.reasons = map[string]int{}
	for _, r := range cfg.Alerts.Reasons {
		p.reasons[r.Reason] = secs(r.After)
	}
	return p
}

// generation hashes a board's definition (without its kiosk tokens).
func generation(def config.Board) string {
	def.Kiosk = nil
	sum := sha256.Sum256(fmt.Appendf(nil, "%#v", def))
	return hex.EncodeToString(sum[:4])
}

// Boards returns the boards in configuration order.
func (p *Projector) Boards() []*Board { return p.boards }

// Board returns the board with id.
func (p *Projector) Board(id string) (*Board, bool) {
	b, ok := p.byID[id]
	return b, ok
}

// Attach sets where board id's fragments go.
func (p *Projector) Attach(id string, pub Publisher) {
	if b := p.byID[id]; b != nil {
		b.pub = pub
	}
}

// Run applies deltas until ctx ends or deltas closes.
func (p *Projector) Run(ctx context.Context, deltas <-chan model.Delta) {
	for {
		select {
		case <-ctx.Done():
			return
		case d, ok := <-deltas:
			if !ok {
				return
			}
			p.Apply(d)
		}
	}
}

// Apply takes one delta in and publishes each affected board's fragment.
func (p *Projector) Apply(d model.Delta) {
	p.mu.Lock()
	for _, a := range d.Agents {
		p.agents[a.Key] = a
	}
	for _, q := range d.Queues {
		p.queues[q.Key] = q
	}
	for _, s := range d.Sources {
		p.sstates[s.Name] = s
	}
	p.mu.Unlock()

	p.mu.RLock()
	defer p.mu.RUnlock()
	now := p.now()
	for _, b := range p.Streams() {
		if b.pub == nil {
			continue
		}
		frag := []byte(nil)
		if b.console {
			frag = p.consoleFragment(b, d, now)
		} else {
			frag = p.fragment(b, d, now)
		}
		if len(frag) > 0 {
			b.pub.Publish(frag)
		}
	}
}

// fragment renders what changed on board b: whole containers where their
// membership changed, single cards and tiles otherwise. Called under p.mu.
func (p *Projector) fragment(b *Board, d model.Delta, now time.Time) []byte {
	var buf bytes.Buffer
	ctx := context.Background()
	render := func(c templ.Component) {
		if err := c.Render(ctx, &buf); err != nil {
			p.log.Error("failed to render fragment", "board", b.Def.ID, "error", err)
		}
	}
	agentsChanged, queuesChanged := false, false
	var agents []model.Agent
	reorder := false
	if !d.Membership && !d.Rollover && len(d.Agents) > 0 && (b.Def.Sort == "problems" || b.Def.GroupBy != "") {
		// A change of state may move a card on a board sorted by problems
		// (or to another group): then the grid is sent again.
		agents = p.boardAgents(b)
		reorder = len(agents) != len(b.grid)
		for i := 0; !reorder && i < len(agents); i++ {
			reorder = DOMID("agent", agents[i].Source, agents[i].ID) != b.grid[i]
		}
	}
	if d.Membership || d.Rollover || reorder {
		if agents == nil {
			agents = p.boardAgents(b)
		}
		if d.Rollover || reorder || b.Def.GroupBy != "" || !p.gridChanges(b, agents, d, now, render) {
			g := p.gridOf(b, agents, now)
			render(templates.AgentGrid(g, true))
			b.grid = b.grid[:0]
			for _, c := range g.Cards {
				b.grid = append(b.grid, c.DOMID)
			}
		}
		render(templates.QueueRow(p.queueTiles(b, now), true))
		agentsChanged, queuesChanged = true, true
	} else {
		for _, a := range d.Agents {
			if p.showsAgent(b, a) {
				render(templates.AgentCardView(p.card(b, a, now), true))
				agentsChanged = true
			}
		}
		for _, q := range d.Queues {
			if p.showsQueue(b, q) {
				render(templates.QueueTileView(p.tile(b, q, now), true))
				queuesChanged = true
			}
		}
	}
	if agentsChanged || queuesChanged {
		var k bytes.Buffer
		if err := templates.KPIRow(p.kpis(b, now), true).Render(ctx, &k); err == nil && !bytes.Equal(k.Bytes(), b.kpis) {
			b.kpis = bytes.Clone(k.Bytes())
			buf.Write(k.Bytes())
		}
	}
	if len(d.Sources) > 0 {
		var h bytes.Buffer
		if err := templates.HealthStrip(p.health(b, now), true).Render(ctx, &h); err == nil && !bytes.Equal(h.Bytes(), b.hlth) {
			b.hlth = bytes.Clone(h.Bytes())
			buf.Write(h.Bytes())
		}
	}
	return buf.Bytes()
}

// maxGridChanges is how many cards may come and go in one tick as single
// inserts and removals; beyond it the whole grid is sent.
const maxGridChanges = 20

// gridChanges renders a change of membership as single-card removals and
// inserts, plus the changed cards, when the cards that stay keep their
// order: a screen then lays out a few cards instead of replacing hundreds
// (a whole 450-card grid costs a TV 50–80 ms of main thread). It returns
// false, rendering nothing, when the whole grid must be sent instead.
func (p *Projector) gridChanges(b *Board, agents []model.Agent, d model.Delta, now time.Time, render func(templ.Component)) bool {
	if len(b.grid) == 0 {
		return false
	}
	if len(agents) == 0 {
		return false // the grid shows its empty text instead
	}
	ids := make([]string, len(agents))
	in := make(map[string]bool, len(agents))
	for i, a := range agents {
		ids[i] = DOMID("agent", a.Source, a.ID)
		in[ids[i]] = true
	}
	had := make(map[string]bool, len(b.grid))
	for _, id := range b.grid {
		had[id] = true
	}
	var removed []string
	for _, id := range b.grid {
		if !in[id] {
			removed = append(removed, id)
		}
	}
	var inserted []int
	for i, id := range ids {
		if !had[id] {
			inserted = append(inserted, i)
		}
	}
	if len(removed)+len(inserted) > maxGridChanges {
		return false
	}
	// The cards that stay must be in the same order on both sides.
	j := 0
	for _, id := range b.grid {
		if !in[id] {
			continue
		}
		for j < len(ids) && !had[ids[j]] {
			j++
		}
		if j == len(ids) || ids[j] != id {
			return false
		}
		j++
	}
	for _, id := range removed {
		render(templates.AgentRemoved(id))
	}
	// Each run of new cards goes in before the card that stays after it:
	// htmx finds every target before it swaps, so a target must already be
	// on the page.
	for k := 0; k < len(inserted); {
		e := k
		for e+1 < len(inserted) && inserted[e+1] == inserted[e]+1 {
			e++
		}
		cards := make([]templates.AgentCard, 0, e-k+1)
		for _, i := range inserted[k : e+1] {
			cards = append(cards, p.card(b, agents[i], now))
		}
		where := "beforeend:#agents"
		if next := inserted[e] + 1; next < len(ids) {
			where = "beforebegin:#" + ids[next]
		}
		render(templates.AgentsInserted(where, cards))
		k = e + 1
	}
	for _, a := range d.Agents {
		if id := DOMID("agent", a.Source, a.ID); in[id] && had[id] {
			render(templates.AgentCardView(p.card(b, a, now), true))
		}
	}
	b.grid = ids
	return true
}

// Reset renders every container of board id as out-of-band swaps: what a
// reconnecting page receives instead of a backlog.
func (p *Projector) Reset(id string) []byte {
	b := p.byID[id]
	if b == nil {
		return nil
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	now := p.now()
	if b.console {
		return p.consoleReset(b, now)
	}
	var buf bytes.Buffer
	ctx := context.Background()
	for _, c := range []templ.Component{
		templates.HealthStrip(p.health(b, now), true),
		templates.KPIRow(p.kpis(b, now), true),
		templates.QueueRow(p.queueTiles(b, now), true),
		templates.AgentGrid(p.grid(b, now), true),
	} {
		if err := c.Render(ctx, &buf); err != nil {
			p.log.Error("failed to render reset", "board", id, "error", err)
		}
	}
	return buf.Bytes()
}

// View returns the view of board id for a page load.
func (p *Projector) View(id string) (templates.Board, bool) {
	b := p.byID[id]
	if b == nil {
		return templates.Board{}, false
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	now := p.now()
	return templates.Board{ID: b.Def.ID, Title: b.Def.Title, Health: p.health(b, now), KPIs: p.kpis(b, now),
		Queues: p.queueTiles(b, now), Grid: p.grid(b, now),
		Look: templates.Look{Lang: i18n.Lang(b.Def.Lang), Theme: b.Def.Theme, Clock: b.Def.Clock,
			BrandName: p.brand.Name, BrandColour: p.brand.Colour, Logo: p.brand.LogoURI}}, true
}

// Counts returns how many agents and queues board id shows.
func (p *Projector) Counts(id string) (agents, queues int) {
	b := p.byID[id]
	if b == nil {
		return 0, 0
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	for _, a := range p.agents {
		if p.showsAgent(b, a) {
			agents++
		}
	}
	for _, q := range p.queues {
		if p.showsQueue(b, q) {
			queues++
		}
	}
	return agents, queues
}

func (p *Projector) showsSource(b *Board, source string) bool {
	return len(b.Def.Sources) == 0 || slices.Contains(b.Def.Sources, source)
}

func (p *Projector) showsQueue(b *Board, q model.Queue) bool {
	if !p.showsSource(b, q.Source) {
		return false
	}
	return len(b.Def.Queues) == 0 || slices.Contains(b.Def.Queues, q.ID) || slices.Contains(b.Def.Queues, q.Name)
}

func (p *Projector) showsAgent(b *Board, a model.Agent) bool {
	if !p.showsSource(b, a.Source) || a.State == event.StateLoggedOut || a.State == event.StateUnknown {
		return false
	}
	if len(b.Def.Queues) == 0 {
		return true
	}
	for _, qid := range a.Queues {
		if q, ok := p.queues[model.Key{Source: a.Source, ID: qid}]; ok && p.showsQueue(b, q) {
			return true
		}
		if slices.Contains(b.Def.Queues, qid) {
			return true
		}
	}
	return false
}

// boardAgents returns the agents board b shows, by name (then key): the
// order of the grid and of the console's table before the viewer sorts it.
func (p *Projector) boardAgents(b *Board) []model.Agent {
	agents := make([]model.Agent, 0, len(p.agents))
	for _, a := range p.agents {
		if p.showsAgent(b, a) {
			agents = append(agents, a)
		}
	}
	problems := b.Def.Sort == "problems"
	var groups map[model.Key]string
	if b.Def.GroupBy != "" {
		groups = make(map[model.Key]string, len(agents))
		for _, a := range agents {
			groups[a.Key] = p.group(b, a)
		}
	}
	sort.Slice(agents, func(i, j int) bool {
		x, y := agents[i], agents[j]
		if groups != nil && groups[x.Key] != groups[y.Key] {
			return groups[x.Key] < groups[y.Key] // noGroup sorts last
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

// noGroup is the group of agents in none of the board's queues: a byte no
// UTF-8 name starts with, so it sorts last.
const noGroup = "\xff"

// group is the group of agent a on board b (group_by): the first, by name,
// of its queues the board shows, or its source.
func (p *Projector) group(b *Board, a model.Agent) string {
	if b.Def.GroupBy == "source" {
		return a.Source
	}
	g := ""
	for _, qid := range a.Queues {
		name := qid
		if q, ok := p.queues[model.Key{Source: a.Source, ID: qid}]; ok {
			if !p.showsQueue(b, q) {
				continue
			}
			name = q.Name
		}
		if g == "" || name < g {
			g = name
		}
	}
	if g == "" {
		return noGroup
	}
	return g
}

func (p *Projector) grid(b *Board, now time.Time) templates.Grid {
	return p.gridOf(b, p.boardAgents(b), now)
}

// gridOf is the grid of agents, the board's agents in order.
func (p *Projector) gridOf(b *Board, agents []model.Agent, now time.Time) templates.Grid {
	cards := make([]templates.AgentCard, 0, len(agents))
	for _, a := range agents {
		cards = append(cards, p.card(b, a, now))
	}
	return templates.Grid{Cards: cards, Empty: i18n.T(b.Def.Lang, "No agents are logged in.")}
}

// stateLabels are what people read for each state.
var stateLabels = map[event.State]string{
	event.StateAvailable: "Available", event.StateOffered: "Ringing", event.StateBusy: "On a contact",
	event.StateWrapUp: "Wrap-up", event.StateNotReady: "Not ready", event.StateLoggedOut: "Logged out",
	event.StateUnknown: "Unknown",
}

func (p *Projector) card(b *Board, a model.Agent, now time.Time) templates.AgentCard {
	label := i18n.T(b.Def.Lang, stateLabels[a.State])
	if a.State == event.StateNotReady && a.Reason != "" {
		label += " · " + a.Reason
	}
	c := templates.AgentCard{DOMID: DOMID("agent", a.Source, a.ID), Name: showName(a.Name, b.names), State: string(a.State), Label: label,
		Since: a.Since, Elapsed: Elapsed(now, a.Since)}
	th := b.Def.Thresholds
	switch a.State {
	case event.StateNotReady:
		c.WarnSec, c.AlarmSec = secs(th.NotReady.Warn), secs(th.NotReady.Alarm)
	case event.StateWrapUp:
		c.WarnSec, c.AlarmSec = secs(th.WrapUp.Warn), secs(th.WrapUp.Alarm)
	}
	if a.State == event.StateNotReady && a.Reason != "" {
		c.FlagSec = p.reasons[a.Reason] // reason alert (alerts.reasons)
	}
	var names []string
	for _, q := range a.Queues {
		if qq, ok := p.queues[model.Key{Source: a.Source, ID: q}]; ok {
			names = append(names, qq.Name)
		} else {
			names = append(names, q)
		}
	}
	c.Queues = strings.Join(names, ", ")
	if b.Def.GroupBy != "" {
		c.Group = p.group(b, a)
		if c.Group == noGroup {
			c.Group = i18n.T(b.Def.Lang, "No queue")
		}
	}
	return c
}

func (p *Projector) boardQueues(b *Board) []model.Queue {
	var qs []model.Queue
	for _, q := range p.queues {
		if p.showsQueue(b, q) {
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

func (p *Projector) queueTiles(b *Board, now time.Time) []templates.QueueTile {
	var out []templates.QueueTile
	for _, q := range p.boardQueues(b) {
		out = append(out, p.tile(b, q, now))
	}
	return out
}

func (p *Projector) tile(b *Board, q model.Queue, now time.Time) templates.QueueTile {
	th := b.Def.Thresholds
	t := templates.QueueTile{DOMID: DOMID("queue", q.Source, q.ID), Name: q.Name, Source: p.Site(q.Source), Waiting: q.Waiting,
		WaitingLevel: levelAbove(float64(q.Waiting), float64(th.Waiting.Warn), float64(th.Waiting.Alarm)),
		Oldest:       q.OldestWaiting, OldestText: "–",
		WaitWarnSec: secs(th.LongestWait.Warn), WaitAlarmSec: secs(th.LongestWait.Alarm),
		Offered: q.Offered, Answered: q.Answered, Abandoned: q.Abandoned, ServiceLevel: "–", AverageHandle: "–"}
	if !q.OldestWaiting.IsZero() {
		t.OldestText = Elapsed(now, q.OldestWaiting)
	}
	t.Lang = b.Def.Lang
	if sl, ok := q.ServiceLevel(); ok {
		t.ServiceLevel = i18n.Percent(b.Def.Lang, sl)
		t.SLLevel = levelBelow(sl, th.ServiceLevel.Warn, th.ServiceLevel.Alarm)
	}
	if d, ok := q.AverageHandle(); ok {
		t.AverageHandle = Clock(d)
	}
	win, st := p.periodText(0), p.settings(q)
	t.Defs = templates.TileDefs{Offered: Define("offered", win, st), Answered: Define("answered", win, st),
		Abandoned: Define("abandoned", win, st), ServiceLevel: Define("service_level", win, st),
		AverageHandle: Define("aht", win, st)}
	for _, m := range b.Def.Measures {
		if v, ok := q.Measures[m.Name]; ok && !m.Hidden {
			m = m.Resolved()
			t.Measures = append(t.Measures, templates.Measure{Name: m.Label, Value: MeasureValue(m, v),
				Hint: m.Label + ": " + m.Name + " as reported by " + p.Site(q.Source) + " (" + p.types[q.Source] + ")"})
		}
	}
	return t
}

// MeasureValue formats a vendor measure's raw value by its format (m is
// resolved): a duration's seconds (or milliseconds) as a clock, a percentage
// with its sign, a number or text with its unit. A value that does not parse
// is shown as received.
func MeasureValue(m config.Measure, raw string) string {
	f, err := strconv.ParseFloat(strings.TrimSpace(raw), 64)
	num := err == nil && !math.IsNaN(f) && !math.IsInf(f, 0)
	var out string
	switch {
	case m.Format == "duration" && num:
		return Clock(time.Duration(f * float64(time.Second)))
	case m.Format == "duration_ms" && num:
		return Clock(time.Duration(f * float64(time.Millisecond)))
	case m.Format == "percent" && num:
		return strconv.FormatFloat(math.Round(f), 'f', 0, 64) + "%"
	case m.Format == "number" && num:
		if f == math.Trunc(f) && math.Abs(f) < 1e15 {
			out = strconv.FormatInt(int64(f), 10)
		} else {
			out = strconv.FormatFloat(f, 'f', 1, 64)
		}
	default:
		out = raw
	}
	if m.Unit != "" {
		out += " " + m.Unit
	}
	return out
}

// kpis are the board's figures over its queues and agents.
func (p *Projector) kpis(b *Board, now time.Time) []templates.KPI {
	return p.kpisOf(b, now, b.Def.Tiles)
}

// kpisOf renders the named tiles of board b.
func (p *Projector) kpisOf(b *Board, now time.Time, tiles []string) []templates.KPI {
	var waiting, offered, answered, inSL, abandoned, handled, slDen int
	var handle time.Duration
	var oldest time.Time
	qs := p.boardQueues(b)
	for _, q := range qs {
		// Each queue's service-level denominator under its own settings.
		slDen += q.Answered
		if !q.Settings.ExcludeAbandons {
			slDen += q.Abandoned - q.ShortAbandoned
		}
		waiting += q.Waiting
		offered += q.Offered
		answered += q.Answered
		inSL += q.AnsweredInSL
		abandoned += q.Abandoned
		handled += q.Handled
		handle += q.HandleTotal
		if !q.OldestWaiting.IsZero() && (oldest.IsZero() || q.OldestWaiting.Before(oldest)) {
			oldest = q.OldestWaiting
		}
	}
	var waited int
	var wait time.Duration
	for _, q := range qs {
		waited += q.AnswerWaited
		wait += q.AnswerWait
	}
	states := map[event.State]int{}
	for _, a := range p.agents {
		if p.showsAgent(b, a) {
			states[a.State]++
		}
	}
	th := b.Def.Thresholds
	var out []templates.KPI
	for _, name := range tiles {
		k := templates.KPI{ID: "kpi-" + name}
		switch name {
		case "waiting":
			k.Label, k.Value, k.Hint = "Waiting", i18n.Int(b.Def.Lang, waiting), "Contacts waiting in this board's queues now"
			k.Level = levelAbove(float64(waiting), float64(th.Waiting.Warn), float64(th.Waiting.Alarm))
		case "longest_wait":
			k.Label, k.Value, k.Hint = "Longest wait", "–", "How long the oldest waiting contact has waited"
			if !oldest.IsZero() {
				k.Value, k.Since = Elapsed(now, oldest), oldest
				k.WarnSec, k.AlarmSec = secs(th.LongestWait.Warn), secs(th.LongestWait.Alarm)
			}
		case "service_level":
			k.Label, k.Value = "Service level", "–"
			k.Hint = p.boardSLDefinition(qs, p.periodText(0))
			if den := slDen; den > 0 {
				sl := float64(inSL) / float64(den)
				k.Value, k.Level = i18n.Percent(b.Def.Lang, sl), levelBelow(sl, th.ServiceLevel.Warn, th.ServiceLevel.Alarm)
			}
		case "offered":
			k.Label, k.Value, k.Hint = "Offered", i18n.Int(b.Def.Lang, offered), "Offered today: contacts that entered one of this board's queues (a transfer into another queue counts there too)"
		case "answered":
			k.Label, k.Value, k.Hint = "Answered", i18n.Int(b.Def.Lang, answered), "Answered today: contacts an agent accepted, in this board's queues"
		case "abandoned":
			k.Label, k.Value, k.Hint = "Abandoned", i18n.Int(b.Def.Lang, abandoned), "Abandoned today: contacts that ended while waiting or ringing in this board's queues, never answered (short abandons included)"
		case "aht":
			k.Label, k.Value, k.Hint = "Avg handle", "–", "Average handle time today: from answer to end of contact (talk and hold, not wrap-up), over this board's contacts that ended today"
			if handled > 0 {
				k.Value = Clock(handle / time.Duration(handled))
			}
		case "available":
			k.Label, k.Value, k.Hint = "Available", fmt.Sprint(states[event.StateAvailable]), "Agents ready for a contact now"
		case "busy":
			k.Label, k.Value, k.Hint = "On contacts", fmt.Sprint(states[event.StateBusy]+states[event.StateOffered]), "Agents ringing or on a contact now"
		case "not_ready":
			k.Label, k.Value, k.Hint = "Not ready", fmt.Sprint(states[event.StateNotReady]), "Agents logged in but not ready now"
		case "abandon_rate":
			k.Label, k.Value, k.Hint = "Abandon rate", "–", "Abandon rate today: abandoned ÷ offered, in this board's queues"
			if offered > 0 {
				r := float64(abandoned) / float64(offered)
				k.Value, k.Level = i18n.Percent(b.Def.Lang, r), levelAbove(r, th.AbandonRate.Warn, th.AbandonRate.Alarm)
			}
			if b.Def.Targets && th.AbandonRate.Warn > 0 {
				k.Target = "≤ " + i18n.Percent(b.Def.Lang, th.AbandonRate.Warn)
			}
		case "asa":
			k.Label, k.Value, k.Hint = "Avg answer", "–", "Average speed of answer today: time in queue of the contacts answered in this board's queues"
			if waited > 0 {
				d := wait / time.Duration(waited)
				k.Value = Clock(d)
				k.Level = levelAbove(d.Seconds(), th.SpeedOfAnswer.Warn.D().Seconds(), th.SpeedOfAnswer.Alarm.D().Seconds())
			}
			if b.Def.Targets && th.SpeedOfAnswer.Warn > 0 {
				k.Target = "≤ " + Clock(th.SpeedOfAnswer.Warn.D())
			}
		case "agents_by_state":
			k.Label, k.Hint = "Agents by state", "Agents of this board in each state now"
			for _, st := range []event.State{event.StateAvailable, event.StateOffered, event.StateBusy, event.StateWrapUp, event.StateNotReady} {
				k.States = append(k.States, templates.StateCount{State: string(st), Label: i18n.T(b.Def.Lang, stateLabels[st]), Count: states[st]})
			}
		}
		k.Label = i18n.T(b.Def.Lang, k.Label)
		if b.Def.Targets && k.Target == "" {
			switch name {
			case "waiting":
				if th.Waiting.Warn > 0 {
					k.Target = "< " + strconv.Itoa(th.Waiting.Warn)
				}
			case "longest_wait":
				if th.LongestWait.Warn > 0 {
					k.Target = "< " + Clock(th.LongestWait.Warn.D())
				}
			case "service_level":
				if th.ServiceLevel.Warn > 0 {
					k.Target = i18n.Percent(b.Def.Lang, th.ServiceLevel.Warn)
				}
			}
		}
		if k.Target != "" {
			k.Target = i18n.T(b.Def.Lang, "target %s", k.Target)
		}
		out = append(out, k)
	}
	return out
}

func (p *Projector) health(b *Board, now time.Time) templates.Health {
	h := templates.Health{Now: now}
	var down []string
	for _, name := range p.sources {
		if !p.showsSource(b, name) {
			continue
		}
		s := p.sstates[name]
		pill := templates.SourcePill{Name: name, Site: p.Site(name), DOMID: DOMID("source", name), Type: p.types[name],
			Status: string(s.Status), Detail: s.Detail}
		if s.Status != event.StatusLive {
			asOf := "start-up"
			if !s.Since.IsZero() && s.Status != event.StatusConnecting {
				asOf = s.Since.In(p.loc).Format(time.TimeOnly)
			}
			pill.AsOf = asOf
			if s.Status == event.StatusConnecting && s.Since.IsZero() {
				down = append(down, i18n.T(b.Def.Lang, "%s is connecting", p.Site(name)))
			} else {
				down = append(down, i18n.T(b.Def.Lang, "%s is %s: data as of %s", p.Site(name), i18n.T(b.Def.Lang, string(s.Status)), asOf))
			}
		}
		h.Sources = append(h.Sources, pill)
	}
	if len(down) > 0 {
		h.Banner = strings.Join(down, " · ")
	}
	return h
}

// Site is what supervisors read for source: its display name, else its name.
func (p *Projector) Site(source string) string {
	if d := p.sites[source]; d != "" {
		return d
	}
	return source
}

// Summary is board id's state in a few figures, for the board list.
func (p *Projector) Summary(id string) templates.BoardSummary {
	b := p.byID[id]
	if b == nil {
		return templates.BoardSummary{}
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	now := p.now()
	var s templates.BoardSummary
	s.ServiceLevel = "–"
	for _, k := range p.kpisOf(b, now, []string{"waiting", "service_level", "available"}) {
		switch k.ID {
		case "kpi-waiting":
			s.Waiting, _ = strconv.Atoi(k.Value)
			s.WaitingLevel = k.Level
		case "kpi-service_level":
			s.ServiceLevel, s.SLLevel = k.Value, k.Level
		case "kpi-available":
			s.Available, _ = strconv.Atoi(k.Value)
		}
	}
	rank := map[event.Status]int{event.StatusLive: 0, event.StatusConnecting: 1, event.StatusDegraded: 2, event.StatusFailed: 3}
	worst := event.StatusLive
	for _, name := range p.sources {
		if p.showsSource(b, name) {
			if st := p.sstates[name].Status; rank[st] > rank[worst] {
				worst = st
			}
		}
	}
	s.Sources = string(worst)
	return s
}

// DOMID builds a page mark: prefix-source-id, every character outside
// [A-Za-z0-9_-] replaced by '_'.
func DOMID(prefix string, parts ...string) string {
	var sb strings.Builder
	sb.WriteString(prefix)
	for _, p := range parts {
		sb.WriteByte('-')
		for _, r := range p {
			if r < 128 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
				sb.WriteRune(r)
			} else {
				sb.WriteByte('_')
			}
		}
	}
	return sb.String()
}

// Elapsed is the clock text of time since start as the page computes it: from
// the whole-second timestamp the page is given (data-since), so a card the
// stream replaces never shows a clock behind the one it replaces.
func Elapsed(now, start time.Time) string { return Clock(now.Sub(start.Truncate(time.Second))) }

// Clock formats a duration as m:ss, or h:mm:ss from an hour.
func Clock(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	s := int(d / time.Second)
	// strconv, not fmt: a full board renders a clock per card.
	b := make([]byte, 0, 12)
	if s >= 3600 {
		b = strconv.AppendInt(b, int64(s/3600), 10)
		b = append(b, ':', byte('0'+s/60%60/10), byte('0'+s/60%60%10))
	} else {
		b = strconv.AppendInt(b, int64(s/60), 10)
	}
	return string(append(b, ':', byte('0'+s%60/10), byte('0'+s%60%10)))
}

// Percent formats a fraction as a whole percentage.
func Percent(f float64) string { return fmt.Sprintf("%.0f%%", f*100) }

func secs(d config.Duration) int { return int(d.D() / time.Second) }

// levelAbove is alarm/warn when v reaches a level (0 disables a level).
func levelAbove(v, warn, alarm float64) string {
	switch {
	case alarm > 0 && v >= alarm:
		return "alarm"
	case warn > 0 && v >= warn:
		return "warn"
	}
	return ""
}

// levelBelow is alarm/warn when v falls below a level (0 disables a level).
func levelBelow(v, warn, alarm float64) string {
	switch {
	case alarm > 0 && v < alarm:
		return "alarm"
	case warn > 0 && v < warn:
		return "warn"
	}
	return ""
}
