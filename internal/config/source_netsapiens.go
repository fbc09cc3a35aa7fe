package config

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
)

// NetSapiens holds the options of the netsapiens source type.
type NetSapiens struct {
	Domain    string   `yaml:"domain"`
	Models    []string `yaml:"models"`
	PublicURL string   `yaml:"public_url"`

	// MaxBodyBytes caps one webhook post; a larger body is answered 413.
	// Default 1 MiB.
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// QuietPeriod: with no post for this long while the vendor reports
	// errors on a subscription, the source turns degraded. Default 2m.
	QuietPeriod Duration `yaml:"quiet_period"`
	// StatusInterval is how often each subscription's status, error-count
	// and posts-count are read back (and a vanished one recreated). Default 30s.
	StatusInterval Duration `yaml:"status_interval"`
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
	APITimeout Duration `yaml:"api_timeout"`
}

// NetSapiensModels are the subscription models the source can read.
var NetSapiensModels = []string{"agent", "call", "call_origid", "cdr", "presence"}

func (s *Source) validateNetSapiens(path string) Problems {
	var p Problems
	add := func(key, format string, args ...any) { p = append(p, path+"."+key+": "+fmt.Sprintf(format, args...)) }
	required(path, &p, map[string]string{"api_key": string(s.APIKey), "domain": s.Domain, "public_url": s.PublicURL})
	if len(s.Models) == 0 {
		s.Models = []string{"agent", "call", "cdr"}
	}
	for i, m := range s.Models {
		if !slices.Contains(NetSapiensModels, m) {
			p = append(p, fmt.Sprintf("%s.models[%d]: unknown model %q (known: %s)", path, i, m, strings.Join(NetSapiensModels, ", ")))
		} else if slices.Index(s.Models, m) != i {
			p = append(p, fmt.Sprintf("%s.models[%d]: model %q is listed twice", path, i, m))
		}
	}
	if s.PublicURL != "" {
		if u, err := url.Parse(s.PublicURL); err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			add("public_url", "%q is not an absolute http(s) URL", s.PublicURL)
		}
	}
	switch {
	case s.MaxBodyBytes == 0:
		s.MaxBodyBytes = 1 << 20
	case s.MaxBodyBytes < 1024:
		add("max_body_bytes", "must be at least 1024")
	}
	nsDefaultDuration(&s.QuietPeriod, 2*time.Minute)
	nsDefaultDuration(&s.StatusInterval, 30*time.Second)
	nsDefaultDuration(&s.APITimeout, 15*time.Second)
	if s.QuietPeriod < 0 || s.StatusInterval < 0 || s.APITimeout < 0 {
		add("quiet_period", "durations must not be negative")
	}
	switch s.GeoSupport {
	case "":
		s.GeoSupport = "yes"
	case "yes", "no":
	default:
		add("geo_support", "must be yes or no, not %q", s.GeoSupport)
	}
	if s.SubscriptionUser == "" {
		s.SubscriptionUser = "*"
	}
	switch {
	case s.WebhookQueue == 0:
		s.WebhookQueue = 1024
	case s.WebhookQueue < 0:
		add("webhook_queue", "must not be negative")
	}
	return p
}

// nsDefaultDuration sets *d to def when it is zero.
func nsDefaultDuration(d *Duration, def time.Duration) {
	if *d == 0 {
		*d = Duration(def)
	}
}
