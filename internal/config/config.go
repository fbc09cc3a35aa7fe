// Package config is wallboard's configuration: a typed YAML schema with
// defaults, ${NAME} substitution from the environment, and validation that
// reports every problem with its path (sources[2].url: missing).
package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Config is the whole configuration file.
type Config struct {
	Listen        string   `yaml:"listen"`
	StateDir      string   `yaml:"state_dir"`
	Timezone      string   `yaml:"timezone"`
	FlushInterval Duration `yaml:"flush_interval"`
	// ServiceLevelThreshold: a contact answered within this wait counts as
	// answered within the service level.
	ServiceLevelThreshold Duration `yaml:"service_level_threshold"`
	// Heartbeat is the interval of SSE heartbeat comments to browsers.
	Heartbeat Duration `yaml:"heartbeat"`
	LogLevel  string   `yaml:"log_level"`  // debug | info | warn | error
	LogFormat string   `yaml:"log_format"` // text | json
	// SnapshotInterval is how often the model's snapshot is written to
	// state_dir (and always on shutdown).
	SnapshotInterval Duration `yaml:"snapshot_interval"`

	// Database, IntervalLength, HistoryDays: see database.go.
	Database       Secret   `yaml:"database"`
	IntervalLength Duration `yaml:"interval_length"`
	HistoryDays    int      `yaml:"history_days"`

	APITokens []APIToken `yaml:"api_tokens"`
	Sources   []Source   `yaml:"sources"`
	Boards    []Board    `yaml:"boards"`

	// TLS and Auth: see auth.go.
	TLS  TLS  `yaml:"tls"`
	Auth Auth `yaml:"auth"`

	// Cluster: see cluster.go; nil without the cluster: key.
	Cluster *Cluster `yaml:"cluster"`

	// QueueSettings and Alerts: see console.go.
	QueueSettings []QueueSetting `yaml:"queue_settings"`
	Alerts        Alerts         `yaml:"alerts"`

	// Branding: the installation's name, colour and logo (look.go).
	Branding Branding `yaml:"branding"`

	// Location is Timezone loaded; set by Validate.
	Location *time.Location `yaml:"-"`
}

// APIToken is a bearer token for /api/v1/*.
type APIToken struct {
	Name  string `yaml:"name"`
	Token Secret `yaml:"token"`
	Scope string `yaml:"scope"` // read (default) | admin: see database.go
}

// Board is a named view of some sources and queues.
type Board struct {
	ID      string   `yaml:"id"`
	Title   string   `yaml:"title"`
	Sources []string `yaml:"sources"` // empty = all
	Queues  []string `yaml:"queues"`  // queue ids or names; empty = all of those sources
	Kiosk   []Kiosk  `yaml:"kiosk"`
	// Tiles lists the KPI tiles across the top, in order; empty = DefaultTiles.
	Tiles []string `yaml:"tiles"`
	// Measures lists the vendor measures shown on each queue tile, each by
	// name or with label, unit, format (measures.go).
	Measures   []Measure  `yaml:"measures"`
	Thresholds Thresholds `yaml:"thresholds"`
	// Targets shows each headline figure's target (its warn threshold)
	// beside it: "Service level 75%, target 80%".
	Targets bool `yaml:"targets"`
	// Staffing shows on each queue tile the agents Erlang C says the queue
	// needs now beside the agents it has ("needs 7 · has 5").
	Staffing bool `yaml:"staffing"`
	// GroupBy groups the agent grid: "" (none), "queue" or "source".
	GroupBy string `yaml:"group_by"`
	// Sort orders the agent grid: "name" (the default) or "problems"
	// (longest not ready first, then longest ringing, wrap-up, …).
	Sort string `yaml:"sort"`
	// Look (look.go): theme, clock and language of the board's screens.
	Theme string `yaml:"theme"` // dark (default) | light
	Clock string `yaml:"clock"` // 24h (default) | 12h
	Lang  string `yaml:"lang"`  // en (default) | de | fr | es
	// Langs are more languages the board is rendered in for its viewers,
	// chosen by ?lang= or the browser's Accept-Language.
	Langs []string `yaml:"langs"`
	// BoardAccess: who may see it, who may frame it (auth.go).
	BoardAccess `yaml:",inline"`
}

// Kiosk is a TV link: /tv/{token} shows the board without sign-in.
type Kiosk struct {
	Name         string           `yaml:"name"`
	Token        Secret           `yaml:"token"`
	KioskOptions `yaml:",inline"` // auth.go
	// Sound: beep when one of the board's queues goes into alarm (console.go).
	Sound bool `yaml:"sound"`
}

// Thresholds colour tiles and cards: warn (amber) and alarm (red).
type Thresholds struct {
	Waiting       Levels[int]      `yaml:"waiting"`         // contacts waiting in a queue
	LongestWait   Levels[Duration] `yaml:"longest_wait"`    // oldest waiting contact
	ServiceLevel  Levels[float64]  `yaml:"service_level"`   // alarm when BELOW (fractions, 0.8 = 80%)
	NotReady      Levels[Duration] `yaml:"not_ready"`       // an agent's time in not_ready
	WrapUp        Levels[Duration] `yaml:"wrap_up"`         // an agent's time in wrap_up
	AbandonRate   Levels[float64]  `yaml:"abandon_rate"`    // alarm when ABOVE (fractions, 0.05 = 5%)
	SpeedOfAnswer Levels[Duration] `yaml:"speed_of_answer"` // today's average speed of answer
}

// Levels is a warn/alarm pair; a zero value disables that level.
type Levels[T any] struct {
	Warn  T `yaml:"warn"`
	Alarm T `yaml:"alarm"`
}

// KPI tile names a board may list in tiles.
var KnownTiles = []string{"waiting", "longest_wait", "offered", "answered", "abandoned", "service_level",
	"aht", "available", "busy", "not_ready", "abandon_rate", "asa", "agents_by_state"}

// GroupBys and Sorts are the values of a board's group_by and sort.
var (
	GroupBys = []string{"", "queue", "source"}
	Sorts    = []string{"", "name", "problems"}
)

// DefaultTiles are shown when a board lists none.
var DefaultTiles = []string{"waiting", "longest_wait", "service_level", "offered", "answered", "abandoned", "aht", "available"}

// Default returns the configuration with every default filled in.
func Default() Config {
	return Config{
		Listen:                "127.0.0.1:8080",
		StateDir:              "./data",
		Timezone:              "Local",
		FlushInterval:         Duration(100 * time.Millisecond),
		ServiceLevelThreshold: Duration(20 * time.Second),
		Heartbeat:             Duration(15 * time.Second),
		LogLevel:              "info",
		LogFormat:             "text",
		SnapshotInterval:      Duration(5 * time.Second),
		IntervalLength:        Duration(15 * time.Minute),
		HistoryDays:           400,
	}
}

// Load reads, substitutes, decodes and validates the file at path.
func Load(path string, getenv func(string) string) (Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("failed to read configuration: %w", err)
	}
	return Parse(b, getenv)
}

// Problems is every problem found in a configuration, one "path: message"
// each. It is the error Parse returns for an invalid file.
type Problems []string

func (p Problems) Error() string { return strings.Join(p, "\n") }

// Parse decodes and validates a configuration document.
func Parse(b []byte, getenv func(string) string) (Config, error) {
	cfg := Default()
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		return Config{}, Problems{"(file): " + strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	var probs Problems
	if len(root.Content) == 0 { // empty document: all defaults
		return cfg, finish(&cfg, probs)
	}
	doc := root.Content[0]
	substitute(doc, "", getenv, &probs)
	checkKeys(doc, reflect.TypeOf(cfg), "", &probs)
	dec := yaml.NewDecoder(bytes.NewReader(mustMarshal(doc)))
	if err := dec.Decode(&cfg); err != nil {
		return Config{}, append(probs, decodeProblems(err)...)
	}
	return cfg, finish(&cfg, probs)
}

// decodeProblems turns a decoding error into problems of the file.
func decodeProblems(err error) Problems {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		p := make(Problems, 0, len(te.Errors))
		for _, e := range te.Errors {
			p = append(p, "(file): "+e)
		}
		return p
	}
	return Problems{"(file): " + err.Error()}
}

func finish(cfg *Config, probs Problems) error {
	probs = append(probs, cfg.Validate()...)
	if len(probs) > 0 {
		return probs
	}
	return nil
}

func mustMarshal(n *yaml.Node) []byte {
	b, err := yaml.Marshal(n)
	if err != nil {
		panic(err) // a node tree yaml.v3 itself produced always marshals
	}
	return b
}

var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// substitute replaces ${NAME} in every scalar value with the environment
// variable NAME; a missing variable is a problem that names it.
func substitute(n *yaml.Node, path string, getenv func(string) string, probs *Problems) {
	switch n.Kind {
	case yaml.ScalarNode:
		if !strings.Contains(n.Value, "${") {
			return
		}
		n.Value = envRef.ReplaceAllStringFunc(n.Value, func(m string) string {
			name := m[2 : len(m)-1]
			v := getenv(name)
			if v == "" {
				*probs = append(*probs, fmt.Sprintf("%s: environment variable %s is not set", orFile(path), name))
			}
			return v
		})
		if n.Tag == "" || n.Tag == "!!str" || n.Style != 0 {
			return
		}
		n.Tag = "" // let the decoder re-resolve a substituted number or bool
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			substitute(n.Content[i+1], join(path, n.Content[i].Value), getenv, probs)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			substitute(c, fmt.Sprintf("%s[%d]", path, i), getenv, probs)
		}
	}
}

// checkKeys reports every mapping key that the target type does not declare.
func checkKeys(n *yaml.Node, t reflect.Type, path string, probs *Problems) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch n.Kind {
	case yaml.MappingNode:
		switch t.Kind() {
		case reflect.Struct:
			if t == reflect.TypeOf(Duration(0)) || t == reflect.TypeOf(Source{}) {
				return // a source's keys depend on its type: validateSources checks them
			}
			fields := yamlFields(t)
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i].Value, n.Content[i+1]
				ft, ok := fields[k]
				if !ok {
					*probs = append(*probs, fmt.Sprintf("%s: unknown key", join(path, k)))
					continue
				}
				checkKeys(v, ft, join(path, k), probs)
			}
		case reflect.Map:
			for i := 0; i+1 < len(n.Content); i += 2 {
				checkKeys(n.Content[i+1], t.Elem(), join(path, n.Content[i].Value), probs)
			}
		}
	case yaml.SequenceNode:
		if t.Kind() == reflect.Slice {
			for i, c := range n.Content {
				checkKeys(c, t.Elem(), fmt.Sprintf("%s[%d]", path, i), probs)
			}
		}
	}
}

// yamlFields maps yaml keys to field types, following ",inline" structs.
func yamlFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if strings.Contains(opts, "inline") {
			for k, v := range yamlFields(f.Type) {
				out[k] = v
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out[name] = f.Type
	}
	return out
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func orFile(path string) string {
	if path == "" {
		return "(file)"
	}
	return path
}

var (
	nameRE    = regexp.MustCompile(`^[A-Za-z0-9-]+$`)
	boardIDRE = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
)

// Validate checks the decoded configuration and fills derived fields. It
// returns every problem, each as "path: message".
func (c *Config) Validate() Problems {
	var p Problems
	add := func(path, format string, args ...any) { p = append(p, path+": "+fmt.Sprintf(format, args...)) }

	if c.Listen == "" {
		add("listen", "missing")
	}
	if c.StateDir == "" {
		add("state_dir", "missing")
	}
	if loc, err := time.LoadLocation(c.Timezone); err != nil {
		add("timezone", "unknown time zone %q", c.Timezone)
	} else {
		c.Location = loc
	}
	if c.FlushInterval.D() < 10*time.Millisecond || c.FlushInterval.D() > 10*time.Second {
		add("flush_interval", "must be between 10ms and 10s, not %s", c.FlushInterval)
	}
	if c.ServiceLevelThreshold.D() <= 0 {
		add("service_level_threshold", "must be positive")
	}
	if c.Heartbeat.D() < time.Second {
		add("heartbeat", "must be at least 1s")
	}
	if !slices.Contains([]string{"debug", "info", "warn", "error"}, c.LogLevel) {
		add("log_level", "must be debug, info, warn or error")
	}
	if !slices.Contains([]string{"text", "json"}, c.LogFormat) {
		add("log_format", "must be text or json")
	}

	seenTok := map[string]string{}
	for i, t := range c.APITokens {
		path := fmt.Sprintf("api_tokens[%d]", i)
		if t.Name == "" {
			add(path+".name", "missing")
		}
		if len(t.Token) < 16 {
			add(path+".token", "must be at least 16 characters")
		}
		seenTok[string(t.Token)] = path
	}

	p = append(p, c.validateSources()...)
	names := map[string]bool{}
	for _, s := range c.Sources {
		names[s.Name] = true
	}
	p = append(p, c.validateOperations()...)
	p = append(p, c.validateDatabase()...)
	p = append(p, c.validateCluster()...)
	p = append(p, c.validateSecurity()...)
	p = append(p, c.validateConsole()...)
	p = append(p, c.validateLook()...)

	ids := map[string]bool{}
	kioskTokens := map[string]string{}
	for i := range c.Boards {
		b := &c.Boards[i]
		path := fmt.Sprintf("boards[%d]", i)
		switch {
		case b.ID == "":
			add(path+".id", "missing")
		case !boardIDRE.MatchString(b.ID):
			add(path+".id", "%q may contain only letters, digits, '_' and '-'", b.ID)
		case ids[b.ID]:
			add(path+".id", "%q is used by another board", b.ID)
		}
		ids[b.ID] = true
		if b.Title == "" {
			b.Title = b.ID
		}
		for j, s := range b.Sources {
			if !names[s] {
				add(fmt.Sprintf("%s.sources[%d]", path, j), "no source is named %q", s)
			}
		}
		if len(b.Tiles) == 0 {
			b.Tiles = DefaultTiles
		}
		for j, t := range b.Tiles {
			if !slices.Contains(KnownTiles, t) {
				add(fmt.Sprintf("%s.tiles[%d]", path, j), "unknown tile %q (known: %s)", t, strings.Join(KnownTiles, ", "))
			}
		}
		for j, k := range b.Kiosk {
			kp := fmt.Sprintf("%s.kiosk[%d]", path, j)
			if k.Name == "" {
				add(kp+".name", "missing")
			}
			if len(k.Token) < 32 {
				add(kp+".token", "must be at least 32 characters")
			}
			if other, ok := kioskTokens[string(k.Token)]; ok && k.Token != "" {
				add(kp+".token", "is also used by %s", other)
			}
			kioskTokens[string(k.Token)] = kp
		}
		p = append(p, validateMeasures(path, b.Measures)...)
		if !slices.Contains(GroupBys, b.GroupBy) {
			add(path+".group_by", "must be queue or source, not %q", b.GroupBy)
		}
		if !slices.Contains(Sorts, b.Sort) {
			add(path+".sort", "must be name or problems, not %q", b.Sort)
		}
		th := b.Thresholds
		if th.ServiceLevel.Warn < 0 || th.ServiceLevel.Warn > 1 || th.ServiceLevel.Alarm < 0 || th.ServiceLevel.Alarm > 1 {
			add(path+".thresholds.service_level", "levels are fractions between 0 and 1 (0.8 = 80%%)")
		}
		if th.AbandonRate.Warn < 0 || th.AbandonRate.Warn > 1 || th.AbandonRate.Alarm < 0 || th.AbandonRate.Alarm > 1 {
			add(path+".thresholds.abandon_rate", "levels are fractions between 0 and 1 (0.05 = 5%%)")
		}
	}
	return p
}

// Board returns the board with id, or false.
func (c *Config) Board(id string) (*Board, bool) {
	for i := range c.Boards {
		if c.Boards[i].ID == id {
			return &c.Boards[i], true
		}
	}
	return nil, false
}

// Secret is a string that never prints: logs and dumps show [redacted].
type Secret string

func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "[redacted]"
}

// MarshalYAML redacts the secret when a configuration is printed.
func (s Secret) MarshalYAML() (any, error) { return s.String(), nil }

// Reveal returns the secret's value, for the one place that sends it.
func (s Secret) Reveal() string { return string(s) }

// Duration is a time.Duration written as "100ms", "30s", "5m".
type Duration time.Duration

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

func (d Duration) String() string { return time.Duration(d).String() }

// UnmarshalYAML accepts Go duration strings, and plain numbers as seconds.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: a duration must be a string like \"30s\"", n.Line)
	}
	if secs, err := strconv.ParseFloat(n.Value, 64); err == nil {
		*d = Duration(secs * float64(time.Second))
		return nil
	}
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %q is not a duration (like \"30s\" or \"5m\")", n.Line, n.Value)
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes the duration as a string.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// sortedKeys returns m's keys in order, for stable messages.
func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
