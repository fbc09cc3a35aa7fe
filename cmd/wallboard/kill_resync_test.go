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

	"github.com/wallboard/wallboard/internal/event"
	"github.com/wallboard/wallboard/internal/vendorsim"
)

// TestKill9Resync8x8 runs the built binary against both 8x8 emulators as
// 8x8 documents them (a new SAPI subscription gets no prelude; the Event
// Streaming reader starts at "latest"), each with the agent status API,
// kills it with SIGKILL, and while it is down agents log in and out and
// the vendors forget what they kept for it (the SAPI subscription expires,
// the topic's retention drops the messages): a down time longer than
// either vendor's window. Within 10 s of the restart every agent must be
// right again, read from the agent status API, and today's figures equal
// the ground truth (the journal holds what was applied before the kill).
// The first start learns the agents from the API alone.
func TestKill9Resync8x8(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	t.Parallel()
	dir := t.TempDir()
	bin := filepath.Join(dir, "wallboard")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	sapiSim := vendorsim.NewSim(vendorsim.Options{Agents: 10, Queues: 2, Seed: 91, Pace: 3})
	pulsarSim := vendorsim.NewSim(vendorsim.Options{Agents: 10, Queues: 2, Seed: 92, Pace: 3})
	const sapiToken, statusToken = "resync-sapi-token-0123456789", "resync-status-token-0123456789"
	sapiEmu, err := vendorsim.NewSAPIServer(sapiSim, vendorsim.SAPIOptions{Token: sapiToken, StatusToken: statusToken,
		Heartbeat: 200 * time.Millisecond, NoPrelude: true})
	if err != nil {
		t.Fatal(err)
	}
	defer sapiEmu.Close()
	pulsarEmu, err := vendorsim.NewPulsarServer(pulsarSim, vendorsim.PulsarOptions{StatusToken: statusToken})
	if err != nil {
		t.Fatal(err)
	}
	defer pulsarEmu.Close()
	drv := newDriver(sapiSim, pulsarSim)
	defer drv.close()
	sims := map[string]*vendorsim.Sim{"uk-sapi": sapiSim, "uk-events": pulsarSim}

	labels, _ := json.Marshal(vendorsim.EightByEightReasonLabels())
	stateDir := filepath.Join(dir, "state")
	cfgPath := filepath.Join(dir, "wallboard.yaml")
	// Default flush and snapshot intervals; the reader's default start.
	cfg := fmt.Sprintf(`state_dir: %q
timezone: UTC
log_format: text
api_tokens: [{name: test, token: "${KILL_API_TOKEN}"}]
sources:
  - {name: uk-sapi, type: 8x8-sapi, url: %q, tenant: acme, subscription_id: wallboard-resync, token: "${KILL_SAPI_TOKEN}",
     agent_status_url: %q, agent_status_token: "${KILL_STATUS_TOKEN}", backoff_min: 50ms, backoff_max: 500ms, reason_labels: %s}
  - {name: uk-events, type: 8x8-stream, url: %q, tenant: acme, api_key: "${KILL_EVENTS_KEY}",
     agent_status_url: %q, agent_status_token: "${KILL_STATUS_TOKEN}", backoff_min: 50ms, backoff_max: 500ms, reason_labels: %s}
boards: [{id: floor, title: Floor}]
`, stateDir, sapiEmu.URL(), sapiEmu.URL(), labels, pulsarEmu.URL(), pulsarEmu.StatusURL(), labels)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"KILL_API_TOKEN=" + apiToken, "KILL_SAPI_TOKEN=" + sapiToken, "KILL_EVENTS_KEY=" + pulsarEmu.APIKey(),
		"KILL_STATUS_TOKEN=" + statusToken}

	truthOffered := func() (n int) {
		for _, sim := range sims {
			for _, q := range sim.Truth().Queues {
				n += q.Offered
			}
		}
		return n
	}
	runUntil := func(offered int) {
		drv.resume()
		defer drv.pause()
		for deadline := time.Now().Add(30 * time.Second); truthOffered() < offered; time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("the simulation offered only %d calls in 30s", truthOffered())
			}
		}
	}

	first := startBinary(t, bin, cfgPath, env)
	if err := allLive(first.url, apiToken, 20*time.Second); err != nil {
		t.Fatalf("%v\n%s", err, first.logs)
	}
	// Nothing has happened on the floors yet: the agents on the board come
	// from the agent status API alone.
	if diff := converge(first.url, apiToken, sims, 10*time.Second); diff != nil {
		t.Fatalf("after the first start: %s\nlog:\n%s", strings.Join(diff, "\n"), first.logs)
	}
	runUntil(truthOffered() + 12)
	if diff := converge(first.url, apiToken, sims, 15*time.Second); diff != nil {
		t.Fatalf("before the kill: %s", strings.Join(diff, "\n"))
	}
	time.Sleep(300 * time.Millisecond)
	if err := first.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = first.cmd.Wait()

	// While it is down, agents not on a call log in and out...
	for name, sim := range sims {
		changed := 0
		for id, a := range sim.Truth().Agents {
			if changed == 3 {
				break
			}
			switch a.State {
			case event.StateLoggedOut:
				sim.Do(vendorsim.Action{Kind: vendorsim.ActionAgentState, Agent: id, State: event.StateAvailable})
			case event.StateAvailable, event.StateNotReady:
				sim.Do(vendorsim.Action{Kind: vendorsim.ActionAgentState, Agent: id, State: event.StateLoggedOut})
			default:
				continue
			}
			changed++
		}
		if changed == 0 {
			t.Fatalf("no %s agent to change while wallboard is down", name)
		}
	}
	// ...and the vendors forget what they kept for wallboard.
	for deadline := time.Now().Add(10 * time.Second); !sapiEmu.Settled() || !pulsarEmu.Settled(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the emulators did not take the changes")
		}
	}
	for deadline := time.Now().Add(10 * time.Second); sapiEmu.Expire() == 0; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the SAPI subscription is still connected after the kill")
		}
	}
	pulsarEmu.Expire()
	reads := sapiEmu.StatusReads() + pulsarEmu.StatusReads()

	second := startBinary(t, bin, cfgPath, env)
	restarted := time.Now()
	if diff := converge(second.url, apiToken, sims, 10*time.Second); diff != nil {
		t.Fatalf("10 s after kill -9 and restart the board does not match the simulation:\n%s\nlog:\n%s",
			strings.Join(diff, "\n"), second.logs)
	}
	t.Logf("board equal to the truth %s after the restart", time.Since(restarted).Round(100*time.Millisecond))
	if got := sapiEmu.StatusReads() + pulsarEmu.StatusReads() - reads; got != 2 {
		t.Errorf("the restart read the agent status API %d times, want 2 (once per source)", got)
	}
	if n := strings.Count(second.logs.String(), `msg="resynced agents from the agent status API"`); n != 2 {
		t.Errorf("%d resyncs logged after the restart, want 2:\n%s", n, second.logs)
	}
	if !strings.Contains(second.logs.String(), `msg="journal replayed"`) {
		t.Errorf("the restart did not replay the journal:\n%s", second.logs)
	}
}
