//go:build linux

package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wallboard/wallboard/internal/vendorsim"
)

// killed is a wallboard binary running as a child process.
type killed struct {
	cmd  *exec.Cmd
	url  string
	logs *syncBuffer
}

func startBinary(t *testing.T, bin, cfgPath string, env []string) *killed {
	t.Helper()
	return startBinaryOn(t, bin, cfgPath, env, "127.0.0.1:0")
}

// startBinaryOn starts the binary listening on listen (a fixed address
// keeps a webhook's URL the same across restarts).
func startBinaryOn(t *testing.T, bin, cfgPath string, env []string, listen string) *killed {
	t.Helper()
	k := &killed{logs: &syncBuffer{}}
	k.cmd = exec.Command(bin, "serve", "--config", cfgPath, "--listen", listen)
	k.cmd.Env = append(os.Environ(), env...)
	stderr, err := k.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := k.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k.cmd.Process.Kill(); _ = k.cmd.Wait() })
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		re := regexp.MustCompile(`msg="wallboard listening" url=(http://\S+)`)
		for sc.Scan() {
			k.logs.Write([]byte(sc.Text() + "\n"))
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				urls <- m[1]
			}
		}
	}()
	select {
	case k.url = <-urls:
	case <-time.After(20 * time.Second):
		t.Fatalf("the binary did not start:\n%s", k.logs)
	}
	return k
}

// TestKill9 runs the built binary against 8x8 emulators (whose vendors
// replay what a subscriber missed), kills it with SIGKILL in the middle of
// the day, lets the day go on while it is down, starts it again and checks
// today's figures and the agents against the ground truth: the snapshot
// brings back what happened before the crash, the vendors' replay what
// happened while it was down, and nothing is counted twice.
func TestKill9(t *testing.T) {
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

	sapiSim := vendorsim.NewSim(vendorsim.Options{Agents: 12, Queues: 2, Seed: 21, Pace: 3})
	pulsarSim := vendorsim.NewSim(vendorsim.Options{Agents: 12, Queues: 2, Seed: 22, Pace: 3})
	const sapiToken = "kill-sapi-token-0123456789"
	sapiEmu, err := vendorsim.NewSAPIServer(sapiSim, vendorsim.SAPIOptions{Token: sapiToken, Heartbeat: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer sapiEmu.Close()
	pulsarEmu, err := vendorsim.NewPulsarServer(pulsarSim, vendorsim.PulsarOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer pulsarEmu.Close()
	drv := newDriver(sapiSim, pulsarSim)
	defer drv.close()
	sims := map[string]*vendorsim.Sim{"uk-sapi": sapiSim, "uk-events": pulsarSim}

	labels := vendorsim.EightByEightReasonLabels()
	lb, _ := json.Marshal(labels)
	stateDir := filepath.Join(dir, "state")
	cfgPath := filepath.Join(dir, "wallboard.yaml")
	cfg := fmt.Sprintf(`state_dir: %q
timezone: UTC
flush_interval: 50ms
snapshot_interval: 200ms
log_format: text
api_tokens: [{name: test, token: "${KILL_API_TOKEN}"}]
sources:
  - {name: uk-sapi, type: 8x8-sapi, url: %q, tenant: acme, subscription_id: wallboard-kill, token: "${KILL_SAPI_TOKEN}",
     backoff_min: 50ms, backoff_max: 500ms, reason_labels: %s}
  - {name: uk-events, type: 8x8-stream, url: %q, tenant: acme, api_key: "${KILL_EVENTS_KEY}", initial_position: earliest,
     backoff_min: 50ms, backoff_max: 500ms, reason_labels: %s}
boards: [{id: floor, title: Floor}]
`, stateDir, sapiEmu.URL(), lb, pulsarEmu.URL(), lb)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"KILL_API_TOKEN=" + apiToken, "KILL_SAPI_TOKEN=" + sapiToken, "KILL_EVENTS_KEY=" + pulsarEmu.APIKey()}

	first := startBinary(t, bin, cfgPath, env)
	if err := allLive(first.url, apiToken, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	// Mid-day: calls come, wait, are answered and abandoned.
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
		for deadline := time.Now().Add(30 * time.Second); truthOffered() < offered; time.Sleep(50 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("the simulation offered only %d calls in 30s", truthOffered())
			}
		}
	}
	runUntil(8)
	if diff := converge(first.url, apiToken, sims, 15*time.Second); diff != nil {
		t.Fatalf("before the kill: %s", strings.Join(diff, "\n"))
	}
	before, _ := fetchState(first.url, apiToken)
	// Wait for a snapshot that holds what the board shows now.
	want := map[string][3]int{}
	for _, q := range before.Queues {
		want[q.Source+"/"+q.ID] = [3]int{q.Offered, q.Answered, q.Abandoned}
	}
	snap := filepath.Join(stateDir, snapshotKey)
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var got struct {
			Queues []struct {
				Source, ID                   string
				Offered, Answered, Abandoned int
			}
		}
		got.Queues = nil
		got2 := map[string][3]int{}
		if b, err := os.ReadFile(snap); err == nil && json.Unmarshal(b, &got) == nil {
			for _, q := range got.Queues {
				got2[q.Source+"/"+q.ID] = [3]int{q.Offered, q.Answered, q.Abandoned}
			}
			if fmt.Sprint(got2) == fmt.Sprint(want) {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no snapshot with the board's figures %v (last %v)", want, got2)
		}
	}
	if err := first.cmd.Process.Kill(); err != nil { // SIGKILL: nothing runs on the way out
		t.Fatal(err)
	}
	_ = first.cmd.Wait()

	// The day goes on while wallboard is down.
	runUntil(truthOffered() + 4)

	second := startBinary(t, bin, cfgPath, env)
	if diff := converge(second.url, apiToken, sims, 20*time.Second); diff != nil {
		t.Fatalf("after kill -9 and restart the board does not match the simulation:\n%s\nlog:\n%s", strings.Join(diff, "\n"), second.logs)
	}
	if !strings.Contains(second.logs.String(), `msg="snapshot restored"`) || !strings.Contains(second.logs.String(), "counters=true") {
		t.Errorf("the restart did not restore today's snapshot:\n%s", second.logs)
	}
	after, _ := fetchState(second.url, apiToken)
	offered := func(st apiState) (n int) {
		for _, q := range st.Queues {
			n += q.Offered
		}
		return n
	}
	t.Logf("offered before the kill %d, after the restart %d (truth matched)", offered(before), offered(after))
	if offered(before) == 0 || offered(after) <= offered(before) {
		t.Errorf("the test proves little: offered %d before the kill, %d after", offered(before), offered(after))
	}
}
