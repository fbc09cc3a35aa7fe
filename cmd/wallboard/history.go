package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/wallboard/wallboard/internal/database"
	"github.com/wallboard/wallboard/internal/model"
)

// seedTrends gives the restored model today's closed intervals from the
// database, so the queues' service level through the day survives a
// restart. The model has not started: this runs before the loop does.
func seedTrends(db *database.DB, m *model.Model, loc *time.Location, now time.Time, log *slog.Logger) {
	if loc == nil {
		loc = time.UTC
	}
	y, mo, d := now.In(loc).Date()
	from := time.Date(y, mo, d, 0, 0, 0, 0, loc)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rows, err := db.QueueIntervals(ctx, database.IntervalFilter{From: from, To: now})
	if err != nil {
		log.Warn("today's intervals not read: the trends start afresh", "error", err)
		return
	}
	out := make([]model.QueueInterval, len(rows))
	for i, r := range rows {
		out[i] = model.QueueInterval{Key: model.Key{Source: r.Source, ID: r.Queue}, Start: r.Start, End: r.End,
			Offered: r.Offered, Answered: r.Answered, AnsweredInSL: r.AnsweredInSL, Abandoned: r.Abandoned,
			ShortAbandoned: r.ShortAbandoned, Handled: r.Handled, HandleTotal: r.HandleTotal, MaxWait: r.MaxWait,
			WaitingPeak: r.WaitingPeak, WaitingAvg: r.WaitingAvg, Complete: r.Complete}
	}
	m.SeedDay(out)
}
