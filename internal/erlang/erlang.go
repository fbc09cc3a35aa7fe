// Package erlang is the Erlang C staffing formula: the chance that a
// contact waits, the service level and the average speed of answer for a
// number of agents, and the fewest agents that meet a service-level target.
//
// Erlang C assumes contacts arrive at random (Poisson) at a steady rate,
// handle times are exponential, every agent serves the queue, and nobody
// hangs up while waiting. Real callers do abandon, so Erlang C errs on the
// safe side: it asks for somewhat more agents than a queue with abandons
// needs.
package erlang

import "math"

// MaxAgents bounds AgentsNeeded's search.
const MaxAgents = 10000

// Traffic is the offered load in Erlangs: arrivals per second × average
// handle time in seconds.
func Traffic(arrivalsPerSecond, handleSeconds float64) float64 {
	if arrivalsPerSecond <= 0 || handleSeconds <= 0 {
		return 0
	}
	return arrivalsPerSecond * handleSeconds
}

// WaitProbability is Erlang C: the chance that a contact has to wait, with
// n agents and a load of a Erlangs. It is 1 when n ≤ a (the queue grows
// without end) and 0 without load.
func WaitProbability(n int, a float64) float64 {
	if a <= 0 {
		return 0
	}
	if float64(n) <= a {
		return 1
	}
	// Erlang B by its stable recursion, then C from B.
	b := 1.0
	for k := 1; k <= n; k++ {
		b = a * b / (float64(k) + a*b)
	}
	return float64(n) * b / (float64(n) - a*(1-b))
}

// ServiceLevel is the share of contacts answered within target seconds,
// with n agents, a load of a Erlangs and an average handle time of
// handleSeconds.
func ServiceLevel(n int, a, handleSeconds, target float64) float64 {
	if a <= 0 {
		return 1
	}
	if float64(n) <= a || handleSeconds <= 0 {
		return 0
	}
	return 1 - WaitProbability(n, a)*math.Exp(-(float64(n)-a)*target/handleSeconds)
}

// AverageSpeedOfAnswer is the mean wait in seconds (over every contact,
// those answered at once included); +Inf when n ≤ a.
func AverageSpeedOfAnswer(n int, a, handleSeconds float64) float64 {
	if a <= 0 {
		return 0
	}
	if float64(n) <= a {
		return math.Inf(1)
	}
	return WaitProbability(n, a) * handleSeconds / (float64(n) - a)
}

// AgentsNeeded is the fewest agents that answer at least share (0–1) of
// contacts within target seconds, for arrivalsPerSecond and an average
// handle time of handleSeconds. It is 0 without traffic, and MaxAgents when
// even that many would not do.
func AgentsNeeded(arrivalsPerSecond, handleSeconds, target, share float64) int {
	a := Traffic(arrivalsPerSecond, handleSeconds)
	if a <= 0 {
		return 0
	}
	share = min(max(share, 0), 0.999999)
	// Erlang B grows by one agent at a time (B(n) from B(n-1)), so the
	// search costs one step per agent, not one recursion per candidate.
	b := 1.0
	for n := 1; n <= MaxAgents; n++ {
		b = a * b / (float64(n) + a*b)
		if float64(n) <= a {
			continue
		}
		c := float64(n) * b / (float64(n) - a*(1-b))
		if 1-c*math.Exp(-(float64(n)-a)*target/handleSeconds) >= share {
			return n
		}
	}
	return MaxAgents
}
