//go:build linux

package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wallboard/wallboard/internal/cluster/clustertest"
	"github.com/wallboard/wallboard/internal/database/dbtest"
	"github.com/wallboard/wallboard/internal/source/netsapiens"
	"github.com/wallboard/wallboard/internal/vendorsim"
)

type clusterState struct {
	Node   string `json:"node"`
	Leader string `json:"leader"`
	Nodes  []struct {
		Name    string `json:"name"`
		Leader  bool   `json:"leader"`
		Applied uint64 `json:"applied"`
	} `json:"nodes"`
}

func fetchCluster(base, token string) (clusterState, error) {
	var st clusterState
	req, _ := http.NewRequest("GET", base+"/api/v1/cluster", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return st, fmt.Errorf("GET /api/v1/cluster: %s", resp.Status)
	}
	return st, json.NewDecoder(resp.Body).Decode(&st)
}

// TestReplicasSurviveKillingTheLeader runs three built binaries as
// replicas sharing an embedded NATS server and a throwaway PostgreSQL,
// fed by 8x8 emulators (a SAPI stream and a Pulsar reader) and NetSapiens
// (whose webhooks reach a replica that does not lead and are relayed to
// the leader), kills the leader with SIGKILL mid-day, and checks that
// another replica leads within 10 s and that every replica's board equals
// the simulation's ground truth: nothing lost, nothing counted twice. The
// killed replica then starts again from its snapshot and the stream, and
// matches too.
func TestReplicasSurviveKillingTheLeader(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	t.Parallel()
	dir := t.TempDir()
	bin := filepath.Join(dir, "wallboard")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	natsURL := clustertest.NATS(t)
	pg := dbtest.PostgresURL(t)

	sapiSim := vendorsim.NewSim(vendorsim.Options{Agents: 12, Queues: 2, Seed: 31, Pace: 3})
	pulsarSim := vendorsim.NewSim(vendorsim.Options{Agents: 12, Queues: 2, Seed: 32, Pace: 3})
	const sapiToken = "cluster-sapi-token-0123456789"
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
	nsSim := vendorsim.NewSim(vendorsim.Options{Agents: 10, Queues: 2, Seed: 33, Pace: 3})
	nsEmu, err := vendorsim.StartNetSapiens(nsSim, vendorsim.NetSapiensOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer nsEmu.Close()
	// The 8x8 vendors go on while there is no leader (they replay what a
	// subscriber missed); NetSapiens posts only while one leads (it posts
	// once, and a post refused during a failover is not posted again).
	drv := newDriver(sapiSim, pulsarSim)
	defer drv.close()
	nsDrv := newDriver(nsSim)
	defer nsDrv.close()
	sims := map[string]*vendorsim.Sim{"uk-sapi": sapiSim, "uk-events": pulsarSim, "ns": nsSim}

	// NetSapiens posts to wb3, on a fixed address; wb1 leads first, so
	// wb3 relays the posts to it.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	wb3Addr := ln.Addr().String()
	ln.Close()
	ns := nsEmu.SourceConfig("ns", "http://"+wb3Addr)
	nsOpt := ns.Options.(*netsapiens.Options)
	models, _ := json.Marshal(nsOpt.Models)

	lb, _ := json.Marshal(vendorsim.EightByEightReasonLabels())
	cfgPath := filepath.Join(dir, "wallboard.yaml")
	cfg := fmt.Sprintf(`state_dir: "${WB_STATE}"
timezone: UTC
flush_interval: 50ms
snapshot_interval: 200ms
log_format: text
database: %q
cluster:
  node: "${WB_NODE}"
  nats: [%q]
api_tokens: [{name: test, token: "${CLUSTER_API_TOKEN}"}]
sources:
  - {name: uk-sapi, type: 8x8-sapi, url: %q, tenant: acme, subscription_id: wallboard-cluster, token: "${CLUSTER_SAPI_TOKEN}",
     backoff_min: 50ms, backoff_max: 500ms, reason_labels: %s}
  - {name: uk-events, type: 8x8-stream, url: %q, tenant: acme, api_key: "${CLUSTER_EVENTS_KEY}", initial_position: earliest,
     backoff_min: 50ms, backoff_max: 500ms, reason_labels: %s}
  - {name: ns, type: netsapiens, url: %q, api_key: "${CLUSTER_NS_KEY}", domain: %q, models: %s, public_url: %q,
     status_interval: 2s, backoff_min: 50ms, backoff_max: 500ms}
boards: [{id: floor, title: Floor}]
`, pg, natsURL, sapiEmu.URL(), lb, pulsarEmu.URL(), lb, ns.URL, nsOpt.Domain, models, "http://"+wb3Addr)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	env := func(node string) []string {
		return []string{"WB_NODE=" + node, "WB_STATE=" + filepath.Join(dir, node), "CLUSTER_API_TOKEN=" + apiToken,
			"CLUSTER_SAPI_TOKEN=" + sapiToken, "CLUSTER_EVENTS_KEY=" + pulsarEmu.APIKey(), "CLUSTER_NS_KEY=" + nsOpt.APIKey.Reveal()}
	}
	start := func(n string) *killed {
		if n == "wb3" {
			return startBinaryOn(t, bin, cfgPath, env(n), wb3Addr)
		}
		return startBinary(t, bin, cfgPath, env(n))
	}
	names := []string{"wb1", "wb2", "wb3"}
	leaderName := func(base string) string {
		st, err := fetchCluster(base, apiToken)
		if err != nil {
			return ""
		}
		return st.Leader
	}
	procs := map[string]*killed{"wb1": start("wb1")}
	waitUntil(t, 20*time.Second, "wb1 to lead", func() bool { return leaderName(procs["wb1"].url) == "wb1" })
	procs["wb2"], procs["wb3"] = start("wb2"), start("wb3")
	var leader string
	waitUntil(t, 20*time.Second, "a leader all agree on", func() bool {
		leader = leaderName(procs["wb1"].url)
		return leader != "" && leaderName(procs["wb2"].url) == leader && leaderName(procs["wb3"].url) == leader
	})
	for _, n := range names {
		if err := allLive(procs[n].url, apiToken, 20*time.Second); err != nil {
			t.Fatalf("%s: %v\n%s", n, err, procs[n].logs)
		}
	}

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
		nsDrv.resume()
		defer drv.pause()
		defer nsDrv.pause()
		// Until NetSapiens has offered one call too: its posts go through the
		// relay of a replica that does not lead.
		for deadline := time.Now().Add(30 * time.Second); truthOffered() < offered || nsOffered(nsSim) == 0; time.Sleep(50 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("the simulation offered only %d calls in 30s", truthOffered())
			}
		}
	}
	runUntil(12)
	if nsOffered(nsSim) == 0 {
		t.Fatal("NetSapiens offered nothing: the relay is not tested")
	}
	for _, n := range names {
		if diff := converge(procs[n].url, apiToken, sims, 15*time.Second); diff != nil {
			t.Fatalf("%s before the kill: %s\n%s", n, strings.Join(diff, "\n"), procs[n].logs)
		}
	}

	// A post with a forged subscription id, to the replica that does not
	// lead: relayed, and refused by the leader's source.
	forged, _ := http.NewRequest("POST", procs["wb3"].url+"/hooks/netsapiens/ns", strings.NewReader(`[{"callid":"x"}]`))
	forged.Header.Set("X-Correlation-ID", "forged-subscription-id")
	forged.Header.Set("Content-Type", "application/json")
	if resp, err := http.DefaultClient.Do(forged); err != nil {
		t.Fatal(err)
	} else {
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("a forged post to a follower: %s, want 401", resp.Status)
		}
	}

	// Kill the leader mid-day; the day goes on.
	killedAt := time.Now()
	if err := procs[leader].cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = procs[leader].cmd.Wait()
	drv.resume()
	var survivors []string
	for _, n := range names {
		if n != leader {
			survivors = append(survivors, n)
		}
	}
	var next string
	waitUntil(t, 10*time.Second, "another replica to lead within 10s of the kill", func() bool {
		next = leaderName(procs[survivors[0]].url)
		return next != "" && next != leader && leaderName(procs[survivors[1]].url) == next
	})
	took := time.Since(killedAt)
	runUntil(truthOffered() + 6)
	nsBefore := nsOffered(nsSim)
	for deadline := time.Now().Add(30 * time.Second); nsOffered(nsSim) < nsBefore+2; time.Sleep(50 * time.Millisecond) {
		runUntil(truthOffered() + 1)
		if time.Now().After(deadline) {
			t.Fatal("NetSapiens offered nothing after the failover")
		}
	}
	for _, n := range survivors {
		if diff := converge(procs[n].url, apiToken, sims, 20*time.Second); diff != nil {
			t.Fatalf("%s after the leader's kill does not match the simulation:\n%s\nlog:\n%s", n, strings.Join(diff, "\n"), procs[n].logs)
		}
	}
	t.Logf("killed %s; %s led %s later; both survivors equal the ground truth", leader, next, took.Round(time.Millisecond))

	// The killed replica starts again: its snapshot, then the stream.
	procs[leader] = start(leader)
	runUntil(truthOffered() + 2)
	for _, n := range names {
		if diff := converge(procs[n].url, apiToken, sims, 20*time.Second); diff != nil {
			t.Fatalf("%s after the restart does not match the simulation:\n%s\nlog:\n%s", n, strings.Join(diff, "\n"), procs[n].logs)
		}
	}
	st, err := fetchCluster(procs[leader].url, apiToken)
	if err != nil || st.Leader != next || len(st.Nodes) != 3 {
		t.Errorf("the restarted replica's view: %+v, %v", st, err)
	}

	// A rolling restart with SIGTERM, the leader last: a stopping leader
	// gives its lease up, so another leads at once, not after lease_ttl.
	order := []string{}
	for _, n := range names {
		if n != next {
			order = append(order, n)
		}
	}
	order = append(order, next)
	for _, n := range order {
		stoppedAt := time.Now()
		if err := procs[n].cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		if err := procs[n].cmd.Wait(); err != nil {
			t.Fatalf("%s did not stop cleanly: %v\n%s", n, err, procs[n].logs)
		}
		if n == next {
			var other string
			for _, o := range names {
				if o != n {
					other = o
				}
			}
			waitUntil(t, 3*time.Second, "a new leader within 3s of the leader's SIGTERM", func() bool {
				l := leaderName(procs[other].url)
				return l != "" && l != n
			})
			t.Logf("the leader %s stopped; another led %s later", n, time.Since(stoppedAt).Round(time.Millisecond))
		}
		procs[n] = start(n)
		waitUntil(t, 20*time.Second, n+" ready again", func() bool {
			resp, err := http.Get(procs[n].url + "/readyz")
			if err != nil {
				return false
			}
			resp.Body.Close()
			return resp.StatusCode == 200
		})
	}
	runUntil(truthOffered() + 2)
	for _, n := range names {
		if diff := converge(procs[n].url, apiToken, sims, 20*time.Second); diff != nil {
			t.Fatalf("%s after the rolling restart does not match the simulation:\n%s\nlog:\n%s", n, strings.Join(diff, "\n"), procs[n].logs)
		}
	}
}

// nsOffered counts what the NetSapiens simulation offered.
func nsOffered(sim *vendorsim.Sim) (n int) {
	for _, q := range sim.Truth().Queues {
		n += q.Offered
	}
	return n
}

// waitUntil polls cond every 50 ms until it holds or d passes.
func waitUntil(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
