package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/wallboard/wallboard/internal/config"
	"github.com/wallboard/wallboard/internal/event"
	"github.com/wallboard/wallboard/internal/source/axp"
	"github.com/wallboard/wallboard/internal/vendorsim"
)

// site is one simulated contact-center site and the sources that read it
// through an emulated vendor.
type site struct {
	name    string
	sim     *vendorsim.Sim
	sources []config.Source
	close   func()
}

// demo starts simulated contact-center sites behind emulated vendors on
// loopback, and a wallboard subscribed to them through the real sources.
func demo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:8080", "listen address")
	agents := fs.Int("agents", 40, "simulated agents, spread over the sites")
	queues := fs.Int("queues", 8, "simulated queues, spread over the sites")
	seed := fs.Int64("seed", 1, "simulation seed: the same seed plays the same day")
	stateDir := fs.String("state-dir", "", "state directory (default: a temporary directory)")
	captureTo := fs.String("capture", "", "record every emulated vendor's traffic into this directory (one subdirectory per source)")
	short := fs.Bool("short-thresholds", false, "thresholds of seconds instead of minutes, so warnings and alarms show at once")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if *agents < 1 || *agents > 20000 || *queues < 1 || *queues > 1000 {
		fmt.Fprintln(stderr, "--agents must be 1..20000 and --queues 1..1000")
		return errUsage
	}
	dir := *stateDir
	if dir == "" {
		d, err := os.MkdirTemp("", "wallboard-demo-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("failed to listen on %s: %w", *listen, err)
	}
	publicURL := "http://" + ln.Addr().String()

	cfg := config.Default()
	cfg.Listen = ln.Addr().String()
	cfg.StateDir = dir
	apiToken, kioskToken, soundToken, germanToken := randomToken(), randomToken(), randomToken(), randomToken()
	// Admin scope: on the demo one may also try making boards through the API.
	cfg.APITokens = []config.APIToken{{Name: "demo", Token: config.Secret(apiToken), Scope: config.ScopeAdmin}}

	// The simulations run until serve has returned and the emulators have
	// closed; demo returns after each has stopped.
	ctx, cancel := context.WithCancel(ctx)
	var simsRunning sync.WaitGroup
	defer func() {
		cancel()
		simsRunning.Wait()
	}()

	// One site per vendor protocol, each through its emulator and the real
	// source; the first site also feeds a direct simulation source that
	// presenters and tests can poke through /demo/action.
	starters := []func(sim *vendorsim.Sim) (site, error){
		func(sim *vendorsim.Sim) (site, error) {
			return site{sources: []config.Source{{Name: "sim", Type: vendorsim.TypeSimulation,
				Options: &vendorsim.SimulationOptions{Sim: sim}}}, close: func() {}}, nil
		},
		func(sim *vendorsim.Sim) (site, error) {
			emu, err := vendorsim.NewSAPIServer(sim, vendorsim.SAPIOptions{})
			if err != nil {
				return site{}, err
			}
			return site{sources: []config.Source{emu.SourceConfig("uk-sapi")}, close: emu.Close}, nil
		},
		func(sim *vendorsim.Sim) (site, error) {
			emu, err := vendorsim.NewPulsarServer(sim, vendorsim.PulsarOptions{})
			if err != nil {
				return site{}, err
			}
			return site{sources: []config.Source{emu.SourceConfig("uk-events")}, close: emu.Close}, nil
		},
		func(sim *vendorsim.Sim) (site, error) {
			emu, err := vendorsim.StartAXP(sim, vendorsim.AXPOptions{})
			if err != nil {
				return site{}, err
			}
			stats := emu.SourceConfig("axp-stats", axp.TypeAnalytics)
			stats.Options.(*axp.Options).AttachTo = "axp-floor"
			return site{sources: []config.Source{emu.SourceConfig("axp-floor", axp.TypeEngagement), stats}, close: emu.Close}, nil
		},
		func(sim *vendorsim.Sim) (site, error) {
			emu, err := vendorsim.StartNetSapiens(sim, vendorsim.NetSapiensOptions{})
			if err != nil {
				return site{}, err
			}
			return site{sources: []config.Source{emu.SourceConfig("ns", publicURL)}, close: emu.Close}, nil
		},
	}
	siteNames := []string{"Glasgow", "London", "Leeds", "Dublin", "Austin"}
	var sites []site
	sims := map[string]*vendorsim.Sim{}
	defer func() {
		for _, s := range sites {
			s.close()
		}
	}()
	served := false
	defer func() {
		if !served {
			_ = ln.Close() // serve closes it
		}
	}()
	n := len(starters)
	for i, start := range starters {
		nAgents := max(1, (*agents+i)/n)
		nQueues := max(1, (*queues+i)/n)
		// Each site has queues of its own names, so tiles on the floor board differ.
		var qnames []string
		for j := 0; j < nQueues; j++ {
			qnames = append(qnames, demoQueueNames[(i*2+j)%len(demoQueueNames)])
		}
		sim := vendorsim.NewSim(vendorsim.Options{Prefix: "", Agents: nAgents, Queues: nQueues, Seed: *seed + int64(i)*7919, QueueNames: qnames,
			Pace: float64(nAgents) * 0.5 / float64(6*nQueues)}) // keeps most agents busy without drowning the queues
		s, err := start(sim)
		if err != nil {
			return fmt.Errorf("failed to start the emulated vendors: %w", err)
		}
		s.name, s.sim = siteNames[i%len(siteNames)], sim
		sites = append(sites, s)
		for j := range s.sources {
			// Supervisors read the site; admins the source's name.
			s.sources[j].DisplayName = s.name
			if j > 0 {
				s.sources[j].DisplayName = s.name + " statistics"
			}
		}
		for _, sc := range s.sources {
			sc.Capture = *captureTo != "" && sc.Type != vendorsim.TypeSimulation
			cfg.Sources = append(cfg.Sources, sc)
			sims[sc.Name] = sim
		}
		simsRunning.Add(1)
		go func() { defer simsRunning.Done(); sim.Run(ctx) }()
	}

	th := config.Thresholds{
		Waiting:      config.Levels[int]{Warn: 3, Alarm: 6},
		LongestWait:  config.Levels[config.Duration]{Warn: config.Duration(30 * time.Second), Alarm: config.Duration(60 * time.Second)},
		ServiceLevel: config.Levels[float64]{Warn: 0.8, Alarm: 0.6},
		NotReady:     config.Levels[config.Duration]{Warn: config.Duration(3 * time.Minute), Alarm: config.Duration(5 * time.Minute)},
		WrapUp:       config.Levels[config.Duration]{Warn: config.Duration(15 * time.Second), Alarm: config.Duration(30 * time.Second)},
	}
	if *short {
		// For presenters and tests: every level is reached within seconds.
		sec := func(n int) config.Duration { return config.Duration(time.Duration(n) * time.Second) }
		th.Waiting = config.Levels[int]{Warn: 2, Alarm: 4}
		th.LongestWait = config.Levels[config.Duration]{Warn: sec(4), Alarm: sec(8)}
		th.ServiceLevel = config.Levels[float64]{Warn: 0.95, Alarm: 0.9}
		th.NotReady = config.Levels[config.Duration]{Warn: sec(3), Alarm: sec(6)}
		th.WrapUp = config.Levels[config.Duration]{Warn: sec(3), Alarm: sec(6)}
	}
	cfg.Boards = []config.Board{{ID: "floor", Title: "Contact centre floor", Thresholds: th, Measures: config.MeasureNames("contactsQueueing"),
		Kiosk: []config.Kiosk{{Name: "demo-tv", Token: config.Secret(kioskToken)},
			{Name: "demo-tv-sound", Token: config.Secret(soundToken), Sound: true}}}}
	cfg.Branding = config.Branding{Name: "Demo CC", Colour: "#2f81f7"}
	for _, s := range sites {
		var names []string
		for _, sc := range s.sources {
			names = append(names, sc.Name)
		}
		b := config.Board{ID: strings.ToLower(s.name), Title: s.name,
			Sources: names, Thresholds: th, Measures: config.MeasureNames("contactsQueueing", "oldestContactWaitTime")}
		switch b.ID {
		case "glasgow":
			// The board options (docs/configuration.md): problems first,
			// targets beside the figures, abandon rate, speed of answer and
			// agents by state.
			b.Sort, b.Targets = "problems", true
			b.Langs = []string{"de", "fr", "es"} // by the browser's Accept-Language, or ?lang=
			b.Tiles = []string{"waiting", "longest_wait", "service_level", "abandon_rate", "asa", "agents_by_state", "aht"}
			b.Thresholds.AbandonRate = config.Levels[float64]{Warn: 0.05, Alarm: 0.1}
			b.Thresholds.SpeedOfAnswer = config.Levels[config.Duration]{Warn: config.Duration(20 * time.Second), Alarm: config.Duration(40 * time.Second)}
		case "austin":
			b.GroupBy = "queue"
		case "dublin":
			// A TV link in German (a variant of the board, rendered once per tick).
			b.Kiosk = []config.Kiosk{{Name: "demo-tv-de", Token: config.Secret(germanToken), KioskOptions: config.KioskOptions{Lang: "de"}}}
		case "leeds":
			b.Theme, b.Clock = "light", "12h" // the light theme and a 12-hour clock
		}
		cfg.Boards = append(cfg.Boards, b)
	}
	// Reason alerts (README-console): the usual ones, and "Alert drill"
	// after 2s so presenters and tests can see a flag at once.
	cfg.Alerts.Reasons = []config.ReasonAlert{{Reason: "Lunch", After: config.Duration(45 * time.Minute)},
		{Reason: "Break", After: config.Duration(15 * time.Minute)}, {Reason: "Alert drill", After: config.Duration(2 * time.Second)}}
	if probs := cfg.Validate(); len(probs) > 0 {
		return probs
	}

	served = true
	return serve(ctx, &cfg, appOptions{stdout: stdout, stderr: stderr, anonymousLoopback: true, listener: ln, captureDir: *captureTo,
		extra: func(e *echo.Echo) { e.POST("/demo/action", demoAction(sims)) },
		ready: func(url string) {
			// The addresses come together, after the start-up's log lines:
			// once every source is live (or after 20 s, whichever is first).
			go func() {
				waitReady(ctx, url, 20*time.Second)
				if ctx.Err() != nil {
					return
				}
				fmt.Fprintf(stdout, "\nwallboard demo is running.\n\n"+
					"  Board:      %[1]s/boards/floor\n"+
					"  All boards: %[1]s/\n"+
					"  Console:    %[1]s/boards/floor/console\n"+
					"  Admin:      %[1]s/admin\n"+
					"  New TV:     %[1]s/boards/floor/links (make a TV link, with a QR code)\n"+
					"  TV link:    %[1]s/tv/%[2]s\n"+
					"  With sound: %[1]s/tv/%[3]s\n"+
					"  In German:  %[1]s/tv/%[5]s\n"+
					"  State API:  curl -H 'Authorization: Bearer %[4]s' %[1]s/api/v1/state\n"+
					"  A change:   curl -d '{\"source\":\"sim\",\"agent\":\"ag001\",\"state\":\"not_ready\",\"reason\":\"Lunch\"}' %[1]s/demo/action\n"+
					"\nPress Ctrl+C to stop.\n",
					url, kioskToken, soundToken, apiToken, germanToken)
			}()
		}})
}

// waitReady polls url's /readyz until it answers 200, ctx ends or limit
// passes.
func waitReady(ctx context.Context, url string, limit time.Duration) {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/readyz", nil)
		if err != nil {
			return
		}
		if resp, err := client.Do(req); err == nil {
			// Drained so the connection is reused; only the status matters.
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(100 * time.Millisecond):
		}
	}
}

var demoQueueNames = []string{"Sales", "Support", "Billing", "Renewals", "Technical", "Retention", "Claims", "Bookings",
	"Returns", "Onboarding"}

// demoAction lets a presenter or a test make a known change in a site's
// simulation, by source name: {"source":"sim","agent":"ag001","state":"not_ready","reason":"Fire drill"}
// or {"source":"sim","queue":"q100"} for a new call. Loopback only. It
// answers 200 with a line that says what it did.
func demoAction(sims map[string]*vendorsim.Sim) echo.HandlerFunc {
	return func(c echo.Context) error {
		if !isLoopback(c.Request().RemoteAddr) {
			return echo.NewHTTPError(http.StatusForbidden, "loopback only")
		}
		var req struct {
			Source, Agent, State, Reason, Queue string
		}
		if err := json.NewDecoder(http.MaxBytesReader(c.Response(), c.Request().Body, 4096)).Decode(&req); err != nil {
			return echo.NewHTTPError(http.StatusBadRequest, "invalid JSON")
		}
		sim := sims[req.Source]
		if sim == nil {
			return echo.NewHTTPError(http.StatusNotFound, "no simulated source "+req.Source)
		}
		// What was done, in words: curl prints it.
		var did string
		switch {
		case req.Agent != "" && event.State(req.State).Valid():
			sim.Do(vendorsim.Action{Kind: vendorsim.ActionAgentState, Agent: req.Agent, State: event.State(req.State), Reason: req.Reason})
			did = fmt.Sprintf("%s: agent %s is now %s", req.Source, req.Agent, req.State)
			if req.Reason != "" {
				did += fmt.Sprintf(" (%s)", req.Reason)
			}
		case req.Queue != "":
			sim.Do(vendorsim.Action{Kind: vendorsim.ActionCallQueued, Queue: req.Queue})
			did = fmt.Sprintf("%s: a new call waits in queue %s", req.Source, req.Queue)
		default:
			return echo.NewHTTPError(http.StatusBadRequest, "need agent and a valid state, or queue")
		}
		return c.String(http.StatusOK, did+"\n")
	}
}

func isLoopback(remote string) bool {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func randomToken() string {
	return rand.Text() + rand.Text()[:6]
}
