package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// QueueInterval is one queue's figures over one history interval.
type QueueInterval struct {
	Source, Queue  string
	Start, End     time.Time
	Offered        int
	Answered       int
	AnsweredInSL   int
	Abandoned      int // short abandons included
	ShortAbandoned int
	Handled        int
	HandleTotal    time.Duration // kept to the millisecond
	MaxWait        time.Duration // kept to the millisecond
	WaitingPeak    int
	WaitingAvg     float64
	Complete       bool
}

// AgentInterval is one agent's time per state over one history interval
// (kept to the millisecond).
type AgentInterval struct {
	Source, Agent                              string
	Start, End                                 time.Time
	Available, Offered, Busy, WrapUp, NotReady time.Duration
	Complete                                   bool
}

// QueueKey names a queue.
type QueueKey struct{ Source, Queue string }

// IntervalFilter says which queue intervals to read: those that start in
// [From, To), of Queues (nil: every queue; empty: none).
type IntervalFilter struct {
	From, To time.Time
	Queues   []QueueKey
	// Limit stops the read with ErrTooMany beyond that many rows (0: no
	// limit), so one request cannot hold a whole year in memory.
	Limit int
}

// ErrTooMany: a read matched more rows than its limit.
var ErrTooMany = errors.New("too many intervals: narrow the time range or the queues")

// maxInList bounds the queues named in one query.
const maxInList = 500

// greatest is the SQL of the larger of two values.
func (db *DB) greatest(a, b string) string {
	if db.dialect == Postgres {
		return "GREATEST(" + a + ", " + b + ")"
	}
	return "max(" + a + ", " + b + ")"
}

// SaveIntervals writes intervals in one transaction. An interval written
// again (a journal replayed after a restart closes it a second time) keeps,
// column by column, the larger of the two values: within one interval every
// figure only grows, so the write is idempotent and never loses what an
// earlier write of the same interval had.
func (db *DB) SaveIntervals(ctx context.Context, queues []QueueInterval, agents []AgentInterval) error {
	if len(queues) == 0 && len(agents) == 0 {
		return nil
	}
	g := func(col string) string { return col + " = " + db.greatest("queue_intervals."+col, "excluded."+col) }
	ga := func(col string) string { return col + " = " + db.greatest("agent_intervals."+col, "excluded."+col) }
	completeQ, completeA := g("complete"), ga("complete")
	if db.dialect == Postgres {
		completeQ, completeA = "complete = queue_intervals.complete OR excluded.complete", "complete = agent_intervals.complete OR excluded.complete"
	}
	qSQL := `INSERT INTO queue_intervals (source, queue, start_unix, end_unix, offered, answered, answered_in_sl, abandoned,
		short_abandoned, handled, handle_ms, max_wait_ms, waiting_peak, waiting_avg, complete)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
		ON CONFLICT (source, queue, start_unix) DO UPDATE SET ` + strings.Join([]string{g("end_unix"), g("offered"), g("answered"),
		g("answered_in_sl"), g("abandoned"), g("short_abandoned"), g("handled"), g("handle_ms"), g("max_wait_ms"), g("waiting_peak"),
		g("waiting_avg"), completeQ}, ", ")
	aSQL := `INSERT INTO agent_intervals (source, agent, start_unix, end_unix, available_ms, offered_ms, busy_ms, wrap_up_ms,
		not_ready_ms, complete) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		ON CONFLICT (source, agent, start_unix) DO UPDATE SET ` + strings.Join([]string{ga("end_unix"), ga("available_ms"),
		ga("offered_ms"), ga("busy_ms"), ga("wrap_up_ms"), ga("not_ready_ms"), completeA}, ", ")
	return db.tx(ctx, func(tx *sql.Tx) error {
		if len(queues) > 0 {
			st, err := tx.PrepareContext(ctx, qSQL)
			if err != nil {
				return fmt.Errorf("failed to save queue intervals: %w", err)
			}
			defer st.Close()
			for _, q := range queues {
				if _, err := st.ExecContext(ctx, q.Source, q.Queue, q.Start.Unix(), q.End.Unix(), q.Offered, q.Answered, q.AnsweredInSL,
					q.Abandoned, q.ShortAbandoned, q.Handled, q.HandleTotal.Milliseconds(), q.MaxWait.Milliseconds(), q.WaitingPeak,
					q.WaitingAvg, q.Complete); err != nil {
					return fmt.Errorf("failed to save the interval of queue %s/%s at %s: %w", q.Source, q.Queue, q.Start.UTC().Format(time.RFC3339), err)
				}
			}
		}
		if len(agents) > 0 {
			st, err := tx.PrepareContext(ctx, aSQL)
			if err != nil {
				return fmt.Errorf("failed to save agent intervals: %w", err)
			}
			defer st.Close()
			for _, a := range agents {
				if _, err := st.ExecContext(ctx, a.Source, a.Agent, a.Start.Unix(), a.End.Unix(), a.Available.Milliseconds(),
					a.Offered.Milliseconds(), a.Busy.Milliseconds(), a.WrapUp.Milliseconds(), a.NotReady.Milliseconds(), a.Complete); err != nil {
					return fmt.Errorf("failed to save the interval of agent %s/%s at %s: %w", a.Source, a.Agent, a.Start.UTC().Format(time.RFC3339), err)
				}
			}
		}
		return nil
	})
}

const queueIntervalCols = `source, queue, start_unix, end_unix, offered, answered, answered_in_sl, abandoned, short_abandoned,
	handled, handle_ms, max_wait_ms, waiting_peak, waiting_avg, complete`

// QueueIntervals reads the queue intervals f names, sorted by source, queue
// and start.
func (db *DB) QueueIntervals(ctx context.Context, f IntervalFilter) ([]QueueInterval, error) {
	from, to := f.From.Unix(), f.To.Unix()
	if f.Queues == nil {
		return db.readQueueIntervals(ctx, f.Limit, nil, `SELECT `+queueIntervalCols+` FROM queue_intervals
			WHERE start_unix >= $1 AND start_unix < $2 ORDER BY source, queue, start_unix`, from, to)
	}
	// One query per source and bounded list of queues: each is a range of
	// the primary key (source, queue, start_unix) per queue.
	bySource := map[string][]string{}
	for _, k := range f.Queues {
		bySource[k.Source] = append(bySource[k.Source], k.Queue)
	}
	sources := make([]string, 0, len(bySource))
	for s := range bySource {
		sources = append(sources, s)
	}
	sort.Strings(sources)
	var out []QueueInterval
	for _, s := range sources {
		qs := bySource[s]
		slices.Sort(qs)
		qs = slices.Compact(qs)
		for len(qs) > 0 {
			n := min(len(qs), maxInList)
			args := []any{s, from, to}
			for _, q := range qs[:n] {
				args = append(args, q)
			}
			qs = qs[n:]
			var err error
			out, err = db.readQueueIntervals(ctx, f.Limit, out, boardDaySQL(n), args...)
			if err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// boardDaySQL is the query of n queues of one source over a time range:
// arguments source, from, to and the n queue ids.
func boardDaySQL(n int) string {
	ph := make([]string, n)
	for i := range ph {
		ph[i] = fmt.Sprintf("$%d", i+4)
	}
	return `SELECT ` + queueIntervalCols + ` FROM queue_intervals
		WHERE source = $1 AND queue IN (` + strings.Join(ph, ", ") + `) AND start_unix >= $2 AND start_unix < $3
		ORDER BY queue, start_unix`
}

func (db *DB) readQueueIntervals(ctx context.Context, limit int, out []QueueInterval, query string, args ...any) ([]QueueInterval, error) {
	rows, err := db.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("failed to read queue intervals: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		if limit > 0 && len(out) >= limit {
			return nil, ErrTooMany
		}
		var q QueueInterval
		var start, end, handle, wait int64
		if err := rows.Scan(&q.Source, &q.Queue, &start, &end, &q.Offered, &q.Answered, &q.AnsweredInSL, &q.Abandoned,
			&q.ShortAbandoned, &q.Handled, &handle, &wait, &q.WaitingPeak, &q.WaitingAvg, &q.Complete); err != nil {
			return nil, fmt.Errorf("failed to read queue intervals: %w", err)
		}
		q.Start, q.End = time.Unix(start, 0).UTC(), time.Unix(end, 0).UTC()
		q.HandleTotal, q.MaxWait = time.Duration(handle)*time.Millisecond, time.Duration(wait)*time.Millisecond
		out = append(out, q)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("failed to read queue intervals: %w", err)
	}
	return out, nil
}

// AgentIntervals reads the agent intervals that start in [from, to), sorted
// by source, agent and start.
func (db *DB) AgentIntervals(ctx context.Context, from, to time.Time) ([]AgentInterval, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT source, agent, start_unix, end_unix, available_ms, offered_ms, busy_ms,
		wrap_up_ms, not_ready_ms, complete FROM agent_intervals WHERE start_unix >= $1 AND start_unix < $2
		ORDER BY source, agent, start_unix`, from.Unix(), to.Unix())
	if err != nil {
		return nil, fmt.Errorf("failed to read agent intervals: %w", err)
	}
	defer rows.Close()
	var out []AgentInterval
	for rows.Next() {
		var a AgentInterval
		var start, end int64
		var ms [5]int64
		if err := rows.Scan(&a.Source, &a.Agent, &start, &end, &ms[0], &ms[1], &ms[2], &ms[3], &ms[4], &a.Complete); err != nil {
			return nil, fmt.Errorf("failed to read agent intervals: %w", err)
		}
		a.Start, a.End = time.Unix(start, 0).UTC(), time.Unix(end, 0).UTC()
		d := func(i int) time.Duration { return time.Duration(ms[i]) * time.Millisecond }
		a.Available, a.Offered, a.Busy, a.WrapUp, a.NotReady = d(0), d(1), d(2), d(3), d(4)
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("failed to read agent intervals: %w", err)
	}
	return out, nil
}

// DeleteIntervalsBefore deletes the queue and agent intervals that start
// before t (retention: history_days) and returns how many rows went.
func (db *DB) DeleteIntervalsBefore(ctx context.Context, t time.Time) (int64, error) {
	var n int64
	err := db.tx(ctx, func(tx *sql.Tx) error {
		for _, table := range []string{"queue_intervals", "agent_intervals"} {
			res, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE start_unix < $1`, t.Unix())
			if err != nil {
				return fmt.Errorf("failed to delete old intervals from %s: %w", table, err)
			}
			k, _ := res.RowsAffected()
			n += k
		}
		return nil
	})
	return n, err
}
