package server

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestAdminPage(t *testing.T) {
	t.Parallel()
	signedOut, _, _ := newTestServer(t, false, nil)
	if resp := do(t, "GET", signedOut.URL+"/admin"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("signed out: /admin = %d, want 401", resp.StatusCode)
	}

	ts, rep, _ := newTestServer(t, true, nil)
	rep.Live()
	rep.Message()
	rep.Malformed("json", []byte("{bad"), io.ErrUnexpectedEOF)

	// A TV connects to the kiosk stream and stays.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", ts.URL+"/tv/"+kiosk+"/events", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if _, err := bufio.NewReader(resp.Body).ReadString('\n'); err != nil { // the stream has started
		t.Fatal(err)
	}

	var body string
	for deadline := time.Now().Add(5 * time.Second); ; {
		r := do(t, "GET", ts.URL+"/admin")
		if r.StatusCode != http.StatusOK {
			t.Fatalf("/admin from loopback in the demo = %d", r.StatusCode)
		}
		b, _ := io.ReadAll(r.Body)
		body = string(b)
		if strings.Contains(body, `class="admin-screen"`) || time.Now().After(deadline) {
			break
		}
	}
	tests := []struct {
		name string
		re   string
	}{
		{"source row with status", `id="admin-source-s1" data-status="live"`},
		{"message counter", `data-testid="messages">1<`},
		{"error counter", `data-testid="errors">1<`},
		{"last error", `malformed json: unexpected EOF`},
		{"the TV, by board and kiosk name", `class="admin-screen" data-board="floor"><td>floor</td><td>tv</td><td>127\.0\.0\.1:\d+</td>`},
		{"how far behind", `data-testid="behind">\d+ frames<`},
		{"one screen", `\(1 connected\)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !regexp.MustCompile(tt.re).MatchString(body) {
				t.Errorf("admin page lacks %s:\n%s", tt.re, body)
			}
		})
	}
	if strings.Contains(body, kiosk) {
		t.Error("the admin page shows a kiosk token")
	}
}

func TestMetricsEndpoint(t *testing.T) {
	t.Parallel()
	ts, rep, _ := newTestServer(t, false, nil)
	rep.Live()
	resp := do(t, "GET", ts.URL+"/metrics")
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("/metrics = %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, want := range []string{`wallboard_source_up{source="s1",type="simulation"} 1`, `wallboard_board_subscribers{board="floor"} 0`,
		"# TYPE wallboard_source_messages_total counter", "go_goroutines"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

// TestUnmappedValuesShown: values no mapping knows appear in
// /api/v1/state as "unmapped" counts, on /metrics per field, and on /admin
// with the line of configuration that would map them and a redacted
// example.
func TestUnmappedValuesShown(t *testing.T) {
	t.Parallel()
	ts, rep, _ := newTestServer(t, true, nil)
	rep.Live()
	rep.Unmapped("newState", "42", "state_map", []byte(`{"AgentStatusChange":{"newState":42,"token":"s3cret-value"}}`))
	rep.Unmapped("newState", "42", "state_map", nil)
	rep.Unmapped("event", "Teleported", "", nil)

	resp := do(t, "GET", ts.URL+"/api/v1/state", "Authorization", "Bearer api-0123456789abcdef")
	var st struct {
		Sources []struct {
			Name     string           `json:"name"`
			Unmapped map[string]int64 `json:"unmapped"`
		} `json:"sources"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	if len(st.Sources) != 1 || st.Sources[0].Unmapped["newState=42"] != 2 || st.Sources[0].Unmapped["event=Teleported"] != 1 {
		t.Errorf("state sources: %+v", st.Sources)
	}

	b, _ := io.ReadAll(do(t, "GET", ts.URL+"/metrics").Body)
	if want := `wallboard_source_unmapped_total{field="newState",source="s1",type="simulation"} 2`; !strings.Contains(string(b), want) {
		t.Errorf("/metrics lacks %s", want)
	}

	b, _ = io.ReadAll(do(t, "GET", ts.URL+"/admin").Body)
	body := string(b)
	for _, re := range []string{
		`class="admin-unmapped" data-source="s1" data-key="newState=42"`,
		`data-testid="count">2<`,
		`state_map: \{&#34;42&#34;: &#34;&lt;state&gt;&#34;\}`,
		`data-key="event=Teleported".*no option maps it`,
		`&#34;token&#34;:&#34;\[redacted\]&#34;`,
	} {
		if !regexp.MustCompile(re).MatchString(body) {
			t.Errorf("admin page lacks %s", re)
		}
	}
	if strings.Contains(body, "s3cret-value") {
		t.Error("the admin page shows a secret from the example")
	}
}
