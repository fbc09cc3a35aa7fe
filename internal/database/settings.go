package database

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Ticker is a board's ticker message, set by a supervisor.
type Ticker struct {
	Board     string
	Message   string
	Version   int64
	UpdatedAt time.Time
	UpdatedBy string
}

// Tickers returns every board's ticker, by board.
func (db *DB) Tickers(ctx context.Context) ([]Ticker, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT board_id, message, version, updated_at, updated_by FROM tickers ORDER BY board_id`)
	if err != nil {
		return nil, fmt.Errorf("failed to list tickers: %w", err)
	}
	defer rows.Close()
	var out []Ticker
	for rows.Next() {
		var t Ticker
		if err := rows.Scan(&t.Board, &t.Message, &t.Version, &t.UpdatedAt, &t.UpdatedBy); err != nil {
			return nil, fmt.Errorf("failed to list tickers: %w", err)
		}
		t.UpdatedAt = t.UpdatedAt.UTC()
		out = append(out, t)
	}
	return out, rows.Err()
}

// SetTicker sets board's ticker message ("" clears it). The last one set
// wins: a ticker is a message of the moment, not a document to merge.
func (db *DB) SetTicker(ctx context.Context, actor, board, message string) (Ticker, error) {
	now := db.stamp()
	t := Ticker{Board: board, Message: message, UpdatedAt: now, UpdatedBy: actor}
	err := db.tx(ctx, func(tx *sql.Tx) error {
		var before sql.NullString
		err := tx.QueryRowContext(ctx, `SELECT message FROM tickers WHERE board_id = $1`, board).Scan(&before)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("failed to read board %q's ticker: %w", board, err)
		}
		if err := tx.QueryRowContext(ctx, `INSERT INTO tickers (board_id, message, version, updated_at, updated_by)
			VALUES ($1, $2, 1, $3, $4)
			ON CONFLICT (board_id) DO UPDATE SET message = excluded.message, version = tickers.version + 1,
				updated_at = excluded.updated_at, updated_by = excluded.updated_by
			RETURNING version`, board, message, now, actor).Scan(&t.Version); err != nil {
			return fmt.Errorf("failed to set board %q's ticker: %w", board, err)
		}
		var b any
		if before.Valid {
			b = map[string]string{"message": before.String}
		}
		return db.audit(ctx, tx, now, actor, "ticker.set", "board:"+board, b, map[string]string{"message": message})
	})
	if err != nil {
		return Ticker{}, err
	}
	return t, nil
}

// QueueSetting is one queue's settings made in the UI or the API. Document
// is a JSON object with the file's queue_settings keys.
type QueueSetting struct {
	Source    string // "" = the queue of that id or name in any source
	Queue     string
	Document  json.RawMessage
	Version   int64
	UpdatedAt time.Time
	UpdatedBy string
}

func (q QueueSetting) target() string {
	if q.Source == "" {
		return "queue:" + q.Queue
	}
	return "queue:" + q.Source + "/" + q.Queue
}

// QueueSettings returns every queue's settings, by source and queue.
func (db *DB) QueueSettings(ctx context.Context) ([]QueueSetting, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT source, queue, document, version, updated_at, updated_by
		FROM queue_settings ORDER BY source, queue`)
	if err != nil {
		return nil, fmt.Errorf("failed to list queue settings: %w", err)
	}
	defer rows.Close()
	var out []QueueSetting
	for rows.Next() {
		var q QueueSetting
		var doc string
		if err := rows.Scan(&q.Source, &q.Queue, &doc, &q.Version, &q.UpdatedAt, &q.UpdatedBy); err != nil {
			return nil, fmt.Errorf("failed to list queue settings: %w", err)
		}
		q.Document, q.UpdatedAt = json.RawMessage(doc), q.UpdatedAt.UTC()
		out = append(out, q)
	}
	return out, rows.Err()
}

// PutQueueSetting stores the settings of source's queue. version 0 makes
// them (ErrExists if there are some); another version replaces them if it
// is still the stored one (else a *ConflictError).
func (db *DB) PutQueueSetting(ctx context.Context, actor, source, queue string, version int64, doc json.RawMessage) (QueueSetting, error) {
	now := db.stamp()
	q := QueueSetting{Source: source, Queue: queue, Document: doc, Version: version + 1, UpdatedAt: now, UpdatedBy: actor}
	err := db.tx(ctx, func(tx *sql.Tx) error {
		var before QueueSetting
		var bdoc string
		err := tx.QueryRowContext(ctx, `SELECT document, version, updated_at, updated_by FROM queue_settings
			WHERE source = $1 AND queue = $2`, source, queue).Scan(&bdoc, &before.Version, &before.UpdatedAt, &before.UpdatedBy)
		switch {
		case errors.Is(err, sql.ErrNoRows) && version == 0:
		case errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("%s: %w", q.target(), ErrNotFound)
		case err != nil:
			return fmt.Errorf("failed to read %s: %w", q.target(), err)
		case version == 0:
			return fmt.Errorf("%s: %w", q.target(), ErrExists)
		case before.Version != version:
			return &ConflictError{Target: q.target(), Version: before.Version, By: before.UpdatedBy, At: before.UpdatedAt.UTC()}
		}
		var res sql.Result
		if version == 0 {
			res, err = tx.ExecContext(ctx, `INSERT INTO queue_settings (source, queue, document, version, updated_at, updated_by)
				VALUES ($1, $2, $3, 1, $4, $5) ON CONFLICT DO NOTHING`, source, queue, string(doc), now, actor)
		} else {
			res, err = tx.ExecContext(ctx, `UPDATE queue_settings SET document = $1, version = version + 1, updated_at = $2, updated_by = $3
				WHERE source = $4 AND queue = $5 AND version = $6`, string(doc), now, actor, source, queue, version)
		}
		if err != nil {
			return fmt.Errorf("failed to store %s: %w", q.target(), err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			// Another process got there between the read and the write.
			return &ConflictError{Target: q.target(), Version: version + 1, By: "another change", At: now}
		}
		var b json.RawMessage
		if bdoc != "" {
			b = json.RawMessage(bdoc)
		}
		action := "queue_setting.update"
		if version == 0 {
			action = "queue_setting.create"
		}
		return db.audit(ctx, tx, now, actor, action, q.target(), b, doc)
	})
	if err != nil {
		return QueueSetting{}, err
	}
	return q, nil
}

// DeleteQueueSetting deletes source's queue's settings; ErrNotFound for none.
func (db *DB) DeleteQueueSetting(ctx context.Context, actor, source, queue string) error {
	now := db.stamp()
	q := QueueSetting{Source: source, Queue: queue}
	return db.tx(ctx, func(tx *sql.Tx) error {
		var doc string
		err := tx.QueryRowContext(ctx, `DELETE FROM queue_settings WHERE source = $1 AND queue = $2 RETURNING document`, source, queue).Scan(&doc)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%s: %w", q.target(), ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("failed to delete %s: %w", q.target(), err)
		}
		return db.audit(ctx, tx, now, actor, "queue_setting.delete", q.target(), json.RawMessage(doc), nil)
	})
}

// Webhook is an alarm webhook made in the UI or the API. Document is a JSON
// object with the file's alerts.webhook keys; its header values (which
// may be credentials) are kept, but never written to the audit log.
type Webhook struct {
	Name      string
	Document  json.RawMessage
	Version   int64
	CreatedAt time.Time
	CreatedBy string
	UpdatedAt time.Time
	UpdatedBy string
}

const webhookColumns = `name, document, version, created_at, created_by, updated_at, updated_by`

func scanWebhook(s interface{ Scan(...any) error }) (Webhook, error) {
	var w Webhook
	var doc string
	err := s.Scan(&w.Name, &doc, &w.Version, &w.CreatedAt, &w.CreatedBy, &w.UpdatedAt, &w.UpdatedBy)
	w.Document, w.CreatedAt, w.UpdatedAt = json.RawMessage(doc), w.CreatedAt.UTC(), w.UpdatedAt.UTC()
	return w, err
}

// Webhooks returns every alarm webhook, by name.
func (db *DB) Webhooks(ctx context.Context) ([]Webhook, error) {
	out, err := queryAll(ctx, db, `SELECT `+webhookColumns+` FROM alarm_webhooks ORDER BY name`, scanWebhook)
	if err != nil {
		return nil, fmt.Errorf("failed to list webhooks: %w", err)
	}
	return out, nil
}

// PutWebhook stores the webhook named name: version 0 makes it (ErrExists
// if the name is taken); another version replaces it if it is still the
// stored one (else a *ConflictError).
func (db *DB) PutWebhook(ctx context.Context, actor, name string, version int64, doc json.RawMessage) (Webhook, error) {
	now := db.stamp()
	target := "webhook:" + name
	var out Webhook
	err := db.tx(ctx, func(tx *sql.Tx) error {
		before, err := scanWebhook(tx.QueryRowContext(ctx, `SELECT `+webhookColumns+` FROM alarm_webhooks WHERE name = $1`, name))
		switch {
		case errors.Is(err, sql.ErrNoRows) && version == 0:
			before = Webhook{}
		case errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("%s: %w", target, ErrNotFound)
		case err != nil:
			return fmt.Errorf("failed to read %s: %w", target, err)
		case version == 0:
			return fmt.Errorf("%s: %w", target, ErrExists)
		case before.Version != version:
			return &ConflictError{Target: target, Version: before.Version, By: before.UpdatedBy, At: before.UpdatedAt}
		}
		var res sql.Result
		if version == 0 {
			out = Webhook{Name: name, Document: doc, Version: 1, CreatedAt: now, CreatedBy: actor, UpdatedAt: now, UpdatedBy: actor}
			res, err = tx.ExecContext(ctx, `INSERT INTO alarm_webhooks (`+webhookColumns+`) VALUES ($1, $2, 1, $3, $4, $3, $4)
				ON CONFLICT DO NOTHING`, name, string(doc), now, actor)
		} else {
			out = before
			out.Document, out.Version, out.UpdatedAt, out.UpdatedBy = doc, version+1, now, actor
			res, err = tx.ExecContext(ctx, `UPDATE alarm_webhooks SET document = $1, version = version + 1, updated_at = $2, updated_by = $3
				WHERE name = $4 AND version = $5`, string(doc), now, actor, name, version)
		}
		if err != nil {
			return fmt.Errorf("failed to store %s: %w", target, err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return &ConflictError{Target: target, Version: version + 1, By: "another change", At: now}
		}
		action := "webhook.update"
		if version == 0 {
			action = "webhook.create"
		}
		return db.audit(ctx, tx, now, actor, action, target, redactHeaders(before.Document), redactHeaders(doc))
	})
	if err != nil {
		return Webhook{}, err
	}
	return out, nil
}

// DeleteWebhook deletes the webhook named name; ErrNotFound for none.
func (db *DB) DeleteWebhook(ctx context.Context, actor, name string) error {
	now := db.stamp()
	target := "webhook:" + name
	return db.tx(ctx, func(tx *sql.Tx) error {
		var doc string
		err := tx.QueryRowContext(ctx, `DELETE FROM alarm_webhooks WHERE name = $1 RETURNING document`, name).Scan(&doc)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%s: %w", target, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("failed to delete %s: %w", target, err)
		}
		return db.audit(ctx, tx, now, actor, "webhook.delete", target, redactHeaders(json.RawMessage(doc)), nil)
	})
}

// redactHeaders replaces the values of a webhook document's headers with
// "[redacted]", for the audit log.
func redactHeaders(doc json.RawMessage) json.RawMessage {
	if len(doc) == 0 {
		return nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(doc, &m); err != nil {
		return json.RawMessage(`{"unreadable":true}`)
	}
	var h map[string]json.RawMessage
	if raw, ok := m["headers"]; ok && json.Unmarshal(raw, &h) == nil {
		for k := range h {
			h[k] = json.RawMessage(`"[redacted]"`)
		}
		m["headers"], _ = json.Marshal(h)
	}
	out, _ := json.Marshal(m)
	return out
}
