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
	"github.com/wallboard/wallboard/internal/database"
	"github.com/wallboard/wallboard/internal/history"
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
	// demo listens first, because its emulated vendors need its URL). serve
	// closes it.
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
	// replayClock, when set, is the model's clock: the replay's recorded
	// day (replay.go); nil: the wall clock.
	replayClock *replayClock
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
// drains within a bounded time. It returns once everything it started has
// stopped.
func serve(ctx context.Context, cfg *config.Config, o appOptions) error {
	a, err := newApp(cfg, o)
	if err != nil {
		if o.listener != nil {
			_ = o.listener.Close()
		}
		return err
	}
	if err := a.start(); err != nil {
		a.close()
		return err
	}
	select {
	case <-ctx.Done():
	case err = <-a.serveErr:
	}
	stopErr := a.stop()
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return stopErr
}

// app is one wallboard: its parts, wired from the configuration. Like wtf's
// Main, newApp builds everything and starts nothing; start starts every
// goroutine, in order (the hub; the model loop, the journal's commits, the
// boards and the alerts; the snapshot writer and the session cleanup; the
// sources; the HTTP server); stop ends them in the reverse order and
// returns once each has returned (a source that does not stop within 10s
// is logged and left behind), then closes the journal and the database.
// docs/development.md has the table.
type app struct {
	cfg *config.Config
	o   appOptions
	log *slog.Logger

	st      *store.Dir
	db      *database.DB
	dur     *durability             // the journal (journal.go); nil with replicas
	repl    *replicas               // cluster: set (cluster.go); nil for one process
	hooks   map[string]http.Handler // the sources' own webhook handlers
	model   *model.Model
	snap    *snapshotter
	loop    *model.Loop
	history *history.Writer // writes the intervals the model closes
	hub     *hub.Hub
	proj    *board.Projector
	met     *metrics.Metrics
	alerts  *alerts // nil without a webhook
	sources []running
	// captures record the sources' traffic (capture: true); closed once the
	// sources have stopped.
	captures   []io.Closer
	replayWait sync.WaitGroup // replay sources still feeding (wallboard replay)
	web        *server.Server
	http       *http.Server

	// Goroutines by the stage they stop with.
	historyW, core, snapshots, upstream, listener group
	ln                                            net.Listener
	serveErr                                      chan error // the HTTP server's end
}

// running is one configured source and what supervises it.
type running struct {
	src source.Source
	rep *source.Reporter
	b   source.Backoff
}

// newApp builds wallboard for cfg. It opens the database, restores the
// snapshot and replays the journal into the model, and starts nothing.
// When it fails, what it opened is closed again.
func newApp(cfg *config.Config, o appOptions) (_ *app, err error) {
	a := &app{cfg: cfg, o: o, log: newLogger(cfg, o.stderr), serveErr: make(chan error, 1), hooks: map[string]http.Handler{}}
	log := a.log
	defer func() {
		if err != nil {
			a.close()
		}
	}()
	if a.st, err = store.Open(cfg.StateDir); err != nil {
		return nil, err
	}
	st := a.st
	if a.db, err = openDatabase(context.Background(), cfg, log); err != nil { // database.go
		return nil, err
	}

	var names []string
	for _, s := range cfg.Sources {
		names = append(names, s.Name)
	}
	a.model = model.New(model.Options{Location: cfg.Location, ServiceLevel: cfg.ServiceLevelThreshold.D(), Sources: names,
		QueueRules: queueRules(cfg), IntervalLength: cfg.IntervalLength.D()})
	// The history writer: the loop hands it the intervals the model closes
	// (every replica writes them; a second write of an interval changes nothing).
	a.history = history.New(history.Options{Store: a.db, Retention: time.Duration(cfg.HistoryDays) * 24 * time.Hour, Logger: log})
	if cfg.Cluster != nil {
		// Replicas: the snapshot (in its own directory) is restored and
		// the stream after it is applied once the node runs (cluster.go).
		cst, err := store.Open(filepath.Join(cfg.StateDir, clusterDir))
		if err != nil {
			return nil, err
		}
		a.snap = &snapshotter{dir: cst, log: log, interval: cfg.SnapshotInterval.D()}
		restored := a.snap.restore(a.model, time.Now())
		if a.repl, err = newReplicas(cfg.Cluster, restored.Journal, names, log, a.applyFromStream, a.lead); err != nil {
			return nil, err
		}
		// The sources read their subscription ids from the cluster's
		// bucket as they are built: NATS must answer first.
		octx, cancel := context.WithTimeout(context.Background(), clusterOpenTimeout)
		err = a.repl.node.Open(octx)
		cancel()
		if err != nil {
			return nil, err
		}
		a.loop = model.NewLoop(a.model, model.LoopOptions{Flush: cfg.FlushInterval.D(), Logger: log,
			Journal: streamPosition{}, Position: restored.Journal, Cursors: restored.Cursors, Intervals: a.history.Enqueue})
	} else {
		// Operations: the snapshot is restored, then the journal after it
		// is replayed, before anything runs (journal.go).
		a.snap = &snapshotter{dir: st, log: log, interval: cfg.SnapshotInterval.D()}
		restored := a.snap.restore(a.model, time.Now())
		if a.dur, err = openJournal(st, a.model, restored, names, log, time.Now()); err != nil {
			return nil, err
		}
		a.snap.covered = a.dur.covered
		var jr model.Journal = a.dur.j
		if a.dur.off = benchNoJournal(); a.dur.off {
			// For measuring the journal's cost only (docs/performance.md).
			log.Warn("the journal is off (" + noJournalEnv + "): a crash loses what the last snapshot does not hold")
			jr = nil
		}
		a.loop = model.NewLoop(a.model, model.LoopOptions{Flush: cfg.FlushInterval.D(), Logger: log,
			Journal: jr, Position: a.dur.pos, Cursors: a.dur.cursors, Intervals: a.history.Enqueue, Now: o.replayClock.nowFunc()})
	}
	seedTrends(a.db, a.model, cfg.Location, time.Now(), log) // history.go: the day's service level after a restart
	a.hub = hub.New(hub.Options{Heartbeat: cfg.Heartbeat.D(), Logger: log})
	stored, err := storedBoards(context.Background(), cfg, a.db, log) // database.go
	if err != nil {
		return nil, err
	}
	// Every name mode of every board: TV links made in the browser may hide
	// names on any board.
	proj := board.NewProjector(cfg, board.Options{Location: cfg.Location, Now: o.replayClock.nowFunc(), Logger: log, Stored: stored, AllNameModes: true})
	a.proj = proj
	// Every stream's topic: the boards, their name-hiding variants and
	// consoles now, and those of boards made or changed while running.
	topic := func(b *board.Board) *hub.Topic {
		id, board := b.StreamID(), b.Def.ID
		return a.hub.Topic(id, b.Gen, func() []byte { return append(proj.Reset(id), proj.TickerFragment(board)...) })
	}
	for _, b := range proj.Streams() {
		proj.Attach(b.StreamID(), topic(b))
	}
	proj.Open = func(b *board.Board) board.Topic { return topic(b) }
	a.alerts = newAlerts(cfg, proj, log) // queue alarms to the webhook (console.go)
	in := metrics.Inputs{Alerts: a.alerts.stats(), Sources: a.sourceStats, Hub: a.hub.Stats, Screens: a.hub.Screens,
		Boards: func() []string { return boardIDs(proj) }, Snapshot: a.snap.metricsStatus, Version: Version, Commit: commit()}
	if a.dur != nil {
		in.Journal = a.dur.metricsStatus
	}
	if a.repl != nil {
		in.Cluster = a.repl.metrics
	}
	a.met = metrics.New(in)
	a.loop.OnApply = a.met.ObserveApply
	proj.OnFlush = a.met.ObserveFlush

	hooks := map[string]http.Handler{}
	captureRoot := o.captureDir
	if captureRoot == "" {
		captureRoot = filepath.Join(st.Path(), "captures")
	}
	for _, sc := range cfg.Sources {
		deps := sourceDeps{store: st, log: log}
		if a.repl != nil { // subscription ids are the cluster's, so a new leader resumes them
			deps.store = a.repl.node.State()
		}
		src, hook, err := buildSource(sc, deps)
		if err != nil {
			return nil, fmt.Errorf("failed to set up source %s: %w", sc.Name, err)
		}
		if a.dur != nil { // with replicas, lead resumes each source as it starts it
			resumeFromJournal(src, a.dur.cursors[sc.Name])
		}
		if files, ok := o.replay[sc.Name]; ok {
			src, hook = &replaySource{src: src, files: files, speed: o.replaySpeed, clock: o.replayClock, done: a.replayWait.Done}, nil
			a.replayWait.Add(1)
		}
		if hook != nil {
			a.hooks[sc.Name] = hook
			hooks[sc.Name] = hook
			if a.repl != nil { // a post to another replica is relayed to the leader
				hooks[sc.Name] = relayHook{local: hook, node: a.repl.node, source: sc.Name, log: log}
			}
		}
		if sc.Capture {
			w, err := startCapture(captureRoot, sc, src, log) // capture.go
			if err != nil {
				return nil, err
			}
			a.captures = append(a.captures, w)
		}
		var rep *source.Reporter
		if a.repl != nil {
			rep = source.NewReporter(sc.Name, sc.Type, a.met.Sink(a.repl.node), log)
			rep.SetDurable(a.repl.durable[sc.Name])
		} else {
			rep = source.NewReporter(sc.Name, sc.Type, a.met.Sink(a.loop), log)
			if !a.dur.off {
				rep.SetDurable(a.dur.durable[sc.Name])
			}
		}
		a.sources = append(a.sources, running{src, rep, source.Backoff{Min: sc.BackoffMin.D(), Max: sc.BackoffMax.D(), FailedRetry: sc.FailedRetry.D()}})
	}

	a.web = server.New(server.Options{Config: cfg, Boards: proj, Tickers: proj, Console: proj.Console(), Streams: a.hub, Floor: a.loop,
		Sources: a.sourceStats, Hooks: hooks, AnonymousLoopback: o.anonymousLoopback, Extra: o.extra, Logger: log, Captures: captureRoot,
		BoardStore: a.db, LiveBoards: proj, AuditLog: a.db, History: a.db, Open: a.loop, Sessions: a.db.Sessions(), Users: a.db, Links: a.db, Metrics: a.met.Handler(),
		Cluster: a.clusterStatus(), Operations: func() server.Operations {
			op := server.Operations{Version: Version, Commit: commit(), StateDir: st.Path(), Snapshot: a.snap.status()}
			if a.dur != nil {
				op.Journal = a.dur.status()
			}
			return op
		}})
	a.http = &http.Server{Handler: a.web, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	// Shutdown does not wait for hijacked streams, but it does for HTTP/2
	// ones: end every stream as it begins.
	a.http.RegisterOnShutdown(a.hub.Close)
	if err := setupTLS(cfg, a.http); err != nil {
		return nil, err
	}
	return a, nil
}

// close closes what newApp opened: the journal (its last commit) and the
// database. It runs once nothing that uses them is left.
func (a *app) close() {
	for _, c := range a.captures {
		if err := c.Close(); err != nil {
			a.log.Error("capture close", "error", err)
		}
	}
	a.captures = nil
	if a.repl != nil {
		a.repl.node.Close()
	}
	if a.dur != nil {
		a.dur.close()
	}
	if a.db != nil {
		if err := a.db.Close(); err != nil {
			a.log.Error("database close", "error", err)
		}
	}
}

// clusterStatus is the server's view of the replicas (nil: one process).
func (a *app) clusterStatus() func() server.ClusterStatus {
	if a.repl == nil {
		return nil
	}
	return a.repl.status
}

func (a *app) sourceStats() []source.Stats {
	out := make([]source.Stats, len(a.sources))
	for i, r := range a.sources {
		out[i] = r.rep.Stats()
	}
	if a.repl != nil {
		a.repl.followerStats(a.loop, out) // cluster.go
	}
	return out
}

// start listens, then starts everything. When it fails, nothing runs.
func (a *app) start() error {
	a.ln = a.o.listener
	if a.ln == nil {
		ln, err := net.Listen("tcp", a.cfg.Listen)
		if err != nil {
			return fmt.Errorf("failed to listen on %s: %w", a.cfg.Listen, err)
		}
		a.ln = ln
	}
	a.hub.Start()
	// The interval writer outlives the model: the loop hands it the
	// intervals it closes until it stops.
	a.historyW.start()
	a.historyW.spawn(a.history.Run)
	// The model and the boards run until everything else has stopped.
	a.core.start()
	a.core.spawn(a.loop.Run)
	if a.dur != nil {
		a.core.spawn(func(ctx context.Context) { a.dur.run(ctx, a.cfg.FlushInterval.D()) })
	}
	a.core.spawn(func(ctx context.Context) { a.proj.Run(ctx, a.loop.Deltas()) })
	if a.alerts != nil {
		a.core.spawn(a.alerts.notifier.Run)
		if a.repl == nil { // with replicas, the leader alone watches (lead)
			a.core.spawn(a.alerts.watch)
		}
	}
	a.snapshots.start()
	a.snapshots.spawn(func(ctx context.Context) { a.snap.run(ctx, a.loop) })
	a.snapshots.spawn(func(ctx context.Context) { a.db.Sessions().RunCleanup(ctx, sessionCleanupInterval, a.log) })
	a.upstream.start()
	if a.repl != nil {
		// The node applies the stream and, while it leads, runs the
		// sources (lead); stopping it stops them and gives the lease up.
		a.upstream.spawn(func(ctx context.Context) {
			if err := a.repl.node.Run(ctx); err != nil {
				a.log.Error("cluster", "error", err)
			}
		})
	} else {
		for _, r := range a.sources {
			a.upstream.spawn(func(ctx context.Context) { source.Supervise(ctx, r.src, r.rep, r.b) })
		}
	}
	a.listener.start()
	a.listener.spawn(func(context.Context) { a.serveErr <- serveHTTP(a.http, a.ln) })
	if a.o.replayDone != nil {
		// Told once every replay source has fed its last frame; a replay
		// source that is stopped first calls done too (replay.go).
		a.upstream.spawn(func(context.Context) { a.replayWait.Wait(); a.o.replayDone() })
	}

	url := scheme(a.cfg) + "://" + a.ln.Addr().String()
	a.log.Info("wallboard listening", "url", url, "sources", len(a.sources), "boards", len(a.proj.Boards()))
	if a.o.ready != nil {
		a.o.ready(url)
	}
	return nil
}

// stop shuts down in order and returns once every goroutine start started
// has returned: the HTTP server (within 10s) and with it every stream, the
// sources (within 10s), the snapshot writer, then the model and the boards;
// last, the final snapshot, which has everything the sources sent.
func (a *app) stop() error {
	a.log.Info("shutting down")
	shutCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	shutErr := a.http.Shutdown(shutCtx)
	a.hub.Close() // waits for every goroutine of the hub
	a.listener.stop()
	a.web.Close() // the TV links' last visits, before the database closes
	if !a.upstream.stopWithin(10 * time.Second) {
		a.log.Warn("some sources did not stop within 10s")
	}
	a.snapshots.stop()
	a.core.stop()
	a.historyW.stop() // writes what the loop handed it, within 5s
	// The loop has applied what the sources sent: the journal and the last
	// snapshot have it all.
	if a.dur != nil {
		a.dur.close()
	}
	if err := a.snap.save(a.loop.FinalState(), time.Now()); err != nil {
		a.log.Error("snapshot", "error", err)
	} else {
		a.log.Info("snapshot written", "path", filepath.Join(a.snap.dir.Path(), snapshotKey))
	}
	a.close()
	if shutErr != nil {
		return fmt.Errorf("failed to shut down cleanly: %w", shutErr)
	}
	a.log.Info("stopped")
	return nil
}

// group is goroutines that start together and stop together: stop cancels
// their context and waits for each.
type group struct {
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func (g *group) start() { g.ctx, g.cancel = context.WithCancel(context.Background()) }

// spawn runs f in the group; f returns when its context ends.
func (g *group) spawn(f func(ctx context.Context)) {
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		f(g.ctx)
	}()
}

func (g *group) stop() {
	if g.cancel != nil {
		g.cancel()
	}
	g.wg.Wait()
}

// stopWithin is stop that gives up waiting after d; it reports whether
// every goroutine returned.
func (g *group) stopWithin(d time.Duration) bool {
	if g.cancel != nil {
		g.cancel()
	}
	done := make(chan struct{})
	go func() { g.wg.Wait(); close(done) }()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-done:
		return true
	case <-t.C:
		return false
	}
}
