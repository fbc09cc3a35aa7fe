package sapi

import (
	"fmt"
	"net/http"
	"time"

	"github.com/wallboard/wallboard/internal/config"
	"github.com/wallboard/wallboard/internal/source"
	"github.com/wallboard/wallboard/internal/source/eightbyeight"
)

// Type is the configuration type of this source.
const Type = "8x8-sapi"

func init() {
	source.Register(source.Type{
		Name:    Type,
		Options: func() config.SourceOptions { return new(Options) },
		New: func(sc config.Source, d source.Deps) (source.Source, http.Handler, error) {
			src, err := New(sc, d.Log)
			if err != nil {
				return nil, nil, err
			}
			return src, nil, nil
		},
	})
}

// Options are the options of an 8x8-sapi source.
type Options struct {
	eightbyeight.Options `yaml:",inline"`

	SubscriptionID string        `yaml:"subscription_id"`
	Token          config.Secret `yaml:"token"`
	Format         string        `yaml:"format"` // json | xml
	// IdleTimeout: a SAPI stream that sends nothing (not even a heartbeat or
	// padding) for this long is treated as dead and reconnected. Default 3m
	// (three of Atmosphere's default 60 s heartbeats).
	IdleTimeout config.Duration `yaml:"idle_timeout"`
}

// Defaults fills in every zero option with its default.
func (o *Options) Defaults() {
	o.Options.Defaults()
	if o.Format == "" {
		o.Format = "json"
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = config.Duration(3 * time.Minute)
	}
}

// Check reports every problem and fills in the defaults.
func (o *Options) Check(c *config.SourceCheck) {
	c.CheckURL()
	c.Required(map[string]string{"tenant": o.Tenant, "subscription_id": o.SubscriptionID, "token": string(o.Token)})
	switch o.Format {
	case "", "json", "xml":
	default:
		c.Add("format", "must be json or xml, not %q", o.Format)
	}
	if o.IdleTimeout != 0 && o.IdleTimeout < config.Duration(time.Second) {
		c.Add("idle_timeout", "must be at least 1s")
	}
	o.Options.Check(c)
	o.Defaults()
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
		return o, fmt.Errorf("failed to create 8x8-sapi source %s: options are %T", sc.Name, sc.Options)
	}
	o.Defaults()
	return o, nil
}
