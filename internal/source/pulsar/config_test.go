package pulsar

import (
	"strings"
	"testing"
	"time"

	"github.com/wallboard/wallboard/internal/config"
)

// TestConfig checks the 8x8-stream options' defaults and validation through
// the real configuration loader.
func TestConfig(t *testing.T) {
	t.Parallel()
	const head = "sources:\n  - name: s\n    url: https://vcc-uk1.8x8.com\n    tenant: acme\n"
	tests := []struct {
		name string
		yaml string
		want []string // problems that must be reported; none when empty
	}{
		{"stream defaults", head + "    type: 8x8-stream\n    api_key: k\n", nil},
		{"stream bad options", head + "    type: 8x8-stream\n    api_key: k\n    mode: consumer\n    subscription_type: failover\n    receiver_queue_size: 5000\n",
			[]string{"subscription: missing", "subscription_type", "receiver_queue_size"}},
		{"misspelt key", head + "    type: 8x8-stream\n    api_key: k\n    namespac: x\n", []string{"sources[0].namespac: unknown key"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := config.Parse([]byte(tt.yaml), func(string) string { return "" })
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("problems: %v", err)
				}
				s := cfg.Sources[0].Options.(*Options)
				if s.Mode != "reader" || s.SubscriptionType != "Failover" || s.ReceiverQueueSize != 1000 ||
					s.PingInterval.D() != 30*time.Second || s.InitialPosition != "latest" || s.ConnectTimeout.D() != 45*time.Second {
					t.Errorf("stream defaults %+v", *s)
				}
				return
			}
			if err == nil {
				t.Fatal("no problems reported")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("problems %v lack %q", err, w)
				}
			}
		})
	}
}
