package database_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/wallboard/wallboard/internal/database"
	"github.com/wallboard/wallboard/internal/database/dbtest"
)

// A backup taken while the database is open, restored as the docs say
// (copied back as {state_dir}/wallboard.db), has what was there.
func TestBackupAndRestore(t *testing.T) {
	ctx := context.Background()
	for _, c := range dbtest.Open(t) {
		t.Run(c.Name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "backup.db")
			if c.URL != "" {
				if err := c.DB.Backup(ctx, out); !errors.Is(err, database.ErrBackupPostgres) {
					t.Errorf("backup of PostgreSQL = %v", err)
				}
				if _, err := os.Stat(out); err == nil {
					t.Error("a file was made for a PostgreSQL backup")
				}
				return
			}
			if _, err := c.DB.CreateBoard(ctx, "user:ada", "floor", json.RawMessage(`{"title":"Floor"}`)); err != nil {
				t.Fatal(err)
			}
			if _, _, err := c.DB.CreateLink(ctx, "user:ada", "floor", "tv"); err != nil {
				t.Fatal(err)
			}
			if err := c.DB.Backup(ctx, out); err != nil {
				t.Fatal(err)
			}
			fi, err := os.Stat(out)
			if err != nil {
				t.Fatal(err)
			}
			if m := fi.Mode().Perm(); m != 0o600 {
				t.Errorf("backup mode %o, want 600", m)
			}
			// A change after the backup is not in it.
			if _, err := c.DB.CreateBoard(ctx, "user:ada", "later", json.RawMessage(`{}`)); err != nil {
				t.Fatal(err)
			}
			if err := c.DB.Backup(ctx, out); err == nil {
				t.Error("a backup overwrote an existing file")
			}

			restored := t.TempDir()
			b, _ := os.ReadFile(out)
			if err := os.WriteFile(filepath.Join(restored, database.FileName), b, 0o600); err != nil {
				t.Fatal(err)
			}
			db, err := database.Open(ctx, database.Options{StateDir: restored})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			boards, err := db.Boards(ctx)
			if err != nil || len(boards) != 1 || boards[0].ID != "floor" || string(boards[0].Document) != `{"title":"Floor"}` {
				t.Errorf("restored boards %+v, %v", boards, err)
			}
			if links, _ := db.Links(ctx, "floor"); len(links) != 1 {
				t.Errorf("restored links %+v", links)
			}
		})
	}
}

func TestOpenWithoutMigratingNeedsTheFile(t *testing.T) {
	_, err := database.Open(context.Background(), database.Options{StateDir: t.TempDir(), NoMigrate: true})
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Open of a missing file = %v", err)
	}
}
