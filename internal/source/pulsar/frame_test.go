package pulsar

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// frameAgree fails t unless the fast frame reader, when it takes b, reads
// what encoding/json does; it reports whether the fast reader took it.
func frameAgree(t *testing.T, b []byte) (fast bool) {
	t.Helper()
	var j frameJSON
	jerr := json.Unmarshal(b, &j)
	f, fast := parseFrameFast(b)
	if fast {
		if jerr != nil {
			t.Fatalf("%q: fast reader accepted what encoding/json rejects: %v", b, jerr)
		}
		if f.MessageID != j.MessageID || string(f.Payload) != j.Payload || string(f.PublishTime) != j.PublishTime ||
			f.Type != j.Type || !bytes.Equal(f.EndOfTopic, j.EndOfTopic) {
			t.Fatalf("%q: fast %+v, encoding/json %+v", b, f, j)
		}
	}
	g, err := parseFrame(b)
	if (err == nil) != (jerr == nil) {
		t.Fatalf("%q: parseFrame error %v, encoding/json %v", b, err, jerr)
	}
	if err == nil && (g.MessageID != j.MessageID || string(g.Payload) != j.Payload || string(g.PublishTime) != j.PublishTime ||
		g.Type != j.Type || !bytes.Equal(g.EndOfTopic, j.EndOfTopic)) {
		t.Fatalf("%q: parseFrame %+v, encoding/json %+v", b, g, j)
	}
	return fast
}

// TestParseFrameFastMatchesJSON: the one-pass frame reader reads every
// fixture and odd shape as encoding/json does, and takes message frames.
func TestParseFrameFastMatchesJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		fast bool
	}{
		{"emulator message", `{"messageId":"CAAQAw==","payload":"e30=","properties":{},"publishTime":"2026-11-21T10:00:00.123Z","redeliveryCount":0,"key":"b1"}`, true},
		{"every documented field", `{"messageId":"CAAQAw==","payload":"e30=","properties":{"k":"v","é":"\u00e9"},"publishTime":"2021-10-29T16:01:38.967-07:00","redeliveryCount":3,"eventTime":"x","key":"a\"b","encryptionContext":{"keys":{"a":{"keyValue":"x","metadata":{}}},"param":"y","compressionType":"NONE","uncompressedMessageSize":0,"batchSize":null}}`, true},
		{"whitespace", "{ \"messageId\" : \"CAAQAw==\" ,\n\"payload\":\"e30=\" }\n", true},
		{"nulls", `{"messageId":"CAAQAw==","payload":null,"publishTime":null,"redeliveryCount":null,"type":null}`, true},
		{"duplicate keys", `{"messageId":"a","messageId":"b","messageId":null}`, true},
		{"auth challenge", `{"type":"AUTH_CHALLENGE","authChallenge":{"challenge":{"authMethodName":"token","authData":""},"protocolVersion":0}}`, true},
		{"empty object", `{}`, true},
		{"end of topic", `{"endOfTopic":true}`, false},
		{"case-folded key", `{"MessageId":"CAAQAw==","payload":"e30="}`, false},
		{"escaped id", `{"messageId":"CAAQ\u0041w==","payload":"e30="}`, false},
		{"escaped slash in payload", `{"messageId":"a","payload":"e3\/0="}`, false},
		{"number id", `{"messageId":5,"payload":"e30="}`, false},
		{"fractional redelivery", `{"messageId":"a","redeliveryCount":1.5}`, false},
		{"huge redelivery", `{"messageId":"a","redeliveryCount":123456789012345678901234}`, false},
		{"string redelivery", `{"messageId":"a","redeliveryCount":"1"}`, false},
		{"not json", `not json at all`, false},
		{"array", `[1]`, false},
		{"truncated", `{"messageId":"a"`, false},
		{"trailing data", `{"messageId":"a"} {}`, false},
		{"bad skipped value", `{"messageId":"a","properties":{"k":}}`, false},
	}
	files, _ := filepath.Glob("testdata/*.json")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		base := filepath.Base(f)
		tests = append(tests, struct {
			name, in string
			fast     bool
		}{base, string(b), base != "end_of_topic.json"})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if fast := frameAgree(t, []byte(tt.in)); fast != tt.fast {
				t.Errorf("fast reader took it: %v, want %v", fast, tt.fast)
			}
		})
	}
}

// FuzzParseFrame: on any input the frame reader agrees with encoding/json.
func FuzzParseFrame(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.json")
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"messageId":"CAAQAw==","payload":"e30=","properties":{"a":"b"},"publishTime":"2026-11-21T10:00:00Z","redeliveryCount":0}`))
	f.Add([]byte(`{"messageId":null,"MESSAGEID":"x","redeliveryCount":-0}`))
	f.Fuzz(func(t *testing.T, b []byte) { frameAgree(t, b) })
}
