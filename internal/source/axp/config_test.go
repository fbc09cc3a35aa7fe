package axp

import (
	"strings"
	"testing"
	"time"

	"github.com/wallboard/wallboard/internal/config"
)

const cfgHead = `
sources:
  - name: "axp"
    url: "https://uk.api.avayacloud.com"
    account_id: "DYNNUG"
    client_id: "wallboard"
    client_secret: "s"
    app_key: "k"
`

func TestConfigOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, yaml string
		problem    string // "" = valid
		check      func(t *testing.T, s *Options)
	}{
		{"engagement defaults", "    type: avaya-engagement\n", "", func(t *testing.T, s *Options) {
			if s.PingEvery.D() != 30*time.Second || s.PongTimeout.D() != 10*time.Second || s.RequestTimeout.D() != 15*time.Second ||
				len(s.Events) != 1 || s.Events[0] != "ALL" || s.RenewFraction < 0.33 || s.RenewFraction > 0.34 {
				t.Errorf("defaults %+v", *s)
			}
		}},
		{"analytics with producers and options", "    type: avaya-analytics\n    measure_producers: [\"Queue_itd_1.0.0\", \"Agent_itd_1.0.0\"]\n    ping_every: 10s\n    init_settle: 500ms\n", "", func(t *testing.T, s *Options) {
			if s.PingEvery.D() != 10*time.Second || s.InitSettle.D() != 500*time.Millisecond || len(s.MeasureProducers) != 2 {
				t.Errorf("options %+v", *s)
			}
		}},
		{"reason codes", "    type: avaya-engagement\n    reason_codes: {\"514\": \"Missed call\"}\n", "", func(t *testing.T, s *Options) {
			if s.ReasonCodes["514"] != "Missed call" {
				t.Errorf("reason codes %v", s.ReasonCodes)
			}
		}},
		{"analytics without producers", "    type: avaya-analytics\n", "measure_producers: missing", nil},
		{"producer twice", "    type: avaya-analytics\n    measure_producers: [a, a]\n", "listed twice", nil},
		{"too many events", "    type: avaya-engagement\n    events: [" + strings.Repeat("E,", 25) + "E]\n", "at most 25", nil},
		{"renew fraction", "    type: avaya-engagement\n    renew_fraction: 1.5\n", "renew_fraction", nil},
		{"negative ping", "    type: avaya-engagement\n    ping_every: -1s\n", "ping_every: must not be negative", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := config.Parse([]byte(cfgHead+tt.yaml), func(string) string { return "" })
			if tt.problem != "" {
				if err == nil || !strings.Contains(err.Error(), tt.problem) {
					t.Fatalf("err = %v, want %q", err, tt.problem)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, cfg.Sources[0].Options.(*Options))
			if _, err := New(cfg.Sources[0], nil, nil); err != nil {
				t.Errorf("New: %v", err)
			}
		})
	}
}
