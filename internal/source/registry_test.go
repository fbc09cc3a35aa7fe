package source

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/wallboard/wallboard/internal/config"
)

// acmeOptions are the options of a vendor written for this test: the whole
// of what a new vendor adds, besides its Source, is this and Register.
type acmeOptions struct {
	Site  string          `yaml:"site"`
	Depth int             `yaml:"depth"`
	Poll  config.Duration `yaml:"poll"`
}

func (o *acmeOptions) Check(c *config.SourceCheck) {
	c.CheckURL()
	c.Required(map[string]string{"site": o.Site})
	if o.Depth < 0 {
		c.Add("depth", "must not be negative")
	}
	if o.Depth == 0 {
		o.Depth = 3 // the default
	}
}

type acmeSource struct {
	name string
	opts acmeOptions
}

func (s *acmeSource) Name() string                               { return s.name }
func (s *acmeSource) Type() string                               { return "acme-test" }
func (s *acmeSource) Run(ctx context.Context, _ *Reporter) error { <-ctx.Done(); return nil }

func init() {
	Register(Type{
		Name:    "acme-test",
		Options: func() config.SourceOptions { return new(acmeOptions) },
		New: func(sc config.Source, _ Deps) (Source, http.Handler, error) {
			o, _ := sc.Options.(*acmeOptions)
			if o == nil {
				o = &acmeOptions{}
			}
			return &acmeSource{name: sc.Name, opts: *o}, nil, nil
		},
	})
}

// TestRegisteredTypeIsConfigured: a type registered from its package is
// read from the file with its own keys and defaults, its problems carry
// their paths, and New builds it; the core names no vendor.
func TestRegisteredTypeIsConfigured(t *testing.T) {
	t.Parallel()
	const head = "sources:\n  - name: a\n    type: acme-test\n"
	tests := []struct {
		name  string
		yaml  string
		probs []string // each must be among the problems; none = valid
	}{
		{"valid, defaults filled in", head + "    url: https://acme.example\n    site: north\n    poll: 2s\n", nil},
		{"own checks with paths", head + "    depth: -1\n", []string{"sources[0].url: missing", "sources[0].site: missing",
			"sources[0].depth: must not be negative"}},
		{"unknown key", head + "    url: https://acme.example\n    site: n\n    sight: n\n", []string{"sources[0].sight: unknown key"}},
		{"wrong value type", head + "    url: https://acme.example\n    site: n\n    depth: deep\n", []string{"(file): line"}},
		{"unknown type", "sources:\n  - {name: a, type: acme-nope}\n", []string{`sources[0].type: unknown type "acme-nope" (known: `, "acme-test"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := config.Parse([]byte(tt.yaml), func(string) string { return "" })
			if len(tt.probs) > 0 {
				if err == nil {
					t.Fatal("no problems reported")
				}
				for _, p := range tt.probs {
					if !strings.Contains(err.Error(), p) {
						t.Errorf("problems %q lack %q", err, p)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			o, ok := cfg.Sources[0].Options.(*acmeOptions)
			if !ok || o.Site != "north" || o.Depth != 3 || o.Poll.String() != "2s" {
				t.Fatalf("options %#v", cfg.Sources[0].Options)
			}
			src, hook, err := New(cfg.Sources[0], Deps{})
			if err != nil || hook != nil {
				t.Fatalf("New: %v, %v", hook, err)
			}
			if a, ok := src.(*acmeSource); !ok || a.name != "a" || a.opts.Site != "north" {
				t.Errorf("built %#v", src)
			}
		})
	}
}

func TestNewUnknownTypeAndRegisterTwice(t *testing.T) {
	t.Parallel()
	if _, _, err := New(config.Source{Name: "x", Type: "acme-nope"}, Deps{}); err == nil || !strings.Contains(err.Error(), `type "acme-nope" is not available`) {
		t.Errorf("err = %v", err)
	}
	defer func() {
		if recover() == nil {
			t.Error("registering acme-test twice did not panic")
		}
	}()
	Register(Type{Name: "acme-test", Options: func() config.SourceOptions { return new(acmeOptions) },
		New: func(config.Source, Deps) (Source, http.Handler, error) { return nil, nil, nil }})
}
