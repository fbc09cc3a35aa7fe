package vendorsim

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

type pulsarTestFrame struct {
	MessageID       string            `json:"messageId"`
	Payload         string            `json:"payload"`
	Properties      map[string]string `json:"properties"`
	PublishTime     string            `json:"publishTime"`
	RedeliveryCount *int              `json:"redeliveryCount"`
}

func pulsarDial(t *testing.T, ctx context.Context, e *PulsarServer, path string) (*websocket.Conn, int) {
	t.Helper()
	c, resp, err := websocket.Dial(ctx, e.URL()+path, nil)
	if err != nil {
		if resp == nil {
			t.Fatal(err)
		}
		return nil, resp.StatusCode
	}
	t.Cleanup(func() { c.CloseNow() })
	return c, http.StatusSwitchingProtocols
}

func pulsarRead(t *testing.T, ctx context.Context, c *websocket.Conn, ack bool) pulsarTestFrame {
	t.Helper()
	_, b, err := c.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var f pulsarTestFrame
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("frame %s: %v", b, err)
	}
	if ack {
		if err := c.Write(ctx, websocket.MessageText, []byte(`{"messageId":"`+f.MessageID+`"}`)); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// TestPulsarWire checks the proxy emulator from a raw client: auth by
// query parameter, frame fields, exclusive reader resume, and the status
// codes before the upgrade.
func TestPulsarWire(t *testing.T) {
	t.Parallel()
	base := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	sim := NewSim(Options{Prefix: "pw", Agents: 2, Queues: 1, Seed: 1, Now: func() time.Time { return base }})
	e, err := NewPulsarServer(sim, PulsarOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	const reader = "/ws/v2/reader/persistent/acme/event-v1/all?x-api-key=events-key"

	c, _ := pulsarDial(t, ctx, e, reader+"&messageId=earliest")
	first := pulsarRead(t, ctx, c, true)
	second := pulsarRead(t, ctx, c, true)
	if first.Properties == nil || first.RedeliveryCount == nil || first.PublishTime == "" {
		t.Errorf("frame lacks fields: %+v", first)
	}
	if _, err := time.Parse(time.RFC3339Nano, first.PublishTime); err != nil {
		t.Errorf("publishTime: %v", err)
	}
	p, err := base64.StdEncoding.DecodeString(first.Payload)
	if err != nil || !strings.HasPrefix(string(p), `{"AgentProvChange":`) {
		t.Errorf("payload %q %v", p, err)
	}
	if _, ok := pulsarEntry(first.MessageID); !ok {
		t.Errorf("message id %q does not decode", first.MessageID)
	}
	// Resume after the first id: the next message is the second (exclusive).
	c2, _ := pulsarDial(t, ctx, e, reader+"&messageId="+strings.NewReplacer("+", "%2B", "/", "%2F", "=", "%3D").Replace(first.MessageID))
	if got := pulsarRead(t, ctx, c2, true); got.MessageID != second.MessageID {
		t.Errorf("resume from %s gave %s, want %s", first.MessageID, got.MessageID, second.MessageID)
	}

	tests := []struct {
		name, path string
		want       int
	}{
		{"no key", "/ws/v2/reader/persistent/acme/event-v1/all", http.StatusUnauthorized},
		{"other tenant", "/ws/v2/reader/persistent/other/event-v1/all?x-api-key=events-key", http.StatusForbidden},
		{"unknown topic", "/ws/v2/reader/persistent/acme/event-v1/nope?x-api-key=events-key", http.StatusNotFound},
		{"bad reader id", reader + "&messageId=zzz", http.StatusInternalServerError},
		{"bad subscription type", "/ws/v2/consumer/persistent/acme/event-v1/all/s?x-api-key=events-key&subscriptionType=failover", http.StatusBadRequest},
	}
	for _, tt := range tests {
		if _, got := pulsarDial(t, ctx, e, tt.path); got != tt.want {
			t.Errorf("%s: status %d, want %d", tt.name, got, tt.want)
		}
	}
	e.Refuse(http.StatusServiceUnavailable)
	if _, got := pulsarDial(t, ctx, e, reader); got != http.StatusServiceUnavailable {
		t.Errorf("refuse: %d", got)
	}
}

// TestPulsarConsumerRedelivers: unacknowledged messages come back, with a
// redelivery count, to the next consumer on the subscription.
func TestPulsarConsumerRedelivers(t *testing.T) {
	t.Parallel()
	base := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	sim := NewSim(Options{Prefix: "pc", Agents: 2, Queues: 1, Seed: 2, Now: func() time.Time { return base }})
	e, err := NewPulsarServer(sim, PulsarOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	const path = "/ws/v2/consumer/persistent/acme/event-v1/all/sub?x-api-key=events-key&subscriptionType=Exclusive&subscriptionInitialPosition=Earliest"
	c, _ := pulsarDial(t, ctx, e, path)
	a := pulsarRead(t, ctx, c, true)
	b := pulsarRead(t, ctx, c, false) // not acknowledged
	if _, st := pulsarDial(t, ctx, e, path); st != http.StatusConflict {
		t.Errorf("second exclusive consumer: %d, want 409", st)
	}
	time.Sleep(50 * time.Millisecond) // let the ack of a arrive
	c.CloseNow()
	var c2 *websocket.Conn
	for i := 0; i < 100; i++ { // the first connection's slot frees asynchronously
		if c2, _ = pulsarDial(t, ctx, e, path); c2 != nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if c2 == nil {
		t.Fatal("could not reconnect")
	}
	got := pulsarRead(t, ctx, c2, true)
	if got.MessageID != b.MessageID || got.MessageID == a.MessageID || got.RedeliveryCount == nil || *got.RedeliveryCount != 1 {
		t.Errorf("after reconnect got %s (redelivery %v), want %s again", got.MessageID, got.RedeliveryCount, b.MessageID)
	}
}
