// Package database keeps what people make and what must outlive the
// process: boards made in the UI or the API, kiosk links, local users,
// sessions, tickers, per-queue settings, alarm webhooks and the audit log.
//
// It runs on an embedded SQLite file ({state_dir}/wallboard.db, through the
// pure-Go modernc.org/sqlite: no cgo) by default, or on PostgreSQL when the
// configuration names one. Both have the same schema, migrated at Open by
// versioned SQL files. Nothing here assumes one process: every change that
// may race another is checked in SQL (a version column), never in memory.
//
// The database is never on the path of an event to a screen.
package database

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// Dialect is the kind of database behind a DB.
type Dialect string

// The dialects wallboard runs on.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// FileName is the SQLite database's file name in the state directory.
const FileName = "wallboard.db"

// busyTimeout is how long an SQLite statement waits for another writer
// (another process, such as `wallboard backup`) before it fails.
const busyTimeout = 10 * time.Second

var (
	// ErrNotFound: no such row (or a revoked link, see ErrRevoked).
	ErrNotFound = errors.New("not found")
	// ErrExists: a row with that key exists already.
	ErrExists = errors.New("already exists")
	// ErrConflict: the row changed since the version the caller read; the
	// error is a *ConflictError naming who changed it and when.
	ErrConflict = errors.New("changed since it was read")
	// ErrRevoked: the kiosk link was revoked.
	ErrRevoked = errors.New("revoked")
	// ErrSchemaTooNew: the database was migrated by a newer wallboard.
	ErrSchemaTooNew = errors.New("the database's schema is newer than this wallboard knows")
)

// ConflictError says who changed a row since the caller read it.
type ConflictError struct {
	Target  string    // "board floor"
	Version int64     // the version now stored
	By      string    // the actor of that change
	At      time.Time // when it was made
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("%s was changed by %s at %s (now version %d): reload it and make the change again",
		e.Target, e.By, e.At.UTC().Format(time.RFC3339), e.Version)
}

// Is makes errors.Is(err, ErrConflict) true.
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }

// Options say which database to open.
type Options struct {
	// URL is the configuration's `database`: empty for the embedded SQLite
	// file, or a postgres:// (postgresql://) URL.
	URL string
	// StateDir holds the SQLite file.
	StateDir string
	// Logger receives the migrations applied; nil: discard.
	Logger *slog.Logger
	// NoMigrate opens the database as it is, without creating or migrating
	// anything (the backup command). A SQLite file must then exist.
	NoMigrate bool
}

// DB is an open database.
type DB struct {
	dialect Dialect
	// write takes every change. On SQLite it is one connection (SQLite has
	// one writer at a time; queuing them here instead of in busy waits keeps
	// them fair); on PostgreSQL it is the same pool as read.
	write *sql.DB
	read  *sql.DB
	path  string // the SQLite file
	log   *slog.Logger
}

//go:embed migrations
var migrations embed.FS

// Open opens the database that o names and applies the migrations this
// binary has; a schema newer than those stops it with ErrSchemaTooNew.
func Open(ctx context.Context, o Options) (*DB, error) {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	db := &DB{log: log}
	switch {
	case o.URL == "":
		if err := db.openSQLite(o); err != nil {
			return nil, err
		}
	case IsPostgresURL(o.URL):
		if err := db.openPostgres(ctx, o.URL); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("failed to open the database: %q is not a postgres:// URL (leave database empty for the embedded SQLite file)", redactURL(o.URL))
	}
	if o.NoMigrate {
		return db, nil
	}
	if err := db.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// IsPostgresURL reports whether s names a PostgreSQL database.
func IsPostgresURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

func (db *DB) openSQLite(o Options) error {
	db.dialect = SQLite
	if o.StateDir == "" {
		return errors.New("failed to open the database: no state directory")
	}
	db.path = filepath.Join(o.StateDir, FileName)
	if o.NoMigrate {
		if _, err := os.Stat(db.path); err != nil {
			return fmt.Errorf("failed to open the database: %w", err)
		}
	} else {
		// The file holds password hashes and session data: only wallboard's
		// user may read it. SQLite gives the -wal and -shm files the main
		// file's mode.
		if err := os.MkdirAll(o.StateDir, 0o700); err != nil {
			return fmt.Errorf("failed to create the state directory: %w", err)
		}
		f, err := os.OpenFile(db.path, os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			return fmt.Errorf("failed to create the database file: %w", err)
		}
		f.Close()
		if err := os.Chmod(db.path, 0o600); err != nil {
			return fmt.Errorf("failed to restrict the database file to its owner: %w", err)
		}
	}
	dsn := func(extra string) string {
		q := url.Values{}
		q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()))
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "synchronous(FULL)") // a saved change survives a power cut; writes are few
		q.Add("_pragma", "foreign_keys(1)")
		q.Set("_time_format", "sqlite") // one sortable text format for every time
		if extra != "" {
			q.Set(extra, "immediate")
		}
		return "file:" + (&url.URL{Path: db.path}).EscapedPath() + "?" + q.Encode()
	}
	w, err := sql.Open("sqlite", dsn("_txlock")) // BEGIN IMMEDIATE: take the write lock up front, no upgrade deadlocks
	if err != nil {
		return fmt.Errorf("failed to open the database: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxIdleTime(0)
	r, err := sql.Open("sqlite", dsn(""))
	if err != nil {
		w.Close()
		return fmt.Errorf("failed to open the database: %w", err)
	}
	r.SetMaxOpenConns(4)
	db.write, db.read = w, r
	if err := w.Ping(); err != nil {
		db.Close()
		return fmt.Errorf("failed to open the database %s: %w", db.path, err)
	}
	return nil
}

func (db *DB) openPostgres(ctx context.Context, u string) error {
	db.dialect = Postgres
	p, err := sql.Open("pgx", u)
	if err != nil {
		return fmt.Errorf("failed to open the database %s: %w", redactURL(u), err)
	}
	p.SetMaxOpenConns(16)
	p.SetConnMaxIdleTime(5 * time.Minute)
	pctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := p.PingContext(pctx); err != nil {
		p.Close()
		return fmt.Errorf("failed to connect to the database %s: %w", redactURL(u), err)
	}
	db.write, db.read = p, p
	return nil
}

// redactURL drops the password from a database URL, for messages.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// Dialect returns the kind of database.
func (db *DB) Dialect() Dialect { return db.dialect }

// Path returns the SQLite file's path ("" on PostgreSQL).
func (db *DB) Path() string { return db.path }

// Close closes the database.
func (db *DB) Close() error {
	err := db.write.Close()
	if db.read != db.write {
		err = errors.Join(err, db.read.Close())
	}
	return err
}

func (db *DB) provider() (*goose.Provider, error) {
	sub, err := fs.Sub(migrations, "migrations/"+string(db.dialect))
	if err != nil {
		return nil, err
	}
	d := goose.DialectSQLite3
	opts := []goose.ProviderOption{goose.WithDisableGlobalRegistry(true)}
	if db.dialect == Postgres {
		d = goose.DialectPostgres
		// Replicas starting together: one migrates, the others wait.
		l, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithSessionLocker(l))
	}
	return goose.NewProvider(d, db.write, sub, opts...)
}

// SchemaVersion returns the version the database is at, and the newest
// version this binary knows.
func (db *DB) SchemaVersion(ctx context.Context) (current, known int64, err error) {
	p, err := db.provider()
	if err != nil {
		return 0, 0, fmt.Errorf("failed to read the migrations: %w", err)
	}
	src := p.ListSources()
	known = src[len(src)-1].Version
	current, err = p.GetDBVersion(ctx)
	if err != nil {
		return 0, known, fmt.Errorf("failed to read the database's schema version: %w", err)
	}
	return current, known, nil
}

func (db *DB) migrate(ctx context.Context) error {
	current, known, err := db.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	if current > known {
		return fmt.Errorf("%w: it is at version %d, this wallboard knows up to %d. A newer wallboard has upgraded it: run that version, or restore the backup taken before the upgrade (docs/operations.md)",
			ErrSchemaTooNew, current, known)
	}
	if current == known {
		return nil
	}
	p, err := db.provider()
	if err != nil {
		return err
	}
	res, err := p.Up(ctx)
	if err != nil {
		return fmt.Errorf("failed to migrate the database from version %d: %w", current, err)
	}
	for _, r := range res {
		db.log.Info("database migrated", "version", r.Source.Version, "file", r.Source.Path, "took", r.Duration)
	}
	return nil
}

// tx runs fn in one write transaction: committed when fn returns nil,
// rolled back otherwise.
func (db *DB) tx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("failed to begin a transaction: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("failed to commit: %w", err)
	}
	return nil
}

// stamp returns the time of a change: UTC, to the microsecond (what
// PostgreSQL keeps), so a time read back equals the one written.
func (db *DB) stamp() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// nullTime maps SQL NULL to the zero time.
func nullTime(t sql.NullTime) time.Time {
	if !t.Valid {
		return time.Time{}
	}
	return t.Time.UTC()
}

// timeOrNull maps the zero time to SQL NULL.
func timeOrNull(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Truncate(time.Microsecond)
}
