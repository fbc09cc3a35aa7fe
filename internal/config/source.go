package config

import (
	"fmt"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
)

// Source is one upstream subscription. Config knows only the keys every
// source has; the keys of its type (tenant, token, measure_producers, ...)
// belong to the vendor package that registered the type, which decodes
// them into its own struct (Options), fills in their defaults and checks
// them (see RegisterSourceType).
type Source struct {
	Name string `yaml:"name"`
	// DisplayName is what supervisors read for this source (a site:
	// "Glasgow"); admins see Name. Default: Name.
	DisplayName string `yaml:"display_name"`
	Type        string `yaml:"type"`
	URL         string `yaml:"url"`

	// Reconnect backoff; zero = defaults (500ms doubling to 30s, 30% jitter).
	BackoffMin Duration `yaml:"backoff_min"`
	BackoffMax Duration `yaml:"backoff_max"`
	// FailedRetry: how long a failed source (bad credentials, vendor limit)
	// waits before trying again. Default 5m.
	FailedRetry Duration `yaml:"failed_retry"`
	// InsecureSkipVerify disables TLS certificate checks (lab use only).
	InsecureSkipVerify bool `yaml:"insecure_skip_verify"`

	// Capture records every upstream frame as received, secrets redacted,
	// under {state_dir}/captures/{name}/ (gzip, rotated), at most
	// CaptureMaxMB (default 100) megabytes; CapturePseudonymise replaces
	// agent names in what is recorded.
	Capture             bool `yaml:"capture"`
	CaptureMaxMB        int  `yaml:"capture_max_mb"`
	CapturePseudonymise bool `yaml:"capture_pseudonymise"`

	// Options are the type's own options: a pointer to the struct of the
	// vendor package that registered the type. Validate decodes them from
	// the file (or makes zero ones for a Source built in code) and lets
	// them fill in their defaults.
	Options SourceOptions `yaml:"-"`

	raw *yaml.Node // the source's mapping as written, until Validate decodes Options from it
}

// SourceOptions are one source type's own options.
type SourceOptions interface {
	// Check fills in the defaults and reports every problem through c.
	Check(c *SourceCheck)
}

// SourceCheck is what a type's Check sees: its source, every source of the
// file (for checks across sources), and where to report problems.
type SourceCheck struct {
	Path    string   // "sources[2]"
	Source  *Source  // the source being checked (its common keys)
	Sources []Source // every source, options decoded
	probs   Problems
}

// Add reports a problem with the source's key (or key path, like
// "models[1]"): "sources[2].key: message".
func (c *SourceCheck) Add(key, format string, args ...any) {
	c.probs = append(c.probs, c.Path+"."+key+": "+fmt.Sprintf(format, args...))
}

// Required reports "missing" for each key whose value is empty, in key order.
func (c *SourceCheck) Required(fields map[string]string) {
	for _, k := range sortedKeys(fields) {
		if fields[k] == "" {
			c.Add(k, "missing")
		}
	}
}

// CheckURL reports a missing url, or one that is not an absolute http(s) or
// ws(s) URL. Types that connect somewhere call it.
func (c *SourceCheck) CheckURL() {
	s := c.Source
	if s.URL == "" {
		c.Add("url", "missing")
	} else if u, err := url.Parse(s.URL); err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "ws" && u.Scheme != "wss") {
		c.Add("url", "%q is not an absolute http(s) or ws(s) URL", s.URL)
	}
}

// The source types' option constructors, by type name. Vendor packages fill
// it through source.Register when they are imported.
var (
	typesMu     sync.RWMutex
	sourceTypes = map[string]func() SourceOptions{}
)

// RegisterSourceType makes the type typ known to the configuration:
// newOptions returns a pointer to zero options, which the keys of a source
// of this type (all but the common ones) are decoded into. Call it through
// source.Register, which also registers how to build the source. It panics
// on an empty or repeated name (a programming error).
func RegisterSourceType(typ string, newOptions func() SourceOptions) {
	typesMu.Lock()
	defer typesMu.Unlock()
	if typ == "" || newOptions == nil {
		panic("config: RegisterSourceType with an empty name or no options")
	}
	if _, dup := sourceTypes[typ]; dup {
		panic("config: source type " + typ + " registered twice")
	}
	sourceTypes[typ] = newOptions
}

// SourceTypes lists the registered source types in order.
func SourceTypes() []string {
	typesMu.RLock()
	defer typesMu.RUnlock()
	return sortedKeys(sourceTypes)
}

func lookupSourceType(typ string) (func() SourceOptions, bool) {
	typesMu.RLock()
	defer typesMu.RUnlock()
	f, ok := sourceTypes[typ]
	return f, ok
}

// commonKeys are the keys every source has (the yaml fields of Source).
var commonKeys = yamlFields(reflect.TypeOf(Source{}))

// AllowedKeys returns the keys a source of type typ may use, or nil for an
// unknown type.
func AllowedKeys(typ string) map[string]bool {
	newOptions, ok := lookupSourceType(typ)
	if !ok {
		return nil
	}
	out := map[string]bool{}
	for k := range commonKeys {
		out[k] = true
	}
	for k := range yamlFields(reflect.TypeOf(newOptions()).Elem()) {
		out[k] = true
	}
	return out
}

// UnmarshalYAML decodes the common keys and keeps the mapping, whose other
// keys are the type's options (decoded by Validate, once the type is known).
func (s *Source) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: a source is a mapping of keys (name, type, ...)", n.Line)
	}
	type plain Source // without this method
	var p plain
	if err := n.Decode(&p); err != nil {
		return err
	}
	*s = Source(p)
	s.raw = n
	return nil
}

// MarshalYAML writes the source as a file would: the common keys, then its
// type's options (secrets redacted, as every Secret prints).
func (s Source) MarshalYAML() (any, error) {
	type plain Source // without this method
	var n yaml.Node
	if err := n.Encode(plain(s)); err != nil {
		return nil, err
	}
	if s.Options != nil {
		var o yaml.Node
		if err := o.Encode(s.Options); err != nil {
			return nil, err
		}
		if o.Kind == yaml.MappingNode {
			n.Content = append(n.Content, o.Content...)
		}
	}
	return &n, nil
}

// NewSource builds a source in code (the demo, emulators, tests) from the
// same keys a file would give it, checked and defaulted as if read from a
// file; the type must be registered.
func NewSource(name, typ, url string, options map[string]any) (Source, error) {
	s := Source{Name: name, Type: typ, URL: url}
	if len(options) > 0 {
		var n yaml.Node
		if err := n.Encode(options); err != nil {
			return Source{}, fmt.Errorf("failed to encode the options of source %s: %w", name, err)
		}
		s.raw = &n
	}
	all := []Source{s}
	p := decodeOptions(all, "sources[0]", 0)
	if len(p) == 0 {
		p = checkOptions(all, "sources[0]", 0)
	}
	if len(p) > 0 {
		return Source{}, fmt.Errorf("failed to build source %s: %w", name, p)
	}
	return all[0], nil
}

// validateSources checks every source: common keys, then the type's own
// options, decoded first for all so that checks may look across sources.
func (c *Config) validateSources() Problems {
	var p Problems
	names := map[string]bool{}
	typed := make([]bool, len(c.Sources))
	for i := range c.Sources {
		s := &c.Sources[i]
		path := fmt.Sprintf("sources[%d]", i)
		switch {
		case s.Name == "":
			p = append(p, path+".name: missing")
		case !nameRE.MatchString(s.Name):
			p = append(p, fmt.Sprintf("%s.name: %q may contain only letters, digits and '-'", path, s.Name))
		case names[s.Name]:
			p = append(p, fmt.Sprintf("%s.name: %q is used by another source", path, s.Name))
		}
		names[s.Name] = true
		if s.BackoffMax != 0 && s.BackoffMin > s.BackoffMax {
			p = append(p, path+".backoff_min: is greater than backoff_max")
		}
		if s.CaptureMaxMB < 0 || s.CaptureMaxMB > 100_000 {
			p = append(p, path+".capture_max_mb: must be 1..100000 megabytes (0: the default, 100)")
		}
		dp := decodeOptions(c.Sources, path, i)
		p = append(p, dp...)
		typed[i] = len(dp) == 0
	}
	for i := range c.Sources {
		if typed[i] {
			p = append(p, checkOptions(c.Sources, fmt.Sprintf("sources[%d]", i), i)...)
		}
	}
	return p
}

// decodeOptions sets all[i].Options from the keys the source was written
// with (zero options when it was built in code), reporting an unknown type
// and every key that is neither common nor the type's own.
func decodeOptions(all []Source, path string, i int) Problems {
	s := &all[i]
	var p Problems
	newOptions, ok := lookupSourceType(s.Type)
	if !ok {
		if s.Type == "" {
			p = append(p, path+".type: missing")
		} else {
			p = append(p, fmt.Sprintf("%s.type: unknown type %q (known: %s)", path, s.Type, strings.Join(SourceTypes(), ", ")))
		}
		return p
	}
	if s.Options != nil {
		return nil
	}
	opts := newOptions()
	if s.raw != nil && s.raw.Kind == yaml.MappingNode {
		own := yamlFields(reflect.TypeOf(opts).Elem())
		keep := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		for j := 0; j+1 < len(s.raw.Content); j += 2 {
			k, v := s.raw.Content[j].Value, s.raw.Content[j+1]
			_, common := commonKeys[k]
			ft, mine := own[k]
			switch {
			case common:
			case mine:
				keep.Content = append(keep.Content, s.raw.Content[j], v)
				checkKeys(v, ft, join(path, k), &p)
			case slices.ContainsFunc(SourceTypes(), func(t string) bool { return AllowedKeys(t)[k] }):
				p = append(p, fmt.Sprintf("%s.%s: is not an option of type %s", path, k, s.Type))
			default:
				p = append(p, fmt.Sprintf("%s.%s: unknown key", path, k))
			}
		}
		if err := keep.Decode(opts); err != nil {
			p = append(p, decodeProblems(err)...)
		}
	}
	if len(p) > 0 {
		return p
	}
	s.Options, s.raw = opts, nil
	return nil
}

// checkOptions lets all[i]'s options fill in their defaults and report
// their problems.
func checkOptions(all []Source, path string, i int) Problems {
	c := &SourceCheck{Path: path, Source: &all[i], Sources: all}
	all[i].Options.Check(c)
	return c.probs
}
