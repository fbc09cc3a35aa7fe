package projection

import (
	"strconv"
	"time"

	"github.com/wallboard/wallboard/internal/config"
	"github.com/wallboard/wallboard/internal/erlang"
	"github.com/wallboard/wallboard/internal/event"
	"github.com/wallboard/wallboard/internal/i18n"
	"github.com/wallboard/wallboard/internal/model"
)

// staffingWindow is the stretch of recent traffic that the agents needed
// are computed from: its arrival rate and average handle time.
const staffingWindow = 60 * time.Minute

// defaultSLTarget is the service-level target when the board sets none
// (thresholds.service_level.warn).
const defaultSLTarget = 0.8

// Staffing is the agents queue q needs now by Erlang C, from the last
// hour's arrival rate and average handle time (today's when the hour has
// none), its service-level threshold and the board's target; and the agents
// it has: those of its source serving it who are logged in and not "not
// ready" (available, ringing, on a contact or in wrap-up). ok is false
// before there is traffic to compute from.
//
// Erlang C assumes nobody abandons and every agent serves only this queue:
// abandons are counted as arrivals (they needed an agent too), and an agent
// serving several queues counts in each, so the needs of queues that share
// agents must not be added up.
func (f *Floor) Staffing(def *config.Board, q model.Queue) (needs, has int, ok bool) {
	for _, a := range f.agents {
		if a.Source != q.Source || !servesQueue(a, q.ID) {
			continue
		}
		switch a.State {
		case event.StateAvailable, event.StateOffered, event.StateBusy, event.StateWrapUp:
			has++
		}
	}
	w, _ := q.Window(staffingWindow)
	aht, okAHT := w.AverageHandle()
	if !okAHT {
		aht, okAHT = q.AverageHandle()
	}
	if w.Offered == 0 || !okAHT || aht <= 0 {
		return 0, has, false
	}
	target := def.Thresholds.ServiceLevel.Warn
	if target <= 0 {
		target = defaultSLTarget
	}
	st := f.Settings(q)
	needs = erlang.AgentsNeeded(float64(w.Offered)/staffingWindow.Seconds(), aht.Seconds(), st.SLThreshold.Seconds(), target)
	return needs, has, true
}

// Queue returns the queue with key k as the floor has it.
func (f *Floor) Queue(k model.Key) (model.Queue, bool) {
	q, ok := f.queues[k]
	return q, ok
}

func servesQueue(a model.Agent, queue string) bool {
	for _, q := range a.Queues {
		if q == queue {
			return true
		}
	}
	return false
}

// staffingText is "needs 7 · has 5" ("needs – · has 5" before any traffic).
func staffingText(lang string, needs, has int, ok bool) string {
	n := "–"
	if ok {
		n = strconv.Itoa(needs)
	}
	return i18n.T(lang, "needs %s · has %d", n, has)
}
