package database_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"

	"github.com/wallboard/wallboard/internal/database"
	"github.com/wallboard/wallboard/internal/database/dbtest"
)

func TestSessionStore(t *testing.T) {
	ctx := context.Background()
	for _, c := range dbtest.Open(t) {
		t.Run(c.Name, func(t *testing.T) {
			s := c.DB.Sessions()
			if err := s.CommitCtx(ctx, "live", []byte("data-1"), time.Now().Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			if err := s.CommitCtx(ctx, "old", []byte("data-2"), time.Now().Add(-time.Second)); err != nil {
				t.Fatal(err)
			}
			if b, ok, err := s.FindCtx(ctx, "live"); err != nil || !ok || string(b) != "data-1" {
				t.Errorf("find live = %q %v %v", b, ok, err)
			}
			if _, ok, err := s.FindCtx(ctx, "old"); err != nil || ok {
				t.Errorf("an expired session was found (%v)", err)
			}
			if _, ok, err := s.Find("none"); err != nil || ok {
				t.Errorf("a missing session was found (%v)", err)
			}
			// Commit replaces.
			if err := s.Commit("live", []byte("data-3"), time.Now().Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			all, err := s.All()
			if err != nil || len(all) != 1 || string(all["live"]) != "data-3" {
				t.Errorf("all = %q, %v", all, err)
			}
			n, err := s.DeleteExpired(ctx)
			if err != nil || n != 1 {
				t.Errorf("deleted %d expired, %v", n, err)
			}
			if err := s.Delete("live"); err != nil {
				t.Fatal(err)
			}
			if err := s.Delete("live"); err != nil {
				t.Errorf("deleting a missing session: %v", err)
			}
			if all, _ := s.AllCtx(ctx); len(all) != 0 {
				t.Errorf("after delete: %q", all)
			}
		})
	}
}

// A session made through scs survives the process: a new manager on a new
// handle of the same database (a restart, or another replica) finds it.
func TestSessionsOutliveTheProcess(t *testing.T) {
	for _, c := range dbtest.Open(t) {
		t.Run(c.Name, func(t *testing.T) {
			sm := scs.New()
			sm.Store = c.DB.Sessions()
			put := sm.LoadAndSave(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				sm.Put(r.Context(), "user", "sue")
			}))
			rec := httptest.NewRecorder()
			put.ServeHTTP(rec, httptest.NewRequest("POST", "/signin", nil))
			cookies := rec.Result().Cookies()
			if len(cookies) != 1 {
				t.Fatalf("cookies %v", cookies)
			}

			again, err := database.Open(context.Background(), database.Options{URL: c.URL, StateDir: c.StateDir})
			if err != nil {
				t.Fatal(err)
			}
			defer again.Close()
			sm2 := scs.New()
			sm2.Store = again.Sessions()
			get := sm2.LoadAndSave(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.WriteString(w, sm2.GetString(r.Context(), "user"))
			}))
			req := httptest.NewRequest("GET", "/", nil)
			req.AddCookie(cookies[0])
			rec = httptest.NewRecorder()
			get.ServeHTTP(rec, req)
			if rec.Body.String() != "sue" {
				t.Errorf("after the restart the session holds %q", rec.Body.String())
			}
		})
	}
}

func TestSessionCleanupStops(t *testing.T) {
	for _, c := range dbtest.Open(t) {
		t.Run(c.Name, func(t *testing.T) {
			s := c.DB.Sessions()
			if err := s.Commit("old", []byte("x"), time.Now().Add(-time.Minute)); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { s.RunCleanup(ctx, 10*time.Millisecond, nil); close(done) }()
			var n int
			for range 500 {
				raw(t, c).QueryRow(`SELECT COUNT(*) FROM sessions`).Scan(&n)
				if n == 0 {
					break
				}
				time.Sleep(10 * time.Millisecond)
			}
			if n != 0 {
				t.Error("the cleanup did not delete the expired session")
			}
			cancel()
			<-done // RunCleanup returns when its context ends
		})
	}
}
