package templates

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/wallboard/wallboard/internal/i18n"
)

// The supervisor's console (console.templ): an agents table, queue panels
// with today's and the rolling windows' figures, a queue's drill-down and an
// agent's day. Built by the board package, kept live by the board's console
// stream.

// ConsoleRow is one agent in the agents table. Its id is the agent's page
// mark (agent-{source}-{id}), so the stream swaps it by id.
type ConsoleRow struct {
	DOMID    string
	Name     string
	State    string // normalized state
	Label    string // "Not ready · Lunch"
	Reason   string
	Since    time.Time
	Elapsed  string
	WarnSec  int
	AlarmSec int
	FlagSec  int    // reason alert: flagged after this long in state (0 = none)
	Queues   string // queue names, comma-separated
	QueueIDs string // the queues' page marks, space-separated (for the queue filter)
	URL      string // the agent's day
}

// FigureCell is one figure in one period, with its definition.
type FigureCell struct {
	Value string
	Def   string // what it counts, over which period, with which settings
	Level string // "", "warn", "alarm"
}

// FigureRow is one figure across the periods (today, then each window).
type FigureRow struct {
	Label string
	Cells []FigureCell
}

// WaitingView is one waiting contact.
type WaitingView struct {
	ID      string
	Since   time.Time
	Elapsed string
}

// ConsoleQueue is one queue's panel: waiting now, figures for today and the
// windows, its waiting contacts, its settings in words.
type ConsoleQueue struct {
	DOMID        string // queue-{source}-{id}
	Name, Source string
	URL          string // the queue's drill-down
	Waiting      int
	WaitingLevel string
	Oldest       time.Time
	OldestText   string
	WaitWarnSec  int
	WaitAlarmSec int
	Periods      []string // column heads: "Today", "60 min", …
	Figures      []FigureRow
	Contacts     []WaitingView
	MoreWaiting  int // waiting beyond those listed
	Settings     string
	Lang         string // the console's language (the panel's words)
	// Staffing: the board tile's "needs 7 · has 5" (staffing: true).
	Staffing, StaffLevel, StaffHint string
}

// Option is one choice of a select.
type Option struct{ Value, Label string }

// AgentDayView is an agent's day: timeline, contacts handled, time in state.
type AgentDayView struct {
	Handled       int
	AverageHandle string
	Timeline      []TimelineSeg
	InState       []StateTotal
	Lang          string // the console's language
}

// TimelineSeg is one stretch of the day in one state.
type TimelineSeg struct {
	State    string
	Label    string
	From, To string // HH:MM:SS
	Duration string
	Pct      string // share of the day so far, for the bar ("12.5")
}

// StateTotal is the time in one state (and reason) today.
type StateTotal struct {
	State, Label, Total string
}

// Console is a console page: mode "agents" (the whole board), "queue"
// (Focus is the queue's page mark) or "agent" (Focus is the agent's).
type Console struct {
	BoardID, Title string
	Mode           string
	Focus          string
	Heading        string
	BoardURL       string
	ConsoleURL     string
	EventsURL      string
	TimelineURL    string // agent mode: the day's fragment, refetched when the agent changes
	Heartbeat      time.Duration
	Health         Health
	Queues         []ConsoleQueue
	Rows           []ConsoleRow
	QueueOptions   []Option
	StateOptions   []Option
	Day            *AgentDayView
	Assets         Assets
	Script         string // console.js
	Lang           string // the page's language: <html lang>, its words and numbers
}

// TileDefs are the definitions of a queue tile's figures.
type TileDefs struct {
	Offered, Answered, Abandoned, ServiceLevel, AverageHandle string
}

// AdminSound is a kiosk screen's last sound report.
type AdminSound struct {
	Kiosk, Remote string
	State         string // enabled, blocked or unsupported
	At            time.Time
}

// AxisTick is one label under the agent's timeline.
type AxisTick struct {
	Label string
	Left  string // percent from the left
}

// timelineAxis puts time labels under a day's timeline: its start, every
// whole step between (an hour, or less on a short day) and "now". The
// segments carry their start ("15:04:05") and duration ("1:02:03").
func timelineAxis(segs []TimelineSeg, lang string) []AxisTick {
	if len(segs) == 0 {
		return nil
	}
	start, err := time.Parse(time.TimeOnly, segs[0].From)
	if err != nil {
		return nil
	}
	var total time.Duration
	for _, s := range segs {
		total += clockDuration(s.Duration)
	}
	if total <= 0 {
		return []AxisTick{{Label: start.Format("15:04"), Left: "0"}}
	}
	step := time.Hour
	for _, s := range []time.Duration{5 * time.Minute, 15 * time.Minute, 30 * time.Minute, time.Hour, 2 * time.Hour} {
		if total/s <= 8 {
			step = s
			break
		}
	}
	pct := func(d time.Duration) string { return strconv.FormatFloat(float64(d)*100/float64(total), 'f', 2, 64) }
	ticks := []AxisTick{{Label: start.Format("15:04"), Left: "0"}}
	for t := start.Truncate(step).Add(step); t.Sub(start) < total; t = t.Add(step) {
		if d := t.Sub(start); d > total/12 && total-d > total/12 { // room for the labels at the ends
			ticks = append(ticks, AxisTick{Label: t.Format("15:04"), Left: pct(d)})
		}
	}
	return append(ticks, AxisTick{Label: i18n.T(lang, "now"), Left: "100"})
}

// queuesLang is the language of a console's queue panels ("" when none).
func queuesLang(qs []ConsoleQueue) string {
	if len(qs) == 0 {
		return ""
	}
	return qs[0].Lang
}

// countLabels are the words of the agents table's state counts in lang, as
// JSON for console.js ("3 available · 1 ringing").
func countLabels(lang string) string {
	m := map[string]string{}
	for st, label := range map[string]string{"available": i18n.Key("available"), "offered": i18n.Key("ringing"),
		"busy": i18n.Key("on a contact"), "wrap_up": i18n.Key("wrap-up"), "not_ready": i18n.Key("not ready")} {
		m[st] = i18n.T(lang, label)
	}
	b, _ := json.Marshal(m) // a map of strings always marshals
	return string(b)
}

// clockDuration reads "m:ss" or "h:mm:ss" (zero when it is neither).
func clockDuration(s string) time.Duration {
	var d time.Duration
	for _, part := range strings.Split(s, ":") {
		n, err := strconv.Atoi(part)
		if err != nil {
			return 0
		}
		d = d*60 + time.Duration(n)
	}
	return d * time.Second
}

// timelineStates lists the states of a timeline once each, in order of
// first appearance, as [state, label] (the legend: shape and pattern, not
// colour alone).
func timelineStates(segs []TimelineSeg) [][2]string {
	seen := map[string]bool{}
	var out [][2]string
	for _, s := range segs {
		if !seen[s.State] {
			seen[s.State] = true
			label, _, _ := strings.Cut(s.Label, " · ")
			out = append(out, [2]string{s.State, label})
		}
	}
	return out
}
