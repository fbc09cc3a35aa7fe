package database_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/wallboard/wallboard/internal/database"
	"github.com/wallboard/wallboard/internal/database/dbtest"
)

func TestTickers(t *testing.T) {
	ctx := context.Background()
	for _, c := range dbtest.Open(t) {
		t.Run(c.Name, func(t *testing.T) {
			db := c.DB
			for i, msg := range []string{"Fire drill at 3", "Fire drill moved to 4", ""} {
				tk, err := db.SetTicker(ctx, "user:sue", "floor", msg)
				if err != nil || tk.Version != int64(i+1) || tk.Message != msg {
					t.Fatalf("set %q = %+v, %v", msg, tk, err)
				}
			}
			if _, err := db.SetTicker(ctx, "user:ada", "annex", "Welcome"); err != nil {
				t.Fatal(err)
			}
			all, err := db.Tickers(ctx)
			if err != nil || len(all) != 2 || all[0].Board != "annex" || all[1].Message != "" || all[1].Version != 3 || all[1].UpdatedBy != "user:sue" {
				t.Errorf("tickers %+v, %v", all, err)
			}
			log, _ := db.Audit(ctx, database.AuditFilter{Target: "board:floor", Action: "ticker.set"})
			if len(log) != 3 || string(log[1].Before) != `{"message":"Fire drill at 3"}` || string(log[1].After) != `{"message":"Fire drill moved to 4"}` || log[2].Before != nil {
				t.Errorf("audit %+v", log)
			}
		})
	}
}

func TestQueueSettings(t *testing.T) {
	ctx := context.Background()
	for _, c := range dbtest.Open(t) {
		t.Run(c.Name, func(t *testing.T) {
			db := c.DB
			doc := json.RawMessage(`{"service_level_threshold":"30s"}`)
			q, err := db.PutQueueSetting(ctx, "user:ada", "", "Sales", 0, doc)
			if err != nil || q.Version != 1 {
				t.Fatalf("create = %+v, %v", q, err)
			}
			if _, err := db.PutQueueSetting(ctx, "user:ada", "", "Sales", 0, doc); !errors.Is(err, database.ErrExists) {
				t.Errorf("create again = %v", err)
			}
			if _, err := db.PutQueueSetting(ctx, "user:ada", "uk-sapi", "Sales", 0, doc); err != nil { // same queue, one source
				t.Errorf("per-source setting: %v", err)
			}
			doc2 := json.RawMessage(`{"service_level_threshold":"20s"}`)
			if q, err = db.PutQueueSetting(ctx, "user:bob", "", "Sales", 1, doc2); err != nil || q.Version != 2 {
				t.Fatalf("update = %+v, %v", q, err)
			}
			_, err = db.PutQueueSetting(ctx, "user:cy", "", "Sales", 1, doc)
			var ce *database.ConflictError
			if !errors.As(err, &ce) || ce.By != "user:bob" || ce.Version != 2 {
				t.Errorf("stale update = %v", err)
			}
			if _, err := db.PutQueueSetting(ctx, "user:cy", "", "Support", 3, doc); !errors.Is(err, database.ErrNotFound) {
				t.Errorf("update of none = %v", err)
			}
			all, err := db.QueueSettings(ctx)
			if err != nil || len(all) != 2 || all[0].Source != "" || string(all[0].Document) != string(doc2) || all[1].Source != "uk-sapi" {
				t.Errorf("settings %+v, %v", all, err)
			}
			if err := db.DeleteQueueSetting(ctx, "user:ada", "", "Sales"); err != nil {
				t.Fatal(err)
			}
			if err := db.DeleteQueueSetting(ctx, "user:ada", "", "Sales"); !errors.Is(err, database.ErrNotFound) {
				t.Errorf("delete again = %v", err)
			}
			log, _ := db.Audit(ctx, database.AuditFilter{Target: "queue:Sales"})
			if len(log) != 3 || log[0].Action != "queue_setting.delete" || string(log[1].Before) != string(doc) {
				t.Errorf("audit %+v", log)
			}
		})
	}
}

func TestWebhooks(t *testing.T) {
	ctx := context.Background()
	for _, c := range dbtest.Open(t) {
		t.Run(c.Name, func(t *testing.T) {
			db := c.DB
			doc := json.RawMessage(`{"url":"https://hooks.example.com/a","headers":{"Authorization":"Bearer s3cret-value"}}`)
			w, err := db.PutWebhook(ctx, "user:ada", "ops", 0, doc)
			if err != nil || w.Version != 1 || w.CreatedBy != "user:ada" {
				t.Fatalf("create = %+v, %v", w, err)
			}
			if _, err := db.PutWebhook(ctx, "user:ada", "ops", 0, doc); !errors.Is(err, database.ErrExists) {
				t.Errorf("create again = %v", err)
			}
			doc2 := json.RawMessage(`{"url":"https://hooks.example.com/b","headers":{"Authorization":"Bearer other-s3cret"}}`)
			if w, err = db.PutWebhook(ctx, "user:bob", "ops", 1, doc2); err != nil || w.Version != 2 || w.CreatedBy != "user:ada" {
				t.Fatalf("update = %+v, %v", w, err)
			}
			if _, err := db.PutWebhook(ctx, "user:bob", "ops", 1, doc); !errors.Is(err, database.ErrConflict) {
				t.Errorf("stale update = %v", err)
			}
			all, err := db.Webhooks(ctx)
			if err != nil || len(all) != 1 || string(all[0].Document) != string(doc2) {
				t.Errorf("webhooks %+v, %v", all, err)
			}
			if err := db.DeleteWebhook(ctx, "user:ada", "ops"); err != nil {
				t.Fatal(err)
			}
			if err := db.DeleteWebhook(ctx, "user:ada", "ops"); !errors.Is(err, database.ErrNotFound) {
				t.Errorf("delete again = %v", err)
			}
			log, _ := db.Audit(ctx, database.AuditFilter{Target: "webhook:ops"})
			if len(log) != 3 {
				t.Fatalf("audit %+v", log)
			}
			for _, e := range log {
				s := string(e.Before) + string(e.After)
				if strings.Contains(s, "s3cret") {
					t.Errorf("a header value reached the audit log: %s", s)
				}
			}
			if !strings.Contains(string(log[1].After), `"Authorization":"[redacted]"`) || !strings.Contains(string(log[1].After), "hooks.example.com/b") {
				t.Errorf("update entry %s", log[1].After)
			}
		})
	}
}

// Making the same webhook and the same queue setting at once, from two
// handles (two replicas): one is made, the others are refused cleanly.
func TestConcurrentCreatesOneWins(t *testing.T) {
	ctx := context.Background()
	for _, c := range dbtest.Open(t) {
		t.Run(c.Name, func(t *testing.T) {
			other, err := database.Open(ctx, database.Options{URL: c.URL, StateDir: c.StateDir})
			if err != nil {
				t.Fatal(err)
			}
			defer other.Close()
			const n = 8
			for _, kind := range []string{"webhook", "queue setting", "board", "user"} {
				errs := make(chan error, n)
				for i := range n {
					db := c.DB
					if i%2 == 1 {
						db = other
					}
					go func() {
						var err error
						switch kind {
						case "webhook":
							_, err = db.PutWebhook(ctx, "user:ada", "ops", 0, json.RawMessage(`{}`))
						case "queue setting":
							_, err = db.PutQueueSetting(ctx, "user:ada", "", "Sales", 0, json.RawMessage(`{}`))
						case "board":
							_, err = db.CreateBoard(ctx, "user:ada", "floor", json.RawMessage(`{}`))
						case "user":
							_, err = db.CreateUser(ctx, "user:ada", database.User{Name: "sue", PasswordHash: "x", Role: "viewer"})
						}
						errs <- err
					}()
				}
				made := 0
				for range n {
					switch err := <-errs; {
					case err == nil:
						made++
					case !errors.Is(err, database.ErrExists) && !errors.Is(err, database.ErrConflict):
						t.Errorf("%s: %v", kind, err)
					}
				}
				if made != 1 {
					t.Errorf("%s made %d times", kind, made)
				}
			}
		})
	}
}
