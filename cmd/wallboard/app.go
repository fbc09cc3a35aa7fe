package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/wallboard/wallboard/internal/board"
	"github.com/wallboard/wallboard/internal/config"
	"github.com/wallboard/wallboard/internal/hub"
	"github.com/wallboard/wallboard/internal/metrics"
	"github.com/wallboard/wallboard/internal/model"
	"github.com/wallboard/wallboard/internal/source"
	"github.com/wallboard/wallboard/internal/store"
	"github.com/wallboard/wallboard/internal/vendorsim"
	"github.com/wallboard/wallboard/server"
)

// appOptions are what a caller of serve adds to the configuration.
type appOptions struct {
	stdout, stderr io.Writer
	// sims feeds "simulation" sources, by source name (demo).
	sims map[string]*vendorsim.Sim
	// anonymousLoopback: boards need no sign-in from loopback (demo).
	anonymousLoopback bool
	// extra registers more routes (the demo's control endpoint).
	extra func(e *echo.Echo)
	// ready is told the listening URL once the server accepts connections.
	ready func(url string)
	// listener, when set, is used instead of listening on cfg.Listen (the
	// demo listens first, because its emulated vendors need its URL).
	listener net.Listener
	// captureDir, when set, holds the captures instead of
	// {state_dir}/captures (demo --capture DIR).
	captureDir string
	// replay, when set, names the replay sources' capture files by source.
	replay map[string][]string
	// replaySpeed: 1 = as recorded, 0 = as fast as possible.
	replaySpeed float64
	// replayDone is told when every replay source has fed its last frame.
	replayDone func()
}

// newLogger builds the one logger passed down everywhere.
func newLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(cfg.LogLevel))
	o := &slog.HandlerOptions{Level: lvl}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, o))
	}
	return slog.New(slog.NewTextHandler(w, o))
}

// topics adapts the hub to the server's Streams.
type topics struct{ *hub.Hub }

// serve runs wallboard with cfg until ctx ends, then shuts down gracefully:
// streams end (pages reconnect by themselves), sources stop, the server
// drains within a bounded time.
func serve(ctx context.Context, cfg *config.Config, o appOptions) error {
	log := newLogger(cfg, o.stderr)
	st, err := store.Open(cfg.StateDir)
	if err != nil {
		return err
	}

	var names []string
	for _, s := range cfg.Sources {
		names = append(names, s.Name)
	}
	m := model.New(model.Options{Location: cfg.Location, ServiceLevel: cfg.ServiceLevelThreshold.D(), Sources: names,
		QueueRules: queueRules(cfg)})
	// Operations: the snapshot is restored before anything runs.
	snap := &snapshotter{dir: st, log: log, interval: cfg.SnapshotInterval.D()}
	snap.restore(m, time.Now())
	loop := model.NewLoop(m, model.LoopOptions{Flush: cfg.FlushInterval.D(), Logger: log})
	h := hub.New(hub.Options{Heartbeat: cfg.Heartbeat.D(), Logger: log})
	proj := board.NewProjector(cfg, board.Options{Location: cfg.Location, Logger: log})
	for _, b := range proj.Streams() { // boards and their name-hiding variants
		id, board := b.StreamID(), b.Def.ID
		proj.Attach(id, h.Topic(id, b.Gen, func() []byte { return append(proj.Reset(id), proj.TickerFragment(board)...) }))
	}

	// Sources.
	type running struct {
		src source.Source
		rep *source.Reporter
		b   source.Backoff
	}
	var srcs []running
	var stats func() []source.Stats
	met := metrics.New(metrics.Inputs{Sources: func() []source.Stats { return stats() }, Hub: h.Stats, Screens: h.Screens,
		Boards: func() []string { return boardIDs(cfg) }, Snapshot: snap.metricsStatus, Version: Version, Commit: commit()})
	loop.OnApply = met.ObserveApply
	hooks := map[string]http.Handler{}
	var replayWait sync.WaitGroup // replay sources still feeding
	captureRoot := o.captureDir
	if captureRoot == "" {
		captureRoot = filepath.Join(st.Path(), "captures")
	}
	for _, sc := range cfg.Sources {
		src, hook, err := buildSource(sc, sourceDeps{store: st, log: log, sims: o.sims})
		if err != nil {
			return fmt.Errorf("failed to set up source %s: %w", sc.Name, err)
		}
		if files, ok := o.replay[sc.Name]; ok {
			src, hook = &replaySource{src: src, files: files, speed: o.replaySpeed, done: replayWait.Done}, nil
			replayWait.Add(1)
		}
		if hook != nil {
			hooks[sc.Name] = hook
		}
		if sc.Capture {
			w, err := startCapture(captureRoot, sc, src, log)
			if err != nil {
				return err
			}
			defer w.Close()
		}
		var sink = met.Sink(loop)
		if sc.AttachTo != "" {
			sink = retarget{sink: sink, to: sc.AttachTo}
		}
		rep := source.NewReporter(sc.Name, sc.Type, sink, log)
		srcs = append(srcs, running{src, rep, source.Backoff{Min: sc.BackoffMin.D(), Max: sc.BackoffMax.D(), FailedRetry: sc.FailedRetry.D()}})
	}
	stats = func() []source.Stats {
		out := make([]source.Stats, len(srcs))
		for i, r := range srcs {
			out[i] = r.rep.Stats()
		}
		return out
	}

	srv := server.New(server.Options{Config: cfg, Projector: proj, Streams: topics{h}, Floor: loop, Sources: stats,
		Hooks: hooks, AnonymousLoopback: o.anonymousLoopback, Extra: o.extra, Logger: log, Captures: captureRoot,
		Metrics: met.Handler(), Operations: func() server.Operations {
			return server.Operations{Version: Version, Commit: commit(), StateDir: st.Path(), Snapshot: snap.status()}
		}})

	ln := o.listener
	if ln == nil {
		if ln, err = net.Listen("tcp", cfg.Listen); err != nil {
			return fmt.Errorf("failed to listen on %s: %w", cfg.Listen, err)
		}
	}
	httpSrv := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	httpSrv.RegisterOnShutdown(h.Close) // end streams so Shutdown does not wait on them
	if err := setupTLS(cfg, httpSrv); err != nil {
		return err
	}

	// The model and the boards run until everything else has stopped.
	coreCtx, stopCore := context.WithCancel(context.Background())
	var core sync.WaitGroup
	core.Add(2)
	go func() { defer core.Done(); loop.Run(coreCtx) }()
	go func() { defer core.Done(); runBoards(coreCtx, proj, loop.Deltas(), met) }()
	startAlerts(coreCtx, cfg, proj, log) // queue alarms to the webhook (console.go)
	snapCtx, stopSnap := context.WithCancel(context.Background())
	var snapWG sync.WaitGroup
	snapWG.Add(1)
	go func() { defer snapWG.Done(); snap.run(snapCtx, loop) }()

	srcCtx, stopSources := context.WithCancel(context.Background())
	var srcWG sync.WaitGroup
	for _, r := range srcs {
		srcWG.Add(1)
		go func() { defer srcWG.Done(); source.Supervise(srcCtx, r.src, r.rep, r.b) }()
	}

	serveErr := make(chan error, 1)
	go func() { serveErr <- serveHTTP(httpSrv, ln) }()
	url := scheme(cfg) + "://" + ln.Addr().String()
	log.Info("wallboard listening", "url", url, "sources", len(srcs), "boards", len(cfg.Boards))
	if o.ready != nil {
		o.ready(url)
	}
	if o.replayDone != nil {
		go func() { replayWait.Wait(); o.replayDone() }()
	}

	select {
	case <-ctx.Done():
	case err = <-serveErr:
	}
	log.Info("shutting down")
	shutCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	shutErr := httpSrv.Shutdown(shutCtx)
	stopSources()
	if !waitTimeout(&srcWG, 10*time.Second) {
		log.Warn("some sources did not stop within 10s")
	}
	stopSnap()
	snapWG.Wait()
	stopCore()
	core.Wait()
	// The loop has applied what the sources sent: the last snapshot has it all.
	if err := snap.save(m.PersistState(), time.Now()); err != nil {
		log.Error("snapshot", "error", err)
	} else {
		log.Info("snapshot written", "path", filepath.Join(st.Path(), snapshotKey))
	}
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	if shutErr != nil {
		return fmt.Errorf("failed to shut down cleanly: %w", shutErr)
	}
	log.Info("stopped")
	return nil
}
