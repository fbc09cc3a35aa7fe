package database_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/wallboard/wallboard/internal/database"
	"github.com/wallboard/wallboard/internal/database/dbtest"
)

func TestUsers(t *testing.T) {
	ctx := context.Background()
	for _, c := range dbtest.Open(t) {
		t.Run(c.Name, func(t *testing.T) {
			db := c.DB
			const hash = "$2a$10$abcdefghijklmnopqrstuuE0yFzM5jz1eYQm5m3o8nqjYq2yQb1Xm"
			u, err := db.CreateUser(ctx, "user:ada", database.User{Name: "sue", PasswordHash: hash, Role: "supervisor",
				Boards: []string{"floor", "annex", "floor"}})
			if err != nil {
				t.Fatal(err)
			}
			if u.Version != 1 || !slices.Equal(u.Boards, []string{"annex", "floor"}) || u.Disabled() {
				t.Errorf("created %+v", u)
			}
			if _, err := db.CreateUser(ctx, "user:ada", database.User{Name: "sue", PasswordHash: hash, Role: "viewer"}); !errors.Is(err, database.ErrExists) {
				t.Errorf("same name again = %v", err)
			}
			if _, err := db.CreateUser(ctx, "user:ada", database.User{Name: "max", PasswordHash: hash, Role: "root"}); err == nil {
				t.Error("a role the schema does not know was stored")
			}
			got, err := db.User(ctx, "sue")
			if err != nil || got.PasswordHash != hash || got.Role != "supervisor" || !slices.Equal(got.Boards, []string{"annex", "floor"}) {
				t.Fatalf("read back %+v, %v", got, err)
			}

			role, boards := "admin", []string{"floor"}
			up, err := db.UpdateUser(ctx, "user:ada", "sue", 1, database.UserChange{Role: &role, Boards: &boards})
			if err != nil || up.Version != 2 || up.Role != "admin" || !slices.Equal(up.Boards, boards) || up.PasswordHash != hash {
				t.Fatalf("update = %+v, %v", up, err)
			}
			if _, err := db.UpdateUser(ctx, "user:bob", "sue", 1, database.UserChange{Role: &role}); !errors.Is(err, database.ErrConflict) {
				t.Errorf("stale update = %v", err)
			}
			yes := true
			up, err = db.UpdateUser(ctx, "user:ada", "sue", 2, database.UserChange{Disabled: &yes})
			if err != nil || !up.Disabled() {
				t.Fatalf("disable = %+v, %v", up, err)
			}
			newHash := "$2a$10$zzzzzzzzzzzzzzzzzzzzzuE0yFzM5jz1eYQm5m3o8nqjYq2yQb1Xm"
			if _, err := db.UpdateUser(ctx, "user:ada", "sue", 3, database.UserChange{PasswordHash: &newHash}); err != nil {
				t.Fatal(err)
			}
			got, _ = db.User(ctx, "sue")
			if got.PasswordHash != newHash || !got.Disabled() || got.Version != 4 || !slices.Equal(got.Boards, boards) {
				t.Errorf("after the changes %+v", got)
			}

			if _, err := db.CreateUser(ctx, "user:ada", database.User{Name: "vic", PasswordHash: hash, Role: "viewer"}); err != nil {
				t.Fatal(err)
			}
			all, err := db.Users(ctx)
			if err != nil || len(all) != 2 || all[0].Name != "sue" || !slices.Equal(all[0].Boards, boards) || all[1].Boards != nil {
				t.Errorf("users = %+v, %v", all, err)
			}
			if err := db.DeleteUser(ctx, "user:ada", "sue"); err != nil {
				t.Fatal(err)
			}
			if _, err := db.User(ctx, "sue"); !errors.Is(err, database.ErrNotFound) {
				t.Errorf("deleted user: %v", err)
			}
			var n int
			raw(t, c).QueryRow(`SELECT COUNT(*) FROM user_boards WHERE user_name = 'sue'`).Scan(&n)
			if n != 0 {
				t.Errorf("a deleted user's boards remain: %d", n)
			}

			log, _ := db.Audit(ctx, database.AuditFilter{Target: "user:sue"})
			var actions []string
			for _, e := range log {
				actions = append(actions, e.Action)
				for _, h := range []string{hash, newHash} {
					if strings.Contains(string(e.Before)+string(e.After), h) {
						t.Errorf("the audit log holds a password hash: %+v", e)
					}
				}
			}
			if want := "user.delete user.password user.disable user.update user.create"; strings.Join(actions, " ") != want {
				t.Errorf("audit %v, want %s", actions, want)
			}
		})
	}
}
