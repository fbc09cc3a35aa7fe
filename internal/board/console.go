package board

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/a-h/templ"

	"github.com/wallboard/wallboard/internal/config"
	"github.com/wallboard/wallboard/internal/event"
	"github.com/wallboard/wallboard/internal/model"
	"github.com/wallboard/wallboard/templates"
)

// The supervisor's console: each board has a console stream of its own
// ("floor~console") whose fragments — agents table rows and queue panels
// with the rolling windows — are rendered once per tick like any board's,
// and sent to every console page of that board (the whole table, a queue's
// drill-down, an agent's day: each swaps the elements it shows by id). No
// work is done per viewer: sorting and filtering happen in the browser.

// ConsoleID is the id of board id's console stream.
func ConsoleID(id string) string { return id + "~console" }

// addConsole adds def's console stream to p.
func (p *Projector) addConsole(def config.Board) {
	b := &Board{Def: def, Gen: generation(def) + "c", primary: def.ID, console: true}
	p.variants = append(p.variants, b)
	p.byID[ConsoleID(def.ID)] = b
}

// consoleFragment renders what changed on b's console.
func (p *Projector) consoleFragment(b *Board, d model.Delta, now time.Time) []byte {
	var buf bytes.Buffer
	ctx := context.Background()
	render := func(c templ.Component) {
		if err := c.Render(ctx, &buf); err != nil {
			p.log.Error("failed to render console fragment", "board", b.Def.ID, "error", err)
		}
	}
	if d.Membership || d.Rollover {
		render(templates.ConsoleRows(p.consoleRows(b, now), true))
		render(templates.ConsoleQueues(p.consoleQueues(b, now), true))
	} else {
		for _, a := range d.Agents {
			if p.showsAgent(b, a) {
				render(templates.ConsoleRowView(p.consoleRow(b, a, now), true))
			}
		}
		for _, q := range d.Queues {
			if p.showsQueue(b, q) {
				render(templates.ConsoleQueueView(p.consoleQueue(b, q, now), true))
			}
		}
	}
	if len(d.Sources) > 0 {
		render(templates.HealthStrip(p.health(b, now), true))
	}
	return buf.Bytes()
}

// consoleReset is everything a console page shows, for a (re)connect.
func (p *Projector) consoleReset(b *Board, now time.Time) []byte {
	var buf bytes.Buffer
	ctx := context.Background()
	for _, c := range []templ.Component{
		templates.HealthStrip(p.health(b, now), true),
		templates.ConsoleQueues(p.consoleQueues(b, now), true),
		templates.ConsoleRows(p.consoleRows(b, now), true),
	} {
		if err := c.Render(ctx, &buf); err != nil {
			p.log.Error("failed to render console reset", "board", b.Def.ID, "error", err)
		}
	}
	return buf.Bytes()
}

// ConsoleView is board id's console for a page load: every queue panel and
// agent row (the page narrows them to its focus).
func (p *Projector) ConsoleView(id string) (templates.Console, bool) {
	b := p.byID[ConsoleID(id)]
	if b == nil {
		return templates.Console{}, false
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	now := p.now()
	c := templates.Console{BoardID: id, Title: b.Def.Title, Health: p.health(b, now),
		Queues: p.consoleQueues(b, now), Rows: p.consoleRows(b, now)}
	for _, q := range p.boardQueues(b) {
		c.QueueOptions = append(c.QueueOptions, templates.Option{Value: DOMID("queue", q.Source, q.ID), Label: q.Name + " (" + p.Site(q.Source) + ")"})
	}
	for _, s := range []event.State{event.StateAvailable, event.StateOffered, event.StateBusy, event.StateWrapUp, event.StateNotReady} {
		c.StateOptions = append(c.StateOptions, templates.Option{Value: string(s), Label: stateLabels[s]})
	}
	return c, true
}

// ConsoleQueue finds board id's queue by its page mark (queue-{source}-{id}).
func (p *Projector) ConsoleQueue(id, mark string) (model.Key, string, bool) {
	b := p.byID[id]
	if b == nil {
		return model.Key{}, "", false
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	for _, q := range p.boardQueues(b) {
		if DOMID("queue", q.Source, q.ID) == mark {
			return q.Key, q.Name, true
		}
	}
	return model.Key{}, "", false
}

// ShowsAgent reports whether board id shows agent k (and its name).
func (p *Projector) ShowsAgent(id string, k model.Key) (string, bool) {
	b := p.byID[id]
	if b == nil {
		return "", false
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	a, ok := p.agents[k]
	if !ok || !p.showsSource(b, a.Source) {
		return "", false
	}
	if len(b.Def.Queues) > 0 && !p.showsAgent(b, a) && a.State != event.StateLoggedOut {
		return "", false
	}
	return a.Name, true
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

func (p *Projector) consoleRows(b *Board, now time.Time) []templates.ConsoleRow {
	agents := p.boardAgents(b)
	rows := make([]templates.ConsoleRow, 0, len(agents))
	for _, a := range agents {
		rows = append(rows, p.consoleRow(b, a, now))
	}
	return rows
}

func (p *Projector) consoleRow(b *Board, a model.Agent, now time.Time) templates.ConsoleRow {
	c := p.card(b, a, now)
	r := templates.ConsoleRow{DOMID: c.DOMID, Name: a.Name, State: c.State, Label: c.Label, Reason: a.Reason, Since: c.Since,
		Elapsed: c.Elapsed, WarnSec: c.WarnSec, AlarmSec: c.AlarmSec, FlagSec: c.FlagSec, Queues: c.Queues,
		URL: AgentURL(b.Def.ID, a.Key)}
	ids := make([]string, 0, len(a.Queues))
	for _, q := range a.Queues {
		ids = append(ids, DOMID("queue", a.Source, q))
	}
	r.QueueIDs = strings.Join(ids, " ")
	return r
}

func (p *Projector) consoleQueues(b *Board, now time.Time) []templates.ConsoleQueue {
	var out []templates.ConsoleQueue
	for _, q := range p.boardQueues(b) {
		out = append(out, p.consoleQueue(b, q, now))
	}
	return out
}

// Periods are the console's columns: today, then each window.
var periods = []struct {
	head string
	span time.Duration // 0: today
}{{"Today", 0}, {"60 min", time.Hour}, {"30 min", 30 * time.Minute}, {"15 min", 15 * time.Minute}}

func (p *Projector) consoleQueue(b *Board, q model.Queue, now time.Time) templates.ConsoleQueue {
	t := p.tile(b, q, now)
	cq := templates.ConsoleQueue{DOMID: t.DOMID, Name: q.Name, Source: p.Site(q.Source), URL: QueueURL(b.Def.ID, q.Key),
		Waiting: q.Waiting, WaitingLevel: t.WaitingLevel, Oldest: q.OldestWaiting, OldestText: t.OldestText,
		WaitWarnSec: t.WaitWarnSec, WaitAlarmSec: t.WaitAlarmSec, Settings: SettingsText(p.settings(q))}
	th, st := b.Def.Thresholds, p.settings(q)
	rows := []templates.FigureRow{{Label: "Offered"}, {Label: "Answered"}, {Label: "Abandoned"}, {Label: "Service level"}, {Label: "Avg handle"}}
	for _, per := range periods {
		cq.Periods = append(cq.Periods, per.head)
		f := q.Today()
		if per.span > 0 {
			w, _ := q.Window(per.span)
			f = w.Figures
		}
		win := p.periodText(per.span)
		sl, aht := "–", "–"
		var slLevel string
		if v, ok := f.ServiceLevel(st); ok {
			sl, slLevel = Percent(v), levelBelow(v, th.ServiceLevel.Warn, th.ServiceLevel.Alarm)
		}
		if d, ok := f.AverageHandle(); ok {
			aht = Clock(d)
		}
		abd := fmt.Sprint(f.Abandoned)
		if f.ShortAbandoned > 0 {
			abd += fmt.Sprintf(" (%d short)", f.ShortAbandoned)
		}
		rows[0].Cells = append(rows[0].Cells, templates.FigureCell{Value: fmt.Sprint(f.Offered), Def: Define("offered", win, st)})
		rows[1].Cells = append(rows[1].Cells, templates.FigureCell{Value: fmt.Sprint(f.Answered), Def: Define("answered", win, st)})
		rows[2].Cells = append(rows[2].Cells, templates.FigureCell{Value: abd, Def: Define("abandoned", win, st)})
		rows[3].Cells = append(rows[3].Cells, templates.FigureCell{Value: sl, Level: slLevel, Def: Define("service_level", win, st)})
		rows[4].Cells = append(rows[4].Cells, templates.FigureCell{Value: aht, Def: Define("aht", win, st)})
	}
	cq.Figures = rows
	for _, w := range q.WaitingContacts {
		cq.Contacts = append(cq.Contacts, templates.WaitingView{ID: w.ID, Since: w.Since, Elapsed: Elapsed(now, w.Since)})
	}
	cq.MoreWaiting = max(q.Waiting-len(cq.Contacts), 0)
	return cq
}

// periodText names a period in words: today (in the board's zone) or a window.
func (p *Projector) periodText(span time.Duration) string {
	if span == 0 {
		return "today (since midnight, " + p.loc.String() + " time)"
	}
	return fmt.Sprintf("in the last %d minutes (a rolling window, up to now)", int(span/time.Minute))
}

// secsText is a threshold in words ("20 seconds").
func secsText(d time.Duration) string {
	if d%time.Second == 0 {
		n := int(d / time.Second)
		if n == 1 {
			return "1 second"
		}
		return fmt.Sprintf("%d seconds", n)
	}
	return d.String()
}

// SettingsText says a queue's service-level settings in words.
func SettingsText(s model.QueueSettings) string {
	out := "Service level threshold " + secsText(s.SLThreshold)
	if s.ShortAbandon > 0 {
		out += "; abandons within " + secsText(s.ShortAbandon) + " are short abandons, not counted against service level"
	} else {
		out += "; no short-abandon threshold"
	}
	if s.ExcludeAbandons {
		out += "; abandons are not in the service-level denominator."
	} else {
		out += "; abandons count in the service-level denominator."
	}
	return out
}

// slFormula is the service level's formula under s.
func slFormula(s model.QueueSettings) string {
	out := "contacts answered within " + secsText(s.SLThreshold) + " of entering the queue ÷ "
	switch {
	case s.ExcludeAbandons:
		out += "contacts answered (abandons are left out by this queue's settings)"
	case s.ShortAbandon > 0:
		out += "(contacts answered + contacts abandoned after waiting " + secsText(s.ShortAbandon) + " or more; shorter abandons are left out)"
	default:
		out += "(contacts answered + contacts abandoned)"
	}
	return out
}

// Define is the definition of figure over win (periodText) under settings s,
// in plain words: what counts, which period, which settings.
func Define(figure, win string, s model.QueueSettings) string {
	switch figure {
	case "offered":
		return "Offered " + win + ": contacts that entered this queue (a contact transferred into another queue counts there too)."
	case "answered":
		return "Answered " + win + ": contacts an agent accepted, counted when answered."
	case "abandoned":
		out := "Abandoned " + win + ": contacts that ended while waiting or ringing, never answered; a contact the platform took out of the queue (timeout, overflow) is not an abandon."
		if s.ShortAbandon > 0 {
			out += " Short abandons (within " + secsText(s.ShortAbandon) + ") are included here and shown in brackets."
		}
		return out
	case "service_level":
		return "Service level " + win + ": " + slFormula(s) + ". Shown as – before there is anything to divide."
	case "aht":
		return "Average handle time " + win + ": from answer to end of contact (talk and hold, not wrap-up), averaged over the contacts that ended in that period."
	}
	return ""
}

// settings are q's settings, with the default threshold when the copy has
// none (a model always sets it).
func (p *Projector) settings(q model.Queue) model.QueueSettings {
	s := q.Settings
	if s.SLThreshold <= 0 {
		s.SLThreshold = p.sl
	}
	return s
}

// boardSLDefinition is the KPI row's service-level definition over the
// board's queues, whose settings may differ.
func (p *Projector) boardSLDefinition(qs []model.Queue, win string) string {
	if len(qs) == 0 {
		return "Service level " + win + ": answered within the threshold ÷ (answered + abandoned), over this board's queues."
	}
	same := true
	for _, q := range qs[1:] {
		if p.settings(q) != p.settings(qs[0]) {
			same = false
		}
	}
	if same {
		return "Service level " + win + " over this board's queues: " + slFormula(p.settings(qs[0])) + "."
	}
	return "Service level " + win + " over this board's queues: the sum over the queues of contacts answered within each queue's threshold ÷ the sum of each queue's denominator (queues' settings differ: open a queue's figures for its threshold, short abandon and abandon rule)."
}

// stateLabel is an agent's state (and reason) in words.
func stateLabel(st event.State, reason string) string {
	l := stateLabels[st]
	if l == "" {
		l = string(st)
	}
	if reason != "" {
		l += " · " + reason
	}
	return l
}

// DayView is an agent's day for the console, at now.
func (p *Projector) DayView(d model.AgentDay, now time.Time) templates.AgentDayView {
	v := templates.AgentDayView{Handled: d.Handled, AverageHandle: "–"}
	if aht, ok := d.AverageHandle(); ok {
		v.AverageHandle = Clock(aht)
	}
	var total time.Duration
	if len(d.Segments) > 0 {
		total = now.Sub(d.Segments[0].From)
	}
	hms := func(t time.Time) string { return t.In(p.loc).Format(time.TimeOnly) }
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
			to = "now"
		}
		v.Timeline = append(v.Timeline, templates.TimelineSeg{State: string(s.State), Label: stateLabel(s.State, s.Reason),
			From: hms(s.From), To: to, Duration: Clock(dur), Pct: fmt.Sprintf("%.3f", pct)})
	}
	for _, s := range d.InState {
		v.InState = append(v.InState, templates.StateTotal{State: string(s.State), Label: stateLabel(s.State, s.Reason), Total: Clock(s.Total)})
	}
	return v
}

// BoardQueues returns copies of the queues board id shows (alerts).
func (p *Projector) BoardQueues(id string) []model.Queue {
	b := p.byID[id]
	if b == nil {
		return nil
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.boardQueues(b)
}
