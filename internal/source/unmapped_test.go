package source

import (
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// TestUnmappedBounded: distinct values are kept up to MaxUnmappedKeys,
// then only counted; counts, the latest example (redacted, short) and the
// per-field totals come out of Stats.
func TestUnmappedBounded(t *testing.T) {
	t.Parallel()
	synctest.Test(t, testUnmappedBounded) // a fake clock: the 2 s below pass at once
}

func testUnmappedBounded(t *testing.T) {
	r := NewReporter("s", "t", nil, nil)
	r.Unmapped("newState", "42", "state_map", []byte(`{"newState":42,"token":"hunter2"}`))
	time.Sleep(2 * time.Second) // past the 1 s between examples
	now := time.Now()
	r.Unmapped("newState", "42", "state_map", []byte(`{"newState":42,"api_key":"k3y","n":2}`))
	r.Unmapped("newState", "4\x00\x01", "state_map", nil) // kept as "4??": the same key each time
	r.Unmapped("newState", "4\x00\x01", "state_map", nil)
	for i := range MaxUnmappedKeys + 49 { // one key is taken by the control bytes
		r.Unmapped("reason", strconv.Itoa(i), "reason_labels", nil)
	}
	r.Unmapped("reason", strings.Repeat("x", 10_000), "reason_labels", nil)
	st := r.Stats()
	if len(st.Unmapped) != MaxUnmappedKeys {
		t.Fatalf("kept %d values, want %d", len(st.Unmapped), MaxUnmappedKeys)
	}
	if st.UnmappedOverflow != 52 {
		t.Errorf("overflow %d, want 52", st.UnmappedOverflow)
	}
	if st.UnmappedFields["newState"] != 4 || st.UnmappedFields["reason"] != MaxUnmappedKeys+50 {
		t.Errorf("per field %v", st.UnmappedFields)
	}
	var ns UnmappedValue
	for _, u := range st.Unmapped {
		if u.Key() == "newState=42" {
			ns = u
		}
	}
	if ns.Count != 2 || ns.ConfigKey != "state_map" || !ns.LastSeen.Equal(now) {
		t.Errorf("newState=42: %+v", ns)
	}
	if !strings.Contains(ns.Example, `"n":2`) || strings.Contains(ns.Example, "k3y") || !strings.Contains(ns.Example, "[redacted]") {
		t.Errorf("example %q: want the latest frame, redacted", ns.Example)
	}
	odd := 0
	for _, u := range st.Unmapped {
		if u.Key() == "newState=4??" {
			odd = int(u.Count)
		}
	}
	if odd != 2 {
		t.Errorf("a value with control bytes: counted %d under newState=4??, want 2", odd)
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in, want string }{
		{"json token", `{"token":"abc","x":1}`, `{"token":"[redacted]","x":1}`},
		{"json access_token escaped quote", `{"access_token":"a\"b","x":1}`, `{"access_token":"[redacted]","x":1}`},
		{"json api key hyphen", `{"X-API-Key": "k"}`, `{"X-API-Key": "[redacted]"}`},
		{"json subscription id", `{"subscriptionId":"s1","event":"ping"}`, `{"subscriptionId":"[redacted]","event":"ping"}`},
		{"xml token", `<a><token>abc</token></a>`, `<a><token>[redacted]</token></a>`},
		{"query", `GET /ws?x-api-key=abc&messageId=1`, `GET /ws?x-api-key=[redacted]&messageId=1`},
		{"header", "Authorization: Bearer abc\nX-Correlation-ID: 123", "Authorization: [redacted]\nX-Correlation-ID: [redacted]"},
		{"nothing to hide", `{"newState":4}`, `{"newState":4}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := string(Redact([]byte(tc.in))); got != tc.want {
				t.Errorf("Redact(%s) = %s, want %s", tc.in, got, tc.want)
			}
		})
	}
}
