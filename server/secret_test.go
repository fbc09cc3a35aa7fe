package server

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wallboard/wallboard/internal/board"
	"github.com/wallboard/wallboard/internal/config"
	"github.com/wallboard/wallboard/internal/event"
	"github.com/wallboard/wallboard/internal/hub"
	"github.com/wallboard/wallboard/internal/model"
	"github.com/wallboard/wallboard/internal/source"
	"github.com/wallboard/wallboard/internal/source/netsapiens"
	"github.com/wallboard/wallboard/internal/vendorsim"
)

// When the NetSapiens API fails, the subscription id (the webhook's
// credential) reaches no screen: not the kiosk page, its stream or the
// state API, which show a fixed summary; the admin page shows the detail
// with the id redacted.
func TestSourceFailureShowsNoCredential(t *testing.T) {
	t.Parallel()
	emu, err := vendorsim.StartNetSapiens(vendorsim.NewSim(vendorsim.Options{Prefix: "ns", Agents: 4, Queues: 1, Seed: 3}),
		vendorsim.NetSapiensOptions{FlushInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	var handler atomic.Pointer[Server]
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.Load().ServeHTTP(w, r) }))
	cfg := secConfig()
	cfg.APITokens = []config.APIToken{{Name: "t", Token: "api-0123456789abcdef"}}
	sc := emu.SourceConfig("ns1", "http://"+ts.Listener.Addr().String())
	sc.Options.(*netsapiens.Options).StatusInterval = config.Duration(50 * time.Millisecond)
	cfg.Sources = []config.Source{sc}
	if p := cfg.Validate(); len(p) > 0 {
		t.Fatal(p)
	}
	src, err := netsapiens.New(cfg.Sources[0], nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	loop := model.NewLoop(model.New(model.Options{Sources: []string{"ns1"}}), model.LoopOptions{Flush: 10 * time.Millisecond})
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
	rep := source.NewReporter("ns1", netsapiens.Type, loop, nil)
	done := make(chan struct{})
	go func() {
		defer close(done)
		source.Supervise(ctx, src, rep, source.Backoff{Min: 20 * time.Millisecond, Max: 100 * time.Millisecond})
	}()
	handler.Store(New(Options{Config: &cfg, Boards: proj, Tickers: proj, Console: proj.Console(), Streams: h, Floor: loop, Hooks: map[string]http.Handler{"ns1": src},
		Sources: func() []source.Stats { return []source.Stats{rep.Stats()} }, Logger: slog.New(slog.DiscardHandler)}))
	ts.Start()
	t.Cleanup(func() { cancel(); <-done; ts.Close(); h.Close(); emu.Close() })

	waitFor(t, func() bool { return rep.Stats().Status == event.StatusLive })
	var ids []string
	for _, s := range emu.Subscriptions() {
		ids = append(ids, s.ID)
	}
	lines := openStream(t, ts.URL+"/tv/"+tvToken+"/events")
	readUntil(t, lines, "retry:")
	emu.Close() // the API fails from now on
	frame := readUntil(t, lines, `data-status="degraded"`)
	waitFor(t, func() bool { return rep.Stats().Status == event.StatusDegraded })

	anon := newBrowser(t, ts.URL)
	_, kiosk := anon.do("GET", "/tv/"+tvToken, nil)
	_, state := anon.do("GET", "/api/v1/state", nil, "Authorization", "Bearer api-0123456789abcdef")
	_, admin := signedIn(t, ts.URL, "ada").do("GET", "/admin", nil)
	for _, id := range ids {
		for what, text := range map[string]string{"kiosk stream": frame, "kiosk page": kiosk, "state API": state, "admin page": admin} {
			if strings.Contains(text, id) {
				t.Errorf("%s carries subscription id %s", what, id)
			}
		}
	}
	if !strings.Contains(state, `"detail":"unreachable, reconnecting"`) {
		t.Errorf("state API's detail: %s", excerpt(state, `"detail"`))
	}
	if !strings.Contains(admin, "subscription") {
		t.Errorf("admin page lacks the detail: %s", excerpt(admin, "ns1"))
	}
}
