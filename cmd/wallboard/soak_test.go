//go:build linux

package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wallboard/wallboard/internal/config"
	"github.com/wallboard/wallboard/internal/event"
	"github.com/wallboard/wallboard/internal/source/axp"
	"github.com/wallboard/wallboard/internal/source/netsapiens"
	"github.com/wallboard/wallboard/internal/vendorsim"
)

var soakFor = flag.Duration("soak", 25*time.Second, "how long TestSoak runs (go test -run Soak ./cmd/wallboard/ -soak=2m)")

// driver steps simulations in real time while it is not paused, so a test
// can hold the floor still (nothing happens, nothing is in flight) when it
// compares the board with the ground truth or breaks something lossy.
type driver struct {
	sims   []*vendorsim.Sim
	mu     sync.Mutex
	paused bool
	stop   chan struct{}
	done   chan struct{}
}

func newDriver(sims ...*vendorsim.Sim) *driver {
	d := &driver{sims: sims, paused: true, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(d.done)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-d.stop:
				return
			case now := <-t.C:
				d.mu.Lock()
				if !d.paused {
					for _, s := range d.sims {
						s.Step(now)
					}
				}
				d.mu.Unlock()
			}
		}
	}()
	return d
}

// pause returns once no step is running; resume lets the floor move again.
// A pause freezes simulated time: on resume the simulations jump ahead.
func (d *driver) pause()  { d.mu.Lock(); d.paused = true; d.mu.Unlock() }
func (d *driver) resume() { d.mu.Lock(); d.paused = false; d.mu.Unlock() }
func (d *driver) close()  { close(d.stop); <-d.done }

// apiState is the part of /api/v1/state the checks read.
type apiState struct {
	Sources []struct {
		Name, Status string
		Errors       int64
	}
	Agents []struct {
		Source, ID, State, Reason string
	}
	Queues []struct {
		Source, ID                            string
		Waiting, Offered, Answered, Abandoned int
	}
}

var apiClient = &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{}}

func fetchState(base, token string) (apiState, error) {
	var st apiState
	req, _ := http.NewRequest(http.MethodGet, base+"/api/v1/state", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := apiClient.Do(req)
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return st, fmt.Errorf("state: HTTP %d", resp.StatusCode)
	}
	return st, json.NewDecoder(resp.Body).Decode(&st)
}

// diffTruth lists how the board differs from each source's simulation:
// agent states (and not-ready reasons), and per queue waiting, offered,
// answered and abandoned. Empty means equal.
func diffTruth(st apiState, sims map[string]*vendorsim.Sim) []string {
	var out []string
	for src, sim := range sims {
		truth := sim.Truth()
		agents := map[string][2]string{}
		for _, a := range st.Agents {
			if a.Source == src {
				agents[a.ID] = [2]string{a.State, a.Reason}
			}
		}
		for id, want := range truth.Agents {
			got, ok := agents[id]
			if !ok {
				if want.State != event.StateLoggedOut {
					out = append(out, fmt.Sprintf("%s agent %s: missing, want %s", src, id, want.State))
				}
				continue
			}
			if got[0] != string(want.State) || (want.State == event.StateNotReady && got[1] != want.Reason) {
				out = append(out, fmt.Sprintf("%s agent %s: %s %q, want %s %q", src, id, got[0], got[1], want.State, want.Reason))
			}
		}
		queues := map[string][4]int{}
		for _, q := range st.Queues {
			if q.Source == src {
				queues[q.ID] = [4]int{q.Waiting, q.Offered, q.Answered, q.Abandoned}
			}
		}
		for id, want := range truth.Queues {
			w := [4]int{want.Waiting, want.Offered, want.Answered, want.Abandoned}
			if got := queues[id]; got != w {
				out = append(out, fmt.Sprintf("%s queue %s: waiting/offered/answered/abandoned %v, want %v", src, id, got, w))
			}
		}
	}
	sort.Strings(out)
	return out
}

// converge waits until the board equals the ground truth, and returns the
// last difference when it does not within d.
func converge(base, token string, sims map[string]*vendorsim.Sim, d time.Duration) []string {
	deadline := time.Now().Add(d)
	var diff []string
	for {
		st, err := fetchState(base, token)
		if err != nil {
			diff = []string{err.Error()}
		} else if diff = diffTruth(st, sims); len(diff) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return diff
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// allLive waits until every source is live.
func allLive(base, token string, d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		st, err := fetchState(base, token)
		var notLive []string
		if err == nil {
			for _, s := range st.Sources {
				if s.Status != string(event.StatusLive) {
					notLive = append(notLive, s.Name+"="+s.Status)
				}
			}
			if len(notLive) == 0 && len(st.Sources) > 0 {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("sources not live after %s: %v %v", d, notLive, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// soakWallboard is one run of serve on a fixed address.
type soakWallboard struct {
	cancel context.CancelFunc
	done   chan error
	logs   *syncBuffer
}

func startSoakWallboard(t *testing.T, cfg *config.Config, addr string) *soakWallboard {
	t.Helper()
	var ln net.Listener
	var err error
	for range 50 { // the previous run's listener is closed; the port is ours again
		if ln, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	w := &soakWallboard{cancel: cancel, done: make(chan error, 1), logs: &syncBuffer{}}
	ready := make(chan struct{})
	go func() {
		w.done <- serve(ctx, cfg, appOptions{stdout: io.Discard, stderr: w.logs, listener: ln, ready: func(string) { close(ready) }})
	}()
	select {
	case <-ready:
	case err := <-w.done:
		t.Fatalf("serve ended at start: %v\n%s", err, w.logs)
	}
	return w
}

func (w *soakWallboard) stop(t *testing.T) {
	t.Helper()
	w.cancel()
	select {
	case err := <-w.done:
		if err != nil {
			t.Errorf("serve: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop within 20s")
	}
	if strings.Contains(w.logs.String(), "panic") {
		t.Errorf("a panic in the log:\n%s", w.logs)
	}
}

// stalledSubscriber opens a board's event stream with a tiny receive
// buffer and never reads from it.
func stalledSubscriber(t *testing.T, addr, path string) net.Conn {
	t.Helper()
	d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		return c.Control(func(fd uintptr) { _ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 2048) })
	}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\nAccept: text/event-stream\r\n\r\n", path, addr)
	return c
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

// settleGoroutines waits for the goroutine count to fall to at most n and
// returns the count it reached.
func settleGoroutines(n int, d time.Duration) int {
	deadline := time.Now().Add(d)
	for {
		apiClient.CloseIdleConnections()
		g := runtime.NumGoroutine()
		if g <= n || time.Now().After(deadline) {
			return g
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestSoak runs wallboard against every vendor emulator at once for -soak
// (default 25s), with random faults and restarts of wallboard itself, and
// then checks the board against the simulations' ground truth, and that
// goroutines and heap come back to where they were.
//
// Faults that lose nothing on the vendor's side (drops of resumable streams,
// malformed frames, duplicate and malformed webhook posts) are injected
// while the floor moves. Faults after which the vendor does not resend what
// it sent meanwhile (Avaya token, socket and subscription faults, 5xx
// refusals, restarts of wallboard) are injected while the floor is held
// still, then the floor moves again once every source is back.
func TestSoak(t *testing.T) {
	if testing.Short() {
		t.Skip("soak in -short mode")
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("soak for %s, seed %d", *soakFor, seed)
	rng := rand.New(rand.NewPCG(seed, 7))

	mk := func(agents, queues int, seed int64) *vendorsim.Sim {
		return vendorsim.NewSim(vendorsim.Options{Agents: agents, Queues: queues, Seed: seed, Pace: 3})
	}
	sapiSim, pulsarSim, axpSim, nsSim := mk(10, 2, 11), mk(10, 2, 12), mk(10, 2, 13), mk(10, 2, 14)
	sapiEmu, err := vendorsim.NewSAPIServer(sapiSim, vendorsim.SAPIOptions{Heartbeat: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer sapiEmu.Close()
	pulsarEmu, err := vendorsim.NewPulsarServer(pulsarSim, vendorsim.PulsarOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer pulsarEmu.Close()
	axpEmu, err := vendorsim.StartAXP(axpSim, vendorsim.AXPOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer axpEmu.Close()
	nsEmu, err := vendorsim.StartNetSapiens(nsSim, vendorsim.NetSapiensOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer nsEmu.Close()
	drv := newDriver(sapiSim, pulsarSim, axpSim, nsSim)
	defer drv.close()
	sims := map[string]*vendorsim.Sim{"uk-sapi": sapiSim, "uk-events": pulsarSim, "axp-floor": axpSim, "ns": nsSim}

	// A fixed address, so the vendor's webhook URL stays right across restarts.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	base := "http://" + addr

	cfg := config.Default()
	cfg.Listen = addr
	cfg.StateDir = filepath.Join(t.TempDir(), "state")
	cfg.Timezone = "UTC"
	cfg.FlushInterval = config.Duration(50 * time.Millisecond)
	cfg.SnapshotInterval = config.Duration(250 * time.Millisecond)
	cfg.LogLevel = "warn"
	cfg.APITokens = []config.APIToken{{Name: "soak", Token: apiToken}}
	cfg.Sources = []config.Source{sapiEmu.SourceConfig("uk-sapi"), pulsarEmu.SourceConfig("uk-events"),
		axpEmu.SourceConfig("axp-floor", axp.TypeEngagement), nsEmu.SourceConfig("ns", base)}
	for i := range cfg.Sources {
		cfg.Sources[i].BackoffMin = config.Duration(50 * time.Millisecond)
		cfg.Sources[i].BackoffMax = config.Duration(500 * time.Millisecond)
	}
	cfg.Sources[3].Options.(*netsapiens.Options).StatusInterval = config.Duration(500 * time.Millisecond)
	cfg.Boards = []config.Board{{ID: "floor", Title: "Soak", Kiosk: []config.Kiosk{{Name: "stalled-tv", Token: kioskToken}}}}
	if p := cfg.Validate(); len(p) > 0 {
		t.Fatal(p)
	}

	baseGoroutines := runtime.NumGoroutine()
	baseHeap := heapInUse()

	wb := startSoakWallboard(t, &cfg, addr)
	if err := allLive(base, apiToken, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	stalled := stalledSubscriber(t, addr, "/tv/"+kioskToken+"/events")

	nsSub := func() string {
		for _, s := range nsEmu.Subscriptions() {
			if s.Model == "call" {
				return s.ID
			}
		}
		return ""
	}
	lossless := []struct {
		name string
		do   func()
	}{
		{"8x8 SAPI drop", sapiEmu.Drop},
		{"8x8 SAPI malformed frames", func() { sapiEmu.Malformed(2) }},
		{"8x8 Pulsar drop", pulsarEmu.Drop},
		{"8x8 Pulsar malformed messages", func() { pulsarEmu.PublishMalformed(2) }},
		{"Avaya malformed frames", axpEmu.SendMalformed},
		{"NetSapiens duplicate posts", func() { nsEmu.SetFaults(vendorsim.NetSapiensFaults{Duplicate: true}) }},
		{"NetSapiens malformed post", func() {
			if id := nsSub(); id != "" {
				nsEmu.PostRaw(id, id, []byte(`[{"call-orig-call-id": `))
			}
		}},
	}
	lossy := []struct {
		name string
		do   func()
	}{
		{"Avaya token revoked and sockets dropped", func() { axpEmu.InvalidateTokens(); axpEmu.DropSockets() }},
		{"Avaya subscriptions expire", axpEmu.Expire},
		{"Avaya subscriptions forgotten", axpEmu.ForgetSubscriptions},
		{"8x8 SAPI answers 503 for a while", func() {
			sapiEmu.Refuse(http.StatusServiceUnavailable)
			sapiEmu.Drop()
			time.Sleep(300 * time.Millisecond)
			sapiEmu.Refuse(0)
		}},
		{"8x8 Pulsar answers 500 for a while", func() {
			pulsarEmu.Refuse(http.StatusInternalServerError)
			pulsarEmu.Drop()
			time.Sleep(300 * time.Millisecond)
			pulsarEmu.Refuse(0)
		}},
		{"NetSapiens subscription dropped", func() {
			id := nsSub()
			if id == "" {
				return
			}
			nsEmu.Drop(id)
			// The source stays live until its status check finds the
			// subscription gone and recreates it; until then the vendor
			// posts nowhere, so the floor must not move.
			for deadline := time.Now().Add(10 * time.Second); nsSub() == "" || nsSub() == id; time.Sleep(20 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Errorf("the NetSapiens call subscription was not recreated within 10s")
					return
				}
			}
		}},
		{"restart wallboard", nil},
	}

	var restarts, rounds int
	var injected []string
	faults := 0
	var firstStopHeap uint64
	deadline := time.Now().Add(*soakFor)
	for time.Now().Before(deadline) {
		rounds++
		injected = injected[:0]
		// The floor moves, with faults that lose nothing.
		drv.resume()
		moveUntil := time.Now().Add(time.Duration(800+rng.IntN(1500)) * time.Millisecond)
		for time.Now().Before(moveUntil) {
			f := lossless[rng.IntN(len(lossless))]
			f.do()
			injected = append(injected, f.name)
			faults++
			time.Sleep(time.Duration(100+rng.IntN(400)) * time.Millisecond)
		}
		nsEmu.SetFaults(vendorsim.NetSapiensFaults{})
		drv.pause()
		if diff := converge(base, apiToken, sims, 15*time.Second); diff != nil {
			t.Fatalf("round %d: the board does not match the simulation after %v:\n%s", rounds, injected, strings.Join(diff, "\n"))
		}
		// The floor is still: break something that loses what is in flight.
		f := lossy[rng.IntN(len(lossy))]
		injected = append(injected, f.name)
		faults++
		if f.do == nil {
			wb.stop(t)
			restarts++
			if restarts == 1 {
				firstStopHeap = heapInUse()
			}
			wb = startSoakWallboard(t, &cfg, addr)
			stalled.Close()
			stalled = stalledSubscriber(t, addr, "/tv/"+kioskToken+"/events")
		} else {
			f.do()
			time.Sleep(100 * time.Millisecond)
		}
		if err := allLive(base, apiToken, 20*time.Second); err != nil {
			t.Fatalf("round %d after %s: %v", rounds, f.name, err)
		}
		if diff := converge(base, apiToken, sims, 15*time.Second); diff != nil {
			t.Fatalf("round %d: the board does not match the simulation after %s:\n%s", rounds, f.name, strings.Join(diff, "\n"))
		}
	}

	// The stalled screen was cut or timed out, and did not hold anyone up.
	resp, err := apiClient.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metricsBody, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	num := func(name string) string {
		m := regexp.MustCompile(`(?m)^` + name + ` (\S+)$`).FindSubmatch(metricsBody)
		if m == nil {
			return "?"
		}
		return string(m[1])
	}
	stalled.Close()
	wb.stop(t)
	if restarts == 0 {
		firstStopHeap = heapInUse()
	}

	// Allowance per run of serve: the sources' HTTP clients keep idle
	// keep-alive connections to the emulators (two goroutines each, closed
	// by their idle timeout, 90s) and the session store starts a cleanup
	// goroutine (scs memstore) that nothing stops. Both are bounded in a
	// process that serves once; a leak per event or per screen is not.
	allow := 7 * (restarts + 1)
	g := settleGoroutines(baseGoroutines+allow, 10*time.Second)
	endHeap := heapInUse()
	t.Logf("%d rounds, %d restarts, %d faults; stalled screen: cut %s, timed out %s; goroutines %d → %d; heap in use %.1f MB at start, %.1f MB after the first stop, %.1f MB at the end",
		rounds, restarts, faults, num("wallboard_subscribers_cut_total"), num("wallboard_subscribers_timed_out_total"),
		baseGoroutines, g, float64(baseHeap)/1e6, float64(firstStopHeap)/1e6, float64(endHeap)/1e6)
	if g > baseGoroutines+allow {
		buf := make([]byte, 1<<20)
		n := runtime.Stack(buf, true)
		t.Errorf("goroutines: %d at the start, %d after the last stop (leak):\n%s", baseGoroutines, g, buf[:n])
	}
	// The emulators keep every event they sent (their logs grow with the
	// floor), so the heap is compared with a margin for them.
	if endHeap > firstStopHeap+16<<20 {
		t.Errorf("heap in use grew from %d to %d bytes between the first and the last stop", firstStopHeap, endHeap)
	}
}
