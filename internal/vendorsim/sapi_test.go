package vendorsim

import (
	"bufio"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func sapiGet(t *testing.T, e *SAPIServer, path, auth string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.URL()+path, nil)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// TestSAPIWire checks the emulator's wire format from a raw client:
// Atmosphere headers, 2048-space padding, newline-delimited events with the
// length prefix when asked, and the refusals.
func TestSAPIWire(t *testing.T) {
	t.Parallel()
	base := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	sim := NewSim(Options{Prefix: "w", Agents: 2, Queues: 1, Seed: 1, Now: func() time.Time { return base }})
	e, err := NewSAPIServer(sim, SAPIOptions{Tenant: "acme", Token: "tok", MaxListeners: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	const path = "/api/streaming/v1/clientconnect/subscribe/TenantUpdates-acme-sub1?desiredOutputType=NEWLINE_JSON&X-Atmosphere-Transport=streaming&X-Atmosphere-TrackMessageSize=true"

	if resp := sapiGet(t, e, path, "Basic wrong"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("wrong token: %d", resp.StatusCode)
	}
	if resp := sapiGet(t, e, strings.Replace(path, "acme-", "other-", 1), "Basic tok"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("wrong tenant: %d", resp.StatusCode)
	}
	resp := sapiGet(t, e, path, "Basic tok")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("X-Atmosphere-tracking-id") == "" ||
		resp.Header.Get("X-Atmosphere-first-request") != "true" || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("answer %d %v", resp.StatusCode, resp.Header)
	}
	br := bufio.NewReader(resp.Body)
	pad := make([]byte, 2049)
	if _, err := io.ReadFull(br, pad); err != nil || strings.TrimSpace(string(pad)) != "" || pad[2048] != '\n' {
		t.Fatalf("padding %q %v", pad[:10], err)
	}
	line, err := br.ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	n, rest, ok := strings.Cut(line, "|")
	if !ok || n == "" || !strings.HasPrefix(rest, `{"AgentProvChange":{"agentId":"wag001"`) {
		t.Errorf("first event %q", line)
	}
	if resp := sapiGet(t, e, path, "Basic tok"); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("second listener over a limit of 1: %d", resp.StatusCode)
	}
	e.Refuse(http.StatusForbidden)
	if resp := sapiGet(t, e, path, "Basic tok"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("refuse 403: %d", resp.StatusCode)
	}
}

// TestEightRender checks the 8x8 rendering of each action kind.
func TestEightRender(t *testing.T) {
	t.Parallel()
	r := newEightRenderer("i", []QueueInfo{{ID: "q1", Name: "Sales"}})
	at := time.Unix(1700000000, 0)
	tests := []struct {
		name string
		a    Action
		want []string
	}{
		{"not ready", Action{Kind: ActionAgentState, Agent: "a", State: "not_ready", Reason: "Lunch", At: at},
			[]string{`{"AgentStatusChange":{"agentId":"a","newState":3,"newSubState":"none","newSubStateReason":"none","newReasonCodeUser":"801=2","statusEventTS":1700000000,"msgInfo":{"instanceId":"i","sequenceId":1,"timestamp":1700000000000}}}`}},
		{"reason already a code", Action{Kind: ActionAgentState, Agent: "a", State: "not_ready", Reason: "801=12345", At: at},
			[]string{`"newReasonCodeUser":"801=12345"`}},
		{"unknown reason", Action{Kind: ActionAgentState, Agent: "a", State: "not_ready", Reason: "Fire drill", At: at},
			[]string{`"newReasonCodeUser":"801=99"`}},
		{"code-like but not a code", Action{Kind: ActionAgentState, Agent: "a", State: "not_ready", Reason: "801=x", At: at},
			[]string{`"newReasonCodeUser":"801=99"`}},
		{"queued", Action{Kind: ActionCallQueued, Call: "c", Queue: "q1", QueuedAt: at, At: at},
			[]string{`"event":"InteractionCreated"`, `"event":"InteractionQueued"`}},
		{"offered", Action{Kind: ActionCallOffered, Call: "c", Queue: "q1", Agent: "a", At: at}, []string{`"event":"InteractionAssigned"`}},
		{"rejected", Action{Kind: ActionCallRejected, Call: "c", Queue: "q1", Agent: "a", At: at}, []string{`"event":"InteractionRejected"`}},
		{"answered", Action{Kind: ActionCallAnswered, Call: "c", Queue: "q1", Agent: "a", At: at}, []string{`"event":"InteractionAccepted"`}},
		{"abandoned", Action{Kind: ActionCallAbandoned, Call: "c", Queue: "q1", At: at}, []string{`"hangupInitiator":"CUSTOMER"`}},
		{"ended", Action{Kind: ActionCallEnded, Call: "c", Queue: "q1", Agent: "a", At: at}, []string{`"hangupInitiator":"AGENT"`}},
	}
	for _, tt := range tests {
		evs := r.render(tt.a)
		if len(evs) != len(tt.want) {
			t.Fatalf("%s: %d events", tt.name, len(evs))
		}
		for i, ev := range evs {
			if j := string(ev.JSON()); !strings.Contains(j, tt.want[i]) {
				t.Errorf("%s: %s lacks %s", tt.name, j, tt.want[i])
			}
			if tt.a.Kind != ActionAgentState && !strings.Contains(string(ev.XML()), "<attachedDataValue>Sales</attachedDataValue>") {
				t.Errorf("%s: xml %s", tt.name, ev.XML())
			}
		}
	}
}
