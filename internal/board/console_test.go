package board

import (
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
