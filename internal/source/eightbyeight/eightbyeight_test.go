package eightbyeight

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/wallboard/wallboard/internal/event"
)

const guid = "int-dev6ctl-09c05006-0f19-44cf-9410-c55fe515d76c-phone-00iQ1DcskDJEumYROhxeq3gvYeY"
const q102 = "dev6ctl~~queue~~phone~~102"
const agent = "ag64oOvJ3sS5qo2Lh0lmHwAg"

func ts(s int64) time.Time { return time.Unix(s, 0).UTC() }

func read(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestDecodeTranslate decodes every seed-shaped frame and checks the events
// a fresh translator makes of it.
func TestDecodeTranslate(t *testing.T) {
	t.Parallel()
	m, err := NewMapping(nil, map[string]string{"801=1722": "Lunch"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		file string
		kind Kind
		want []event.Event
	}{
		{"status json with msgInfo", "agent_status.json", KindAgentStatus, []event.Event{{Kind: event.AgentState,
			ID: "8x8:vcc-uk1-sapi-v1:215/agent_state", Agent: agent, State: event.StateNotReady, Reason: "Lunch",
			At: ts(1669235544)}}},
		{"status numbers as strings, raw reason", "agent_status_strings.json", KindAgentStatus, []event.Event{{Kind: event.AgentState,
			Agent: "marcus", State: event.StateNotReady, Reason: "801=1723", At: ts(1381563857)}}},
		{"status N/A", "agent_status_na.json", KindAgentStatus, []event.Event{{Kind: event.AgentState,
			Agent: "marcus", State: event.StateUnknown}}},
		{"status xml", "agent_status.xml", KindAgentStatus, []event.Event{{Kind: event.AgentState,
			Agent: "marcus", State: event.StateNotReady, Reason: "Logged in", At: ts(1381563857)}}},
		{"skill created", "agent_prov_skill.json", KindAgentProv, []event.Event{{Kind: event.AgentInfo,
			ID: "8x8:vcc-uk1-sapi-v1:216/agent_info", Agent: agent, Queues: []string{q102}}}},
		{"skill disabled xml", "agent_prov_skill_disabled.xml", KindAgentProv, []event.Event{{Kind: event.AgentInfo,
			Agent: agent, Queues: []string{}}}},
		{"prov items xml (seed sample, wrong end tags)", "agent_prov_items.xml", KindAgentProv, []event.Event{{Kind: event.AgentInfo,
			Agent: "122", Name: "Marcus Lee"}}},
		{"prov items json, single object", "agent_prov_items.json", KindAgentProv, []event.Event{{Kind: event.AgentInfo,
			Agent: "122", Name: "Marcus Lee"}}},
		{"queued xml (seed sample, no event name)", "interaction_queued.xml", KindInteraction, []event.Event{
			{Kind: event.QueueInfo, Queue: q102, Name: "Sales"},
			{Kind: event.ContactQueued, Interaction: guid, Queue: q102, QueuedAt: ts(1381573170), At: ts(1381573170)}}},
		{"created json: channelName names the queue, no contact yet", "interaction_created.json", KindInteraction, []event.Event{
			{Kind: event.QueueInfo, ID: "8x8:vcc-uk1-sapi-v1:300/queue_info/102", Queue: "102", Name: "Support line"}}},
		{"queued json", "interaction_queued.json", KindInteraction, []event.Event{
			{Kind: event.QueueInfo, ID: "8x8:vcc-uk1-sapi-v1:301/queue_info/" + q102, Queue: q102, Name: "Sales"},
			{Kind: event.ContactQueued, ID: "8x8:vcc-uk1-sapi-v1:301/contact_queued", Interaction: guid, Queue: q102,
				QueuedAt: ts(1381573170), At: ts(1381573171)}}},
		{"assigned", "interaction_assigned.json", KindInteraction, []event.Event{{Kind: event.ContactOffered,
			ID: "8x8:vcc-uk1-sapi-v1:302/contact_offered", Interaction: guid, Queue: q102, Agent: agent, At: ts(1381573180)}}},
		{"rejected queues again", "interaction_rejected.json", KindInteraction, []event.Event{{Kind: event.ContactQueued,
			Interaction: guid, Queue: q102, QueuedAt: ts(1381573170), At: ts(1381573195)}}},
		{"accepted", "interaction_accepted.json", KindInteraction, []event.Event{{Kind: event.ContactAnswered,
			ID: "8x8:vcc-uk1-sapi-v1:304/contact_answered", Interaction: guid, Queue: q102, Agent: agent, At: ts(1381573200)}}},
		{"accepted xml", "interaction_accepted.xml", KindInteraction, []event.Event{{Kind: event.ContactAnswered,
			ID: "8x8:vcc-uk1-sapi-v1:404/contact_answered", Interaction: guid, Queue: "102", Agent: agent, At: ts(1381573200)}}},
		{"unqueued", "interaction_unqueued.json", KindInteraction, []event.Event{{Kind: event.ContactDequeued,
			ID: "8x8:vcc-uk1-sapi-v1:305/contact_dequeued", Interaction: guid, Queue: q102, At: ts(1381573210)}}},
		{"queue timeout", "interaction_queue_timeout.json", KindInteraction, []event.Event{{Kind: event.ContactDequeued,
			ID: "8x8:vcc-uk1-sapi-v1:306/contact_dequeued", Interaction: guid, Queue: q102, At: ts(1381573211)}}},
		{"deleted", "interaction_deleted.json", KindInteraction, []event.Event{{Kind: event.ContactEnded,
			ID: "8x8:vcc-uk1-sapi-v1:307/contact_ended", Interaction: guid, Queue: q102, At: ts(1381573260)}}},
		{"deleted xml with comment and indentation", "interaction_deleted.xml", KindInteraction, []event.Event{{Kind: event.ContactEnded,
			Interaction: guid, Queue: "102", At: ts(1381573260)}}},
		{"hold changes nothing a board shows", "interaction_hold.json", KindInteraction, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			msg, err := Decode(read(t, tt.file))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if msg.Kind != tt.kind {
				t.Fatalf("kind = %d, want %d", msg.Kind, tt.kind)
			}
			got := NewTranslator(m).Translate(msg, EventID(msg.MsgInfo()))
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("events:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestDecodeQuirks(t *testing.T) {
	t.Parallel()
	msg, err := Decode(read(t, "interaction_created.json"))
	if err != nil {
		t.Fatal(err)
	}
	in := msg.Interaction
	if in.InboundChannelID != "N/A" || in.QueueID != "102" || in.AttachedData.Get("priority") != "5" {
		t.Errorf("quirks: channel %q queue %q priority %q", in.InboundChannelID, in.QueueID, in.AttachedData.Get("priority"))
	}
	msg, err = Decode(read(t, "interaction_queued.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if got := string(msg.Interaction.InteractionGUID); got != guid {
		t.Errorf("guid not trimmed: %q", got)
	}
	msg, err = Decode(read(t, "interaction_hold.json"))
	if err != nil || !msg.Interaction.Status.Valid || !msg.Interaction.Status.V {
		t.Errorf("status \"true\" = %+v, %v", msg.Interaction.Status, err)
	}
}

func TestDecodeErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		unknown bool
	}{
		{"empty", "", false},
		{"not json", "hello", false},
		{"truncated", `{"AgentStatusChange":{"agentId":"a","newState":`, false},
		{"wrapper not object", `{"AgentStatusChange":"x"}`, false},
		{"unknown wrapper", `{"GuestChatEnd":{"x":1}}`, true},
		{"unknown xml wrapper", `<MediaProxyAdded><a>1</a></MediaProxyAdded>`, true},
		{"bad xml", `<AgentStatusChange><agentId>a</agentId`, false},
		{"array", `[1,2]`, false},
		{"bad field type", `{"Interaction":{"attachedData":{"attachedDatum":"x"}}}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Decode([]byte(tt.in))
			if err == nil {
				t.Fatal("no error")
			}
			if errors.Is(err, ErrUnknownWrapper) != tt.unknown {
				t.Errorf("err = %v, unknown wrapper want %v", err, tt.unknown)
			}
		})
	}
}

// TestStateTable checks every default row and that state_map overrides.
func TestStateTable(t *testing.T) {
	t.Parallel()
	def, err := NewMapping(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	over, err := NewMapping(map[string]string{"0": "logged_out", "1": "not_ready", "5": "available"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		m        *Mapping
		code     Int
		want     event.State
		wantText string
	}{
		{"0 unknown", def, Int{V: 0, Valid: true}, event.StateUnknown, ""},
		{"1 logged out", def, Int{V: 1, Valid: true}, event.StateLoggedOut, ""},
		{"2 logged in", def, Int{V: 2, Valid: true}, event.StateNotReady, "Logged in"},
		{"3 break", def, Int{V: 3, Valid: true}, event.StateNotReady, "Break"},
		{"4 available", def, Int{V: 4, Valid: true}, event.StateAvailable, ""},
		{"5 working offline", def, Int{V: 5, Valid: true}, event.StateNotReady, "Working offline"},
		{"6 offered", def, Int{V: 6, Valid: true}, event.StateOffered, ""},
		{"7 process", def, Int{V: 7, Valid: true}, event.StateBusy, ""},
		{"8 post process", def, Int{V: 8, Valid: true}, event.StateWrapUp, ""},
		{"9 busy", def, Int{V: 9, Valid: true}, event.StateBusy, ""},
		{"10 direct call", def, Int{V: 10, Valid: true}, event.StateBusy, ""},
		{"11 email", def, Int{V: 11, Valid: true}, event.StateBusy, ""},
		{"12 not in table", def, Int{V: 12, Valid: true}, event.StateUnknown, ""},
		{"missing code", def, Int{}, event.StateUnknown, ""},
		{"override 0 (lifecycle diagram)", over, Int{V: 0, Valid: true}, event.StateLoggedOut, ""},
		{"override 1", over, Int{V: 1, Valid: true}, event.StateNotReady, ""},
		{"override 5", over, Int{V: 5, Valid: true}, event.StateAvailable, ""},
		{"override keeps other rows", over, Int{V: 8, Valid: true}, event.StateWrapUp, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			row := tt.m.State(tt.code)
			if row.State != tt.want || row.Reason != tt.wantText {
				t.Errorf("State(%v) = %+v, want %s %q", tt.code, row, tt.want, tt.wantText)
			}
		})
	}
	if _, err := NewMapping(map[string]string{"x": "busy"}, nil); err == nil {
		t.Error("non-numeric code accepted")
	}
	if _, err := NewMapping(map[string]string{"1": "asleep"}, nil); err == nil {
		t.Error("unknown state accepted")
	}
}

func TestReasonLabels(t *testing.T) {
	t.Parallel()
	m, _ := NewMapping(nil, map[string]string{"801=1722": "Lunch"})
	for _, tt := range []struct{ name, code, want string }{
		{"labelled", "801=1722", "Lunch"},
		{"unknown shows raw code", "801=9", "801=9"},
		{"none", "none", ""},
		{"N/A", "N/A", ""},
		{"empty", "", ""},
	} {
		if got := m.Reason(tt.code); got != tt.want {
			t.Errorf("%s: Reason(%q) = %q, want %q", tt.name, tt.code, got, tt.want)
		}
	}
}

// TestMembership checks that skill changes accumulate into the full list
// and that a queue name is emitted once.
func TestMembership(t *testing.T) {
	t.Parallel()
	m, _ := NewMapping(nil, nil)
	tr := NewTranslator(m)
	skill := func(q string, on bool) []event.Event {
		en := "no"
		if on {
			en = "yes"
		}
		msg, err := Decode([]byte(`{"AgentProvChange":{"event":"AgentSkillChanged","agentId":"a1","enabled":"` + en +
			`","tenantSkillId":"` + q + `","tenantSkillName":"Queue ` + q + `"}}`))
		if err != nil {
			t.Fatal(err)
		}
		return tr.Translate(msg, "")
	}
	last := func(evs []event.Event) []string { return evs[len(evs)-1].Queues }
	if got := skill("q2", true); len(got) != 2 || got[0].Kind != event.QueueInfo || !reflect.DeepEqual(last(got), []string{"q2"}) {
		t.Fatalf("first: %+v", got)
	}
	if got := skill("q1", true); !reflect.DeepEqual(last(got), []string{"q1", "q2"}) {
		t.Fatalf("second: %+v", got)
	}
	if got := skill("q2", false); len(got) != 1 || !reflect.DeepEqual(last(got), []string{"q1"}) {
		t.Fatalf("removed: %+v", got)
	}
}

func TestSeen(t *testing.T) {
	t.Parallel()
	s := NewSeen(2)
	steps := []struct {
		id   string
		want bool
	}{{"a", true}, {"a", false}, {"b", true}, {"", true}, {"", true}, {"c", true}, {"a", true}, {"c", false}}
	for i, st := range steps {
		if got := s.Add(st.id); got != st.want {
			t.Errorf("step %d Add(%q) = %v, want %v", i, st.id, got, st.want)
		}
	}
}

// FuzzDecode feeds arbitrary bytes to the decoder and translator: nothing
// may panic, and a decoded message always has its wrapper set.
func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.*")
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"Interaction":{"attachedData":{"attachedDatum":{"attachedDataKey":1}}}}`))
	f.Add([]byte(`<Interaction><queueTime>1e400</queueTime></Interaction>`))
	m, _ := NewMapping(nil, nil)
	f.Fuzz(func(t *testing.T, b []byte) {
		msg, err := Decode(b)
		if err != nil {
			return
		}
		if msg.Status == nil && msg.Prov == nil && msg.Interaction == nil {
			t.Fatalf("decoded message without a wrapper: %+v", msg)
		}
		for _, e := range NewTranslator(m).Translate(msg, EventID(msg.MsgInfo())) {
			if e.Kind == event.AgentState && !e.State.Valid() {
				t.Fatalf("invalid state %q", e.State)
			}
		}
	})
}

// notesRec records what a translator reports (a Noter).
type notesRec struct{ unmapped, unreadable []string }

func (n *notesRec) Unmapped(field, value, key string) {
	n.unmapped = append(n.unmapped, field+"="+value+" ("+key+")")
}
func (n *notesRec) Unreadable(field, value string) { n.unreadable = append(n.unreadable, field) }

// TestUnmappedValues: a newState code outside the table, a reason code
// without a label and an Interaction event outside 8x8's catalogue are
// reported with the option that would map them; a newState that is no
// number at all is unreadable, in JSON and in XML alike.
func TestUnmappedValues(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                 string
		frame                string
		unmapped, unreadable []string
	}{
		{"unknown state JSON", `{"AgentStatusChange":{"agentId":"a1","newState":42}}`, []string{"newState=42 (state_map)"}, nil},
		{"unknown state XML", `<AgentStatusChange><agentId>a1</agentId><newState>42</newState></AgentStatusChange>`, []string{"newState=42 (state_map)"}, nil},
		{"bogus state JSON", `{"AgentStatusChange":{"agentId":"a1","newState":"sideways"}}`, nil, []string{"newState"}},
		{"bogus state XML", `<AgentStatusChange><agentId>a1</agentId><newState>sideways</newState></AgentStatusChange>`, nil, []string{"newState"}},
		{"N/A state is absent, not bogus", `{"AgentStatusChange":{"agentId":"a1","newState":"N/A"}}`, nil, nil},
		{"reason without label", `{"AgentStatusChange":{"agentId":"a1","newState":3,"newReasonCodeUser":"801=9"}}`, []string{"newReasonCodeUser=801=9 (reason_labels)"}, nil},
		{"reason with label", `{"AgentStatusChange":{"agentId":"a1","newState":3,"newReasonCodeUser":"801=1722"}}`, nil, nil},
		{"known state", `{"AgentStatusChange":{"agentId":"a1","newState":4}}`, nil, nil},
		{"unknown interaction event", `{"Interaction":{"interactionGUID":"i1","event":"InteractionTeleported"}}`, []string{"Interaction.event=InteractionTeleported ()"}, nil},
		{"catalogued event without effect", `{"Interaction":{"interactionGUID":"i1","event":"LineMuteStatus"}}`, nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m, err := NewMapping(nil, map[string]string{"801=1722": "Lunch"})
			if err != nil {
				t.Fatal(err)
			}
			tr := NewTranslator(m)
			rec := &notesRec{}
			tr.SetNotes(rec)
			msg, err := Decode([]byte(tc.frame))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			tr.Translate(msg, "")
			if !slices.Equal(rec.unmapped, tc.unmapped) || !slices.Equal(rec.unreadable, tc.unreadable) {
				t.Errorf("unmapped %v unreadable %v; want %v %v", rec.unmapped, rec.unreadable, tc.unmapped, tc.unreadable)
			}
		})
	}
}
