package templates

import (
	"bytes"
	"context"
	"strconv"
	"testing"
	"time"
)

func benchCard(i int) AgentCard {
	return AgentCard{DOMID: "agent-uk-ag" + strconv.Itoa(i), Name: "Agent Name " + strconv.Itoa(i), State: "not_ready",
		Label: "Not ready · Lunch", Since: time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC), Elapsed: "12:04",
		WarnSec: 600, AlarmSec: 1200, Queues: "Sales, Support"}
}

// BenchmarkAgentCard renders one agent card as an out-of-band fragment.
func BenchmarkAgentCard(b *testing.B) {
	var buf bytes.Buffer
	c := benchCard(1)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if err := AgentCardView(c, true).Render(ctx, &buf); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(buf.Len()), "bytes/card")
}

// BenchmarkAgentGrid1000 renders a grid of 1000 agent cards.
func BenchmarkAgentGrid1000(b *testing.B) {
	g := Grid{}
	for i := range 1000 {
		g.Cards = append(g.Cards, benchCard(i))
	}
	var buf bytes.Buffer
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if err := AgentGrid(g, true).Render(ctx, &buf); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(buf.Len()), "bytes/grid")
}
