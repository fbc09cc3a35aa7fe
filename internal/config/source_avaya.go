package config

import (
	"fmt"
	"time"
)

// Avaya holds the options of the Avaya Experience Platform source types
// (avaya-engagement, avaya-analytics). Zero values mean the defaults that
// ApplyAvayaDefaults fills in.
type Avaya struct {
	// avaya-analytics: one subscription per measure producer.
	MeasureProducers []string `yaml:"measure_producers"`
	// AttachTo (avaya-analytics): the avaya-engagement source whose agents
	// and queues the measures belong to, so they show on the same tiles.
	// Default: the one avaya-engagement source with the same url and
	// account_id, if there is exactly one; otherwise the measures stay on
	// entities of their own.
	AttachTo string `yaml:"attach_to"`

	// avaya-engagement (analytics always subscribes to ALL): the event names to subscribe to; default ["ALL"]
	// (the vendor accepts "ALL" or up to 25 names).
	Events []string `yaml:"events"`
	// ReasonCodes maps a NOT_READY reasonCode to a readable label; without
	// a label the cause (like "RONA") or the code itself is shown.
	ReasonCodes map[string]string `yaml:"reason_codes"`

	// TokenURL overrides {url}/api/auth/v1/{account_id}/protocol/openid-connect/token.
	TokenURL string `yaml:"token_url"`
	// PingEvery: how often a JSON ping (and a WebSocket control ping) is
	// sent; default 30s, and always well inside the pingInterval the vendor
	// announces (at most a third of it).
	PingEvery Duration `yaml:"ping_every"`
	// PongTimeout: a ping without its pong within this long marks the
	// connection dead; default 10s (capped at PingEvery).
	PongTimeout Duration `yaml:"pong_timeout"`
	// RenewFraction: the subscription is renewed when this fraction of its
	// lifetime remains; default 1/3.
	RenewFraction float64 `yaml:"renew_fraction"`
	// RequestTimeout bounds each HTTP call (token, subscriptions); default 15s.
	RequestTimeout Duration `yaml:"request_timeout"`
	// InitSettle (avaya-analytics): if INITIALIZING frames stop for this long
	// without a LIVE frame, the snapshot is applied anyway; default 2s.
	InitSettle Duration `yaml:"init_settle"`
}

// The Avaya defaults.
const (
	DefaultAvayaPingEvery      = 30 * time.Second
	DefaultAvayaPongTimeout    = 10 * time.Second
	DefaultAvayaRenewFraction  = 1.0 / 3
	DefaultAvayaRequestTimeout = 15 * time.Second
	DefaultAvayaInitSettle     = 2 * time.Second
)

// ApplyAvayaDefaults fills in every zero Avaya option with its default. It is
// idempotent, and sources call it too so that a Source built in code (the
// demo) needs no validation pass.
func (a *Avaya) ApplyAvayaDefaults() {
	if len(a.Events) == 0 {
		a.Events = []string{"ALL"}
	}
	if a.PingEvery <= 0 {
		a.PingEvery = Duration(DefaultAvayaPingEvery)
	}
	if a.PongTimeout <= 0 {
		a.PongTimeout = Duration(DefaultAvayaPongTimeout)
	}
	if a.RenewFraction <= 0 {
		a.RenewFraction = DefaultAvayaRenewFraction
	}
	if a.RequestTimeout <= 0 {
		a.RequestTimeout = Duration(DefaultAvayaRequestTimeout)
	}
	if a.InitSettle <= 0 {
		a.InitSettle = Duration(DefaultAvayaInitSettle)
	}
}

func (s *Source) validateAvaya(path string) Problems {
	var p Problems
	add := func(key, format string, args ...any) { p = append(p, path+"."+key+": "+fmt.Sprintf(format, args...)) }
	required(path, &p, map[string]string{"account_id": s.AccountID, "client_id": s.ClientID,
		"client_secret": string(s.ClientSecret), "app_key": string(s.AppKey)})
	if s.Type == TypeAvayaAnalytics && len(s.MeasureProducers) == 0 {
		p = append(p, fmt.Sprintf("%s.measure_producers: missing (name at least one producer, like \"Queue_itd_1.0.0\")", path))
	}
	seen := map[string]bool{}
	for i, m := range s.MeasureProducers {
		if m == "" {
			add(fmt.Sprintf("measure_producers[%d]", i), "is empty")
		} else if seen[m] {
			add(fmt.Sprintf("measure_producers[%d]", i), "%q is listed twice", m)
		}
		seen[m] = true
	}
	if len(s.Events) > 25 {
		add("events", "lists %d events; the vendor accepts \"ALL\" or at most 25", len(s.Events))
	}
	if s.RenewFraction < 0 || s.RenewFraction >= 1 {
		add("renew_fraction", "must be between 0 and 1 (default 0.33)")
	}
	for key, d := range map[string]Duration{"ping_every": s.PingEvery, "pong_timeout": s.PongTimeout,
		"request_timeout": s.RequestTimeout, "init_settle": s.InitSettle} {
		if d < 0 {
			add(key, "must not be negative")
		}
	}
	if len(p) == 0 {
		s.ApplyAvayaDefaults()
	}
	return p
}

// resolveAttach checks and defaults every analytics source's attach_to.
func (c *Config) resolveAttach() Problems {
	var p Problems
	for i := range c.Sources {
		s := &c.Sources[i]
		if s.AttachTo != "" && s.Type != TypeAvayaAnalytics {
			p = append(p, fmt.Sprintf("sources[%d].attach_to: only avaya-analytics sources attach their measures", i))
			continue
		}
		if s.Type != TypeAvayaAnalytics {
			continue
		}
		if s.AttachTo != "" {
			found := false
			for _, o := range c.Sources {
				if o.Name == s.AttachTo && o.Type == TypeAvayaEngagement {
					found = true
				}
			}
			if !found {
				p = append(p, fmt.Sprintf("sources[%d].attach_to: no avaya-engagement source is named %q", i, s.AttachTo))
			}
			continue
		}
		var match []string
		for _, o := range c.Sources {
			if o.Type == TypeAvayaEngagement && o.URL == s.URL && o.AccountID == s.AccountID {
				match = append(match, o.Name)
			}
		}
		if len(match) == 1 {
			s.AttachTo = match[0]
		}
	}
	return p
}
