package config

import "time"

// validateOperations checks the keys that govern how wallboard keeps its
// state (snapshot_interval).
func (c *Config) validateOperations() Problems {
	var p Problems
	if d := c.SnapshotInterval.D(); d < 100*time.Millisecond || d > 10*time.Minute {
		p = append(p, "snapshot_interval: must be between 100ms and 10m, not "+c.SnapshotInterval.String())
	}
	return p
}
