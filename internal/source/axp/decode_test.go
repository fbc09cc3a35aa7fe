package axp

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/wallboard/wallboard/internal/event"
)

func readFrame(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var seedSent = time.Date(2020, 8, 24, 8, 20, 23, 395000000, time.UTC)

// TestDecodeNotification decodes one seed-shaped frame per event type.
func TestDecodeNotification(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, file, event string
		check             func(t *testing.T, n Notification)
	}{
		{"AgentState NOT_READY with a numeric reasonCode", "agent_state_not_ready.json", "AgentState", func(t *testing.T, n Notification) {
			if n.Body.State != "NOT_READY" || n.Body.ReasonCode != "514" || n.Body.Cause != "RONA" || n.LoginID != "agent@example.com" {
				t.Errorf("got %+v", n.Body)
			}
			if _, ok := n.Body.Timestamp.Time(); ok {
				t.Errorf("the seed's 2^63 timestamp must not read as a time")
			}
		}},
		{"AgentState READY with a string timestamp", "agent_state_ready.json", "AgentState", func(t *testing.T, n Notification) {
			at, ok := n.Body.Timestamp.Time()
			if !ok || !at.Equal(seedSent) {
				t.Errorf("timestamp = %v %v, want %v", at, ok, seedSent)
			}
		}},
		{"AgentState LOGGED_IN", "agent_state_logged_in.json", "AgentState", func(t *testing.T, n Notification) {
			if n.Body.State != "LOGGED_IN" {
				t.Errorf("state %q", n.Body.State)
			}
		}},
		{"AgentState LOGGED_OUT", "agent_state_logged_out.json", "AgentState", func(t *testing.T, n Notification) {
			if n.Body.State != "LOGGED_OUT" {
				t.Errorf("state %q", n.Body.State)
			}
		}},
		{"AgentParticipant", "agent_participant_added.json", "AgentParticipant", func(t *testing.T, n Notification) {
			if n.Body.Action != "ADDED" || n.Body.EngagementID == "" || n.Body.AgentID == "" {
				t.Errorf("got %+v", n.Body)
			}
		}},
		{"AutomationParticipant", "automation_participant.json", "AutomationParticipant", func(t *testing.T, n Notification) {
			if n.Body.Action != "ADDED" {
				t.Errorf("got %+v", n.Body)
			}
		}},
		{"ExternalParticipant", "external_participant_removed.json", "ExternalParticipant", func(t *testing.T, n Notification) {
			if n.Body.Action != "REMOVED" {
				t.Errorf("got %+v", n.Body)
			}
		}},
		{"EngagementPrerouted", "engagement_prerouted.json", "EngagementPrerouted", func(t *testing.T, n Notification) {
			if n.Body.Queue == nil || n.Body.Queue.QueueID != "6d1490d5-7886-417d-ac85-fb0825d53a93" || n.Body.Queue.QueueName != "Default" {
				t.Errorf("queue %+v", n.Body.Queue)
			}
		}},
		{"InboundEngagementCreated", "inbound_engagement_created.json", "InboundEngagementCreated", func(t *testing.T, n Notification) {
			if n.Body.CallingNumber != "+15551235555" {
				t.Errorf("got %+v", n.Body)
			}
		}},
		{"MatchOffered", "match_offered.json", "MatchOffered", func(t *testing.T, n Notification) {
			if n.Body.OfferedAgent() != "4a785201-73b8-4842-abf7-36f5e572d310" || n.Body.OfferedQueueID() != "6d1490d5-7886-417d-ac85-fb0825d53a93" {
				t.Errorf("agent %q queue %q", n.Body.OfferedAgent(), n.Body.OfferedQueueID())
			}
		}},
		{"OutboundEngagementCreated", "outbound_engagement_created.json", "OutboundEngagementCreated", func(t *testing.T, n Notification) {
			if n.Body.AgentID != "zz3tDKfrQx-Mv78Q_AIpGG" {
				t.Errorf("got %+v", n.Body)
			}
		}},
		{"SingleStepTransfer", "single_step_transfer.json", "SingleStepTransfer", func(t *testing.T, n Notification) {
			if n.Body.TransferTo != "QUEUE" || n.Body.QueueID == "" || n.Body.QueueName != "VoiceQ" || n.Body.CorrelationID == "" {
				t.Errorf("got %+v", n.Body)
			}
		}},
		{"SingleStepTransferError", "single_step_transfer_error.json", "SingleStepTransferError", func(t *testing.T, n Notification) {
			if n.Body.ErrorType != "CANCELLED" || n.Body.Title == "" {
				t.Errorf("got %+v", n.Body)
			}
		}},
		{"ChannelReady", "channel_ready.json", "ChannelReady", func(t *testing.T, n Notification) {}},
		{"AfterContactWorkActivated", "acw_activated.json", "AfterContactWorkActivated", func(t *testing.T, n Notification) {}},
		{"AfterContactWorkCompleted", "acw_completed.json", "AfterContactWorkCompleted", func(t *testing.T, n Notification) {}},
		{"unknown event and field", "unknown_event.json", "SupervisorWhisper", func(t *testing.T, n Notification) {
			if !slices.Equal(n.Unknown, []string{"body.newField"}) {
				t.Errorf("unknown = %v", n.Unknown)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			n, err := DecodeNotification(readFrame(t, "engagement/"+tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if n.Body.Event != tt.event {
				t.Errorf("event = %q, want %q", n.Body.Event, tt.event)
			}
			if tt.event != "SupervisorWhisper" && len(n.Unknown) > 0 {
				t.Errorf("documented fields reported unknown: %v", n.Unknown)
			}
			tt.check(t, n)
		})
	}
}

func TestDecodeNotificationErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in string }{
		{"not JSON", `{"body":`},
		{"array", `[1,2]`},
		{"body without event", `{"body":{"agentId":"a"}}`},
		{"body not an object", `{"body":"x"}`},
		{"reasonCode object", `{"body":{"event":"AgentState","reasonCode":{"a":1}}}`},
		{"state object", `{"body":{"event":"AgentState","state":{"a":1}}}`},
		{"state number", `{"body":{"event":"AgentState","state":3}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := DecodeNotification([]byte(tt.in)); err == nil {
				t.Errorf("no error for %s", tt.in)
			}
		})
	}
	if _, err := DecodeNotification([]byte(`{"event":"something"}`)); err != ErrNotNotification {
		t.Errorf("a frame without body: err = %v, want ErrNotNotification", err)
	}
}

func TestFrameKind(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in, kind string }{
		{"documented response", `{"event":"authenticationResponse","status":"CONNECTION_CONFIRMED","pingInterval":300}`, "auth"},
		{"upper-case response from the user report", `{"event":"AUTHENTICATION_RESPONSE","status":"CONNECTION_CONFIRMED"}`, "auth"},
		{"pong", `{"event":"pong"}`, "pong"},
		{"Pong", `{"event":"PONG"}`, "pong"},
		{"notification", `{"family":"AGENT_ENGAGEMENT","body":{"event":"AgentState"}}`, "data"},
		{"measures", `{"keys":{"queueId":"q"},"payloadType":"LIVE"}`, "data"},
		{"unknown control", `{"event":"goodbye"}`, "other"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			kind, _, err := frameKind([]byte(tt.in))
			if err != nil || kind != tt.kind {
				t.Errorf("kind = %q, %v; want %q", kind, err, tt.kind)
			}
		})
	}
}

// TestDecodeMeasureFrame decodes the seed's INITIALIZING and LIVE examples.
func TestDecodeMeasureFrame(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, file   string
		payload, act string
		kind         event.TargetKind
		id, measure  string
		value        string
	}{
		{"INITIALIZING queue keyed by channel", "initializing_queue.json", "INITIALIZING", "UPSERT", event.TargetQueue, "EMAIL", "contactsQueueing", "2"},
		{"LIVE agent", "live_agent.json", "LIVE", "UPSERT", event.TargetAgent, "9f44ed4e-24ee-4e50-98af-02582e440be5", "agentState", "READY"},
		{"LIVE delete", "live_delete.json", "LIVE", "DELETE", event.TargetAgent, "9f44ed4e-24ee-4e50-98af-02582e440be5", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, err := DecodeMeasureFrame(readFrame(t, "analytics/"+tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if f.PayloadType != tt.payload || f.EventAction != tt.act {
				t.Errorf("payload %q action %q", f.PayloadType, f.EventAction)
			}
			kind, id := f.Target()
			if kind != tt.kind || id != tt.id {
				t.Errorf("target = %v %q, want %v %q", kind, id, tt.kind, tt.id)
			}
			if tt.measure != "" && f.Measures[tt.measure] != tt.value {
				t.Errorf("%s = %q, want %q", tt.measure, f.Measures[tt.measure], tt.value)
			}
		})
	}
}

func TestDecodeMeasureFrameErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in string }{
		{"not JSON", `{`},
		{"no keys", `{"eventAction":"UPSERT","payloadType":"LIVE","measures":{}}`},
		{"bad action", `{"keys":{"queueId":"q"},"eventAction":"MERGE","payloadType":"LIVE"}`},
		{"bad payload type", `{"keys":{"queueId":"q"},"eventAction":"UPSERT","payloadType":"LATER"}`},
		{"measure is an object", `{"keys":{"queueId":"q"},"eventAction":"UPSERT","payloadType":"LIVE","measures":{"a":{}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := DecodeMeasureFrame([]byte(tt.in)); err == nil {
				t.Errorf("no error")
			}
		})
	}
	// Numbers where strings are documented are kept as their text.
	f, err := DecodeMeasureFrame([]byte(`{"keys":{"queueId":7},"eventAction":"upsert","payloadType":"live","measures":{"offered":12}}`))
	if err != nil || f.Keys["queueId"] != "7" || f.Measures["offered"] != "12" {
		t.Errorf("got %+v, %v", f, err)
	}
}

func FuzzDecodeNotification(f *testing.F) {
	entries, _ := os.ReadDir("testdata/engagement")
	for _, e := range entries {
		f.Add(readFrame(f, "engagement/"+e.Name()))
	}
	f.Add([]byte(`{"body":{"event":"MatchOffered","offeredSpecifiedAgent":{"offeredSpecifiedAgentData":{"agentId":"a"}}}}`))
	tr := NewTranslator(nil)
	f.Fuzz(func(t *testing.T, b []byte) {
		n, err := DecodeNotification(b)
		if err != nil {
			return
		}
		_ = tr.Translate(n) // must never panic
		frameKind(b)
	})
}

func FuzzDecodeMeasureFrame(f *testing.F) {
	for _, n := range []string{"initializing_queue.json", "live_agent.json", "live_delete.json"} {
		f.Add(readFrame(f, "analytics/"+n))
	}
	snap := NewSnapshotter("p")
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := DecodeMeasureFrame(b)
		if err != nil {
			return
		}
		for _, ev := range snap.Apply(m) {
			if ev.Kind != event.Measures || ev.Producer != "p" {
				t.Fatalf("bad event %+v", ev)
			}
		}
		snap.Flush()
	})
}
