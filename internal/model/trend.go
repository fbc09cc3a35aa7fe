package model

import (
	"slices"
	"sort"
	"time"
)

// Trends: what a queue's tile draws beside its figures. Each queue keeps
// the most contacts waiting in each of the last TrendMinutes minutes, and
// today's figures as they stood at the end of each closed interval (its
// service level through the day). A queue's trend changes its copy at most
// once a minute by itself (the minute moves on); within the minute only
// when the queue changes anyway.

// TrendMinutes is how many minutes of waiting a trend holds.
const TrendMinutes = 60

// maxTrendDay bounds a queue's points of the day (a day of 1-minute
// intervals, and the hour a daylight-saving day adds).
const maxTrendDay = 25 * 60

// Trend is a queue's trend as of its copy.
type Trend struct {
	// Waiting holds the most contacts waiting in each minute, oldest first;
	// the last is the minute now running (since Minute).
	Waiting []int
	Minute  time.Time
	// Day: today's figures at the end of each closed interval, in order.
	Day []TrendPoint
}

// The persisted trend: the last hour's peaks, oldest first, and the minute
// of the last.
type stTrend struct {
	Minute int64 `json:"minute"`
	Peaks  []int `json:"peaks"`
}

func (t *queueTrend) persist() *stTrend {
	if t.minute == 0 || t.flat(0) {
		return nil
	}
	s := &stTrend{Minute: t.minute, Peaks: make([]int, TrendMinutes)}
	for i := range TrendMinutes {
		s.Peaks[i] = t.peaks[(t.minute-TrendMinutes+1+int64(i))%TrendMinutes]
	}
	return s
}

func (t *queueTrend) restore(s *stTrend) {
	if s == nil || s.Minute <= 0 || len(s.Peaks) != TrendMinutes {
		return
	}
	t.minute = s.Minute
	for i, p := range s.Peaks {
		t.peaks[(s.Minute-TrendMinutes+1+int64(i))%TrendMinutes] = max(p, 0)
	}
}

// TrendPoint is a queue's day so far at the end of an interval.
type TrendPoint struct {
	At time.Time
	Figures
}

// queueTrend is a queue's trend state.
type queueTrend struct {
	peaks  [TrendMinutes]int // ring: peaks[minute % TrendMinutes]
	minute int64             // the current minute (Unix minutes); 0: none yet
	day    []TrendPoint
}

func unixMinute(t time.Time) int64 { return t.Unix() / 60 }

// roll moves the trend to minute now, carrying level (the contacts waiting
// meanwhile) into the minutes it passes; it reports whether it moved.
func (t *queueTrend) roll(now int64, level int) bool {
	if t.minute == 0 {
		t.minute = now
		t.peaks[now%TrendMinutes] = level
		return true
	}
	if now <= t.minute {
		return false
	}
	for m := max(t.minute+1, now-TrendMinutes+1); m <= now; m++ {
		t.peaks[m%TrendMinutes] = level
	}
	t.minute = now
	return true
}

// flat reports whether the last hour held nothing but level.
func (t *queueTrend) flat(level int) bool {
	for _, p := range t.peaks {
		if p != level {
			return false
		}
	}
	return true
}

// trendWaiting records q's waiting count after a change.
func (m *Model) trendWaiting(q *queue) {
	if m.iv.clock.IsZero() {
		return
	}
	now := unixMinute(m.iv.clock)
	q.trend.roll(now, q.Waiting)
	i := q.trend.minute % TrendMinutes
	q.trend.peaks[i] = max(q.trend.peaks[i], q.Waiting)
}

// trendTick moves every queue's trend to the minute of the interval clock
// (the time of the events applied, or of the loop's tick), marking changed
// the queues whose last hour was not flat (their picture moves on).
func (m *Model) trendTick() {
	if m.iv.clock.IsZero() {
		return
	}
	cur := unixMinute(m.iv.clock)
	if cur == m.trendMinute {
		return
	}
	m.trendMinute = cur
	for k, q := range m.queues {
		wasFlat := q.trend.minute != 0 && q.trend.flat(q.Waiting)
		if q.trend.roll(cur, q.Waiting) && !wasFlat {
			m.dirty.Queues[k] = true
		}
	}
}

// trendClose adds today's figures at the end of a closed interval.
func (q *queue) trendClose(end time.Time) {
	q.trend.day = append(q.trend.day, TrendPoint{At: end.UTC(), Figures: q.Today()})
	if len(q.trend.day) > maxTrendDay {
		q.trend.day = slices.Delete(q.trend.day, 0, len(q.trend.day)-maxTrendDay)
	}
}

func (q *queue) trendCopy() Trend {
	t := Trend{Day: slices.Clone(q.trend.day)}
	if q.trend.minute == 0 {
		return t
	}
	t.Minute = time.Unix(q.trend.minute*60, 0).UTC()
	t.Waiting = make([]int, TrendMinutes)
	for i := range TrendMinutes {
		t.Waiting[i] = q.trend.peaks[(q.trend.minute-TrendMinutes+1+int64(i))%TrendMinutes]
	}
	return t
}

// SeedDay gives the queues the points of today's intervals closed before
// the model started (read back from the database), so a restart keeps
// their service level through the day. Rows of other days, of the interval
// still open, or of queues that already have points are left out.
func (m *Model) SeedDay(rows []QueueInterval) {
	if m.day == "" {
		return
	}
	start, end := m.dayStart(), m.dayEnd()
	limit := m.now
	if !m.iv.start.IsZero() {
		limit = m.iv.start
	}
	by := map[Key][]QueueInterval{}
	for _, r := range rows {
		if r.Start.Before(start) || !r.Start.Before(end) || r.End.After(limit) {
			continue
		}
		by[r.Key] = append(by[r.Key], r)
	}
	for k, rs := range by {
		q := m.queues[k]
		if q == nil || len(q.trend.day) > 0 {
			continue
		}
		sort.Slice(rs, func(i, j int) bool { return rs[i].Start.Before(rs[j].Start) })
		var sum Figures
		for _, r := range rs {
			sum = sum.Add(r.Figures())
			q.trend.day = append(q.trend.day, TrendPoint{At: r.End.UTC(), Figures: sum})
		}
		m.dirty.Queues[k] = true
	}
}
