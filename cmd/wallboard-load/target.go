package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wallboard/wallboard/internal/board"
	"github.com/wallboard/wallboard/internal/config"
	"github.com/wallboard/wallboard/internal/hub"
	"github.com/wallboard/wallboard/internal/model"
	"github.com/wallboard/wallboard/internal/source"
	_ "github.com/wallboard/wallboard/internal/source/vendors" // every source type
	"github.com/wallboard/wallboard/internal/store"
	"github.com/wallboard/wallboard/server"
)

// kioskToken is the load board's TV link token (loopback only, throwaway).
const kioskToken = "load-test-kiosk-token-0123456789abcdef"

// apiToken reads the state API at the end of an ingest run.
const apiToken = "load-test-api-token-0123456789"

// target is a server under load: wallboard (in-process, subprocess or a
// running URL) or the baseline fan-out.
type target struct {
	name    string
	events  string // SSE URL of the load board
	base    string // http://host:port
	pid     int    // process to measure (0: none)
	inproc  bool   // pid is this process: CPU and RSS include the tool
	agents  int    // board agents, when the target decides (a demo)
	driver  driver
	metrics func() map[string]float64 // server counters (/metrics), may be nil
	stop    func()
	up      *upstream // the emulated vendor the tool drives (nil: baseline, url)
}

// wallboardConfig is the configuration the load tool runs wallboard with:
// the upstream's sources reading its emulators, and one board "load" that
// shows the board's agents (those of queue qb, or of the source "load").
func wallboardConfig(up *upstream, listen, stateDir string, flush time.Duration) config.Config {
	cfg := config.Default()
	cfg.Listen = listen
	cfg.StateDir = stateDir
	cfg.Timezone = "UTC"
	cfg.FlushInterval = config.Duration(flush)
	cfg.LogLevel = "warn"
	cfg.APITokens = []config.APIToken{{Name: "load", Token: config.Secret(apiToken), Scope: config.ScopeAdmin}}
	cfg.Sources = up.sources("http://" + listen)
	b := config.Board{ID: "load", Title: "Load", Queues: up.boardQueues,
		Kiosk: []config.Kiosk{{Name: "load-tv", Token: config.Secret(kioskToken)}}}
	if len(up.boardQueues) == 0 {
		b.Sources = []string{"load"}
	}
	cfg.Boards = []config.Board{b}
	return cfg
}

// yamlConfig renders cfg's load-relevant fields as a configuration file;
// each source is written from its config.Source fields (secrets revealed),
// so the subprocess reads exactly what the in-process target runs.
func yamlConfig(cfg config.Config) string {
	var b strings.Builder
	fmt.Fprintf(&b, "listen: %q\nstate_dir: %q\ntimezone: UTC\nflush_interval: %s\nlog_level: warn\n", cfg.Listen, cfg.StateDir, cfg.FlushInterval.D())
	fmt.Fprintf(&b, "api_tokens:\n  - {name: load, token: %q, scope: admin}\n", apiToken)
	b.WriteString("sources:\n")
	for _, s := range cfg.Sources {
		indent := "  - " // the list item's first key
		yamlFields(&b, reflect.ValueOf(s), &indent)
		if s.Options != nil {
			yamlFields(&b, reflect.ValueOf(s.Options).Elem(), &indent)
		}
	}
	b.WriteString("boards:\n")
	for _, bd := range cfg.Boards {
		fmt.Fprintf(&b, "  - id: %q\n    title: %q\n", bd.ID, bd.Title)
		if len(bd.Sources) > 0 {
			fmt.Fprintf(&b, "    sources: %s\n", yamlList(bd.Sources))
		}
		if len(bd.Queues) > 0 {
			fmt.Fprintf(&b, "    queues: %s\n", yamlList(bd.Queues))
		}
		b.WriteString("    kiosk:\n")
		for _, k := range bd.Kiosk {
			fmt.Fprintf(&b, "      - {name: %q, token: %q}\n", k.Name, k.Token.Reveal())
		}
	}
	return b.String()
}

// yamlFields writes the non-zero yaml fields of struct v (inline structs
// flattened) as "key: value" lines of one list item.
func yamlFields(b *strings.Builder, v reflect.Value, indent *string) {
	t := v.Type()
	for i := range t.NumField() {
		f, fv := t.Field(i), v.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if opts == "inline" {
			yamlFields(b, fv, indent)
			continue
		}
		if name == "" || name == "-" || fv.IsZero() {
			continue
		}
		var val string
		switch x := fv.Interface().(type) {
		case config.Secret:
			val = strconv.Quote(x.Reveal())
		case config.Duration:
			val = strconv.Quote(x.D().String())
		case string:
			val = strconv.Quote(x)
		case []string:
			val = yamlList(x)
		case map[string]string:
			var kv []string
			for _, k := range slices.Sorted(maps.Keys(x)) {
				kv = append(kv, strconv.Quote(k)+": "+strconv.Quote(x[k]))
			}
			val = "{" + strings.Join(kv, ", ") + "}"
		default:
			val = fmt.Sprint(x) // numbers and booleans
		}
		fmt.Fprintf(b, "%s%s: %s\n", *indent, name, val)
		*indent = "    "
	}
}

func yamlList(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = strconv.Quote(x)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// startInproc wires wallboard in this process, as cmd/wallboard's serve
// does: model loop, projector, hub, the upstream's sources (and their
// webhooks) and the server.
func startInproc(up *upstream, o options) (*target, error) {
	dir, err := os.MkdirTemp("", "wallboard-load-")
	if err != nil {
		return nil, err
	}
	// Listen first: a NetSapiens source needs the address for its webhooks.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	cfg := wallboardConfig(up, ln.Addr().String(), dir, o.flush)
	if probs := cfg.Validate(); len(probs) > 0 {
		ln.Close()
		return nil, probs
	}
	log := slog.New(slog.DiscardHandler)
	st, err := store.Open(dir)
	if err != nil {
		ln.Close()
		return nil, err
	}
	var names []string
	for _, sc := range cfg.Sources {
		names = append(names, sc.Name)
	}
	m := model.New(model.Options{Location: cfg.Location, ServiceLevel: cfg.ServiceLevelThreshold.D(), Sources: names})
	loop := model.NewLoop(m, model.LoopOptions{Flush: cfg.FlushInterval.D(), Logger: log})
	h := hub.New(hub.Options{Heartbeat: cfg.Heartbeat.D(), Logger: log})
	proj := board.NewProjector(&cfg, board.Options{Location: cfg.Location, Logger: log})
	for _, b := range proj.Boards() {
		id := b.Def.ID
		proj.Attach(id, h.Topic(id, b.Gen, func() []byte { return proj.Reset(id) }))
	}
	var srcs []source.Source
	var reps []*source.Reporter
	hooks := map[string]http.Handler{}
	for _, sc := range cfg.Sources {
		src, hook, err := buildSource(sc, st, log)
		if err != nil {
			ln.Close()
			return nil, fmt.Errorf("failed to set up source %s: %w", sc.Name, err)
		}
		if hook != nil {
			hooks[sc.Name] = hook
		}
		srcs = append(srcs, src)
		reps = append(reps, source.NewReporter(sc.Name, sc.Type, loop, log))
	}
	stats := func() []source.Stats {
		out := make([]source.Stats, len(reps))
		for i, r := range reps {
			out[i] = r.Stats()
		}
		return out
	}
	srv := server.New(server.Options{Config: &cfg, Boards: proj, Tickers: proj, Console: proj.Console(), Streams: h, Floor: loop,
		Sources: stats, Hooks: hooks, Logger: log})
	httpSrv := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	httpSrv.RegisterOnShutdown(h.Close)
	h.Start()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(3)
	go func() { defer wg.Done(); loop.Run(ctx) }()
	go func() { defer wg.Done(); proj.Run(ctx, loop.Deltas()) }()
	go func() { defer wg.Done(); _ = httpSrv.Serve(ln) }()
	for i := range srcs {
		wg.Add(1)
		go func() { defer wg.Done(); source.Supervise(ctx, srcs[i], reps[i], source.Backoff{}) }()
	}
	base := "http://" + ln.Addr().String()
	t := &target{name: "wallboard (in-process)", base: base, events: base + "/tv/" + kioskToken + "/events",
		pid: os.Getpid(), inproc: true, up: up, driver: up.driver}
	t.metrics = func() map[string]float64 { return scrape(base + "/metrics") }
	t.stop = func() {
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer scancel()
		_ = httpSrv.Shutdown(sctx)
		h.Close()
		cancel()
		wg.Wait()
		os.RemoveAll(dir)
	}
	return t, nil
}

// buildSource makes the source of sc, as cmd/wallboard does (and its
// webhook handler, for NetSapiens).
func buildSource(sc config.Source, st *store.Dir, log *slog.Logger) (source.Source, http.Handler, error) {
	return source.New(sc, source.Deps{Store: st, Log: log})
}

// startSubprocess runs the wallboard binary (built when bin is empty) with
// a generated configuration, pinned to core o.serverCPU when taskset exists.
func startSubprocess(up *upstream, o options) (*target, error) {
	dir, err := os.MkdirTemp("", "wallboard-load-")
	if err != nil {
		return nil, err
	}
	bin := o.wallboard
	if bin == "" {
		bin = filepath.Join(dir, "wallboard")
		cmd := exec.Command("go", "build", "-o", bin, "github.com/wallboard/wallboard/cmd/wallboard")
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return nil, fmt.Errorf("failed to build wallboard: %w", err)
		}
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	cfg := wallboardConfig(up, "127.0.0.1:"+strconv.Itoa(port), filepath.Join(dir, "state"), o.flush)
	path := filepath.Join(dir, "wallboard.yaml")
	if err := os.WriteFile(path, []byte(yamlConfig(cfg)), 0o600); err != nil {
		return nil, err
	}
	if o.configOut != "" {
		if err := os.WriteFile(o.configOut, []byte(yamlConfig(cfg)), 0o600); err != nil {
			return nil, fmt.Errorf("failed to write -config-out: %w", err)
		}
	}
	cmd := pinned(o.serverCPU, bin, "serve", "--config", path)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	cmd.Env = os.Environ()
	if o.gogc != "" {
		cmd.Env = append(cmd.Env, "GOGC="+o.gogc)
	}
	if o.noJournal {
		cmd.Env = append(cmd.Env, "WALLBOARD_BENCH_NO_JOURNAL=1") // cmd/wallboard's noJournalEnv
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	base := "http://" + cfg.Listen
	name := "wallboard (subprocess)"
	if o.noJournal {
		name = "wallboard (subprocess, journal off)"
	}
	t := &target{name: name, base: base, events: base + "/tv/" + kioskToken + "/events",
		pid: cmd.Process.Pid, up: up, driver: up.driver}
	t.metrics = func() map[string]float64 { return scrape(base + "/metrics") }
	t.stop = func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		os.RemoveAll(dir)
	}
	if err := waitHTTP(base+"/healthz", 30*time.Second); err != nil {
		t.stop()
		return nil, err
	}
	return t, nil
}

// startBaseline runs this tool's own minimal fan-out server as a
// subprocess, pinned like wallboard.
func startBaseline(o options) (*target, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := pinned(o.serverCPU, self, "baseline-server", "-listen", "127.0.0.1:0", "-flush", o.flush.String())
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		_ = cmd.Process.Kill()
		return nil, fmt.Errorf("baseline server did not start: %w", err)
	}
	base := strings.TrimSpace(line)
	go func() { _, _ = io.Copy(io.Discard, out) }()
	t := &target{name: "baseline (stdlib fan-out)", base: base, events: base + "/events", pid: cmd.Process.Pid,
		driver: &baselineDriver{url: base + "/publish"}}
	t.metrics = func() map[string]float64 { return scrape(base + "/metrics") }
	t.stop = func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	}
	return t, waitHTTP(base+"/metrics", 10*time.Second)
}

// pinned returns a command run under taskset on core cpu when cpu ≥ 0 and
// taskset is installed.
func pinned(cpu int, name string, args ...string) *exec.Cmd {
	if cpu >= 0 {
		if ts, err := exec.LookPath("taskset"); err == nil {
			return exec.Command(ts, append([]string{"-c", strconv.Itoa(cpu), name}, args...)...)
		}
	}
	return exec.Command(name, args...)
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func waitHTTP(url string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			if err == nil {
				err = errors.New(resp.Status)
			}
			return fmt.Errorf("%s did not answer within %s: %w", url, limit, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// scrape reads a Prometheus text page into name{labels} → value.
func scrape(url string) map[string]float64 {
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		name := line[:i]
		if j := strings.IndexByte(name, '{'); j >= 0 {
			name = name[:j]
		}
		if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
			out[name] += v
		}
	}
	return out
}
