package database

import (
	"context"
	"strings"
	"time"
)

// Exec runs a statement on the write handle (benchmarks fill tables so).
func (db *DB) Exec(ctx context.Context, q string, args ...any) error {
	_, err := db.write.ExecContext(ctx, q, args...)
	return err
}

// PlanOfBoardDay returns the query plan of QueueIntervals for queues of
// source over [from, to). On PostgreSQL sequential scans are switched off
// for it, so the plan shows whether an index can answer at all (a small
// table is scanned otherwise).
func (db *DB) PlanOfBoardDay(ctx context.Context, source string, queues []string, from, to time.Time) (string, error) {
	args := []any{source, from.Unix(), to.Unix()}
	for _, q := range queues {
		args = append(args, q)
	}
	tx, err := db.read.BeginTx(ctx, nil)
	if err != nil {
		return "", err
	}
	defer tx.Rollback()
	explain := "EXPLAIN QUERY PLAN "
	if db.dialect == Postgres {
		explain = "EXPLAIN "
		if _, err := tx.ExecContext(ctx, "SET LOCAL enable_seqscan = off"); err != nil {
			return "", err
		}
	}
	rows, err := tx.QueryContext(ctx, explain+boardDaySQL(len(queues)), args...)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return "", err
		}
		if s, ok := vals[len(vals)-1].(string); ok {
			out = append(out, s)
		}
	}
	return strings.Join(out, "\n"), rows.Err()
}
