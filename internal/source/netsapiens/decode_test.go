package netsapiens

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestDecodeBatch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		body    string
		objs    int
		bad     int
		notArr  bool
		wantErr bool
	}{
		{"empty array", `[]`, 0, 0, false, false},
		{"two objects", `[{"a":"1"},{"b-c":2,"d":true,"e":null,"f":{"x":1}}]`, 2, 0, false, false},
		{"whitespace around", " \n[{\"a\":\"1\"}]\n", 1, 0, false, false},
		{"non-object element skipped", `[{"a":"1"}, 5, "x", null]`, 1, 3, false, false},
		{"object body", `{"a":"1"}`, 0, 0, true, true},
		{"string body", `"hello"`, 0, 0, true, true},
		{"truncated", `[{"a":`, 0, 0, false, true},
		{"garbage", `not json`, 0, 0, false, true},
		{"empty", ``, 0, 0, false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			objs, bad, err := DecodeBatch([]byte(tc.body))
			if (err != nil) != tc.wantErr || errors.Is(err, ErrNotArray) != tc.notArr {
				t.Fatalf("err = %v, want error %v (not array %v)", err, tc.wantErr, tc.notArr)
			}
			if len(objs) != tc.objs || bad != tc.bad {
				t.Errorf("objs %d bad %d, want %d %d", len(objs), bad, tc.objs, tc.bad)
			}
		})
	}
}

func TestDecodeNormalizesKeysAndValues(t *testing.T) {
	t.Parallel()
	objs, _, err := DecodeBatch([]byte(`[{"Call-Orig-Call-ID":"c1","active-calls-total-current":2,"x":false,"n":1.5}]`))
	if err != nil {
		t.Fatal(err)
	}
	f := objs[0].Fields
	for k, want := range map[string]string{"call_orig_call_id": "c1", "active_calls_total_current": "2", "x": "false", "n": "1.5"} {
		if f[k] != want {
			t.Errorf("%s = %q, want %q", k, f[k], want)
		}
	}
	if objs[0].Int("active_calls_total_current") != 2 {
		t.Errorf("Int = %d", objs[0].Int("active_calls_total_current"))
	}
}

func TestDecodeFramesBothKeyStyles(t *testing.T) {
	t.Parallel()
	pairs := [][2]string{{"agent_v2.json", "agent_snake.json"}, {"call_v2.json", "call_snake.json"}, {"presence_v2.json", "presence_snake.json"}}
	for _, p := range pairs {
		t.Run(p[0], func(t *testing.T) {
			t.Parallel()
			a, b := readFrame(t, p[0]), readFrame(t, p[1])
			if len(a) != len(b) || len(a) == 0 {
				t.Fatalf("lengths %d %d", len(a), len(b))
			}
			if a[0].Get(fAgentID...) != "" && userID(a[0].Get(fAgentID...)) != userID(b[0].Get(fAgentID...)) {
				t.Errorf("agent ids differ")
			}
		})
	}
}

func TestParseTime(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		want     time.Time
	}{
		{"vendor form", "2026-11-21 10:00:12", time.Date(2026, 11, 21, 10, 0, 12, 0, time.UTC)},
		{"iso with offset", "2026-11-21T11:00:12+01:00", time.Date(2026, 11, 21, 10, 0, 12, 0, time.UTC)},
		{"iso zulu", "2026-11-21T10:00:12Z", time.Date(2026, 11, 21, 10, 0, 12, 0, time.UTC)},
		{"unix seconds", "1795168812", time.Unix(1795168812, 0)},
		{"unset", "0000-00-00 00:00:00", time.Time{}},
		{"zero", "0", time.Time{}},
		{"empty", "", time.Time{}},
		{"garbage", "soon", time.Time{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := ParseTime(tc.in, nil); !got.Equal(tc.want) {
				t.Errorf("ParseTime(%q) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

func FuzzDecodeBatch(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`[{"remove":"yes"},{"call-orig-call-id":"x","remove":"yes","call-term-user":"1"}]`))
	f.Add([]byte(`{"a":1}`))
	f.Add([]byte(`[1,2,{"callqueue-agent-id":"@","callqueue":""}]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		objs, bad, err := DecodeBatch(body)
		if err != nil {
			if len(objs) != 0 || bad != 0 {
				t.Fatalf("error with results")
			}
			return
		}
		tr := NewTranslator("f", nil)
		for _, m := range []string{"agent", "call", "call_origid", "cdr", "presence"} {
			evs, _ := tr.Translate(m, objs, recv)
			for _, e := range evs {
				if e.Kind == 0 || (e.Kind == 1 && !e.State.Valid()) {
					t.Fatalf("invalid event %+v", e)
				}
			}
		}
	})
}
