package eightbyeight

import (
	"os"
	"testing"
)

// BenchmarkDecode decodes (and translates) one vendor frame per fixture.
func BenchmarkDecode(b *testing.B) {
	for _, name := range []string{"agent_status.json", "agent_status.xml", "interaction_queued.json", "interaction_queued.xml", "agent_prov_skill.json"} {
		raw, err := os.ReadFile("testdata/" + name)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			m, _ := NewMapping(nil, nil)
			tr := NewTranslator(m)
			b.ReportAllocs()
			b.SetBytes(int64(len(raw)))
			for b.Loop() {
				msg, err := Decode(raw)
				if err != nil {
					b.Fatal(err)
				}
				_ = tr.Translate(msg, EventID(msg.MsgInfo()))
			}
		})
	}
}
