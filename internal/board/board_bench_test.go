package board

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wallboard/wallboard/internal/event"
	"github.com/wallboard/wallboard/internal/model"
)

type discard struct{ n int }

func (d *discard) Publish(b []byte) { d.n += len(b) }

// floorDelta is a membership delta of n agents in 10 queues.
func floorDelta(n int) model.Delta {
	d := model.Delta{At: now, Membership: true, Sources: []model.SourceState{{Name: "uk", Status: event.StatusLive}, {Name: "ns", Status: event.StatusLive}}}
	for q := range 10 {
		d.Queues = append(d.Queues, model.Queue{Key: model.Key{Source: "uk", ID: "q" + strconv.Itoa(q)}, Name: "Queue " + strconv.Itoa(q),
			Waiting: q, OldestWaiting: now.Add(-time.Duration(q) * time.Second), Offered: 100, Answered: 90, AnsweredInSL: 80, Abandoned: 5,
			Handled: 85, HandleTotal: 85 * 3 * time.Minute})
	}
	states := []event.State{event.StateAvailable, event.StateBusy, event.StateNotReady, event.StateWrapUp, event.StateOffered}
	for i := range n {
		d.Agents = append(d.Agents, model.Agent{Key: model.Key{Source: "uk", ID: "ag" + strconv.Itoa(i)}, Name: "Agent Name " + strconv.Itoa(i),
			State: states[i%len(states)], Reason: "Lunch", Since: now.Add(-time.Duration(i) * time.Second), Queues: []string{"q" + strconv.Itoa(i%10)}})
	}
	return d
}

func benchProjector(b *testing.B, agents int) (*Projector, *discard) {
	b.Helper()
	cfg := testConfig()
	cfg.Boards = cfg.Boards[:1]
	p := NewProjector(cfg, Options{Now: func() time.Time { return now }})
	d := &discard{}
	p.Attach("floor", d)
	p.Apply(floorDelta(agents))
	return p, d
}

// BenchmarkReset1000Agents renders the full board (every container) for
// 1000 agents and 10 queues: what a reconnecting page gets (target ≤ 5 ms).
func BenchmarkReset1000Agents(b *testing.B) {
	p, _ := benchProjector(b, 1000)
	b.ReportAllocs()
	var n int
	for b.Loop() {
		n = len(p.Reset("floor"))
	}
	b.ReportMetric(float64(n), "bytes/reset")
}

// BenchmarkDelta20Agents renders one tick's fragment for 20 changed agents
// on a board of 1000 (200 changes/s at a 100 ms tick), KPI row included.
func BenchmarkDelta20Agents(b *testing.B) {
	p, d := benchProjector(b, 1000)
	full := floorDelta(1000)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		delta := model.Delta{At: now}
		for k := range 20 {
			a := full.Agents[(i*20+k)%len(full.Agents)]
			a.State, a.Reason = event.StateNotReady, "801="+strconv.Itoa(i)
			delta.Agents = append(delta.Agents, a)
		}
		d.n = 0
		p.Apply(delta)
	}
	b.ReportMetric(float64(d.n), "bytes/frame")
}

// BenchmarkDelta20AgentsEveryNameMode is BenchmarkDelta20Agents with the
// board's initials and none variants attached too (AllNameModes, as serve
// runs for TV links made in the browser): the price of those variants.
func BenchmarkDelta20AgentsEveryNameMode(b *testing.B) {
	cfg := testConfig()
	cfg.Boards = cfg.Boards[:1]
	p := NewProjector(cfg, Options{Now: func() time.Time { return now }, AllNameModes: true})
	d := &discard{}
	for _, s := range p.Streams() {
		if s.Def.ID == "floor" && !strings.HasSuffix(s.StreamID(), "console") {
			p.Attach(s.StreamID(), d)
		}
	}
	p.Apply(floorDelta(1000))
	full := floorDelta(1000)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		delta := model.Delta{At: now}
		for k := range 20 {
			a := full.Agents[(i*20+k)%len(full.Agents)]
			a.State, a.Reason = event.StateNotReady, "801="+strconv.Itoa(i)
			delta.Agents = append(delta.Agents, a)
		}
		d.n = 0
		p.Apply(delta)
	}
	b.ReportMetric(float64(d.n), "bytes/frame")
}
