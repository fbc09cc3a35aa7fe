package main

import (
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

type apiInterval struct {
	Queue    string    `json:"queue"`
	Start    time.Time `json:"start"`
	Offered  int       `json:"offered"`
	Complete bool      `json:"complete"`
}

func intervals(t *testing.T, base string) []apiInterval {
	t.Helper()
	status, body := get(t, base+"/api/v1/intervals", "Authorization", "Bearer "+apiToken)
	if status != http.StatusOK {
		t.Fatalf("GET /api/v1/intervals: %d %s", status, body)
	}
	var a struct {
		Intervals []apiInterval `json:"intervals"`
	}
	if err := json.Unmarshal([]byte(body), &a); err != nil {
		t.Fatal(err)
	}
	return a.Intervals
}

// TestIntervalSurvivesRestart runs serve with 1-minute intervals, stops it
// once the open interval has counted contacts, starts it again on the same
// state directory, and finds every contact counted before the stop again:
// in the interval still open (restored from the snapshot) or, if the minute
// ended meanwhile, in the row written for it.
func TestIntervalSurvivesRestart(t *testing.T) {
	path := writeConfig(t)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(b), `timezone: "UTC"`, "timezone: \"UTC\"\ninterval_length: \"1m\"", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	s := start(t, testEnv, "serve", "--config", path, "--listen", "127.0.0.1:0")
	// Wait for an open interval with something offered.
	var before map[string]apiInterval // by queue
	deadline := time.Now().Add(40 * time.Second)
	for before == nil && time.Now().Before(deadline) {
		offered := map[string]apiInterval{}
		total := 0
		for _, iv := range intervals(t, s.url) {
			if !iv.Complete {
				offered[iv.Queue] = iv
				total += iv.Offered
			}
		}
		if total > 0 && time.Now().Second() < 50 { // not right before the minute ends
			before = offered
		} else {
			time.Sleep(200 * time.Millisecond)
		}
	}
	if before == nil {
		t.Fatal("no contact offered in an open interval within 40 s")
	}
	// Counted between the read and the stop is fine: at least these.
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	s2 := start(t, testEnv, "serve", "--config", path, "--listen", "127.0.0.1:0")
	after := intervals(t, s2.url)
	for q, want := range before {
		found := false
		for _, iv := range after {
			if iv.Queue == q && iv.Start.Equal(want.Start) {
				found = true
				if iv.Offered < want.Offered {
					t.Errorf("queue %s, interval %s: offered %d after the restart, %d before", q, want.Start, iv.Offered, want.Offered)
				}
				if iv.Complete {
					t.Errorf("queue %s, interval %s: a restart cut it, yet it is complete", q, want.Start)
				}
			}
		}
		if !found {
			t.Errorf("queue %s: interval %s is gone after the restart: %+v", q, want.Start, after)
		}
	}
	if err := s2.stop(); err != nil {
		t.Fatal(err)
	}
}
