package server

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/wallboard/wallboard/internal/config"
	"github.com/wallboard/wallboard/internal/database"
	"github.com/wallboard/wallboard/internal/database/dbtest"
	"github.com/wallboard/wallboard/internal/event"
)

type intervalsAnswer struct {
	Intervals []intervalJSON `json:"intervals"`
}

// TestIntervalsAPI: GET /api/v1/intervals from outside, with the state
// API's access rules: a token sees every queue, a session only the queues
// of the boards it may see; the open interval comes with complete false;
// CSV on request.
func TestIntervalsAPI(t *testing.T) {
	db := dbtest.Open(t)[0].DB
	cfg := secConfig()
	cfg.Boards[0].Queues = []string{"q1"}      // floor: everyone signed in
	cfg.Boards[1].Queues = []string{"Billing"} // private (sue, group leads), by name
	cfg.APITokens = []config.APIToken{{Name: "reporting", Token: readToken}}
	ts := newSecServerWith(t, cfg, func(o *Options) { o.History, o.Open = db, o.Floor.(OpenIntervals) })

	row := func(queue string, start time.Time, offered int) database.QueueInterval {
		return database.QueueInterval{Source: "s1", Queue: queue, Start: start, End: start.Add(15 * time.Minute), Offered: offered,
			Answered: offered, AnsweredInSL: offered, Handled: offered, HandleTotal: 90 * time.Second, MaxWait: 1500 * time.Millisecond, Complete: true}
	}
	// The model knows the three queues (q2 is named Billing) and has one
	// contact waiting in q1 in its open interval.
	ctx := context.Background()
	if err := ts.loop.Publish(ctx,
		event.Event{Kind: event.QueueInfo, Source: "s1", Queue: "q1", Name: "Sales"},
		event.Event{Kind: event.QueueInfo, Source: "s1", Queue: "q2", Name: "Billing"},
		event.Event{Kind: event.QueueInfo, Source: "s1", Queue: "q3", Name: "Back office"},
		event.Event{Kind: event.ContactQueued, Source: "s1", Queue: "q1", Interaction: "c1"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return len(ts.proj.BoardQueues("floor")) == 1 && len(ts.proj.BoardQueues("private")) == 1 })
	// Stored: the two intervals before the open one (and one a day
	// before); every request names the hours around them, so the test
	// does not depend on the time of day it runs at.
	open, ok, err := ts.loop.OpenInterval(ctx)
	if err != nil || !ok {
		t.Fatalf("no open interval: %v", err)
	}
	today := open.Start.Add(-30 * time.Minute)
	if err := db.SaveIntervals(context.Background(), []database.QueueInterval{
		row("q1", today, 3), row("q1", today.Add(15*time.Minute), 4), row("q2", today, 5), row("q3", today, 6),
		row("q1", today.Add(-24*time.Hour), 9), // yesterday
	}, nil); err != nil {
		t.Fatal(err)
	}
	rng := "from=" + today.Add(-time.Hour).Format(time.RFC3339) + "&to=" + open.End.Add(time.Hour).Format(time.RFC3339)

	anon := newBrowser(t, ts.URL)
	vic, gina, sue := signedIn(t, ts.URL, "vic"), signedIn(t, ts.URL, "gina"), signedIn(t, ts.URL, "sue")
	get := func(b *browser, token, path string, header ...string) (int, string, http.Header) {
		t.Helper()
		req, _ := http.NewRequest("GET", ts.URL+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		c := http.DefaultClient
		if b != nil {
			c = b.c
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body), resp.Header
	}
	// Stored rows as "queue@offered", the open interval as "queue@open".
	summary := func(body string) string {
		var a intervalsAnswer
		if err := json.Unmarshal([]byte(body), &a); err != nil {
			t.Fatalf("not JSON: %v: %.200s", err, body)
		}
		var out []string
		for _, i := range a.Intervals {
			if i.Complete {
				out = append(out, i.Queue+"@"+strings.Repeat("+", i.Offered))
			} else {
				out = append(out, i.Queue+"@open")
			}
		}
		return strings.Join(out, " ")
	}
	tests := []struct {
		name   string
		b      *browser
		token  string
		path   string
		status int
		want   string
	}{
		{"anonymous", anon, "", "/api/v1/intervals?" + rng, 401, ""},
		{"a wrong token", nil, "nope-0123456789abcdef", "/api/v1/intervals?" + rng, 401, ""},
		{"a token sees every queue, today", nil, readToken, "/api/v1/intervals?" + rng, 200, "q1@+++ q1@++++ q1@open q2@+++++ q2@open q3@++++++ q3@open"},
		{"a token names a queue by id", nil, readToken, "/api/v1/intervals?" + rng + "&source=s1&queue=q3", 200, "q3@++++++ q3@open"},
		{"a token names a queue by name", nil, readToken, "/api/v1/intervals?" + rng + "&queue=Billing", 200, "q2@+++++ q2@open"},
		{"a viewer sees the open board's queue", vic, "", "/api/v1/intervals?" + rng, 200, "q1@+++ q1@++++ q1@open"},
		{"a viewer does not see the private board's queue", vic, "", "/api/v1/intervals?" + rng + "&queue=q2", 200, ""},
		{"nor a queue on no board", vic, "", "/api/v1/intervals?" + rng + "&queue=q3", 200, ""},
		{"a group on the private board", gina, "", "/api/v1/intervals?" + rng, 200, "q1@+++ q1@++++ q1@open q2@+++++ q2@open"},
		{"a user on the private board", sue, "", "/api/v1/intervals?" + rng + "&queue=q2", 200, "q2@+++++ q2@open"},
		{"yesterday", nil, readToken, "/api/v1/intervals?queue=q1&from=" + today.Add(-24*time.Hour).Format(time.RFC3339) + "&to=" + today.Format(time.RFC3339), 200, "q1@+++++++++"},
		{"a bad time", nil, readToken, "/api/v1/intervals?from=yesterday", 400, ""},
		{"to before from", nil, readToken, "/api/v1/intervals?from=2026-12-03T10:00:00Z&to=2026-12-03T09:00:00Z", 400, ""},
		{"more than 31 days", nil, readToken, "/api/v1/intervals?from=2026-01-01T00:00:00Z&to=2026-03-01T00:00:00Z", 400, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body, _ := get(tt.b, tt.token, tt.path)
			if status != tt.status {
				t.Fatalf("status %d, want %d: %.300s", status, tt.status, body)
			}
			if status == 200 {
				if got := summary(body); got != tt.want {
					t.Errorf("got  %q\nwant %q", got, tt.want)
				}
			}
			if status == 400 && !strings.Contains(body, `"errors"`) {
				t.Errorf("400 without errors: %s", body)
			}
		})
	}

	t.Run("today by default", func(t *testing.T) {
		_, body, _ := get(nil, readToken, "/api/v1/intervals")
		if got := summary(body); !strings.Contains(got, "q1@open") || strings.Contains(got, "+++++++++") {
			t.Errorf("today without from and to: %q", got)
		}
	})

	t.Run("fields", func(t *testing.T) {
		_, body, _ := get(nil, readToken, "/api/v1/intervals?"+rng+"&queue=q1")
		var raw struct {
			Intervals []map[string]any `json:"intervals"`
		}
		if err := json.Unmarshal([]byte(body), &raw); err != nil || len(raw.Intervals) != 3 {
			t.Fatalf("%v: %s", err, body)
		}
		first := raw.Intervals[0]
		for _, k := range []string{"source", "queue", "start", "end", "offered", "answered", "abandoned", "answered_in_sl", "handle_seconds", "max_wait_seconds", "complete"} {
			if _, ok := first[k]; !ok {
				t.Errorf("no %q in %v", k, first)
			}
		}
		if first["start"] != today.Format(time.RFC3339) || first["handle_seconds"] != 90.0 || first["max_wait_seconds"] != 1.5 {
			t.Errorf("first interval %v", first)
		}
		open := raw.Intervals[2]
		if open["complete"] != false || open["waiting_peak"] != 1.0 {
			t.Errorf("open interval %v", open)
		}
	})

	for _, how := range []struct {
		name   string
		path   string
		header []string
	}{{"format=csv", "/api/v1/intervals?" + rng + "&format=csv", nil}, {"Accept: text/csv", "/api/v1/intervals?" + rng, []string{"Accept", "text/csv"}}} {
		t.Run("CSV by "+how.name, func(t *testing.T) {
			status, body, h := get(vic, "", how.path, how.header...)
			if status != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/csv") {
				t.Fatalf("status %d, %s: %.200s", status, h.Get("Content-Type"), body)
			}
			recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != 4 || strings.Join(recs[0][:11], ",") != "source,queue,start,end,offered,answered,abandoned,answered_in_sl,handle_seconds,max_wait_seconds,complete" {
				t.Fatalf("CSV %q", recs)
			}
			var queues []string
			for _, r := range recs[1:] {
				queues = append(queues, r[1])
			}
			sort.Strings(queues)
			if strings.Join(queues, ",") != "q1,q1,q1" || recs[1][4] != "3" || recs[1][10] != "true" || recs[3][10] != "false" {
				t.Errorf("CSV rows %q", recs[1:])
			}
		})
	}
}
