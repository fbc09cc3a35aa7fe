package console

import (
	"strings"
	"testing"
	"time"

	"github.com/wallboard/wallboard/internal/config"
	"github.com/wallboard/wallboard/internal/event"
	"github.com/wallboard/wallboard/internal/model"
	"github.com/wallboard/wallboard/internal/projection"
)

var now = time.Date(2026, 11, 21, 10, 15, 0, 0, time.UTC)

// testConsole is a floor with two boards: "floor" shows everything, "sales"
// one source and one queue.
func testConsole(t *testing.T) (*Views, *projection.Floor, *config.Config) {
	t.Helper()
	cfg := config.Default()
	cfg.Sources = []config.Source{{Name: "uk", Type: "8x8-sapi"}, {Name: "ns", Type: "netsapiens"}}
	cfg.Boards = []config.Board{{ID: "floor", Title: "Floor"}, {ID: "sales", Title: "Sales", Sources: []string{"uk"}, Queues: []string{"Sales"}}}
	f := projection.New(&cfg, time.UTC)
	f.Put(model.Delta{At: now, Membership: true,
		Agents: []model.Agent{
			{Key: model.Key{Source: "uk", ID: "a1"}, Name: "Marcus Lee", State: event.StateNotReady, Reason: "Lunch", Since: now.Add(-time.Minute), Queues: []string{"q-sales"}},
			{Key: model.Key{Source: "uk", ID: "a2"}, Name: "Aisha Khan", State: event.StateBusy, Since: now, Queues: []string{"q-support"}},
			{Key: model.Key{Source: "uk", ID: "a3"}, Name: "Gone Home", State: event.StateLoggedOut, Since: now},
			{Key: model.Key{Source: "ns", ID: "200"}, Name: "Tom Walsh", State: event.StateAvailable, Since: now},
		},
		Queues: []model.Queue{{Key: model.Key{Source: "uk", ID: "q-sales"}, Name: "Sales", Waiting: 1}, {Key: model.Key{Source: "uk", ID: "q-support"}, Name: "Support"}},
	})
	return New(cfg.Boards, f, func() time.Time { return now }), f, &cfg
}

func TestViewFollowsTheBoard(t *testing.T) {
	t.Parallel()
	c, _, _ := testConsole(t)
	tests := []struct {
		name         string
		board        string
		rows, queues int
	}{
		{"every agent logged in and every queue", "floor", 3, 2},
		{"one source and one queue", "sales", 1, 1},
	}
	for _, tt := range tests {
		v, ok := c.View(tt.board, "")
		if !ok {
			t.Fatalf("%s: no console", tt.name)
		}
		if len(v.Rows) != tt.rows || len(v.Queues) != tt.queues || len(v.QueueOptions) != tt.queues {
			t.Errorf("%s: %d rows, %d queues, %d queue options; want %d, %d", tt.name, len(v.Rows), len(v.Queues), len(v.QueueOptions), tt.rows, tt.queues)
		}
		if len(v.StateOptions) != 5 || v.StateOptions[0].Label != "Available" {
			t.Errorf("%s: state options %+v", tt.name, v.StateOptions)
		}
	}
	if _, ok := c.View("nope", ""); ok {
		t.Error("a console for a board that does not exist")
	}
}

func TestQueueAndAgentLookups(t *testing.T) {
	t.Parallel()
	c, _, _ := testConsole(t)
	tests := []struct {
		name, board, mark string
		agent             model.Key
		wantQueue         string
		wantAgent         bool
	}{
		{"the board's queue and agent", "sales", "queue-uk-q-sales", model.Key{Source: "uk", ID: "a1"}, "Sales", true},
		{"a queue and agent the board does not show", "sales", "queue-uk-q-support", model.Key{Source: "uk", ID: "a2"}, "", false},
		{"another source", "sales", "queue-ns-x", model.Key{Source: "ns", ID: "200"}, "", false},
		{"a logged-out agent keeps its day", "sales", "", model.Key{Source: "uk", ID: "a3"}, "", true},
		{"no such board", "nope", "queue-uk-q-sales", model.Key{Source: "uk", ID: "a1"}, "", false},
	}
	for _, tt := range tests {
		_, name, ok := c.Queue(tt.board, tt.mark)
		if ok != (tt.wantQueue != "") || name != tt.wantQueue {
			t.Errorf("%s: Queue = %q, %v; want %q", tt.name, name, ok, tt.wantQueue)
		}
		if _, ok := c.Agent(tt.board, tt.agent); ok != tt.wantAgent {
			t.Errorf("%s: Agent = %v, want %v", tt.name, ok, tt.wantAgent)
		}
	}
}

func TestStreamRendersRowsOnce(t *testing.T) {
	t.Parallel()
	_, f, cfg := testConsole(t)
	s := NewStream(&cfg.Boards[0], f, nil)
	reset := string(s.Reset(now))
	for _, want := range []string{`id="agent-uk-a1" role="row"`, `href="/boards/floor/console/agents/uk/a1"`, `data-queues="queue-uk-q-sales"`,
		`href="/boards/floor/console/queues/uk/q-sales"`} {
		if !strings.Contains(reset, want) {
			t.Errorf("reset lacks %s", want)
		}
	}
	// One agent changes: its row only.
	d := model.Delta{At: now, Agents: []model.Agent{{Key: model.Key{Source: "uk", ID: "a2"}, Name: "Aisha Khan", State: event.StateWrapUp, Since: now}}}
	f.Put(d)
	frag := string(s.Fragment(d, now))
	if strings.Count(frag, `role="row"`) != 1 || !strings.Contains(frag, `id="agent-uk-a2"`) || strings.Contains(frag, "queue-uk-q-sales") {
		t.Errorf("fragment:\n%s", frag)
	}
}

func TestDayTimeline(t *testing.T) {
	t.Parallel()
	c, _, _ := testConsole(t)
	day := model.AgentDay{Handled: 2, HandleTotal: 8 * time.Minute, Segments: []model.Segment{
		{State: event.StateAvailable, From: now.Add(-10 * time.Minute)},
		{State: event.StateBusy, From: now.Add(-10 * time.Minute)}, // replaced at once: not shown
		{State: event.StateNotReady, Reason: "Lunch", From: now.Add(-5 * time.Minute)},
	}, InState: []model.StateTime{{State: event.StateNotReady, Reason: "Lunch", Total: 5 * time.Minute}}}
	v := c.Day(day, now, "en")
	if v.AverageHandle != "4:00" || v.Handled != 2 {
		t.Errorf("handled %d, AHT %s; want 2, 4:00", v.Handled, v.AverageHandle)
	}
	if len(v.Timeline) != 2 {
		t.Fatalf("timeline %+v, want 2 segments", v.Timeline)
	}
	if s := v.Timeline[1]; s.Label != "Not ready · Lunch" || s.From != "10:10:00" || s.To != "now" || s.Duration != "5:00" || s.Pct != "50.000" {
		t.Errorf("last segment %+v", s)
	}
	if len(v.InState) != 1 || v.InState[0].Total != "5:00" {
		t.Errorf("in state %+v", v.InState)
	}
}
