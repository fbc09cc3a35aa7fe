package server

import (
	"context"
	"encoding/csv"
	"strings"
	"testing"
	"time"

	"github.com/wallboard/wallboard/internal/database"
	"github.com/wallboard/wallboard/internal/database/dbtest"
	"github.com/wallboard/wallboard/internal/event"
)

// TestBoardDay: GET /boards/{id}/day from outside: the board's supervisors
// see its queues' intervals as charts and a table, against a week before;
// viewers and other boards' users do not; the CSV holds the board's queues
// only.
func TestBoardDay(t *testing.T) {
	db := dbtest.Open(t)[0].DB
	cfg := secConfig()
	cfg.Boards[0].Queues = []string{"q1"}
	cfg.Boards[1].Queues = []string{"q2"}
	cfg.Boards[0].Thresholds.ServiceLevel.Warn = 0.8
	ts := newSecServerWith(t, cfg, func(o *Options) { o.History, o.Open = db, o.Floor.(OpenIntervals) })
	day := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC) // a Tuesday
	row := func(queue string, start time.Time, offered, answered, inSL, abandoned int) database.QueueInterval {
		return database.QueueInterval{Source: "s1", Queue: queue, Start: start, End: start.Add(15 * time.Minute), Offered: offered,
			Answered: answered, AnsweredInSL: inSL, Abandoned: abandoned, Handled: answered, HandleTotal: time.Duration(answered) * 2 * time.Minute,
			MaxWait: 40 * time.Second, Complete: true}
	}
	if err := db.SaveIntervals(context.Background(), []database.QueueInterval{
		row("q1", day.Add(9*time.Hour), 10, 9, 8, 1), row("q1", day.Add(9*time.Hour+15*time.Minute), 20, 18, 9, 2),
		row("q2", day.Add(9*time.Hour), 99, 99, 99, 0),
		row("q1", day.AddDate(0, 0, -7).Add(9*time.Hour), 15, 15, 15, 0), // a week before
	}, nil); err != nil {
		t.Fatal(err)
	}
	if err := ts.loop.Publish(context.Background(),
		event.Event{Kind: event.QueueInfo, Source: "s1", Queue: "q1", Name: "Sales"},
		event.Event{Kind: event.QueueInfo, Source: "s1", Queue: "q2", Name: "Billing"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return len(ts.proj.BoardQueues("floor")) == 1 && len(ts.proj.BoardQueues("private")) == 1 })

	anon := newBrowser(t, ts.URL)
	vic, sue, ada := signedIn(t, ts.URL, "vic"), signedIn(t, ts.URL, "sue"), signedIn(t, ts.URL, "ada")
	path := "/boards/floor/day?date=2026-11-24"
	for _, c := range []struct {
		name string
		b    *browser
		path string
		want int
	}{
		{"anonymous", anon, path, 401},
		{"a viewer", vic, path, 403},
		{"a supervisor", sue, path, 200},
		{"an admin", ada, path, 200},
		{"not a date", sue, "/boards/floor/day?date=tuesday", 400},
		{"no such board", sue, "/boards/nope/day", 404},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp, body := c.b.do("GET", c.path, nil, "Accept", "text/html")
			if resp.StatusCode != c.want && !(c.want == 401 && resp.StatusCode == 303) {
				t.Fatalf("status %d, want %d: %.200s", resp.StatusCode, c.want, body)
			}
		})
	}

	_, body := sue.do("GET", path, nil)
	for _, want := range []string{
		`data-testid="day-title">Floor: Tuesday 2026-11-24`,
		`id="day-s1-q1"`,
		`<rect class="b-offered"`, `<rect class="b-answered"`, `<rect class="b-abandoned"`,
		`<polyline class="d-sl"`, `<line class="d-target"`, `<polyline class="d-aht"`,
		`role="img" aria-label="Offered, answered and abandoned per interval: 30 offered, 27 answered, 3 abandoned"`,
		`<th scope="row">09:00`, `<th scope="row">09:15`,
		`<th scope="row">Offered</th><td>30</td><td>15</td><td>▲ +100%</td>`,
		`<th scope="row">Service level</th><td>57%</td><td>100%</td><td>▼ -43.3 points</td>`,
		`href="/boards/floor/day?date=2026-11-24&amp;format=csv"`,
		`href="?date=2026-11-23"`, `href="?date=2026-11-25"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the day page lacks %s", want)
		}
	}
	if strings.Contains(body, "day-s1-q2") || strings.Contains(body, ">99<") {
		t.Error("the day page shows a queue of another board")
	}

	resp, csvBody := sue.do("GET", path+"&format=csv", nil)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("CSV: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	recs, err := csv.NewReader(strings.NewReader(csvBody)).ReadAll()
	if err != nil || len(recs) != 3 || recs[0][0] != "source" || recs[1][1] != "q1" || recs[2][4] != "20" {
		t.Errorf("CSV %q, %v", recs, err)
	}
}
