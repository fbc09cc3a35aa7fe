package netsapiens_test

import (
	"strings"
	"testing"
	"time"

	"github.com/wallboard/wallboard/internal/config"
	"github.com/wallboard/wallboard/internal/source/netsapiens"
)

func TestConfigOptions(t *testing.T) {
	t.Parallel()
	base := `
sources:
  - name: ns
    type: netsapiens
    url: https://pbx.example.com
    api_key: nsd-abc
    domain: acme.service
    public_url: https://wallboard.example.com
`
	tests := []struct {
		name  string
		extra string
		probs []string // substrings of expected problems; none = valid
		check func(t *testing.T, n netsapiens.Options)
	}{
		{"defaults", "", nil, func(t *testing.T, n netsapiens.Options) {
			if n.MaxBodyBytes != 1<<20 || n.QuietPeriod.D() != 2*time.Minute || n.StatusInterval.D() != 30*time.Second ||
				n.GeoSupport != "yes" || n.SubscriptionUser != "*" || n.WebhookQueue != 1024 || n.CleanupOnShutdown ||
				strings.Join(n.Models, ",") != "agent,call,cdr" {
				t.Errorf("defaults %+v", n)
			}
		}},
		{"options", "    max_body_bytes: 65536\n    quiet_period: 5m\n    status_interval: 10s\n    cleanup_on_shutdown: true\n    geo_support: \"no\"\n    models: [agent, presence]\n",
			nil, func(t *testing.T, n netsapiens.Options) {
				if n.MaxBodyBytes != 65536 || n.QuietPeriod.D() != 5*time.Minute || !n.CleanupOnShutdown || n.GeoSupport != "no" {
					t.Errorf("options %+v", n)
				}
			}},
		{"bad values", "    max_body_bytes: 10\n    geo_support: maybe\n    models: [agent, agent, voicemail]\n",
			[]string{"max_body_bytes: must be at least 1024", "geo_support: must be yes or no", "models[1]: model \"agent\" is listed twice", "models[2]: unknown model \"voicemail\""}, nil},
		{"bad public url", "    public_url_typo: x\n", []string{"public_url_typo: unknown key"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := config.Parse([]byte(base+tc.extra), func(string) string { return "" })
			if len(tc.probs) == 0 {
				if err != nil {
					t.Fatalf("unexpected problems: %v", err)
				}
				tc.check(t, *cfg.Sources[0].Options.(*netsapiens.Options))
				return
			}
			if err == nil {
				t.Fatal("no problems reported")
			}
			for _, p := range tc.probs {
				if !strings.Contains(err.Error(), p) {
					t.Errorf("problems %q lack %q", err, p)
				}
			}
		})
	}
}
