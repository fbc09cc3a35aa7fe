package database

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// AuditEntry is one change: who made it, when, what and to what, and the
// thing before and after it (JSON; nil where it did not exist, and never a
// secret: no password hash, no token).
type AuditEntry struct {
	ID     int64
	At     time.Time
	Actor  string // "user:alice", "token:automation"
	Action string // "board.create", "link.revoke", …
	Target string // "board:floor", "link:floor/reception-tv", …
	Before json.RawMessage
	After  json.RawMessage
}

// audit writes e in the transaction of the change it records, so a change
// and its record are kept or lost together.
func (db *DB) audit(ctx context.Context, tx *sql.Tx, at time.Time, actor, action, target string, before, after any) error {
	b, err := auditJSON(before)
	if err != nil {
		return err
	}
	a, err := auditJSON(after)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO audit_log (at, actor, action, target, before_json, after_json)
		VALUES ($1, $2, $3, $4, $5, $6)`, at, actor, action, target, b, a); err != nil {
		return fmt.Errorf("failed to write the audit log: %w", err)
	}
	return nil
}

// auditJSON encodes v for the log; nil stays NULL, raw JSON is kept as is.
func auditJSON(v any) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case json.RawMessage:
		if x == nil {
			return nil, nil
		}
		return string(x), nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("failed to encode the audit record: %w", err)
	}
	return string(b), nil
}

// AuditFilter selects entries; zero fields match everything.
type AuditFilter struct {
	Actor  string
	Action string // exact, or a prefix ending in "." ("board." for every board action)
	Target string
	Since  time.Time // at or after
	Until  time.Time // before
	Before int64     // entries with an id below this (the next page)
	Limit  int       // default 100, at most 1000
}

// Audit returns the entries f selects, newest first.
func (db *DB) Audit(ctx context.Context, f AuditFilter) ([]AuditEntry, error) {
	var where []string
	var args []any
	arg := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if f.Actor != "" {
		arg("actor = $%d", f.Actor)
	}
	if strings.HasSuffix(f.Action, ".") {
		arg("substr(action, 1, "+fmt.Sprint(len(f.Action))+") = $%d", f.Action)
	} else if f.Action != "" {
		arg("action = $%d", f.Action)
	}
	if f.Target != "" {
		arg("target = $%d", f.Target)
	}
	if !f.Since.IsZero() {
		arg("at >= $%d", f.Since.UTC())
	}
	if !f.Until.IsZero() {
		arg("at < $%d", f.Until.UTC())
	}
	if f.Before > 0 {
		arg("id < $%d", f.Before)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 1000)
	q := `SELECT id, at, actor, action, target, before_json, after_json FROM audit_log`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += fmt.Sprintf(" ORDER BY id DESC LIMIT %d", limit)
	rows, err := db.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("failed to read the audit log: %w", err)
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var e AuditEntry
		var before, after sql.NullString
		if err := rows.Scan(&e.ID, &e.At, &e.Actor, &e.Action, &e.Target, &before, &after); err != nil {
			return nil, fmt.Errorf("failed to read the audit log: %w", err)
		}
		e.At = e.At.UTC()
		if before.Valid {
			e.Before = json.RawMessage(before.String)
		}
		if after.Valid {
			e.After = json.RawMessage(after.String)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("failed to read the audit log: %w", err)
	}
	return out, nil
}
