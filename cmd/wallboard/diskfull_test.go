//go:build linux

package main

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wallboard/wallboard/internal/config"
	"github.com/wallboard/wallboard/internal/source/pulsar"
	"github.com/wallboard/wallboard/internal/vendorsim"
)

// TestDiskFull puts the state directory on a tiny tmpfs (a real file
// system that answers ENOSPC; the test needs root and is skipped where it
// cannot mount one), fills it while a Pulsar consumer feeds wallboard, and
// checks: nothing is acknowledged upstream that is not written, /readyz
// answers 503 with the journal's reason, /admin shows it; once space is
// back, the waiting records are written and acknowledged and /readyz is 200.
func TestDiskFull(t *testing.T) {
	if testing.Short() {
		t.Skip("mounts a file system")
	}
	stateDir := filepath.Join(t.TempDir(), "state")
	if err := os.MkdirAll(stateDir, 0o750); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", stateDir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs (needs root): %v %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", "-l", stateDir).Run() })

	sim := vendorsim.NewSim(vendorsim.Options{Agents: 10, Queues: 2, Seed: 60, Pace: 4})
	emu, err := vendorsim.NewPulsarServer(sim, vendorsim.PulsarOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer emu.Close()
	drv := newDriver(sim)
	defer drv.close()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cfg := config.Default()
	cfg.Listen = addr
	cfg.StateDir = stateDir
	cfg.Timezone = "UTC"
	cfg.LogLevel = "info"
	cfg.APITokens = []config.APIToken{{Name: "t", Token: apiToken}}
	src := emu.SourceConfig("uk-events")
	po := src.Options.(*pulsar.Options)
	po.Mode, po.Subscription, po.SubscriptionType, po.InitialPosition = "consumer", "wallboard", "Failover", "earliest"
	src.BackoffMin, src.BackoffMax = config.Duration(50*time.Millisecond), config.Duration(500*time.Millisecond)
	cfg.Sources = []config.Source{src}
	cfg.Boards = []config.Board{{ID: "floor", Title: "Floor"}}
	if p := cfg.Validate(); len(p) > 0 {
		t.Fatal(p)
	}
	// Anonymous from loopback (as the demo): the test reads /admin.
	ln, err = net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	wb := &soakWallboard{cancel: cancel, done: make(chan error, 1), logs: &syncBuffer{}}
	ready := make(chan struct{})
	go func() {
		wb.done <- serve(ctx, &cfg, appOptions{stdout: io.Discard, stderr: wb.logs, listener: ln, anonymousLoopback: true,
			ready: func(string) { close(ready) }})
	}()
	<-ready
	defer wb.stop(t)
	base := "http://" + addr
	if err := allLive(base, apiToken, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	received := func() int64 {
		logged, _ := emu.Logged()
		return int64(len(logged))
	}
	waitUntil := func(what string, d time.Duration, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(d); !cond(); time.Sleep(50 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s\n%s", what, wb.logs)
			}
		}
	}
	drv.resume()
	waitUntil("acks", 10*time.Second, func() bool { return emu.Acks() > 20 })
	drv.pause()
	waitUntil("every message acknowledged", 10*time.Second, func() bool { return emu.Acks() == received() })

	// The disk fills up.
	filler := filepath.Join(stateDir, "filler")
	fill(t, filler)
	drv.resume()
	readyz := func() (int, string) {
		resp, err := http.Get(base + "/readyz")
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	waitUntil("/readyz 503 for the journal", 10*time.Second, func() bool {
		code, body := readyz()
		return code == http.StatusServiceUnavailable && strings.Contains(body, "no space left on device") && strings.Contains(body, "journal")
	})
	time.Sleep(300 * time.Millisecond) // acks of what was durable before have gone out
	acks := emu.Acks()
	logged := received()
	time.Sleep(1500 * time.Millisecond) // the floor goes on: messages arrive, none is written
	drv.pause()
	if received() <= logged {
		t.Fatal("no messages while the disk was full: the test proves nothing")
	}
	if got := emu.Acks(); got != acks {
		t.Errorf("acknowledged %d messages while nothing could be written", got-acks)
	}
	resp, err := http.Get(base + "/admin")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), `data-testid="admin-journal-problem"`) ||
		!strings.Contains(string(b), "no space left on device") {
		t.Errorf("/admin (HTTP %d) does not show the journal's problem:\n%s", resp.StatusCode, b)
	}

	if resp, err := http.Get(base + "/metrics"); err == nil {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(b), "\nwallboard_journal_failing 1\n") {
			t.Errorf("/metrics does not say the journal is failing")
		}
	} else {
		t.Error(err)
	}

	// Space again: what waited is written, then acknowledged.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	waitUntil("/readyz 200", 10*time.Second, func() bool { code, _ := readyz(); return code == http.StatusOK })
	waitUntil("every message acknowledged after the disk had space again", 10*time.Second,
		func() bool { return emu.Acks() == received() })
	if diff := converge(base, apiToken, map[string]*vendorsim.Sim{"uk-events": sim}, 10*time.Second); diff != nil {
		t.Errorf("board after the disk was full: %s", strings.Join(diff, "\n"))
	}
}

// fill writes name until the file system has no space left.
func fill(t *testing.T, name string) {
	t.Helper()
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 64<<10)
	for {
		if _, err := f.Write(chunk); err != nil {
			if errors.Is(err, syscall.ENOSPC) {
				break
			}
			t.Fatal(err)
		}
	}
	for _, n := range []int{4096, 512, 1} { // the last bytes too
		for {
			if _, err := f.Write(chunk[:n]); err != nil {
				break
			}
		}
	}
}
