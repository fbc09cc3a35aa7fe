package eightbyeight

import (
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/wallboard/wallboard/internal/config"
	"github.com/wallboard/wallboard/internal/event"
)

// Options are the options both 8x8 source types have (8x8-sapi and
// 8x8-stream inline them in their own).
type Options struct {
	Tenant string `yaml:"tenant"`
	// ConnectTimeout: how long connecting may take (default 45s, as 8x8
	// recommends).
	ConnectTimeout config.Duration `yaml:"connect_timeout"`
	// StateMap: newState code → normalized state, overriding the default
	// table; ReasonLabels: reason code ("listId=itemId") → readable label.
	StateMap     map[string]string `yaml:"state_map"`
	ReasonLabels map[string]string `yaml:"reason_labels"`
}

// DefaultConnectTimeout is connect_timeout's default.
const DefaultConnectTimeout = 45 * time.Second

// Defaults fills in every zero option with its default.
func (o *Options) Defaults() {
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = config.Duration(DefaultConnectTimeout)
	}
}

// Check reports the problems of the shared options (the tenant is checked
// by each type with its other required keys) and fills in the defaults.
func (o *Options) Check(c *config.SourceCheck) {
	if o.ConnectTimeout < 0 {
		c.Add("connect_timeout", "must not be negative")
	}
	for _, code := range slices.Sorted(maps.Keys(o.StateMap)) {
		if _, err := strconv.Atoi(code); err != nil {
			c.Add("state_map."+code, "is not a numeric newState code")
		}
		if !event.State(o.StateMap[code]).Valid() {
			c.Add("state_map."+code, "%q is not a state (available, offered, busy, wrap_up, not_ready, logged_out, unknown)", o.StateMap[code])
		}
	}
	o.Defaults()
}
