package netsapiens

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wallboard/wallboard/internal/event"
	"github.com/wallboard/wallboard/internal/model"
	"github.com/wallboard/wallboard/internal/source"
)

var recv = time.Date(2026, 11, 21, 10, 30, 0, 0, time.UTC)

// summary renders the fields of an event that matter for its kind.
func summary(e event.Event) string {
	t := func(x time.Time) string {
		if x.IsZero() {
			return "-"
		}
		return x.UTC().Format("15:04:05")
	}
	switch e.Kind {
	case event.AgentInfo:
		return fmt.Sprintf("agent_info %s %q %v", e.Agent, e.Name, e.Queues)
	case event.QueueInfo:
		return fmt.Sprintf("queue_info %s %q", e.Queue, e.Name)
	case event.AgentState:
		return fmt.Sprintf("agent_state %s %s %q", e.Agent, e.State, e.Reason)
	case event.ContactQueued:
		return fmt.Sprintf("contact_queued %s q=%s queued=%s", e.Interaction, e.Queue, t(e.QueuedAt))
	case event.ContactOffered, event.ContactAnswered:
		return fmt.Sprintf("%s %s q=%s agent=%s at=%s", e.Kind, e.Interaction, e.Queue, e.Agent, t(e.At))
	case event.ContactEnded:
		return fmt.Sprintf("contact_ended %s q=%s at=%s", e.Interaction, e.Queue, t(e.At))
	case event.ContactCompleted:
		return fmt.Sprintf("contact_completed %s q=%s agent=%s answered=%v queued=%s answeredAt=%s at=%s",
			e.Interaction, e.Queue, e.Agent, e.Answered, t(e.QueuedAt), t(e.AnsweredAt), t(e.At))
	}
	return e.Kind.String()
}

func readFrame(t *testing.T, name string) []Object {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	objs, bad, err := DecodeBatch(b)
	if err != nil || bad != 0 {
		t.Fatalf("DecodeBatch(%s) = bad %d, %v", name, bad, err)
	}
	return objs
}

func TestTranslateFrames(t *testing.T) {
	t.Parallel()
	agent := []string{
		`queue_info 2000 "Sales"`,
		`agent_info 1001 "Marcus Lee" [2000]`,
		`agent_state 1001 available ""`,
		`queue_info 2001 "Support"`,
		`agent_info 1001 "Marcus Lee" [2000 2001]`,
		`agent_info 1002 "Aisha Khan" [2000]`,
		`agent_state 1002 not_ready "Lunch"`,
		`agent_info 1003 "Tom Walsh" [2000]`,
		`agent_state 1003 logged_out ""`,
		`agent_info 1004 "Priya Patel" [2000]`,
		`agent_state 1004 busy ""`,
	}
	call := []string{
		`contact_queued c1 q=2000 queued=10:00:00`,
		`agent_state 1001 offered ""`,
		`contact_offered c1 q=2000 agent=1001 at=10:30:00`,
		`agent_state 1001 busy ""`,
		`contact_answered c1 q=2000 agent=1001 at=10:00:12`,
		`agent_state 1001 available ""`,
		`contact_ended c1 q=2000 at=10:03:00`,
	}
	presence := []string{
		`agent_info 1101 "Chen Wei" []`,
		`agent_state 1101 available ""`,
		`agent_info 1102 "Sofia Rossi" []`,
		`agent_state 1102 busy ""`,
		`agent_info 1103 "Liam Murphy" []`,
		`agent_state 1103 not_ready "Training"`,
		`agent_info 1104 "Fatima Haddad" []`,
		`agent_state 1104 logged_out ""`,
		`agent_info 1105 "Noah Jones" []`,
		`agent_state 1105 offered ""`,
	}
	cdr := []string{
		`contact_completed c1 q=2000 agent=1001 answered=true queued=10:00:00 answeredAt=10:00:12 at=10:03:00`,
		`contact_completed c2 q=2000 agent= answered=false queued=10:05:00 answeredAt=- at=10:06:00`,
	}
	tests := []struct {
		name, model, file string
		want              []string
	}{
		{"agent v2 keys", "agent", "agent_v2.json", agent},
		{"agent snake_case keys", "agent", "agent_snake.json", agent},
		{"call v2 keys", "call", "call_v2.json", call},
		{"call snake_case keys", "call", "call_snake.json", call},
		{"call_origid", "call_origid", "call_v2.json", call},
		{"call rejected then abandoned", "call", "call_abandoned.json", []string{
			`contact_queued c2 q=2000 queued=10:05:00`,
			`agent_state 1001 offered ""`,
			`contact_offered c2 q=2000 agent=1001 at=10:30:00`,
			`agent_state 1001 available ""`,
			`contact_queued c2 q=2000 queued=10:05:00`,
			`contact_ended c2 q=2000 at=10:06:00`,
		}},
		{"presence v2 keys", "presence", "presence_v2.json", presence},
		{"presence snake_case keys", "presence", "presence_snake.json", presence},
		{"cdr legacy", "cdr", "cdr_legacy.json", cdr},
		{"cdr v2 keys", "cdr", "cdr_v2.json", cdr},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			evs, skipped := NewTranslator("ns", nil).Translate(tc.model, readFrame(t, tc.file), recv)
			if skipped != 0 {
				t.Errorf("skipped %d objects", skipped)
			}
			var got []string
			for _, e := range evs {
				if e.Source != "ns" {
					t.Errorf("event %s has source %q", e.Kind, e.Source)
				}
				got = append(got, summary(e))
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

// TestTranslateDuplicatesHarmless: a batch or an object posted again at once
// (geo-redundant servers around a failover) changes nothing, through the
// real model. The translator recognizes repeats by each call's state; call
// events carry no id, because an object equal to an earlier one can be a
// new change (the same agent offered the same call again after rejecting
// it), which the model would drop as a duplicate.
func TestTranslateDuplicatesHarmless(t *testing.T) {
	t.Parallel()
	twice := func(objs []Object) [][]Object { return [][]Object{objs, objs} }
	eachTwice := func(objs []Object) [][]Object {
		var out [][]Object
		for _, o := range objs {
			out = append(out, []Object{o}, []Object{o})
		}
		return out
	}
	tests := []struct {
		name    string
		file    string
		repeat  func([]Object) [][]Object
		queue   [4]int // waiting, offered, answered, abandoned
		handled int
	}{
		{"answered call, batch twice", "call_v2.json", twice, [4]int{0, 1, 1, 0}, 1},
		{"answered call, each object twice", "call_v2.json", eachTwice, [4]int{0, 1, 1, 0}, 1},
		{"rejected then abandoned, batch twice", "call_abandoned.json", twice, [4]int{0, 1, 0, 1}, 0},
		{"rejected then abandoned, each object twice", "call_abandoned.json", eachTwice, [4]int{0, 1, 0, 1}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tr := NewTranslator("ns", nil)
			m := model.New(model.Options{})
			at := recv
			var prev []Object
			for i, batch := range tc.repeat(readFrame(t, tc.file)) {
				at = at.Add(time.Second)
				evs, _ := tr.Translate("call", batch, at)
				if i > 0 && slices.EqualFunc(batch, prev, func(a, b Object) bool { return maps.Equal(a.Fields, b.Fields) }) && len(evs) != 0 {
					var got []string
					for _, e := range evs {
						got = append(got, summary(e))
					}
					t.Errorf("a repeated post produced %d events: %v", len(evs), got)
				}
				prev = batch
				for _, e := range evs {
					if e.ID != "" {
						t.Errorf("%s carries id %q", summary(e), e.ID)
					}
					m.Apply(e, at)
				}
			}
			q, _ := m.Queue(model.Key{Source: "ns", ID: "2000"})
			if got := [4]int{q.Waiting, q.Offered, q.Answered, q.Abandoned}; got != tc.queue || q.Handled != tc.handled {
				t.Errorf("queue: waiting/offered/answered/abandoned %v handled %d; want %v handled %d", got, q.Handled, tc.queue, tc.handled)
			}
			if a, _ := m.Agent(model.Key{Source: "ns", ID: "1001"}); a.State != event.StateAvailable {
				t.Errorf("agent 1001: %s, want available", a.State)
			}
		})
	}
}

func TestPresenceOnlyWhereAgentModelSilent(t *testing.T) {
	t.Parallel()
	tr := NewTranslator("ns", nil)
	tr.Translate("agent", readFrame(t, "agent_v2.json"), recv)
	objs, _, _ := DecodeBatch([]byte(`[{"user":"1002","presence":"open"},{"user":"1999","presence":"dnd"}]`))
	evs, _ := tr.Translate("presence", objs, recv)
	var got []string
	for _, e := range evs {
		got = append(got, summary(e))
	}
	want := []string{`agent_state 1999 not_ready "DND"`}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestTranslateSkipsNonQueueCallsAndObjectsWithoutIDs(t *testing.T) {
	t.Parallel()
	tr := NewTranslator("ns", nil)
	tr.Translate("agent", readFrame(t, "agent_v2.json"), recv) // knows queues 2000, 2001
	objs, _, _ := DecodeBatch([]byte(`[{"call-orig-call-id":"x","call-orig-to-user":"1001"},{"call-orig-to-user":"2000"},{"callqueue":"2000"}]`))
	evs, skipped := tr.Translate("call", objs, recv)
	if len(evs) != 0 || skipped != 2 {
		t.Errorf("got %d events, %d skipped; want 0 events, 2 skipped", len(evs), skipped)
	}
	_, skipped = tr.Translate("agent", objs[2:], recv)
	if skipped != 1 {
		t.Errorf("agent without id: skipped %d, want 1", skipped)
	}
}

func TestAvailabilityTable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		want     event.State
		ok       bool
	}{
		{"automatic", "automatic", event.StateAvailable, true},
		{"automatic upper case", "Automatic", event.StateAvailable, true},
		{"manual", "manual", event.StateNotReady, true},
		{"disabled", "disabled", event.StateLoggedOut, true},
		{"offnet", "offnet", event.StateAvailable, true},
		{"offnet-automatic", "offnet-automatic", event.StateAvailable, true},
		{"offnet-manual", "offnet-manual", event.StateNotReady, true},
		{"unknown", "sideways", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, ok := AvailabilityState(tc.in)
			if got != tc.want || ok != tc.ok {
				t.Errorf("AvailabilityState(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestPresenceTable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		want     event.State
	}{
		{"open", "open", event.StateAvailable},
		{"alerting", "alerting", event.StateOffered},
		{"ringing", "ringing", event.StateOffered},
		{"inuse", "inuse", event.StateBusy},
		{"progressing", "progressing", event.StateBusy},
		{"held", "held", event.StateBusy},
		{"dnd", "DND", event.StateNotReady},
		{"away", "away", event.StateNotReady},
		{"closed", "closed", event.StateLoggedOut},
		{"offline", "offline", event.StateLoggedOut},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got, ok := PresenceState(tc.in); got != tc.want || !ok {
				t.Errorf("PresenceState(%q) = %q, %v; want %q", tc.in, got, ok, tc.want)
			}
		})
	}
}

// TestDeriveTable pins the precedence between the agent model's entries,
// the calls the agent rings for or talks on, and presence.
func TestDeriveTable(t *testing.T) {
	t.Parallel()
	auto := agentEntry{avail: event.StateAvailable}
	tests := []struct {
		name     string
		entries  map[string]agentEntry
		inModel  bool
		ringing  bool
		talking  bool
		presence event.State
		want     event.State
		reason   string
	}{
		{"automatic idle", map[string]agentEntry{"q": auto}, true, false, false, "", event.StateAvailable, ""},
		{"automatic ringing", map[string]agentEntry{"q": auto}, true, true, false, "", event.StateOffered, ""},
		{"automatic talking", map[string]agentEntry{"q": auto}, true, false, true, "", event.StateBusy, ""},
		{"active calls count", map[string]agentEntry{"q": {avail: event.StateAvailable, activeCalls: 1}}, true, false, false, "", event.StateBusy, ""},
		{"not dispatchable after a call", map[string]agentEntry{"q": {avail: event.StateAvailable, dispatchNo: true}}, true, false, false, "", event.StateWrapUp, ""},
		{"manual", map[string]agentEntry{"q": {avail: event.StateNotReady, reason: "Lunch"}}, true, false, false, "", event.StateNotReady, "Lunch"},
		{"manual beats presence", map[string]agentEntry{"q": {avail: event.StateNotReady, reason: "Manual"}}, true, false, false, event.StateAvailable, event.StateNotReady, "Manual"},
		{"disabled", map[string]agentEntry{"q": {avail: event.StateLoggedOut}}, true, false, false, "", event.StateLoggedOut, ""},
		{"available in one queue of two", map[string]agentEntry{"a": {avail: event.StateLoggedOut}, "b": auto}, true, false, false, "", event.StateAvailable, ""},
		{"removed from every queue", map[string]agentEntry{}, true, false, false, "", event.StateLoggedOut, ""},
		{"presence only", nil, false, false, false, event.StateNotReady, event.StateNotReady, ""},
		{"calls beat presence", nil, false, false, true, event.StateAvailable, event.StateBusy, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tr := NewTranslator("ns", nil)
			a := tr.view("a1")
			if tc.entries != nil {
				a.entries = tc.entries
			}
			a.inModel, a.presence = tc.inModel, tc.presence
			if tc.ringing {
				a.ringing["c"] = true
			}
			if tc.talking {
				a.talking["c"] = true
			}
			evs := tr.derive(nil, "a1", a, recv)
			if len(evs) != 1 || evs[0].State != tc.want || evs[0].Reason != tc.reason {
				t.Fatalf("derive = %v; want %s %q", evs, tc.want, tc.reason)
			}
		})
	}
}

// TestTranslateQueueNamedByLeg: a call object may name its queue only as
// the queue's own leg (call-term-user or call-dialed-number equal to a
// queue the agent model named, no callqueue field) while it waits, and as
// call-by-user with call-by-action "callqueue" once an agent's phone rings.
// Such calls count as waiting, offered and answered like the documented
// form, also when their objects came before the agent model named the
// queue (held, then replayed), and through the real model.
func TestTranslateQueueNamedByLeg(t *testing.T) {
	t.Parallel()
	answered := []string{
		`contact_queued c1 q=2000 queued=10:00:00`,
		`agent_state 1001 offered ""`,
		`contact_offered c1 q=2000 agent=1001 at=10:30:00`,
		`agent_state 1001 busy ""`,
		`contact_answered c1 q=2000 agent=1001 at=10:00:12`,
		`agent_state 1001 available ""`,
		`contact_ended c1 q=2000 at=10:03:00`,
	}
	rejected := []string{
		`contact_queued c2 q=2000 queued=10:05:00`,
		`agent_state 1001 offered ""`,
		`contact_offered c2 q=2000 agent=1001 at=10:30:00`,
		`agent_state 1001 available ""`,
		`contact_queued c2 q=2000 queued=10:05:00`,
		`contact_ended c2 q=2000 at=10:06:00`,
	}
	tests := []struct {
		name    string
		file    string
		first   bool // the call's objects come before the agent model names queue 2000
		want    []string
		waiting int // after the first object, through the model
		queue   [3]int
	}{
		{"term user is the queue, then by-user", "call_term_user.json", false, answered, 1, [3]int{1, 1, 0}},
		{"dialed number is the queue, sip forms", "call_dialed_number.json", false, answered, 1, [3]int{1, 1, 0}},
		{"snake_case by_user, rejected then abandoned", "call_by_user_rejected.json", false, rejected, 1, [3]int{1, 0, 1}},
		{"term user is the queue, queue named later", "call_term_user.json", true, nil, 0, [3]int{1, 1, 0}},
		{"dialed number is the queue, queue named later", "call_dialed_number.json", true, nil, 0, [3]int{1, 1, 0}},
		{"by_user rejected, queue named later", "call_by_user_rejected.json", true, nil, 0, [3]int{1, 0, 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tr := NewTranslator("ns", nil)
			m := model.New(model.Options{})
			apply := func(evs []event.Event) {
				for _, e := range evs {
					m.Apply(e, recv)
				}
			}
			waiting := func() int {
				q, _ := m.Queue(model.Key{Source: "ns", ID: "2000"})
				return q.Waiting
			}
			calls := readFrame(t, tc.file)
			if tc.first {
				if strings.Contains(tc.name, "dialed") {
					tr.ExpectAgentModel() // no queue is known yet, the agent model will name them
				} else {
					tr.KnowQueues([]string{"2001"}) // some queue is known, not this one
				}
				for _, o := range calls {
					evs, skipped := tr.Translate("call", []Object{o}, recv)
					if len(evs) != 0 || skipped != 0 {
						t.Fatalf("before the queue is named: %d events, %d skipped; want the object held", len(evs), skipped)
					}
				}
				evs, _ := tr.Translate("agent", readFrame(t, "agent_v2.json"), recv)
				apply(evs)
			} else {
				evs, _ := tr.Translate("agent", readFrame(t, "agent_v2.json"), recv)
				apply(evs)
				var got []string
				for i, o := range calls {
					evs, skipped := tr.Translate("call", []Object{o}, recv)
					if skipped != 0 {
						t.Errorf("object %d skipped", i)
					}
					apply(evs)
					if i == 0 && waiting() != tc.waiting {
						t.Errorf("after the first object: waiting %d, want %d", waiting(), tc.waiting)
					}
					for _, e := range evs {
						got = append(got, summary(e))
					}
				}
				if !slices.Equal(got, tc.want) {
					t.Errorf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
				}
			}
			q, _ := m.Queue(model.Key{Source: "ns", ID: "2000"})
			if got := [3]int{q.Offered, q.Answered, q.Abandoned}; got != tc.queue || q.Waiting != 0 {
				t.Errorf("queue 2000: offered/answered/abandoned %v waiting %d; want %v waiting 0", got, q.Waiting, tc.queue)
			}
			for _, id := range []string{"+442071230000", "2001"} {
				if q, ok := m.Queue(model.Key{Source: "ns", ID: id}); ok && q.Offered != 0 {
					t.Errorf("queue %s counted %d offered calls", id, q.Offered)
				}
			}
			if a, _ := m.Agent(model.Key{Source: "ns", ID: "1001"}); a.State != event.StateAvailable {
				t.Errorf("agent 1001: %s, want available", a.State)
			}
		})
	}
}

// TestCallQueueTable pins which field names a call's queue, given the
// queues the agent model named (2000, 2001).
func TestCallQueueTable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, obj  string
		queue, agt string
	}{
		{"callqueue field", `{"callqueue":"2001","call-orig-to-user":"2000","call-term-user":"1001"}`, "2001", "1001"},
		{"orig-to-user (documented form)", `{"call-orig-to-user":"2000"}`, "2000", ""},
		{"term user is the queue", `{"call-orig-to-user":"+4420","call-term-user":"2000"}`, "2000", ""},
		{"dialed number is the queue", `{"call-orig-to-user":"+4420","call-dialed-number":"2001"}`, "2001", ""},
		{"by-user with by-action callqueue", `{"call-orig-to-user":"+4420","call-term-user":"1001","call-by-user":"2000","call-by-action":"CallQueue"}`, "2000", "1001"},
		{"by-user without by-action, known queue", `{"call-term-user":"1001","call-by-user":"2000@acme.service"}`, "2000", "1001"},
		{"by-user is an agent (transfer)", `{"call-orig-to-user":"2000","call-by-user":"1002","call-by-action":"transfer"}`, "2000", "1002"},
		{"by-action callqueue, unknown queue", `{"call-orig-to-user":"+4420","call-term-user":"1001","call-by-user":"2999","call-by-action":"callqueue"}`, "2999", "1001"},
		{"nothing names a known queue", `{"call-orig-to-user":"+4420","call-term-user":"1001"}`, "+4420", "1001"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tr := NewTranslator("ns", nil)
			tr.KnowQueues([]string{"2000", "2001"})
			objs, _, err := DecodeBatch([]byte("[" + tc.obj + "]"))
			if err != nil {
				t.Fatal(err)
			}
			q, _ := tr.callQueue(objs[0])
			if a := tr.callAgent(objs[0], q); q != tc.queue || a != tc.agt {
				t.Errorf("queue %q agent %q; want %q %q", q, a, tc.queue, tc.agt)
			}
		})
	}
}

// TestUnmappedAvailabilityAndPresence: availability types and presence
// values outside the tables, and unknown keys named like a state, reach
// the source's unmapped values with the object as example; a state field holding an object cannot be read at
// all and counts as an error.
func TestUnmappedAvailabilityAndPresence(t *testing.T) {
	t.Parallel()
	r := source.NewReporter("ns", "netsapiens", nil, nil)
	tr := NewTranslator("ns", nil)
	tr.SetNotes(source.NewNotes(r))
	agents, _, _ := DecodeBatch([]byte(`[{"callqueue-agent-id":"1001","callqueue":"2000","callqueue-agent-availability-type":"sideways"},
		{"callqueue-agent-id":"1002","callqueue":"2000","callqueue-agent-availability-type":{"x":1}},
		{"callqueue-agent-id":"1003","callqueue":"2000","callqueue-agent-availability-type":"automatic"}]`))
	tr.Translate("agent", agents, recv)
	pres, _, _ := DecodeBatch([]byte(`[{"user":"1101","presence":"teleporting"},{"user":"1102","presence":"open","call-state":"talking"}]`))
	tr.Translate("presence", pres, recv)
	st := r.Stats()
	var got []string
	for _, u := range st.Unmapped {
		got = append(got, u.Key())
		if !strings.Contains(u.Example, u.Value) {
			t.Errorf("%s: example %q does not quote the value", u.Key(), u.Example)
		}
	}
	if want := []string{"availability=sideways", "field=call_state", "presence=teleporting"}; !slices.Equal(got, want) {
		t.Errorf("unmapped %v, want %v", got, want)
	}
	if st.Errors != 1 {
		t.Errorf("errors %d, want 1 (the availability that is an object)", st.Errors)
	}
}
