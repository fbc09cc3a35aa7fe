package model

import (
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/wallboard/wallboard/internal/event"
)

// BenchmarkApply applies agent state changes round robin over 1000 agents
// (each a real change, with a unique event id to deduplicate).
func BenchmarkApply(b *testing.B) {
	m := New(Options{})
	now := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	ids := make([]string, 1000)
	for i := range ids {
		ids[i] = "ag" + strconv.Itoa(i)
		m.Apply(event.Event{Kind: event.AgentInfo, Source: "s", Agent: ids[i], Name: "Agent " + strconv.Itoa(i), Queues: []string{"q1"}}, now)
	}
	states := []event.State{event.StateAvailable, event.StateOffered, event.StateBusy, event.StateWrapUp}
	evs := make([]event.Event, 4096)
	for i := range evs {
		evs[i] = event.Event{Kind: event.AgentState, Source: "s", Agent: ids[i%len(ids)], State: states[i%len(states)]}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		e := evs[i%len(evs)]
		e.ID = strconv.Itoa(i)
		e.At = now.Add(time.Duration(i) * time.Millisecond)
		m.Apply(e, e.At)
		if i%1000 == 0 {
			m.TakeDirty()
		}
	}
}

// BenchmarkModelHeap10kAgents500Queues builds a model of 10,000 agents in
// 500 queues (each agent in two queues, with state, reason and a contact
// day of contacts) and reports its live heap in MB (target ≤ 50 MB).
func BenchmarkModelHeap10kAgents500Queues(b *testing.B) {
	for b.Loop() {
		b.StopTimer()
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		b.StartTimer()
		m := buildFloor(10000, 500)
		b.StopTimer()
		runtime.GC()
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "MB-heap")
		runtime.KeepAlive(m)
		b.StartTimer()
	}
}

func buildFloor(agents, queues int) *Model {
	m := New(Options{})
	now := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	for q := range queues {
		id := "q" + strconv.Itoa(q)
		m.Apply(event.Event{Kind: event.QueueInfo, Source: "s", Queue: id, Name: "Queue " + id}, now)
	}
	for a := range agents {
		id := "ag" + strconv.Itoa(a)
		qs := []string{"q" + strconv.Itoa(a%queues), "q" + strconv.Itoa((a+1)%queues)}
		m.Apply(event.Event{Kind: event.AgentInfo, Source: "s", ID: id + "/i", Agent: id, Name: "Agent Name " + id, Queues: qs}, now)
		m.Apply(event.Event{Kind: event.AgentState, Source: "s", ID: id + "/s", Agent: id, State: event.StateNotReady, Reason: "Lunch", At: now}, now)
		// a day's worth of finished contacts (20 per agent: 200,000), each
		// remembered so it is counted once; their event ids fill the
		// bounded deduplication memory as a long run does.
		for k := range 20 {
			c := "c" + id + "-" + strconv.Itoa(k)
			m.Apply(event.Event{Kind: event.ContactQueued, Source: "s", ID: c + "/q", Queue: qs[0], Interaction: c, At: now}, now)
			m.Apply(event.Event{Kind: event.ContactAnswered, Source: "s", ID: c + "/a", Agent: id, Queue: qs[0], Interaction: c, At: now.Add(5 * time.Second)}, now)
			m.Apply(event.Event{Kind: event.ContactEnded, Source: "s", ID: c + "/e", Agent: id, Queue: qs[0], Interaction: c, At: now.Add(time.Minute)}, now)
		}
	}
	for q := range queues {
		c := "w" + strconv.Itoa(q)
		m.Apply(event.Event{Kind: event.ContactQueued, Source: "s", ID: c, Queue: "q" + strconv.Itoa(q), Interaction: c, At: now}, now)
	}
	m.TakeDirty()
	return m
}
