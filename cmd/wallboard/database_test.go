package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/wallboard/wallboard/internal/config"
	"github.com/wallboard/wallboard/internal/database"
	"github.com/wallboard/wallboard/internal/database/dbtest"
)

// The package's tests share one throwaway PostgreSQL (internal/database/dbtest).
func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

// writeDBConfig writes a small configuration with database: dbURL and
// returns its path and state directory.
func writeDBConfig(t *testing.T, dbURL string) (path, stateDir string) {
	t.Helper()
	dir := t.TempDir()
	stateDir = filepath.Join(dir, "data")
	cfg := fmt.Sprintf(`
listen: "127.0.0.1:0"
state_dir: %q
database: %q
timezone: "UTC"
sources:
  - {name: sim, type: simulation, sim_agents: 4, sim_queues: 1}
boards:
  - {id: floor}
`, stateDir, dbURL)
	path = filepath.Join(dir, "wallboard.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, stateDir
}

func TestServeOpensAndMigratesTheDatabase(t *testing.T) {
	tests := []struct {
		name string
		url  func(t *testing.T) string
	}{
		{"sqlite", func(*testing.T) string { return "" }},
		{"postgres", func(t *testing.T) string { return dbtest.PostgresURL(t) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := tt.url(t)
			path, stateDir := writeDBConfig(t, u)
			s := start(t, testEnv, "serve", "--config", path)
			if !strings.Contains(s.stderr.String(), `msg="database open" dialect=`+tt.name) {
				t.Errorf("no database line in the log:\n%s", s.stderr.String())
			}
			if err := s.stop(); err != nil {
				t.Fatal(err)
			}
			if u == "" {
				for name, want := range map[string]os.FileMode{stateDir: 0o700, filepath.Join(stateDir, database.FileName): 0o600} {
					fi, err := os.Stat(name)
					if err != nil {
						t.Fatal(err)
					}
					if fi.Mode().Perm() != want {
						t.Errorf("%s: mode %o, want %o", name, fi.Mode().Perm(), want)
					}
				}
			}
			// The schema is there, at the version this binary knows.
			db, err := database.Open(context.Background(), database.Options{URL: u, StateDir: stateDir, NoMigrate: true})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			cur, known, err := db.SchemaVersion(context.Background())
			if err != nil || cur != known {
				t.Errorf("schema at %d, known %d, %v", cur, known, err)
			}
		})
	}
}

func TestServeStopsOnANewerSchema(t *testing.T) {
	path, stateDir := writeDBConfig(t, "")
	db, err := database.Open(context.Background(), database.Options{StateDir: stateDir})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	raw, err := sql.Open("sqlite", filepath.Join(stateDir, database.FileName))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`INSERT INTO goose_db_version (version_id, is_applied) VALUES (4242, 1)`); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	var stdout, stderr bytes.Buffer
	err = run(context.Background(), []string{"serve", "--config", path}, testEnv, &stdout, &stderr)
	if err == nil || exitCode(err) != 1 || !strings.Contains(err.Error(), "newer than this wallboard knows: it is at version 4242") {
		t.Fatalf("serve = %v (exit %d)\n%s", err, exitCode(err), stderr.String())
	}
	if strings.Contains(stderr.String(), "wallboard listening") {
		t.Error("serve listened before the database check")
	}
}

func TestBackupCommand(t *testing.T) {
	path, stateDir := writeDBConfig(t, "")
	db, err := database.Open(context.Background(), database.Options{StateDir: stateDir})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateBoard(context.Background(), "user:ada", "annex", json.RawMessage(`{"title":"Annex"}`)); err != nil {
		t.Fatal(err)
	}
	defer db.Close() // open while the backup runs, as in a running server
	pgPath, _ := writeDBConfig(t, "postgres://wallboard:pw@127.0.0.1:1/wallboard")
	emptyPath, _ := writeDBConfig(t, "")
	out := filepath.Join(t.TempDir(), "backup.db")

	tests := []struct {
		name     string
		args     []string
		wantCode int
		want     string
	}{
		{"backup", []string{"backup", "--config", path, "--to", out}, 0, "backed up"},
		{"the file exists", []string{"backup", "--config", path, "--to", out}, 1, "must not exist"},
		{"no --to", []string{"backup", "--config", path}, 2, "Usage:"},
		{"postgres", []string{"backup", "--config", pgPath, "--to", out + "2"}, 1, "pg_dump"},
		{"no database yet", []string{"backup", "--config", emptyPath, "--to", out + "3"}, 1, "no database to back up"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), tt.args, testEnv, &stdout, &stderr)
			all := stdout.String() + stderr.String()
			if err != nil {
				all += err.Error()
			}
			if code := exitCode(err); err == nil && tt.wantCode != 0 || err != nil && code != tt.wantCode {
				t.Errorf("exit %v, want %d\n%s", err, tt.wantCode, all)
			}
			if !strings.Contains(all, tt.want) {
				t.Errorf("output lacks %q:\n%s", tt.want, all)
			}
		})
	}

	fi, err := os.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("backup mode %o, want 600", fi.Mode().Perm())
	}
	for _, f := range []string{out + "2", out + "3"} {
		if _, err := os.Stat(f); err == nil {
			t.Errorf("%s was made", f)
		}
	}
	// Restore as the docs say: the copy becomes {state_dir}/wallboard.db.
	restored := t.TempDir()
	b, _ := os.ReadFile(out)
	os.WriteFile(filepath.Join(restored, database.FileName), b, 0o600)
	back, err := database.Open(context.Background(), database.Options{StateDir: restored})
	if err != nil {
		t.Fatal(err)
	}
	defer back.Close()
	if got, err := back.Board(context.Background(), "annex"); err != nil || string(got.Document) != `{"title":"Annex"}` {
		t.Errorf("restored board %+v, %v", got, err)
	}
}

// The demo keeps its database in its state directory: a board made through
// the API with the token it prints is there after a restart.
func TestDemoKeepsBoardsInItsDatabase(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo-state")
	var token string
	for i := range 2 {
		s := start(t, os.Getenv, "demo", "--listen", "127.0.0.1:0", "--agents", "8", "--queues", "2", "--state-dir", dir)
		out := waitFor(t, s.stdout, regexp.MustCompile(`(?s)(State API:[^\n]*)`))
		token = regexp.MustCompile(`Bearer ([A-Z0-9]+)`).FindStringSubmatch(out)[1]
		if i == 0 {
			req, _ := http.NewRequest("POST", s.url+"/api/v1/boards", strings.NewReader(`{"id":"mine","title":"My team","sources":["sim"]}`))
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusCreated {
				t.Fatalf("create with the demo's token = %d", resp.StatusCode)
			}
		} else {
			code, body := get(t, s.url+"/api/v1/boards/mine", "Authorization", "Bearer "+token)
			if code != http.StatusOK || !strings.Contains(body, `"title":"My team"`) || !strings.Contains(body, `"origin":"database"`) {
				t.Errorf("after a restart: %d %s", code, body)
			}
		}
		if err := s.stop(); err != nil {
			t.Fatal(err)
		}
	}
	fi, err := os.Stat(filepath.Join(dir, database.FileName))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("the demo's database: %v %v", fi, err)
	}
}

// export-boards writes the database's boards so that the file takes them
// back as the same boards.
func TestExportBoards(t *testing.T) {
	path, stateDir := writeDBConfig(t, "")
	db, err := database.Open(context.Background(), database.Options{StateDir: stateDir})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cfg, err := config.Load(path, testEnv)
	if err != nil {
		t.Fatal(err)
	}
	docs := map[string]string{
		"annex": `{"id":"annex","title":"Annex","sources":["sim"],"tiles":["waiting","offered"],
			"thresholds":{"waiting":{"warn":3,"alarm":6},"longest_wait":{"warn":"30s"},"service_level":{"warn":0.8}},
			"access":{"roles":["supervisor"]},"embed_origins":["https://intranet.example.com"]}`,
		"plain": `{"id":"plain"}`,
	}
	want := map[string]string{}
	for id, doc := range docs {
		b, probs := config.ParseBoard([]byte(doc))
		if len(probs) == 0 {
			b, probs = cfg.CheckBoard(b, nil)
		}
		if len(probs) > 0 {
			t.Fatal(probs)
		}
		j, _ := config.BoardJSON(b)
		want[id] = string(j)
		if _, err := db.CreateBoard(context.Background(), "user:ada", id, j); err != nil {
			t.Fatal(err)
		}
	}
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"export-boards", "--config", path}, testEnv, &stdout, &stderr); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	out := stdout.String()
	if !strings.Contains(out, "boards:\n  - id: annex\n    title: Annex\n") || strings.Contains(out, ": 0s") || strings.Contains(out, "[]") {
		t.Errorf("export:\n%s", out)
	}
	// The file with the exported boards (and the source they name) is valid
	// and has the same boards.
	file := filepath.Join(t.TempDir(), "exported.yaml")
	os.WriteFile(file, []byte("timezone: UTC\nsources:\n  - {name: sim, type: simulation}\n"+out), 0o600)
	var cs bytes.Buffer
	if err := run(context.Background(), []string{"check-config", "--config", file}, testEnv, &cs, &cs); err != nil {
		t.Fatalf("check-config of the export: %v\n%s\n%s", err, cs.String(), out)
	}
	back, err := config.Load(file, testEnv)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range back.Boards {
		j, _ := config.BoardJSON(b)
		if string(j) != want[b.ID] {
			t.Errorf("board %s came back as\n%s\nwant\n%s", b.ID, j, want[b.ID])
		}
	}
	if len(back.Boards) != 2 {
		t.Errorf("%d boards came back", len(back.Boards))
	}
}

// At start the database's boards are shown after the file's; one that no
// longer passes the rules, or whose id the file took, is logged and left
// out (and left in the database).
func TestServeShowsTheDatabasesBoards(t *testing.T) {
	tests := []struct {
		name string
		url  func(t *testing.T) string
	}{
		{"sqlite", func(*testing.T) string { return "" }},
		{"postgres", func(t *testing.T) string { return dbtest.PostgresURL(t) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := tt.url(t)
			path, stateDir := writeDBConfig(t, u)
			db, err := database.Open(context.Background(), database.Options{URL: u, StateDir: stateDir})
			if err != nil {
				t.Fatal(err)
			}
			for id, doc := range map[string]string{
				"team":   `{"id":"team","title":"Team","sources":["sim"]}`,
				"broken": `{"id":"broken","sources":["gone"]}`,
				"floor":  `{"id":"floor","title":"Shadowed"}`,
			} {
				if _, err := db.CreateBoard(context.Background(), "test", id, []byte(doc)); err != nil {
					t.Fatal(err)
				}
			}
			db.Close()
			s := start(t, testEnv, "serve", "--config", path)
			if err := s.stop(); err != nil {
				t.Fatal(err)
			}
			log := s.stderr.String()
			for _, want := range []string{"boards=2", `board=broken problems="sources[0]: no source is named \"gone\""`,
				"the configuration file has a board of that id\" board=floor"} {
				if !strings.Contains(log, want) {
					t.Errorf("log lacks %s:\n%s", want, log)
				}
			}
		})
	}
}
