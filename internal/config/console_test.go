package config

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

const consoleBase = `
sources:
  - {name: sim, type: simulation}
boards:
  - {id: floor}
`

func TestConsoleSettings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		yaml  string
		probs []string // each must appear; none means valid
		check func(t *testing.T, c Config)
	}{
		{name: "defaults", yaml: `
service_level_threshold: 30s
queue_settings:
  - {queue: Sales}
`, check: func(t *testing.T, c Config) {
			q := c.QueueSettings[0]
			if q.ServiceLevelThreshold.D() != 30*time.Second || q.ShortAbandon != 0 || !q.Abandons() {
				t.Errorf("defaults = %+v", q)
			}
		}},
		{name: "every key", yaml: `
queue_settings:
  - {queue: q1, source: sim, service_level_threshold: 45s, short_abandon: 5s, abandons_in_sl: false}
alerts:
  reasons:
    - {reason: Lunch, after: 45m}
  webhook: {url: "https://hooks.example.com/x", headers: {Authorization: "Bearer abc"}, boards: [floor]}
`, check: func(t *testing.T, c Config) {
			q := c.QueueSettings[0]
			if q.ServiceLevelThreshold.D() != 45*time.Second || q.ShortAbandon.D() != 5*time.Second || q.Abandons() {
				t.Errorf("settings = %+v", q)
			}
			if c.ReasonAfter("Lunch") != 45*time.Minute || c.ReasonAfter("Break") != 0 {
				t.Errorf("reason thresholds = %+v", c.Alerts.Reasons)
			}
			w := c.Alerts.Webhook
			if w.Timeout.D() != 5*time.Second || w.Attempts != 6 || w.Headers["Authorization"].Reveal() != "Bearer abc" {
				t.Errorf("webhook = %+v", w)
			}
		}},
		{name: "problems with paths", yaml: `
queue_settings:
  - {source: nope, short_abandon: -1s}
  - {queue: Sales}
  - {queue: Sales, abandons: true}
alerts:
  reasons:
    - {reason: Lunch}
    - {reason: Lunch, after: 1m}
  webhook: {url: "ftp://x", attempts: 1000, boards: [nope]}
`, probs: []string{
			"queue_settings[0].queue: missing", `queue_settings[0].source: no source is named "nope"`,
			"queue_settings[0].short_abandon: must not be negative", "queue_settings[2].abandons: unknown key",
			`queue_settings[2].queue: "Sales" is already set by queue_settings[1]`,
			"alerts.reasons[0].after: must be positive", `alerts.reasons[1].reason: "Lunch" is already set by alerts.reasons[0]`,
			"alerts.webhook.url: must be an http or https URL", "alerts.webhook.attempts: must be between 1 and 100",
			`alerts.webhook.boards[0]: no board has id "nope"`}},
		{name: "kiosk sound", yaml: `
boards:
  - id: tv
    kiosk: [{name: wall, token: "0123456789abcdef0123456789abcdef", sound: true}]
`, check: func(t *testing.T, c Config) {
			b, _ := c.Board("tv")
			if !b.Kiosk[0].Sound {
				t.Error("sound not set")
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			doc := consoleBase + tt.yaml
			if strings.Contains(tt.yaml, "\nboards:") {
				doc = "sources:\n  - {name: sim, type: simulation}\n" + tt.yaml
			}
			c, err := Parse([]byte(doc), env(nil))
			var probs Problems
			errors.As(err, &probs)
			if len(tt.probs) == 0 && err != nil {
				t.Fatalf("unexpected problems:\n%v", err)
			}
			for _, want := range tt.probs {
				if !slices.ContainsFunc(probs, func(p string) bool { return strings.HasPrefix(p, want) }) {
					t.Errorf("missing problem %q in:\n%v", want, err)
				}
			}
			if tt.check != nil {
				tt.check(t, c)
			}
		})
	}
}
