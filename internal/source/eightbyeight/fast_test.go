package eightbyeight

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// agree fails t unless DecodeJSON (fast paths first) and the general path
// give the same message and the same error; it reports whether the status
// fast path took the input.
func agree(t *testing.T, in []byte) (fast bool) {
	t.Helper()
	fm, fast := decodeStatusFast(in)
	want, wantErr := decodeAnyWrapper(in)
	if fast {
		if wantErr != nil {
			t.Fatalf("%q: fast path accepted what the general path rejects: %v", in, wantErr)
		}
		if !reflect.DeepEqual(fm, want) {
			t.Fatalf("%q: fast path\n %+v %+v\ngeneral path\n %+v %+v", in, fm, fm.Status, want, want.Status)
		}
	}
	got, gotErr := DecodeJSON(in)
	if (gotErr == nil) != (wantErr == nil) || (gotErr != nil && gotErr.Error() != wantErr.Error()) {
		t.Fatalf("%q: error = %v, want %v", in, gotErr, wantErr)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%q: message = %+v, want %+v", in, got, want)
	}
	return fast
}

// TestStatusFastPath: the AgentStatusChange fast path reads every fixture
// and odd shape exactly as the general path does, and takes the shapes it
// is for.
func TestStatusFastPath(t *testing.T) {
	t.Parallel()
	const load = `{"AgentStatusChange":{"agentId":"b17","newState":3,"newSubState":"none","newSubStateReason":"none","newReasonCodeUser":"801=17","statusEventTS":1700000000,"msgInfo":{"instanceId":"load","sequenceId":17,"timestamp":1700000000123}}}`
	tests := []struct {
		name string
		in   string
		fast bool // the fast path must take it
	}{
		{"load tool shape", load, true},
		{"whitespace", " {\n \"AgentStatusChange\" : { \"agentId\" : \" a \" ,\t\"newState\" : 4 , \"msgInfo\" : { } } }\r\n", true},
		{"numbers as strings", `{"AgentStatusChange":{"agentId":7,"newState":" 4 ","statusEventTS":"1381563857.5","msgInfo":{"sequenceId":"12","timestamp":"N/A"}}}`, true},
		{"unknown fields skipped", `{"AgentStatusChange":{"agentName":"Ann \"A\"","x":{"y":[1,2,{"z":null}]},"agentId":"a","groupIds":[1,2]}}`, true},
		{"missing fields", `{"AgentStatusChange":{}}`, true},
		{"nulls", `{"AgentStatusChange":{"agentId":null,"newState":null,"msgInfo":null}}`, true},
		{"booleans", `{"AgentStatusChange":{"agentId":true,"newState":false,"newSubState":false}}`, true},
		{"object where text is expected", `{"AgentStatusChange":{"agentId":{"a":1},"newState":[1],"newSubState":[]}}`, true},
		{"duplicate keys: last wins", `{"AgentStatusChange":{"agentId":"a","agentId":"b","msgInfo":{"instanceId":"i"},"msgInfo":{"sequenceId":2}}}`, true},
		{"big and odd numbers", `{"AgentStatusChange":{"newState":-12,"statusEventTS":1e3,"msgInfo":{"sequenceId":123456789012345678901,"timestamp":-0.5}}}`, true},
		{"hex and inf strings", `{"AgentStatusChange":{"newState":"0x10","statusEventTS":"Infinity","msgInfo":{"sequenceId":"+5","timestamp":"-"}}}`, true},
		{"escaped value", `{"AgentStatusChange":{"agentId":"a\u0062"}}`, false},
		{"non-ascii value", `{"AgentStatusChange":{"agentId":"José"}}`, false},
		{"case-folded key", `{"AgentStatusChange":{"AgentID":"a"}}`, false},
		{"case-folded msgInfo key", `{"AgentStatusChange":{"msgInfo":{"SequenceId":1}}}`, false},
		{"msgInfo not an object", `{"AgentStatusChange":{"msgInfo":"x"}}`, false},
		{"two wrappers", `{"AgentStatusChange":{"agentId":"a"},"Interaction":{"event":"InteractionQueued"}}`, false},
		{"other wrapper", `{"Interaction":{"event":"InteractionQueued"}}`, false},
		{"wrapper not object", `{"AgentStatusChange":"x"}`, false},
		{"truncated", `{"AgentStatusChange":{"agentId":"a"`, false},
		{"trailing comma", `{"AgentStatusChange":{"agentId":"a",}}`, false},
		{"trailing data", `{"AgentStatusChange":{"agentId":"a"}} x`, false},
		{"invalid skipped value", `{"AgentStatusChange":{"x":[1,,2],"agentId":"a"}}`, false},
		{"control character", "{\"AgentStatusChange\":{\"agentId\":\"a\tb\"}}", false},
	}
	files, _ := filepath.Glob("testdata/*.json")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		base := filepath.Base(f)
		fast := base == "agent_status.json" || base == "agent_status_strings.json" || base == "agent_status_na.json"
		tests = append(tests, struct {
			name, in string
			fast     bool
		}{base, string(b), fast})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if fast := agree(t, []byte(tt.in)); fast != tt.fast {
				t.Errorf("fast path took it: %v, want %v", fast, tt.fast)
			}
		})
	}
}

// FuzzFastPath: on any input, the fast paths and the general path agree.
func FuzzFastPath(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.json")
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"AgentStatusChange":{"agentId":"a","newState":"4","x":{"y":[1]},"msgInfo":{"instanceId":"i","sequenceId":1,"timestamp":"2"}}}`))
	f.Add([]byte(`{"AgentStatusChange":{"agentId":null,"AGENTID":"b","msgInfo":null}}`))
	f.Fuzz(func(t *testing.T, b []byte) { agree(t, b) })
}
