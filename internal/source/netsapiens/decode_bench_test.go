package netsapiens

import (
	"os"
	"testing"
	"time"
)

// BenchmarkDecodeBatch decodes and translates one webhook post per fixture.
func BenchmarkDecodeBatch(b *testing.B) {
	for _, c := range []struct{ file, model string }{{"agent_v2.json", "agent"}, {"call_v2.json", "call"}, {"cdr_v2.json", "cdr"}} {
		raw, err := os.ReadFile("testdata/" + c.file)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(c.file, func(b *testing.B) {
			tr := NewTranslator("ns", time.UTC)
			at := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
			b.ReportAllocs()
			b.SetBytes(int64(len(raw)))
			for b.Loop() {
				objs, _, err := DecodeBatch(raw)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = tr.Translate(c.model, objs, at)
			}
		})
	}
}
