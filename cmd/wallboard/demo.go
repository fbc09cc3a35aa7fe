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
	"time"

	"github.com/labstack/echo/v4"

	"github.com/wallboard/wallboard/internal/config"
	"github.com/wallboard/wallboard/internal/event"
	"github.com/wallboard/wallboard/internal/vendorsim"
)

// demo starts a simulated contact center and a wallboard subscribed to it,
// with no configuration.
func demo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:8080", "listen address")
	agents := fs.Int("agents", 24, "simulated agents per site")
	queues := fs.Int("queues", 4, "simulated queues per site")
	seed := fs.Int64("seed", 1, "simulation seed: the same seed plays the same day")
	stateDir := fs.String("state-dir", "", "state directory (default: a temporary directory)")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if *agents < 1 || *agents > 5000 || *queues < 1 || *queues > 200 {
		fmt.Fprintln(stderr, "--agents must be 1..5000 and --queues 1..200")
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

	cfg := config.Default()
	cfg.Listen = *listen
	cfg.StateDir = dir
	cfg.Timezone = "Local"
	apiToken := randomToken()
	kioskToken := randomToken()
	cfg.APITokens = []config.APIToken{{Name: "demo", Token: config.Secret(apiToken)}}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sims := map[string]*vendorsim.Sim{}
	site := vendorsim.NewSim(vendorsim.Options{Prefix: "", Agents: *agents, Queues: *queues, Seed: *seed,
		Pace: float64(*agents) * 0.5 / float64(6**queues)}) // keeps most agents busy without drowning the queues
	sims["sim"] = site
	cfg.Sources = append(cfg.Sources, config.Source{Name: "sim", Type: config.TypeSimulation})
	cfg.Boards = []config.Board{{ID: "floor", Title: "Contact centre floor", Kiosk: []config.Kiosk{{Name: "demo-tv", Token: config.Secret(kioskToken)}},
		Thresholds: config.Thresholds{
			Waiting:      config.Levels[int]{Warn: 3, Alarm: 6},
			LongestWait:  config.Levels[config.Duration]{Warn: config.Duration(30 * time.Second), Alarm: config.Duration(60 * time.Second)},
			ServiceLevel: config.Levels[float64]{Warn: 0.8, Alarm: 0.6},
			NotReady:     config.Levels[config.Duration]{Warn: config.Duration(3 * time.Minute), Alarm: config.Duration(5 * time.Minute)},
			WrapUp:       config.Levels[config.Duration]{Warn: config.Duration(15 * time.Second), Alarm: config.Duration(30 * time.Second)},
		}}}
	if probs := cfg.Validate(); len(probs) > 0 {
		return probs
	}
	for _, s := range sims {
		go s.Run(ctx)
	}

	return serve(ctx, &cfg, appOptions{stdout: stdout, stderr: stderr, sims: sims, anonymousLoopback: true,
		extra: func(e *echo.Echo) { e.POST("/demo/action", demoAction(sims)) },
		ready: func(url string) {
			fmt.Fprintf(stdout, "wallboard demo is running.\n\n  Board:      %s/boards/floor\n  TV link:    %s/tv/%s\n  State API:  curl -H 'Authorization: Bearer %s' %s/api/v1/state\n\nPress Ctrl+C to stop.\n",
				url, url, kioskToken, apiToken, url)
		}})
}

// demoAction lets a presenter or a test make a known change in the
// simulation: {"source":"sim","agent":"ag001","state":"not_ready","reason":"Fire drill"}
// or {"source":"sim","queue":"q100"} for a new call. Loopback only.
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
		switch {
		case req.Agent != "" && event.State(req.State).Valid():
			sim.Do(vendorsim.Action{Kind: vendorsim.ActionAgentState, Agent: req.Agent, State: event.State(req.State), Reason: req.Reason})
		case req.Queue != "":
			sim.Do(vendorsim.Action{Kind: vendorsim.ActionCallQueued, Queue: req.Queue})
		default:
			return echo.NewHTTPError(http.StatusBadRequest, "need agent and a valid state, or queue")
		}
		return c.NoContent(http.StatusNoContent)
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
