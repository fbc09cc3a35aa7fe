package netsapiens

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/wallboard/wallboard/internal/config"
	"github.com/wallboard/wallboard/internal/source"
)

// Type is the configuration type of this source.
const Type = "netsapiens"

func init() {
	source.Register(source.Type{
		Name:    Type,
		Options: func() config.SourceOptions { return new(Options) },
		New: func(sc config.Source, d source.Deps) (source.Source, http.Handler, error) {
			src, err := New(sc, d.Store, d.Log)
			if err != nil {
				return nil, nil, err
			}
			return src, src, nil // the vendor's posts (HookPath)
		},
	})
}

// Options are the options of a netsapiens source.
type Options struct {
	APIKey    config.Secret `yaml:"api_key"`
	Domain    string        `yaml:"domain"`
	Models    []string      `yaml:"models"`
	PublicURL string        `yaml:"public_url"`

	// MaxBodyBytes caps one webhook post; a larger body is answered 413.
	// Default 1 MiB.
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// QuietPeriod: with no post for this long while the vendor reports
	// errors on a subscription, the source turns degraded. Default 2m.
	QuietPeriod config.Duration `yaml:"quiet_period"`
	// StatusInterval is how often each subscription's status, error-count
	// and posts-count are read back (and a vanished one recreated). Default 30s.
	StatusInterval config.Duration `yaml:"status_interval"`
	// CleanupOnShutdown deletes the subscriptions when wallboard stops.
	// Off by default: keeping them lets a restart reuse them without a gap.
	CleanupOnShutdown bool `yaml:"cleanup_on_shutdown"`
	// GeoSupport is sent as subscription-geo-support: yes (default) or no.
	GeoSupport string `yaml:"geo_support"`
	// PreferredServer is sent as preferred-server when set.
	PreferredServer string `yaml:"preferred_server"`
	// SubscriptionUser is sent as user; default "*" (every user of the domain).
	SubscriptionUser string `yaml:"subscription_user"`
	// WebhookQueue is how many accepted posts may wait for the model before
	// the receiver answers 503. Default 1024.
	WebhookQueue int `yaml:"webhook_queue"`
	// APITimeout bounds each call to the subscriptions API. Default 15s.
	APITimeout config.Duration `yaml:"api_timeout"`
}

// Models are the subscription models the source can read.
var Models = []string{"agent", "call", "call_origid", "cdr", "presence"}

// Defaults fills in every zero option with its default.
func (o *Options) Defaults() {
	if len(o.Models) == 0 {
		o.Models = []string{"agent", "call", "cdr"}
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = 1 << 20
	}
	if o.QuietPeriod <= 0 {
		o.QuietPeriod = config.Duration(2 * time.Minute)
	}
	if o.StatusInterval <= 0 {
		o.StatusInterval = config.Duration(30 * time.Second)
	}
	if o.APITimeout <= 0 {
		o.APITimeout = config.Duration(15 * time.Second)
	}
	if o.GeoSupport == "" {
		o.GeoSupport = "yes"
	}
	if o.SubscriptionUser == "" {
		o.SubscriptionUser = "*"
	}
	if o.WebhookQueue <= 0 {
		o.WebhookQueue = 1024
	}
}

// Check reports every problem and fills in the defaults.
func (o *Options) Check(c *config.SourceCheck) {
	c.CheckURL()
	c.Required(map[string]string{"api_key": string(o.APIKey), "domain": o.Domain, "public_url": o.PublicURL})
	for i, m := range o.Models {
		if !slices.Contains(Models, m) {
			c.Add(fmt.Sprintf("models[%d]", i), "unknown model %q (known: %s)", m, strings.Join(Models, ", "))
		} else if slices.Index(o.Models, m) != i {
			c.Add(fmt.Sprintf("models[%d]", i), "model %q is listed twice", m)
		}
	}
	if o.PublicURL != "" {
		if u, err := url.Parse(o.PublicURL); err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			c.Add("public_url", "%q is not an absolute http(s) URL", o.PublicURL)
		}
	}
	if o.MaxBodyBytes != 0 && o.MaxBodyBytes < 1024 {
		c.Add("max_body_bytes", "must be at least 1024")
	}
	if o.QuietPeriod < 0 || o.StatusInterval < 0 || o.APITimeout < 0 {
		c.Add("quiet_period", "durations must not be negative")
	}
	switch o.GeoSupport {
	case "", "yes", "no":
	default:
		c.Add("geo_support", "must be yes or no, not %q", o.GeoSupport)
	}
	if o.WebhookQueue < 0 {
		c.Add("webhook_queue", "must not be negative")
	}
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
		return o, fmt.Errorf("failed to create netsapiens source %q: options are %T", sc.Name, sc.Options)
	}
	o.Defaults()
	return o, nil
}
