package main

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/wallboard/wallboard/internal/capture"
	"github.com/wallboard/wallboard/internal/database"
)

// TestServeLeavesNoGoroutine starts the whole program and stops it, then
// finds no goroutine of it left: the demo recording every vendor's traffic
// (every vendor emulator on 127.0.0.1:0, read by the real sources through
// serve, each source's capture open), serve with a configuration file
// whose queue alarms go to a webhook, and a replay of a capture stopped
// while it still feeds. Every run has the journal and its committer, the
// SQLite database and its session cleanup, the snapshot writer, the hub
// and the boards. Pages and streams are open when it stops. Not parallel:
// it compares the goroutines before and after.
func TestServeLeavesNoGoroutine(t *testing.T) {
	// scs v2 starts a session-store cleanup goroutine in scs.New that cannot
	// be stopped without a data race (memstore.StopCleanup reads a channel
	// the goroutine assigns); it ticks once a minute.
	ignore := []goleak.Option{goleak.IgnoreCurrent(),
		goleak.IgnoreTopFunction("github.com/alexedwards/scs/v2/memstore.(*MemStore).startCleanup")}
	printedToken := func(t *testing.T, s *started) string {
		out := waitFor(t, s.stdout, regexp.MustCompile(`(?s)(Board:.*State API:[^\n]*)`))
		return regexp.MustCompile(`Bearer ([A-Z0-9]+)`).FindStringSubmatch(out)[1]
	}
	var captures, stateDir string // of the demo and serve cases
	tests := []struct {
		name  string
		args  func(t *testing.T) (args []string, closeAfter func())
		token func(t *testing.T, s *started) string
		page  string // a page of the floor board that needs no sign-in
		// running waits, before the stop, until the parts whose goroutines
		// the test looks for are at work; after checks what they left.
		running func(t *testing.T, s *started)
		after   func(t *testing.T)
	}{
		{
			name: "demo with every vendor emulator, captured",
			args: func(t *testing.T) ([]string, func()) {
				captures = t.TempDir()
				return []string{"demo", "--listen", "127.0.0.1:0", "--agents", "10", "--queues", "5", "--capture", captures}, func() {}
			},
			token: printedToken,
			page:  "/boards/floor", // loopback needs no sign-in in the demo
			running: func(t *testing.T, _ *started) {
				// Each capture's file is made with its first frame.
				for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
					paths, _ := capture.Files([]string{captures})
					if len(paths) == 5 {
						return
					}
					if time.Now().After(deadline) {
						t.Fatalf("captures %v, want one of each of the 5 vendor sources", paths)
					}
				}
			},
		},
		{
			name: "serve with an alert webhook",
			args: func(t *testing.T) ([]string, func()) {
				hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					_, _ = io.Copy(io.Discard, r.Body)
				}))
				dir := t.TempDir()
				cfg := fmt.Sprintf(`
listen: "127.0.0.1:0"
state_dir: %q
flush_interval: "50ms"
api_tokens:
  - name: test
    token: %q
sources:
  - name: sim
    type: simulation
    sim_agents: 12
    sim_queues: 2
alerts:
  webhook:
    url: %q
boards:
  - id: floor
    title: "Floor"
    thresholds:
      waiting: {warn: 0, alarm: 1}
    kiosk:
      - name: tv
        token: %q
`, filepath.Join(dir, "data"), apiToken, hook.URL, kioskToken)
				stateDir = filepath.Join(dir, "data")
				path := filepath.Join(dir, "wallboard.yaml")
				if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
					t.Fatal(err)
				}
				return []string{"serve", "--config", path}, hook.Close
			},
			token: func(*testing.T, *started) string { return apiToken },
			page:  "/tv/" + kioskToken,
			running: func(t *testing.T, s *started) {
				// The journal commits (the last snapshot truncates it on
				// the way out, so it is seen while running).
				for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
					_, m := get(t, s.url+"/metrics", "Authorization", "Bearer "+apiToken)
					if v := regexp.MustCompile(`(?m)^wallboard_journal_bytes (\d+)`).FindStringSubmatch(m); len(v) == 2 && v[1] != "0" {
						return
					}
					if time.Now().After(deadline) {
						t.Fatalf("the journal holds nothing after 20s:\n%s", m)
					}
				}
			},
			after: func(t *testing.T) {
				if _, err := os.Stat(filepath.Join(stateDir, database.FileName)); err != nil {
					t.Errorf("no database: %v", err)
				}
			},
		},
		{
			// At the recorded pace the fixture's frames span minutes: the
			// replay sources are still feeding when the program stops.
			name: "replay of a capture, stopped while it feeds",
			args: func(*testing.T) ([]string, func()) {
				return []string{"replay", "--listen", "127.0.0.1:0", "--speed", "1",
					filepath.Join("testdata", "replay", "demo-seed1")}, func() {}
			},
			token: printedToken,
			page:  "/boards/floor",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := []goleak.Option{ignore[0], ignore[1]}
			args, closeAfter := tt.args(t)
			defer closeAfter()
			s := start(t, os.Getenv, args...)
			token := tt.token(t, s)
			if err := allLive(s.url, token, 20*time.Second); err != nil {
				t.Fatal(err)
			}
			// A page and its stream are open when the program stops.
			code, page := get(t, s.url+tt.page)
			m := regexp.MustCompile(`"([^"]*events\?since=[^"]+)"`).FindStringSubmatch(page)
			if code != http.StatusOK || m == nil {
				t.Fatalf("board page: %d %.200s", code, page)
			}
			resp, err := http.Get(s.url + strings.ReplaceAll(m[1], "&amp;", "&"))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body := bufio.NewReader(resp.Body)
			if line, err := body.ReadString('\n'); err != nil || !strings.HasPrefix(line, "retry:") {
				t.Fatalf("stream starts %q, %v", line, err)
			}

			if tt.running != nil {
				tt.running(t, s)
			}
			if err := s.stop(); err != nil {
				t.Fatalf("run: %v\n%s", err, s.stderr)
			}
			if _, err := io.ReadAll(body); err != nil {
				t.Errorf("the stream did not end cleanly: %v", err)
			}
			resp.Body.Close()
			http.DefaultClient.CloseIdleConnections()
			apiClient.CloseIdleConnections()
			closeAfter()
			goleak.VerifyNone(t, before...)
			if tt.after != nil {
				tt.after(t)
			}
		})
	}
}
