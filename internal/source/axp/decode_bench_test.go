package axp

import (
	"os"
	"testing"
)

// BenchmarkDecodeNotification decodes and translates AXP engagement frames.
func BenchmarkDecodeNotification(b *testing.B) {
	for _, name := range []string{"agent_state_not_ready.json", "match_offered.json", "agent_participant_added.json"} {
		raw, err := os.ReadFile("testdata/engagement/" + name)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			tr := NewTranslator(nil)
			b.ReportAllocs()
			b.SetBytes(int64(len(raw)))
			for b.Loop() {
				n, err := DecodeNotification(raw)
				if err != nil {
					b.Fatal(err)
				}
				_ = tr.Translate(n)
			}
		})
	}
}

// BenchmarkDecodeMeasureFrame decodes AXP analytics frames.
func BenchmarkDecodeMeasureFrame(b *testing.B) {
	for _, name := range []string{"initializing_queue.json", "live_agent.json"} {
		raw, err := os.ReadFile("testdata/analytics/" + name)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(raw)))
			for b.Loop() {
				if _, err := DecodeMeasureFrame(raw); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
