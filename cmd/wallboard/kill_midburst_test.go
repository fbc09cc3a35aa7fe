//go:build linux

package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wallboard/wallboard/internal/vendorsim"
)

// TestKill9MidBurst kills the built binary with SIGKILL in the middle of a
// burst, while events stream in, at the default intervals, with an 8x8
// Event Streaming reader and a consumer on one topic. Pulsar keeps every
// message, and wallboard never lets a cursor or an acknowledgement run
// ahead of its journal, so after the restart both boards must equal the
// ground truth exactly: nothing missed, nothing counted twice.
func TestKill9MidBurst(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	t.Parallel()
	dir := t.TempDir()
	bin := filepath.Join(dir, "wallboard")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	sim := vendorsim.NewSim(vendorsim.Options{Agents: 12, Queues: 2, Seed: 70, Pace: 5})
	emu, err := vendorsim.NewPulsarServer(sim, vendorsim.PulsarOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer emu.Close()
	drv := newDriver(sim)
	defer drv.close()
	sims := map[string]*vendorsim.Sim{"ev-reader": sim, "ev-consumer": sim}

	labels, _ := json.Marshal(vendorsim.EightByEightReasonLabels())
	stateDir := filepath.Join(dir, "state")
	cfgPath := filepath.Join(dir, "wallboard.yaml")
	cfg := fmt.Sprintf(`state_dir: %q
timezone: UTC
log_format: text
api_tokens: [{name: test, token: "${KILL_API_TOKEN}"}]
sources:
  - {name: ev-reader, type: 8x8-stream, url: %q, tenant: acme, api_key: "${KILL_EVENTS_KEY}", initial_position: earliest,
     backoff_min: 50ms, backoff_max: 500ms, reason_labels: %s}
  - {name: ev-consumer, type: 8x8-stream, mode: consumer, subscription: wallboard, url: %q, tenant: acme,
     api_key: "${KILL_EVENTS_KEY}", initial_position: earliest, backoff_min: 50ms, backoff_max: 500ms, reason_labels: %s}
boards: [{id: floor, title: Floor}]
`, stateDir, emu.URL(), labels, emu.URL(), labels)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"KILL_API_TOKEN=" + apiToken, "KILL_EVENTS_KEY=" + emu.APIKey()}

	first := startBinary(t, bin, cfgPath, env)
	if err := allLive(first.url, apiToken, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	// Kill while the floor moves, before the first snapshot, a few
	// milliseconds after new messages were published: their events are in
	// wallboard's memory and most likely not yet in a group commit.
	drv.resume()
	time.Sleep(1500 * time.Millisecond)
	logged := func() int { ids, _ := emu.Logged(); return len(ids) }
	n := logged()
	for deadline := time.Now().Add(5 * time.Second); logged() == n; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no messages published")
		}
	}
	time.Sleep(20 * time.Millisecond)
	if err := first.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = first.cmd.Wait()
	time.Sleep(time.Second) // the floor goes on while wallboard is down
	drv.pause()
	offered := 0
	for _, q := range sim.Truth().Queues {
		offered += q.Offered
	}
	if offered == 0 {
		t.Fatal("nothing offered: the test proves nothing")
	}

	second := startBinary(t, bin, cfgPath, env)
	if diff := converge(second.url, apiToken, sims, 10*time.Second); diff != nil {
		t.Fatalf("10 s after a kill -9 mid-burst the boards do not match the simulation:\n%s\nlog:\n%s",
			strings.Join(diff, "\n"), second.logs)
	}
	t.Logf("%d calls offered; both boards equal to the truth after the restart", offered)
}
