// Package templates holds every page and fragment, as templ components that
// take typed view models. It knows nothing of vendors or of the model: the
// board package builds these views.
package templates

import (
	"time"

	"github.com/wallboard/wallboard/internal/i18n"
)

// AgentCard is one agent's card on a board.
type AgentCard struct {
	DOMID    string // agent-{source}-{id}, made safe for HTML
	Name     string
	State    string // normalized state
	Label    string // what people read: "On a call", "Not ready · Lunch"
	Since    time.Time
	Elapsed  string // time in state at render time; the page keeps it ticking
	WarnSec  int    // time-in-state thresholds for this state (0 = none)
	AlarmSec int
	Queues   string // queue names, for the tooltip
	FlagSec  int    // reason alert: flagged after this long in state (0 = none)
	Group    string // the card's group on a grouped board (group_by), "" otherwise
}

// Grid is the agent grid of a board.
type Grid struct {
	Cards []AgentCard
	Empty string // what to say when there are no cards
	Lang  string // the board's language
}

// QueueTile is one queue on a board.
type QueueTile struct {
	DOMID         string // queue-{source}-{id}
	Name          string
	Source        string
	Waiting       int
	WaitingLevel  string // "", "warn", "alarm"
	Oldest        time.Time
	OldestText    string // longest wait at render time
	WaitWarnSec   int
	WaitAlarmSec  int
	Offered       int
	Answered      int
	Abandoned     int
	ServiceLevel  string // "86%" or "–"
	SLLevel       string
	AverageHandle string
	Measures      []Measure
	Defs          TileDefs // each figure's definition (console_view.go)
	Lang          string   // the board's language (the tile's words)
	Trend         QueueTrend
	// Staffing: "needs 7 · has 5" on boards with staffing: true ("" off);
	// StaffLevel "warn" when it has fewer than it needs.
	Staffing, StaffLevel, StaffHint string
}

// QueueTrend is a queue tile's small picture (board.templ TrendView):
// waiting over the last 60 minutes and the service level through the day,
// drawn as inline SVG (coordinates as strings, computed by the projection).
type QueueTrend struct {
	DOMID     string // trend-{source}-{id}
	WaitNow   int
	WaitPeak  int
	WaitArea  string // polygon points in 0 0 60 20
	WaitText  string // "60m: 5" (the hour's peak)
	WaitLabel string // the picture in words
	SLLine    string // polyline points in 0 0 96 20
	SLDots    []TrendDot
	SLTargetY string // the target line's y; "" = no target
	SLText    string // "SL today 86%"
	SLLabel   string
	Points    int // intervals closed today
}

// TrendDot is a point of the service-level line.
type TrendDot struct{ X, Y string }

// Measure is a vendor-computed figure: its label, its value formatted for
// the board, and where it comes from (the figure's definition).
type Measure struct {
	Name, Value, Hint string
}

// KPI is one tile of the figures row.
type KPI struct {
	ID       string // kpi-{name}
	Label    string
	Value    string
	Level    string // "", "warn", "alarm"
	Since    time.Time
	WarnSec  int
	AlarmSec int
	Lang     string       // the board's language
	Hint     string       // how the figure is defined
	Target   string       // the figure's target, shown beside it ("80%", "< 0:30"); "" = none
	States   []StateCount // agents_by_state: a count per state instead of Value
}

// StateCount is how many agents are in one state.
type StateCount struct {
	State, Label string
	Count        int
}

// SourcePill is one source's health.
type SourcePill struct {
	Name   string
	Site   string // what supervisors read: the source's display name (sources[].display_name), else its name
	DOMID  string // source-{name}
	Type   string
	Status string
	Detail string
	AsOf   string // HH:MM:SS the data is from when not live
}

// Health is the source strip and, when a source is not live, the banner.
type Health struct {
	Sources []SourcePill
	Banner  string
	Now     time.Time // server time, for the page's clock offset
	Lang    string    // the board's or console's language (the statuses' words)
}

// Board is a whole board page.
type Board struct {
	ID        string
	Title     string
	Kiosk     bool
	EventsURL string // the SSE stream, with the page's event id
	Heartbeat time.Duration
	Health    Health
	KPIs      []KPI
	Queues    []QueueTile
	Grid      Grid
	Assets    Assets
	// Ticker, Embed, Screen and Chrome: see kiosk.templ.
	Ticker string
	Embed  bool // ?embed=1: no page chrome, for iframes
	Screen Screen
	Chrome Chrome
	Look   Look
	// Gen is a hash of what only a page load shows (title, look, language):
	// a stream's reset with another one makes the page reload (BoardState).
	Gen string
	// Preview: the board editor's preview, a page without a stream.
	Preview bool
}

// Look is how a board looks: its language (<html lang>, the words), theme,
// clock and the installation's brand.
type Look struct {
	Lang, Theme, Clock     string
	BrandName, BrandColour string
	Logo                   string // a data: URI
}

// Assets names the static files with their cache-busting URLs.
type Assets struct {
	CSS, HTMX, SSE, Script string
}

// BoardLink is one entry of the board list.
type BoardLink struct {
	ID, Title, URL string
	Agents, Queues int
	// Console, Settings and Links (its TV links page) are set for users
	// who supervise the board.
	Console, Settings, Links string
	// Edit is the board editor, for users who supervise the board.
	Edit string
	Live BoardSummary // the board as it is now
	TVs  []string     // its TV links' names (the tokens stay in the configuration)
}

// BoardSummary is a board's state in a few figures, for the board list.
type BoardSummary struct {
	Waiting      int
	WaitingLevel string
	ServiceLevel string // "86%" or "–"
	SLLevel      string
	Available    int
	Sources      string // the worst of its sources' statuses: live, connecting, degraded, failed
}

// NavLink is one entry of the pages' navigation (AppNav).
type NavLink struct {
	Label, URL string
	Current    bool
}

// BoardNav is the navigation of a page about board id: the board list, the
// board, its console and settings (current is the label of this page), and
// the admin page when admin.
func BoardNav(id, current string, admin bool) []NavLink {
	base := "/boards/" + id
	links := []NavLink{{Label: i18n.Key("Boards"), URL: "/"}}
	if id != "" {
		links = append(links, NavLink{Label: i18n.Key("Board"), URL: base}, NavLink{Label: i18n.Key("Console"), URL: base + "/console"},
			NavLink{Label: i18n.Key("Day"), URL: base + "/day"}, NavLink{Label: i18n.Key("Settings"), URL: base + "/settings"})
	}
	if admin {
		links = append(links, NavLink{Label: i18n.Key("Admin"), URL: "/admin"})
	}
	for i := range links {
		links[i].Current = links[i].Label == current
	}
	return links
}

// IndexPage is the list of boards a user may see.
type IndexPage struct {
	Boards []BoardLink
	Admin  string // the admin page's URL, for admins
	Lang   string // the viewer's language (Accept-Language)
	// NewBoard is the board editor for a new board, for supervisors.
	NewBoard string
}

// kpisLang is the language of a figures row ("" when empty).
func kpisLang(kpis []KPI) string {
	if len(kpis) == 0 {
		return ""
	}
	return kpis[0].Lang
}

// tilesLang is the language of a queue row ("" when empty).
func tilesLang(qs []QueueTile) string {
	if len(qs) == 0 {
		return ""
	}
	return qs[0].Lang
}
