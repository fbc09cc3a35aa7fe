package eightbyeight

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/wallboard/wallboard/internal/event"
)

// statusListing is the vendor document's example of the listing ("CC
// Managing Agent Status", Get Status for all agents).
const statusListing = `{
    "data": [
        {"agent-id": "ag0VYyLh0YTsymdbtYIaaaa", "agent-status": 1, "name": "Ilya Workshard"},
        {"agent-id": "ag0XgxWZr7TzqWFhxboBGj1g", "agent-status": 1, "status-code-list-id": -1, "status-code-item-id": 1, "name": "Jane Smith"},
        {"agent-id": "ag1LmqEeEYRoOti9KjIi_Dng", "agent-status": 0, "name": "Paul Neverhere"},
        {"agent-id": "ag64oyEUb_Sk6bxVB9P5ye5w", "agent-status": 5, "status-code-list-id": 801, "status-code-item-id": 1726,
         "status-code-item-short-code": "Train", "name": "Padma Othertask", "agent-sub-status": "none"}
    ]
}`

func TestDecodeAgentStatus(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		ids     []string
		wantErr string
	}{
		{name: "the vendor's listing", body: statusListing,
			ids: []string{"ag0VYyLh0YTsymdbtYIaaaa", "ag0XgxWZr7TzqWFhxboBGj1g", "ag1LmqEeEYRoOti9KjIi_Dng", "ag64oyEUb_Sk6bxVB9P5ye5w"}},
		{name: "one agent's answer", body: `{"agent-id":"a1","agent-status":"4","name":"A"}`, ids: []string{"a1"}},
		{name: "a bare list", body: `[{"agent-id":"a1","agent-status":4},{"agent-id":"a2","agent-status":"N/A"}]`, ids: []string{"a1", "a2"}},
		{name: "an empty listing", body: `{"data":[]}`, ids: []string{}},
		{name: "empty body", body: " ", wantErr: "empty body"},
		{name: "an error page", body: `<API><Error>403 - Forbidden.</Error></API>`, wantErr: "not JSON"},
		{name: "neither list nor agent", body: `{"message":"x"}`, wantErr: `no "data" list`},
		{name: "data not a list", body: `{"data":{"agent-id":"a"}}`, wantErr: "failed to decode"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			list, err := DecodeAgentStatus([]byte(tt.body))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			ids := []string{}
			for _, a := range list {
				ids = append(ids, string(a.AgentID))
			}
			if !reflect.DeepEqual(ids, tt.ids) {
				t.Errorf("ids %v, want %v", ids, tt.ids)
			}
		})
	}
}

// notes records what a resync reports as unmapped.
type notes struct{ unmapped []string }

func (n *notes) Unmapped(field, value, _ string) { n.unmapped = append(n.unmapped, field+"="+value) }
func (n *notes) Unreadable(field, value string)  { n.unmapped = append(n.unmapped, field+"?"+value) }

func TestResync(t *testing.T) {
	at := time.Date(2026, 12, 3, 22, 0, 5, 0, time.UTC)
	tests := []struct {
		name     string
		body     string
		labels   map[string]string
		stateMap map[string]string
		want     []event.Event
		unmapped []string
	}{
		{
			name: "the vendor's listing: logged out and never logged in are not created, the roster lists the others",
			body: statusListing,
			want: []event.Event{
				{Kind: event.AgentInfo, Agent: "ag64oyEUb_Sk6bxVB9P5ye5w", Name: "Padma Othertask"},
				{Kind: event.AgentState, Agent: "ag64oyEUb_Sk6bxVB9P5ye5w", State: event.StateNotReady, Reason: "801=1726", At: at},
				{Kind: event.AgentRoster, Roster: []string{"ag64oyEUb_Sk6bxVB9P5ye5w"}, At: at},
			},
			unmapped: []string{"status-code-item-id=801=1726"},
		},
		{
			name:   "a labelled reason, as the stream's",
			body:   statusListing,
			labels: map[string]string{"801=1726": "Training"},
			want: []event.Event{
				{Kind: event.AgentInfo, Agent: "ag64oyEUb_Sk6bxVB9P5ye5w", Name: "Padma Othertask"},
				{Kind: event.AgentState, Agent: "ag64oyEUb_Sk6bxVB9P5ye5w", State: event.StateNotReady, Reason: "Training", At: at},
				{Kind: event.AgentRoster, Roster: []string{"ag64oyEUb_Sk6bxVB9P5ye5w"}, At: at},
			},
		},
		{
			name: "every state; no reason code: the short code, then the table's reason",
			body: `{"data":[{"agent-id":"a2","agent-status":2},{"agent-id":"a3","agent-status":3,"status-code-item-short-code":"Lunch"},
				{"agent-id":"a4","agent-status":4},{"agent-id":"a6","agent-status":6},{"agent-id":"a7","agent-status":7},
				{"agent-id":"a8","agent-status":8},{"agent-id":"a11","agent-status":"11"}]}`,
			want: []event.Event{
				{Kind: event.AgentState, Agent: "a2", State: event.StateNotReady, Reason: "Logged in", At: at},
				{Kind: event.AgentState, Agent: "a3", State: event.StateNotReady, Reason: "Lunch", At: at},
				{Kind: event.AgentState, Agent: "a4", State: event.StateAvailable, At: at},
				{Kind: event.AgentState, Agent: "a6", State: event.StateOffered, At: at},
				{Kind: event.AgentState, Agent: "a7", State: event.StateBusy, At: at},
				{Kind: event.AgentState, Agent: "a8", State: event.StateWrapUp, At: at},
				{Kind: event.AgentState, Agent: "a11", State: event.StateBusy, At: at},
				{Kind: event.AgentRoster, Roster: []string{"a2", "a3", "a4", "a6", "a7", "a8", "a11"}, At: at},
			},
		},
		{
			name: "a status no table knows, none or an unreadable one keeps the agent as it is; no id: skipped",
			body: `{"data":[{"agent-id":"a42","agent-status":42},{"agent-status":4},{"agent-id":"ax","agent-status":"sideways"},{"agent-id":"an"}]}`,
			want: []event.Event{
				{Kind: event.AgentRoster, Roster: []string{"a42", "ax", "an"}, At: at},
			},
			unmapped: []string{"agent-status=42", "agent-status?"},
		},
		{
			name:     "state_map overrides the table",
			body:     `{"data":[{"agent-id":"a5","agent-status":5},{"agent-id":"a1","agent-status":1}]}`,
			stateMap: map[string]string{"5": "available", "1": "not_ready"},
			want: []event.Event{
				{Kind: event.AgentState, Agent: "a5", State: event.StateAvailable, At: at},
				{Kind: event.AgentState, Agent: "a1", State: event.StateNotReady, At: at},
				{Kind: event.AgentRoster, Roster: []string{"a5", "a1"}, At: at},
			},
		},
		{
			name: "nobody logged in: an empty roster logs everyone out",
			body: `{"data":[]}`,
			want: []event.Event{{Kind: event.AgentRoster, Roster: []string{}, At: at}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := NewMapping(tt.stateMap, tt.labels)
			if err != nil {
				t.Fatal(err)
			}
			list, err := DecodeAgentStatus([]byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			var n notes
			got := Resync(m, &n, list, at)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("events\n got %+v\nwant %+v", got, tt.want)
			}
			if !reflect.DeepEqual(n.unmapped, tt.unmapped) {
				t.Errorf("unmapped %v, want %v", n.unmapped, tt.unmapped)
			}
		})
	}
}

func FuzzDecodeAgentStatus(f *testing.F) {
	f.Add([]byte(statusListing))
	f.Add([]byte(`{"agent-id":"a","agent-status":"4","status-code-list-id":"x"}`))
	f.Add([]byte(`[{"agent-id":1}]`))
	m, _ := NewMapping(nil, nil)
	f.Fuzz(func(t *testing.T, b []byte) {
		list, err := DecodeAgentStatus(b)
		if err != nil {
			if list != nil {
				t.Fatal("a list with an error")
			}
			return
		}
		evs := Resync(m, nil, list, time.Unix(1, 0))
		if len(evs) == 0 || evs[len(evs)-1].Kind != event.AgentRoster {
			t.Fatalf("no roster last: %+v", evs)
		}
		for _, e := range evs[:len(evs)-1] {
			if e.Agent == "" || (e.Kind == event.AgentState && !e.State.Valid()) {
				t.Fatalf("bad event %+v", e)
			}
		}
	})
}

// TestStatusClient reads the listing over HTTP with Basic credentials
// (user: the tenant unless set), and tells refusals apart.
func TestStatusClient(t *testing.T) {
	var gotAuth, gotPath string
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAuth, gotPath = r.Header.Get("Authorization"), r.URL.Path
		if status != http.StatusOK {
			http.Error(w, "<API><Error>nope</Error></API>", status)
			return
		}
		_, _ = w.Write([]byte(statusListing))
	}))
	defer srv.Close()
	tests := []struct {
		name     string
		o        Options
		status   int
		wantAuth string
		wantErr  error
		wantN    int
	}{
		{name: "user defaults to the tenant", o: Options{AgentStatusURL: srv.URL + "/", AgentStatusToken: "tok"},
			status: 200, wantAuth: "Basic YWNtZTp0b2s=", wantN: 4}, // acme:tok
		{name: "user set", o: Options{AgentStatusURL: srv.URL, AgentStatusUser: "u", AgentStatusToken: "tok"},
			status: 200, wantAuth: "Basic dTp0b2s=", wantN: 4}, // u:tok
		{name: "refused", o: Options{AgentStatusURL: srv.URL, AgentStatusToken: "bad"}, status: 403, wantErr: ErrStatusRefused},
		{name: "server error", o: Options{AgentStatusURL: srv.URL, AgentStatusToken: "tok"}, status: 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status = tt.status
			c, err := NewStatusClient(tt.o, "acme", false)
			if err != nil {
				t.Fatal(err)
			}
			list, err := c.Agents(context.Background())
			switch {
			case tt.status != 200:
				if err == nil || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) || (tt.wantErr == nil && errors.Is(err, ErrStatusRefused)) {
					t.Fatalf("error %v, want %v", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "bad") {
					t.Errorf("the error shows the token: %v", err)
				}
			case err != nil:
				t.Fatal(err)
			default:
				if len(list) != tt.wantN || gotAuth != tt.wantAuth || gotPath != "/api/v1/tenants/acme/agentstatus/agents" {
					t.Errorf("%d agents, auth %q, path %q", len(list), gotAuth, gotPath)
				}
			}
		})
	}
	if c, err := NewStatusClient(Options{}, "acme", false); c != nil || err != nil {
		t.Errorf("no agent_status_url: client %v, error %v; want neither", c, err)
	}
}
