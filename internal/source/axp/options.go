package axp

import (
	"fmt"
	"net/http"
	"time"

	"github.com/wallboard/wallboard/internal/config"
	"github.com/wallboard/wallboard/internal/source"
)

// The configuration types of this package's sources.
const (
	TypeEngagement = "avaya-engagement" // Agent and Engagement events
	TypeAnalytics  = "avaya-analytics"  // Analytics Realtime Data
)

func init() {
	for _, typ := range []string{TypeEngagement, TypeAnalytics} {
		source.Register(source.Type{
			Name:    typ,
			Options: func() config.SourceOptions { return new(Options) },
			New: func(sc config.Source, d source.Deps) (source.Source, http.Handler, error) {
				src, err := New(sc, d.Store, d.Log)
				if err != nil {
					return nil, nil, err
				}
				return src, nil, nil
			},
		})
	}
}

// Options are the options of the Avaya Experience Platform source types
// (avaya-engagement, avaya-analytics). Zero values mean the defaults that
// Defaults fills in.
type Options struct {
	AccountID    string        `yaml:"account_id"`
	ClientID     string        `yaml:"client_id"`
	ClientSecret config.Secret `yaml:"client_secret"`
	AppKey       config.Secret `yaml:"app_key"`

	// avaya-analytics: one subscription per measure producer.
	MeasureProducers []string `yaml:"measure_producers"`
	// AttachTo (avaya-analytics): the avaya-engagement source whose agents
	// and queues the measures belong to, so they show on the same tiles.
	// Default: the one avaya-engagement source with the same url and
	// account_id, if there is exactly one; otherwise the measures stay on
	// entities of their own.
	AttachTo string `yaml:"attach_to"`

	// avaya-engagement (analytics always subscribes to ALL): the event names
	// to subscribe to; default ["ALL"] (the vendor accepts "ALL" or up to 25
	// names).
	Events []string `yaml:"events"`
	// ReasonCodes maps a NOT_READY reasonCode to a readable label; without
	// a label the cause (like "RONA") or the code itself is shown.
	ReasonCodes map[string]string `yaml:"reason_codes"`

	// TokenURL overrides {url}/api/auth/v1/{account_id}/protocol/openid-connect/token.
	TokenURL string `yaml:"token_url"`
	// PingEvery: how often a JSON ping (and a WebSocket control ping) is
	// sent; default 30s, and always well inside the pingInterval the vendor
	// announces (at most a third of it).
	PingEvery config.Duration `yaml:"ping_every"`
	// PongTimeout: a ping without its pong within this long marks the
	// connection dead; default 10s (capped at PingEvery).
	PongTimeout config.Duration `yaml:"pong_timeout"`
	// RenewFraction: the subscription is renewed when this fraction of its
	// lifetime remains; default 1/3.
	RenewFraction float64 `yaml:"renew_fraction"`
	// RequestTimeout bounds each HTTP call (token, subscriptions); default 15s.
	RequestTimeout config.Duration `yaml:"request_timeout"`
	// InitSettle (avaya-analytics): if INITIALIZING frames stop for this long
	// without a LIVE frame, the snapshot is applied anyway; default 2s.
	InitSettle config.Duration `yaml:"init_settle"`
}

// The defaults.
const (
	DefaultPingEvery      = 30 * time.Second
	DefaultPongTimeout    = 10 * time.Second
	DefaultRenewFraction  = 1.0 / 3
	DefaultRequestTimeout = 15 * time.Second
	DefaultInitSettle     = 2 * time.Second
)

// Defaults fills in every zero option with its default.
func (o *Options) Defaults() {
	if len(o.Events) == 0 {
		o.Events = []string{"ALL"}
	}
	if o.PingEvery <= 0 {
		o.PingEvery = config.Duration(DefaultPingEvery)
	}
	if o.PongTimeout <= 0 {
		o.PongTimeout = config.Duration(DefaultPongTimeout)
	}
	if o.RenewFraction <= 0 {
		o.RenewFraction = DefaultRenewFraction
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = config.Duration(DefaultRequestTimeout)
	}
	if o.InitSettle <= 0 {
		o.InitSettle = config.Duration(DefaultInitSettle)
	}
}

// Check reports every problem, fills in the defaults and resolves an
// analytics source's attach_to.
func (o *Options) Check(c *config.SourceCheck) {
	c.CheckURL()
	c.Required(map[string]string{"account_id": o.AccountID, "client_id": o.ClientID,
		"client_secret": string(o.ClientSecret), "app_key": string(o.AppKey)})
	if c.Source.Type == TypeAnalytics && len(o.MeasureProducers) == 0 {
		c.Add("measure_producers", "missing (name at least one producer, like \"Queue_itd_1.0.0\")")
	}
	seen := map[string]bool{}
	for i, m := range o.MeasureProducers {
		if m == "" {
			c.Add(fmt.Sprintf("measure_producers[%d]", i), "is empty")
		} else if seen[m] {
			c.Add(fmt.Sprintf("measure_producers[%d]", i), "%q is listed twice", m)
		}
		seen[m] = true
	}
	if len(o.Events) > 25 {
		c.Add("events", "lists %d events; the vendor accepts \"ALL\" or at most 25", len(o.Events))
	}
	if o.RenewFraction < 0 || o.RenewFraction >= 1 {
		c.Add("renew_fraction", "must be between 0 and 1 (default 0.33)")
	}
	for _, d := range []struct {
		key string
		v   config.Duration
	}{{"ping_every", o.PingEvery}, {"pong_timeout", o.PongTimeout}, {"request_timeout", o.RequestTimeout}, {"init_settle", o.InitSettle}} {
		if d.v < 0 {
			c.Add(d.key, "must not be negative")
		}
	}
	o.checkAttach(c)
	o.Defaults()
}

// checkAttach checks an analytics source's attach_to, or defaults it to
// the one engagement source of the same url and account.
func (o *Options) checkAttach(c *config.SourceCheck) {
	if c.Source.Type != TypeAnalytics {
		if o.AttachTo != "" {
			c.Add("attach_to", "only avaya-analytics sources attach their measures")
		}
		return
	}
	if o.AttachTo != "" {
		for _, other := range c.Sources {
			if other.Name == o.AttachTo && other.Type == TypeEngagement {
				return
			}
		}
		c.Add("attach_to", "no avaya-engagement source is named %q", o.AttachTo)
		return
	}
	var match []string
	for _, other := range c.Sources {
		if oo, ok := other.Options.(*Options); ok && other.Type == TypeEngagement && other.URL == c.Source.URL && oo.AccountID == o.AccountID {
			match = append(match, other.Name)
		}
	}
	if len(match) == 1 {
		o.AttachTo = match[0]
	}
}

// optionsOf returns sc's options with their defaults (zero options when sc
// was built in code without any).
func optionsOf(sc config.Source) (Options, error) {
	var o Options
	switch p := sc.Options.(type) {
	case nil:
	case *Options:
		o = *p
	default:
		return o, fmt.Errorf("failed to create avaya source %s: options are %T", sc.Name, sc.Options)
	}
	o.Defaults()
	return o, nil
}
