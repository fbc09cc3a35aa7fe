package config

import (
	"errors"
	"os"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
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

func TestSecretsNeverPrint(t *testing.T) {
	t.Parallel()
	cfg, err := Load("testdata/contract.yaml", contractEnv)
	if err != nil {
		t.Fatal(err)
	}
	out, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"sapi-secret", "events-key", "axp-secret", "axp-appkey", "nsd-key", "0123456789abcdef0123456789abcdef", "reporting-token"} {
		if strings.Contains(string(out), secret) {
			t.Errorf("printed configuration contains the secret %q", secret)
		}
	}
	if s := Secret("x").String(); s != "[redacted]" {
		t.Errorf("Secret.String() = %q", s)
	}
}

func problems(t *testing.T, doc string, getenv func(string) string) []string {
	t.Helper()
	_, err := Parse([]byte(doc), getenv)
	if err == nil {
		return nil
	}
	var p Problems
	if !errors.As(err, &p) {
		t.Fatalf("error is %T, not Problems: %v", err, err)
	}
	return p
}

func TestProblemsHaveTheirPaths(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		doc  string
		env  map[string]string
		want []string // each must appear among the problems
	}{
		{"empty file is valid", "", nil, nil},
		{"unknown top-level key", "listn: x\n", nil, []string{"listn: unknown key"}},
		{"unknown source key", "sources:\n  - name: a\n    type: 8x8-sapi\n    url: https://x\n    tenant: t\n    subscription_id: s\n    token: k\n    tokne: k\n",
			nil, []string{"sources[0].tokne: unknown key"}},
		{"key of another type", "sources:\n  - name: a\n    type: 8x8-sapi\n    url: https://x\n    tenant: t\n    subscription_id: s\n    token: k\n    domain: d\n",
			nil, []string{"sources[0].domain: is not an option of type 8x8-sapi"}},
		{"missing fields", "sources:\n  - name: a\n    type: avaya-analytics\n    url: https://x\n",
			nil, []string{"sources[0].account_id: missing", "sources[0].client_id: missing", "sources[0].client_secret: missing",
				"sources[0].app_key: missing", "sources[0].measure_producers: missing"}},
		{"missing environment variable", "api_tokens:\n  - name: r\n    token: ${NOPE}\n", nil,
			[]string{"api_tokens[0].token: environment variable NOPE is not set"}},
		{"environment substitution works", "api_tokens:\n  - name: r\n    token: ${TOK}\n", map[string]string{"TOK": "abcdefghijklmnopqrstuvwxyz"}, nil},
		{"bad type", "sources:\n  - name: a\n    type: genesys\n    url: https://x\n", nil, []string{`sources[0].type: unknown type "genesys"`}},
		{"bad name and duplicate", "sources:\n  - {name: 'a b', type: simulation}\n  - {name: s, type: simulation}\n  - {name: s, type: simulation}\n",
			nil, []string{`sources[0].name: "a b" may contain only letters, digits and '-'`, `sources[2].name: "s" is used by another source`}},
		{"bad url", "sources:\n  - {name: a, type: 8x8-stream, url: 'pulsar.example', tenant: t, api_key: k}\n", nil,
			[]string{`sources[0].url: "pulsar.example" is not an absolute http(s) or ws(s) URL`}},
		{"consumer needs subscription", "sources:\n  - {name: a, type: 8x8-stream, url: 'wss://x', tenant: t, api_key: k, mode: consumer}\n", nil,
			[]string{"sources[0].subscription: missing (consumer mode needs a subscription name)"}},
		{"board problems", "boards:\n  - id: 'x y'\n    sources: [nope]\n    tiles: [waiting, rainbows]\n    kiosk:\n      - {name: tv, token: short}\n", nil,
			[]string{`boards[0].id: "x y" may contain only letters`, `boards[0].sources[0]: no source is named "nope"`,
				`boards[0].tiles[1]: unknown tile "rainbows"`, "boards[0].kiosk[0].token: must be at least 32 characters"}},
		{"service level as a fraction", "boards:\n  - id: b\n    thresholds: {service_level: {warn: 80}}\n", nil,
			[]string{"boards[0].thresholds.service_level: levels are fractions"}},
		{"top-level values", "timezone: Mars/Olympus\nflush_interval: 1ms\nlog_level: loud\n", nil,
			[]string{`timezone: unknown time zone "Mars/Olympus"`, "flush_interval: must be between 10ms and 10s", "log_level: must be"}},
		{"bad duration", "flush_interval: soon\n", nil, []string{`"soon" is not a duration`}},
		{"capture keys", "sources:\n  - {name: a, type: netsapiens, url: 'https://x', api_key: k, domain: d, public_url: 'https://w', capture: true, capture_max_mb: 20, capture_pseudonymise: true}\n  - {name: b, type: 8x8-stream, url: 'wss://x', tenant: t, api_key: k, capture: true}\n",
			nil, nil},
		{"capture of what has no wire, cap out of range", "sources:\n  - {name: a, type: simulation, capture: true, capture_max_mb: -1}\n", nil,
			[]string{"sources[0].capture: a simulation source has no vendor traffic to record", "sources[0].capture_max_mb: must be 1..100000 megabytes"}},
		{"every problem, not the first", "listn: x\nsources:\n  - {name: a, type: nope}\nboards:\n  - {id: ''}\n", nil,
			[]string{"listn: unknown key", "sources[0].type: unknown type", "boards[0].id: missing"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := problems(t, tt.doc, env(tt.env))
			if tt.want == nil && got != nil {
				t.Fatalf("unexpected problems:\n%s", strings.Join(got, "\n"))
			}
			for _, w := range tt.want {
				found := false
				for _, g := range got {
					if strings.Contains(g, w) {
						found = true
					}
				}
				if !found {
					t.Errorf("missing problem %q; got:\n%s", w, strings.Join(got, "\n"))
				}
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	t.Parallel()
	_, err := Load("testdata/nope.yaml", env(nil))
	if err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("err = %v, want not exist", err)
	}
}
