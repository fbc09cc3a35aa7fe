package board

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/a-h/templ"

	"github.com/wallboard/wallboard/internal/config"
	"github.com/wallboard/wallboard/internal/event"
	"github.com/wallboard/wallboard/internal/i18n"
	"github.com/wallboard/wallboard/internal/model"
	"github.com/wallboard/wallboard/internal/projection"
	"github.com/wallboard/wallboard/templates"
)

// view renders one board stream: a configured board, or a variant of it
// that hides agents' names (privacy.go). Its fragments send only what
// changed: single cards and tiles, and the KPI row and source strip only
// when their bytes differ from the last sent.
type view struct {
	def      *config.Board
	nameMode string // a privacy variant's name mode (privacy.go); "" shows names
	floor    *projection.Floor
	log      *slog.Logger

	// What this stream last sent. Only Fragment reads and writes them,
	// on the projector's goroutine: no lock.
	kpis []byte // last KPI row sent
	hlth []byte // last source strip sent
	// grid: the agents' DOM ids in the order the stream last laid them out
	// (nil: not known, the next change of membership sends the whole grid).
	grid []string
	// staff: each tile's "needs · has" as last sent (staffing: true), so
	// an agent's change re-sends its queues' tiles only when it changes it.
	staff map[string]string
}

// Fragment renders what changed on the board: whole containers where their
// membership changed, single cards and tiles otherwise.
func (v *view) Fragment(d model.Delta, now time.Time) []byte {
	var buf bytes.Buffer
	ctx := context.Background()
	render := func(c templ.Component) {
		if err := c.Render(ctx, &buf); err != nil {
			v.log.Error("failed to render fragment", "board", v.def.ID, "error", err)
		}
	}
	agentsChanged, queuesChanged := false, false
	var agents []model.Agent
	reorder := false
	if !d.Membership && !d.Rollover && len(d.Agents) > 0 && (v.def.Sort == "problems" || v.def.GroupBy != "") {
		// A change of state may move a card on a board sorted by problems
		// (or to another group): then the grid is sent again.
		agents = v.floor.Agents(v.def)
		reorder = len(agents) != len(v.grid)
		for i := 0; !reorder && i < len(agents); i++ {
			reorder = projection.DOMID("agent", agents[i].Source, agents[i].ID) != v.grid[i]
		}
	}
	if d.Membership || d.Rollover || reorder {
		if agents == nil {
			agents = v.floor.Agents(v.def)
		}
		if d.Rollover || reorder || v.def.GroupBy != "" || !v.gridChanges(agents, d, now, render) {
			g := v.gridOf(agents, now)
			render(templates.AgentGrid(g, true))
			v.grid = v.grid[:0]
			for _, c := range g.Cards {
				v.grid = append(v.grid, c.DOMID)
			}
		}
		render(templates.QueueRow(v.queueTiles(now), true))
		agentsChanged, queuesChanged = true, true
	} else {
		for _, a := range d.Agents {
			if v.floor.ShowsAgent(v.def, a) {
				render(templates.AgentCardView(v.card(a, now), true))
				agentsChanged = true
			}
		}
		sent := map[model.Key]bool{}
		for _, q := range d.Queues {
			if v.floor.ShowsQueue(v.def, q) {
				t := v.floor.Tile(v.def, q, now)
				v.noteStaff(t)
				render(templates.QueueTileView(t, true))
				queuesChanged = true
				sent[q.Key] = true
			}
		}
		if v.def.Staffing {
			// Agents who change state change what their queues have.
			for _, a := range d.Agents {
				for _, id := range a.Queues {
					k := model.Key{Source: a.Source, ID: id}
					q, ok := v.floor.Queue(k)
					if sent[k] || !ok || !v.floor.ShowsQueue(v.def, q) {
						continue
					}
					sent[k] = true
					if t := v.floor.Tile(v.def, q, now); v.staff[t.DOMID] != t.Staffing {
						v.noteStaff(t)
						render(templates.QueueTileView(t, true))
						queuesChanged = true
					}
				}
			}
		}
	}
	if agentsChanged || queuesChanged {
		var k bytes.Buffer
		if err := templates.KPIRow(v.kpiRow(now), true).Render(ctx, &k); err == nil && !bytes.Equal(k.Bytes(), v.kpis) {
			v.kpis = bytes.Clone(k.Bytes())
			buf.Write(k.Bytes())
		}
	}
	if len(d.Sources) > 0 {
		var h bytes.Buffer
		if err := templates.HealthStrip(v.floor.Health(v.def, now), true).Render(ctx, &h); err == nil && !bytes.Equal(h.Bytes(), v.hlth) {
			v.hlth = bytes.Clone(h.Bytes())
			buf.Write(h.Bytes())
		}
	}
	return buf.Bytes()
}

// noteStaff remembers the staffing a tile was sent with.
func (v *view) noteStaff(t templates.QueueTile) {
	if !v.def.Staffing {
		return
	}
	if v.staff == nil {
		v.staff = map[string]string{}
	}
	v.staff[t.DOMID] = t.Staffing
}

// maxGridChanges is how many cards may come and go in one tick as single
// inserts and removals; beyond it the whole grid is sent.
const maxGridChanges = 20

// gridChanges renders a change of membership as single-card removals and
// inserts, plus the changed cards, when the cards that stay keep their
// order: a screen then lays out a few cards instead of replacing hundreds
// (a whole 450-card grid costs a TV 50–80 ms of main thread). It returns
// false, rendering nothing, when the whole grid must be sent instead.
func (v *view) gridChanges(agents []model.Agent, d model.Delta, now time.Time, render func(templ.Component)) bool {
	if len(v.grid) == 0 {
		return false
	}
	if len(agents) == 0 {
		return false // the grid shows its empty text instead
	}
	ids := make([]string, len(agents))
	in := make(map[string]bool, len(agents))
	for i, a := range agents {
		ids[i] = projection.DOMID("agent", a.Source, a.ID)
		in[ids[i]] = true
	}
	had := make(map[string]bool, len(v.grid))
	for _, id := range v.grid {
		had[id] = true
	}
	var removed []string
	for _, id := range v.grid {
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
	for _, id := range v.grid {
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
			cards = append(cards, v.card(agents[i], now))
		}
		where := "beforeend:#agents"
		if next := inserted[e] + 1; next < len(ids) {
			where = "beforebegin:#" + ids[next]
		}
		render(templates.AgentsInserted(where, cards))
		k = e + 1
	}
	for _, a := range d.Agents {
		if id := projection.DOMID("agent", a.Source, a.ID); in[id] && had[id] {
			render(templates.AgentCardView(v.card(a, now), true))
		}
	}
	v.grid = ids
	return true
}

// Reset renders every container of the board as out-of-band swaps. Called
// under the floor's read lock.
func (v *view) Reset(now time.Time) []byte {
	var buf bytes.Buffer
	ctx := context.Background()
	for _, c := range []templ.Component{
		templates.HealthStrip(v.floor.Health(v.def, now), true),
		templates.KPIRow(v.kpiRow(now), true),
		templates.QueueRow(v.queueTiles(now), true),
		templates.AgentGrid(v.gridOf(v.floor.Agents(v.def), now), true),
	} {
		if err := c.Render(ctx, &buf); err != nil {
			v.log.Error("failed to render reset", "board", v.def.ID, "error", err)
		}
	}
	return buf.Bytes()
}

// page is the board for a page load. Called under the floor's read lock.
func (v *view) page(now time.Time, brand config.Branding) templates.Board {
	return templates.Board{ID: v.def.ID, Title: v.def.Title, Health: v.floor.Health(v.def, now), KPIs: v.kpiRow(now),
		Queues: v.queueTiles(now), Grid: v.gridOf(v.floor.Agents(v.def), now),
		Look: templates.Look{Lang: i18n.Lang(v.def.Lang), Theme: v.def.Theme, Clock: v.def.Clock,
			BrandName: brand.Name, BrandColour: brand.Colour, Logo: brand.LogoURI}}
}

// card is agent a's card, its name as the stream shows it.
func (v *view) card(a model.Agent, now time.Time) templates.AgentCard {
	c := v.floor.Card(v.def, a, now)
	if v.nameMode != "" {
		c.Name = nameAs(c.Name, v.nameMode)
	}
	return c
}

// gridOf is the grid of agents, the board's agents in order.
func (v *view) gridOf(agents []model.Agent, now time.Time) templates.Grid {
	cards := make([]templates.AgentCard, 0, len(agents))
	for _, a := range agents {
		cards = append(cards, v.card(a, now))
	}
	return templates.Grid{Cards: cards, Empty: i18n.T(v.def.Lang, "No agents are logged in."), Lang: v.def.Lang}
}

func (v *view) queueTiles(now time.Time) []templates.QueueTile {
	var out []templates.QueueTile
	for _, q := range v.floor.Queues(v.def) {
		out = append(out, v.floor.Tile(v.def, q, now))
	}
	return out
}

// kpiRow is the board's figures over its queues and agents.
func (v *view) kpiRow(now time.Time) []templates.KPI {
	return kpis(v.floor, v.def, now, v.def.Tiles)
}

// kpis renders the named tiles of board def. Called under the floor's read
// lock (or by its writer).
func kpis(floor *projection.Floor, def *config.Board, now time.Time, tiles []string) []templates.KPI {
	var waiting, offered, answered, inSL, abandoned, handled, slDen int
	var handle time.Duration
	var oldest time.Time
	qs := floor.Queues(def)
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
	floor.CountStates(def, states)
	th := def.Thresholds
	var out []templates.KPI
	lang := def.Lang
	for _, name := range tiles {
		k := templates.KPI{ID: "kpi-" + name, Lang: lang}
		switch name {
		case "waiting":
			k.Label, k.Value, k.Hint = i18n.Key("Waiting"), i18n.Int(lang, waiting), i18n.Key("Contacts waiting in this board's queues now")
			k.Level = projection.LevelAbove(float64(waiting), float64(th.Waiting.Warn), float64(th.Waiting.Alarm))
		case "longest_wait":
			k.Label, k.Value, k.Hint = i18n.Key("Longest wait"), "–", i18n.Key("How long the oldest waiting contact has waited")
			if !oldest.IsZero() {
				k.Value, k.Since = projection.Elapsed(now, oldest), oldest
				k.WarnSec, k.AlarmSec = projection.Secs(th.LongestWait.Warn), projection.Secs(th.LongestWait.Alarm)
			}
		case "service_level":
			k.Label, k.Value = i18n.Key("Service level"), "–"
			k.Hint = floor.SLDefinition(lang, qs, floor.PeriodText(lang, 0))
			if den := slDen; den > 0 {
				sl := float64(inSL) / float64(den)
				k.Value, k.Level = i18n.Percent(lang, sl), projection.LevelBelow(sl, th.ServiceLevel.Warn, th.ServiceLevel.Alarm)
			}
		case "offered":
			k.Label, k.Value, k.Hint = i18n.Key("Offered"), i18n.Int(lang, offered), i18n.Key("Offered today: contacts that entered one of this board's queues (a transfer into another queue counts there too)")
		case "answered":
			k.Label, k.Value, k.Hint = i18n.Key("Answered"), i18n.Int(lang, answered), i18n.Key("Answered today: contacts an agent accepted, in this board's queues")
		case "abandoned":
			k.Label, k.Value, k.Hint = i18n.Key("Abandoned"), i18n.Int(lang, abandoned), i18n.Key("Abandoned today: contacts that ended while waiting or ringing in this board's queues, never answered (short abandons included)")
		case "aht":
			k.Label, k.Value, k.Hint = i18n.Key("Avg handle"), "–", i18n.Key("Average handle time today: from answer to end of contact (talk and hold, not wrap-up), over this board's contacts that ended today")
			if handled > 0 {
				k.Value = projection.Clock(handle / time.Duration(handled))
			}
		case "available":
			k.Label, k.Value, k.Hint = i18n.Key("Available"), fmt.Sprint(states[event.StateAvailable]), i18n.Key("Agents ready for a contact now")
		case "busy":
			k.Label, k.Value, k.Hint = i18n.Key("On contacts"), fmt.Sprint(states[event.StateBusy]+states[event.StateOffered]), i18n.Key("Agents ringing or on a contact now")
		case "not_ready":
			k.Label, k.Value, k.Hint = i18n.Key("Not ready"), fmt.Sprint(states[event.StateNotReady]), i18n.Key("Agents logged in but not ready now")
		case "abandon_rate":
			k.Label, k.Value, k.Hint = i18n.Key("Abandon rate"), "–", i18n.Key("Abandon rate today: abandoned ÷ offered, in this board's queues")
			if offered > 0 {
				r := float64(abandoned) / float64(offered)
				k.Value, k.Level = i18n.Percent(lang, r), projection.LevelAbove(r, th.AbandonRate.Warn, th.AbandonRate.Alarm)
			}
			if def.Targets && th.AbandonRate.Warn > 0 {
				k.Target = "≤ " + i18n.Percent(lang, th.AbandonRate.Warn)
			}
		case "asa":
			k.Label, k.Value, k.Hint = i18n.Key("Avg answer"), "–", i18n.Key("Average speed of answer today: time in queue of the contacts answered in this board's queues")
			if waited > 0 {
				d := wait / time.Duration(waited)
				k.Value = projection.Clock(d)
				k.Level = projection.LevelAbove(d.Seconds(), th.SpeedOfAnswer.Warn.D().Seconds(), th.SpeedOfAnswer.Alarm.D().Seconds())
			}
			if def.Targets && th.SpeedOfAnswer.Warn > 0 {
				k.Target = "≤ " + projection.Clock(th.SpeedOfAnswer.Warn.D())
			}
		case "agents_by_state":
			k.Label, k.Hint = i18n.Key("Agents by state"), i18n.Key("Agents of this board in each state now")
			for _, st := range []event.State{event.StateAvailable, event.StateOffered, event.StateBusy, event.StateWrapUp, event.StateNotReady} {
				k.States = append(k.States, templates.StateCount{State: string(st), Label: projection.StateLabel(lang, st, ""), Count: states[st]})
			}
		}
		k.Label = i18n.T(lang, k.Label)
		if name != "service_level" {
			k.Hint = i18n.T(lang, k.Hint) // the service level's is in lang already
		}
		if def.Targets && k.Target == "" {
			switch name {
			case "waiting":
				if th.Waiting.Warn > 0 {
					k.Target = "< " + strconv.Itoa(th.Waiting.Warn)
				}
			case "longest_wait":
				if th.LongestWait.Warn > 0 {
					k.Target = "< " + projection.Clock(th.LongestWait.Warn.D())
				}
			case "service_level":
				if th.ServiceLevel.Warn > 0 {
					k.Target = i18n.Percent(lang, th.ServiceLevel.Warn)
				}
			}
		}
		if k.Target != "" {
			k.Target = i18n.T(lang, "target %s", k.Target)
		}
		out = append(out, k)
	}
	return out
}
