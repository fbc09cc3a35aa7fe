package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/alexedwards/scs/v2"
)

// SessionStore keeps alexedwards/scs sessions in the database, so a restart
// signs nobody out and replicas share them. (scs's own postgresstore is for
// PostgreSQL alone and its sqlite3store needs cgo; this one is the same few
// statements for both.) It starts no goroutine: run RunCleanup to delete
// expired sessions.
type SessionStore struct {
	db *DB
}

var (
	_ scs.CtxStore         = (*SessionStore)(nil)
	_ scs.IterableCtxStore = (*SessionStore)(nil)
	_ scs.IterableStore    = (*SessionStore)(nil)
)

// Sessions returns the session store of db.
func (db *DB) Sessions() *SessionStore { return &SessionStore{db: db} }

// FindCtx returns the data of an unexpired session.
func (s *SessionStore) FindCtx(ctx context.Context, token string) ([]byte, bool, error) {
	var b []byte
	err := s.db.read.QueryRowContext(ctx, `SELECT data FROM sessions WHERE token = $1 AND expiry > $2`, token, s.db.stamp()).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("failed to read a session: %w", err)
	}
	return b, true, nil
}

// CommitCtx stores a session's data until expiry.
func (s *SessionStore) CommitCtx(ctx context.Context, token string, b []byte, expiry time.Time) error {
	if _, err := s.db.write.ExecContext(ctx, `INSERT INTO sessions (token, data, expiry) VALUES ($1, $2, $3)
		ON CONFLICT (token) DO UPDATE SET data = excluded.data, expiry = excluded.expiry`,
		token, b, expiry.UTC().Truncate(time.Microsecond)); err != nil {
		return fmt.Errorf("failed to store a session: %w", err)
	}
	return nil
}

// DeleteCtx deletes a session; deleting a missing one is no error.
func (s *SessionStore) DeleteCtx(ctx context.Context, token string) error {
	if _, err := s.db.write.ExecContext(ctx, `DELETE FROM sessions WHERE token = $1`, token); err != nil {
		return fmt.Errorf("failed to delete a session: %w", err)
	}
	return nil
}

// AllCtx returns every unexpired session by token.
func (s *SessionStore) AllCtx(ctx context.Context) (map[string][]byte, error) {
	rows, err := s.db.read.QueryContext(ctx, `SELECT token, data FROM sessions WHERE expiry > $1`, s.db.stamp())
	if err != nil {
		return nil, fmt.Errorf("failed to list sessions: %w", err)
	}
	defer rows.Close()
	out := map[string][]byte{}
	for rows.Next() {
		var t string
		var b []byte
		if err := rows.Scan(&t, &b); err != nil {
			return nil, fmt.Errorf("failed to list sessions: %w", err)
		}
		out[t] = b
	}
	return out, rows.Err()
}

// Find, Commit, Delete and All are the context-free forms scs also asks for.
func (s *SessionStore) Find(token string) ([]byte, bool, error) {
	return s.FindCtx(context.Background(), token)
}

// Commit: see CommitCtx.
func (s *SessionStore) Commit(token string, b []byte, expiry time.Time) error {
	return s.CommitCtx(context.Background(), token, b, expiry)
}

// Delete: see DeleteCtx.
func (s *SessionStore) Delete(token string) error { return s.DeleteCtx(context.Background(), token) }

// All: see AllCtx.
func (s *SessionStore) All() (map[string][]byte, error) { return s.AllCtx(context.Background()) }

// DeleteExpired deletes the sessions that have expired and returns how many.
func (s *SessionStore) DeleteExpired(ctx context.Context) (int64, error) {
	res, err := s.db.write.ExecContext(ctx, `DELETE FROM sessions WHERE expiry <= $1`, s.db.stamp())
	if err != nil {
		return 0, fmt.Errorf("failed to delete expired sessions: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// RunCleanup deletes expired sessions every interval until ctx ends.
func (s *SessionStore) RunCleanup(ctx context.Context, interval time.Duration, log *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := s.DeleteExpired(ctx); err != nil && ctx.Err() == nil && log != nil {
				log.Warn("session cleanup", "error", err)
			}
		}
	}
}
