package vendorsim

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/wallboard/wallboard/internal/event"
)

// TestAgentStatusAPI reads both 8x8 emulators' agent status API over HTTP:
// the documented listing and single-agent shapes, the simulation's truth
// in the API's codes, Basic credentials, and the errors.
func TestAgentStatusAPI(t *testing.T) {
	sim := NewSim(Options{Agents: 4, Queues: 1, Seed: 3})
	sapi, err := NewSAPIServer(sim, SAPIOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer sapi.Close()
	pul, err := NewPulsarServer(sim, PulsarOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer pul.Close()
	ids := sim.Agents()
	sim.Do(Action{Kind: ActionAgentState, Agent: ids[0].ID, State: event.StateNotReady, Reason: "Lunch"})
	sim.Do(Action{Kind: ActionAgentState, Agent: ids[1].ID, State: event.StateAvailable})
	auth := func(user, tok string) string {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+tok))
	}
	for _, emu := range []struct {
		name string
		base string
	}{{"sapi", sapi.URL()}, {"pulsar", pul.StatusURL()}} {
		tests := []struct {
			name, path, auth string
			status           int
			check            func(t *testing.T, body string)
		}{
			{name: "listing", path: "/api/v1/tenants/acme/agentstatus/agents", auth: auth("acme", "status-token"), status: 200,
				check: func(t *testing.T, body string) {
					var got struct {
						Data []map[string]any `json:"data"`
					}
					if err := json.Unmarshal([]byte(body), &got); err != nil {
						t.Fatal(err)
					}
					if len(got.Data) != 4 {
						t.Fatalf("%d agents, want 4", len(got.Data))
					}
					first := got.Data[0]
					if first["agent-id"] != ids[0].ID || first["agent-status"] != float64(3) || first["status-code-list-id"] != float64(801) ||
						first["status-code-item-id"] != float64(2) || first["status-code-item-short-code"] != "Lunch" || first["name"] != ids[0].Name {
						t.Errorf("not-ready agent %v", first)
					}
					if got.Data[1]["agent-status"] != float64(4) {
						t.Errorf("available agent %v", got.Data[1])
					}
				}},
			{name: "one agent", path: "/api/v1/tenants/acme/agentstatus/agents/" + ids[1].ID, auth: auth("acme", "status-token"), status: 200,
				check: func(t *testing.T, body string) {
					if !strings.Contains(body, `"agent-id":"`+ids[1].ID+`"`) || strings.Contains(body, `"data"`) {
						t.Errorf("body %s", body)
					}
				}},
			{name: "unknown agent", path: "/api/v1/tenants/acme/agentstatus/agents/nobody", auth: auth("acme", "status-token"), status: 404},
			{name: "wrong token", path: "/api/v1/tenants/acme/agentstatus/agents", auth: auth("acme", "x"), status: 401,
				check: func(t *testing.T, body string) {
					if body != "<API><Error>401 - Unauthorized.</Error></API>" {
						t.Errorf("body %q", body)
					}
				}},
			{name: "other tenant", path: "/api/v1/tenants/other/agentstatus/agents", auth: auth("acme", "status-token"), status: 403},
		}
		for _, tt := range tests {
			t.Run(emu.name+"/"+tt.name, func(t *testing.T) {
				req, _ := http.NewRequest(http.MethodGet, emu.base+tt.path, nil)
				req.Header.Set("Authorization", tt.auth)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != tt.status {
					t.Fatalf("HTTP %d, want %d: %s", resp.StatusCode, tt.status, b)
				}
				if tt.check != nil {
					tt.check(t, string(b))
				}
			})
		}
	}
	if sapi.StatusReads() != 3 || pul.StatusReads() != 3 {
		t.Errorf("reads %d and %d, want 3 each (the authorized ones)", sapi.StatusReads(), pul.StatusReads())
	}
	sapi.RefuseStatus(http.StatusServiceUnavailable)
	req, _ := http.NewRequest(http.MethodGet, sapi.URL()+"/api/v1/tenants/acme/agentstatus/agents", nil)
	req.Header.Set("Authorization", auth("acme", "status-token"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("refused: HTTP %d", resp.StatusCode)
	}
}
