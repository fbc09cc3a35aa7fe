package board

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/wallboard/wallboard/internal/config"
	"github.com/wallboard/wallboard/internal/console"
	"github.com/wallboard/wallboard/internal/event"
	"github.com/wallboard/wallboard/internal/model"
)

// consoleProjector is the test projector with a Lunch reason alert, every
// stream (boards, variants, consoles) recorded.
func consoleProjector(t *testing.T) (*Projector, map[string]*recorder) {
	t.Helper()
	cfg := testConfig()
	cfg.Alerts.Reasons = []config.ReasonAlert{{Reason: "Lunch", After: config.Duration(45 * time.Minute)}}
	p := NewProjector(cfg, Options{Now: func() time.Time { return now }})
	recs := map[string]*recorder{}
	for _, b := range p.Streams() {
		r := &recorder{}
		recs[b.StreamID()] = r
		p.Attach(b.StreamID(), r)
	}
	return p, recs
}

// withWindows gives the test delta's Sales queue settings and windows, as
// the model would.
func withWindows(d model.Delta) model.Delta {
	d.Queues[0].Settings = model.QueueSettings{SLThreshold: 30 * time.Second, ShortAbandon: 5 * time.Second}
	d.Queues[0].ShortAbandoned = 2
	d.Queues[0].WaitingContacts = []model.WaitingContact{{ID: "c1", Since: now.Add(-45 * time.Second)}, {ID: "c2", Since: now.Add(-10 * time.Second)}}
	d.Queues[0].Windows = []model.Window{
		{Span: 15 * time.Minute, Figures: model.Figures{Offered: 10, Answered: 8, AnsweredInSL: 6, Abandoned: 2, ShortAbandoned: 1, Handled: 7, HandleTotal: 7 * 3 * time.Minute}},
		{Span: 30 * time.Minute, Figures: model.Figures{Offered: 20, Answered: 17, AnsweredInSL: 15, Abandoned: 3, ShortAbandoned: 1}},
		{Span: time.Hour, Figures: model.Figures{Offered: 40, Answered: 35, AnsweredInSL: 30, Abandoned: 4, ShortAbandoned: 2}},
	}
	return d
}

func TestConsoleGolden(t *testing.T) {
	t.Parallel()
	p, _ := consoleProjector(t)
	p.Apply(withWindows(testDelta()))
	golden(t, "console-floor", p.Reset(console.StreamID("floor")))
}

func TestConsoleFigures(t *testing.T) {
	t.Parallel()
	p, _ := consoleProjector(t)
	p.Apply(withWindows(testDelta()))
	html := string(p.Reset(console.StreamID("floor")))
	for _, want := range []string{
		// 15 min: 6 ÷ (8 + 2 − 1 short) = 67%; today: 75 ÷ (100 + 10 − 2) = 69%.
		`title="Service level in the last 15 minutes (a rolling window, up to now): contacts answered within 30 seconds`, `>67%<`, `>69%<`,
		`>10 (2 short)<`, `>3:00<`, // abandons with short ones; 15-minute AHT
		`Service level threshold 30 seconds; abandons within 5 seconds are short abandons`,
		`data-testid="waiting-contact"`, `data-oldest="2026-11-21T10:14:15Z"`,
		`id="agent-uk-ag64o_x_1" role="row"`, `data-flag="2700"`, `data-queues="queue-uk-q-sales"`,
		`href="/boards/floor/console/agents/uk/ag64o.x@1"`, `href="/boards/floor/console/queues/uk/q-sales"`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("console lacks %s", want)
		}
	}
	board := string(p.Reset("floor"))
	for _, want := range []string{
		`data-flag="2700"`, // the reason alert reaches the board's card too
		`class="fig def" title="Offered today (since midnight, UTC time): contacts that entered this queue`,
	} {
		if !strings.Contains(board, want) {
			t.Errorf("board lacks %s", want)
		}
	}
}

// A change renders one frame per stream: the console gets rows and panels,
// the board cards and tiles; nothing is rendered per viewer.
func TestConsoleDeltas(t *testing.T) {
	t.Parallel()
	p, recs := consoleProjector(t)
	p.Apply(withWindows(testDelta()))
	for _, r := range recs {
		r.frames = nil
	}
	p.Apply(model.Delta{At: now, Agents: []model.Agent{{Key: model.Key{Source: "uk", ID: "ag2"}, Name: "Aisha Khan",
		State: event.StateNotReady, Reason: "Lunch", Since: now, Queues: []string{"q-support"}}}})
	con, brd := recs[console.StreamID("floor")], recs["floor"]
	if len(con.frames) != 1 || len(brd.frames) != 1 {
		t.Fatalf("frames: console %d, board %d; want 1 each", len(con.frames), len(brd.frames))
	}
	c := string(con.frames[0])
	if !strings.Contains(c, `id="agent-uk-ag2" role="row"`) || !strings.Contains(c, `data-flag="2700"`) || strings.Contains(c, "agent-card") {
		t.Errorf("console frame:\n%s", c)
	}
	if b := string(brd.frames[0]); strings.Contains(b, `role="row"`) {
		t.Errorf("board frame has console rows:\n%s", b)
	}
}

// A board with langs has a console stream in each language: the same
// delta reaches a German console in German, with German numbers, and the
// board's own console stays English.
func TestConsoleLanguages(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.Boards[0].Langs = []string{"de", "en"} // en is the board's own: no second stream
	p := NewProjector(cfg, Options{Now: func() time.Time { return now }})
	recs := map[string]*recorder{}
	var consoles []string
	for _, b := range p.Streams() {
		r := &recorder{}
		recs[b.StreamID()] = r
		p.Attach(b.StreamID(), r)
		if strings.HasPrefix(b.StreamID(), console.StreamID("floor")) {
			consoles = append(consoles, b.StreamID())
		}
	}
	if want := []string{"floor~console", "floor~console.de"}; strings.Join(consoles, " ") != strings.Join(want, " ") {
		t.Fatalf("floor's console streams are %v, want %v", consoles, want)
	}
	if got := console.LangStreamID("floor", "de", ""); got != "floor~console.de" {
		t.Errorf("German console stream id %q", got)
	}
	p.Apply(withWindows(testDelta()))
	tests := []struct {
		name, stream   string
		want, wantNone []string
	}{
		{"german", "floor~console.de", []string{">Heute<", ">Angeboten<", "Servicelevel-Schwelle 30 Sekunden", `title="Angeboten heute`, ">wartend<"},
			[]string{">Today<", ">Offered<", "Service level threshold"}},
		{"english", "floor~console", []string{">Today<", ">Offered<", "Service level threshold 30 seconds"}, []string{">Heute<", "Angeboten"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, html := range []string{string(p.Reset(tt.stream)), string(bytes.Join(recs[tt.stream].frames, nil))} {
				for _, w := range tt.want {
					if !strings.Contains(html, w) {
						t.Errorf("%s lacks %q", tt.stream, w)
					}
				}
				for _, w := range tt.wantNone {
					if strings.Contains(html, w) {
						t.Errorf("%s has %q", tt.stream, w)
					}
				}
			}
		})
	}
	v, ok := p.Console().View("floor", "de")
	if !ok || v.Lang != "de" || v.StateOptions[0].Label != "Verfügbar" {
		t.Errorf("German console view: lang %q, first state %+v", v.Lang, v.StateOptions)
	}
}

// The board list's figures of a board, in the viewer's language.
func TestSummaryLanguages(t *testing.T) {
	t.Parallel()
	p, _ := consoleProjector(t)
	p.Apply(withWindows(testDelta()))
	tests := []struct {
		name, lang, sl string
	}{
		{"english", "en", "69%"},
		{"german", "de", "69\u00a0%"},
		{"french", "fr", "69\u00a0%"},
	}
	en := p.Summary("floor", "en")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := p.Summary("floor", tt.lang)
			if s.ServiceLevel != tt.sl || s.Waiting != en.Waiting || s.Available != en.Available {
				t.Errorf("summary in %s: %+v, want service level %q and the English counts %+v", tt.lang, s, tt.sl, en)
			}
		})
	}
}
