package eightbyeight

import (
	"os"
	"path/filepath"
	"reflect"
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

// TestFastPathMatchesGeneralPath: the one-wrapper fast path decodes exactly
// what the general path does, and leaves every other shape to it.
func TestFastPathMatchesGeneralPath(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.json")
	tests := []struct{ name, in string }{
		{"two wrappers", `{"AgentStatusChange":{"agentId":"a","newState":4},"Interaction":{"event":"InteractionQueued"}}`},
		{"unknown key first", `{"x":1,"AgentStatusChange":{"agentId":"a"}}`},
		{"spaces", " {\n \"AgentStatusChange\" : {\"agentId\":\"a\",\"newState\":\"4\"} }\n"},
		{"not an object", `{"AgentStatusChange":[1]}`},
		{"escaped key", `{"Agent\u0053tatusChange":{"agentId":"a"}}`},
		{"truncated", `{"AgentStatusChange":{"agentId":"a"`},
		{"unknown wrapper", `{"CallStatus":{}}`},
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		tests = append(tests, struct{ name, in string }{filepath.Base(f), string(b)})
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, gotErr := DecodeJSON([]byte(tc.in))
			want, wantErr := decodeAnyWrapper([]byte(tc.in))
			if (gotErr == nil) != (wantErr == nil) || (gotErr != nil && gotErr.Error() != wantErr.Error()) {
				t.Fatalf("error = %v, want %v", gotErr, wantErr)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("message = %+v, want %+v", got, want)
			}
		})
	}
}
