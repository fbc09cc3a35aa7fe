// Package console renders the supervisor's console: each board has a
// console stream of its own ("floor~console") whose fragments — agents
// table rows and queue panels with the rolling windows — are rendered once
// per tick like any board's, and sent to every console page of that board
// (the whole table, a queue's drill-down, an agent's day: each swaps the
// elements it shows by id). No work is done per viewer: sorting and
// filtering happen in the browser.
//
// The board projector (internal/board) feeds the console streams with the
// board streams; the figures, their definitions and the board filters are
// shared with the board through internal/projection.
package console

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/a-h/templ"

	"github.com/wallboard/wallboard/internal/config"
	"github.com/wallboard/wallboard/internal/i18n"
	"github.com/wallboard/wallboard/internal/model"
	"github.com/wallboard/wallboard/internal/projection"
	"github.com/wallboard/wallboard/templates"
)

// StreamID is the id of board id's console stream (in the board's lang).
func StreamID(id string) string { return id + "~console" }

// LangStreamID is the id of board id's console stream in lang, for a board
// whose own language is boardLang: a console in one of the board's langs
// is a stream of its own ("floor~console.de"), rendered once per tick.
func LangStreamID(id, lang, boardLang string) string {
	if lang == "" || lang == boardLang || (lang == "en" && boardLang == "") {
		return StreamID(id)
	}
	return StreamID(id) + "." + lang
}

// Stream renders one board's console stream. It keeps nothing between
// ticks: a console's fragments are whole rows and panels.
type Stream struct {
	def   *config.Board
	floor *projection.Floor
	log   *slog.Logger
}

// NewStream returns the console stream of board def over floor.
func NewStream(def *config.Board, floor *projection.Floor, log *slog.Logger) *Stream {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Stream{def: def, floor: floor, log: log}
}

// Fragment renders what d changed on the console. The floor's writer calls
// it, after putting d in.
func (s *Stream) Fragment(d model.Delta, now time.Time) []byte {
	var buf bytes.Buffer
	ctx := context.Background()
	render := func(c templ.Component) {
		if err := c.Render(ctx, &buf); err != nil {
			s.log.Error("failed to render console fragment", "board", s.def.ID, "error", err)
		}
	}
	if d.Membership || d.Rollover {
		render(templates.ConsoleRows(rows(s.floor, s.def, now), true))
		render(templates.ConsoleQueues(queues(s.floor, s.def, now), true))
	} else {
		for _, a := range d.Agents {
			if s.floor.ShowsAgent(s.def, a) {
				render(templates.ConsoleRowView(row(s.floor, s.def, a, now), true))
			}
		}
		for _, q := range d.Queues {
			if s.floor.ShowsQueue(s.def, q) {
				render(templates.ConsoleQueueView(queue(s.floor, s.def, q, now), true))
			}
		}
	}
	if len(d.Sources) > 0 {
		render(templates.HealthStrip(s.floor.Health(s.def, now), true))
	}
	return buf.Bytes()
}

// Reset is everything a console page shows, for a (re)connect. Called under
// the floor's read lock.
func (s *Stream) Reset(now time.Time) []byte {
	var buf bytes.Buffer
	ctx := context.Background()
	for _, c := range []templ.Component{
		templates.HealthStrip(s.floor.Health(s.def, now), true),
		templates.ConsoleQueues(queues(s.floor, s.def, now), true),
		templates.ConsoleRows(rows(s.floor, s.def, now), true),
	} {
		if err := c.Render(ctx, &buf); err != nil {
			s.log.Error("failed to render console reset", "board", s.def.ID, "error", err)
		}
	}
	return buf.Bytes()
}

func rows(f *projection.Floor, def *config.Board, now time.Time) []templates.ConsoleRow {
	agents := f.Agents(def)
	out := make([]templates.ConsoleRow, 0, len(agents))
	for _, a := range agents {
		out = append(out, row(f, def, a, now))
	}
	return out
}

// row is agent a's row: its board card's figures, with its full name, its
// reason and its queues' marks for the page's filter.
func row(f *projection.Floor, def *config.Board, a model.Agent, now time.Time) templates.ConsoleRow {
	c := f.Card(def, a, now)
	r := templates.ConsoleRow{DOMID: c.DOMID, Name: a.Name, State: c.State, Label: c.Label, Reason: a.Reason, Since: c.Since,
		Elapsed: c.Elapsed, WarnSec: c.WarnSec, AlarmSec: c.AlarmSec, FlagSec: c.FlagSec, Queues: c.Queues,
		URL: AgentURL(def.ID, a.Key)}
	ids := make([]string, 0, len(a.Queues))
	for _, q := range a.Queues {
		ids = append(ids, projection.DOMID("queue", a.Source, q))
	}
	r.QueueIDs = strings.Join(ids, " ")
	return r
}

func queues(f *projection.Floor, def *config.Board, now time.Time) []templates.ConsoleQueue {
	var out []templates.ConsoleQueue
	for _, q := range f.Queues(def) {
		out = append(out, queue(f, def, q, now))
	}
	return out
}

// periods are the console's columns: today, then each window.
var periods = []time.Duration{0, time.Hour, 30 * time.Minute, 15 * time.Minute}

// periodHead is a column's head in lang: "Today", "60 min".
func periodHead(lang string, span time.Duration) string {
	if span == 0 {
		return i18n.T(lang, "Today")
	}
	return i18n.T(lang, "%d min", int(span/time.Minute))
}

// queue is queue q's panel: its board tile's waiting figures, its settings,
// its figures today and in each window with their definitions, and the
// contacts waiting.
func queue(f *projection.Floor, def *config.Board, q model.Queue, now time.Time) templates.ConsoleQueue {
	t, lang := f.Tile(def, q, now), def.Lang
	cq := templates.ConsoleQueue{Lang: lang, DOMID: t.DOMID, Name: q.Name, Source: f.Site(q.Source), URL: QueueURL(def.ID, q.Key),
		Waiting: q.Waiting, WaitingLevel: t.WaitingLevel, Oldest: q.OldestWaiting, OldestText: t.OldestText,
		WaitWarnSec: t.WaitWarnSec, WaitAlarmSec: t.WaitAlarmSec, Settings: projection.SettingsText(lang, f.Settings(q)),
		Staffing: t.Staffing, StaffLevel: t.StaffLevel, StaffHint: t.StaffHint}
	th, st := def.Thresholds, f.Settings(q)
	rows := []templates.FigureRow{{Label: i18n.T(lang, "Offered")}, {Label: i18n.T(lang, "Answered")}, {Label: i18n.T(lang, "Abandoned")},
		{Label: i18n.T(lang, "Service level")}, {Label: i18n.T(lang, "Avg handle")}}
	for _, span := range periods {
		cq.Periods = append(cq.Periods, periodHead(lang, span))
		fig := q.Today()
		if span > 0 {
			w, _ := q.Window(span)
			fig = w.Figures
		}
		defs := f.Defs(lang, span, q)
		sl, aht := "–", "–"
		var slLevel string
		if v, ok := fig.ServiceLevel(st); ok {
			sl, slLevel = i18n.Percent(lang, v), projection.LevelBelow(v, th.ServiceLevel.Warn, th.ServiceLevel.Alarm)
		}
		if d, ok := fig.AverageHandle(); ok {
			aht = projection.Clock(d)
		}
		abd := i18n.Int(lang, fig.Abandoned)
		if fig.ShortAbandoned > 0 {
			abd += " " + i18n.T(lang, "(%d short)", fig.ShortAbandoned)
		}
		rows[0].Cells = append(rows[0].Cells, templates.FigureCell{Value: i18n.Int(lang, fig.Offered), Def: defs.Offered})
		rows[1].Cells = append(rows[1].Cells, templates.FigureCell{Value: i18n.Int(lang, fig.Answered), Def: defs.Answered})
		rows[2].Cells = append(rows[2].Cells, templates.FigureCell{Value: abd, Def: defs.Abandoned})
		rows[3].Cells = append(rows[3].Cells, templates.FigureCell{Value: sl, Level: slLevel, Def: defs.ServiceLevel})
		rows[4].Cells = append(rows[4].Cells, templates.FigureCell{Value: aht, Def: defs.AverageHandle})
	}
	cq.Figures = rows
	for _, w := range q.WaitingContacts {
		cq.Contacts = append(cq.Contacts, templates.WaitingView{ID: w.ID, Since: w.Since, Elapsed: projection.Elapsed(now, w.Since)})
	}
	cq.MoreWaiting = max(q.Waiting-len(cq.Contacts), 0)
	return cq
}
