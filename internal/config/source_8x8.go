package config

import (
	"fmt"
	"strconv"
	"time"
)

// EightByEight holds the options of the 8x8 source types (8x8-sapi, 8x8-stream).
type EightByEight struct {
	// 8x8-sapi
	SubscriptionID string `yaml:"subscription_id"`
	Token          Secret `yaml:"token"`
	Format         string `yaml:"format"` // json | xml
	// IdleTimeout: a SAPI stream that sends nothing (not even a heartbeat or
	// padding) for this long is treated as dead and reconnected. Default 3m
	// (three of Atmosphere's default 60 s heartbeats).
	IdleTimeout Duration `yaml:"idle_timeout"`

	// 8x8-stream
	Namespace    string `yaml:"namespace"`
	Topic        string `yaml:"topic"`
	Mode         string `yaml:"mode"`         // reader | consumer
	Subscription string `yaml:"subscription"` // consumer mode only
	// SubscriptionType (consumer mode): Exclusive | Shared | Failover |
	// Key_Shared. Default Failover, so a standby wallboard can take over.
	SubscriptionType string `yaml:"subscription_type"`
	// ReceiverQueueSize: how many unacknowledged messages the proxy may push
	// before it waits (1..1000, default 1000).
	ReceiverQueueSize int `yaml:"receiver_queue_size"`
	// InitialPosition (reader mode): where a reader with no stored cursor
	// starts: latest (default) or earliest.
	InitialPosition string `yaml:"initial_position"`
	// PingInterval: WebSocket control pings (default 30s).
	PingInterval Duration `yaml:"ping_interval"`

	// Both: how long connecting may take (default 45s, as 8x8 recommends).
	ConnectTimeout Duration `yaml:"connect_timeout"`

	// Both: newState code → normalized state, overriding the default table,
	// and reason code ("listId=itemId") → readable label.
	StateMap     map[string]string `yaml:"state_map"`
	ReasonLabels map[string]string `yaml:"reason_labels"`
}

// eightByEightStates are the normalized state names a state_map may use
// (kept here so config does not import the event package's internals).
var eightByEightStates = map[string]bool{"available": true, "offered": true, "busy": true, "wrap_up": true,
	"not_ready": true, "logged_out": true, "unknown": true}

func (s *Source) validate8x8(path string) Problems {
	var p Problems
	add := func(key, format string, args ...any) { p = append(p, path+"."+key+": "+fmt.Sprintf(format, args...)) }
	switch s.Type {
	case Type8x8SAPI:
		required(path, &p, map[string]string{"tenant": s.Tenant, "subscription_id": s.SubscriptionID, "token": string(s.Token)})
		switch s.Format {
		case "":
			s.Format = "json"
		case "json", "xml":
		default:
			add("format", "must be json or xml, not %q", s.Format)
		}
		if s.IdleTimeout == 0 {
			s.IdleTimeout = Duration(3 * time.Minute)
		} else if s.IdleTimeout < Duration(time.Second) {
			add("idle_timeout", "must be at least 1s")
		}
	case Type8x8Stream:
		required(path, &p, map[string]string{"tenant": s.Tenant, "api_key": string(s.APIKey)})
		if s.Namespace == "" {
			s.Namespace = "event-v1"
		}
		if s.Topic == "" {
			s.Topic = "all"
		}
		switch s.Mode {
		case "":
			s.Mode = "reader"
		case "reader":
		case "consumer":
			if s.Subscription == "" {
				add("subscription", "missing (consumer mode needs a subscription name)")
			}
		default:
			add("mode", "must be reader or consumer, not %q", s.Mode)
		}
		switch s.SubscriptionType {
		case "":
			s.SubscriptionType = "Failover"
		case "Exclusive", "Shared", "Failover", "Key_Shared":
		default:
			add("subscription_type", "must be Exclusive, Shared, Failover or Key_Shared (case matters), not %q", s.SubscriptionType)
		}
		switch {
		case s.ReceiverQueueSize == 0:
			s.ReceiverQueueSize = 1000
		case s.ReceiverQueueSize < 1 || s.ReceiverQueueSize > 1000:
			add("receiver_queue_size", "must be between 1 and 1000, not %d", s.ReceiverQueueSize)
		}
		switch s.InitialPosition {
		case "":
			s.InitialPosition = "latest"
		case "latest", "earliest":
		default:
			add("initial_position", "must be latest or earliest, not %q", s.InitialPosition)
		}
		if s.PingInterval == 0 {
			s.PingInterval = Duration(30 * time.Second)
		} else if s.PingInterval < Duration(100*time.Millisecond) {
			add("ping_interval", "must be at least 100ms")
		}
	}
	if s.ConnectTimeout == 0 {
		s.ConnectTimeout = Duration(45 * time.Second)
	} else if s.ConnectTimeout < 0 {
		add("connect_timeout", "must not be negative")
	}
	for _, code := range sortedKeys(s.StateMap) {
		if _, err := strconv.Atoi(code); err != nil {
			add("state_map."+code, "is not a numeric newState code")
		}
		if !eightByEightStates[s.StateMap[code]] {
			add("state_map."+code, "%q is not a state (available, offered, busy, wrap_up, not_ready, logged_out, unknown)", s.StateMap[code])
		}
	}
	return p
}
