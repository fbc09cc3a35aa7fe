package projection

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wallboard/wallboard/internal/config"
	"github.com/wallboard/wallboard/internal/i18n"
	"github.com/wallboard/wallboard/internal/model"
	"github.com/wallboard/wallboard/templates"
)

// The trend's drawing areas (SVG user units): waiting over the last hour,
// one unit a minute; the service level over the day, 96 units wide.
const (
	trendH    = 20.0
	trendTop  = 2.0
	slWidth   = 96.0
	waitWidth = float64(model.TrendMinutes)
)

// Trend is the small picture on queue q's tile: waiting over the last 60
// minutes (an area, one step a minute) and the service level through the
// day (a line with a dot at the end of each interval, beside a dashed
// target line), each with a text label, so neither reads by colour alone.
func (f *Floor) Trend(def *config.Board, q model.Queue, now time.Time) templates.QueueTrend {
	lang := def.Lang
	t := templates.QueueTrend{DOMID: DOMID("trend", q.Source, q.ID), WaitNow: q.Waiting}
	peaks := q.Trend.Waiting
	if len(peaks) == 0 {
		peaks = make([]int, model.TrendMinutes)
	}
	t.WaitPeak = max(slices.Max(peaks), q.Waiting)
	scale := float64(max(t.WaitPeak, 1))
	var sb strings.Builder
	sb.WriteString("0," + num(trendH))
	for i, p := range peaks {
		y := num(trendH - (trendH-trendTop)*float64(p)/scale)
		sb.WriteString(" " + strconv.Itoa(i) + "," + y + " " + strconv.Itoa(i+1) + "," + y)
	}
	sb.WriteString(" " + num(waitWidth) + "," + num(trendH))
	t.WaitArea = sb.String()
	t.WaitText = i18n.T(lang, "60m: %d", t.WaitPeak)
	t.WaitLabel = i18n.T(lang, "Waiting over the last 60 minutes: peak %d, now %d", t.WaitPeak, q.Waiting)

	// The service level through the day: today's figures at the end of each
	// closed interval, then now.
	y, m, d := now.In(f.loc).Date()
	start := time.Date(y, m, d, 0, 0, 0, 0, f.loc)
	span := time.Date(y, m, d+1, 0, 0, 0, 0, f.loc).Sub(start)
	x := func(at time.Time) float64 {
		return min(max(slWidth*float64(at.Sub(start))/float64(span), 0), slWidth)
	}
	st := f.Settings(q)
	var line []string
	for _, p := range q.Trend.Day {
		if p.At.Before(start) {
			continue
		}
		if sl, ok := p.ServiceLevel(st); ok {
			px, py := num(x(p.At)), num(slY(sl))
			line = append(line, px+","+py)
			t.SLDots = append(t.SLDots, templates.TrendDot{X: px, Y: py})
		}
	}
	slNow := "–"
	if sl, ok := q.ServiceLevel(); ok {
		slNow = i18n.Percent(lang, sl)
		line = append(line, num(x(now))+","+num(slY(sl)))
	}
	t.SLLine = strings.Join(line, " ")
	t.Points = len(t.SLDots)
	target := "–"
	if w := def.Thresholds.ServiceLevel.Warn; w > 0 {
		t.SLTargetY = num(slY(w))
		target = i18n.Percent(lang, w)
	}
	t.SLText = i18n.T(lang, "SL %s", slNow)
	t.SLLabel = i18n.T(lang, "Service level through the day: %s now, target %s", slNow, target)
	return t
}

func slY(sl float64) float64 { return trendH - (trendH-trendTop)*min(max(sl, 0), 1) }

// num formats an SVG coordinate with at most two decimals.
func num(v float64) string { return strconv.FormatFloat(float64(int64(v*100+0.5))/100, 'f', -1, 64) }
