package pulsar

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"testing"

	"github.com/wallboard/wallboard/internal/config"
	"github.com/wallboard/wallboard/internal/event"
	"github.com/wallboard/wallboard/internal/source"
	"github.com/wallboard/wallboard/internal/source/eightbyeight"
)

type nopSink struct{ n int }

func (s *nopSink) Publish(_ context.Context, evs ...event.Event) error { s.n += len(evs); return nil }

// BenchmarkFrame handles one Pulsar proxy frame as the source does after
// reading it from the socket: the frame's JSON, base64, the 8x8 event,
// dedup, translation and the hand-off to the model (everything but the
// socket and the ack write).
func BenchmarkFrame(b *testing.B) {
	cfg := config.Source{Name: "ev", Type: Type, URL: "ws://127.0.0.1:1", Options: &Options{Options: eightbyeight.Options{Tenant: "acme"}, APIKey: "k"}}
	s, err := New(cfg, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	sink := &nopSink{}
	r := source.NewReporter("ev", Type, sink, nil)
	frames := make([][]byte, 1024)
	for i := range frames {
		payload := `{"AgentStatusChange":{"agentId":"b` + strconv.Itoa(i%1000) + `","newState":3,"newSubState":"none","newSubStateReason":"none","newReasonCodeUser":"801=` +
			strconv.Itoa(i) + `","statusEventTS":1700000000,"msgInfo":{"instanceId":"load","sequenceId":` + strconv.Itoa(i) + `,"timestamp":1700000000123}}}`
		frames[i], _ = json.Marshal(map[string]any{"messageId": "CAcQ" + strconv.Itoa(i), "payload": base64.StdEncoding.EncodeToString([]byte(payload)),
			"properties": map[string]string{}, "publishTime": "2026-11-21T10:00:00.123Z", "redeliveryCount": 0})
	}
	s.seen = eightbyeight.NewSeen(1) // frames repeat every 1024: dedup must not skip the work
	s.notes = source.NewNotes(r)     // as Run sets it: the reason codes have no label, so each is noted
	s.tr.SetNotes(s.notes)
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		f, err := parseFrame(frames[i%len(frames)])
		if err != nil {
			b.Fatal(err)
		}
		s.pending = s.process(r, f, s.pending)
		s.batchLast = f.MessageID
		if err := s.flush(ctx, r); err != nil {
			b.Fatal(err)
		}
	}
}
