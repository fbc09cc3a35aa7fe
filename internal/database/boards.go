package database

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// OriginDatabase marks a board made in the UI or the API (the file's boards
// have origin "file" and never reach the database).
const OriginDatabase = "database"

// Board is a board made in the UI or the API. Document is the board as a
// JSON object with the configuration file's keys; this package keeps it as
// given (the caller validates it with the configuration's rules).
type Board struct {
	ID        string
	Document  json.RawMessage
	Version   int64 // 1 when made, raised by every change
	CreatedAt time.Time
	CreatedBy string
	UpdatedAt time.Time
	UpdatedBy string
}

// Origin is always OriginDatabase.
func (Board) Origin() string { return OriginDatabase }

const boardColumns = `id, document, version, created_at, created_by, updated_at, updated_by`

func scanBoard(s interface{ Scan(...any) error }) (Board, error) {
	var b Board
	var doc string
	err := s.Scan(&b.ID, &doc, &b.Version, &b.CreatedAt, &b.CreatedBy, &b.UpdatedAt, &b.UpdatedBy)
	b.Document = json.RawMessage(doc)
	b.CreatedAt, b.UpdatedAt = b.CreatedAt.UTC(), b.UpdatedAt.UTC()
	return b, err
}

// Boards returns every board in the database, by id.
func (db *DB) Boards(ctx context.Context) ([]Board, error) {
	out, err := queryAll(ctx, db, `SELECT `+boardColumns+` FROM boards ORDER BY id`, scanBoard)
	if err != nil {
		return nil, fmt.Errorf("failed to list boards: %w", err)
	}
	return out, nil
}

// queryAll runs a read query and scans every row it returns with scan.
func queryAll[T any](ctx context.Context, db *DB, query string, scan func(interface{ Scan(...any) error }) (T, error)) ([]T, error) {
	rows, err := db.read.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// Board returns the board with id, or ErrNotFound.
func (db *DB) Board(ctx context.Context, id string) (Board, error) {
	return db.board(ctx, db.read, id)
}

type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func (db *DB) board(ctx context.Context, q queryer, id string) (Board, error) {
	b, err := scanBoard(q.QueryRowContext(ctx, `SELECT `+boardColumns+` FROM boards WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Board{}, fmt.Errorf("board %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return Board{}, fmt.Errorf("failed to read board %q: %w", id, err)
	}
	return b, nil
}

// CreateBoard stores a new board at version 1; ErrExists when the id is
// taken.
func (db *DB) CreateBoard(ctx context.Context, actor, id string, doc json.RawMessage) (Board, error) {
	now := db.stamp()
	b := Board{ID: id, Document: doc, Version: 1, CreatedAt: now, CreatedBy: actor, UpdatedAt: now, UpdatedBy: actor}
	err := db.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO boards (`+boardColumns+`) VALUES ($1, $2, 1, $3, $4, $3, $4)
			ON CONFLICT (id) DO NOTHING`, id, string(doc), now, actor)
		if err != nil {
			return fmt.Errorf("failed to create board %q: %w", id, err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return fmt.Errorf("board %q: %w", id, ErrExists)
		}
		return db.audit(ctx, tx, now, actor, "board.create", "board:"+id, nil, doc)
	})
	if err != nil {
		return Board{}, err
	}
	return b, nil
}

// UpdateBoard replaces the document of board id if it is still at version
// (the one the caller read). Otherwise it returns a *ConflictError (who
// changed it, when), or ErrNotFound.
func (db *DB) UpdateBoard(ctx context.Context, actor, id string, version int64, doc json.RawMessage) (Board, error) {
	now := db.stamp()
	var out Board
	err := db.tx(ctx, func(tx *sql.Tx) error {
		before, err := db.board(ctx, tx, id)
		if err != nil {
			return err
		}
		if before.Version != version {
			return &ConflictError{Target: "board " + id, Version: before.Version, By: before.UpdatedBy, At: before.UpdatedAt}
		}
		// The version is checked again by the UPDATE itself: another
		// process may have changed the row since the read above.
		res, err := tx.ExecContext(ctx, `UPDATE boards SET document = $1, version = version + 1, updated_at = $2, updated_by = $3
			WHERE id = $4 AND version = $5`, string(doc), now, actor, id, version)
		if err != nil {
			return fmt.Errorf("failed to update board %q: %w", id, err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			cur, err := db.board(ctx, tx, id)
			if err != nil {
				return err
			}
			return &ConflictError{Target: "board " + id, Version: cur.Version, By: cur.UpdatedBy, At: cur.UpdatedAt}
		}
		out = before
		out.Document, out.Version, out.UpdatedAt, out.UpdatedBy = doc, version+1, now, actor
		return db.audit(ctx, tx, now, actor, "board.update", "board:"+id, before.Document, doc)
	})
	if err != nil {
		return Board{}, err
	}
	return out, nil
}

// DeleteBoard deletes board id, with its ticker, and revokes its links.
// version 0 deletes whatever version is stored; another version is checked
// as by UpdateBoard.
func (db *DB) DeleteBoard(ctx context.Context, actor, id string, version int64) error {
	now := db.stamp()
	return db.tx(ctx, func(tx *sql.Tx) error {
		before, err := db.board(ctx, tx, id)
		if err != nil {
			return err
		}
		if version == 0 {
			version = before.Version
		} else if before.Version != version {
			return &ConflictError{Target: "board " + id, Version: before.Version, By: before.UpdatedBy, At: before.UpdatedAt}
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM boards WHERE id = $1 AND version = $2`, id, version)
		if err != nil {
			return fmt.Errorf("failed to delete board %q: %w", id, err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			cur, err := db.board(ctx, tx, id)
			if err != nil {
				return err
			}
			return &ConflictError{Target: "board " + id, Version: cur.Version, By: cur.UpdatedBy, At: cur.UpdatedAt}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE kiosk_links SET revoked_at = $1, revoked_by = $2
			WHERE board_id = $3 AND revoked_at IS NULL`, now, actor, id); err != nil {
			return fmt.Errorf("failed to revoke the links of board %q: %w", id, err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM tickers WHERE board_id = $1`, id); err != nil {
			return fmt.Errorf("failed to delete the ticker of board %q: %w", id, err)
		}
		return db.audit(ctx, tx, now, actor, "board.delete", "board:"+id, before.Document, nil)
	})
}
