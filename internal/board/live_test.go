package board

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wallboard/wallboard/internal/config"
	"github.com/wallboard/wallboard/internal/console"
	"github.com/wallboard/wallboard/internal/model"
)

// topicRec is a Topic that records what the projector asks of it.
type topicRec struct {
	mu     sync.Mutex
	frames []string
	gens   []string
	ended  bool
}

func (r *topicRec) Publish(b []byte) {
	r.mu.Lock()
	r.frames = append(r.frames, string(b))
	r.mu.Unlock()
}
func (r *topicRec) Regenerate(gen string) {
	r.mu.Lock()
	r.gens = append(r.gens, gen)
	r.mu.Unlock()
}
func (r *topicRec) EndAfter(time.Duration) { r.mu.Lock(); r.ended = true; r.mu.Unlock() }

func (r *topicRec) state() (frames int, gens []string, ended bool, last string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.frames) > 0 {
		last = r.frames[len(r.frames)-1]
	}
	return len(r.frames), append([]string(nil), r.gens...), r.ended, last
}

// Boards of the database change while the projector runs: only the changed
// board's streams are regenerated (reset), the others get nothing, and
// readers always see one whole set.
func TestBoardsChangeWhileRunning(t *testing.T) {
	cfg := testConfig()
	team := config.Board{ID: "team", Title: "Team", Tiles: config.DefaultTiles, Langs: []string{"de"}}
	p := NewProjector(cfg, Options{Now: func() time.Time { return now }, Stored: []config.Board{team}})
	var mu sync.Mutex
	recs := map[string]*topicRec{}
	rec := func(id string) *topicRec {
		mu.Lock()
		defer mu.Unlock()
		if recs[id] == nil {
			recs[id] = &topicRec{}
		}
		return recs[id]
	}
	for _, b := range p.Streams() {
		p.Attach(b.StreamID(), rec(b.StreamID()))
	}
	var opened []string
	p.Open = func(b *Board) Topic { opened = append(opened, b.StreamID()); return rec(b.StreamID()) }
	ctx, cancel := context.WithCancel(context.Background())
	deltas := make(chan model.Delta)
	done := make(chan struct{})
	go func() { defer close(done); p.Run(ctx, deltas) }()
	defer func() { cancel(); <-done }()
	// barrier returns once Run has applied everything sent before it.
	barrier := func() {
		if err := p.RemoveBoard(ctx, "nosuch"); err != nil {
			t.Fatal(err)
		}
	}
	deltas <- testDelta()
	barrier()

	// Readers while the set changes (run with -race).
	stop := make(chan struct{})
	var readers sync.WaitGroup
	readers.Add(1)
	go func() {
		defer readers.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			for _, b := range p.Streams() {
				p.Reset(b.StreamID())
			}
			if _, ok := p.Board("floor"); !ok {
				t.Error("the file's board went missing")
				return
			}
			p.View("team")
			p.Console().View("team", "")
			p.SetTicker("team", "hello")
		}
	}()

	before := map[string]int{}
	for _, id := range []string{"floor", "sales", console.StreamID("floor")} {
		before[id], _, _, _ = rec(id).state()
	}
	changed := team
	changed.Thresholds.Waiting = config.Levels[int]{Warn: 1, Alarm: 2}
	if err := p.PutBoard(ctx, changed); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		stream  string
		regened bool
	}{
		{name: "the board", stream: "team", regened: true},
		{name: "its language variant", stream: VariantID("team", ".de"), regened: true},
		{name: "its console", stream: console.StreamID("team"), regened: true},
		{name: "another board", stream: "floor"},
		{name: "another board's console", stream: console.StreamID("floor")},
		{name: "a third board", stream: "sales"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, gens, ended, _ := rec(tt.stream).state()
			if ended {
				t.Error("stream ended")
			}
			if tt.regened != (len(gens) == 1) {
				t.Errorf("regenerated %v, want %v", gens, tt.regened)
			}
		})
	}
	close(stop)
	readers.Wait()
	for id, n := range before {
		if got, _, _, _ := rec(id).state(); got != n {
			t.Errorf("%s got %d frames from a change of another board", id, got-n)
		}
	}
	if b, ok := p.Board("team"); !ok || b.Thresholds.Waiting.Warn != 1 {
		t.Errorf("Board(team) = %+v, %v: want the new thresholds", b, ok)
	}

	// A language taken off: that variant's screens end (they reconnect to
	// the board's own stream), without being told the board was removed.
	noDE := changed
	noDE.Langs = nil
	if err := p.PutBoard(ctx, noDE); err != nil {
		t.Fatal(err)
	}
	if _, _, ended, last := rec(VariantID("team", ".de")).state(); !ended || strings.Contains(last, "removed") {
		t.Errorf("the dropped variant: ended %v, last frame %q", ended, last)
	}
	if p.HasStream(VariantID("team", ".de")) || !p.HasStream("team") {
		t.Error("HasStream does not follow the change")
	}

	// A new board: its streams are opened; boards stay file first, then by id.
	if err := p.PutBoard(ctx, config.Board{ID: "alpha", Title: "Alpha", Tiles: []string{"waiting"}}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(opened, " "), "alpha") {
		t.Errorf("opened %v, want alpha's streams", opened)
	}
	var ids []string
	for _, b := range p.Boards() {
		ids = append(ids, b.Def.ID)
	}
	if got := strings.Join(ids, ","); got != "floor,sales,alpha,team" {
		t.Errorf("boards %s, want floor,sales,alpha,team", got)
	}
	deltas <- testDelta()
	barrier()
	if n, _, _, _ := rec("alpha").state(); n == 0 {
		t.Error("the new board got no frames")
	}

	// Removed: its screens are told, their streams end; the others stay.
	if err := p.RemoveBoard(ctx, "team"); err != nil {
		t.Fatal(err)
	}
	if _, _, ended, last := rec("team").state(); !ended || !strings.Contains(last, "This board was removed.") {
		t.Errorf("team: ended %v, last frame %q", ended, last)
	}
	if _, ok := p.Board("team"); ok {
		t.Error("a removed board is still found")
	}
	if _, ok := p.Console().View("team", ""); ok {
		t.Error("a removed board's console is still found")
	}
	if _, _, ended, _ := rec("floor").state(); ended {
		t.Error("floor's streams ended")
	}
	for _, id := range []string{"floor", "nosuch"} {
		if err := p.RemoveBoard(ctx, id); id == "floor" && !errors.Is(err, ErrFileBoard) {
			t.Errorf("removing the file's board: %v, want ErrFileBoard", err)
		}
	}
	if err := p.PutBoard(ctx, config.Board{ID: "floor"}); !errors.Is(err, ErrFileBoard) {
		t.Errorf("changing the file's board: %v, want ErrFileBoard", err)
	}
}
