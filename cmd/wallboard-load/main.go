// Command wallboard-load puts one wallboard board under load and measures
// it: upstream agent changes at a set rate through a vendor source (-vendor:
// 8x8 Event Streaming, 8x8 Streaming API, Avaya or NetSapiens, each through
// its emulator and wallboard's real source), N SSE subscribers on the board,
// and what they receive. With -baseline it runs the same load against a
// minimal standard-library fan-out server built into the tool, back to back,
// so that every figure can be read as a ratio on any machine.
//
//	go run ./cmd/wallboard-load -subs 10000 -rate 200 -duration 30s -baseline
//
// See docs/performance.md.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wallboard/wallboard/internal/vendorsim"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "baseline-server" {
		os.Exit(baselineServer(os.Args[2:], os.Stdout, os.Stderr))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := realMain(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

type options struct {
	target     string  // inproc | subprocess | url
	vendor     string  // upstream: see vendors
	url        string  // -target url: the board's event stream URL
	demo       string  // -target url: base URL of a `wallboard demo` to drive through /demo/action
	apiToken   string  // -target url: bearer token for /api/v1/state (agent ids)
	boardSaves float64 // saves per second of another board through the API
	pid        int     // -target url: process to measure
	wallboard  string
	configOut  string
	subs       int
	rate       float64
	ingest     int
	agents     int
	others     int
	duration   time.Duration
	ramp       int
	addrs      int
	stalled    float64
	reconnect  float64
	every      time.Duration
	baseline   bool
	onlyBase   bool
	flush      time.Duration
	serverCPU  int
	gogc       string
	noJournal  bool
	settle     time.Duration
	jsonOut    string
	cpuProfile string
	sample     float64
}

func parse(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("wallboard-load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.target, "target", "subprocess", "wallboard to load: subprocess (built from this module unless -wallboard), inproc, or url (-url)")
	fs.StringVar(&o.vendor, "vendor", "8x8-stream", "vendor source the changes go through, via its emulator: "+vendorNames())
	fs.StringVar(&o.url, "url", "", "with -target url: the board's event stream, e.g. http://127.0.0.1:8080/boards/floor/events")
	fs.StringVar(&o.demo, "demo", "", "with -target url: base URL of a `wallboard demo` whose \"sim\" source is driven through /demo/action")
	fs.StringVar(&o.apiToken, "api-token", "", "with -target url: API token the demo printed (to list the sim's agents)")
	fs.IntVar(&o.pid, "pid", 0, "with -target url: server process to measure from /proc")
	fs.StringVar(&o.wallboard, "wallboard", "", "wallboard binary for -target subprocess (default: go build)")
	fs.StringVar(&o.configOut, "config-out", "", "with -target subprocess: also write the configuration wallboard runs with to this file")
	fs.IntVar(&o.subs, "subs", 1000, "SSE subscribers on the board")
	fs.Float64Var(&o.rate, "rate", 200, "agent changes per second on the board")
	fs.IntVar(&o.ingest, "ingest", 0, "also publish this many events for agents off the board as one backlog, and measure how fast wallboard drains it")
	fs.IntVar(&o.agents, "agents", 1000, "agents on the board")
	fs.IntVar(&o.others, "others", 0, "agents off the board (ingest targets; default 9000 with -ingest)")
	fs.DurationVar(&o.duration, "duration", 20*time.Second, "how long changes are driven")
	fs.IntVar(&o.ramp, "ramp", 2000, "new connections per second (at most 2000)")
	fs.IntVar(&o.addrs, "addrs", 8, "source addresses 127.0.0.2… the subscribers spread over (~28k ports each)")
	fs.Float64Var(&o.stalled, "stalled", 0, "share of subscribers that never read (0.01 = 1%)")
	fs.Float64Var(&o.reconnect, "reconnect", 0, "share of subscribers that reconnect with Last-Event-ID now and then")
	fs.DurationVar(&o.every, "reconnect-every", 3*time.Second, "mean time between a reconnecting subscriber's reconnects")
	fs.Float64Var(&o.boardSaves, "board-saves", 0, "saves per second of another board (\"other\", which no subscriber watches) through the boards API while changes are driven (-target subprocess)")
	fs.BoolVar(&o.baseline, "baseline", false, "run the same load against the built-in baseline fan-out right after")
	fs.BoolVar(&o.onlyBase, "baseline-only", false, "run the baseline only")
	fs.DurationVar(&o.flush, "flush", 100*time.Millisecond, "flush tick (wallboard flush_interval and the baseline's tick)")
	fs.IntVar(&o.serverCPU, "server-cpu", 0, "pin the server to this core with taskset (-1: do not pin); pin the tool yourself, e.g. taskset -c 1")
	fs.StringVar(&o.gogc, "gogc", "", "GOGC for the wallboard subprocess")
	fs.BoolVar(&o.noJournal, "no-journal", false, "run the wallboard subprocess without its journal, to measure what the journal costs (never in service)")
	fs.DurationVar(&o.settle, "settle", 0, "wait after the last change before counting (default max(2s, 10 ticks))")
	fs.StringVar(&o.jsonOut, "json", "", "also write the results as JSON to this file")
	fs.Float64Var(&o.sample, "sample", 0, "share of subscribers that parse every change for latency and per-change loss (default: all up to 1000, then 1000 of them); every subscriber checks that it got every frame")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of this process over the measurement window (with -target inproc it covers wallboard too)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	o.ramp = min(max(o.ramp, 1), 2000)
	o.addrs = min(max(o.addrs, 1), 250)
	if o.ingest > 0 && o.others == 0 {
		o.others = 9000
	}
	if o.sample <= 0 {
		o.sample = min(1, 1000/float64(max(o.subs, 1)))
	}
	if o.settle == 0 {
		o.settle = max(2*time.Second, 10*o.flush)
	}
	if o.agents < 1 || o.subs < 0 || o.rate < 0 {
		return o, errors.New("-agents must be ≥ 1, -subs and -rate ≥ 0")
	}
	if !knownVendor(o.vendor) {
		return o, fmt.Errorf("unknown -vendor %q (known: %s)", o.vendor, vendorNames())
	}
	if o.noJournal && o.target != "subprocess" {
		return o, errors.New("-no-journal needs -target subprocess (the in-process target runs without a journal anyway)")
	}
	if o.target == "url" && o.url == "" {
		return o, errors.New("-target url needs -url")
	}
	return o, nil
}

func realMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parse(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, err)
		return 2
	}
	limit := raiseFDLimit()
	host, _ := os.Hostname()
	fmt.Fprintf(stdout, "wallboard-load %s\nmachine: %s, %d cores (%s), %s, GOMAXPROCS %d, RLIMIT_NOFILE %d\ncommand: wallboard-load %s\n\n",
		time.Now().UTC().Format(time.RFC3339), host, runtime.NumCPU(), cpuModel(), runtime.Version(), runtime.GOMAXPROCS(0), limit, strings.Join(args, " "))
	var results []*result
	if !o.onlyBase {
		r, err := runTarget(ctx, o, false, stdout)
		if err != nil {
			fmt.Fprintln(stderr, "wallboard run failed:", err)
			return 1
		}
		results = append(results, r)
	}
	if o.baseline || o.onlyBase {
		r, err := runTarget(ctx, o, true, stdout)
		if err != nil {
			fmt.Fprintln(stderr, "baseline run failed:", err)
			return 1
		}
		results = append(results, r)
	}
	if len(results) == 2 {
		w, b := results[0], results[1]
		fmt.Fprintf(stdout, "\n== ratios (wallboard / baseline, same run)\n")
		fmt.Fprintf(stdout, "CPU per delivered frame: %.2f (%.1f µs / %.1f µs)\n", ratio(w.CPUPerFrameUS, b.CPUPerFrameUS), w.CPUPerFrameUS, b.CPUPerFrameUS)
		fmt.Fprintf(stdout, "CPU per delivered change: %.2f (%.2f µs / %.2f µs)\n", ratio(w.CPUPerChangeUS, b.CPUPerChangeUS), w.CPUPerChangeUS, b.CPUPerChangeUS)
		fmt.Fprintf(stdout, "p99 latency: %.2f (%s / %s)\n", ratio(w.P99MS, b.P99MS), ms(w.P99MS), ms(b.P99MS))
		fmt.Fprintf(stdout, "RSS per subscriber under load: %.2f (%.1f KB / %.1f KB)\n", ratio(w.RSSPerSubLoadKB, b.RSSPerSubLoadKB), w.RSSPerSubLoadKB, b.RSSPerSubLoadKB)
	}
	if o.jsonOut != "" {
		b, _ := json.MarshalIndent(results, "", "  ")
		if err := os.WriteFile(o.jsonOut, b, 0o644); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
	}
	for _, r := range results {
		if r.Failed > 0 {
			return 3
		}
	}
	return 0
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

func ms(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) + " ms" }

// result is one target's figures.
type result struct {
	Target           string
	BoardSaves       int    `json:",omitempty"` // saves of board "other" through the API during the window (-board-saves)
	BoardSaveErrors  int    `json:",omitempty"`
	Vendor           string `json:",omitempty"` // -vendor (or the demo's simulation)
	Source           string `json:",omitempty"` // the source type wallboard read the changes with
	Subscribers      int
	Regular          int
	Stalled          int
	Reconnecting     int
	Failed           int
	FailedSample     string `json:",omitempty"`
	RampSeconds      float64
	Window           float64 // seconds of driving + settle
	ChangesSent      int64
	ChangesPerSec    float64
	Frames           int64
	FramesPerSec     float64
	Receipts         int64
	ReceiptsPerSec   float64
	FramesPublished  int64 // frames (ids) published in the window
	EveryFrame       int   // regular subscribers that received every frame of the window, in order, through the last
	MissedFrames     int64 // frames the other regular subscribers missed
	Sampled          int   // regular subscribers that parsed every change
	BehindAtEnd      int   // regular subscribers still short of the last frame when the settle time ran out
	Expected         int64 // changes × sampled regular subscribers
	Delivered        int64 // regular: received directly
	Superseded       int64 // regular: not received, but a newer change of the agent was (coalesced)
	Lost             int64 // regular: neither
	LossPct          float64
	Checked          int   // sampled regular and reconnecting subscribers (those that parse every change)
	Current          int   // of those, how many ended on the newest change of every agent
	Sessions         int64 // connections made by the reading subscribers (reconnects included)
	Resets           int64
	InResets         int64
	Dups             int64
	Latencies        int64
	P50MS            float64
	P99MS            float64
	P999MS           float64
	MaxMS            float64
	ServerCPUSeconds float64
	ServerCPUPct     float64
	ServerSysPct     float64
	CPUPerFrameUS    float64
	CPUPerChangeUS   float64
	ToolCPUPct       float64
	RSSBeforeMB      float64
	RSSIdleMB        float64
	RSSLoadMB        float64
	RSSPerSubIdleKB  float64
	RSSPerSubLoadKB  float64
	FDsBefore        int
	FDsDuring        int
	FDsAfter         int
	GoroutinesBefore int
	GoroutinesDuring int
	GoroutinesAfter  int
	Cut              float64
	TimedOut         float64
	IngestEvents     int     `json:",omitempty"`
	IngestPerSec     float64 `json:",omitempty"`
	IngestErrors     float64 `json:",omitempty"`
	// IngestFedSeconds: how long handing the backlog to the emulator took
	// (emulators that render as they are fed: the drain overlaps it).
	IngestFedSeconds float64 `json:",omitempty"`
}

func runTarget(ctx context.Context, o options, base bool, stdout io.Writer) (*result, error) {
	var t *target
	var err error
	var up *upstream
	if !base && (o.target == "inproc" || o.target == "subprocess") {
		if up, err = newUpstream(o); err != nil {
			return nil, err
		}
		defer up.close()
	}
	switch {
	case base:
		t, err = startBaseline(o)
	case o.target == "inproc":
		t, err = startInproc(up, o)
	case o.target == "subprocess":
		t, err = startSubprocess(up, o)
	case o.target == "url":
		t, err = startURL(o)
	default:
		err = fmt.Errorf("unknown -target %q", o.target)
	}
	if err != nil {
		return nil, err
	}
	defer t.stop()
	res := &result{Target: t.name, Subscribers: o.subs}
	switch {
	case t.up != nil:
		res.Vendor, res.Source = t.up.vendor, t.up.sourceType
		fmt.Fprintf(stdout, "== %s, changes through %s (-vendor %s, source type %s)\n", t.name, t.up.label, t.up.vendor, t.up.sourceType)
	case o.target == "url" && o.demo != "":
		res.Vendor, res.Source = "demo", vendorsim.TypeSimulation
		fmt.Fprintf(stdout, "== %s, changes through the demo's /demo/action (source \"sim\", type %s)\n", t.name, vendorsim.TypeSimulation)
	}
	agents := o.agents
	if t.agents > 0 {
		agents = t.agents
	}
	fmt.Fprintf(stdout, "== %s: %d subscribers, %g changes/s over %d board agents for %s", t.name, o.subs, o.rate, agents, o.duration)
	if o.ingest > 0 && t.up != nil {
		fmt.Fprintf(stdout, ", plus a backlog of %d events for %d agents off the board", o.ingest, o.others)
	}
	fmt.Fprintln(stdout)

	if t.up != nil {
		// Connected, with what the vendor sends a new client (8x8 SAPI's
		// provisioning prelude, NetSapiens' agent table).
		if err := waitUpstream(ctx, t, 60*time.Second); err != nil {
			return nil, fmt.Errorf("failed to connect wallboard to the emulator: %w", err)
		}
	}
	if err := t.driver.provision(agents, o.others); err != nil {
		return nil, fmt.Errorf("provisioning: %w", err)
	}
	if t.up != nil {
		if err := waitUpstream(ctx, t, 60*time.Second); err != nil {
			return nil, fmt.Errorf("failed to provision: %w", err)
		}
	}
	time.Sleep(3 * o.flush)

	maxSeq := int64(o.rate*o.duration.Seconds()) + int64(agents) + 16
	u, err := url.Parse(t.events)
	if err != nil {
		return nil, err
	}
	sh := &shared{url: u, agents: agents, sendAt: make([]atomic.Int64, maxSeq+1), hist: &histogram{}}

	// Warm-up: one change per agent, so every card carries a marker.
	seq := int64(0)
	var warm []change
	for a := range agents {
		seq++
		warm = append(warm, change{agent: a, seq: seq})
	}
	now := time.Now().UnixNano()
	for _, c := range warm {
		sh.sendAt[c.seq].Store(now)
	}
	if err := t.driver.send(warm); err != nil {
		return nil, err
	}
	if t.up != nil {
		if err := waitUpstream(ctx, t, 30*time.Second); err != nil {
			return nil, fmt.Errorf("failed to warm up: %w", err)
		}
	}
	time.Sleep(5 * o.flush)

	before := t.proc()
	mBefore := t.metricsOrNil()
	res.RSSBeforeMB = mb(before.rss)
	res.FDsBefore = before.fds
	res.GoroutinesBefore = int(mBefore["go_goroutines"])

	// The page's id: a TV that just loaded its page connects with it and
	// gets no reset.
	since := probeID(ctx, t.events)

	// Subscribers, ramped over the source addresses.
	rnd := rand.New(rand.NewPCG(1, 2))
	var rmu sync.Mutex
	rf := func() float64 { rmu.Lock(); defer rmu.Unlock(); return rnd.Float64() }
	nStalled := int(float64(o.subs)*o.stalled + 0.5)
	nReconnect := int(float64(o.subs)*o.reconnect + 0.5)
	subs := make([]*subscriber, o.subs)
	subCtx, stopSubs := context.WithCancel(ctx)
	defer stopSubs()
	start := make(chan struct{})
	var wg sync.WaitGroup
	rampStart := time.Now()
	for i := range subs {
		kind := kindRegular
		switch {
		case i%100 < int(o.stalled*100+0.5) && nStalled > 0:
			kind, nStalled = kindStalled, nStalled-1
		case nReconnect > 0 && i%100 >= 100-int(o.reconnect*100+0.5):
			kind, nReconnect = kindReconnect, nReconnect-1
		}
		ip := net.IPv4(127, 0, 0, byte(2+i%o.addrs))
		s := newSubscriber(i, kind, &net.TCPAddr{IP: ip}, sh)
		s.sampled = i%max(1, int(1/o.sample+0.5)) == 0
		subs[i] = s
		if d := time.Until(rampStart.Add(time.Duration(i) * time.Second / time.Duration(o.ramp))); d > 0 {
			time.Sleep(d)
		}
		wg.Add(1)
		go func() { defer wg.Done(); s.run(subCtx, since, start, o.every, rf) }()
	}
	for _, s := range subs {
		select {
		case <-s.connected:
		case <-time.After(60 * time.Second):
			s.fail(errors.New("not connected within 60s"))
		}
	}
	res.RampSeconds = time.Since(rampStart).Seconds()
	for _, s := range subs {
		switch {
		case s.err.Load() != nil:
			res.Failed++
			if res.FailedSample == "" {
				res.FailedSample = *s.err.Load()
			}
		case s.kind == kindStalled:
			res.Stalled++
		case s.kind == kindReconnect:
			res.Reconnecting++
		default:
			res.Regular++
		}
	}
	fmt.Fprintf(stdout, "connected %d subscribers in %.1fs (%d failed%s)\n", o.subs-res.Failed, res.RampSeconds, res.Failed, sample(res.FailedSample))
	time.Sleep(2 * time.Second)
	idle := t.proc()
	res.RSSIdleMB = mb(idle.rss)
	if o.subs > 0 {
		res.RSSPerSubIdleKB = float64(idle.rss-before.rss) / 1024 / float64(o.subs)
	}

	// Drive.
	self0 := readProc(os.Getpid())
	cpu0 := t.proc()
	m0 := t.metricsOrNil()
	if o.cpuProfile != "" && !base {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			return nil, err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return nil, err
		}
		defer f.Close()
		defer pprof.StopCPUProfile()
	}
	sh.measure.Store(true)
	close(start)
	t0 := time.Now()
	var saves *boardSaver
	if o.boardSaves > 0 && t.up != nil {
		saves = startBoardSaves(t.base, o.boardSaves, o.duration)
	}
	var ingestDone, ingestStart time.Time
	ingesting := o.ingest > 0 && t.up != nil
	// drained: wallboard has received the backlog and every change sent since.
	drained := func(m map[string]float64) bool { return t.up.driver.got(m) >= t.up.driver.want() }
	if ingesting {
		cs := make([]change, o.ingest)
		for i := range cs {
			cs[i] = change{agent: i % o.others, other: true}
		}
		fedAt := time.Now()
		if err := t.driver.send(cs); err != nil {
			return nil, err
		}
		res.IngestFedSeconds = time.Since(fedAt).Seconds()
		ingestStart = time.Now() // the backlog is in the topic: the source drains it from here
		if t.up.fed {
			// The emulator sends while it is fed: the drain began with the
			// first event.
			ingestStart = fedAt
		}
	}
	var during procStat
	var mDuring map[string]float64
	sampled := false
	tick := time.NewTicker(10 * time.Millisecond)
	sentBoard := int64(0)
	var sendErr error
	for {
		now := <-tick.C
		el := now.Sub(t0)
		if el >= o.duration {
			break
		}
		due := int64(o.rate*el.Seconds()) - sentBoard
		var cs []change
		nowNS := time.Now().UnixNano()
		for range due {
			seq++
			sentBoard++
			sh.sendAt[seq].Store(nowNS)
			cs = append(cs, change{agent: int((seq - 1) % int64(agents)), seq: seq})
		}
		if len(cs) > 0 {
			if err := t.driver.send(cs); err != nil && sendErr == nil {
				sendErr = err
			}
		}
		if !sampled && el >= o.duration/2 {
			sampled = true
			during = t.proc()
			mDuring = t.metricsOrNil()
		}
		if ingesting && ingestDone.IsZero() && drained(t.metricsOrNil()) {
			ingestDone = time.Now()
		}
	}
	tick.Stop()
	if sendErr != nil {
		fmt.Fprintln(stdout, "driver error:", sendErr)
	}
	if saves != nil {
		var err error
		res.BoardSaves, res.BoardSaveErrors, err = saves.wait()
		if err != nil {
			fmt.Fprintln(stdout, "board save failed:", err)
		}
	}
	for ingesting && ingestDone.IsZero() {
		if drained(t.metricsOrNil()) {
			ingestDone = time.Now()
			break
		}
		if time.Since(t0) > o.duration+5*time.Minute {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	lastSeq := seq
	// Settle: wait until every reading subscriber has the server's last
	// frame (overload stretches latency: the figures wait for it), at least
	// o.settle and at most o.settle + 3 minutes.
	if f, ok := t.driver.(interface{ flush() }); ok {
		f.flush()
	}
	deadline := time.Now().Add(o.settle)
	for {
		// Sampled subscribers must have the last change itself; the others
		// the newest frame any subscriber has (once the sampled ones have
		// the last change, that is the last frame).
		var final int64
		for _, s := range subs {
			if s.kind == kindRegular && s.err.Load() == nil {
				final = max(final, s.lastIDSeq.Load())
			}
		}
		behind := 0
		for _, s := range subs {
			if s.kind != kindRegular || s.err.Load() != nil {
				continue
			}
			if (s.sampled && lastSeq > int64(agents) && !s.has(lastSeq)) || (!s.sampled && s.lastIDSeq.Load() < final) {
				behind++
			}
		}
		if (behind == 0 && time.Now().After(deadline)) || time.Now().After(deadline.Add(3*time.Minute)) {
			res.BehindAtEnd = behind
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	window := time.Since(t0)
	sh.measure.Store(false)
	cpu1 := t.proc()
	self1 := readProc(os.Getpid())
	m1 := t.metricsOrNil()

	res.Window = window.Seconds()
	res.ChangesSent = lastSeq - int64(agents)
	res.ChangesPerSec = float64(res.ChangesSent) / o.duration.Seconds()
	res.Frames = sh.frames.Load()
	res.FramesPerSec = float64(res.Frames) / window.Seconds()
	res.Receipts = sh.receipts.Load()
	res.ReceiptsPerSec = float64(res.Receipts) / window.Seconds()
	res.Resets = sh.resets.Load()
	res.InResets = sh.inResets.Load()
	res.Dups = sh.dups.Load()
	last := make([]int64, agents)
	for q := int64(agents) + 1; q <= lastSeq; q++ {
		last[(q-1)%int64(agents)] = q // agents changed during the run
	}
	var winFirst, winLast int64
	for _, s := range subs {
		if s.kind != kindRegular || s.err.Load() != nil {
			continue
		}
		if f := s.firstID.Load(); f > 0 && (winFirst == 0 || f < winFirst) {
			winFirst = f
		}
		winLast = max(winLast, s.lastIDSeq.Load())
	}
	res.FramesPublished = winLast - winFirst + 1
	for _, s := range subs {
		if s.err.Load() != nil || s.kind == kindStalled {
			continue
		}
		if s.kind == kindRegular {
			f, l, n := s.firstID.Load(), s.lastIDSeq.Load(), s.idFrames.Load()
			if f > 0 && f <= winFirst+1 && l == winLast && n == l-f+1 {
				res.EveryFrame++
			} else {
				res.MissedFrames += max(0, winLast-winFirst+1-n)
			}
		}
		res.Sessions += s.sessions.Load()
		if s.sampled || s.kind == kindReconnect {
			res.Checked++
			if s.current(last) {
				res.Current++
			}
		}
		if s.kind != kindRegular || !s.sampled {
			continue
		}
		res.Sampled++
		d, sup := s.counts(int64(agents)+1, lastSeq)
		res.Delivered += d
		res.Superseded += sup
	}
	res.Expected = res.ChangesSent * int64(res.Sampled)
	res.Lost = res.Expected - res.Delivered - res.Superseded
	if res.Expected > 0 {
		res.LossPct = 100 * float64(res.Expected-res.Delivered) / float64(res.Expected)
	}
	n, qs := sh.hist.quantiles(0.5, 0.99, 0.999, 1)
	res.Latencies = n
	res.P50MS, res.P99MS, res.P999MS, res.MaxMS = msf(qs[0]), msf(qs[1]), msf(qs[2]), msf(qs[3])
	cpu := cpu1.cpu - cpu0.cpu
	res.ServerCPUSeconds = cpu.Seconds()
	res.ServerCPUPct = 100 * cpu.Seconds() / window.Seconds()
	res.ServerSysPct = 100 * (cpu1.sys - cpu0.sys).Seconds() / window.Seconds()
	res.ToolCPUPct = 100 * (self1.cpu - self0.cpu).Seconds() / window.Seconds()
	if res.Frames > 0 {
		res.CPUPerFrameUS = float64(cpu.Microseconds()) / float64(res.Frames)
	}
	if n := res.ChangesSent * int64(res.Regular+res.Reconnecting); n > 0 {
		res.CPUPerChangeUS = float64(cpu.Microseconds()) / float64(n) // per change per reading subscriber
	}
	if !sampled {
		during, mDuring = cpu1, m1
	}
	res.RSSLoadMB = mb(max(during.rss, cpu1.rss))
	if o.subs > 0 {
		res.RSSPerSubLoadKB = float64(max(during.rss, cpu1.rss)-before.rss) / 1024 / float64(o.subs)
	}
	res.FDsDuring = during.fds
	res.GoroutinesDuring = int(mDuring["go_goroutines"])
	res.Cut = m1["wallboard_subscribers_cut_total"] - m0["wallboard_subscribers_cut_total"]
	res.TimedOut = m1["wallboard_subscribers_timed_out_total"] - m0["wallboard_subscribers_timed_out_total"]
	if o.ingest > 0 && !ingestDone.IsZero() {
		res.IngestEvents = o.ingest
		res.IngestPerSec = float64(o.ingest) / ingestDone.Sub(ingestStart).Seconds()
		res.IngestErrors = m1["wallboard_source_errors_total"]
	}

	// Close every subscriber and see what the server gives back.
	stopSubs()
	wg.Wait()
	time.Sleep(2 * time.Second)
	after := t.proc()
	res.FDsAfter = after.fds
	res.GoroutinesAfter = int(t.metricsOrNil()["go_goroutines"])
	report(stdout, o, res, t)
	return res, nil
}

func msf(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
func mb(b int64) float64          { return float64(b) / (1 << 20) }

func sample(s string) string {
	if s == "" {
		return ""
	}
	return ", e.g. " + s
}

func (t *target) proc() procStat {
	if t.pid == 0 {
		return procStat{}
	}
	return readProc(t.pid)
}

func (t *target) metricsOrNil() map[string]float64 {
	if t.metrics == nil {
		return map[string]float64{}
	}
	if m := t.metrics(); m != nil {
		return m
	}
	return map[string]float64{}
}

// probeID connects once and returns the id of the first frame (the reset
// a page-less client gets), as a freshly loaded page would carry it.
func probeID(ctx context.Context, events string) string {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, events, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	buf := make([]byte, 0, 64<<10)
	tmp := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(tmp)
		buf = append(buf, tmp[:n]...)
		for _, line := range strings.Split(string(buf), "\n") {
			if id, ok := strings.CutPrefix(line, "id: "); ok {
				return strings.TrimSpace(id)
			}
		}
		if err != nil || len(buf) > 8<<20 {
			return ""
		}
	}
}

func report(w io.Writer, o options, r *result, t *target) {
	inproc := t.inproc
	fmt.Fprintf(w, "subscribers: %d regular, %d stalled, %d reconnecting, %d failed\n", r.Regular, r.Stalled, r.Reconnecting, r.Failed)
	fmt.Fprintf(w, "changes sent: %d (%.1f/s); frames received: %d (%.0f/s over the %.1fs window); changes received in deltas: %d (%.0f/s)\n",
		r.ChangesSent, r.ChangesPerSec, r.Frames, r.FramesPerSec, r.Window, r.Receipts, r.ReceiptsPerSec)
	if r.BehindAtEnd > 0 {
		fmt.Fprintf(w, "WARNING: %d regular subscribers had not received the last frame when the settle time ran out\n", r.BehindAtEnd)
	}
	fmt.Fprintf(w, "frames: %d of %d regular subscribers received every one of the %d frames published in the window (%d frames missed by the others)\n",
		r.EveryFrame, r.Regular, r.FramesPublished, r.MissedFrames)
	fmt.Fprintf(w, "changes, %d sampled regular subscribers: %d of %d received directly, %d superseded (coalesced), %d lost; loss %.4f%%\n",
		r.Sampled, r.Delivered, r.Expected, r.Superseded, r.Lost, r.LossPct)
	fmt.Fprintf(w, "ended current on every agent: %d of %d sampled and reconnecting subscribers; %d connections by the reading subscribers; resets received %d (carrying %d changes); duplicates %d\n",
		r.Current, r.Checked, r.Sessions, r.Resets, r.InResets, r.Dups)
	fmt.Fprintf(w, "latency emulator send → subscriber receipt (%d samples): p50 %s, p99 %s, p99.9 %s, max %s\n",
		r.Latencies, ms(r.P50MS), ms(r.P99MS), ms(r.P999MS), ms(r.MaxMS))
	note := ""
	if inproc {
		note = " (in-process: includes the load tool itself)"
	}
	fmt.Fprintf(w, "server CPU: %.2fs over %.1fs = %.0f%% of a core (%.0f%% kernel)%s; %.1f µs per delivered frame, %.2f µs per delivered change; load tool %.0f%% of a core\n",
		r.ServerCPUSeconds, r.Window, r.ServerCPUPct, r.ServerSysPct, note, r.CPUPerFrameUS, r.CPUPerChangeUS, r.ToolCPUPct)
	fmt.Fprintf(w, "server RSS: %.1f MB before, %.1f MB with subscribers idle (%.1f KB each), %.1f MB under load (%.1f KB each)\n",
		r.RSSBeforeMB, r.RSSIdleMB, r.RSSPerSubIdleKB, r.RSSLoadMB, r.RSSPerSubLoadKB)
	fmt.Fprintf(w, "descriptors: %d before, %d during, %d after; goroutines: %d before, %d during, %d after\n",
		r.FDsBefore, r.FDsDuring, r.FDsAfter, r.GoroutinesBefore, r.GoroutinesDuring, r.GoroutinesAfter)
	fmt.Fprintf(w, "server counted: %g cut for lagging, %g timed out\n", r.Cut, r.TimedOut)
	if r.BoardSaves > 0 || r.BoardSaveErrors > 0 {
		fmt.Fprintf(w, "board saves: %d of another board through the API during the window (%d failed)\n", r.BoardSaves, r.BoardSaveErrors)
	}
	if r.IngestEvents > 0 {
		fmt.Fprintf(w, "ingest: %d events drained in %.2fs = %.0f events/s through %s (errors %g)",
			r.IngestEvents, float64(r.IngestEvents)/r.IngestPerSec, r.IngestPerSec, t.up.label, r.IngestErrors)
		if t.up.fed {
			fmt.Fprintf(w, "; the emulator renders as it is fed (%.2fs to feed it), so this is the rate it sustains, timed from the first event", r.IngestFedSeconds)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w)
}

// startURL targets a running wallboard: subscribers on -url; changes (with
// -demo) through a demo's /demo/action on its "sim" source.
func startURL(o options) (*target, error) {
	t := &target{name: "wallboard at " + o.url, events: o.url, pid: o.pid}
	u, err := url.Parse(o.url)
	if err != nil {
		return nil, err
	}
	base := u.Scheme + "://" + u.Host
	t.metrics = func() map[string]float64 { return scrape(base + "/metrics") }
	t.stop = func() {}
	if o.demo == "" {
		t.driver = nopDriver{}
		return t, nil
	}
	ids, err := demoAgents(o.demo, o.apiToken)
	if err != nil {
		return nil, err
	}
	t.agents = len(ids)
	t.driver = &demoDriver{base: o.demo, ids: ids}
	return t, nil
}

type nopDriver struct{}

func (nopDriver) provision(int, int) error { return nil }
func (nopDriver) send([]change) error      { return nil }

// demoDriver makes known changes in a running demo's simulation, one
// /demo/action each, posted in order from one goroutine so that a slow
// answer never holds the pace (send times are taken before, so waiting
// counts in the latency).
type demoDriver struct {
	base string
	ids  []string
	once sync.Once
	q    chan []string
	done chan struct{}
	err  atomic.Pointer[error]
}

func (d *demoDriver) provision(int, int) error { return nil }

func (d *demoDriver) start() {
	d.once.Do(func() {
		d.q, d.done = make(chan []string, 100000), make(chan struct{})
		go func() {
			defer close(d.done)
			for bodies := range d.q {
				for _, b := range bodies {
					if err := d.post(b); err != nil && d.err.Load() == nil {
						d.err.Store(&err)
					}
				}
			}
		}()
	})
}

// flush waits until every queued change is posted.
func (d *demoDriver) flush() {
	d.start()
	close(d.q)
	<-d.done
}

func (d *demoDriver) send(cs []change) error {
	var bodies []string
	for _, c := range cs {
		if !c.other {
			bodies = append(bodies, fmt.Sprintf(`{"source":"sim","agent":%q,"state":"not_ready","reason":"801=%d"}`, d.ids[c.agent%len(d.ids)], c.seq))
		}
	}
	if len(bodies) == 0 {
		return nil
	}
	d.start()
	d.q <- bodies
	if err := d.err.Load(); err != nil {
		return *err
	}
	return nil
}

func (d *demoDriver) post(body string) error {
	resp, err := http.Post(d.base+"/demo/action", "application/json", strings.NewReader(body))
	if err != nil {
		return fmt.Errorf("failed to post a demo action: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("failed to post a demo action: %s", resp.Status)
	}
	return nil
}

func demoAgents(base, token string) ([]string, error) {
	req, _ := http.NewRequest(http.MethodGet, base+"/api/v1/state", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var st struct {
		Agents []struct{ Source, ID string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return nil, fmt.Errorf("state API: %w", err)
	}
	var ids []string
	for _, a := range st.Agents {
		if a.Source == "sim" {
			ids = append(ids, a.ID)
		}
	}
	sort.Strings(ids)
	if len(ids) == 0 {
		return nil, errors.New("the demo's sim source has no agents")
	}
	return ids, nil
}
