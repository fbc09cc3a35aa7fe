package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/wallboard/wallboard/internal/config"
	"github.com/wallboard/wallboard/internal/database"
)

// openDatabase opens the configuration's database (the SQLite file in
// state_dir, or PostgreSQL) and migrates it. A schema newer than this
// binary stops the start.
func openDatabase(ctx context.Context, cfg *config.Config, log *slog.Logger) (*database.DB, error) {
	db, err := database.Open(ctx, database.Options{URL: cfg.DatabaseURL(), StateDir: cfg.StateDir, Logger: log})
	if err != nil {
		return nil, err
	}
	where := db.Path()
	if where == "" {
		where = "postgresql"
	}
	log.Info("database open", "dialect", db.Dialect(), "at", where)
	return db, nil
}

// sessionCleanupInterval is how often expired sessions are deleted.
const sessionCleanupInterval = 5 * time.Minute

// startSessionCleanup deletes expired sessions from the database until the
// returned stop is called; stop waits for it, so the database can close.
func startSessionCleanup(db *database.DB, log *slog.Logger) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); db.Sessions().RunCleanup(ctx, sessionCleanupInterval, log) }()
	return func() { cancel(); <-done }
}

// backup is `wallboard backup --config FILE --to FILE`: a consistent copy of
// the SQLite database, taken while wallboard runs.
func backup(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "configuration file")
	to := fs.String("to", "", "the backup file to write (must not exist)")
	if err := fs.Parse(args); err != nil || *path == "" || *to == "" || fs.NArg() > 0 {
		fmt.Fprint(stderr, usage)
		return errUsage
	}
	cfg, err := loadConfig(*path, getenv, stderr)
	if err != nil {
		return err
	}
	if cfg.DatabaseURL() != "" {
		fmt.Fprintln(stderr, "the database is PostgreSQL: back it up with pg_dump, for example\n"+
			"  pg_dump --format=custom --file=wallboard.dump \"$DATABASE_URL\"\n"+
			"and restore it with pg_restore (docs/operations.md).")
		return exitError{1}
	}
	// As it is: a backup never creates or migrates a database.
	db, err := database.Open(ctx, database.Options{StateDir: cfg.StateDir, NoMigrate: true})
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("there is no database to back up in %s (wallboard makes it at its first start)", cfg.StateDir)
	}
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.Backup(ctx, *to); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backed up %s to %s\n", db.Path(), *to)
	return nil
}
