package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"
)

// User is a local account made in the UI or the API (the file's users stay
// in the file).
type User struct {
	Name         string
	PasswordHash string // bcrypt; never in the audit log
	Role         string // viewer | supervisor | admin
	Boards       []string
	DisabledAt   time.Time // zero: may sign in
	Version      int64
	CreatedAt    time.Time
	CreatedBy    string
	UpdatedAt    time.Time
	UpdatedBy    string
}

// Disabled reports whether the user may not sign in.
func (u User) Disabled() bool { return !u.DisabledAt.IsZero() }

// userAudit is what the audit log keeps of a user: no password hash.
type userAudit struct {
	Name     string   `json:"name"`
	Role     string   `json:"role"`
	Boards   []string `json:"boards"`
	Disabled bool     `json:"disabled"`
}

func (u User) audit() userAudit {
	return userAudit{Name: u.Name, Role: u.Role, Boards: u.Boards, Disabled: u.Disabled()}
}

const userColumns = `name, password_hash, role, disabled_at, version, created_at, created_by, updated_at, updated_by`

func scanUser(s interface{ Scan(...any) error }) (User, error) {
	var u User
	var disabled sql.NullTime
	err := s.Scan(&u.Name, &u.PasswordHash, &u.Role, &disabled, &u.Version, &u.CreatedAt, &u.CreatedBy, &u.UpdatedAt, &u.UpdatedBy)
	u.DisabledAt, u.CreatedAt, u.UpdatedAt = nullTime(disabled), u.CreatedAt.UTC(), u.UpdatedAt.UTC()
	return u, err
}

type querier interface {
	queryer
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func (db *DB) user(ctx context.Context, q querier, name string) (User, error) {
	u, err := scanUser(q.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE name = $1`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, fmt.Errorf("user %q: %w", name, ErrNotFound)
	}
	if err != nil {
		return User{}, fmt.Errorf("failed to read user %q: %w", name, err)
	}
	rows, err := q.QueryContext(ctx, `SELECT board_id FROM user_boards WHERE user_name = $1 ORDER BY board_id`, name)
	if err != nil {
		return User{}, fmt.Errorf("failed to read user %q's boards: %w", name, err)
	}
	defer rows.Close()
	for rows.Next() {
		var b string
		if err := rows.Scan(&b); err != nil {
			return User{}, fmt.Errorf("failed to read user %q's boards: %w", name, err)
		}
		u.Boards = append(u.Boards, b)
	}
	return u, rows.Err()
}

// User returns the user named name, or ErrNotFound.
func (db *DB) User(ctx context.Context, name string) (User, error) {
	return db.user(ctx, db.read, name)
}

// Users returns every user, by name.
func (db *DB) Users(ctx context.Context) ([]User, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT `+userColumns+` FROM users ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("failed to list users: %w", err)
	}
	var out []User
	idx := map[string]int{}
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("failed to list users: %w", err)
		}
		idx[u.Name] = len(out)
		out = append(out, u)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("failed to list users: %w", err)
	}
	rows, err = db.read.QueryContext(ctx, `SELECT user_name, board_id FROM user_boards ORDER BY user_name, board_id`)
	if err != nil {
		return nil, fmt.Errorf("failed to list users' boards: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var name, b string
		if err := rows.Scan(&name, &b); err != nil {
			return nil, fmt.Errorf("failed to list users' boards: %w", err)
		}
		if i, ok := idx[name]; ok { // a user made between the two reads is left out
			out[i].Boards = append(out[i].Boards, b)
		}
	}
	return out, rows.Err()
}

func setUserBoards(ctx context.Context, tx *sql.Tx, name string, boards []string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM user_boards WHERE user_name = $1`, name); err != nil {
		return fmt.Errorf("failed to set user %q's boards: %w", name, err)
	}
	for _, b := range boards {
		if _, err := tx.ExecContext(ctx, `INSERT INTO user_boards (user_name, board_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, name, b); err != nil {
			return fmt.Errorf("failed to set user %q's boards: %w", name, err)
		}
	}
	return nil
}

// CreateUser stores u (Name, PasswordHash, Role, Boards, DisabledAt) at
// version 1; ErrExists when the name is taken.
func (db *DB) CreateUser(ctx context.Context, actor string, u User) (User, error) {
	now := db.stamp()
	u.Version, u.CreatedAt, u.CreatedBy, u.UpdatedAt, u.UpdatedBy = 1, now, actor, now, actor
	u.Boards = sortedUnique(u.Boards)
	err := db.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO users (`+userColumns+`) VALUES ($1, $2, $3, $4, 1, $5, $6, $5, $6)
			ON CONFLICT (name) DO NOTHING`, u.Name, u.PasswordHash, u.Role, timeOrNull(u.DisabledAt), now, actor)
		if err != nil {
			return fmt.Errorf("failed to create user %q: %w", u.Name, err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return fmt.Errorf("user %q: %w", u.Name, ErrExists)
		}
		if err := setUserBoards(ctx, tx, u.Name, u.Boards); err != nil {
			return err
		}
		return db.audit(ctx, tx, now, actor, "user.create", "user:"+u.Name, nil, u.audit())
	})
	if err != nil {
		return User{}, err
	}
	u.DisabledAt = timeOrZero(u.DisabledAt)
	return u, nil
}

// UserChange is a change to a user; nil fields stay as they are.
type UserChange struct {
	Role         *string
	Boards       *[]string
	Disabled     *bool
	PasswordHash *string
}

// UpdateUser applies ch to user name if it is still at version; otherwise
// a *ConflictError, or ErrNotFound.
func (db *DB) UpdateUser(ctx context.Context, actor, name string, version int64, ch UserChange) (User, error) {
	now := db.stamp()
	var out User
	err := db.tx(ctx, func(tx *sql.Tx) error {
		before, err := db.user(ctx, tx, name)
		if err != nil {
			return err
		}
		conflict := func(cur User) error {
			return &ConflictError{Target: "user " + name, Version: cur.Version, By: cur.UpdatedBy, At: cur.UpdatedAt}
		}
		if before.Version != version {
			return conflict(before)
		}
		u := before
		action := "user.update"
		if ch.Role != nil {
			u.Role = *ch.Role
		}
		if ch.Boards != nil {
			u.Boards = sortedUnique(*ch.Boards)
		}
		if ch.Disabled != nil {
			switch {
			case *ch.Disabled && !u.Disabled():
				u.DisabledAt, action = now, "user.disable"
			case !*ch.Disabled && u.Disabled():
				u.DisabledAt, action = time.Time{}, "user.enable"
			}
		}
		if ch.PasswordHash != nil {
			u.PasswordHash, action = *ch.PasswordHash, "user.password"
		}
		u.Version, u.UpdatedAt, u.UpdatedBy = version+1, now, actor
		res, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = $1, role = $2, disabled_at = $3, version = version + 1,
			updated_at = $4, updated_by = $5 WHERE name = $6 AND version = $7`,
			u.PasswordHash, u.Role, timeOrNull(u.DisabledAt), now, actor, name, version)
		if err != nil {
			return fmt.Errorf("failed to update user %q: %w", name, err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			cur, err := db.user(ctx, tx, name)
			if err != nil {
				return err
			}
			return conflict(cur)
		}
		if ch.Boards != nil {
			if err := setUserBoards(ctx, tx, name, u.Boards); err != nil {
				return err
			}
		}
		out = u
		return db.audit(ctx, tx, now, actor, action, "user:"+name, before.audit(), u.audit())
	})
	if err != nil {
		return User{}, err
	}
	return out, nil
}

// DeleteUser deletes user name (and their board list); ErrNotFound for none.
func (db *DB) DeleteUser(ctx context.Context, actor, name string) error {
	now := db.stamp()
	return db.tx(ctx, func(tx *sql.Tx) error {
		before, err := db.user(ctx, tx, name)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM users WHERE name = $1`, name); err != nil {
			return fmt.Errorf("failed to delete user %q: %w", name, err)
		}
		return db.audit(ctx, tx, now, actor, "user.delete", "user:"+name, before.audit(), nil)
	})
}

func sortedUnique(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	out := slices.Clone(s)
	slices.Sort(out)
	return slices.Compact(out)
}

func timeOrZero(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC().Truncate(time.Microsecond)
}
