package netsapiens

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wallboard/wallboard/internal/event"
	"github.com/wallboard/wallboard/internal/model"
)

// The objects below are shaped like the emulator's (and the vendor's v2)
// posts, so each case is the exact sequence a burst can deliver.

// nsAgent renders agent id's entry in queue q in state st.
func nsAgent(id, q string, st event.State) map[string]any {
	avail, dispatch, calls := "automatic", "no", "0"
	switch st {
	case event.StateAvailable:
		dispatch = "yes"
	case event.StateBusy:
		calls = "1"
	case event.StateNotReady:
		avail = "manual"
	case event.StateLoggedOut:
		avail = "disabled"
	}
	return map[string]any{"domain": "acme.service", "callqueue": q, "callqueue-name": "Queue " + q,
		"callqueue-agent-id": id + "@acme.service", "callqueue-agent-availability-type": avail,
		"callqueue-agent-availability-for-dispatch": dispatch, "active-calls-total-current": calls}
}

// nsCall renders a change of call id in queue q: queued, offered (to
// agent), rejected (by agent), answered (by agent), ended (by agent) or
// abandoned.
func nsCall(id, q, change, agent string) map[string]any {
	o := map[string]any{"domain": "acme.service", "call-orig-call-id": id, "call-orig-user": "+442079460001",
		"call-orig-to-user": q, "call-start-datetime": "2026-11-21 10:29:00"}
	if agent != "" {
		o["call-term-user"], o["call-term-call-id"] = agent, id+"-"+agent
	}
	switch change {
	case "rejected":
		o["remove"] = "yes"
	case "answered":
		o["call-answer-datetime"] = "2026-11-21 10:29:10"
	case "ended":
		o["call-answer-datetime"] = "2026-11-21 10:29:10"
		o["remove"], o["call-release-datetime"] = "yes", "2026-11-21 10:29:50"
	case "abandoned":
		o["remove"], o["call-release-datetime"] = "yes", "2026-11-21 10:29:50"
	}
	return o
}

// nsCDR renders the legacy cdr of call id, answered by agent unless "".
func nsCDR(id, q, agent string) map[string]any {
	answer := "0000-00-00 00:00:00"
	if agent != "" {
		answer = "2026-11-21 10:29:10"
	}
	return map[string]any{"action": "INSERT", "object": "cdr", "orig_callid": id, "orig_to_user": q, "term_user": agent,
		"time_start": "2026-11-21 10:29:00", "time_answer": answer, "time_release": "2026-11-21 10:29:50", "duration": "50"}
}

type nsPost struct {
	model string
	objs  []map[string]any
}

func posts(model string, objs ...map[string]any) nsPost { return nsPost{model, objs} }

// play feeds the posts through a Translator into a real model, as Run and
// the model loop do; restartAt > 0 replaces the translator (a restart of
// wallboard: the model is restored, the translator starts empty and the
// kept agent subscription does not restate the agents) before that post.
func play(t *testing.T, ps []nsPost, dup bool, restartAt int) *model.Model {
	t.Helper()
	m := model.New(model.Options{})
	tr := NewTranslator("ns", nil)
	at := recv
	for i, p := range ps {
		if i == restartAt && restartAt > 0 {
			tr = NewTranslator("ns", nil)
		}
		body, err := json.Marshal(p.objs)
		if err != nil {
			t.Fatal(err)
		}
		n := 1
		if dup {
			n = 2 // every batch posted twice (geo-redundant failover)
		}
		for range n {
			objs, bad, err := DecodeBatch(body)
			if err != nil || bad > 0 {
				t.Fatalf("post %d: %v (%d bad)", i, err, bad)
			}
			at = at.Add(10 * time.Millisecond)
			evs, skipped := tr.Translate(p.model, objs, at)
			if skipped > 0 {
				t.Fatalf("post %d: %d objects skipped", i, skipped)
			}
			for _, e := range evs {
				m.Apply(e, at)
			}
		}
	}
	return m
}

func TestBurstSequencesThroughModel(t *testing.T) {
	t.Parallel()
	const (
		av, of, bu, wu = event.StateAvailable, event.StateOffered, event.StateBusy, event.StateWrapUp
	)
	type counts = [4]int // waiting, offered, answered, abandoned
	// A serves q1; B serves q2.
	login := posts("agent", nsAgent("A", "q1", av), nsAgent("B", "q2", av))
	tests := []struct {
		name      string
		posts     []nsPost
		restartAt int // replace the translator before this post (0: never)
		queues    map[string]counts
		agents    map[string]event.State
	}{
		{
			// The only idle agent rejects and is offered the same call
			// again within one burst: the second offer is an object equal
			// to the first.
			name: "re-offered to the same agent after a rejection",
			posts: []nsPost{login,
				posts("call", nsCall("c1", "q1", "queued", ""), nsCall("c1", "q1", "offered", "A")),
				posts("agent", nsAgent("A", "q1", of)),
				posts("call", nsCall("c1", "q1", "rejected", "A"), nsCall("c1", "q1", "offered", "A")),
				posts("agent", nsAgent("A", "q1", av), nsAgent("A", "q1", of)),
			},
			queues: map[string]counts{"q1": {0, 1, 0, 0}},
			agents: map[string]event.State{"A": of},
		},
		{
			name: "answered by the same agent after a rejection",
			posts: []nsPost{login,
				posts("call", nsCall("c1", "q1", "queued", ""), nsCall("c1", "q1", "offered", "A"),
					nsCall("c1", "q1", "rejected", "A"), nsCall("c1", "q1", "offered", "A")),
				posts("agent", nsAgent("A", "q1", of), nsAgent("A", "q1", av), nsAgent("A", "q1", of)),
				posts("call", nsCall("c1", "q1", "answered", "A")),
				posts("agent", nsAgent("A", "q1", bu)),
			},
			queues: map[string]counts{"q1": {0, 1, 1, 0}},
			agents: map[string]event.State{"A": bu},
		},
		{
			// A rejection posted again (a repeated teardown of the same
			// leg) while the call waits is not the call's end.
			name: "a rejection repeated while the call waits",
			posts: []nsPost{posts("agent", nsAgent("A", "q1", av), nsAgent("C", "q1", av)),
				posts("call", nsCall("c1", "q1", "queued", ""), nsCall("c1", "q1", "offered", "A"),
					nsCall("c1", "q1", "rejected", "A")),
				posts("call", nsCall("c1", "q1", "rejected", "A")),
				posts("call", nsCall("c1", "q1", "offered", "C")),
				posts("agent", nsAgent("C", "q1", of)),
			},
			queues: map[string]counts{"q1": {0, 1, 0, 0}},
			agents: map[string]event.State{"A": av, "C": of},
		},
		{
			// The vendor's agent model posts changes only: a queue is
			// named when one of its agents changes, which may be after the
			// queue's first calls.
			name: "a queue named by the agent model after its first calls",
			posts: []nsPost{posts("agent", nsAgent("A", "q1", av)),
				posts("call", nsCall("c1", "q2", "queued", ""), nsCall("c2", "q2", "queued", ""),
					nsCall("c1", "q2", "offered", "B")),
				posts("agent", nsAgent("B", "q2", of)),
			},
			queues: map[string]counts{"q1": {0, 0, 0, 0}, "q2": {1, 2, 0, 0}},
			agents: map[string]event.State{"A": av, "B": of},
		},
		{
			name: "a queue named after one of its calls answered and another abandoned",
			posts: []nsPost{posts("agent", nsAgent("A", "q1", av)),
				posts("call", nsCall("c1", "q2", "queued", ""), nsCall("c1", "q2", "offered", "B"),
					nsCall("c1", "q2", "answered", "B"), nsCall("c2", "q2", "queued", ""), nsCall("c2", "q2", "abandoned", "")),
				posts("cdr", nsCDR("c2", "q2", "")),
				posts("agent", nsAgent("B", "q2", bu)),
			},
			queues: map[string]counts{"q2": {0, 2, 1, 1}},
			agents: map[string]event.State{"B": bu},
		},
		{
			name: "restart between an offer and its rejection",
			posts: []nsPost{login,
				posts("agent", nsAgent("C", "q1", av)),
				posts("call", nsCall("c1", "q1", "queued", ""), nsCall("c1", "q1", "offered", "A")),
				posts("agent", nsAgent("A", "q1", of)),
				posts("call", nsCall("c1", "q1", "rejected", "A"), nsCall("c1", "q1", "offered", "C")),
				posts("agent", nsAgent("A", "q1", av), nsAgent("C", "q1", of)),
				posts("call", nsCall("c1", "q1", "answered", "C")),
				posts("agent", nsAgent("C", "q1", bu)),
			},
			restartAt: 4,
			queues:    map[string]counts{"q1": {0, 1, 1, 0}},
			agents:    map[string]event.State{"A": av, "C": bu},
		},
		{
			name: "restart while a call is answered",
			posts: []nsPost{login,
				posts("call", nsCall("c1", "q1", "queued", ""), nsCall("c1", "q1", "offered", "A"),
					nsCall("c1", "q1", "answered", "A")),
				posts("agent", nsAgent("A", "q1", bu)),
				posts("call", nsCall("c1", "q1", "ended", "A")),
				posts("cdr", nsCDR("c1", "q1", "A")),
				posts("agent", nsAgent("A", "q1", wu)),
			},
			restartAt: 3,
			queues:    map[string]counts{"q1": {0, 1, 1, 0}},
			agents:    map[string]event.State{"A": wu},
		},
		{
			// The models are separate subscriptions posted independently:
			// the cdr may come before the call's teardown, an agent's
			// entry before the call change that explains it.
			name: "models posted out of order",
			posts: []nsPost{login,
				posts("call", nsCall("c1", "q1", "queued", "")),
				posts("agent", nsAgent("A", "q1", of)),
				posts("call", nsCall("c1", "q1", "offered", "A")),
				posts("agent", nsAgent("A", "q1", bu)),
				posts("call", nsCall("c1", "q1", "answered", "A")),
				posts("cdr", nsCDR("c1", "q1", "A")),
				posts("agent", nsAgent("A", "q1", wu)),
				posts("call", nsCall("c1", "q1", "ended", "A")),
				posts("call", nsCall("c2", "q1", "queued", "")),
				posts("cdr", nsCDR("c2", "q1", "")),
				posts("call", nsCall("c2", "q1", "abandoned", "")),
			},
			queues: map[string]counts{"q1": {0, 2, 1, 1}},
			agents: map[string]event.State{"A": wu},
		},
	}
	for _, tc := range tests {
		for _, dup := range []bool{false, true} {
			name := tc.name
			if dup {
				name += " (every post twice)"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				m := play(t, tc.posts, dup, tc.restartAt)
				var diff []string
				for _, q := range slices.Sorted(maps.Keys(tc.queues)) {
					got, _ := m.Queue(model.Key{Source: "ns", ID: q})
					if g := (counts{got.Waiting, got.Offered, got.Answered, got.Abandoned}); g != tc.queues[q] {
						diff = append(diff, fmt.Sprintf("queue %s: waiting/offered/answered/abandoned %v, want %v", q, g, tc.queues[q]))
					}
				}
				for _, id := range slices.Sorted(maps.Keys(tc.agents)) {
					got, _ := m.Agent(model.Key{Source: "ns", ID: id})
					if got.State != tc.agents[id] {
						diff = append(diff, fmt.Sprintf("agent %s: %s, want %s", id, got.State, tc.agents[id]))
					}
				}
				if len(diff) > 0 {
					t.Error(strings.Join(diff, "\n"))
				}
			})
		}
	}
}
