package config

import "fmt"

// EightByEight holds the options of the 8x8 source types (8x8-sapi, 8x8-stream).
type EightByEight struct {
	// 8x8-sapi
	SubscriptionID string `yaml:"subscription_id"`
	Token          Secret `yaml:"token"`
	Format         string `yaml:"format"` // json | xml

	// 8x8-stream
	Namespace    string `yaml:"namespace"`
	Topic        string `yaml:"topic"`
	Mode         string `yaml:"mode"`         // reader | consumer
	Subscription string `yaml:"subscription"` // consumer mode only

	// Both: newState code → normalized state, overriding the default table,
	// and reason code ("listId=itemId") → readable label.
	StateMap     map[string]string `yaml:"state_map"`
	ReasonLabels map[string]string `yaml:"reason_labels"`
}

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
	}
	return p
}
