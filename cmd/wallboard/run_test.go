package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	sse "github.com/r3labs/sse/v2"
)

// syncBuffer is an io.Writer that tests can read while run writes to it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitFor polls out until re matches, and returns the first group.
func waitFor(t *testing.T, out *syncBuffer, re *regexp.Regexp) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(out.String()); m != nil {
			return m[1]
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no match for %s in:\n%s", re, out.String())
	return ""
}

type started struct {
	url    string
	stdout *syncBuffer
	stderr *syncBuffer
	stop   func() error
}

// start runs the real program with args until the test ends.
func start(t *testing.T, getenv func(string) string, args ...string) *started {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &started{stdout: &syncBuffer{}, stderr: &syncBuffer{}}
	done := make(chan error, 1)
	go func() { done <- run(ctx, args, getenv, s.stdout, s.stderr) }()
	var once sync.Once
	var err error
	s.stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case err = <-done:
			case <-time.After(15 * time.Second):
				err = fmt.Errorf("run did not return within 15s of cancel")
			}
		})
		return err
	}
	t.Cleanup(func() { _ = s.stop() })
	s.url = waitFor(t, s.stderr, regexp.MustCompile(`msg="wallboard listening" url=(http://127\.0\.0\.1:\d+)`))
	return s
}

func get(t *testing.T, url string, header ...string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

const (
	apiToken   = "api-token-0123456789abcdef"
	kioskToken = "kiosk-token-0123456789abcdefghijkl"
)

func writeConfig(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	cfg := fmt.Sprintf(`
listen: "127.0.0.1:9"
state_dir: %q
timezone: "UTC"
flush_interval: "50ms"
heartbeat: "1s"
api_tokens:
  - name: test
    token: "${TEST_API_TOKEN}"
sources:
  - name: sim
    type: simulation
    sim_agents: 12
    sim_queues: 2
    sim_seed: 3
boards:
  - id: floor
    title: "Test floor"
    kiosk:
      - name: tv
        token: %q
`, filepath.Join(dir, "data"), kioskToken)
	path := filepath.Join(dir, "wallboard.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func testEnv(k string) string {
	if k == "TEST_API_TOKEN" {
		return apiToken
	}
	return ""
}

func TestServeEndToEnd(t *testing.T) {
	t.Parallel()
	s := start(t, testEnv, "serve", "--config", writeConfig(t), "--listen", "127.0.0.1:0")

	if code, _ := get(t, s.url+"/healthz"); code != http.StatusOK {
		t.Errorf("healthz = %d", code)
	}
	// Ready once the source has been live.
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, body := get(t, s.url+"/readyz")
		if code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("readyz = %d %s", code, body)
		}
		time.Sleep(50 * time.Millisecond)
	}

	t.Run("state API needs a token", func(t *testing.T) {
		if code, _ := get(t, s.url+"/api/v1/state"); code != http.StatusUnauthorized {
			t.Errorf("without token: %d", code)
		}
		if code, _ := get(t, s.url+"/api/v1/state", "Authorization", "Bearer wrong-token-000000000000"); code != http.StatusUnauthorized {
			t.Errorf("wrong token: %d", code)
		}
	})

	t.Run("state API shape", func(t *testing.T) {
		code, body := get(t, s.url+"/api/v1/state", "Authorization", "Bearer "+apiToken)
		if code != http.StatusOK {
			t.Fatalf("state = %d %s", code, body)
		}
		var st struct {
			GeneratedAt string `json:"generated_at"`
			Sources     []map[string]any
			Agents      []map[string]any
			Queues      []map[string]any
		}
		if err := json.Unmarshal([]byte(body), &st); err != nil {
			t.Fatal(err)
		}
		if _, err := time.Parse(time.RFC3339Nano, st.GeneratedAt); err != nil || !strings.HasSuffix(st.GeneratedAt, "Z") {
			t.Errorf("generated_at %q is not RFC 3339 UTC", st.GeneratedAt)
		}
		if len(st.Sources) != 1 || st.Sources[0]["name"] != "sim" || st.Sources[0]["status"] != "live" || st.Sources[0]["type"] != "simulation" {
			t.Errorf("sources = %v", st.Sources)
		}
		for _, k := range []string{"last_message_at", "messages", "errors", "reconnects", "detail"} {
			if _, ok := st.Sources[0][k]; !ok {
				t.Errorf("source lacks %q", k)
			}
		}
		if len(st.Agents) != 12 || len(st.Queues) != 2 {
			t.Fatalf("%d agents, %d queues; want 12, 2", len(st.Agents), len(st.Queues))
		}
		ids := make([]string, len(st.Agents))
		for i, a := range st.Agents {
			ids[i] = a["id"].(string)
			for _, k := range []string{"source", "id", "name", "state", "reason", "state_since", "queues", "measures"} {
				if _, ok := a[k]; !ok {
					t.Errorf("agent lacks %q: %v", k, a)
				}
			}
		}
		if !sort.StringsAreSorted(ids) {
			t.Errorf("agents not sorted by id: %v", ids)
		}
		q := st.Queues[0]
		for _, k := range []string{"source", "id", "name", "waiting", "oldest_waiting_since", "offered", "answered", "abandoned", "service_level", "measures"} {
			if _, ok := q[k]; !ok {
				t.Errorf("queue lacks %q: %v", k, q)
			}
		}
	})

	t.Run("boards need sign-in outside the demo", func(t *testing.T) {
		if code, _ := get(t, s.url+"/boards/floor"); code != http.StatusUnauthorized {
			t.Errorf("/boards/floor = %d", code)
		}
		if code, _ := get(t, s.url+"/"); code != http.StatusUnauthorized {
			t.Errorf("/ = %d", code)
		}
	})

	t.Run("kiosk link", func(t *testing.T) {
		// The boards follow the model one flush behind.
		var code int
		var body string
		for start := time.Now(); time.Since(start) < 5*time.Second; time.Sleep(50 * time.Millisecond) {
			if code, body = get(t, s.url+"/tv/"+kioskToken); strings.Contains(body, `class="agent `) {
				break
			}
		}
		if code != http.StatusOK {
			t.Fatalf("kiosk = %d", code)
		}
		for _, want := range []string{`data-testid="board-title">Test floor<`, `id="source-sim"`, `data-status="live"`, `class="board kiosk"`,
			`hx-sse:connect="/tv/` + kioskToken + `/events?since=`} {
			if !strings.Contains(body, want) {
				t.Errorf("kiosk page lacks %s", want)
			}
		}
		if n := len(regexp.MustCompile(`id="agent-sim-ag\d+" class="agent s-[a-z_]+" data-state="[a-z_]+" data-since="[0-9TZ:-]+"`).FindAllString(body, -1)); n == 0 {
			t.Error("kiosk page shows no agent marks")
		}
		if code, _ := get(t, s.url+"/tv/not-a-token-0000000000000000000000"); code != http.StatusNotFound {
			t.Errorf("wrong kiosk token = %d", code)
		}
	})

	t.Run("the boards' loop times each flush", func(t *testing.T) {
		// The kiosk page above showed agents: deltas reached the boards.
		code, body := get(t, s.url+"/metrics", "Authorization", "Bearer "+apiToken)
		m := regexp.MustCompile(`(?m)^wallboard_flush_seconds_count (\d+)$`).FindStringSubmatch(body)
		if code != http.StatusOK || m == nil || m[1] == "0" {
			t.Errorf("metrics = %d, flush count %v; want flushes timed by the projector's OnFlush", code, m)
		}
	})

	t.Run("event stream delivers deltas", func(t *testing.T) {
		_, page := get(t, s.url+"/tv/"+kioskToken)
		since := regexp.MustCompile(`events\?since=([^"]+)"`).FindStringSubmatch(page)[1]
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		c := sse.NewClient(s.url+"/tv/"+kioskToken+"/events?since="+since, sse.ClientMaxBufferSize(1<<22))
		events := make(chan *sse.Event, 1024)
		go func() { _ = c.SubscribeRawWithContext(ctx, func(e *sse.Event) { events <- e }) }()
		timeout := time.After(20 * time.Second)
		for {
			select {
			case e := <-events:
				if len(e.Data) > 0 && bytes.Contains(e.Data, []byte(`hx-swap-oob="true"`)) && regexp.MustCompile(`^[0-9a-z]+-[0-9a-f]+-\d+$`).Match(e.ID) {
					return // a live delta with a proper id
				}
			case <-timeout:
				t.Fatal("no delta within 20s")
			}
		}
	})

	if err := s.stop(); err != nil {
		t.Errorf("shutdown: %v", err)
	}
	if !strings.Contains(s.stderr.String(), "msg=stopped") {
		t.Errorf("no clean stop in log:\n%s", s.stderr.String())
	}
	if strings.Contains(s.stderr.String(), kioskToken) || strings.Contains(s.stderr.String(), apiToken) {
		t.Error("a token appeared in the log")
	}
}

func TestDemoChangeReachesTheStream(t *testing.T) {
	t.Parallel()
	s := start(t, os.Getenv, "demo", "--listen", "127.0.0.1:0", "--agents", "16", "--queues", "4")
	out := waitFor(t, s.stdout, regexp.MustCompile(`(?s)(Board:.*A change:[^\n]*)`))
	token := regexp.MustCompile(`Bearer ([A-Z0-9]+)`).FindStringSubmatch(out)[1]
	// Every address together, once the sources are live.
	for _, want := range []string{"Board:      " + s.url + "/boards/floor", "Console:    " + s.url + "/boards/floor/console",
		"Admin:      " + s.url + "/admin", "New TV:     " + s.url + "/boards/floor/links", "TV link:    " + s.url + "/tv/", "A change:   curl -d '{"} {
		if !strings.Contains(out, want) {
			t.Errorf("the demo's banner lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(s.stderr.String(), "to=live") {
		t.Errorf("the banner came before any source was live:\n%s", s.stderr.String())
	}

	code, page := get(t, s.url+"/boards/floor")
	if code != http.StatusOK {
		t.Fatalf("demo board = %d (loopback needs no sign-in in the demo)", code)
	}
	since := regexp.MustCompile(`events\?since=([^"]+)"`).FindStringSubmatch(page)[1]
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := sse.NewClient(s.url+"/boards/floor/events?since="+since, sse.ClientMaxBufferSize(1<<22))
	events := make(chan *sse.Event, 4096)
	go func() { _ = c.SubscribeRawWithContext(ctx, func(e *sse.Event) { events <- e }) }()
	time.Sleep(300 * time.Millisecond) // let the stream connect

	req, _ := http.NewRequest(http.MethodPost, s.url+"/demo/action",
		strings.NewReader(`{"source":"sim","agent":"ag001","state":"not_ready","reason":"Fire drill"}`))
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("demo action: %v %v", resp.StatusCode, err)
	}
	said, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(said) != "sim: agent ag001 is now not_ready (Fire drill)\n" {
		t.Errorf("demo action said %q", said)
	}
	sent := time.Now()
	want := regexp.MustCompile(`id="agent-sim-ag001" class="agent s-not_ready" data-state="not_ready"[^>]*>.*Not ready · Fire drill`)
	for found := false; !found; {
		select {
		case e := <-events:
			found = want.Match(e.Data)
		case <-time.After(5 * time.Second):
			t.Fatal("the change never reached the stream")
		}
	}
	if d := time.Since(sent); d > time.Second {
		t.Errorf("the change took %s to reach the stream", d)
	}

	code, body := get(t, s.url+"/api/v1/state", "Authorization", "Bearer "+token)
	if code != http.StatusOK || !regexp.MustCompile(`"id":"ag001","name":"[^"]+","state":"not_ready","reason":"Fire drill"`).MatchString(body) {
		t.Errorf("state API after the change: %d %.300s", code, body)
	}
}

func TestCheckConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("listn: x\nsources:\n  - {name: s, type: 8x8-sapi, url: 'https://x'}\n"), 0o600)
	tests := []struct {
		name     string
		path     string
		wantCode int
		want     []string
	}{
		{"valid", writeConfig(t), 0, []string{"valid (1 sources, 1 boards)"}},
		{"invalid lists every problem", bad, 1, []string{"listn: unknown key", "sources[0].tenant: missing", "sources[0].subscription_id: missing", "sources[0].token: missing"}},
		{"missing file", filepath.Join(dir, "nope.yaml"), 1, []string{"failed to read configuration"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), []string{"check-config", "--config", tt.path}, testEnv, &stdout, &stderr)
			code := 0
			if err != nil {
				code = exitCode(err)
				stderr.WriteString(err.Error())
			}
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d\n%s%s", code, tt.wantCode, stdout.String(), stderr.String())
			}
			for _, w := range tt.want {
				if !strings.Contains(stdout.String()+stderr.String(), w) {
					t.Errorf("output lacks %q:\n%s%s", w, stdout.String(), stderr.String())
				}
			}
		})
	}
}

func TestVersionAndUsage(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	if err := run(context.Background(), []string{"version"}, os.Getenv, &out, io.Discard); err != nil || !strings.HasPrefix(out.String(), "wallboard dev (commit ") {
		t.Errorf("version: %q %v", out.String(), err)
	}
	if err := run(context.Background(), []string{"frobnicate"}, os.Getenv, io.Discard, io.Discard); exitCode(err) != 2 {
		t.Errorf("unknown command exit %d", exitCode(err))
	}
}
