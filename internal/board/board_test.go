package board

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wallboard/wallboard/internal/config"
	"github.com/wallboard/wallboard/internal/event"
	"github.com/wallboard/wallboard/internal/model"
	"github.com/wallboard/wallboard/internal/projection"
)

var update = flag.Bool("update", false, "rewrite golden files")

var now = time.Date(2026, 11, 21, 10, 15, 0, 0, time.UTC)

type recorder struct{ frames [][]byte }

func (r *recorder) Publish(b []byte) { r.frames = append(r.frames, bytes.Clone(b)) }

func testConfig() *config.Config {
	cfg := config.Default()
	cfg.Sources = []config.Source{{Name: "uk", Type: "8x8-sapi"}, {Name: "ns", Type: "netsapiens"}}
	cfg.Boards = []config.Board{
		{ID: "floor", Title: "Floor", Tiles: config.DefaultTiles, Measures: config.MeasureNames("contactsQueueing"),
			Thresholds: config.Thresholds{
				Waiting:      config.Levels[int]{Warn: 2, Alarm: 4},
				LongestWait:  config.Levels[config.Duration]{Warn: config.Duration(30 * time.Second), Alarm: config.Duration(time.Minute)},
				ServiceLevel: config.Levels[float64]{Warn: 0.8, Alarm: 0.6},
				NotReady:     config.Levels[config.Duration]{Warn: config.Duration(10 * time.Minute)},
			}},
		{ID: "sales", Title: "Sales", Sources: []string{"uk"}, Queues: []string{"Sales"}, Tiles: []string{"waiting", "available"}},
	}
	return &cfg
}

func testDelta() model.Delta {
	return model.Delta{At: now, Membership: true,
		Agents: []model.Agent{
			{Key: model.Key{Source: "uk", ID: "ag64o.x@1"}, Name: "Marcus Lee", State: event.StateNotReady, Reason: "Lunch",
				Since: now.Add(-12 * time.Minute), Queues: []string{"q-sales"}},
			{Key: model.Key{Source: "uk", ID: "ag2"}, Name: "Aisha Khan", State: event.StateBusy, Since: now.Add(-95 * time.Second), Queues: []string{"q-support"}},
			{Key: model.Key{Source: "uk", ID: "ag3"}, Name: "Gone Home", State: event.StateLoggedOut, Since: now.Add(-time.Hour)},
			{Key: model.Key{Source: "ns", ID: "200"}, Name: "Tom <Walsh>", State: event.StateAvailable, Since: now.Add(-5 * time.Second)},
		},
		Queues: []model.Queue{
			{Key: model.Key{Source: "uk", ID: "q-sales"}, Name: "Sales", Waiting: 3, OldestWaiting: now.Add(-45 * time.Second),
				Offered: 120, Answered: 100, AnsweredInSL: 75, Abandoned: 10, Handled: 90, HandleTotal: 90 * 4 * time.Minute,
				Measures: map[string]string{"contactsQueueing": "3", "other": "x"}},
			{Key: model.Key{Source: "uk", ID: "q-support"}, Name: "Support"},
		},
		Sources: []model.SourceState{{Name: "uk", Status: event.StatusLive}, {Name: "ns", Status: event.StatusDegraded, Since: now.Add(-30 * time.Second), Detail: "connection reset"}},
	}
}

func newTestProjector(t *testing.T) (*Projector, map[string]*recorder) {
	t.Helper()
	cfg := testConfig()
	p := NewProjector(cfg, Options{Now: func() time.Time { return now }})
	recs := map[string]*recorder{}
	for _, b := range cfg.Boards {
		r := &recorder{}
		recs[b.ID] = r
		p.Attach(b.ID, r)
	}
	return p, recs
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	// One element per line makes diffs readable.
	got = regexp.MustCompile(`><`).ReplaceAll(got, []byte(">\n<"))
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from golden file; run go test ./internal/board -update and review the diff.\ngot:\n%s", name, got)
	}
}

func TestResetGolden(t *testing.T) {
	t.Parallel()
	p, _ := newTestProjector(t)
	p.Apply(testDelta())
	golden(t, "reset-floor", p.Reset("floor"))
	golden(t, "reset-sales", p.Reset("sales"))
}

func TestDeltaFragmentsGolden(t *testing.T) {
	t.Parallel()
	p, recs := newTestProjector(t)
	p.Apply(testDelta())
	recs["floor"].frames = nil
	// One agent changes state: only its card and the figures that changed.
	p.Apply(model.Delta{At: now, Agents: []model.Agent{{Key: model.Key{Source: "uk", ID: "ag2"}, Name: "Aisha Khan",
		State: event.StateWrapUp, Since: now, Queues: []string{"q-support"}}}})
	if len(recs["floor"].frames) != 1 {
		t.Fatalf("floor got %d frames, want 1", len(recs["floor"].frames))
	}
	golden(t, "delta-agent", recs["floor"].frames[0])
}

func TestMarksFollowTheContract(t *testing.T) {
	t.Parallel()
	p, _ := newTestProjector(t)
	p.Apply(testDelta())
	html := string(p.Reset("floor"))
	for _, want := range []string{
		`id="agent-uk-ag64o_x_1" class="agent s-not_ready" data-state="not_ready" data-since="2026-11-21T10:03:00Z"`,
		`id="queue-uk-q-sales"`, `data-waiting="3"`,
		`id="source-ns" class="source st-degraded" data-status="degraded"`,
		`ns is degraded: data as of 10:14:30`,
		`Tom &lt;Walsh&gt;`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("reset lacks %s", want)
		}
	}
	if strings.Contains(html, "Gone Home") {
		t.Error("logged-out agent shown")
	}
	// Each container of a reset is swapped out of band, by id, and the
	// board's generation with them.
	if n := strings.Count(html, `hx-swap-oob="true"`); n != 5 {
		t.Errorf("reset has %d out-of-band containers, want 5", n)
	}
	if !strings.Contains(html, `id="board-state" data-gen="`) {
		t.Error("reset lacks the board's generation")
	}
}

func TestBoardsFilterSourcesAndQueues(t *testing.T) {
	t.Parallel()
	p, _ := newTestProjector(t)
	p.Apply(testDelta())
	if a, q := p.Counts("floor"); a != 3 || q != 2 {
		t.Errorf("floor shows %d agents, %d queues; want 3, 2", a, q)
	}
	// Sales: source uk only, queue named Sales only, so only its agent.
	if a, q := p.Counts("sales"); a != 1 || q != 1 {
		t.Errorf("sales shows %d agents, %d queues; want 1, 1", a, q)
	}
	v, _ := p.View("sales")
	if len(v.Grid.Cards) != 1 || v.Grid.Cards[0].Name != "Marcus Lee" {
		t.Errorf("sales cards = %+v", v.Grid.Cards)
	}
}

func TestNothingChangedNothingSent(t *testing.T) {
	t.Parallel()
	p, recs := newTestProjector(t)
	p.Apply(testDelta())
	n := len(recs["sales"].frames)
	// A change on a queue and source the sales board does not show.
	p.Apply(model.Delta{At: now, Queues: []model.Queue{{Key: model.Key{Source: "uk", ID: "q-support"}, Name: "Support", Waiting: 1, OldestWaiting: now}}})
	if len(recs["sales"].frames) != n {
		t.Errorf("sales board got a frame for a queue it does not show: %s", recs["sales"].frames[n:])
	}
	if len(recs["floor"].frames) == 0 {
		t.Error("floor got nothing")
	}
}

// A change of membership goes out as single-card removals and inserts while
// the cards that stay keep their order; many changes, or a new day, send the
// whole grid.
func TestMembershipChangesAsSingleCards(t *testing.T) {
	p, recs := newTestProjector(t)
	p.Apply(testDelta()) // the first layout: the whole grid
	floor := recs["floor"]
	agent := func(src, id, name string, st event.State) model.Agent {
		return model.Agent{Key: model.Key{Source: src, ID: id}, Name: name, State: st, Since: now}
	}
	marcus := func(st event.State) model.Agent {
		a := agent("uk", "ag64o.x@1", "Marcus Lee", st)
		a.Queues = []string{"q-sales"}
		return a
	}
	many := model.Delta{At: now, Membership: true}
	for i := range maxGridChanges + 1 {
		many.Agents = append(many.Agents, agent("ns", fmt.Sprint(300+i), fmt.Sprint("Bulk ", 100+i), event.StateAvailable))
	}
	tests := []struct {
		name        string
		delta       model.Delta
		want, never []string
	}{
		{"a logout removes the card", model.Delta{At: now, Membership: true, Agents: []model.Agent{marcus(event.StateLoggedOut)}},
			[]string{`<div id="agent-uk-ag64o_x_1" hx-swap-oob="delete"></div>`}, []string{`id="agents"`, `<template`}},
		{"a login inserts it before the card that follows by name", model.Delta{At: now, Membership: true, Agents: []model.Agent{marcus(event.StateAvailable)}},
			[]string{`<template hx-swap-oob="beforebegin:#agent-ns-200"><div id="agent-uk-ag64o_x_1"`}, []string{`id="agents"`, `delete`}},
		{"the last by name goes at the end, with the other changed cards", model.Delta{At: now, Membership: true,
			Agents: []model.Agent{agent("ns", "201", "Zoe Last", event.StateBusy), agent("uk", "ag2", "Aisha Khan", event.StateWrapUp)}},
			[]string{`<template hx-swap-oob="beforeend:#agents"><div id="agent-ns-201"`, `<div id="agent-uk-ag2" class="agent s-wrap_up"`}, []string{`id="agents"`}},
		{"many at once send the whole grid", many, []string{`<section id="agents"`, `id="agent-ns-320"`}, []string{`<template`}},
		{"after that, single cards again", model.Delta{At: now, Membership: true, Agents: []model.Agent{agent("ns", "201", "Zoe Last", event.StateLoggedOut)}},
			[]string{`<div id="agent-ns-201" hx-swap-oob="delete">`}, []string{`id="agents"`}},
		{"a new day sends the whole grid", model.Delta{At: now, Rollover: true}, []string{`<section id="agents"`}, nil},
	}
	for _, tt := range tests {
		n := len(floor.frames)
		p.Apply(tt.delta)
		if len(floor.frames) != n+1 {
			t.Fatalf("%s: %d frames published, want 1", tt.name, len(floor.frames)-n)
		}
		got := string(floor.frames[n])
		for _, w := range tt.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: frame lacks %s\n%s", tt.name, w, got)
			}
		}
		for _, w := range tt.never {
			if strings.Contains(got, w) {
				t.Errorf("%s: frame has %s\n%s", tt.name, w, got)
			}
		}
	}
}

// New cards next to each other go in as one run before the card that stays
// after them: htmx resolves every target before swapping any.
func TestAdjacentNewCardsGoInAsOneRun(t *testing.T) {
	p, recs := newTestProjector(t)
	p.Apply(testDelta())
	floor := recs["floor"]
	n := len(floor.frames)
	p.Apply(model.Delta{At: now, Membership: true, Agents: []model.Agent{
		{Key: model.Key{Source: "ns", ID: "301"}, Name: "Bea One", State: event.StateAvailable, Since: now},
		{Key: model.Key{Source: "ns", ID: "302"}, Name: "Bea Two", State: event.StateAvailable, Since: now},
	}})
	got := string(floor.frames[n])
	want := `<template hx-swap-oob="beforebegin:#agent-uk-ag64o_x_1"><div id="agent-ns-301"`
	if !strings.Contains(got, want) || strings.Count(got, "<template") != 1 || !strings.Contains(got, `id="agent-ns-302"`) {
		t.Errorf("want one run of both new cards before Marcus Lee (%s)\n%s", want, got)
	}
	if i, j := strings.Index(got, "agent-ns-301"), strings.Index(got, "agent-ns-302"); i > j {
		t.Errorf("cards out of order\n%s", got)
	}
}

func TestMeasureValue(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		m    config.Measure
		raw  string
		want string
	}{
		{"known count", config.Measure{Name: "contactsQueueing"}, "3", "3"},
		{"known wait in seconds", config.Measure{Name: "oldestContactWaitTime"}, "75", "1:15"},
		{"milliseconds", config.Measure{Name: "x", Format: "duration_ms"}, "3723000", "1:02:03"},
		{"percent", config.Measure{Name: "x", Format: "percent"}, "86.4", "86%"},
		{"number with unit", config.Measure{Name: "x", Format: "number", Unit: "calls"}, "12", "12 calls"},
		{"fraction", config.Measure{Name: "x", Format: "number"}, "2.25", "2.2"},
		{"text as received", config.Measure{Name: "x"}, "READY", "READY"},
		{"a number that is not one", config.Measure{Name: "x", Format: "duration"}, "n/a", "n/a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := projection.MeasureValue(tt.m.Resolved(), tt.raw); got != tt.want {
				t.Errorf("MeasureValue(%+v, %q) = %q, want %q", tt.m, tt.raw, got, tt.want)
			}
		})
	}
}
