package projection

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/wallboard/wallboard/internal/config"
	"github.com/wallboard/wallboard/internal/event"
	"github.com/wallboard/wallboard/internal/i18n"
	"github.com/wallboard/wallboard/internal/model"
	"github.com/wallboard/wallboard/templates"
)

// The figures of an agent, a queue and the sources as a board shows them:
// the board's cards and tiles, and the console's rows and panels built on
// them.

// stateLabels are what people read for each state.
var stateLabels = map[event.State]string{
	event.StateAvailable: i18n.Key("Available"), event.StateOffered: i18n.Key("Ringing"), event.StateBusy: i18n.Key("On a contact"),
	event.StateWrapUp: i18n.Key("Wrap-up"), event.StateNotReady: i18n.Key("Not ready"), event.StateLoggedOut: i18n.Key("Logged out"),
	event.StateUnknown: i18n.Key("Unknown"),
}

// StateLabel is an agent's state (and reason) in words, in lang.
func StateLabel(lang string, st event.State, reason string) string {
	l := i18n.T(lang, stateLabels[st])
	if stateLabels[st] == "" {
		l = string(st)
	}
	if reason != "" {
		l += " · " + reason
	}
	return l
}

// Card is agent a's card on board def, with its full name (a name-hiding
// variant replaces it).
func (f *Floor) Card(def *config.Board, a model.Agent, now time.Time) templates.AgentCard {
	label := i18n.T(def.Lang, stateLabels[a.State])
	if a.State == event.StateNotReady && a.Reason != "" {
		label += " · " + a.Reason
	}
	c := templates.AgentCard{DOMID: DOMID("agent", a.Source, a.ID), Name: a.Name, State: string(a.State), Label: label,
		Since: a.Since, Elapsed: Elapsed(now, a.Since)}
	th := def.Thresholds
	switch a.State {
	case event.StateNotReady:
		c.WarnSec, c.AlarmSec = Secs(th.NotReady.Warn), Secs(th.NotReady.Alarm)
	case event.StateWrapUp:
		c.WarnSec, c.AlarmSec = Secs(th.WrapUp.Warn), Secs(th.WrapUp.Alarm)
	}
	if a.State == event.StateNotReady && a.Reason != "" {
		c.FlagSec = f.reasons[a.Reason] // reason alert (alerts.reasons)
	}
	var names []string
	for _, q := range a.Queues {
		if qq, ok := f.queues[model.Key{Source: a.Source, ID: q}]; ok {
			names = append(names, qq.Name)
		} else {
			names = append(names, q)
		}
	}
	c.Queues = strings.Join(names, ", ")
	if def.GroupBy != "" {
		c.Group = f.Group(def, a)
		if c.Group == NoGroup {
			c.Group = i18n.T(def.Lang, "No queue")
		}
	}
	return c
}

// Tile is queue q's tile on board def.
func (f *Floor) Tile(def *config.Board, q model.Queue, now time.Time) templates.QueueTile {
	th := def.Thresholds
	t := templates.QueueTile{DOMID: DOMID("queue", q.Source, q.ID), Name: q.Name, Source: f.Site(q.Source), Waiting: q.Waiting,
		WaitingLevel: LevelAbove(float64(q.Waiting), float64(th.Waiting.Warn), float64(th.Waiting.Alarm)),
		Oldest:       q.OldestWaiting, OldestText: "–",
		WaitWarnSec: Secs(th.LongestWait.Warn), WaitAlarmSec: Secs(th.LongestWait.Alarm),
		Offered: q.Offered, Answered: q.Answered, Abandoned: q.Abandoned, ServiceLevel: "–", AverageHandle: "–"}
	if !q.OldestWaiting.IsZero() {
		t.OldestText = Elapsed(now, q.OldestWaiting)
	}
	t.Lang = def.Lang
	if sl, ok := q.ServiceLevel(); ok {
		t.ServiceLevel = i18n.Percent(def.Lang, sl)
		t.SLLevel = LevelBelow(sl, th.ServiceLevel.Warn, th.ServiceLevel.Alarm)
	}
	if d, ok := q.AverageHandle(); ok {
		t.AverageHandle = Clock(d)
	}
	t.Defs = f.Defs(def.Lang, 0, q)
	t.Trend = f.Trend(def, q, now)
	if def.Staffing {
		needs, has, ok := f.Staffing(def, q)
		t.Staffing = staffingText(def.Lang, needs, has, ok)
		if ok && has < needs {
			t.StaffLevel = "warn"
		}
		t.StaffHint = i18n.T(def.Lang, "Agents needed now by Erlang C (the last hour's calls and handle time, this queue's service-level target), beside the agents serving it who are not on a break")
	}
	for _, m := range def.Measures {
		if v, ok := q.Measures[m.Name]; ok && !m.Hidden {
			m = m.Resolved()
			t.Measures = append(t.Measures, templates.Measure{Name: m.Label, Value: MeasureValue(m, v),
				Hint: i18n.T(def.Lang, "%s: %s as reported by %s (%s)", m.Label, m.Name, f.Site(q.Source), f.types[q.Source])})
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

// Health is the source strip of board def: a pill per source it shows, and
// a banner while any is not live.
func (f *Floor) Health(def *config.Board, now time.Time) templates.Health {
	h := templates.Health{Now: now, Lang: def.Lang}
	var down []string
	for _, name := range f.sources {
		if !f.ShowsSource(def, name) {
			continue
		}
		s := f.sstates[name]
		pill := templates.SourcePill{Name: name, Site: f.Site(name), DOMID: DOMID("source", name), Type: f.types[name],
			Status: string(s.Status), Detail: s.Detail}
		if s.Status != event.StatusLive {
			asOf := "start-up"
			if !s.Since.IsZero() && s.Status != event.StatusConnecting {
				asOf = s.Since.In(f.loc).Format(time.TimeOnly)
			}
			pill.AsOf = asOf
			if s.Status == event.StatusConnecting && s.Since.IsZero() {
				down = append(down, i18n.T(def.Lang, "%s is connecting", f.Site(name)))
			} else {
				down = append(down, i18n.T(def.Lang, "%s is %s: data as of %s", f.Site(name), i18n.T(def.Lang, string(s.Status)), asOf))
			}
		}
		h.Sources = append(h.Sources, pill)
	}
	if len(down) > 0 {
		h.Banner = strings.Join(down, " · ")
	}
	return h
}

// Settings are q's settings, with the default threshold when the copy has
// none (a model always sets it).
func (f *Floor) Settings(q model.Queue) model.QueueSettings {
	s := q.Settings
	if s.SLThreshold <= 0 {
		s.SLThreshold = f.sl
	}
	return s
}

// PeriodText names a period in words: today (in the floor's zone) or a
// rolling window of span.
func (f *Floor) PeriodText(lang string, span time.Duration) string {
	if span == 0 {
		return i18n.T(lang, "today (since midnight, %s time)", f.loc.String())
	}
	return i18n.T(lang, "in the last %d minutes (a rolling window, up to now)", int(span/time.Minute))
}

// SLDefinition is the service level's definition over win (PeriodText)
// across a board's queues qs, whose settings may differ.
func (f *Floor) SLDefinition(lang string, qs []model.Queue, win string) string {
	if len(qs) == 0 {
		return i18n.T(lang, "Service level %s: answered within the threshold ÷ (answered + abandoned), over this board's queues.", win)
	}
	same := true
	for _, q := range qs[1:] {
		if f.Settings(q) != f.Settings(qs[0]) {
			same = false
		}
	}
	if same {
		return i18n.T(lang, "Service level %s over this board's queues: %s.", win, slFormula(lang, f.Settings(qs[0])))
	}
	return i18n.T(lang, "Service level %s over this board's queues: the sum over the queues of contacts answered within each queue's threshold ÷ the sum of each queue's denominator (queues' settings differ: open a queue's figures for its threshold, short abandon and abandon rule).", win)
}
