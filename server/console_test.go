package server

import (
	"bufio"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/wallboard/wallboard/internal/board"
	"github.com/wallboard/wallboard/internal/config"
	"github.com/wallboard/wallboard/internal/event"
	"github.com/wallboard/wallboard/internal/hub"
	"github.com/wallboard/wallboard/internal/model"
)

var agentKey = model.Key{Source: "s1", ID: "a1"}

// newConsoleServer is newSecServer with queue settings (Sales: 45s, short
// abandons under 5s) and a reason alert (Lunch after 45m), passed to the
// model as cmd/wallboard does.
func newConsoleServer(t *testing.T) *secServer {
	t.Helper()
	return newConsoleServerWith(t, nil)
}

// newConsoleServerWith is newConsoleServer with its configuration changed
// by edit first.
func newConsoleServerWith(t *testing.T, edit func(*config.Config)) *secServer {
	t.Helper()
	cfg := secConfig()
	if edit != nil {
		edit(&cfg)
	}
	cfg.QueueSettings = []config.QueueSetting{{Queue: "Sales", ServiceLevelThreshold: config.Duration(45 * time.Second), ShortAbandon: config.Duration(5 * time.Second)}}
	cfg.Alerts.Reasons = []config.ReasonAlert{{Reason: "Lunch", After: config.Duration(45 * time.Minute)}}
	cfg.Boards[0].Kiosk[0].Sound = true // "lobby"
	if p := cfg.Validate(); len(p) > 0 {
		t.Fatal(p)
	}
	var rules []model.QueueRule
	for _, q := range cfg.QueueSettings {
		rules = append(rules, model.QueueRule{Source: q.Source, Queue: q.Queue, Settings: model.QueueSettings{
			SLThreshold: q.ServiceLevelThreshold.D(), ShortAbandon: q.ShortAbandon.D(), ExcludeAbandons: !q.Abandons()}})
	}
	loop := model.NewLoop(model.New(model.Options{Sources: []string{"s1"}, QueueRules: rules}), model.LoopOptions{Flush: 10 * time.Millisecond})
	h := hub.New(hub.Options{})
	h.Start()
	proj := board.NewProjector(&cfg, board.Options{})
	for _, b := range proj.Streams() {
		id := b.StreamID()
		proj.Attach(id, h.Topic(id, b.Gen, func() []byte { return proj.Reset(id) }))
	}
	ctx, cancel := context.WithCancel(context.Background())
	go loop.Run(ctx)
	go proj.Run(ctx, loop.Deltas())
	srv := New(Options{Config: &cfg, Boards: proj, Tickers: proj, Console: proj.Console(), Streams: h, Floor: loop, Logger: slog.New(slog.DiscardHandler)})
	ts := httptest.NewServer(srv)
	t.Cleanup(func() { ts.Close(); h.Close(); cancel() })
	return &secServer{Server: ts, srv: srv, proj: proj, loop: loop}
}

// openStreamAs opens an event stream with b's session and returns its lines.
func openStreamAs(t *testing.T, b *browser, u string) <-chan string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", u, nil)
	resp, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s = %d", u, resp.StatusCode)
	}
	ch := make(chan string, 1024)
	go func() {
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			ch <- sc.Text()
		}
		close(ch)
	}()
	return ch
}

// feed publishes events into the test server's model and waits until the
// console shows the agent.
func feedConsole(t *testing.T, ts *secServer) {
	t.Helper()
	evs := []event.Event{
		{Kind: event.AgentInfo, Source: "s1", Agent: "a1", Name: "Ann Lee", Queues: []string{"q1"}},
		{Kind: event.QueueInfo, Source: "s1", Queue: "q1", Name: "Sales"},
		{Kind: event.AgentState, Source: "s1", Agent: "a1", State: event.StateNotReady, Reason: "Lunch"},
		{Kind: event.ContactQueued, Source: "s1", Interaction: "c1", Queue: "q1"},
	}
	if err := ts.loop.Publish(context.Background(), evs...); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { _, ok := ts.proj.Console().Agent("floor", agentKey); return ok })
	waitFor(t, func() bool { _, _, ok := ts.proj.Console().Queue("floor", "queue-s1-q1"); return ok })
}

func TestConsoleAccessAndViews(t *testing.T) {
	t.Parallel()
	ts := newConsoleServer(t)
	feedConsole(t, ts)
	anon := newBrowser(t, ts.URL)
	vic, sue, ada := signedIn(t, ts.URL, "vic"), signedIn(t, ts.URL, "sue"), signedIn(t, ts.URL, "ada")
	tests := []struct {
		name string
		b    *browser
		path string
		want int
		has  []string
	}{
		{"signed out", anon, "/boards/floor/console", 401, nil},
		{"a viewer may not", vic, "/boards/floor/console", 403, nil},
		{"a viewer may not stream it", vic, "/boards/floor/console/events", 403, nil},
		{"unknown board", sue, "/boards/nope/console", 404, nil},
		{"supervisor: agents table", sue, "/boards/floor/console", 200, []string{
			`id="agent-s1-a1"`, `data-state="not_ready"`, `data-reason="Lunch"`, `data-queues="queue-s1-q1"`, `data-flag="2700"`,
			`data-sort="since"`, `name="queue"`, `/static/console.js`, `hx-sse:connect="/boards/floor/console/events?since=`,
			`id="queue-s1-q1"`, `<th scope="col">15 min</th>`,
			"Service level in the last 15 minutes (a rolling window, up to now): contacts answered within 45 seconds of entering the queue ÷ (contacts answered + contacts abandoned after waiting 5 seconds or more; shorter abandons are left out)"}},
		{"supervisor of a private board", sue, "/boards/private/console", 200, nil},
		{"queue drill-down", sue, "/boards/floor/console/queues/s1/q1", 200, []string{
			`data-mode="queue"`, `data-focus="queue-s1-q1"`, `data-testid="waiting-contact"`, `<option value="queue-s1-q1" selected>`,
			"Service level threshold 45 seconds; abandons within 5 seconds are short abandons"}},
		{"unknown queue", sue, "/boards/floor/console/queues/s1/nope", 404, nil},
		{"agent's day", ada, "/boards/floor/console/agents/s1/a1", 200, []string{
			`data-mode="agent"`, `data-testid="timeline"`, `Not ready · Lunch`, `data-url="/boards/floor/console/agents/s1/a1/day"`}},
		{"agent's day fragment", ada, "/boards/floor/console/agents/s1/a1/day", 200, []string{`data-testid="agent-handled">0<`}},
		{"unknown agent", ada, "/boards/floor/console/agents/s1/nope", 404, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := tt.b.do("GET", tt.path, nil)
			if resp.StatusCode != tt.want {
				t.Fatalf("GET %s = %d, want %d", tt.path, resp.StatusCode, tt.want)
			}
			for _, s := range tt.has {
				if !strings.Contains(body, s) {
					t.Errorf("GET %s lacks %q", tt.path, s)
				}
			}
		})
	}
}

// The console stream carries agents-table rows and queue panels, rendered
// once per board per tick, not the board's cards.
func TestConsoleStream(t *testing.T) {
	t.Parallel()
	ts := newConsoleServer(t)
	feedConsole(t, ts)
	lines := openStreamAs(t, signedIn(t, ts.URL, "sue"), ts.URL+"/boards/floor/console/events")
	readUntil(t, lines, `id="console-rows"`) // the reset
	if err := ts.loop.Publish(context.Background(), event.Event{Kind: event.AgentState, Source: "s1", Agent: "a1", State: event.StateAvailable}); err != nil {
		t.Fatal(err)
	}
	frame := readUntil(t, lines, `data-state="available"`)
	if !strings.Contains(frame, `role="row"`) || strings.Contains(frame, `data-testid="agent-card"`) {
		t.Errorf("console frame is not a table row:\n%s", frame)
	}
}

// A kiosk screen with sound reports it without a session or CSRF token, but
// only with its own kiosk token; the admin page shows the report.
func TestKioskSoundReport(t *testing.T) {
	t.Parallel()
	ts := newConsoleServer(t)
	anon := newBrowser(t, ts.URL)
	if _, body := anon.do("GET", "/tv/"+tvToken, nil); !strings.Contains(body, `data-sound-url="/tv/`+tvToken+`/sound"`) {
		t.Errorf("kiosk page with sound lacks its report URL")
	}
	if _, body := anon.do("GET", "/tv/"+tvRotate, nil); strings.Contains(body, `data-sound-url="/tv`) {
		t.Errorf("kiosk page without sound has a report URL")
	}
	post := func(path, body string) int {
		req, _ := http.NewRequest("POST", ts.URL+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	tests := []struct {
		name, path, body string
		want             int
	}{
		{"its own token", "/tv/" + tvToken + "/sound", `{"state":"blocked"}`, 204},
		{"a bad state", "/tv/" + tvToken + "/sound", `{"state":"loud"}`, 400},
		{"not JSON", "/tv/" + tvToken + "/sound", `state=blocked`, 400},
		{"a link without sound is not exempt", "/tv/" + tvRotate + "/sound", `{"state":"blocked"}`, 403},
		{"no token", "/tv/" + strings.Repeat("x", 40) + "/sound", `{"state":"blocked"}`, 403},
	}
	for _, tt := range tests {
		if got := post(tt.path, tt.body); got != tt.want {
			t.Errorf("%s: POST = %d, want %d", tt.name, got, tt.want)
		}
	}
	_, body := signedIn(t, ts.URL, "ada").do("GET", "/admin", nil)
	if !strings.Contains(body, `data-kiosk="lobby" data-sound="blocked"`) || !strings.Contains(body, "tap the screen once to enable sound") {
		t.Errorf("admin page lacks the blocked screen: %s", excerpt(body, "Kiosk sound"))
	}
}

// Pages in the viewer's language (Accept-Language): the console when the
// board is rendered in it (its langs), else the board's own; the admin,
// sign-in and error pages always; the console's stream in the page's.
func TestPagesInViewersLanguage(t *testing.T) {
	t.Parallel()
	ts := newConsoleServerWith(t, func(c *config.Config) { c.Boards[0].Langs = []string{"de"} })
	feedConsole(t, ts)
	anon := newBrowser(t, ts.URL)
	sue, ada := signedIn(t, ts.URL, "sue"), signedIn(t, ts.URL, "ada")
	const german = "de-DE,de;q=0.9,en;q=0.5"
	tests := []struct {
		name, lang string
		b          *browser
		path       string
		want       int
		has, not   []string
	}{
		{"console of a board in German", german, sue, "/boards/floor/console", 200, []string{`<html lang="de">`, "Agenten und Warteschlangen",
			`/boards/floor/console/events?lang=de&amp;since=`, "Servicelevel-Schwelle 45 Sekunden", ">Nicht bereit · Lunch<", ">Heute<"},
			[]string{"Agents and queues", ">Today<"}},
		{"queue drill-down", german, sue, "/boards/floor/console/queues/s1/q1", 200, []string{`<html lang="de">`, "Warteschlange Sales"}, nil},
		{"agent's day", german, ada, "/boards/floor/console/agents/s1/a1", 200, []string{`<html lang="de">`, "Heute bearbeitet"}, nil},
		{"agent's day fragment", german, ada, "/boards/floor/console/agents/s1/a1/day", 200, []string{"Heute bearbeitet"}, nil},
		{"console of a board only in English", german, sue, "/boards/private/console", 200, []string{`<html lang="en">`, "Agents and queues",
			`/boards/private/console/events?since=`}, []string{"Agenten"}},
		{"?lang= of a language the board lacks", german, sue, "/boards/floor/console?lang=fr", 200, []string{`<html lang="en">`}, nil},
		{"no language of ours", "ja-JP", sue, "/boards/floor/console", 200, []string{`<html lang="en">`, "Agents and queues"}, nil},
		{"admin page", german, ada, "/admin", 200, []string{`<html lang="de">`, "<h1>Betrieb</h1>", "Quellen"}, nil},
		{"sign-in page", "fr-FR", anon, "/login", 200, []string{`<html lang="fr">`, "Se connecter", "Mot de passe"}, nil},
		{"settings page", "es-ES", sue, "/boards/floor/settings", 200, []string{`<html lang="es">`, "Floor: ajustes", "Mostrar en todas las pantallas"}, nil},
		{"error page", german, sue, "/boards/nope/console", 404, []string{`<html lang="de">`, "Nicht gefunden"}, nil},
		{"forbidden", "es", signedIn(t, ts.URL, "vic"), "/boards/floor/console", 403, []string{`<html lang="es">`, "No permitido"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := tt.b.do("GET", tt.path, nil, "Accept-Language", tt.lang, "Accept", "text/html")
			if resp.StatusCode != tt.want {
				t.Fatalf("GET %s = %d, want %d", tt.path, resp.StatusCode, tt.want)
			}
			for _, s := range tt.has {
				if !strings.Contains(body, s) {
					t.Errorf("GET %s lacks %q", tt.path, s)
				}
			}
			for _, s := range tt.not {
				if strings.Contains(body, s) {
					t.Errorf("GET %s has %q", tt.path, s)
				}
			}
		})
	}
	t.Run("the German console's stream", func(t *testing.T) {
		lines := openStreamAs(t, sue, ts.URL+"/boards/floor/console/events?lang=de")
		deadline := time.After(5 * time.Second)
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatal("stream ended")
				}
				if strings.Contains(l, "Service level threshold") || strings.Contains(l, ">Today<") {
					t.Fatalf("English on the German stream: %.200s", l)
				}
				if strings.Contains(l, "Servicelevel-Schwelle") {
					return
				}
			case <-deadline:
				t.Fatal("no German panel on the stream")
			}
		}
	})
}
