package database_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wallboard/wallboard/internal/database"
	"github.com/wallboard/wallboard/internal/database/dbtest"
)

func TestBoards(t *testing.T) {
	ctx := context.Background()
	for _, c := range dbtest.Open(t) {
		t.Run(c.Name, func(t *testing.T) {
			db := c.DB
			v1 := json.RawMessage(`{"id":"floor","title":"Floor"}`)
			b, err := db.CreateBoard(ctx, "user:ada", "floor", v1)
			if err != nil {
				t.Fatal(err)
			}
			if b.Version != 1 || b.CreatedBy != "user:ada" || b.Origin() != "database" {
				t.Errorf("created %+v", b)
			}
			if _, err := db.CreateBoard(ctx, "user:bob", "floor", v1); !errors.Is(err, database.ErrExists) {
				t.Errorf("second create = %v, want ErrExists", err)
			}
			got, err := db.Board(ctx, "floor")
			if err != nil || string(got.Document) != string(v1) || got.Version != 1 || !got.CreatedAt.Equal(b.CreatedAt) {
				t.Errorf("read back %+v, %v (made %+v)", got, err, b)
			}

			v2 := json.RawMessage(`{"id":"floor","title":"Sales floor"}`)
			up, err := db.UpdateBoard(ctx, "user:bob", "floor", 1, v2)
			if err != nil || up.Version != 2 || up.UpdatedBy != "user:bob" {
				t.Fatalf("update = %+v, %v", up, err)
			}
			// A second editor who read version 1 is told who changed it.
			_, err = db.UpdateBoard(ctx, "user:cy", "floor", 1, json.RawMessage(`{"id":"floor","title":"Mine"}`))
			var ce *database.ConflictError
			if !errors.As(err, &ce) || !errors.Is(err, database.ErrConflict) {
				t.Fatalf("stale update = %v, want a ConflictError", err)
			}
			if ce.By != "user:bob" || ce.Version != 2 || !ce.At.Equal(up.UpdatedAt) || !strings.Contains(err.Error(), "changed by user:bob") {
				t.Errorf("conflict %+v: %v", ce, err)
			}
			if got, _ := db.Board(ctx, "floor"); string(got.Document) != string(v2) {
				t.Errorf("after the refused update: %s", got.Document)
			}
			if _, err := db.UpdateBoard(ctx, "user:bob", "nope", 1, v2); !errors.Is(err, database.ErrNotFound) {
				t.Errorf("update of a missing board = %v", err)
			}

			if _, err := db.CreateBoard(ctx, "user:ada", "annex", json.RawMessage(`{"id":"annex"}`)); err != nil {
				t.Fatal(err)
			}
			list, err := db.Boards(ctx)
			if err != nil || len(list) != 2 || list[0].ID != "annex" || list[1].ID != "floor" {
				t.Errorf("list = %+v, %v", list, err)
			}

			// Delete: a stale version is refused; then it goes, with its
			// links and its ticker.
			if _, _, err := db.CreateLink(ctx, "user:ada", "floor", "tv"); err != nil {
				t.Fatal(err)
			}
			if _, err := db.SetTicker(ctx, "user:ada", "floor", "hello"); err != nil {
				t.Fatal(err)
			}
			if err := db.DeleteBoard(ctx, "user:ada", "floor", 1); !errors.Is(err, database.ErrConflict) {
				t.Errorf("stale delete = %v", err)
			}
			if err := db.DeleteBoard(ctx, "user:ada", "floor", 2); err != nil {
				t.Fatal(err)
			}
			if _, err := db.Board(ctx, "floor"); !errors.Is(err, database.ErrNotFound) {
				t.Errorf("deleted board: %v", err)
			}
			if links, _ := db.Links(ctx, "floor"); len(links) != 0 {
				t.Errorf("links of a deleted board: %+v", links)
			}
			if tk, _ := db.Tickers(ctx); len(tk) != 0 {
				t.Errorf("tickers of a deleted board: %+v", tk)
			}
			if err := db.DeleteBoard(ctx, "user:ada", "floor", 0); !errors.Is(err, database.ErrNotFound) {
				t.Errorf("second delete = %v", err)
			}
			if err := db.DeleteBoard(ctx, "user:ada", "annex", 0); err != nil {
				t.Errorf("delete at any version: %v", err)
			}

			// The audit log has each change that was made, none of the
			// refused ones, newest first, with before and after.
			log, err := db.Audit(ctx, database.AuditFilter{Target: "board:floor", Action: "board."})
			if err != nil {
				t.Fatal(err)
			}
			var actions []string
			for _, e := range log {
				actions = append(actions, e.Action+" by "+e.Actor)
			}
			if want := "board.delete by user:ada, board.update by user:bob, board.create by user:ada"; strings.Join(actions, ", ") != want {
				t.Errorf("audit = %s, want %s", strings.Join(actions, ", "), want)
			}
			upd := log[1]
			if string(upd.Before) != string(v1) || string(upd.After) != string(v2) || !upd.At.Equal(up.UpdatedAt) {
				t.Errorf("update entry %+v", upd)
			}
			if log[0].After != nil || string(log[0].Before) != string(v2) || log[2].Before != nil {
				t.Errorf("delete entry %+v, create entry %+v", log[0], log[2])
			}
		})
	}
}

// Many editors save the same version at once, through separate connections
// as separate processes would: exactly one wins, the others get a conflict
// naming the winner, and nothing is lost or written twice.
func TestConcurrentBoardUpdatesOneWins(t *testing.T) {
	ctx := context.Background()
	for _, c := range dbtest.Open(t) {
		t.Run(c.Name, func(t *testing.T) {
			if _, err := c.DB.CreateBoard(ctx, "user:ada", "floor", json.RawMessage(`{}`)); err != nil {
				t.Fatal(err)
			}
			// A second handle on the same database: another process.
			other, err := database.Open(ctx, database.Options{URL: c.URL, StateDir: c.StateDir})
			if err != nil {
				t.Fatal(err)
			}
			defer other.Close()
			const editors = 8
			var wg sync.WaitGroup
			errs := make([]error, editors)
			for i := range editors {
				wg.Add(1)
				go func() {
					defer wg.Done()
					db := c.DB
					if i%2 == 1 {
						db = other
					}
					_, errs[i] = db.UpdateBoard(ctx, "editor:"+string(rune('a'+i)), "floor", 1, json.RawMessage(`{"n":`+string(rune('0'+i))+`}`))
				}()
			}
			wg.Wait()
			winner := ""
			for i, err := range errs {
				switch {
				case err == nil:
					if winner != "" {
						t.Fatalf("two winners: %s and %d", winner, i)
					}
					winner = "editor:" + string(rune('a'+i))
				case !errors.Is(err, database.ErrConflict):
					t.Errorf("editor %d: %v", i, err)
				}
			}
			b, err := c.DB.Board(ctx, "floor")
			if err != nil || winner == "" || b.Version != 2 || b.UpdatedBy != winner {
				t.Fatalf("board %+v, winner %q, %v", b, winner, err)
			}
			for i, err := range errs {
				var ce *database.ConflictError
				if errors.As(err, &ce) && ce.By != winner {
					t.Errorf("editor %d was told %s changed it, not %s", i, ce.By, winner)
				}
			}
			log, _ := c.DB.Audit(ctx, database.AuditFilter{Action: "board.update"})
			if len(log) != 1 || log[0].Actor != winner {
				t.Errorf("audit of the race: %+v", log)
			}
		})
	}
}

func TestAuditFilterAndPages(t *testing.T) {
	ctx := context.Background()
	for _, c := range dbtest.Open(t) {
		t.Run(c.Name, func(t *testing.T) {
			db := c.DB
			start := time.Now().Add(-time.Second)
			for _, id := range []string{"a", "b", "c"} {
				if _, err := db.CreateBoard(ctx, "user:ada", id, json.RawMessage(`{}`)); err != nil {
					t.Fatal(err)
				}
			}
			if _, _, err := db.CreateLink(ctx, "token:automation", "a", "tv"); err != nil {
				t.Fatal(err)
			}
			tests := []struct {
				name string
				f    database.AuditFilter
				want []string // targets, newest first
			}{
				{"all", database.AuditFilter{}, []string{"link:a/tv", "board:c", "board:b", "board:a"}},
				{"by actor", database.AuditFilter{Actor: "token:automation"}, []string{"link:a/tv"}},
				{"action prefix", database.AuditFilter{Action: "board."}, []string{"board:c", "board:b", "board:a"}},
				{"exact action", database.AuditFilter{Action: "link.create"}, []string{"link:a/tv"}},
				{"no such action", database.AuditFilter{Action: "board"}, nil},
				{"target", database.AuditFilter{Target: "board:b"}, []string{"board:b"}},
				{"limit", database.AuditFilter{Limit: 2}, []string{"link:a/tv", "board:c"}},
				{"since", database.AuditFilter{Since: start}, []string{"link:a/tv", "board:c", "board:b", "board:a"}},
				{"until", database.AuditFilter{Until: start}, nil},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					got, err := db.Audit(ctx, tt.f)
					if err != nil {
						t.Fatal(err)
					}
					var targets []string
					for _, e := range got {
						targets = append(targets, e.Target)
					}
					if strings.Join(targets, " ") != strings.Join(tt.want, " ") {
						t.Errorf("got %v, want %v", targets, tt.want)
					}
				})
			}
			first, _ := db.Audit(ctx, database.AuditFilter{Limit: 2})
			next, _ := db.Audit(ctx, database.AuditFilter{Limit: 2, Before: first[1].ID})
			if len(next) != 2 || next[0].Target != "board:b" || next[1].Target != "board:a" {
				t.Errorf("second page %+v", next)
			}
		})
	}
}
