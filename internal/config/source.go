package config

import (
	"fmt"
	"net/url"
	"reflect"
	"strings"
)

// Source types.
const (
	Type8x8SAPI         = "8x8-sapi"
	Type8x8Stream       = "8x8-stream"
	TypeAvayaEngagement = "avaya-engagement"
	TypeAvayaAnalytics  = "avaya-analytics"
	TypeNetSapiens      = "netsapiens"
	// TypeSimulation is the demo's own source: it feeds the built-in
	// contact-center simulation's events straight into the model.
	TypeSimulation = "simulation"
)

// Source is one upstream subscription. The common fields come first; each
// vendor's own options live in an inline struct in that vendor's file
// (source_8x8.go, source_avaya.go, source_netsapiens.go), so a key that
// belongs to another type is reported rather than silently ignored.
type Source struct {
	Name string `yaml:"name"`
	// DisplayName is what supervisors read for this source (a site:
	// "Glasgow"); admins see Name. Default: Name.
	DisplayName string `yaml:"display_name"`
	Type        string `yaml:"type"`
	URL         string `yaml:"url"`

	// Shared by several vendors (see keysByType).
	Tenant       string `yaml:"tenant"`
	APIKey       Secret `yaml:"api_key"`
	AccountID    string `yaml:"account_id"`
	ClientID     string `yaml:"client_id"`
	ClientSecret Secret `yaml:"client_secret"`
	AppKey       Secret `yaml:"app_key"`

	// Reconnect backoff; zero = defaults (500ms doubling to 30s, 30% jitter).
	BackoffMin Duration `yaml:"backoff_min"`
	BackoffMax Duration `yaml:"backoff_max"`
	// FailedRetry: how long a failed source (bad credentials, vendor limit)
	// waits before trying again. Default 5m.
	FailedRetry Duration `yaml:"failed_retry"`
	// InsecureSkipVerify disables TLS certificate checks (lab use only).
	InsecureSkipVerify bool `yaml:"insecure_skip_verify"`

	EightByEight `yaml:",inline"`
	Avaya        `yaml:",inline"`
	NetSapiens   `yaml:",inline"`
	Simulation   `yaml:",inline"`
}

// Simulation holds the demo simulation's options.
type Simulation struct {
	SimAgents int   `yaml:"sim_agents"`
	SimQueues int   `yaml:"sim_queues"`
	SimSeed   int64 `yaml:"sim_seed"`
}

// commonKeys are accepted for every type.
var commonKeys = []string{"name", "display_name", "type", "url", "backoff_min", "backoff_max", "failed_retry", "insecure_skip_verify"}

// keysByType lists, per type, which shared keys and which vendor structs apply.
var keysByType = map[string]struct {
	shared []string
	inline any
}{
	Type8x8SAPI:         {[]string{"tenant"}, EightByEight{}},
	Type8x8Stream:       {[]string{"tenant", "api_key"}, EightByEight{}},
	TypeAvayaEngagement: {[]string{"account_id", "client_id", "client_secret", "app_key"}, Avaya{}},
	TypeAvayaAnalytics:  {[]string{"account_id", "client_id", "client_secret", "app_key"}, Avaya{}},
	TypeNetSapiens:      {[]string{"api_key"}, NetSapiens{}},
	TypeSimulation:      {nil, Simulation{}},
}

// SourceTypes lists the known source types.
func SourceTypes() []string { return sortedKeys(keysByType) }

// AllowedKeys returns the keys a source of type typ may use.
func AllowedKeys(typ string) map[string]bool {
	k, ok := keysByType[typ]
	if !ok {
		return nil
	}
	out := map[string]bool{}
	for _, n := range commonKeys {
		out[n] = true
	}
	for _, n := range k.shared {
		out[n] = true
	}
	for n := range yamlFields(reflect.TypeOf(k.inline)) {
		out[n] = true
	}
	return out
}

func (s *Source) validate(path string) Problems {
	var p Problems
	add := func(key, format string, args ...any) { p = append(p, path+"."+key+": "+fmt.Sprintf(format, args...)) }
	allowed := AllowedKeys(s.Type)
	if allowed == nil {
		if s.Type == "" {
			add("type", "missing")
		} else {
			add("type", "unknown type %q (known: %s)", s.Type, strings.Join(SourceTypes(), ", "))
		}
		return p
	}
	// Keys set that this type does not use.
	for key := range setKeys(s) {
		if !allowed[key] {
			add(key, "is not an option of type %s", s.Type)
		}
	}
	if s.Type != TypeSimulation {
		if s.URL == "" {
			add("url", "missing")
		} else if u, err := url.Parse(s.URL); err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "ws" && u.Scheme != "wss") {
			add("url", "%q is not an absolute http(s) or ws(s) URL", s.URL)
		}
	}
	if s.BackoffMax != 0 && s.BackoffMin > s.BackoffMax {
		add("backoff_min", "is greater than backoff_max")
	}
	switch s.Type {
	case Type8x8SAPI, Type8x8Stream:
		p = append(p, s.validate8x8(path)...)
	case TypeAvayaEngagement, TypeAvayaAnalytics:
		p = append(p, s.validateAvaya(path)...)
	case TypeNetSapiens:
		p = append(p, s.validateNetSapiens(path)...)
	case TypeSimulation:
		if s.SimAgents < 0 || s.SimQueues < 0 {
			add("sim_agents", "must not be negative")
		}
	}
	return p
}

// setKeys returns the yaml keys of s whose values are not zero.
func setKeys(s *Source) map[string]bool {
	out := map[string]bool{}
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if strings.Contains(opts, "inline") {
				walk(v.Field(i))
				continue
			}
			if name == "" || name == "-" {
				continue
			}
			if !v.Field(i).IsZero() {
				out[name] = true
			}
		}
	}
	walk(reflect.ValueOf(*s))
	return out
}

// required adds "missing" for each named field whose value is empty.
func required(path string, p *Problems, fields map[string]string) {
	for _, k := range sortedKeys(fields) {
		if fields[k] == "" {
			*p = append(*p, path+"."+k+": missing")
		}
	}
}
