//go:build linux

package main

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wallboard/wallboard/internal/event"
	"github.com/wallboard/wallboard/internal/source/axp"
	"github.com/wallboard/wallboard/internal/source/netsapiens"
	"github.com/wallboard/wallboard/internal/vendorsim"
)

// TestKill9EveryVendor runs the built binary with the default snapshot and
// flush intervals against every vendor's emulator, kills it with SIGKILL a
// few flush ticks after a burst of calls, once before the first snapshot
// was written and once with a snapshot a few seconds old, and checks that
// within 10 s of the restart every board equals the ground truth: the
// journal brings back what was applied after the snapshot, and nothing is
// counted twice. While it is down, the floors of the vendors that keep what
// a subscriber missed (8x8 SAPI's subscription, the Pulsar reader's cursor)
// go on, and NetSapiens and Avaya agents log in and out (read back after
// the restart from the call queues' agent lists and from the Avaya
// Analytics agent snapshot). The 8x8 sources read the agent status API at
// each start, beside the vendors' replay of what they missed (which is
// older than the listing and must not undo it); TestKill9Resync8x8 covers
// a down time longer than the 8x8 vendors keep anything.
func TestKill9EveryVendor(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	t.Parallel()
	dir := t.TempDir()
	bin := filepath.Join(dir, "wallboard")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	tests := []struct {
		name          string
		afterSnapshot bool // kill once a snapshot was written, else before the first
		seed          int64
	}{
		{name: "before the first snapshot", seed: 40},
		{name: "after a burst, snapshot a few seconds old", afterSnapshot: true, seed: 50},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// On a loaded machine the start can take longer than the
			// first snapshot interval: such a run proves nothing about
			// the journal alone, so it is run again.
			for attempt := range 3 {
				if killEveryVendor(t, bin, tt.afterSnapshot, tt.seed+int64(attempt)*10) {
					return
				}
			}
			t.Fatal("three runs wrote a snapshot before the kill: the machine is too slow for this case")
		})
	}
}

// killEveryVendor runs one case; it returns false when a snapshot was
// written before a kill that should come before the first snapshot.
func killEveryVendor(t *testing.T, bin string, afterSnapshot bool, seed int64) bool {
	dir := t.TempDir()
	mk := func(s int64) *vendorsim.Sim {
		return vendorsim.NewSim(vendorsim.Options{Agents: 10, Queues: 2, Seed: s, Pace: 3})
	}
	sapiSim, pulsarSim, axpSim, nsSim := mk(seed+1), mk(seed+2), mk(seed+3), mk(seed+4)
	const sapiToken = "kill-sapi-token-0123456789"
	// As 8x8 documents SAPI: a new subscription gets no prelude; the
	// agents come from the agent status API.
	sapiEmu, err := vendorsim.NewSAPIServer(sapiSim, vendorsim.SAPIOptions{Token: sapiToken, Heartbeat: time.Second, NoPrelude: true})
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

	// A fixed address: NetSapiens posts to the same URL after the restart.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	labels, _ := json.Marshal(vendorsim.EightByEightReasonLabels())
	axpSrc := axpEmu.SourceConfig("axp-floor", axp.TypeEngagement)
	axpOpt := axpSrc.Options.(*axp.Options)
	codes, _ := json.Marshal(axpOpt.ReasonCodes)
	ns := nsEmu.SourceConfig("ns", "http://"+addr)
	nsOpt := ns.Options.(*netsapiens.Options)
	models, _ := json.Marshal(nsOpt.Models)
	stateDir := filepath.Join(dir, "state")
	cfgPath := filepath.Join(dir, "wallboard.yaml")
	// Default flush and snapshot intervals.
	cfg := fmt.Sprintf(`state_dir: %q
timezone: UTC
log_format: text
api_tokens: [{name: test, token: "${KILL_API_TOKEN}"}]
sources:
  - {name: uk-sapi, type: 8x8-sapi, url: %q, tenant: acme, subscription_id: wallboard-kill, token: "${KILL_SAPI_TOKEN}",
     agent_status_url: %q, agent_status_token: "${KILL_STATUS_TOKEN}", backoff_min: 50ms, backoff_max: 500ms, reason_labels: %s}
  - {name: uk-events, type: 8x8-stream, url: %q, tenant: acme, api_key: "${KILL_EVENTS_KEY}", initial_position: earliest,
     agent_status_url: %q, agent_status_token: "${KILL_STATUS_TOKEN}", backoff_min: 50ms, backoff_max: 500ms, reason_labels: %s}
  - {name: axp-floor, type: avaya-engagement, url: %q, account_id: %q, client_id: %q, client_secret: "${KILL_AXP_SECRET}",
     app_key: "${KILL_AXP_APPKEY}", reason_codes: %s, backoff_min: 50ms, backoff_max: 500ms}
  - {name: axp-stats, type: avaya-analytics, url: %q, account_id: %q, client_id: %q, client_secret: "${KILL_AXP_SECRET}",
     app_key: "${KILL_AXP_APPKEY}", measure_producers: [Agent_itd_1.0.0], attach_to: axp-floor, backoff_min: 50ms, backoff_max: 500ms}
  - {name: ns, type: netsapiens, url: %q, api_key: "${KILL_NS_KEY}", domain: %q, models: %s, public_url: %q,
     status_interval: 2s, backoff_min: 50ms, backoff_max: 500ms}
boards: [{id: floor, title: Floor}]
`, stateDir, sapiEmu.URL(), sapiEmu.URL(), labels, pulsarEmu.URL(), pulsarEmu.StatusURL(), labels, axpSrc.URL, axpOpt.AccountID, axpOpt.ClientID, codes,
		axpSrc.URL, axpOpt.AccountID, axpOpt.ClientID, ns.URL, nsOpt.Domain, models, "http://"+addr)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"KILL_API_TOKEN=" + apiToken, "KILL_SAPI_TOKEN=" + sapiToken, "KILL_EVENTS_KEY=" + pulsarEmu.APIKey(),
		"KILL_STATUS_TOKEN=" + sapiEmu.StatusToken(),
		"KILL_AXP_SECRET=" + axpOpt.ClientSecret.Reveal(), "KILL_AXP_APPKEY=" + axpOpt.AppKey.Reveal(), "KILL_NS_KEY=" + nsOpt.APIKey.Reveal()}

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
	snap := filepath.Join(stateDir, snapshotKey)

	first := startBinaryOn(t, bin, cfgPath, env, addr)
	started := time.Now()
	if err := allLive(first.url, apiToken, 20*time.Second); err != nil {
		t.Fatalf("%v\n%s", err, first.logs)
	}
	if afterSnapshot {
		runUntil(truthOffered() + 8)
		for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			if _, err := os.Stat(snap); err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("no snapshot written")
			}
		}
	}
	// The burst, then the kill a few flush ticks after the board shows it.
	runUntil(truthOffered() + 12)
	if diff := converge(first.url, apiToken, sims, 15*time.Second); diff != nil {
		t.Fatalf("before the kill: %s", strings.Join(diff, "\n"))
	}
	before, _ := fetchState(first.url, apiToken)
	time.Sleep(300 * time.Millisecond)
	if err := first.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = first.cmd.Wait()
	if _, err := os.Stat(snap); !afterSnapshot && err == nil {
		t.Logf("a snapshot was written before the kill, %s after the start: running again", time.Since(started))
		return false
	}

	// The day goes on while wallboard is down, where the vendor keeps
	// what a subscriber missed.
	down := newDriver(sapiSim, pulsarSim)
	down.resume()
	time.Sleep(time.Second)
	down.pause()
	down.close()
	// NetSapiens and Avaya Agent & Engagement send agents' changes once and
	// do not replay them: the restart reads NetSapiens' call queues'
	// agents and Avaya Analytics' agent snapshot (resync). Agents not on a
	// call log in or out while wallboard is down.
	for name, sim := range map[string]*vendorsim.Sim{"NetSapiens": nsSim, "Avaya": axpSim} {
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

	second := startBinaryOn(t, bin, cfgPath, env, addr)
	restarted := time.Now()
	if diff := converge(second.url, apiToken, sims, 10*time.Second); diff != nil {
		t.Fatalf("10 s after kill -9 and restart the board does not match the simulation:\n%s\nlog:\n%s",
			strings.Join(diff, "\n"), second.logs)
	}
	if !strings.Contains(second.logs.String(), `msg="journal replayed"`) {
		t.Errorf("the restart did not replay the journal:\n%s", second.logs)
	}
	after, _ := fetchState(second.url, apiToken)
	offered := func(st apiState) (n int) {
		for _, q := range st.Queues {
			n += q.Offered
		}
		return n
	}
	t.Logf("offered before the kill %d, after the restart %d; board equal to the truth %s after the restart",
		offered(before), offered(after), time.Since(restarted).Round(100*time.Millisecond))
	if offered(before) == 0 {
		t.Error("the test proves little: nothing offered before the kill")
	}
	return true
}
