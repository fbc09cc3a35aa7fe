package main

import (
	"io"
	"net"
	"net/http"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wallboard/wallboard/internal/config"
	"github.com/wallboard/wallboard/internal/vendorsim"
)

// TestBenchNoJournal: the measuring switch (the load tool's -no-journal)
// turns the journal off, says so in the log and on /metrics (nothing
// written), and the board still follows the vendor; without it the same
// run writes the journal. Not parallel: it sets the environment.
func TestBenchNoJournal(t *testing.T) {
	tests := []struct {
		name    string
		env     string
		written bool
	}{
		{name: "journal on", env: "", written: true},
		{name: "journal off", env: "1", written: false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(noJournalEnv, tt.env)
			sim := vendorsim.NewSim(vendorsim.Options{Agents: 6, Queues: 1, Seed: int64(30 + i), Pace: 3})
			emu, err := vendorsim.NewPulsarServer(sim, vendorsim.PulsarOptions{})
			if err != nil {
				t.Fatal(err)
			}
			defer emu.Close()
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			addr := ln.Addr().String()
			ln.Close()
			cfg := config.Default()
			cfg.Listen = addr
			cfg.StateDir = filepath.Join(t.TempDir(), "state")
			cfg.Timezone = "UTC"
			cfg.SnapshotInterval = config.Duration(10 * time.Minute) // the journal is not cut behind a snapshot
			cfg.LogLevel = "warn"
			cfg.APITokens = []config.APIToken{{Name: "t", Token: apiToken}}
			cfg.Sources = []config.Source{emu.SourceConfig("ev")}
			cfg.Boards = []config.Board{{ID: "floor", Title: "Floor"}}
			if p := cfg.Validate(); len(p) > 0 {
				t.Fatal(p)
			}
			wb := startSoakWallboard(t, &cfg, addr)
			defer wb.stop(t)
			base := "http://" + addr
			if err := allLive(base, apiToken, 20*time.Second); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			for s := range 30 {
				sim.Step(start.Add(time.Duration(s) * time.Second))
			}
			sims := map[string]*vendorsim.Sim{"ev": sim}
			if diff := converge(base, apiToken, sims, 15*time.Second); diff != nil {
				t.Fatalf("the board does not follow the vendor: %s", strings.Join(diff, "\n"))
			}
			time.Sleep(300 * time.Millisecond) // a few commits
			resp, err := http.Get(base + "/metrics")
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			m := regexp.MustCompile(`(?m)^wallboard_journal_bytes (\S+)$`).FindSubmatch(b)
			if m == nil {
				t.Fatalf("no wallboard_journal_bytes in /metrics:\n%s", b)
			}
			bytes, _ := strconv.ParseFloat(string(m[1]), 64)
			if (bytes > 0) != tt.written {
				t.Errorf("journal bytes %v, want written=%v", bytes, tt.written)
			}
			if warned := strings.Contains(wb.logs.String(), "the journal is off"); warned == tt.written {
				t.Errorf("warned %v with the journal written=%v:\n%s", warned, tt.written, wb.logs)
			}
		})
	}
}
