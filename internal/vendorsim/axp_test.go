package vendorsim

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/wallboard/wallboard/internal/event"
)

type axpClient struct {
	t   *testing.T
	e   *AXPServer
	tok string
}

func startAXPTest(t *testing.T, o AXPOptions) (*AXPServer, *Sim) {
	t.Helper()
	sim := NewSim(Options{Prefix: "x", Agents: 3, Queues: 2, Seed: 1})
	e, err := StartAXP(sim, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	return e, sim
}

func (c *axpClient) call(method, path, appkey, body string) (int, map[string]any, http.Header) {
	c.t.Helper()
	req, _ := http.NewRequest(method, c.e.URL()+path, strings.NewReader(body))
	if appkey != "" {
		req.Header.Set("appkey", appkey)
	}
	if c.tok != "" {
		req.Header.Set("Authorization", "Bearer "+c.tok)
	}
	if strings.Contains(path, "openid-connect") {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return resp.StatusCode, out, resp.Header
}

func (c *axpClient) token() {
	c.t.Helper()
	o := c.e.Options()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {o.ClientID}, "client_secret": {o.ClientSecret}}
	code, out, _ := c.call("POST", "/api/auth/v1/"+o.AccountID+"/protocol/openid-connect/token", o.AppKey, form.Encode())
	if code != 200 {
		c.t.Fatalf("token: %d %v", code, out)
	}
	c.tok = out["access_token"].(string)
}

func (c *axpClient) create(body string) map[string]any {
	c.t.Helper()
	code, out, _ := c.call("POST", "/api/notification/v1/accounts/"+c.e.Options().AccountID+"/subscriptions", c.e.Options().AppKey, body)
	if code != 201 {
		c.t.Fatalf("create: %d %v", code, out)
	}
	return out
}

func TestAXPTokenEndpoint(t *testing.T) {
	t.Parallel()
	e, _ := startAXPTest(t, AXPOptions{TokenLifetime: 42 * time.Second})
	o := e.Options()
	c := &axpClient{t: t, e: e}
	path := "/api/auth/v1/" + o.AccountID + "/protocol/openid-connect/token"
	good := url.Values{"grant_type": {"client_credentials"}, "client_id": {o.ClientID}, "client_secret": {o.ClientSecret}}.Encode()
	tests := []struct {
		name, appkey, body string
		code               int
	}{
		{"no appkey", "", good, 401},
		{"wrong secret", o.AppKey, "grant_type=client_credentials&client_id=wallboard&client_secret=nope", 401},
		{"good", o.AppKey, good, 200},
	}
	for _, tt := range tests {
		code, out, h := c.call("POST", path, tt.appkey, tt.body)
		if code != tt.code {
			t.Errorf("%s: %d, want %d", tt.name, code, tt.code)
		}
		if code != 200 && h.Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s: content type %q", tt.name, h.Get("Content-Type"))
		}
		if code == 200 && (out["expires_in"] != float64(42) || out["access_token"] == "") {
			t.Errorf("%s: %v", tt.name, out)
		}
	}
}

func TestAXPSubscriptionLifecycle(t *testing.T) {
	t.Parallel()
	e, _ := startAXPTest(t, AXPOptions{SubscriptionLifetime: time.Second})
	c := &axpClient{t: t, e: e}
	base := "/api/notification/v1/accounts/" + e.Options().AccountID + "/subscriptions"
	if code, _, _ := c.call("POST", base, e.Options().AppKey, `{"family":"AGENT_ENGAGEMENT","events":["ALL"]}`); code != 401 {
		t.Errorf("create without a token: %d", code)
	}
	c.token()
	sub := c.create(`{"family":"AGENT_ENGAGEMENT","events":["ALL"],"transport":{"type":"WEBSOCKET"}}`)
	id := sub["subscriptionId"].(string)
	tr := sub["transport"].(map[string]any)
	if !strings.HasSuffix(tr["endpoint"].(string), "/ws/notification/v1/agent-engagement/"+e.Options().AccountID+"/"+id) ||
		tr["pingInterval"] != float64(300) || sub["status"] != "ACTIVE" || sub["expiresIn"] != float64(1) {
		t.Errorf("create answer %v", sub)
	}
	an := c.create(`{"family":"ANALYTICS","events":["ALL"],"transport":{"type":"WEBSOCKET"},"extensions":{"measureProducerId":"Agent_itd_1.0.0"}}`)
	if !strings.Contains(an["transport"].(map[string]any)["endpoint"].(string), "/ws/notification/v1/analytics/realtime/") {
		t.Errorf("analytics endpoint %v", an["transport"])
	}
	time.Sleep(1100 * time.Millisecond) // let the subscription expire
	if _, out, _ := c.call("GET", base+"/"+id, e.Options().AppKey, ""); out["status"] != "INACTIVE" {
		t.Errorf("after expiry: %v", out)
	}
	if code, out, _ := c.call("POST", base+"/"+id+":renew", e.Options().AppKey, ""); code != 200 || out["status"] != "ACTIVE" {
		t.Errorf("renew: %d %v", code, out)
	}
	if code, _, _ := c.call("DELETE", base+"/"+id, e.Options().AppKey, ""); code != 204 {
		t.Errorf("delete: %d", code)
	}
	if code, out, h := c.call("POST", base+"/"+id+":renew", e.Options().AppKey, ""); code != 404 ||
		h.Get("Content-Type") != "application/problem+json" || out["detail"] == "" {
		t.Errorf("renew deleted: %d %v", code, out)
	}
}

func dialAXP(t *testing.T, e *AXPServer, endpoint string) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, endpoint, &websocket.DialOptions{HTTPHeader: http.Header{"appkey": {e.Options().AppKey}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.CloseNow() })
	return conn
}

func readJSON(t *testing.T, conn *websocket.Conn) map[string]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, b, err := conn.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	return m
}

func writeJSON(t *testing.T, conn *websocket.Conn, v any) {
	t.Helper()
	b, _ := json.Marshal(v)
	if err := conn.Write(context.Background(), websocket.MessageText, b); err != nil {
		t.Fatal(err)
	}
}

func TestAXPSocketAuthAndPing(t *testing.T) {
	t.Parallel()
	e, sim := startAXPTest(t, AXPOptions{PingInterval: time.Second})
	c := &axpClient{t: t, e: e}
	c.token()
	sub := c.create(`{"family":"AGENT_ENGAGEMENT","events":["ALL"]}`)
	endpoint := sub["transport"].(map[string]any)["endpoint"].(string)
	id := sub["subscriptionId"].(string)

	bad := dialAXP(t, e, endpoint)
	writeJSON(t, bad, map[string]string{"event": "authentication", "subscriptionId": id, "token": "forged"})
	if m := readJSON(t, bad); m["event"] != "authenticationResponse" || m["status"] != "CONNECTION_FAILED_INVALID_TOKEN" {
		t.Errorf("forged token: %v", m)
	}
	unknown := dialAXP(t, e, endpoint)
	writeJSON(t, unknown, map[string]string{"event": "authentication", "subscriptionId": "nope", "token": c.tok})
	if m := readJSON(t, unknown); m["status"] != "CONNECTION_FAILED_UNKNOWN_SUBSCRIPTION" {
		t.Errorf("unknown subscription: %v", m)
	}

	conn := dialAXP(t, e, endpoint)
	writeJSON(t, conn, map[string]string{"event": "authentication", "subscriptionId": id, "token": c.tok})
	if m := readJSON(t, conn); m["status"] != "CONNECTION_CONFIRMED" || m["pingInterval"] != float64(1) {
		t.Fatalf("confirm: %v", m)
	}
	writeJSON(t, conn, map[string]string{"event": "ping"})
	if m := readJSON(t, conn); m["event"] != "pong" {
		t.Errorf("ping answered %v", m)
	}
	agent := sim.Agents()[0].ID
	sim.Do(Action{Kind: ActionAgentState, Agent: agent, State: event.StateNotReady, Reason: "Lunch"})
	first, second := readJSON(t, conn), readJSON(t, conn)
	if b := first["body"].(map[string]any); b["event"] != "AgentState" || b["state"] != "LOGGED_IN" {
		t.Errorf("first %v", first)
	}
	b := second["body"].(map[string]any)
	if b["state"] != "NOT_READY" || b["reasonCode"] != float64(502) || second["family"] != "AGENT_ENGAGEMENT" ||
		second["subscriptionId"] != id || second["loginId"] == "" {
		t.Errorf("second %v", second)
	}
	// No more pings: the vendor closes the socket and sets the subscription INACTIVE.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for {
		if _, _, err := conn.Read(ctx); err != nil {
			break
		}
	}
	if ctx.Err() != nil {
		t.Fatal("the socket stayed open without pings")
	}
	if _, out, _ := c.call("GET", "/api/notification/v1/accounts/"+e.Options().AccountID+"/subscriptions/"+id, e.Options().AppKey, ""); out["status"] != "INACTIVE" {
		t.Errorf("after the ping timeout: %v", out)
	}
	if s := e.Stats(); s.PingTimeouts != 1 {
		t.Errorf("ping timeouts %d", s.PingTimeouts)
	}
}

func TestAXPAnalyticsSocket(t *testing.T) {
	t.Parallel()
	e, sim := startAXPTest(t, AXPOptions{})
	c := &axpClient{t: t, e: e}
	c.token()
	sub := c.create(`{"family":"ANALYTICS","events":["ALL"],"extensions":{"measureProducerId":"Queue_itd_1.0.0"}}`)
	conn := dialAXP(t, e, sub["transport"].(map[string]any)["endpoint"].(string))
	writeJSON(t, conn, map[string]string{"event": "authentication", "subscriptionId": sub["subscriptionId"].(string), "token": c.tok})
	if m := readJSON(t, conn); m["status"] != "CONNECTION_CONFIRMED" {
		t.Fatalf("confirm %v", m)
	}
	for _, q := range sim.Queues() {
		m := readJSON(t, conn)
		if m["payloadType"] != "INITIALIZING" || m["eventAction"] != "UPSERT" || m["keys"].(map[string]any)["queueId"] != q.ID ||
			m["measures"].(map[string]any)["queueName"] != q.Name || m["measureProducerId"] != "Queue_itd_1.0.0" {
			t.Errorf("initializing %v", m)
		}
	}
	q := sim.Queues()[1].ID
	sim.Do(Action{Kind: ActionCallQueued, Queue: q})
	m := readJSON(t, conn)
	ms := m["measures"].(map[string]any)
	if m["payloadType"] != "LIVE" || ms["contactsQueueing"] != "1" || ms["offered"] != "1" {
		t.Errorf("live %v", m)
	}
	for k, v := range ms {
		if _, ok := v.(string); !ok {
			t.Errorf("measure %s is not a string: %v", k, v)
		}
	}
}

// TestAXPRenderOfferEnds checks how the Agent & Engagement renderer tells
// the end of an offer: an answered one by AgentParticipant ADDED alone, an
// unanswered one (rejected, or released by a forced state change) by the
// engagement routed again and the agent's AgentState stated afresh, so that
// a client that missed the offer still learns the agent no longer rings.
func TestAXPRenderOfferEnds(t *testing.T) {
	t.Parallel()
	e, _ := startAXPTest(t, AXPOptions{})
	const ag, q, call = "xag001", "xq100", "xcall000001"
	offered := []Action{
		{Kind: ActionCallOffered, Agent: ag, Queue: q, Call: call},
		{Kind: ActionAgentState, Agent: ag, State: event.StateOffered},
	}
	tests := []struct {
		name    string
		actions []Action
		want    string
	}{
		{"answered", append(slices.Clone(offered),
			Action{Kind: ActionCallAnswered, Agent: ag, Queue: q, Call: call},
			Action{Kind: ActionAgentState, Agent: ag, State: event.StateBusy}),
			"MatchOffered; AgentParticipant/ADDED"},
		{"rejected, back to ready", append(slices.Clone(offered),
			Action{Kind: ActionCallRejected, Agent: ag, Queue: q, Call: call},
			Action{Kind: ActionAgentState, Agent: ag, State: event.StateAvailable}),
			"MatchOffered; EngagementPrerouted; AgentState/READY"},
		{"released by a forced not ready", append(slices.Clone(offered),
			Action{Kind: ActionCallRejected, Agent: ag, Queue: q, Call: call},
			Action{Kind: ActionAgentState, Agent: ag, State: event.StateNotReady, Reason: "Lunch"}),
			"MatchOffered; EngagementPrerouted; AgentState/NOT_READY"},
		{"ready again without an offer is not restated", []Action{
			{Kind: ActionAgentState, Agent: ag, State: event.StateNotReady, Reason: "Break"},
			{Kind: ActionAgentState, Agent: ag, State: event.StateAvailable},
			{Kind: ActionAgentState, Agent: ag, State: event.StateAvailable}},
			"AgentState/NOT_READY; AgentState/READY"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newAXPEngagement(e, "sub")
			r.state[ag], r.presence[ag] = event.StateAvailable, "READY"
			var got []string
			for _, a := range tt.actions {
				for _, f := range r.render(a) {
					body := f.(map[string]any)["body"].(map[string]any)
					s := body["event"].(string)
					if v, ok := body["state"].(string); ok {
						s += "/" + v
					} else if v, ok := body["action"].(string); ok {
						s += "/" + v
					}
					got = append(got, s)
				}
			}
			if g := strings.Join(got, "; "); g != tt.want {
				t.Errorf("frames\n got  %s\n want %s", g, tt.want)
			}
		})
	}
}
