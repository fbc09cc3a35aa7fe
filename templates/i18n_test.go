package templates

import (
	"context"
	"html"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/a-h/templ"

	"github.com/wallboard/wallboard/internal/i18n"
)

// The pages speak the viewer's language: every page is rendered in each
// language from views whose data (names, titles, vendor values) is marked
// with Ω, and a piece of text that reads the same in all four languages is
// a string the template left in English (or a message the catalogues lack).

// i18nPages are every page and fragment a person reads, in lang.
func i18nPages(lang string) map[string]templ.Component {
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	ago := now.Add(-90 * time.Second)
	assets := Assets{CSS: "/a.css", HTMX: "/h.js", SSE: "/s.js", Script: "/w.js"}
	health := Health{Lang: lang, Now: now, Banner: "Ω-banner",
		Sources: []SourcePill{{Name: "Ωsrc", Site: "ΩSite", DOMID: "source-x", Type: "Ωtype", Status: "degraded", Detail: "Ωdetail"}}}
	queue := ConsoleQueue{DOMID: "queue-x", Name: "ΩSales", Source: "ΩSite", URL: "/q", Waiting: 12, OldestText: "0:42",
		Periods: []string{"Ω-today"}, Figures: []FigureRow{{Label: "Ω-offered", Cells: []FigureCell{{Value: "3", Def: "Ω-def"}}}},
		Contacts: []WaitingView{{ID: "Ωc1", Since: ago, Elapsed: "1:30"}}, MoreWaiting: 4, Settings: "Ω-settings", Lang: lang}
	row := ConsoleRow{DOMID: "agent-x", Name: "ΩAnn", State: "not_ready", Label: "Ω-label", Reason: "ΩLunch", Since: ago,
		Elapsed: "1:30", Queues: "ΩSales", URL: "/a"}
	day := AgentDayView{Handled: 7, AverageHandle: "3:10", Lang: lang,
		Timeline: []TimelineSeg{{State: "available", Label: "Ω-available", From: "08:00:00", To: "09:00:00", Duration: "1:00:00", Pct: "50"},
			{State: "busy", Label: "Ω-busy", From: "09:00:00", To: "Ω-now", Duration: "1:00:00", Pct: "50"}},
		InState: []StateTotal{{State: "busy", Label: "Ω-busy", Total: "1:00:00"}}}
	console := func(mode string) Console {
		c := Console{BoardID: "floor", Title: "ΩFloor", Mode: mode, Heading: "Ω-heading", Health: health,
			Queues: []ConsoleQueue{queue, queue}, Rows: []ConsoleRow{row}, QueueOptions: []Option{{Value: "queue-x", Label: "ΩSales"}},
			StateOptions: []Option{{Value: "busy", Label: "Ω-busy"}}, Assets: assets, Script: "/c.js", Lang: lang}
		c.Queues[1].Settings = "Ω-other-settings"
		if mode == "agent" {
			c.Day = &day
		}
		return c
	}
	sameSettings := console("queue")
	sameSettings.Queues[1].Settings = sameSettings.Queues[0].Settings
	admin := AdminView{Version: "Ω1", Commit: "Ωabc", Started: ago, Now: now, StateDir: "Ω/var", Lang: lang, Assets: assets,
		Snapshot: AdminSnapshot{Interval: "Ω1m", LastSaved: ago, Restored: "Ω-restored", Problem: "Ω-problem"},
		Journal:  AdminJournal{Enabled: true, Durable: 1234, Segments: 2, Bytes: 5678, Replayed: "Ω-replayed", Problem: "Ω-problem"},
		Sources: []AdminSource{{Name: "Ωsrc", Type: "Ωtype", Status: "live", Detail: "Ωdetail", LastMessage: ago, Messages: 1234,
			LastError: "Ωerr", UnmappedOverflow: 3}},
		Unmapped: []AdminUnmapped{{Source: "Ωsrc", Field: "Ωfield", Value: "Ωvalue", ConfigKey: "state_map", Count: 2, LastSeen: ago, Example: "Ωex"},
			{Source: "Ωsrc", Field: "Ωfield", Value: "Ωother", Count: 1, LastSeen: ago}},
		Captures: []AdminCapture{{Source: "Ωsrc", File: "Ωfile", Size: 2048, Modified: ago}},
		Screens:  []AdminScreen{{Board: "Ωfloor", Kiosk: "Ωtv", Remote: "Ω1.2.3.4", Since: ago, LastWrite: ago, Behind: 3, Resetting: true}},
		Sound: []AdminSound{{Kiosk: "Ωtv", Remote: "Ω1.2.3.4", State: "blocked", At: ago},
			{Kiosk: "Ωtv", Remote: "Ω1.2.3.5", State: "enabled", At: ago}}}
	emptyAdmin := AdminView{Now: now, Lang: lang, Assets: assets}
	board := Board{ID: "floor", Title: "ΩFloor", Health: health, Assets: assets, Look: Look{Lang: lang},
		KPIs:   []KPI{{ID: "kpi-x", Label: "Ω-label", Value: "3", Lang: lang}},
		Queues: []QueueTile{{DOMID: "queue-x", Name: "ΩSales", Source: "ΩSite", ServiceLevel: "Ω%", Lang: lang}},
		Grid:   Grid{Empty: "Ω-empty", Lang: lang}, Kiosk: true, Screen: Screen{SoundURL: "/s"},
		Chrome: Chrome{User: "ΩSue", Role: "admin", SettingsURL: "/s", CSRF: "Ω"}}
	index := IndexPage{Lang: lang, Admin: "/admin", Boards: []BoardLink{{ID: "floor", Title: "ΩFloor", URL: "/b", Console: "/c", Settings: "/s",
		Live: BoardSummary{ServiceLevel: "Ω%", Sources: "degraded"}, TVs: []string{"Ωtv"}}}}
	return map[string]templ.Component{
		"index":                Index(index, assets),
		"empty index":          Index(IndexPage{Lang: lang}, assets),
		"board":                BoardPage(board),
		"console":              ConsolePage(console("agents")),
		"queue drill-down":     ConsolePage(sameSettings),
		"agent's day":          ConsolePage(console("agent")),
		"agent's day fragment": AgentDayFragment(day),
		"admin":                AdminPage(admin),
		"empty admin":          AdminPage(emptyAdmin),
		"settings":             BoardSettings("floor", "ΩFloor", "Ω-ticker", "Ω", "Saved: every screen of this board shows it now.", assets, lang),
		"sign-in":              Login("Ω", "/", "Wrong user name or password.", "ΩSSO", "/o", true, assets, lang),
		"sign-in, no accounts": Login("Ω", "/", "", "", "", false, assets, lang),
		"error":                ErrorPage(404, "Not found", "There is no such board or link. It may have been removed from the configuration.", assets, lang),
		"error from elsewhere": ErrorPage(405, "ΩMethod ΩNot ΩAllowed", "Ω100% Ωodd", assets, lang),
	}
}

var (
	textNode  = regexp.MustCompile(`>([^<]+)<`)
	readAttr  = regexp.MustCompile(`\s(?:title|aria-label|placeholder|alt|data-sound-label)="([^"]*)"`)
	htmlLang  = regexp.MustCompile(`<html lang="([a-z]+)"`)
	dataWord  = regexp.MustCompile(`\S*Ω\S*`)
	hasLetter = regexp.MustCompile(`[a-z]`) // a word, not a code (UTC, AHT) or a number
)

// readable is what a person reads on a page, in order: text and the
// attributes that are read (tooltips, labels).
func readable(html string) []string {
	type at struct {
		pos  int
		text string
	}
	var all []at
	for _, m := range textNode.FindAllStringSubmatchIndex(html, -1) {
		all = append(all, at{m[2], html[m[2]:m[3]]})
	}
	for _, m := range readAttr.FindAllStringSubmatchIndex(html, -1) {
		all = append(all, at{m[2], html[m[2]:m[3]]})
	}
	// by position: text and attributes in document order
	for i := 1; i < len(all); i++ {
		for j := i; j > 0 && all[j].pos < all[j-1].pos; j-- {
			all[j], all[j-1] = all[j-1], all[j]
		}
	}
	var out []string
	for _, a := range all {
		if t := strings.TrimSpace(a.text); t != "" {
			out = append(out, t)
		}
	}
	return out
}

func TestPagesTranslated(t *testing.T) {
	t.Parallel()
	rendered := map[string]map[string][]string{} // page → lang → readable
	for _, lang := range i18n.Langs {
		for name, c := range i18nPages(lang) {
			var sb strings.Builder
			if err := c.Render(context.Background(), &sb); err != nil {
				t.Fatalf("%s in %s: %v", name, lang, err)
			}
			html := sb.String()
			if name != "agent's day fragment" {
				if m := htmlLang.FindStringSubmatch(html); len(m) < 2 || m[1] != lang {
					t.Errorf("%s in %s: <html lang> is %v, want %q", name, lang, m, lang)
				}
			}
			if rendered[name] == nil {
				rendered[name] = map[string][]string{}
			}
			rendered[name][lang] = readable(html)
		}
	}
	for name, langs := range rendered {
		en := langs["en"]
		for _, lang := range i18n.Langs[1:] {
			if len(langs[lang]) != len(en) {
				t.Errorf("%s: %d pieces of text in %s, %d in English", name, len(langs[lang]), lang, len(en))
			}
		}
	next:
		for i, text := range en {
			for _, lang := range i18n.Langs[1:] {
				if i >= len(langs[lang]) || langs[lang][i] != text {
					continue next // translated somewhere: a catalogue message
				}
			}
			words := strings.Join(strings.FieldsFunc(dataWord.ReplaceAllString(html.UnescapeString(text), ""), func(r rune) bool { return r == ' ' || r == '·' }), " ")
			if hasLetter.MatchString(words) && !sameEverywhere[words] {
				t.Errorf("%s: %q reads the same in every language: a string without a translation", name, text)
			}
		}
	}
}

// sameEverywhere are words that read the same in every language.
var sameEverywhere = map[string]bool{
	"wallboard":             true,
	`state_map: "<state>"}`: true, // a line of configuration
}
