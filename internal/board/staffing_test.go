package board

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/wallboard/wallboard/internal/console"
	"github.com/wallboard/wallboard/internal/event"
	"github.com/wallboard/wallboard/internal/model"
)

// TestStaffingFollowsAgents: on a board with staffing: true, an agent who
// goes on a break re-sends the tile of the queue it serves (it has one
// agent fewer), and a change that leaves the count as it was sends nothing.
func TestStaffingFollowsAgents(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.Boards[0].Staffing = true
	p := NewProjector(cfg, Options{Now: func() time.Time { return now }})
	rec := &recorder{}
	p.Attach("floor", rec)
	p.Apply(testDelta())
	agent := func(st event.State) model.Delta {
		return model.Delta{At: now, Agents: []model.Agent{{Key: model.Key{Source: "uk", ID: "ag2"}, Name: "Aisha Khan", State: st,
			Since: now, Queues: []string{"q-support"}}}}
	}
	n := len(rec.frames)
	p.Apply(agent(event.StateNotReady))
	if len(rec.frames) != n+1 {
		t.Fatalf("%d frames", len(rec.frames)-n)
	}
	f := rec.frames[n]
	if !bytes.Contains(f, []byte(`id="queue-uk-q-support"`)) || !bytes.Contains(f, []byte("needs – · has 0")) {
		t.Errorf("the break did not re-send Support's tile with has 0:\n%s", f)
	}
	if bytes.Contains(f, []byte(`id="queue-uk-q-sales"`)) {
		t.Error("a queue the agent does not serve was re-sent")
	}
	// Busy to wrap-up: still there for the queue.
	p.Apply(agent(event.StateAvailable))
	p.Apply(agent(event.StateWrapUp))
	if last := rec.frames[len(rec.frames)-1]; bytes.Contains(last, []byte(`id="queue-uk-q-support"`)) {
		t.Errorf("a change that leaves the count re-sent the tile:\n%s", last)
	}
}

// TestStaffingInTheConsole: the console's queue panel says what the tile
// says.
func TestStaffingInTheConsole(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.Boards[0].Staffing = true
	p := NewProjector(cfg, Options{Now: func() time.Time { return now }})
	d := withWindows(testDelta())
	d.Queues[0].Windows[2].Handled, d.Queues[0].Windows[2].HandleTotal = 30, 30*3*time.Minute // 40 calls an hour, 3 minutes each
	p.Apply(d)
	html := string(p.Reset(console.StreamID("floor")))
	// 40 calls in an hour of 3 minutes: 2 Erlangs; 80% within 30 s needs 4
	// agents. Sales has none who are not on a break (Marcus is at lunch).
	if !strings.Contains(html, `data-testid="queue-staffing">Agents: needs 4 · has 0</p>`) {
		t.Errorf("console without staffing:\n%s", excerpt(html, "queue-staffing"))
	}
	if tile := string(p.Reset("floor")); !strings.Contains(tile, `<dt>Agents</dt><dd>needs 4 · has 0</dd>`) {
		t.Errorf("tile without staffing:\n%s", excerpt(tile, "staffing"))
	}
}

func excerpt(s, near string) string {
	i := strings.Index(s, near)
	if i < 0 {
		return s[:min(len(s), 400)]
	}
	return s[max(i-200, 0):min(i+200, len(s))]
}
