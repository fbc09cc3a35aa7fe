package pulsar

import (
	"fmt"
	"net/http"
	"time"

	"github.com/wallboard/wallboard/internal/config"
	"github.com/wallboard/wallboard/internal/source"
	"github.com/wallboard/wallboard/internal/source/eightbyeight"
)

// Type is the configuration type of this source.
const Type = "8x8-stream"

func init() {
	source.Register(source.Type{
		Name:    Type,
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

// Options are the options of an 8x8-stream source.
type Options struct {
	eightbyeight.Options `yaml:",inline"`

	APIKey       config.Secret `yaml:"api_key"`
	Namespace    string        `yaml:"namespace"`
	Topic        string        `yaml:"topic"`
	Mode         string        `yaml:"mode"`         // reader | consumer
	Subscription string        `yaml:"subscription"` // consumer mode only
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
	PingInterval config.Duration `yaml:"ping_interval"`
}

// Defaults fills in every zero option with its default.
func (o *Options) Defaults() {
	o.Options.Defaults()
	if o.Namespace == "" {
		o.Namespace = "event-v1"
	}
	if o.Topic == "" {
		o.Topic = "all"
	}
	if o.Mode == "" {
		o.Mode = "reader"
	}
	if o.SubscriptionType == "" {
		o.SubscriptionType = "Failover"
	}
	if o.ReceiverQueueSize == 0 {
		o.ReceiverQueueSize = 1000
	}
	if o.InitialPosition == "" {
		o.InitialPosition = "latest"
	}
	if o.PingInterval <= 0 {
		o.PingInterval = config.Duration(30 * time.Second)
	}
}

// Check reports every problem and fills in the defaults.
func (o *Options) Check(c *config.SourceCheck) {
	c.CheckURL()
	c.Required(map[string]string{"tenant": o.Tenant, "api_key": string(o.APIKey)})
	switch o.Mode {
	case "", "reader":
	case "consumer":
		if o.Subscription == "" {
			c.Add("subscription", "missing (consumer mode needs a subscription name)")
		}
	default:
		c.Add("mode", "must be reader or consumer, not %q", o.Mode)
	}
	switch o.SubscriptionType {
	case "", "Exclusive", "Shared", "Failover", "Key_Shared":
	default:
		c.Add("subscription_type", "must be Exclusive, Shared, Failover or Key_Shared (case matters), not %q", o.SubscriptionType)
	}
	if o.ReceiverQueueSize != 0 && (o.ReceiverQueueSize < 1 || o.ReceiverQueueSize > 1000) {
		c.Add("receiver_queue_size", "must be between 1 and 1000, not %d", o.ReceiverQueueSize)
	}
	switch o.InitialPosition {
	case "", "latest", "earliest":
	default:
		c.Add("initial_position", "must be latest or earliest, not %q", o.InitialPosition)
	}
	if o.PingInterval != 0 && o.PingInterval < config.Duration(100*time.Millisecond) {
		c.Add("ping_interval", "must be at least 100ms")
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
		return o, fmt.Errorf("failed to create 8x8-stream source %s: options are %T", sc.Name, sc.Options)
	}
	o.Defaults()
	return o, nil
}
