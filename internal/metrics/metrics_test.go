package metrics

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/wallboard/wallboard/internal/alert"
	"github.com/wallboard/wallboard/internal/event"
	"github.com/wallboard/wallboard/internal/hub"
	"github.com/wallboard/wallboard/internal/source"
)

type discard struct{ err error }

func (d discard) Publish(context.Context, ...event.Event) error { return d.err }

func newTestMetrics() *Metrics {
	last := time.Unix(1_800_000_000, 0)
	return New(Inputs{
		Sources: func() []source.Stats {
			return []source.Stats{
				{Name: "uk-sapi", Type: "8x8-sapi", Status: event.StatusLive, Messages: 120, Errors: 3, Reconnects: 2, LastMessageAt: last},
				{Name: "ns", Type: "netsapiens", Status: event.StatusFailed},
			}
		},
		Hub: func() hub.Stats { return hub.Stats{Subscribers: 3, Cut: 4, Timeouts: 1, BytesSent: 9000, Frames: 77} },
		Screens: func() []hub.Screen {
			return []hub.Screen{{Board: "floor", Behind: 2}, {Board: "floor", Behind: 9}, {Board: "sales"}}
		},
		Boards:   func() []string { return []string{"floor", "sales", "empty"} },
		Snapshot: func() (time.Time, int64) { return last, 1 },
		Version:  "1.2.3", Commit: "abc123",
	})
}

func TestScrapeValues(t *testing.T) {
	t.Parallel()
	m := newTestMetrics()
	sink := m.Sink(discard{})
	_ = sink.Publish(context.Background(), event.Event{Source: "uk-sapi", Kind: event.AgentState}, event.Event{Source: "uk-sapi", Kind: event.AgentState},
		event.Event{Source: "uk-sapi", Kind: event.ContactQueued})
	_ = m.Sink(discard{err: context.Canceled}).Publish(context.Background(), event.Event{Source: "uk-sapi", Kind: event.ContactQueued})
	m.ObserveApply(5, 200*time.Microsecond)
	m.ObserveFlush(3 * time.Millisecond)

	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	body := string(b)

	tests := []struct {
		name string
		line string
	}{
		{"messages", `wallboard_source_messages_total{source="uk-sapi",type="8x8-sapi"} 120`},
		{"errors (rejected frames)", `wallboard_source_errors_total{source="uk-sapi",type="8x8-sapi"} 3`},
		{"reconnects", `wallboard_source_reconnects_total{source="uk-sapi",type="8x8-sapi"} 2`},
		{"up", `wallboard_source_up{source="uk-sapi",type="8x8-sapi"} 1`},
		{"down", `wallboard_source_up{source="ns",type="netsapiens"} 0`},
		{"status series set", `wallboard_source_status{source="ns",status="failed",type="netsapiens"} 1`},
		{"status series unset", `wallboard_source_status{source="ns",status="live",type="netsapiens"} 0`},
		{"last message", `wallboard_source_last_message_timestamp_seconds{source="uk-sapi",type="8x8-sapi"} 1.8e+09`},
		{"events per kind", `wallboard_events_total{kind="agent_state",source="uk-sapi"} 2`},
		{"events only when accepted", `wallboard_events_total{kind="contact_queued",source="uk-sapi"} 1`},
		{"subscribers", `wallboard_subscribers 3`},
		{"per board", `wallboard_board_subscribers{board="floor"} 2`},
		{"board without screens", `wallboard_board_subscribers{board="empty"} 0`},
		{"furthest behind", `wallboard_board_subscribers_behind_frames{board="floor"} 9`},
		{"cut", `wallboard_subscribers_cut_total 4`},
		{"timed out", `wallboard_subscribers_timed_out_total 1`},
		{"bytes", `wallboard_sent_bytes_total 9000`},
		{"frames", `wallboard_frames_total 77`},
		{"apply latency", `wallboard_model_apply_seconds_count 1`},
		{"apply batch", `wallboard_model_apply_batch_events_sum 5`},
		{"flush", `wallboard_flush_seconds_count 1`},
		{"snapshot", `wallboard_snapshot_last_saved_timestamp_seconds 1.8e+09`},
		{"snapshot failures", `wallboard_snapshot_failures_total 1`},
		{"build", `wallboard_build_info{commit="abc123",version="1.2.3"} 1`},
		{"go runtime", `go_goroutines `},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(body, tt.line) {
				t.Errorf("scrape lacks %q", tt.line)
			}
		})
	}
	if t.Failed() {
		t.Logf("scrape:\n%s", body)
	}
}

func TestLint(t *testing.T) {
	t.Parallel()
	probs, err := testutil.GatherAndLint(newTestMetrics().reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range probs {
		if strings.HasPrefix(p.Metric, "wallboard_") {
			t.Errorf("%s: %s", p.Metric, p.Text)
		}
	}
}

// TestAlertCounters: the webhook notifier's counters reach /metrics, from a
// real notifier posting to a real HTTP server (one accepted, one refused
// until it gives up, one dropped while the queue is full).
func TestAlertCounters(t *testing.T) {
	t.Parallel()
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "refuse") {
			w.WriteHeader(http.StatusBadRequest)
		}
	}))
	defer hook.Close()
	scrape := func(n *alert.Notifier) string {
		in := Inputs{}
		if n != nil {
			in.Alerts = n.Stats
		}
		m := New(in)
		srv := httptest.NewServer(m.Handler())
		defer srv.Close()
		resp, err := http.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	ok := alert.New(alert.Options{URL: hook.URL + "/ok", Queue: 1})
	refused := alert.New(alert.Options{URL: hook.URL + "/refuse", Attempts: 1, Queue: 1})
	ok.Notify(alert.Notification{Event: "alarm_started", Alarm: "waiting"})
	ok.Notify(alert.Notification{Event: "alarm_cleared", Alarm: "waiting"}) // the queue holds one: dropped
	refused.Notify(alert.Notification{Event: "alarm_started", Alarm: "waiting"})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go ok.Run(ctx)
	go refused.Run(ctx)
	deadline := time.Now().Add(10 * time.Second)
	for (ok.Stats().Sent < 1 || refused.Stats().Failed < 1) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	tests := []struct {
		name string
		n    *alert.Notifier
		want []string
	}{
		{"sent and dropped", ok, []string{`wallboard_alert_notifications_total{result="sent"} 1`,
			`wallboard_alert_notifications_total{result="dropped"} 1`, `wallboard_alert_notifications_total{result="failed"} 0`}},
		{"failed", refused, []string{`wallboard_alert_notifications_total{result="failed"} 1`,
			`wallboard_alert_notifications_total{result="sent"} 0`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := scrape(tt.n)
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("scrape lacks %q:\n%s", w, body)
				}
			}
		})
	}
	if body := scrape(nil); strings.Contains(body, "wallboard_alert_notifications_total") {
		t.Error("alert series present without a webhook")
	}
}
