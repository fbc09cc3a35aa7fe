package database

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Link is a kiosk (TV) link: /tv/{token} shows one board without sign-in.
// Only the SHA-256 of its token is stored; the token is shown once, when
// the link is made.
type Link struct {
	ID           int64
	Board        string
	Name         string
	Names        string // full, initials or none: how the TV shows agents' names
	CreatedAt    time.Time
	CreatedBy    string
	LastSeenAt   time.Time // zero: never opened
	LastSeenFrom string    // the address it was last opened from
	RevokedAt    time.Time // zero: live
	RevokedBy    string
}

// Revoked reports whether the link was revoked.
func (l Link) Revoked() bool { return !l.RevokedAt.IsZero() }

// linkAudit is what the audit log keeps of a link: never its token.
type linkAudit struct {
	Board string `json:"board"`
	Name  string `json:"name"`
	Names string `json:"names,omitempty"`
}

// NewLinkToken returns a new random kiosk token: 52 characters, 260 bits.
func NewLinkToken() string { return rand.Text() + rand.Text() }

// HashToken is the stored form of a kiosk token.
func HashToken(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

const linkColumns = `id, board_id, name, names, created_at, created_by, last_seen_at, last_seen_from, revoked_at, revoked_by`

func scanLink(s interface{ Scan(...any) error }) (Link, error) {
	var l Link
	var seen, revoked sql.NullTime
	err := s.Scan(&l.ID, &l.Board, &l.Name, &l.Names, &l.CreatedAt, &l.CreatedBy, &seen, &l.LastSeenFrom, &revoked, &l.RevokedBy)
	l.CreatedAt, l.LastSeenAt, l.RevokedAt = l.CreatedAt.UTC(), nullTime(seen), nullTime(revoked)
	return l, err
}

// CreateLink makes a link to board named name, showing names in full, and
// returns it with its token, which is not kept. ErrExists when the board
// has a live link of that name.
func (db *DB) CreateLink(ctx context.Context, actor, board, name string) (Link, string, error) {
	return db.CreateLinkNames(ctx, actor, board, name, "full")
}

// CreateLinkNames is CreateLink with the way the TV shows agents' names:
// full, initials or none (the caller checks it; the schema refuses others).
func (db *DB) CreateLinkNames(ctx context.Context, actor, board, name, names string) (Link, string, error) {
	token := NewLinkToken()
	now := db.stamp()
	l := Link{Board: board, Name: name, Names: names, CreatedAt: now, CreatedBy: actor}
	err := db.tx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO kiosk_links (board_id, name, names, token_sha256, created_at, created_by)
			VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING id`, board, name, names, HashToken(token), now, actor).Scan(&l.ID)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("link %q of board %q: %w", name, board, ErrExists)
		}
		if err != nil {
			return fmt.Errorf("failed to create link %q: %w", name, err)
		}
		return db.audit(ctx, tx, now, actor, "link.create", "link:"+board+"/"+name, nil, linkAudit{board, name, names})
	})
	if err != nil {
		return Link{}, "", err
	}
	return l, token, nil
}

// LinkByToken returns the link whose token this is: ErrNotFound for none,
// and the link with ErrRevoked for a revoked one (so a TV can say so).
func (db *DB) LinkByToken(ctx context.Context, token string) (Link, error) {
	l, err := scanLink(db.read.QueryRowContext(ctx, `SELECT `+linkColumns+` FROM kiosk_links WHERE token_sha256 = $1`, HashToken(token)))
	if errors.Is(err, sql.ErrNoRows) {
		return Link{}, fmt.Errorf("link: %w", ErrNotFound)
	}
	if err != nil {
		return Link{}, fmt.Errorf("failed to look up a link: %w", err)
	}
	if l.Revoked() {
		return l, fmt.Errorf("link %q of board %q: %w", l.Name, l.Board, ErrRevoked)
	}
	return l, nil
}

// Links returns board's live links, by name.
func (db *DB) Links(ctx context.Context, board string) ([]Link, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT `+linkColumns+` FROM kiosk_links
		WHERE board_id = $1 AND revoked_at IS NULL ORDER BY name`, board)
	if err != nil {
		return nil, fmt.Errorf("failed to list links: %w", err)
	}
	defer rows.Close()
	var out []Link
	for rows.Next() {
		l, err := scanLink(rows)
		if err != nil {
			return nil, fmt.Errorf("failed to list links: %w", err)
		}
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("failed to list links: %w", err)
	}
	return out, nil
}

// TouchLink records that link id was opened at from (not audited: it is
// not a change anyone made). Callers bound how often they call it.
func (db *DB) TouchLink(ctx context.Context, id int64, at time.Time, from string) error {
	if _, err := db.write.ExecContext(ctx, `UPDATE kiosk_links SET last_seen_at = $1, last_seen_from = $2 WHERE id = $3`,
		timeOrNull(at), from, id); err != nil {
		return fmt.Errorf("failed to record a link's visit: %w", err)
	}
	return nil
}

// RevokeLink revokes board's live link named name; ErrNotFound for none.
func (db *DB) RevokeLink(ctx context.Context, actor, board, name string) (Link, error) {
	now := db.stamp()
	var l Link
	err := db.tx(ctx, func(tx *sql.Tx) error {
		var err error
		l, err = scanLink(tx.QueryRowContext(ctx, `UPDATE kiosk_links SET revoked_at = $1, revoked_by = $2
			WHERE board_id = $3 AND name = $4 AND revoked_at IS NULL RETURNING `+linkColumns, now, actor, board, name))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("link %q of board %q: %w", name, board, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("failed to revoke link %q: %w", name, err)
		}
		return db.audit(ctx, tx, now, actor, "link.revoke", "link:"+board+"/"+name, linkAudit{board, name, l.Names}, nil)
	})
	return l, err
}

// LinkVisit is a TV link's latest visit: when, and from which address.
type LinkVisit struct {
	ID   int64
	At   time.Time
	From string
}

// TouchLinks records the latest visits of several links in one
// transaction (the server batches them, at most once a minute).
func (db *DB) TouchLinks(ctx context.Context, visits []LinkVisit) error {
	if len(visits) == 0 {
		return nil
	}
	return db.tx(ctx, func(tx *sql.Tx) error {
		for _, v := range visits {
			if _, err := tx.ExecContext(ctx, `UPDATE kiosk_links SET last_seen_at = $1, last_seen_from = $2 WHERE id = $3`,
				timeOrNull(v.At), v.From, v.ID); err != nil {
				return fmt.Errorf("failed to record a link's visit: %w", err)
			}
		}
		return nil
	})
}

// RevokedLinks returns those of ids whose link is revoked or gone (for
// ending the streams a revocation in another process left open).
func (db *DB) RevokedLinks(ctx context.Context, ids []int64) ([]int64, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	live := map[int64]bool{}
	const chunk = 500
	for start := 0; start < len(ids); start += chunk {
		part := ids[start:min(start+chunk, len(ids))]
		args := make([]any, len(part))
		marks := make([]string, len(part))
		for i, id := range part {
			args[i], marks[i] = id, fmt.Sprintf("$%d", i+1)
		}
		rows, err := db.read.QueryContext(ctx, `SELECT id FROM kiosk_links WHERE revoked_at IS NULL AND id IN (`+strings.Join(marks, ", ")+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("failed to check links: %w", err)
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, fmt.Errorf("failed to check links: %w", err)
			}
			live[id] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("failed to check links: %w", err)
		}
	}
	var out []int64
	for _, id := range ids {
		if !live[id] {
			out = append(out, id)
		}
	}
	return out, nil
}
