package database_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/wallboard/wallboard/internal/database"
	"github.com/wallboard/wallboard/internal/database/dbtest"
)

func TestLinks(t *testing.T) {
	ctx := context.Background()
	for _, c := range dbtest.Open(t) {
		t.Run(c.Name, func(t *testing.T) {
			db := c.DB
			l, token, err := db.CreateLink(ctx, "user:ada", "floor", "reception-tv")
			if err != nil {
				t.Fatal(err)
			}
			if len(token) < 32 || l.ID == 0 || l.CreatedBy != "user:ada" || l.Revoked() {
				t.Errorf("link %+v, token %q", l, token)
			}
			if _, _, err := db.CreateLink(ctx, "user:ada", "floor", "reception-tv"); !errors.Is(err, database.ErrExists) {
				t.Errorf("same name again = %v, want ErrExists", err)
			}
			_, other, err := db.CreateLink(ctx, "user:ada", "annex", "reception-tv") // same name, other board
			if err != nil || other == token {
				t.Fatalf("link on another board: %v (token reused: %v)", err, other == token)
			}

			got, err := db.LinkByToken(ctx, token)
			if err != nil || got.ID != l.ID || got.Board != "floor" || !got.LastSeenAt.IsZero() {
				t.Fatalf("by token: %+v, %v", got, err)
			}
			for _, bad := range []string{"", token[:len(token)-1], strings.ToLower(token), database.HashToken(token)} {
				if _, err := db.LinkByToken(ctx, bad); !errors.Is(err, database.ErrNotFound) {
					t.Errorf("LinkByToken(%q) = %v, want ErrNotFound", bad, err)
				}
			}

			seen := time.Date(2026, 12, 3, 9, 30, 0, 123456000, time.UTC)
			if err := db.TouchLink(ctx, l.ID, seen, "10.1.2.3"); err != nil {
				t.Fatal(err)
			}
			links, err := db.Links(ctx, "floor")
			if err != nil || len(links) != 1 || !links[0].LastSeenAt.Equal(seen) || links[0].LastSeenFrom != "10.1.2.3" {
				t.Fatalf("links = %+v, %v", links, err)
			}

			if _, err := db.RevokeLink(ctx, "user:bob", "floor", "reception-tv"); err != nil {
				t.Fatal(err)
			}
			got, err = db.LinkByToken(ctx, token)
			if !errors.Is(err, database.ErrRevoked) || got.RevokedBy != "user:bob" || got.Board != "floor" {
				t.Errorf("revoked link by token: %+v, %v", got, err)
			}
			if _, err := db.RevokeLink(ctx, "user:bob", "floor", "reception-tv"); !errors.Is(err, database.ErrNotFound) {
				t.Errorf("second revoke = %v", err)
			}
			if links, _ := db.Links(ctx, "floor"); len(links) != 0 {
				t.Errorf("revoked links are listed: %+v", links)
			}
			// The name is free again, with a new token; the old one stays dead.
			_, again, err := db.CreateLink(ctx, "user:ada", "floor", "reception-tv")
			if err != nil || again == token {
				t.Fatalf("new link of a revoked name: %v", err)
			}
			if _, err := db.LinkByToken(ctx, token); !errors.Is(err, database.ErrRevoked) {
				t.Errorf("old token after the name was reused: %v", err)
			}

			// Nothing the store wrote holds a token: not the links table,
			// not the audit log.
			for _, q := range []string{`SELECT board_id || name || token_sha256 || created_by || last_seen_from || revoked_by FROM kiosk_links`,
				`SELECT actor || action || target || COALESCE(before_json, '') || COALESCE(after_json, '') FROM audit_log`} {
				rows, err := raw(t, c).Query(q)
				if err != nil {
					t.Fatal(err)
				}
				for rows.Next() {
					var s string
					rows.Scan(&s)
					for _, tok := range []string{token, other, again} {
						if strings.Contains(s, tok) {
							t.Errorf("a token is stored in the clear: %s", s)
						}
					}
				}
				rows.Close()
			}
			var n int
			raw(t, c).QueryRow(`SELECT COUNT(*) FROM kiosk_links WHERE token_sha256 = $1`, database.HashToken(token)).Scan(&n)
			if n != 1 {
				t.Errorf("the token's hash is stored %d times", n)
			}
			log, _ := db.Audit(ctx, database.AuditFilter{Target: "link:floor/reception-tv"})
			if len(log) != 3 || log[1].Action != "link.revoke" || log[1].Actor != "user:bob" {
				t.Errorf("audit %+v", log)
			}
		})
	}
}
