package database

import (
	"context"
	"errors"
	"fmt"
	"os"
)

// ErrBackupPostgres: Backup only copies the embedded SQLite file; a
// PostgreSQL database is backed up with its own tools.
var ErrBackupPostgres = errors.New("the database is PostgreSQL: back it up with pg_dump (see docs/operations.md)")

// Backup writes a consistent copy of the SQLite database to path while it
// is in use (VACUUM INTO: one read transaction, so a copy never holds half
// a change). path must not exist; the copy is made readable by its owner
// only, like the database.
func (db *DB) Backup(ctx context.Context, path string) error {
	if db.dialect != SQLite {
		return ErrBackupPostgres
	}
	// Made first, empty and 0600, so the copy never exists with a wider
	// mode; VACUUM INTO accepts an empty file.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("failed to create the backup file (it must not exist): %w", err)
	}
	f.Close()
	if _, err := db.read.ExecContext(ctx, `VACUUM INTO $1`, path); err != nil {
		os.Remove(path)
		return fmt.Errorf("failed to back up the database: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		return fmt.Errorf("failed to restrict the backup to its owner: %w", err)
	}
	return nil
}
