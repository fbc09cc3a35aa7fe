package server

import (
	"context"
	"encoding/csv"
	"errors"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/wallboard/wallboard/internal/config"
	"github.com/wallboard/wallboard/internal/database"
	"github.com/wallboard/wallboard/internal/history"
	"github.com/wallboard/wallboard/internal/model"
)

// History reads the history intervals (internal/database).
type History interface {
	QueueIntervals(ctx context.Context, f database.IntervalFilter) ([]database.QueueInterval, error)
}

// OpenIntervals gives the history interval still open (model.Loop).
type OpenIntervals interface {
	OpenInterval(ctx context.Context) (model.IntervalSet, bool, error)
}

// Limits of one intervals request: a month of intervals, and a bounded
// number of rows (a month of 15-minute intervals for about 70 queues).
const (
	maxIntervalSpan = 31 * 24 * time.Hour
	maxIntervalRows = 200000
)

// intervalJSON is one queue interval as GET /api/v1/intervals shows it.
type intervalJSON struct {
	Source         string    `json:"source"`
	Queue          string    `json:"queue"`
	Start          time.Time `json:"start"`
	End            time.Time `json:"end"`
	Offered        int       `json:"offered"`
	Answered       int       `json:"answered"`
	Abandoned      int       `json:"abandoned"`
	AnsweredInSL   int       `json:"answered_in_sl"`
	HandleSeconds  float64   `json:"handle_seconds"`
	MaxWaitSeconds float64   `json:"max_wait_seconds"`
	Complete       bool      `json:"complete"`
	Handled        int       `json:"handled"`
	ShortAbandoned int       `json:"short_abandoned"`
	WaitingPeak    int       `json:"waiting_peak"`
	WaitingAverage float64   `json:"waiting_average"`
}

var intervalCSVHeader = []string{"source", "queue", "start", "end", "offered", "answered", "abandoned", "answered_in_sl",
	"handle_seconds", "max_wait_seconds", "complete", "handled", "short_abandoned", "waiting_peak", "waiting_average"}

func (j intervalJSON) csv() []string {
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	i := strconv.Itoa
	return []string{j.Source, j.Queue, j.Start.Format(time.RFC3339), j.End.Format(time.RFC3339), i(j.Offered), i(j.Answered),
		i(j.Abandoned), i(j.AnsweredInSL), f(j.HandleSeconds), f(j.MaxWaitSeconds), strconv.FormatBool(j.Complete), i(j.Handled),
		i(j.ShortAbandoned), i(j.WaitingPeak), f(j.WaitingAverage)}
}

func intervalOut(q database.QueueInterval) intervalJSON {
	return intervalJSON{Source: q.Source, Queue: q.Queue, Start: q.Start.UTC(), End: q.End.UTC(), Offered: q.Offered, Answered: q.Answered,
		Abandoned: q.Abandoned, AnsweredInSL: q.AnsweredInSL, HandleSeconds: q.HandleTotal.Seconds(), MaxWaitSeconds: q.MaxWait.Seconds(),
		Complete: q.Complete, Handled: q.Handled, ShortAbandoned: q.ShortAbandoned, WaitingPeak: q.WaitingPeak,
		WaitingAverage: float64(int64(q.WaitingAvg*1000+0.5)) / 1000}
}

// handleIntervals is GET /api/v1/intervals: the history intervals of the
// queues the caller may see (an API token: every queue; a session: the
// queues of the boards it may see, as for /api/v1/state), that start
// between from and to (default: today in the configured zone), with the
// open interval (complete false). format=csv or Accept: text/csv gives CSV.
func (s *Server) handleIntervals(c echo.Context) error {
	r := c.Request()
	c.Response().Header().Set("Cache-Control", "no-store")
	token := s.apiToken(r)
	p, signedIn := s.principal(r)
	if !token && !signedIn {
		c.Response().Header().Set("WWW-Authenticate", `Bearer realm="wallboard"`)
		return ErrUnauthorized
	}
	q := c.QueryParams()
	from, to, probs := s.intervalRange(q.Get("from"), q.Get("to"))
	if len(probs) > 0 {
		e := problemsError(probs)
		e.body["error"] = "invalid query"
		return answer(c, e)
	}
	source, queue := q.Get("source"), q.Get("queue")

	// Which queues: nil (every one, in the database too) only for a token
	// that names none; otherwise the model's queues the caller may see,
	// narrowed by source and queue (an id or a name).
	var keys []database.QueueKey
	allowed := func(model.Key) bool { return true }
	if !token || source != "" || queue != "" {
		snap, err := s.opts.Floor.Snapshot(r.Context())
		if err != nil {
			return err
		}
		if !token {
			snap = s.visibleTo(p, snap)
		}
		set := map[model.Key]bool{}
		keys = []database.QueueKey{}
		for _, mq := range snap.Queues {
			if (source == "" || mq.Source == source) && (queue == "" || mq.ID == queue || mq.Name == queue) {
				keys = append(keys, database.QueueKey{Source: mq.Source, Queue: mq.ID})
				set[mq.Key] = true
			}
		}
		allowed = func(k model.Key) bool { return set[k] }
	}
	rows, err := s.opts.History.QueueIntervals(r.Context(), database.IntervalFilter{From: from, To: to, Queues: keys, Limit: maxIntervalRows})
	if errors.Is(err, database.ErrTooMany) {
		return answer(c, apiError(http.StatusBadRequest, "too many intervals: narrow from and to, or name a source or queue"))
	}
	if err != nil {
		return err
	}
	out := make([]intervalJSON, 0, len(rows))
	have := map[database.QueueKey]time.Time{} // the latest stored start per queue
	for _, row := range rows {
		out = append(out, intervalOut(row))
		k := database.QueueKey{Source: row.Source, Queue: row.Queue}
		if row.Start.After(have[k]) {
			have[k] = row.Start
		}
	}
	if s.opts.Open != nil {
		set, ok, err := s.opts.Open.OpenInterval(r.Context())
		if err != nil {
			return err
		}
		if ok && !set.Start.Before(from) && set.Start.Before(to) {
			for _, oq := range set.Queues {
				k := database.QueueKey{Source: oq.Source, Queue: oq.ID}
				if !allowed(oq.Key) || !have[k].Before(oq.Start) {
					continue // not the caller's, or stored already
				}
				out = append(out, intervalOut(history.QueueRow(oq)))
			}
			sort.SliceStable(out, func(i, j int) bool {
				a, b := out[i], out[j]
				if a.Source != b.Source {
					return a.Source < b.Source
				}
				if a.Queue != b.Queue {
					return a.Queue < b.Queue
				}
				return a.Start.Before(b.Start)
			})
		}
	}
	if q.Get("format") == "csv" || (q.Get("format") == "" && strings.Contains(r.Header.Get("Accept"), "text/csv")) {
		return writeIntervalsCSV(c, out, "intervals-"+from.In(s.cfg.Location).Format(time.DateOnly)+".csv")
	}
	return c.JSON(http.StatusOK, map[string]any{"intervals": out})
}

// writeIntervalsCSV answers intervals as CSV with a header line, as a
// download named filename.
func writeIntervalsCSV(c echo.Context, out []intervalJSON, filename string) error {
	h := c.Response().Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Disposition", `attachment; filename="`+strings.Map(func(r rune) rune {
		if r == '"' || r == '\\' || r < ' ' || r > '~' {
			return '_'
		}
		return r
	}, filename)+`"`)
	c.Response().WriteHeader(http.StatusOK)
	w := csv.NewWriter(c.Response())
	_ = w.Write(intervalCSVHeader)
	for _, j := range out {
		_ = w.Write(j.csv())
	}
	w.Flush()
	return w.Error()
}

// intervalRange parses from and to (RFC 3339); from defaults to the start
// of today in the configured zone, to to the end of from's day.
func (s *Server) intervalRange(fromS, toS string) (from, to time.Time, probs config.Problems) {
	loc := s.cfg.Location
	if loc == nil {
		loc = time.UTC
	}
	parse := func(name, v string) time.Time {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			probs = append(probs, name+": must be an RFC 3339 time like 2026-12-03T00:00:00Z")
		}
		return t
	}
	if fromS != "" {
		from = parse("from", fromS)
	} else {
		y, m, d := time.Now().In(loc).Date()
		from = time.Date(y, m, d, 0, 0, 0, 0, loc)
	}
	if toS != "" {
		to = parse("to", toS)
	} else {
		y, m, d := from.In(loc).Date()
		to = time.Date(y, m, d+1, 0, 0, 0, 0, loc)
	}
	if len(probs) == 0 {
		switch {
		case !to.After(from):
			probs = append(probs, "to: must be after from")
		case to.Sub(from) > maxIntervalSpan:
			probs = append(probs, "to: at most 31 days after from")
		}
	}
	return from, to, probs
}
