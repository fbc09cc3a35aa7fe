package eightbyeight

import (
	"maps"
	"net/url"
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

	// The Agent Status API (status.go), read after a start and after a
	// long disconnection to learn the agents' current states, which
	// neither stream replays beyond its window. AgentStatusURL is
	// https://{ccPlatform}.8x8.com (empty: no resync); the user defaults
	// to the tenant; the token is the tenant's Action Request Token.
	AgentStatusURL     string          `yaml:"agent_status_url"`
	AgentStatusUser    string          `yaml:"agent_status_user"`
	AgentStatusToken   config.Secret   `yaml:"agent_status_token"`
	AgentStatusTimeout config.Duration `yaml:"agent_status_timeout"`
	// ResyncAfter: a session that starts after a disconnection at least
	// this long resyncs (default 1m); the first session always does.
	ResyncAfter config.Duration `yaml:"resync_after"`
}

// The defaults of connect_timeout, agent_status_timeout and resync_after.
const (
	DefaultConnectTimeout     = 45 * time.Second
	DefaultAgentStatusTimeout = 10 * time.Second
	DefaultResyncAfter        = time.Minute
)

// Defaults fills in every zero option with its default.
func (o *Options) Defaults() {
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = config.Duration(DefaultConnectTimeout)
	}
	if o.AgentStatusTimeout <= 0 {
		o.AgentStatusTimeout = config.Duration(DefaultAgentStatusTimeout)
	}
	if o.ResyncAfter <= 0 {
		o.ResyncAfter = config.Duration(DefaultResyncAfter)
	}
}

// Check reports the problems of the shared options (the tenant is checked
// by each type with its other required keys) and fills in the defaults.
func (o *Options) Check(c *config.SourceCheck) {
	if o.ConnectTimeout < 0 {
		c.Add("connect_timeout", "must not be negative")
	}
	switch {
	case o.AgentStatusURL != "":
		if u, err := url.Parse(o.AgentStatusURL); err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			c.Add("agent_status_url", "%q is not an absolute http(s) URL (https://{ccPlatform}.8x8.com)", o.AgentStatusURL)
		}
		if o.AgentStatusToken == "" {
			c.Add("agent_status_token", "missing (the Action Request Token, with agent_status_url)")
		}
	case o.AgentStatusToken != "" || o.AgentStatusUser != "":
		c.Add("agent_status_url", "missing (agent_status_user and agent_status_token are for the agent status API at that URL)")
	}
	if o.AgentStatusTimeout < 0 {
		c.Add("agent_status_timeout", "must not be negative")
	}
	if o.ResyncAfter != 0 && o.ResyncAfter < config.Duration(time.Second) {
		c.Add("resync_after", "must be at least 1s")
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
