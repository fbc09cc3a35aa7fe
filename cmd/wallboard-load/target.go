package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wallboard/wallboard/internal/board"
	"github.com/wallboard/wallboard/internal/config"
	"github.com/wallboard/wallboard/internal/hub"
	"github.com/wallboard/wallboard/internal/model"
	"github.com/wallboard/wallboard/internal/source"
	"github.com/wallboard/wallboard/internal/source/pulsar"
	"github.com/wallboard/wallboard/internal/store"
	"github.com/wallboard/wallboard/internal/vendorsim"
	"github.com/wallboard/wallboard/server"
)

// kioskToken is the load board's TV link token (loopback only, throwaway).
const kioskToken = "load-test-kiosk-token-0123456789abcdef"

// apiToken reads the state API at the end of an ingest run.
const apiToken = "load-test-api-token-0123456789"

// target is a server under load: wallboard (in-process, subprocess or a
// running URL) or the baseline fan-out.
type target struct {
	name     string
	events   string // SSE URL of the load board
	base     string // http://host:port
	pid      int    // process to measure (0: none)
	inproc   bool   // pid is this process: CPU and RSS include the tool
	agents   int    // board agents, when the target decides (a demo)
	driver   driver
	metrics  func() map[string]float64 // server counters (/metrics), may be nil
	stop     func()
	emulator *vendorsim.PulsarServer
}

// wallboardConfig is the configuration the load tool runs wallboard with:
// one 8x8 Event Streaming source reading the emulator, and one board that
// shows the agents of queue "qb".
func wallboardConfig(emu *vendorsim.PulsarServer, listen, stateDir string, flush time.Duration) config.Config {
	cfg := config.Default()
	cfg.Listen = listen
	cfg.StateDir = stateDir
	cfg.Timezone = "UTC"
	cfg.FlushInterval = config.Duration(flush)
	cfg.LogLevel = "warn"
	cfg.APITokens = []config.APIToken{{Name: "load", Token: config.Secret(apiToken)}}
	src := emu.SourceConfig("load")
	src.ReasonLabels = nil
	cfg.Sources = []config.Source{src}
	cfg.Boards = []config.Board{{ID: "load", Title: "Load", Queues: []string{boardQueue},
		Kiosk: []config.Kiosk{{Name: "load-tv", Token: config.Secret(kioskToken)}}}}
	return cfg
}

// yamlConfig renders cfg's load-relevant fields as a configuration file.
func yamlConfig(cfg config.Config) string {
	s := cfg.Sources[0]
	var b strings.Builder
	fmt.Fprintf(&b, "listen: %q\nstate_dir: %q\ntimezone: UTC\nflush_interval: %s\nlog_level: warn\n", cfg.Listen, cfg.StateDir, cfg.FlushInterval.D())
	fmt.Fprintf(&b, "api_tokens:\n  - {name: load, token: %q}\n", apiToken)
	fmt.Fprintf(&b, "sources:\n  - name: %s\n    type: %s\n    url: %q\n    tenant: %s\n    api_key: %q\n    namespace: %s\n    topic: %s\n    mode: reader\n    initial_position: earliest\n    receiver_queue_size: 1000\n",
		s.Name, s.Type, s.URL, s.Tenant, s.APIKey.Reveal(), s.Namespace, s.Topic)
	fmt.Fprintf(&b, "boards:\n  - id: load\n    title: Load\n    queues: [%s]\n    kiosk:\n      - {name: load-tv, token: %q}\n", boardQueue, kioskToken)
	return b.String()
}

// startInproc wires wallboard in this process, as cmd/wallboard's serve
// does: model loop, projector, hub, the 8x8-stream source and the server.
func startInproc(emu *vendorsim.PulsarServer, o options) (*target, error) {
	dir, err := os.MkdirTemp("", "wallboard-load-")
	if err != nil {
		return nil, err
	}
	cfg := wallboardConfig(emu, "127.0.0.1:0", dir, o.flush)
	if probs := cfg.Validate(); len(probs) > 0 {
		return nil, probs
	}
	log := slog.New(slog.DiscardHandler)
	st, err := store.Open(dir)
	if err != nil {
		return nil, err
	}
	m := model.New(model.Options{Location: cfg.Location, ServiceLevel: cfg.ServiceLevelThreshold.D(), Sources: []string{"load"}})
	loop := model.NewLoop(m, model.LoopOptions{Flush: cfg.FlushInterval.D(), Logger: log})
	h := hub.New(hub.Options{Heartbeat: cfg.Heartbeat.D(), Logger: log})
	proj := board.NewProjector(&cfg, board.Options{Location: cfg.Location, Logger: log})
	for _, b := range proj.Boards() {
		id := b.Def.ID
		proj.Attach(id, h.Topic(id, b.Gen, func() []byte { return proj.Reset(id) }))
	}
	src, err := pulsar.New(cfg.Sources[0], st, log)
	if err != nil {
		return nil, err
	}
	rep := source.NewReporter("load", cfg.Sources[0].Type, loop, log)
	srv := server.New(server.Options{Config: &cfg, Projector: proj, Streams: streams{h}, Floor: loop,
		Sources: func() []source.Stats { return []source.Stats{rep.Stats()} }, Logger: log})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	httpSrv := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	httpSrv.RegisterOnShutdown(h.Close)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(4)
	go func() { defer wg.Done(); loop.Run(ctx) }()
	go func() { defer wg.Done(); proj.Run(ctx, loop.Deltas()) }()
	go func() { defer wg.Done(); source.Supervise(ctx, src, rep, source.Backoff{}) }()
	go func() { defer wg.Done(); _ = httpSrv.Serve(ln) }()
	base := "http://" + ln.Addr().String()
	t := &target{name: "wallboard (in-process)", base: base, events: base + "/tv/" + kioskToken + "/events",
		pid: os.Getpid(), inproc: true, emulator: emu, driver: &pulsarDriver{emu: emu}}
	t.metrics = func() map[string]float64 { return scrape(base + "/metrics") }
	t.stop = func() {
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer scancel()
		_ = httpSrv.Shutdown(sctx)
		cancel()
		wg.Wait()
		os.RemoveAll(dir)
	}
	return t, nil
}

type streams struct{ *hub.Hub }

// startSubprocess runs the wallboard binary (built when bin is empty) with
// a generated configuration, pinned to core o.serverCPU when taskset exists.
func startSubprocess(emu *vendorsim.PulsarServer, o options) (*target, error) {
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
	cfg := wallboardConfig(emu, "127.0.0.1:"+strconv.Itoa(port), filepath.Join(dir, "state"), o.flush)
	path := filepath.Join(dir, "wallboard.yaml")
	if err := os.WriteFile(path, []byte(yamlConfig(cfg)), 0o600); err != nil {
		return nil, err
	}
	cmd := pinned(o.serverCPU, bin, "serve", "--config", path)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if o.gogc != "" {
		cmd.Env = append(os.Environ(), "GOGC="+o.gogc)
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	base := "http://" + cfg.Listen
	t := &target{name: "wallboard (subprocess)", base: base, events: base + "/tv/" + kioskToken + "/events",
		pid: cmd.Process.Pid, emulator: emu, driver: &pulsarDriver{emu: emu}}
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
