package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"time"
)

// modelSummary is what a replay must reproduce: each agent's state and
// reason, each queue's counts. Times are left out: some vendors' events
// take the time they were received.
type modelSummary struct {
	Agents map[string]string `json:"agents"` // "source/id" → "state" or "state: reason"
	Queues map[string][4]int `json:"queues"` // "source/id" → waiting, offered, answered, abandoned
}

// summarize reads GET /api/v1/state at base.
func summarize(ctx context.Context, base, token string) (modelSummary, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/v1/state", nil)
	if err != nil {
		return modelSummary{}, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return modelSummary{}, fmt.Errorf("failed to read the state: %w", err)
	}
	defer resp.Body.Close()
	var st struct {
		Agents []struct{ Source, ID, State, Reason string }
		Queues []struct {
			Source, ID                            string
			Waiting, Offered, Answered, Abandoned int
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return modelSummary{}, fmt.Errorf("failed to read the state: %w", err)
	}
	out := modelSummary{Agents: map[string]string{}, Queues: map[string][4]int{}}
	for _, a := range st.Agents {
		v := a.State
		if a.Reason != "" {
			v += ": " + a.Reason
		}
		out.Agents[a.Source+"/"+a.ID] = v
	}
	for _, q := range st.Queues {
		out.Queues[q.Source+"/"+q.ID] = [4]int{q.Waiting, q.Offered, q.Answered, q.Abandoned}
	}
	return out, nil
}

// settledSummary waits until two readings a quarter second apart agree
// (the model applies what it was handed on its next tick).
func settledSummary(ctx context.Context, base, token string) (modelSummary, error) {
	prev, err := summarize(ctx, base, token)
	if err != nil {
		return prev, err
	}
	for i := 0; i < 120; i++ {
		select {
		case <-ctx.Done():
			return prev, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
		cur, err := summarize(ctx, base, token)
		if err != nil {
			return cur, err
		}
		if reflect.DeepEqual(cur, prev) {
			return cur, nil
		}
		prev = cur
	}
	return prev, fmt.Errorf("the model did not settle")
}

// diffSummary lists how got differs from want.
func diffSummary(want, got modelSummary) []string {
	var out []string
	for k, w := range want.Agents {
		if g := got.Agents[k]; g != w {
			out = append(out, fmt.Sprintf("agent %s: %q, want %q", k, g, w))
		}
	}
	for k, g := range got.Agents {
		if _, ok := want.Agents[k]; !ok {
			out = append(out, fmt.Sprintf("agent %s: %q, not expected", k, g))
		}
	}
	for k, w := range want.Queues {
		if g := got.Queues[k]; g != w {
			out = append(out, fmt.Sprintf("queue %s: waiting/offered/answered/abandoned %v, want %v", k, g, w))
		}
	}
	for k, g := range got.Queues {
		if _, ok := want.Queues[k]; !ok {
			out = append(out, fmt.Sprintf("queue %s: %v, not expected", k, g))
		}
	}
	sort.Strings(out)
	return out
}

// replayOnce replays paths as fast as possible on loopback and returns the
// final model.
func replayOnce(ctx context.Context, paths []string, stderr io.Writer) (modelSummary, error) {
	srcs, files, err := replayPlan(paths)
	if err != nil {
		return modelSummary{}, err
	}
	dir, err := os.MkdirTemp("", "wallboard-replay-")
	if err != nil {
		return modelSummary{}, err
	}
	defer os.RemoveAll(dir)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return modelSummary{}, err
	}
	cfg, token, err := replayConfig(srcs, dir, ln.Addr().String())
	if err != nil {
		ln.Close()
		return modelSummary{}, err
	}
	cfg.LogLevel = "warn"
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ready, done := make(chan string, 1), make(chan struct{})
	served := make(chan error, 1)
	go func() {
		served <- serve(ctx, &cfg, appOptions{stdout: io.Discard, stderr: stderr, listener: ln, replay: files,
			replayClock: newReplayClock(firstFrameTime(paths)),
			ready:       func(url string) { ready <- url }, replayDone: func() { close(done) }})
	}()
	var url string
	select {
	case url = <-ready:
	case err := <-served:
		return modelSummary{}, fmt.Errorf("failed to start the replay: %w", err)
	}
	select {
	case <-done:
	case err := <-served:
		return modelSummary{}, fmt.Errorf("the replay stopped: %w", err)
	case <-ctx.Done():
		return modelSummary{}, ctx.Err()
	}
	sum, err := settledSummary(ctx, url, token)
	cancel()
	if serr := <-served; serr != nil && err == nil {
		err = fmt.Errorf("failed to stop the replay: %w", serr)
	}
	return sum, err
}

// fixtureFile is the expected final model in a fixture directory.
const fixtureFile = "expected.json"

// writeFixture turns captures into a regression-test fixture: a copy of
// the capture files and the final model their replay gives. The test
// TestReplayFixtures replays every fixture under testdata/replay and
// compares.
func writeFixture(ctx context.Context, dir string, paths []string, stdout, stderr io.Writer) error {
	sum, err := replayOnce(ctx, paths, stderr)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("failed to create %s: %w", dir, err)
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return fmt.Errorf("failed to copy %s: %w", p, err)
		}
		name := filepath.Base(p)
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o640); err != nil {
			return fmt.Errorf("failed to write fixture: %w", err)
		}
	}
	b, _ := json.MarshalIndent(sum, "", "  ")
	if err := os.WriteFile(filepath.Join(dir, fixtureFile), append(b, '\n'), 0o640); err != nil {
		return fmt.Errorf("failed to write fixture: %w", err)
	}
	fmt.Fprintf(stdout, "fixture written to %s: %d capture file(s), %d agents, %d queues in %s\n",
		dir, len(paths), len(sum.Agents), len(sum.Queues), fixtureFile)
	if !strings.Contains(filepath.ToSlash(dir), "testdata/replay/") {
		fmt.Fprintln(stdout, "put it under cmd/wallboard/testdata/replay/ for TestReplayFixtures to check it")
	}
	return nil
}

// liveSources counts the sources GET /api/v1/state reports live.
func liveSources(base, token string) (int, error) {
	req, _ := http.NewRequest(http.MethodGet, base+"/api/v1/state", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var st struct{ Sources []struct{ Status string } }
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return 0, err
	}
	n := 0
	for _, s := range st.Sources {
		if s.Status == "live" {
			n++
		}
	}
	return n, nil
}
