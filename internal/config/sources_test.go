// The vendor packages register their source types when imported, and they
// import config, so the tests that need them are in package config_test.
// Linked into the same test binary, the registrations also serve the tests
// of package config whose files name vendor types.
package config_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/wallboard/wallboard/internal/config"
	"github.com/wallboard/wallboard/internal/source/axp"
	"github.com/wallboard/wallboard/internal/source/netsapiens"
	"github.com/wallboard/wallboard/internal/source/pulsar"
	"github.com/wallboard/wallboard/internal/source/sapi"
	_ "github.com/wallboard/wallboard/internal/source/vendors"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

var contractEnv = env(map[string]string{
	"WALLBOARD_API_TOKEN": "reporting-token-0123456789",
	"SAPI_TOKEN":          "sapi-secret",
	"EVENTS_API_KEY":      "events-key",
	"AXP_CLIENT_SECRET":   "axp-secret",
	"AXP_APP_KEY":         "axp-appkey",
	"NS_API_KEY":          "nsd-key",
	"FLOOR_TV_TOKEN":      "0123456789abcdef0123456789abcdef",
})

// The example in CONTRACT.md is the reference: it must load as written.
func TestContractExampleLoads(t *testing.T) {
	t.Parallel()
	cfg, err := config.Load("testdata/contract.yaml", contractEnv)
	if err != nil {
		t.Fatalf("contract example rejected:\n%v", err)
	}
	if cfg.Location == nil || cfg.Location.String() != "Europe/London" {
		t.Errorf("location = %v", cfg.Location)
	}
	if cfg.FlushInterval.D() != 100*time.Millisecond {
		t.Errorf("flush_interval = %s", cfg.FlushInterval)
	}
	if len(cfg.Sources) != 5 || len(cfg.Boards) != 1 {
		t.Fatalf("got %d sources, %d boards", len(cfg.Sources), len(cfg.Boards))
	}
	sapiSrc, _ := cfg.Sources[0].Options.(*sapi.Options)
	if cfg.Sources[0].Type != sapi.Type || sapiSrc == nil || sapiSrc.Token.Reveal() != "sapi-secret" || sapiSrc.Format != "json" || sapiSrc.SubscriptionID != "wallboard-1" {
		t.Errorf("sapi = %+v %+v", cfg.Sources[0], sapiSrc)
	}
	if got := cfg.Sources[3].Options.(*axp.Options).MeasureProducers; !slices.Equal(got, []string{"Queue_itd_1.0.0", "Agent_itd_1.0.0"}) {
		t.Errorf("measure_producers = %v", got)
	}
	if got := cfg.Sources[4].Options.(*netsapiens.Options).Models; !slices.Equal(got, []string{"agent", "call", "cdr"}) {
		t.Errorf("models = %v", got)
	}
	b := cfg.Boards[0]
	if b.Kiosk[0].Token.Reveal() != "0123456789abcdef0123456789abcdef" || !slices.Equal(b.Sources, []string{"uk-sapi", "axp-floor"}) {
		t.Errorf("board = %+v", b)
	}
	if !slices.Equal(b.Tiles, config.DefaultTiles) {
		t.Errorf("tiles default = %v", b.Tiles)
	}
}

func TestAnalyticsAttachTo(t *testing.T) {
	t.Parallel()
	cfg, err := config.Load("testdata/contract.yaml", contractEnv)
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Sources[3].Options.(*axp.Options).AttachTo; got != "axp-floor" {
		t.Errorf("axp-stats attaches to %q by default, want axp-floor (same url and account)", got)
	}
	doc := "sources:\n  - {name: a, type: avaya-analytics, url: 'https://x', account_id: A, client_id: c, client_secret: s, app_key: k, measure_producers: [P], attach_to: nope}\n"
	_, err = config.Parse([]byte(doc), env(nil))
	var p config.Problems
	if !errors.As(err, &p) || len(p) != 1 || !strings.Contains(p[0], `sources[0].attach_to: no avaya-engagement source is named "nope"`) {
		t.Errorf("problems = %v", err)
	}
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	cfg, err := config.Parse([]byte("sources:\n  - {name: s, type: 8x8-stream, url: 'wss://x', tenant: t, api_key: k}\n"), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	d := config.Default()
	if cfg.Listen != "127.0.0.1:8080" || cfg.StateDir != "./data" || cfg.FlushInterval != d.FlushInterval {
		t.Errorf("defaults not applied: %+v", cfg)
	}
	s := cfg.Sources[0].Options.(*pulsar.Options)
	if s.Namespace != "event-v1" || s.Topic != "all" || s.Mode != "reader" {
		t.Errorf("8x8-stream defaults: namespace %q topic %q mode %q", s.Namespace, s.Topic, s.Mode)
	}
}

// TestPrintedSourcesCarryTheirOptions: a printed configuration shows each
// source's own options beside the common keys, secrets redacted.
func TestPrintedSourcesCarryTheirOptions(t *testing.T) {
	t.Parallel()
	cfg, err := config.Load("testdata/contract.yaml", contractEnv)
	if err != nil {
		t.Fatal(err)
	}
	out, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, want string }{
		{"8x8-sapi option", "subscription_id: wallboard-1"},
		{"avaya option", "measure_producers:"},
		{"netsapiens option", "public_url: https://wallboard.example.com"},
		{"a secret of an option", "token: '[redacted]'"},
		{"common key", "name: uk-sapi"},
	}
	for _, tt := range tests {
		if !strings.Contains(string(out), tt.want) {
			t.Errorf("%s: printed configuration lacks %q", tt.name, tt.want)
		}
	}
	if strings.Contains(string(out), "sapi-secret") {
		t.Error("printed configuration carries a secret")
	}
}

func TestSourceThatIsNotAMapping(t *testing.T) {
	t.Parallel()
	_, err := config.Parse([]byte("sources:\n  - uk-sapi\n"), env(nil))
	if err == nil || !strings.Contains(err.Error(), "(file): line 2: a source is a mapping of keys") {
		t.Errorf("err = %v", err)
	}
}
