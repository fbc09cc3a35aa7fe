package config

import (
	"slices"
	"testing"
	"time"
)

func TestSnapshotInterval(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		yaml    string
		want    time.Duration
		problem string
	}{
		{"default", "listen: 127.0.0.1:1\n", 5 * time.Second, ""},
		{"set", "snapshot_interval: 2s\n", 2 * time.Second, ""},
		{"too short", "snapshot_interval: 10ms\n", 0, "snapshot_interval: must be between 100ms and 10m, not 10ms"},
		{"too long", "snapshot_interval: 1h\n", 0, "snapshot_interval: must be between 100ms and 10m, not 1h0m0s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := Parse([]byte(tt.yaml), func(string) string { return "" })
			if tt.problem != "" {
				probs, _ := err.(Problems)
				if !slices.Contains(probs, tt.problem) {
					t.Fatalf("problems %v lack %q", err, tt.problem)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.SnapshotInterval.D() != tt.want {
				t.Errorf("snapshot_interval = %s, want %s", cfg.SnapshotInterval, tt.want)
			}
		})
	}
}
