package database_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/wallboard/wallboard/internal/database"
	"github.com/wallboard/wallboard/internal/database/dbtest"
)

func TestIntervals(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	qi := func(source, queue string, minute, offered int) database.QueueInterval {
		s := t0.Add(time.Duration(minute) * time.Minute)
		return database.QueueInterval{Source: source, Queue: queue, Start: s, End: s.Add(15 * time.Minute), Offered: offered,
			Answered: offered - 1, AnsweredInSL: offered - 2, Abandoned: 1, ShortAbandoned: 1, Handled: offered - 1,
			HandleTotal: 1234567 * time.Millisecond, MaxWait: 42500 * time.Millisecond, WaitingPeak: 3, WaitingAvg: 1.25, Complete: true}
	}
	for _, c := range dbtest.Open(t) {
		t.Run(c.Name, func(t *testing.T) {
			db := c.DB
			rows := []database.QueueInterval{qi("b", "q1", 0, 5), qi("a", "q2", 0, 7), qi("a", "q1", 15, 9), qi("a", "q1", 0, 4), qi("a", "q1", 24*60, 1)}
			agents := []database.AgentInterval{{Source: "a", Agent: "ag1", Start: t0, End: t0.Add(15 * time.Minute),
				Available: 100 * time.Second, Busy: 800 * time.Second, Complete: true}}
			if err := db.SaveIntervals(ctx, rows, agents); err != nil {
				t.Fatal(err)
			}
			day := database.IntervalFilter{From: t0, To: t0.Add(24 * time.Hour)}
			got, err := db.QueueIntervals(ctx, day)
			if err != nil {
				t.Fatal(err)
			}
			want := []database.QueueInterval{rows[3], rows[2], rows[1], rows[0]} // sorted, the next day left out
			if !reflect.DeepEqual(got, want) {
				t.Errorf("all queues:\n got %+v\nwant %+v", got, want)
			}
			f := day
			f.Queues = []database.QueueKey{{"a", "q1"}, {"b", "q1"}, {"c", "q9"}}
			got, err = db.QueueIntervals(ctx, f)
			if err != nil || !reflect.DeepEqual(got, []database.QueueInterval{rows[3], rows[2], rows[0]}) {
				t.Errorf("queues a/q1, b/q1: %+v, %v", got, err)
			}
			f.Queues = []database.QueueKey{}
			if got, err = db.QueueIntervals(ctx, f); err != nil || len(got) != 0 {
				t.Errorf("no queues: %+v, %v", got, err)
			}
			f = day
			f.Limit = 3
			if _, err := db.QueueIntervals(ctx, f); !errors.Is(err, database.ErrTooMany) {
				t.Errorf("over the limit: %v", err)
			}

			// Written again with less (closed again after a restart that
			// restored an older snapshot): each figure keeps the larger.
			again := qi("a", "q1", 0, 2)
			again.MaxWait, again.WaitingAvg, again.Complete = time.Minute, 0.5, false
			if err := db.SaveIntervals(ctx, []database.QueueInterval{again}, nil); err != nil {
				t.Fatal(err)
			}
			f = day
			f.Queues = []database.QueueKey{{"a", "q1"}}
			got, _ = db.QueueIntervals(ctx, f)
			w := rows[3]
			w.MaxWait = time.Minute
			if len(got) != 2 || !reflect.DeepEqual(got[0], w) {
				t.Errorf("rewritten: %+v, want %+v", got, w)
			}

			ag, err := db.AgentIntervals(ctx, t0, t0.Add(time.Hour))
			if err != nil || !reflect.DeepEqual(ag, agents) {
				t.Errorf("agents %+v, %v", ag, err)
			}

			n, err := db.DeleteIntervalsBefore(ctx, t0.Add(15*time.Minute))
			if err != nil || n != 4 { // three queue rows and one agent row start at t0
				t.Errorf("deleted %d, %v", n, err)
			}
			got, _ = db.QueueIntervals(ctx, database.IntervalFilter{From: t0.Add(-time.Hour), To: t0.Add(48 * time.Hour)})
			if len(got) != 2 || !got[0].Start.Equal(t0.Add(15*time.Minute)) {
				t.Errorf("after retention: %+v", got)
			}
		})
	}
}
