package server

import (
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/wallboard/wallboard/internal/database"
	"github.com/wallboard/wallboard/internal/history"
	"github.com/wallboard/wallboard/internal/i18n"
	"github.com/wallboard/wallboard/internal/model"
	"github.com/wallboard/wallboard/internal/projection"
	"github.com/wallboard/wallboard/templates"
)

// The day view's charts, in SVG user units.
const (
	dayW      = 960
	dayVolH   = 160
	daySLH    = 110
	dayAxis   = 12 // the time axis' labels below the plot
	dayPlotTo = 4  // the plot's top margin
)

// handleBoardDay is GET /boards/{id}/day: a board's day for its
// supervisors (as the console): per queue, the intervals as charts and as a
// table, and the day against the same weekday a week before. ?date= picks
// the day (YYYY-MM-DD in the configured zone; default today); ?format=csv
// downloads the table.
func (s *Server) handleBoardDay(c echo.Context) error {
	id, err := s.consoleAccess(c)
	if err != nil {
		return err
	}
	loc := s.cfg.Location
	if loc == nil {
		loc = time.UTC
	}
	now := time.Now().In(loc)
	y, m, d := now.Date()
	day := time.Date(y, m, d, 0, 0, 0, 0, loc)
	if v := c.QueryParam("date"); v != "" {
		t, err := time.ParseInLocation(time.DateOnly, v, loc)
		if err != nil {
			return &pageError{status: http.StatusBadRequest, title: "Not a date", msg: "The day must be written YYYY-MM-DD."}
		}
		day = t
	}
	end := day.AddDate(0, 0, 1)
	queues := s.opts.Boards.BoardQueues(id)
	sort.Slice(queues, func(i, j int) bool {
		return queues[i].Name < queues[j].Name || queues[i].Name == queues[j].Name && queues[i].Key.Less(queues[j].Key)
	})
	keys := make([]database.QueueKey, len(queues))
	for i, q := range queues {
		keys[i] = database.QueueKey{Source: q.Source, Queue: q.ID}
	}
	ctx := c.Request().Context()
	rows, err := s.opts.History.QueueIntervals(ctx, database.IntervalFilter{From: day, To: end, Queues: keys, Limit: maxIntervalRows})
	if err != nil {
		return err
	}
	rows, err = s.withOpenInterval(c, rows, day, end)
	if err != nil {
		return err
	}
	weekAgo := day.AddDate(0, 0, -7)
	before, err := s.opts.History.QueueIntervals(ctx, database.IntervalFilter{From: weekAgo, To: weekAgo.AddDate(0, 0, 1), Queues: keys, Limit: maxIntervalRows})
	if err != nil {
		return err
	}
	byKey := groupRows(rows)
	beforeByKey := groupRows(before)

	esc := url.PathEscape(id)
	if c.QueryParam("format") == "csv" {
		var out []intervalJSON
		for _, k := range keys {
			for _, r := range byKey[k] {
				out = append(out, intervalOut(r))
			}
		}
		return writeIntervalsCSV(c, out, "day-"+id+"-"+day.Format(time.DateOnly)+".csv")
	}
	title := id
	if b, ok := s.cfg.Board(id); ok && b.Title != "" {
		title = b.Title
	}
	v := templates.DayPage{BoardID: id, Title: title, Date: day.Format(time.DateOnly), Weekday: day.Weekday().String(),
		Prev: day.AddDate(0, 0, -1).Format(time.DateOnly), BoardURL: "/boards/" + esc,
		CSVURL: "/boards/" + esc + "/day?" + url.Values{"date": {day.Format(time.DateOnly)}, "format": {"csv"}}.Encode(),
		Assets: s.templAssets(), Interval: s.cfg.IntervalLength.D().String()}
	if next := day.AddDate(0, 0, 1); !next.After(now) {
		v.Next = next.Format(time.DateOnly)
	}
	var target float64
	if b, ok := s.cfg.Board(id); ok {
		target = b.Thresholds.ServiceLevel.Warn
	}
	for _, q := range queues {
		k := database.QueueKey{Source: q.Source, Queue: q.ID}
		v.Queues = append(v.Queues, dayQueue(q, byKey[k], beforeByKey[k], day, end, loc, target))
	}
	return render(c, http.StatusOK, templates.DayPageView(v))
}

// withOpenInterval adds the model's open interval (complete false) to rows
// when it starts in [from, to) and is not stored yet.
func (s *Server) withOpenInterval(c echo.Context, rows []database.QueueInterval, from, to time.Time) ([]database.QueueInterval, error) {
	if s.opts.Open == nil {
		return rows, nil
	}
	set, ok, err := s.opts.Open.OpenInterval(c.Request().Context())
	if err != nil || !ok || set.Start.Before(from) || !set.Start.Before(to) {
		return rows, err
	}
	have := map[database.QueueKey]bool{}
	for _, r := range rows {
		if r.Start.Equal(set.Start) {
			have[database.QueueKey{Source: r.Source, Queue: r.Queue}] = true
		}
	}
	for _, q := range set.Queues {
		if !have[database.QueueKey{Source: q.Source, Queue: q.ID}] {
			rows = append(rows, history.QueueRow(q))
		}
	}
	return rows, nil
}

func groupRows(rows []database.QueueInterval) map[database.QueueKey][]database.QueueInterval {
	out := map[database.QueueKey][]database.QueueInterval{}
	for _, r := range rows {
		k := database.QueueKey{Source: r.Source, Queue: r.Queue}
		out[k] = append(out[k], r)
	}
	for _, rs := range out {
		sort.Slice(rs, func(i, j int) bool { return rs[i].Start.Before(rs[j].Start) })
	}
	return out
}

func figuresOf(r database.QueueInterval) model.Figures {
	return model.Figures{Offered: r.Offered, Answered: r.Answered, AnsweredInSL: r.AnsweredInSL, Abandoned: r.Abandoned,
		ShortAbandoned: r.ShortAbandoned, Handled: r.Handled, HandleTotal: r.HandleTotal}
}

func dayRow(start string, f model.Figures, st model.QueueSettings, maxWait time.Duration, complete bool) templates.DayRow {
	r := templates.DayRow{Start: start, Offered: f.Offered, Answered: f.Answered, Abandoned: f.Abandoned, ServiceLevel: "–",
		AverageHandle: "–", MaxWait: projection.Clock(maxWait), Complete: complete}
	if sl, ok := f.ServiceLevel(st); ok {
		r.ServiceLevel = i18n.Percent("en", sl)
	}
	if d, ok := f.AverageHandle(); ok {
		r.AverageHandle = projection.Clock(d)
	}
	return r
}

func dayQueue(q model.Queue, rows, before []database.QueueInterval, day, end time.Time, loc *time.Location, target float64) templates.DayQueue {
	st := q.Settings
	out := templates.DayQueue{Name: q.Name, Source: q.Source, DOMID: projection.DOMID("day", q.Source, q.ID)}
	span := end.Sub(day)
	x := func(t time.Time) float64 { return dayW * float64(t.Sub(day)) / float64(span) }
	var total model.Figures
	var maxWait time.Duration
	maxOffered := 1
	var maxAHT time.Duration
	for _, r := range rows {
		maxOffered = max(maxOffered, r.Offered)
		if f := figuresOf(r); f.Handled > 0 {
			maxAHT = max(maxAHT, f.HandleTotal/time.Duration(f.Handled))
		}
	}
	volPlot := float64(dayVolH - dayAxis - dayPlotTo)
	slPlot := float64(daySLH - dayAxis - dayPlotTo)
	var slPts, ahtPts []string
	for _, r := range rows {
		f := figuresOf(r)
		total = total.Add(f)
		maxWait = max(maxWait, r.MaxWait)
		out.Rows = append(out.Rows, dayRow(r.Start.In(loc).Format("15:04"), f, st, r.MaxWait, r.Complete))
		x0, w := x(r.Start), x(r.End)-x(r.Start)
		bw := w / 3.4
		label := r.Start.In(loc).Format("15:04")
		for i, b := range []struct {
			class string
			v     int
		}{{"offered", r.Offered}, {"answered", r.Answered}, {"abandoned", r.Abandoned}} {
			h := volPlot * float64(b.v) / float64(maxOffered)
			out.Volume.Bars = append(out.Volume.Bars, templates.DayBar{Class: b.class, X: f2(x0 + w*0.05 + float64(i)*bw),
				Y: f2(float64(dayVolH-dayAxis) - h), W: f2(bw * 0.9), H: f2(h), Title: label + " " + b.class + " " + strconv.Itoa(b.v)})
		}
		mid := x0 + w/2
		if sl, ok := f.ServiceLevel(st); ok {
			px, py := f2(mid), f2(float64(daySLH-dayAxis)-slPlot*sl)
			slPts = append(slPts, px+","+py)
			out.SL.Dots = append(out.SL.Dots, templates.TrendDot{X: px, Y: py})
		}
		if f.Handled > 0 && maxAHT > 0 {
			aht := f.HandleTotal / time.Duration(f.Handled)
			ahtPts = append(ahtPts, f2(mid)+","+f2(float64(daySLH-dayAxis)-slPlot*float64(aht)/float64(maxAHT)))
		}
	}
	out.Total = dayRow("Day", total, st, maxWait, true)
	out.Volume.W, out.Volume.H = dayW, dayVolH
	out.SL.W, out.SL.H = dayW, daySLH
	out.SL.Line, out.SL.AHTLine = join(slPts), join(ahtPts)
	if target > 0 {
		out.SL.TargetY = f2(float64(daySLH-dayAxis) - slPlot*target)
	}
	for h := 0; h < 24; h += 3 {
		t := time.Date(day.Year(), day.Month(), day.Day(), h, 0, 0, 0, loc)
		out.Volume.Ticks = append(out.Volume.Ticks, templates.DayTick{X: f2(x(t)), Label: t.Format("15:04")})
	}
	out.SL.Ticks = out.Volume.Ticks
	out.Volume.Label = "Offered, answered and abandoned per interval: " + strconv.Itoa(total.Offered) + " offered, " +
		strconv.Itoa(total.Answered) + " answered, " + strconv.Itoa(total.Abandoned) + " abandoned"
	out.SL.Label = "Service level per interval against the target, and the average handle time: the day " + out.Total.ServiceLevel
	if target > 0 {
		out.SL.Label += ", target " + i18n.Percent("en", target)
	}

	var was model.Figures
	for _, r := range before {
		was = was.Add(figuresOf(r))
	}
	wasRow := dayRow("", was, st, 0, true)
	out.WeekAgo = wasRow
	change := func(name string, now, then float64, nowS, thenS string, pct bool) templates.DayChange {
		c := templates.DayChange{Name: name, Now: nowS, Before: thenS, Change: "–", Direction: "same"}
		switch {
		case len(before) == 0:
			c.Change = "no data"
		case pct:
			d := (now - then) * 100
			c.Change = signed(d) + " points"
			c.Direction = dir(d)
		case then > 0:
			d := (now - then) / then * 100
			c.Change = signed(d) + "%"
			c.Direction = dir(d)
		}
		switch c.Direction {
		case "up":
			c.Change = "▲ " + c.Change
		case "down":
			c.Change = "▼ " + c.Change
		}
		return c
	}
	slNow, okNow := total.ServiceLevel(st)
	slThen, okThen := was.ServiceLevel(st)
	out.Compare = []templates.DayChange{
		change("Offered", float64(total.Offered), float64(was.Offered), strconv.Itoa(total.Offered), strconv.Itoa(was.Offered), false),
		change("Answered", float64(total.Answered), float64(was.Answered), strconv.Itoa(total.Answered), strconv.Itoa(was.Answered), false),
		change("Abandoned", float64(total.Abandoned), float64(was.Abandoned), strconv.Itoa(total.Abandoned), strconv.Itoa(was.Abandoned), false),
	}
	slc := change("Service level", slNow, slThen, out.Total.ServiceLevel, wasRow.ServiceLevel, true)
	if !okNow || !okThen {
		slc.Change, slc.Direction = "–", "same"
	}
	out.Compare = append(out.Compare, slc)
	return out
}

func f2(v float64) string { return strconv.FormatFloat(float64(int64(v*100+0.5))/100, 'f', -1, 64) }

func join(p []string) string { return strings.Join(p, " ") }

func signed(v float64) string {
	s := strconv.FormatFloat(float64(int64(v*10+copysignHalf(v)))/10, 'f', -1, 64)
	if v > 0 {
		s = "+" + s
	}
	return s
}

func copysignHalf(v float64) float64 {
	if v < 0 {
		return -0.5
	}
	return 0.5
}

func dir(v float64) string {
	switch {
	case v > 0.05:
		return "up"
	case v < -0.05:
		return "down"
	}
	return "same"
}
