package axp

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wallboard/wallboard/internal/event"
	"github.com/wallboard/wallboard/internal/source"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// nb builds a notification: "Event key=value ...", timestamp t0+sec.
func nb(sec int, spec string) Notification {
	f := strings.Fields(spec)
	n := Notification{SentAt: t0.Format(time.RFC3339Nano), Body: NotificationBody{Event: f[0],
		ID: fmt.Sprintf("id-%d-%s", sec, f[0]), Timestamp: Flex(strconv.FormatInt(t0.Add(time.Duration(sec)*time.Second).UnixMilli(), 10))}}
	b := &n.Body
	for _, kv := range f[1:] {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "agent":
			b.AgentID = v
		case "state":
			b.State = v
		case "code":
			b.ReasonCode = Flex(v)
		case "cause":
			b.Cause = v
		case "eng":
			b.EngagementID = v
		case "action":
			b.Action = v
		case "queue":
			b.Queue = &struct {
				QueueID   Flex `json:"queueId"`
				QueueName Flex `json:"queueName"`
			}{QueueID: Flex(v), QueueName: Flex("Queue " + v)}
		case "offer":
			b.OfferedQueue = &offer{QueueID: "q1", AgentData: &offeredAgent{AgentID: v}}
		case "to":
			b.TransferTo = v
		case "qid":
			b.QueueID = v
		case "login":
			n.LoginID = v
		}
	}
	return n
}

// ev renders the events in a short comparable form.
func evs(list []event.Event) string {
	var out []string
	for _, e := range list {
		s := e.Kind.String()
		switch e.Kind {
		case event.AgentState:
			s += " " + e.Agent + "=" + string(e.State)
			if e.Reason != "" {
				s += "(" + e.Reason + ")"
			}
		case event.AgentInfo:
			s += " " + e.Agent + "=" + e.Name
		case event.QueueInfo:
			s += " " + e.Queue + "=" + e.Name
		case event.ContactQueued:
			s += fmt.Sprintf(" %s@%s since+%ds", e.Interaction, e.Queue, int(e.QueuedAt.Sub(t0).Seconds()))
		default:
			s += " " + e.Interaction + "@" + e.Queue
			if e.Agent != "" {
				s += " by " + e.Agent
			}
		}
		out = append(out, s)
	}
	return strings.Join(out, "; ")
}

// TestMapping walks the mapping table: each step is one notification and the
// events it must yield, in order.
func TestMapping(t *testing.T) {
	t.Parallel()
	type step struct {
		sec  int
		in   string
		want string
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"AgentState presence states", []step{
			{1, "AgentState agent=a1 state=LOGGED_IN login=ann@x", "agent_info a1=ann@x; agent_state a1=not_ready(Logged in)"},
			{2, "AgentState agent=a1 state=READY", "agent_state a1=available"},
			{3, "AgentState agent=a1 state=NOT_READY code=501", "agent_state a1=not_ready(Lunch)"},
			{4, "AgentState agent=a1 state=NOT_READY code=514 cause=RONA", "agent_state a1=not_ready(RONA)"},
			{5, "AgentState agent=a1 state=NOT_READY code=777", "agent_state a1=not_ready(Code 777)"},
			{6, "AgentState agent=a1 state=LOGGED_OUT", "agent_state a1=logged_out"},
			{7, "AgentState agent=a1 state=DANCING", ""},
		}},
		{"inbound call answered, ACW, back to ready", []step{
			{1, "AgentState agent=a1 state=READY", "agent_state a1=available"},
			{2, "InboundEngagementCreated eng=e1", ""},
			{3, "EngagementPrerouted eng=e1 queue=q1", "queue_info q1=Queue q1; contact_queued e1@q1 since+3s"},
			{5, "MatchOffered eng=e1 offer=a1", "contact_offered e1@q1 by a1; agent_state a1=offered"},
			{7, "AgentParticipant eng=e1 agent=a1 action=ADDED", "contact_answered e1@q1 by a1; agent_state a1=busy"},
			{8, "AgentParticipant eng=e1 agent=a1 action=HELD", ""},
			{9, "AgentParticipant eng=e1 agent=a1 action=UNHELD", ""},
			{20, "AgentParticipant eng=e1 agent=a1 action=REMOVED", "contact_ended e1@q1 by a1; agent_state a1=available"},
			{20, "AfterContactWorkActivated eng=e1 agent=a1", "agent_state a1=wrap_up"},
			{21, "ExternalParticipant eng=e1 action=REMOVED", ""},
			{30, "AfterContactWorkCompleted eng=e1 agent=a1", "agent_state a1=available"},
		}},
		{"not ready requested during a call returns after ACW", []step{
			{1, "AgentState agent=a1 state=READY", "agent_state a1=available"},
			{2, "EngagementPrerouted eng=e1 queue=q1", "queue_info q1=Queue q1; contact_queued e1@q1 since+2s"},
			{3, "MatchOffered eng=e1 offer=a1", "contact_offered e1@q1 by a1; agent_state a1=offered"},
			{4, "AgentParticipant eng=e1 agent=a1 action=ADDED", "contact_answered e1@q1 by a1; agent_state a1=busy"},
			{5, "AgentState agent=a1 state=NOT_READY code=501", ""},
			{6, "AfterContactWorkActivated eng=e1 agent=a1", ""},
			{7, "AgentParticipant eng=e1 agent=a1 action=REMOVED", "contact_ended e1@q1 by a1; agent_state a1=wrap_up"},
			{8, "AfterContactWorkCompleted eng=e1 agent=a1", "agent_state a1=not_ready(Lunch)"},
		}},
		{"offer not accepted is queued again with its first queuedAt", []step{
			{1, "AgentState agent=a1 state=READY", "agent_state a1=available"},
			{2, "EngagementPrerouted eng=e1 queue=q1", "queue_info q1=Queue q1; contact_queued e1@q1 since+2s"},
			{3, "MatchOffered eng=e1 offer=a1", "contact_offered e1@q1 by a1; agent_state a1=offered"},
			{9, "EngagementPrerouted eng=e1 queue=q1", "agent_state a1=available; contact_queued e1@q1 since+2s"},
			{10, "AgentState agent=a1 state=NOT_READY code=514 cause=RONA", "agent_state a1=not_ready(RONA)"},
		}},
		{"an agent busy when the translator started (restart) returns to ready after the contact", []step{
			{7, "AgentParticipant eng=e1 agent=a1 action=ADDED", "contact_answered e1@ by a1; agent_state a1=busy"},
			{20, "AgentParticipant eng=e1 agent=a1 action=REMOVED", "contact_ended e1@ by a1; agent_state a1=available"},
		}},
		{"RONA before the re-route ends the offer", []step{
			{1, "AgentState agent=a1 state=READY", "agent_state a1=available"},
			{2, "EngagementPrerouted eng=e1 queue=q1", "queue_info q1=Queue q1; contact_queued e1@q1 since+2s"},
			{3, "MatchOffered eng=e1 offer=a1", "contact_offered e1@q1 by a1; agent_state a1=offered"},
			{9, "AgentState agent=a1 state=NOT_READY code=514 cause=RONA", "agent_state a1=not_ready(RONA)"},
			{9, "EngagementPrerouted eng=e1 queue=q1", "contact_queued e1@q1 since+2s"},
			{10, "MatchOffered eng=e1 offer=a2", "contact_offered e1@q1 by a2; agent_state a2=offered"},
		}},
		{"an unanswered offer the translator never saw (restart while ringing) ends by the agent's restated state", []step{
			{9, "EngagementPrerouted eng=e1 queue=q1", "queue_info q1=Queue q1; contact_queued e1@q1 since+9s"},
			{9, "AgentState agent=a1 state=READY", "agent_state a1=available"},
			{10, "MatchOffered eng=e1 offer=a2", "contact_offered e1@q1 by a2; agent_state a2=offered"},
		}},
		{"abandon while waiting and while ringing", []step{
			{1, "EngagementPrerouted eng=e1 queue=q1", "queue_info q1=Queue q1; contact_queued e1@q1 since+1s"},
			{4, "ExternalParticipant eng=e1 action=REMOVED", "contact_ended e1@q1"},
			{5, "AgentState agent=a2 state=READY", "agent_state a2=available"},
			{6, "EngagementPrerouted eng=e2 queue=q1", "contact_queued e2@q1 since+6s"},
			{7, "MatchOffered eng=e2 offer=a2", "contact_offered e2@q1 by a2; agent_state a2=offered"},
			{8, "ExternalParticipant eng=e2 action=REMOVED", "agent_state a2=available; contact_ended e2@q1"},
		}},
		{"transfer to a queue does not end the contact", []step{
			{1, "AgentState agent=a1 state=READY", "agent_state a1=available"},
			{2, "EngagementPrerouted eng=e1 queue=q1", "queue_info q1=Queue q1; contact_queued e1@q1 since+2s"},
			{3, "AgentParticipant eng=e1 agent=a1 action=ADDED", "contact_answered e1@q1 by a1; agent_state a1=busy"},
			{10, "SingleStepTransfer eng=e1 to=QUEUE qid=q2", "contact_queued e1@q2 since+10s"},
			{10, "AgentParticipant eng=e1 agent=a1 action=REMOVED", "agent_state a1=available"},
			{15, "ExternalParticipant eng=e1 action=REMOVED", "contact_ended e1@q2"},
		}},
		{"cancelled transfer: the agent's REMOVED ends the contact again", []step{
			{1, "EngagementPrerouted eng=e1 queue=q1", "queue_info q1=Queue q1; contact_queued e1@q1 since+1s"},
			{2, "AgentParticipant eng=e1 agent=a1 action=ADDED", "contact_answered e1@q1 by a1; agent_state a1=busy"},
			{3, "SingleStepTransfer eng=e1 to=USER", ""},
			{4, "SingleStepTransferError eng=e1", ""},
			{5, "AgentParticipant eng=e1 agent=a1 action=REMOVED", "contact_ended e1@q1 by a1; agent_state a1=available"},
		}},
		{"outbound call makes the agent busy without queue counters", []step{
			{1, "AgentState agent=a1 state=READY", "agent_state a1=available"},
			{2, "OutboundEngagementCreated eng=o1 agent=a1", "agent_state a1=busy"},
			{3, "AgentParticipant eng=o1 agent=a1 action=ADDED", ""},
			{9, "AgentParticipant eng=o1 agent=a1 action=REMOVED", "agent_state a1=available"},
		}},
		{"ChannelReady, unknown and unmapped events", []step{
			{1, "ChannelReady agent=a1", "agent_state a1=available"},
			{2, "AutomationParticipant eng=e1 action=ADDED", ""},
			{3, "SupervisorWhisper agent=a1", ""},
			{4, "AgentParticipant eng=e1 agent=a1 action=COACHING", ""},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tr := NewTranslator(map[string]string{"501": "Lunch"})
			for i, s := range tt.steps {
				got := tr.Translate(nb(s.sec, s.in))
				if evs(got) != s.want {
					t.Fatalf("step %d %q:\n got  %s\n want %s", i, s.in, evs(got), s.want)
				}
				for _, e := range got {
					if want := t0.Add(time.Duration(s.sec) * time.Second); !e.At.Equal(want) {
						t.Errorf("step %d: At = %v, want %v", i, e.At, want)
					}
					if e.ID == "" {
						t.Errorf("step %d: event without ID", i)
					}
				}
			}
		})
	}
}

// TestMappingIDsAndTimes checks that one frame's events get distinct IDs and
// that an implausible timestamp falls back to sentAt.
func TestMappingIDsAndTimes(t *testing.T) {
	t.Parallel()
	n, err := DecodeNotification(readFrame(t, "engagement/agent_state_not_ready.json"))
	if err != nil {
		t.Fatal(err)
	}
	got := NewTranslator(nil).Translate(n)
	if len(got) != 2 || got[0].ID == got[1].ID {
		t.Fatalf("events %+v", got)
	}
	for _, e := range got {
		if !e.At.Equal(seedSent) {
			t.Errorf("At %v, want sentAt %v", e.At, seedSent)
		}
	}
	if got[1].State != event.StateNotReady || got[1].Reason != "RONA" {
		t.Errorf("got %+v", got[1])
	}
}

func TestMappingTableCoversEveryKnownEvent(t *testing.T) {
	t.Parallel()
	for name := range knownEvents {
		found := false
		for _, row := range Mapping {
			if strings.Contains(row.Event, name) {
				found = true
			}
		}
		if !found {
			t.Errorf("Mapping has no row for %s", name)
		}
	}
}

// TestUnmappedStatesAndReasons: an AgentState state outside the table and
// a NOT_READY reason code without a label reach the source's unmapped
// values, the latter with the option that would label it.
func TestUnmappedStatesAndReasons(t *testing.T) {
	t.Parallel()
	r := source.NewReporter("axp", "avaya-engagement", nil, nil)
	tr := NewTranslator(map[string]string{"7": "Lunch"})
	tr.Notes = source.NewNotes(r)
	tr.Notes.SetFrame([]byte(`{"event":"AgentState"}`))
	for i, spec := range []string{"AgentState agent=a1 state=SLEEPING", "AgentState agent=a1 state=NOT_READY code=9",
		"AgentState agent=a1 state=NOT_READY code=7", "AgentState agent=a1 state=READY"} {
		tr.Translate(nb(i, spec))
	}
	got := map[string]string{}
	for _, u := range r.Stats().Unmapped {
		got[u.Key()] = u.ConfigKey
	}
	want := map[string]string{"AgentState.state=SLEEPING": "", "reasonCode=9": "reason_codes"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("unmapped %v, want %v", got, want)
	}
}
