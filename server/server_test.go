package server

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wallboard/wallboard/internal/board"
	"github.com/wallboard/wallboard/internal/config"
	"github.com/wallboard/wallboard/internal/event"
	"github.com/wallboard/wallboard/internal/hub"
	"github.com/wallboard/wallboard/internal/model"
	"github.com/wallboard/wallboard/internal/source"
	"github.com/wallboard/wallboard/internal/vendorsim"
)

const kiosk = "kiosk-0123456789abcdef0123456789abcdef"

// newTestServer wires the real model loop, projector and hub around one
// board, with a source whose status the test sets.
func newTestServer(t *testing.T, anonymous bool, logTo io.Writer) (*httptest.Server, *source.Reporter, *model.Loop) {
	t.Helper()
	return newTestServerWith(t, anonymous, logTo, nil)
}

// newTestServerWith is newTestServer with more options set by more.
func newTestServerWith(t *testing.T, anonymous bool, logTo io.Writer, more func(*Options)) (*httptest.Server, *source.Reporter, *model.Loop) {
	t.Helper()
	cfg := config.Default()
	cfg.APITokens = []config.APIToken{{Name: "t", Token: "api-0123456789abcdef"}}
	cfg.Sources = []config.Source{{Name: "s1", Type: vendorsim.TypeSimulation}}
	cfg.Boards = []config.Board{{ID: "floor", Title: "Floor", Tiles: config.DefaultTiles, Kiosk: []config.Kiosk{{Name: "tv", Token: kiosk}}}}
	if p := cfg.Validate(); len(p) > 0 {
		t.Fatal(p)
	}
	log := slog.New(slog.DiscardHandler)
	if logTo != nil {
		log = slog.New(slog.NewTextHandler(logTo, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	loop := model.NewLoop(model.New(model.Options{Sources: []string{"s1"}}), model.LoopOptions{Flush: 10 * time.Millisecond})
	h := hub.New(hub.Options{})
	h.Start()
	proj := board.NewProjector(&cfg, board.Options{})
	proj.Attach("floor", h.Topic("floor", "g", func() []byte { return proj.Reset("floor") }))
	ctx, cancel := context.WithCancel(context.Background())
	go loop.Run(ctx)
	go proj.Run(ctx, loop.Deltas())
	rep := source.NewReporter("s1", "simulation", loop, nil)
	hook := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusAccepted) })
	opts := Options{Config: &cfg, Boards: proj, Tickers: proj, Console: proj.Console(), Streams: h, Floor: loop, AnonymousLoopback: anonymous,
		Sources: func() []source.Stats { return []source.Stats{rep.Stats()} }, Hooks: map[string]http.Handler{"ns": hook, "s1": hook}, Logger: log}
	if more != nil {
		more(&opts)
	}
	srv := New(opts)
	ts := httptest.NewServer(srv)
	t.Cleanup(func() { ts.Close(); h.Close(); cancel() })
	return ts, rep, loop
}

func do(t *testing.T, method, url string, header ...string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func TestAccessRules(t *testing.T) {
	t.Parallel()
	signedOut, _, _ := newTestServer(t, false, nil)
	demo, _, _ := newTestServer(t, true, nil)
	tests := []struct {
		name   string
		srv    *httptest.Server
		method string
		path   string
		header []string
		want   int
	}{
		{"index needs sign-in", signedOut, "GET", "/", nil, 401},
		{"board needs sign-in", signedOut, "GET", "/boards/floor", nil, 401},
		{"board stream needs sign-in", signedOut, "GET", "/boards/floor/events", nil, 401},
		{"kiosk needs only its token", signedOut, "GET", "/tv/" + kiosk, nil, 200},
		{"wrong kiosk token", signedOut, "GET", "/tv/" + strings.Repeat("x", 38), nil, 404},
		{"kiosk token prefix is not enough", signedOut, "GET", "/tv/" + kiosk[:20], nil, 404},
		{"state without token", signedOut, "GET", "/api/v1/state", nil, 401},
		{"state with token", signedOut, "GET", "/api/v1/state", []string{"Authorization", "Bearer api-0123456789abcdef"}, 200},
		{"state with wrong scheme", signedOut, "GET", "/api/v1/state", []string{"Authorization", "Basic api-0123456789abcdef"}, 401},
		{"healthz", signedOut, "GET", "/healthz", nil, 200},
		{"metrics", signedOut, "GET", "/metrics", nil, 200},
		{"demo loopback sees boards", demo, "GET", "/boards/floor", nil, 200},
		{"demo loopback index", demo, "GET", "/", nil, 200},
		{"unknown board", demo, "GET", "/boards/nope", nil, 404},
		{"hook routed to its source", signedOut, "POST", "/hooks/netsapiens/ns", nil, 202},
		{"hook for an unknown source", signedOut, "POST", "/hooks/netsapiens/other", nil, 404},
		{"hook does not answer GET", signedOut, "GET", "/hooks/netsapiens/ns", nil, 404},
		{"hook under its source's type", signedOut, "POST", "/hooks/simulation/s1", nil, 202},
		{"hook under another type", signedOut, "POST", "/hooks/netsapiens/s1", nil, 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := do(t, tt.method, tt.srv.URL+tt.path, tt.header...).StatusCode; got != tt.want {
				t.Errorf("%s %s = %d, want %d", tt.method, tt.path, got, tt.want)
			}
		})
	}
}

func TestErrorsAnswerInKind(t *testing.T) {
	t.Parallel()
	ts, _, _ := newTestServer(t, false, nil)
	api := do(t, "GET", ts.URL+"/api/v1/state")
	if ct := api.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("API error content type %q", ct)
	}
	if api.Header.Get("WWW-Authenticate") == "" {
		t.Error("401 without WWW-Authenticate")
	}
	page := do(t, "GET", ts.URL+"/boards/floor")
	body, _ := io.ReadAll(page.Body)
	if !strings.Contains(string(body), "<h1>Sign-in required</h1>") {
		t.Errorf("page error is not an HTML page: %.200s", body)
	}
	for _, h := range []string{"X-Content-Type-Options", "Referrer-Policy", "Content-Security-Policy"} {
		if page.Header.Get(h) == "" {
			t.Errorf("missing %s", h)
		}
	}
}

func TestReadyzWaitsForEverySource(t *testing.T) {
	t.Parallel()
	ts, rep, _ := newTestServer(t, false, nil)
	resp := do(t, "GET", ts.URL+"/readyz")
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 503 || !strings.Contains(string(body), `"reason":"not live yet: s1"`) {
		t.Errorf("before live: %d %s", resp.StatusCode, body)
	}
	rep.Live()
	if resp := do(t, "GET", ts.URL+"/readyz"); resp.StatusCode != 200 {
		t.Errorf("after live: %d", resp.StatusCode)
	}
}

func TestStaticAssetsAreCachedByHash(t *testing.T) {
	t.Parallel()
	ts, _, _ := newTestServer(t, true, nil)
	page := do(t, "GET", ts.URL+"/boards/floor")
	body, _ := io.ReadAll(page.Body)
	i := strings.Index(string(body), "/static/app.css?v=")
	if i < 0 {
		t.Fatalf("page does not link the stylesheet by hash")
	}
	url := string(body[i : i+len("/static/app.css?v=")+12])
	css := do(t, "GET", ts.URL+url)
	if css.StatusCode != 200 || !strings.Contains(css.Header.Get("Cache-Control"), "immutable") || !strings.HasPrefix(css.Header.Get("Content-Type"), "text/css") {
		t.Errorf("hashed asset: %d %q %q", css.StatusCode, css.Header.Get("Cache-Control"), css.Header.Get("Content-Type"))
	}
	if stale := do(t, "GET", ts.URL+"/static/app.css?v=old"); strings.Contains(stale.Header.Get("Cache-Control"), "immutable") {
		t.Error("an asset under an old hash is cached for good")
	}
	if do(t, "GET", ts.URL+"/static/nope.js").StatusCode != 404 {
		t.Error("missing asset not 404")
	}
}

func TestKioskTokenNeverLogged(t *testing.T) {
	t.Parallel()
	log := &syncWriter{}
	ts, _, _ := newTestServer(t, false, log)
	do(t, "GET", ts.URL+"/tv/"+kiosk)
	do(t, "GET", ts.URL+"/tv/"+kiosk+"x")
	time.Sleep(50 * time.Millisecond)
	if strings.Contains(log.String(), kiosk[:20]) {
		t.Errorf("the kiosk token reached the log:\n%s", log.String())
	}
	if !strings.Contains(log.String(), "/tv/[redacted]") {
		t.Errorf("no redacted access log line:\n%s", log.String())
	}
}

func TestStateReflectsTheModel(t *testing.T) {
	t.Parallel()
	ts, rep, loop := newTestServer(t, false, nil)
	now := time.Now()
	_ = loop.Publish(context.Background(),
		event.Event{Kind: event.AgentState, Source: "s1", Agent: "b", State: event.StateNotReady, Reason: "Lunch", At: now},
		event.Event{Kind: event.AgentState, Source: "s1", Agent: "a", State: event.StateAvailable, At: now},
		event.Event{Kind: event.ContactQueued, Source: "s1", Queue: "q", Interaction: "c1", QueuedAt: now.Add(-time.Minute)})
	rep.Live()
	resp := do(t, "GET", ts.URL+"/api/v1/state", "Authorization", "Bearer api-0123456789abcdef")
	body, _ := io.ReadAll(resp.Body)
	s := string(body)
	for _, want := range []string{`"id":"a","name":"a","state":"available"`, `"id":"b","name":"b","state":"not_ready","reason":"Lunch"`,
		`"waiting":1`, `"service_level":null`, `"status":"live"`} {
		if !strings.Contains(s, want) {
			t.Errorf("state lacks %s:\n%s", want, s)
		}
	}
	if strings.Index(s, `"id":"a"`) > strings.Index(s, `"id":"b"`) {
		t.Error("agents not sorted")
	}
}

// syncWriter collects log output written from handler goroutines.
type syncWriter struct {
	mu sync.Mutex
	b  strings.Builder
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}
