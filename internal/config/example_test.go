package config_test

import (
	"os"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/wallboard/wallboard/internal/config"
)

// examplePath is the full example configuration of the documentation.
const examplePath = "../../docs/wallboard.example.yaml"

// exampleEnv is what its ${NAME}s are set to when a test loads it.
var exampleEnv = env(map[string]string{
	"SUE_HASH":              "$2a$12$GCZAWmnEBWqK8yYLa2/5ye2ugnNiIDz4wFAycyveqYh1Uw6KEvWAC", // the hash of "example-password"
	"WALLBOARD_API_TOKEN":   "reporting-token-0123456789",
	"WALLBOARD_ADMIN_TOKEN": "admin-token-0123456789abcdef",
	"SAPI_TOKEN":            "sapi-secret",
	"EVENTS_API_KEY":        "events-key",
	"AXP_CLIENT_SECRET":     "axp-secret",
	"AXP_APP_KEY":           "axp-appkey",
	"NS_API_KEY":            "nsd-key",
	"CC_ACTION_TOKEN":       "action-token",
	"PGPASSWORD":            "pg-password",
	"OIDC_CLIENT_SECRET":    "oidc-secret",
	"ALERT_HOOK_TOKEN":      "hook-secret",
	"FLOOR_TV_TOKEN":        "0123456789abcdef0123456789abcdef",
	"LOBBY_TV_TOKEN":        "fedcba9876543210fedcba9876543210",
})

// TestExampleConfigurationLoads: docs/wallboard.example.yaml loads without
// a problem, and it names every key a configuration may have (every
// field of the configuration, every source type's options), so it cannot
// fall behind: a new key fails here until the example shows it.
func TestExampleConfigurationLoads(t *testing.T) {
	t.Parallel()
	cfg, err := config.Load(examplePath, exampleEnv)
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]bool{}
	for _, s := range cfg.Sources {
		types[s.Type] = true
	}
	for _, typ := range config.SourceTypes() {
		if !types[typ] {
			t.Errorf("no source of type %s in the example", typ)
		}
	}

	b, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	keyPaths(root.Content[0], "", have)
	want := map[string]bool{}
	structPaths(reflect.TypeOf(config.Config{}), "", want)
	for _, typ := range config.SourceTypes() {
		for k := range config.AllowedKeys(typ) {
			want["sources."+k] = true
		}
	}
	var missing []string
	for k := range want {
		if !have[k] {
			missing = append(missing, k)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("keys the example does not show:\n%s", strings.Join(missing, "\n"))
	}
}

// keyPaths adds the dotted path of every mapping key under n (list
// indices left out: boards.kiosk.name).
func keyPaths(n *yaml.Node, prefix string, out map[string]bool) {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			p := n.Content[i].Value
			if prefix != "" {
				p = prefix + "." + p
			}
			out[p] = true
			keyPaths(n.Content[i+1], p, out)
		}
	case yaml.SequenceNode:
		for _, c := range n.Content {
			keyPaths(c, prefix, out)
		}
	}
}

// structPaths adds the dotted path of every yaml field of t, into structs,
// pointers, slices and maps of structs; maps with keys of the user's
// choosing (webhook headers) stop at the map.
func structPaths(t reflect.Type, prefix string, out map[string]bool) {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || t.PkgPath() != reflect.TypeOf(config.Config{}).PkgPath() {
		return
	}
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if slices.Contains(strings.Split(opts, ","), "inline") {
			structPaths(f.Type, prefix, out)
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		p := name
		if prefix != "" {
			p = prefix + "." + name
		}
		out[p] = true
		if f.Type.Kind() != reflect.Map {
			structPaths(f.Type, p, out)
		}
	}
}
