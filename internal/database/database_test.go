package database_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/wallboard/wallboard/internal/database"
	"github.com/wallboard/wallboard/internal/database/dbtest"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

// raw opens a second, plain connection to c's database, to look at what
// the store wrote from outside it.
func raw(t *testing.T, c dbtest.Case) *sql.DB {
	t.Helper()
	var db *sql.DB
	var err error
	if c.URL == "" {
		db, err = sql.Open("sqlite", filepath.Join(c.StateDir, database.FileName))
	} else {
		db, err = sql.Open("pgx", c.URL)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestOpenMigratesTheSameSchemaOnBoth(t *testing.T) {
	cases := dbtest.Open(t)
	schemas := map[string][]string{}
	for _, c := range cases {
		cur, known, err := c.DB.SchemaVersion(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if cur != known || known < 1 {
			t.Errorf("%s: schema at %d, binary knows %d", c.Name, cur, known)
		}
		q := `SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public'`
		if c.URL == "" {
			q = `SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'`
		}
		rows, err := raw(t, c).Query(q)
		if err != nil {
			t.Fatal(err)
		}
		var cols []string
		for rows.Next() {
			var tbl, col string
			if err := rows.Scan(&tbl, &col); err != nil {
				t.Fatal(err)
			}
			cols = append(cols, tbl+"."+col)
		}
		rows.Close()
		slices.Sort(cols)
		schemas[c.Name] = cols
	}
	if !slices.Equal(schemas["sqlite"], schemas["postgres"]) {
		t.Errorf("schemas differ:\nsqlite:   %v\npostgres: %v", schemas["sqlite"], schemas["postgres"])
	}
	for _, want := range []string{"boards.document", "kiosk_links.token_sha256", "users.password_hash", "sessions.expiry",
		"tickers.message", "queue_settings.document", "alarm_webhooks.document", "audit_log.before_json", "goose_db_version.version_id"} {
		if !slices.Contains(schemas["sqlite"], want) {
			t.Errorf("no column %s in %v", want, schemas["sqlite"])
		}
	}
}

func TestOpenAgainKeepsTheData(t *testing.T) {
	for _, c := range dbtest.Open(t) {
		t.Run(c.Name, func(t *testing.T) {
			ctx := context.Background()
			if _, err := c.DB.CreateBoard(ctx, "user:ada", "floor", []byte(`{"id":"floor"}`)); err != nil {
				t.Fatal(err)
			}
			again, err := database.Open(ctx, database.Options{URL: c.URL, StateDir: c.StateDir})
			if err != nil {
				t.Fatal(err)
			}
			defer again.Close()
			b, err := again.Board(ctx, "floor")
			if err != nil || b.Version != 1 {
				t.Fatalf("board after reopening: %+v, %v", b, err)
			}
		})
	}
}

func TestSchemaNewerThanTheBinaryStopsTheStart(t *testing.T) {
	for _, c := range dbtest.Open(t) {
		t.Run(c.Name, func(t *testing.T) {
			ctx := context.Background()
			_, known, err := c.DB.SchemaVersion(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := raw(t, c).Exec(`INSERT INTO goose_db_version (version_id, is_applied) VALUES (99999, true)`); err != nil {
				t.Fatal(err)
			}
			_, err = database.Open(ctx, database.Options{URL: c.URL, StateDir: c.StateDir})
			if !errors.Is(err, database.ErrSchemaTooNew) {
				t.Fatalf("Open = %v, want ErrSchemaTooNew", err)
			}
			for _, want := range []string{"version 99999", fmt.Sprintf("knows up to %d", known), "newer wallboard"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("message %q lacks %q", err, want)
				}
			}
		})
	}
}

func TestOpenRefusesAnotherKindOfURL(t *testing.T) {
	_, err := database.Open(context.Background(), database.Options{URL: "mysql://u:secret@h/db", StateDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "not a postgres:// URL") || strings.Contains(err.Error(), "secret") {
		t.Fatalf("Open = %v", err)
	}
}

func TestPostgresErrorsHideThePassword(t *testing.T) {
	// Nothing listens on port 1: the connection fails, and the message
	// names the server without the password.
	_, err := database.Open(context.Background(), database.Options{URL: "postgres://wb:hunter2@127.0.0.1:1/wb?connect_timeout=2"})
	if err == nil || strings.Contains(err.Error(), "hunter2") || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Fatalf("Open = %v", err)
	}
}

func TestSQLiteFileIsTheOwnersOnly(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		prepare func(dir string)
	}{
		{"new state directory", func(string) {}},
		{"a file left readable by others", func(dir string) {
			os.MkdirAll(dir, 0o755)
			os.WriteFile(filepath.Join(dir, database.FileName), nil, 0o644)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "state")
			tt.prepare(dir)
			db, err := database.Open(ctx, database.Options{StateDir: dir})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if _, err := db.CreateBoard(ctx, "user:ada", "floor", []byte(`{}`)); err != nil {
				t.Fatal(err)
			}
			for _, f := range []string{database.FileName, database.FileName + "-wal", database.FileName + "-shm"} {
				fi, err := os.Stat(filepath.Join(dir, f))
				if err != nil {
					t.Fatal(err)
				}
				if m := fi.Mode().Perm(); m != 0o600 {
					t.Errorf("%s mode %o, want 600", f, m)
				}
			}
			if tt.name == "new state directory" {
				fi, _ := os.Stat(dir)
				if m := fi.Mode().Perm(); m != 0o700 {
					t.Errorf("directory mode %o, want 700", m)
				}
			}
		})
	}
}
