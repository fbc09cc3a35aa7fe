package console

import (
	"fmt"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/wallboard/wallboard/internal/config"
	"github.com/wallboard/wallboard/internal/event"
	"github.com/wallboard/wallboard/internal/i18n"
	"github.com/wallboard/wallboard/internal/model"
	"github.com/wallboard/wallboard/internal/projection"
	"github.com/wallboard/wallboard/templates"
)

// Views answers the console's page loads: the agents table, a queue's
// drill-down and an agent's day. It reads the floor under its read lock.
type Views struct {
	floor  *projection.Floor
	now    func() time.Time
	boards atomic.Pointer[map[string]*config.Board] // replaced whole by SetBoards
}

// New returns the console views of boards over floor; now is the clock of its
// views (nil: time.Now).
func New(boards []config.Board, floor *projection.Floor, now func() time.Time) *Views {
	if now == nil {
		now = time.Now
	}
	c := &Views{floor: floor, now: now}
	c.SetBoards(boards)
	return c
}

// SetBoards replaces the boards the views know (a board made, changed or
// removed while running). Page loads under way keep the set they began
// with.
func (c *Views) SetBoards(boards []config.Board) {
	m := make(map[string]*config.Board, len(boards))
	for i := range boards {
		b := boards[i]
		m[b.ID] = &b
	}
	c.boards.Store(&m)
}

func (c *Views) board(id string) *config.Board { return (*c.boards.Load())[id] }

// View is board id's console for a page load in lang (one of the board's
// languages, Langs): every queue panel and agent row (the page narrows them
// to its focus).
func (c *Views) View(id, lang string) (templates.Console, bool) {
	def := c.board(id)
	if def == nil {
		return templates.Console{}, false
	}
	if lang != def.Lang {
		d := *def
		d.Lang = lang
		def = &d
	}
	f := c.floor
	f.RLock()
	defer f.RUnlock()
	now := c.now()
	v := templates.Console{BoardID: id, Title: def.Title, Health: f.Health(def, now), Lang: i18n.Lang(lang),
		Queues: queues(f, def, now), Rows: rows(f, def, now)}
	for _, q := range f.Queues(def) {
		v.QueueOptions = append(v.QueueOptions, templates.Option{Value: projection.DOMID("queue", q.Source, q.ID), Label: q.Name + " (" + f.Site(q.Source) + ")"})
	}
	for _, s := range []event.State{event.StateAvailable, event.StateOffered, event.StateBusy, event.StateWrapUp, event.StateNotReady} {
		v.StateOptions = append(v.StateOptions, templates.Option{Value: string(s), Label: projection.StateLabel(lang, s, "")})
	}
	return v, true
}

// Queue finds board id's queue by its page mark (queue-{source}-{id}).
func (c *Views) Queue(id, mark string) (model.Key, string, bool) {
	def := c.board(id)
	if def == nil {
		return model.Key{}, "", false
	}
	c.floor.RLock()
	defer c.floor.RUnlock()
	for _, q := range c.floor.Queues(def) {
		if projection.DOMID("queue", q.Source, q.ID) == mark {
			return q.Key, q.Name, true
		}
	}
	return model.Key{}, "", false
}

// Agent reports whether board id's console shows agent k (and its name): an
// agent of the board's sources and queues, or one that logged out.
func (c *Views) Agent(id string, k model.Key) (string, bool) {
	def := c.board(id)
	if def == nil {
		return "", false
	}
	c.floor.RLock()
	defer c.floor.RUnlock()
	a, ok := c.floor.Agent(k)
	if !ok || !c.floor.ShowsSource(def, a.Source) {
		return "", false
	}
	if len(def.Queues) > 0 && !c.floor.ShowsAgent(def, a) && a.State != event.StateLoggedOut {
		return "", false
	}
	return a.Name, true
}

// Day is an agent's day for the console, at now, in lang.
func (c *Views) Day(d model.AgentDay, now time.Time, lang string) templates.AgentDayView {
	v := templates.AgentDayView{Handled: d.Handled, AverageHandle: "–", Lang: lang}
	if aht, ok := d.AverageHandle(); ok {
		v.AverageHandle = projection.Clock(aht)
	}
	var total time.Duration
	if len(d.Segments) > 0 {
		total = now.Sub(d.Segments[0].From)
	}
	loc := c.floor.Location()
	hms := func(t time.Time) string { return t.In(loc).Format(time.TimeOnly) }
	for i, s := range d.Segments {
		end := now
		if i+1 < len(d.Segments) {
			end = d.Segments[i+1].From
		}
		dur := max(end.Sub(s.From), 0)
		if dur == 0 && i+1 < len(d.Segments) {
			continue // replaced at once: nothing to show
		}
		pct := 0.0
		if total > 0 {
			pct = float64(dur) * 100 / float64(total)
		}
		to := hms(end)
		if i+1 == len(d.Segments) {
			to = i18n.T(lang, "now")
		}
		v.Timeline = append(v.Timeline, templates.TimelineSeg{State: string(s.State), Label: projection.StateLabel(lang, s.State, s.Reason),
			From: hms(s.From), To: to, Duration: projection.Clock(dur), Pct: fmt.Sprintf("%.3f", pct)})
	}
	for _, s := range d.InState {
		v.InState = append(v.InState, templates.StateTotal{State: string(s.State), Label: projection.StateLabel(lang, s.State, s.Reason), Total: projection.Clock(s.Total)})
	}
	return v
}

func consoleURL(id string) string { return "/boards/" + url.PathEscape(id) + "/console" }

// AgentURL is the console page of an agent's day on board id.
func AgentURL(id string, k model.Key) string {
	return consoleURL(id) + "/agents/" + url.PathEscape(k.Source) + "/" + url.PathEscape(k.ID)
}

// QueueURL is the drill-down page of a queue on board id.
func QueueURL(id string, k model.Key) string {
	return consoleURL(id) + "/queues/" + url.PathEscape(k.Source) + "/" + url.PathEscape(k.ID)
}
