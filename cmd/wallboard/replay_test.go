package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wallboard/wallboard/internal/capture"
	"github.com/wallboard/wallboard/internal/config"
	"github.com/wallboard/wallboard/internal/source/axp"
	"github.com/wallboard/wallboard/internal/source/sapi"
	"github.com/wallboard/wallboard/internal/vendorsim"
)

// TestCaptureReplayRoundTrip: for every vendor, the emulator's traffic is
// captured by the real source under serve; the floor moves; the live
// model settles; then the capture, replayed through the same decoders and
// translators, gives the same final model. The captures hold no secret.
func TestCaptureReplayRoundTrip(t *testing.T) {
	t.Parallel()
	type vendor struct {
		name  string
		start func(t *testing.T, sim *vendorsim.Sim, publicURL string) []config.Source
	}
	vendors := []vendor{
		{"8x8-sapi json", func(t *testing.T, sim *vendorsim.Sim, _ string) []config.Source {
			emu, err := vendorsim.NewSAPIServer(sim, vendorsim.SAPIOptions{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(emu.Close)
			return []config.Source{emu.SourceConfig("uk-sapi")}
		}},
		{"8x8-sapi xml", func(t *testing.T, sim *vendorsim.Sim, _ string) []config.Source {
			emu, err := vendorsim.NewSAPIServer(sim, vendorsim.SAPIOptions{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(emu.Close)
			sc := emu.SourceConfig("uk-sapi-xml")
			sc.Options.(*sapi.Options).Format = "xml"
			return []config.Source{sc}
		}},
		{"8x8-stream", func(t *testing.T, sim *vendorsim.Sim, _ string) []config.Source {
			emu, err := vendorsim.NewPulsarServer(sim, vendorsim.PulsarOptions{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(emu.Close)
			return []config.Source{emu.SourceConfig("uk-events")}
		}},
		{"avaya engagement and analytics", func(t *testing.T, sim *vendorsim.Sim, _ string) []config.Source {
			emu, err := vendorsim.StartAXP(sim, vendorsim.AXPOptions{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(emu.Close)
			stats := emu.SourceConfig("axp-stats", axp.TypeAnalytics)
			stats.Options.(*axp.Options).AttachTo = "axp-floor"
			return []config.Source{emu.SourceConfig("axp-floor", axp.TypeEngagement), stats}
		}},
		{"netsapiens", func(t *testing.T, sim *vendorsim.Sim, publicURL string) []config.Source {
			emu, err := vendorsim.StartNetSapiens(sim, vendorsim.NetSapiensOptions{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(emu.Close)
			return []config.Source{emu.SourceConfig("ns", publicURL)}
		}},
	}
	for _, v := range vendors {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			captures := filepath.Join(dir, "captures")
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			sim := vendorsim.NewSim(vendorsim.Options{Agents: 8, Queues: 2, Seed: 11, Pace: 1})
			srcs := v.start(t, sim, "http://"+ln.Addr().String())
			for i := range srcs {
				srcs[i].Capture, srcs[i].CapturePseudonymise = true, i == 0
			}
			cfg, token, err := replayConfig(srcs, filepath.Join(dir, "state"), ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			cfg.LogLevel = "warn"
			ctx, cancel := context.WithCancel(context.Background())
			ready := make(chan string, 1)
			served := make(chan error, 1)
			go func() {
				served <- serve(ctx, &cfg, appOptions{stdout: io.Discard, stderr: io.Discard, listener: ln, captureDir: captures,
					ready: func(url string) { ready <- url }})
			}()
			url := <-ready
			waitLive(t, url, token, len(srcs))
			start := time.Now()
			for i := 1; i <= 180; i++ { // three simulated minutes
				sim.Step(start.Add(time.Duration(i) * time.Second))
			}
			// The live run is over when the model shows the simulation's
			// truth: every agent's state and every queue's waiting count.
			truth := sim.Truth()
			var live modelSummary
			var miss []string
			for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
				live, err = settledSummary(ctx, url, token)
				if err != nil {
					t.Fatal(err)
				}
				if miss = truthMisses(live, truth, srcs[0].Name); len(miss) == 0 || time.Now().After(deadline) {
					break
				}
			}
			if len(miss) > 0 {
				t.Fatalf("the live run does not show the simulation:\n%s", strings.Join(miss, "\n"))
			}
			cancel()
			if err := <-served; err != nil {
				t.Fatalf("serve: %v", err)
			}
			offered := 0
			for _, q := range live.Queues {
				offered += q[1]
			}
			if len(live.Agents) == 0 || offered == 0 {
				t.Fatalf("the live run saw %d agents and %d offered contacts: nothing to compare", len(live.Agents), offered)
			}

			paths, err := capture.Files([]string{captures})
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range paths {
				checkNoSecret(t, p, srcs)
			}
			replayed, err := replayOnce(context.Background(), paths, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if d := diffSummary(live, replayed); len(d) > 0 {
				t.Errorf("the replay differs from the live run (%d agents, %d queues live):\n%s", len(live.Agents), len(live.Queues), strings.Join(d, "\n"))
			}
		})
	}
}

// waitLive waits until n sources are live.
func waitLive(t *testing.T, url, token string, n int) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if live, err := liveSources(url, token); err == nil && live == n {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("the sources did not all go live")
}

// checkNoSecret fails when a capture file holds a source's credential.
func checkNoSecret(t *testing.T, path string, srcs []config.Source) {
	t.Helper()
	var all strings.Builder
	if err := capture.Read(path, func(h capture.Header, f capture.Frame) error {
		all.WriteString(h.Options)
		all.Write(f.Bytes())
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, sc := range srcs {
		for _, s := range secretsOf(sc) {
			if s != "" && strings.Contains(all.String(), s.Reveal()) {
				t.Errorf("%s holds a secret of %s", filepath.Base(path), sc.Name)
			}
		}
	}
	if info, err := os.Stat(path); err != nil || info.Size() == 0 {
		t.Errorf("%s is empty", path)
	}
}

// truthMisses lists where the summary of source differs from truth.
func truthMisses(sum modelSummary, truth vendorsim.Truth, source string) []string {
	var out []string
	for id, a := range truth.Agents {
		want := string(a.State)
		if a.State == "not_ready" && a.Reason != "" {
			want += ": " + a.Reason
		}
		got, ok := sum.Agents[source+"/"+id]
		if !ok && a.State == "logged_out" {
			continue
		}
		if got != want {
			out = append(out, "agent "+id+": "+got+", want "+want)
		}
	}
	for id, q := range truth.Queues {
		if got := sum.Queues[source+"/"+id][0]; got != q.Waiting {
			out = append(out, "queue "+id+": waiting "+strconv.Itoa(got)+", want "+strconv.Itoa(q.Waiting))
		}
	}
	return out
}

// TestReplayFixtures replays every fixture under testdata/replay (made by
// `wallboard replay --fixture DIR FILE|DIR…`, see docs/troubleshooting.md)
// and compares the final model with the fixture's expected.json: what a
// vendor once sent keeps meaning the same.
func TestReplayFixtures(t *testing.T) {
	t.Parallel()
	dirs, _ := filepath.Glob(filepath.Join("testdata", "replay", "*"))
	if len(dirs) == 0 {
		t.Fatal("no fixture under testdata/replay")
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			t.Parallel()
			b, err := os.ReadFile(filepath.Join(dir, fixtureFile))
			if err != nil {
				t.Fatal(err)
			}
			var want modelSummary
			if err := json.Unmarshal(b, &want); err != nil {
				t.Fatalf("%s: %v", fixtureFile, err)
			}
			paths, err := capture.Files([]string{dir})
			if err != nil {
				t.Fatal(err)
			}
			got, err := replayOnce(context.Background(), paths, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if d := diffSummary(want, got); len(d) > 0 {
				t.Errorf("the replay differs from %s:\n%s", fixtureFile, strings.Join(d, "\n"))
			}
		})
	}
}

// TestDemoCaptureThenReplayCommand: `wallboard demo --capture DIR` records
// every emulated vendor, one directory per source; `wallboard replay DIR`
// serves a board fed by those files, prints its URL and an API token like
// the demo, and its sources go live.
func TestDemoCaptureThenReplayCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	d := start(t, os.Getenv, "demo", "--listen", "127.0.0.1:0", "--agents", "10", "--queues", "5", "--capture", dir)
	waitFor(t, d.stdout, regexp.MustCompile(`(Board:)`))
	deadline := time.Now().Add(20 * time.Second)
	for {
		paths, _ := capture.Files([]string{dir})
		if len(paths) == 5 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := d.stop(); err != nil {
		t.Fatal(err)
	}
	for _, src := range []string{"uk-sapi", "uk-events", "axp-floor", "axp-stats", "ns"} {
		if files, _ := capture.List(filepath.Join(dir, src)); len(files) == 0 {
			t.Errorf("no capture of %s", src)
		}
	}
	if files, _ := capture.List(filepath.Join(dir, "sim")); len(files) != 0 {
		t.Errorf("the direct simulation has no wire, yet was captured")
	}

	r := start(t, os.Getenv, "replay", "--listen", "127.0.0.1:0", "--speed", "0", dir)
	out := waitFor(t, r.stdout, regexp.MustCompile(`(?s)(Board:.*State API:[^\n]*)`))
	token := regexp.MustCompile(`Bearer ([A-Z0-9]+)`).FindStringSubmatch(out)[1]
	if code, _ := get(t, r.url+"/boards/floor"); code != http.StatusOK {
		t.Errorf("replay board = %d", code)
	}
	waitLive(t, r.url, token, 5)
}

// secretsOf lists the credentials in a source's options (its Secret fields).
func secretsOf(sc config.Source) []config.Secret {
	var out []config.Secret
	if sc.Options == nil {
		return nil
	}
	v := reflect.ValueOf(sc.Options).Elem()
	for i := range v.NumField() {
		if s, ok := v.Field(i).Interface().(config.Secret); ok {
			out = append(out, s)
		}
	}
	return out
}

// TestReplayFixtureCommand: `wallboard replay --fixture DIR FILE|DIR…`
// makes a fixture in one step: DIR gets a copy of every capture file and
// expected.json, the final model of their replay (what a replay of the
// same files gives now: today's counts depend on the day it runs).
func TestReplayFixtureCommand(t *testing.T) {
	t.Parallel()
	src := filepath.Join("testdata", "replay", "demo-seed1")
	dir := filepath.Join(t.TempDir(), "testdata", "replay", "new")
	var stdout, stderr strings.Builder
	if err := run(context.Background(), []string{"replay", "--fixture", dir, src}, os.Getenv, &stdout, &stderr); err != nil {
		t.Fatalf("replay --fixture: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stdout.String(), "fixture written to "+dir+": 5 capture file(s)") {
		t.Errorf("stdout: %q", stdout.String())
	}
	want, err := capture.Files([]string{src})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range want {
		a, _ := os.ReadFile(p)
		b, err := os.ReadFile(filepath.Join(dir, filepath.Base(p)))
		if err != nil || string(a) != string(b) {
			t.Errorf("%s: not copied as it is (%v)", filepath.Base(p), err)
		}
	}
	read := func(path string) modelSummary {
		t.Helper()
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var s modelSummary
		if err := json.Unmarshal(b, &s); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		return s
	}
	got := read(filepath.Join(dir, fixtureFile))
	if len(got.Agents) == 0 || len(got.Queues) == 0 {
		t.Fatalf("the fixture's model is empty: %+v", got)
	}
	replayed, err := replayOnce(context.Background(), want, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if d := diffSummary(replayed, got); len(d) > 0 {
		t.Errorf("the new fixture's %s differs from a replay of its files:\n%s", fixtureFile, strings.Join(d, "\n"))
	}
}
