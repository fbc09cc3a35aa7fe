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

	"github.com/wallboard/wallboard/internal/alert"
	"github.com/wallboard/wallboard/internal/board"
	"github.com/wallboard/wallboard/internal/config"
	"github.com/wallboard/wallboard/internal/hub"
	"github.com/wallboard/wallboard/internal/metrics"
	"github.com/wallboard/wallboard/internal/model"
	"github.com/wallboard/wallboard/internal/source"
	"github.com/wallboard/wallboard/internal/store"
	"github.com/wallboard/wallboard/server"
)

// appOptions are what a caller of serve adds to the configuration.
type appOptions struct {
	stdout, stderr io.Writer
	// anonymousLoopback: boards need no sign-in from loopback (demo).
	anonymousLoopback bool
	// extra registers more routes (the demo's control endpoint).
	extra func(e *echo.Echo)
	// ready is told the listening URL once the server accepts connections.
	ready func(url string)
	// listener, when set, is used instead of listening on cfg.Listen (the
	// demo listens first, because its emulated vendors need its URL).
	listener net.Listener
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

// serve runs wallboard with cfg until ctx ends, then shuts down gracefully:
// streams end (pages reconnect by themselves), sources stop, the server
// drains within a bounded time.
func serve(ctx context.Context, cfg *config.Config, o appOptions) error {
	log := newLogger(cfg, o.stderr)
	st, err := store.Open(cfg.StateDir)
	if err != nil {
		return err
	}
	db, err := openDatabase(ctx, cfg, log) // database.go; closed last, after everything that may use it
	if err != nil {
		return err
	}
	defer db.Close()
	defer startSessionCleanup(db, log)() // stopped before the database closes

	var names []string
	for _, s := range cfg.Sources {
		names = append(names, s.Name)
	}
	m := model.New(model.Options{Location: cfg.Location, ServiceLevel: cfg.ServiceLevelThreshold.D(), Sources: names,
		QueueRules: queueRules(cfg)})
	// Operations: the snapshot is restored, then the journal after it is
	// replayed, before anything runs (journal.go).
	snap := &snapshotter{dir: st, log: log, interval: cfg.SnapshotInterval.D()}
	restored := snap.restore(m, time.Now())
	dur, err := openJournal(st, m, restored, names, log, time.Now())
	if err != nil {
		return err
	}
	defer dur.close()
	snap.covered = dur.covered
	loop := model.NewLoop(m, model.LoopOptions{Flush: cfg.FlushInterval.D(), Logger: log,
		Journal: dur.j, Position: dur.pos, Cursors: dur.cursors})
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
	notifier := alert.FromConfig(cfg.Alerts.Webhook, log) // queue alarms (console.go)
	met := metrics.New(metrics.Inputs{Alerts: alertStats(notifier), Sources: func() []source.Stats { return stats() }, Hub: h.Stats, Screens: h.Screens,
		Boards: func() []string { return boardIDs(cfg) }, Snapshot: snap.metricsStatus, Journal: dur.metricsStatus, Version: Version, Commit: commit()})
	loop.OnApply = met.ObserveApply
	proj.OnFlush = met.ObserveFlush
	hooks := map[string]http.Handler{}
	for _, sc := range cfg.Sources {
		src, hook, err := buildSource(sc, sourceDeps{store: st, log: log})
		if err != nil {
			return fmt.Errorf("failed to set up source %s: %w", sc.Name, err)
		}
		resumeFromJournal(src, dur.cursors[sc.Name])
		if hook != nil {
			hooks[sc.Name] = hook
		}
		rep := source.NewReporter(sc.Name, sc.Type, met.Sink(loop), log)
		rep.SetDurable(dur.durable[sc.Name])
		srcs = append(srcs, running{src, rep, source.Backoff{Min: sc.BackoffMin.D(), Max: sc.BackoffMax.D(), FailedRetry: sc.FailedRetry.D()}})
	}
	stats = func() []source.Stats {
		out := make([]source.Stats, len(srcs))
		for i, r := range srcs {
			out[i] = r.rep.Stats()
		}
		return out
	}

	srv := server.New(server.Options{Config: cfg, Boards: proj, Tickers: proj, Console: proj.Console(), Streams: h, Floor: loop, Sources: stats,
		Hooks: hooks, AnonymousLoopback: o.anonymousLoopback, Extra: o.extra, Logger: log,
		BoardStore: db, AuditLog: db, Metrics: met.Handler(), Operations: func() server.Operations {
			return server.Operations{Version: Version, Commit: commit(), StateDir: st.Path(), Snapshot: snap.status(), Journal: dur.status()}
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
	core.Add(3)
	go func() { defer core.Done(); loop.Run(coreCtx) }()
	go func() { defer core.Done(); dur.run(coreCtx, cfg.FlushInterval.D()) }()
	go func() { defer core.Done(); proj.Run(coreCtx, loop.Deltas()) }()
	startAlerts(coreCtx, cfg, notifier, proj) // queue alarms to the webhook (console.go)
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
	// The loop has applied what the sources sent: the journal and the last
	// snapshot have it all.
	dur.close()
	if err := snap.save(loop.FinalState(), time.Now()); err != nil {
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
